package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// memoryBase has one elasticsearch output and two pipeline workers, so
// the sizes do not depend on this machine's CPUs.
const memoryBase = "data_dir: /tmp/x\nworkers: 2\ninputs: [{ name: c, type: container_logs, paths: [/x] }]\noutputs:\n  - name: es\n    type: elasticsearch\n    urls: [http://a:9200]\n"

// With only memory_limit set, bulk.max_bytes comes from it; a set one
// stays as it is.
func TestMaxBytesSizedFromMemoryLimit(t *testing.T) {
	for limit, want := range map[string]ByteSize{"40MiB": 576 << 10, "64MiB": 1 << 20, "256MiB": 8 << 20, "1GiB": 8 << 20} {
		cfg, err := Parse([]byte("memory_limit: "+limit+"\n"+memoryBase), env(nil))
		require.NoError(t, err, limit)
		require.Equal(t, want, cfg.Outputs[0].Bulk.MaxBytes, limit)
		require.True(t, cfg.Outputs[0].Bulk.Sized)
	}
	cfg, err := Parse([]byte("memory_limit: 256MiB\n"+memoryBase+"    bulk: { max_bytes: 2MiB }\n"), env(nil))
	require.NoError(t, err)
	require.Equal(t, ByteSize(2<<20), cfg.Outputs[0].Bulk.MaxBytes)
	require.False(t, cfg.Outputs[0].Bulk.Sized)
}

// A bulk.max_bytes that memory_limit cannot hold is an error that names
// the memory_limit it would need, at the key and its line.
func TestMaxBytesThatCannotFitIsAnError(t *testing.T) {
	_, err := Parse([]byte("memory_limit: 40MiB\n"+memoryBase+"    bulk: { max_bytes: 5MiB }\n"), env(nil))
	require.EqualError(t, err, "outputs[0].bulk.max_bytes (line 9): 5Mi needs memory_limit: 126Mi or more here "+
		"(memory_limit is 40Mi; with 2 pipeline workers and 2 bulk workers the output holds about 10 bodies at once, and batches for those in flight): "+
		"raise memory_limit, or lower bulk.max_bytes or leave it unset to size it from memory_limit")
	// What it names is enough.
	_, err = Parse([]byte("memory_limit: 126MiB\n"+memoryBase+"    bulk: { max_bytes: 5MiB }\n"), env(nil))
	require.NoError(t, err)
}

// A memory_limit too small to run is an error, not a warning.
func TestMemoryLimitTooSmallToRunIsAnError(t *testing.T) {
	for _, limit := range []string{"1MiB", "16MiB", "30MiB"} {
		_, err := Parse([]byte("memory_limit: "+limit+"\n"+memoryBase), env(nil))
		require.ErrorContains(t, err, "memory_limit (line 1): "+limit[:len(limit)-1]+" is too small to run: with these inputs and outputs (2 workers) the agent needs 31Mi or more", limit)
	}
	// A console output alone needs less: no bodies.
	_, err := Parse([]byte("memory_limit: 30MiB\ndata_dir: /tmp/x\nworkers: 2\ninputs: [{ name: c, type: container_logs, paths: [/x] }]\noutputs: [{ name: out, type: console }]\n"), env(nil))
	require.NoError(t, err)
	// A refused memory_limit is not judged again.
	_, err = Parse([]byte("memory_limit: lots\n"+memoryBase), env(nil))
	require.ErrorContains(t, err, "memory_limit")
	require.NotContains(t, err.Error(), "too small to run")
}

// kafkaMemBase has one kafka output and two pipeline workers.
const kafkaMemBase = "data_dir: /tmp/x\nworkers: 2\ninputs: [{ name: c, type: container_logs, paths: [/x] }]\noutputs:\n  - name: k\n    type: kafka\n    brokers: [kafka-0:9092]\n    topic: logs\n"

// A kafka output's buffer_bytes counts in the memory plan as it does at
// the start (twice it outside the batches, once in flight): a set one
// that memory_limit cannot hold is an error naming the memory_limit it
// would need, and that one is accepted; an unset one is sized from
// memory_limit, from 8MiB down to 1MiB.
func TestKafkaBufferInTheMemoryPlan(t *testing.T) {
	_, err := Parse([]byte("memory_limit: 40MiB\n"+kafkaMemBase+"    buffer_bytes: 32MiB\n"), env(nil))
	require.EqualError(t, err, "outputs[0].buffer_bytes (line 10): 32Mi needs memory_limit: 168Mi or more here "+
		"(memory_limit is 40Mi; a kafka output holds buffer_bytes of documents until the brokers acknowledge them and as much again for the producer's record batches, and batches for those in flight): "+
		"raise memory_limit, or lower buffer_bytes or leave it unset to size it from memory_limit")
	_, err = Parse([]byte("memory_limit: 168MiB\n"+kafkaMemBase+"    buffer_bytes: 32MiB\n"), env(nil))
	require.NoError(t, err)
	_, err = Parse([]byte("memory_limit: 167MiB\n"+kafkaMemBase+"    buffer_bytes: 32MiB\n"), env(nil))
	require.ErrorContains(t, err, "outputs[0].buffer_bytes (line 10): 32Mi needs memory_limit: 168Mi")
	for limit, want := range map[string]ByteSize{"256MiB": 8 << 20, "64MiB": 8 << 20, "48MiB": 4 << 20, "40MiB": 2 << 20} {
		cfg, err := Parse([]byte("memory_limit: "+limit+"\n"+kafkaMemBase), env(nil))
		require.NoError(t, err, limit)
		require.Equal(t, want, cfg.Outputs[0].Kafka.BufferBytes, limit)
	}
	// Under the smallest buffer, memory_limit is the problem.
	_, err = Parse([]byte("memory_limit: 24MiB\n"+kafkaMemBase), env(nil))
	require.ErrorContains(t, err, "memory_limit (line 1): 24Mi is too small to run")
	// Beside an elasticsearch output whose bodies are sized, both fit.
	cfg, err := Parse([]byte("memory_limit: 64MiB\n"+kafkaMemBase+"  - { name: es, type: elasticsearch, urls: [http://a:9200] }\n"), env(nil))
	require.NoError(t, err)
	require.NotZero(t, cfg.Outputs[1].Bulk.MaxBytes)
	require.NotZero(t, cfg.Outputs[0].Kafka.BufferBytes)
}

// otlpMemBase has one otlp output and two pipeline workers.
const otlpMemBase = "data_dir: /tmp/x\nworkers: 2\ninputs: [{ name: c, type: container_logs, paths: [/x] }]\noutputs:\n  - name: o\n    type: otlp\n    endpoint: http://collector:4318/v1/logs\n"

// An otlp output's bulk.max_bytes, unset, is sized from memory_limit:
// 1MiB where it fits, halved down to 64KiB, so small limits run (at 1MiB
// it needs 67MiB with 2 workers); beside a kafka output the kafka buffers
// shrink first. Set, one that memory_limit cannot hold is an error on
// bulk.max_bytes naming the memory_limit it needs, which is accepted.
func TestOTLPBodiesInTheMemoryPlan(t *testing.T) {
	for limit, want := range map[string]ByteSize{"256MiB": 1 << 20, "72MiB": 1 << 20, "64MiB": 512 << 10, "40MiB": 256 << 10, "32MiB": 128 << 10} {
		cfg, err := Parse([]byte("memory_limit: "+limit+"\n"+otlpMemBase), env(nil))
		require.NoError(t, err, limit)
		require.Equal(t, want, cfg.Outputs[0].Bulk.MaxBytes, limit)
	}
	_, err := Parse([]byte("memory_limit: 24MiB\n"+otlpMemBase), env(nil))
	require.ErrorContains(t, err, "memory_limit (line 1): 24Mi is too small to run")

	_, err = Parse([]byte("memory_limit: 40MiB\n"+otlpMemBase+"    bulk: { max_bytes: 1MiB }\n"), env(nil))
	require.ErrorContains(t, err, "outputs[0].bulk.max_bytes (line 9): 1Mi needs memory_limit: 67Mi or more here (memory_limit is 40Mi;")
	cfg, err := Parse([]byte("memory_limit: 67MiB\n"+otlpMemBase+"    bulk: { max_bytes: 1MiB }\n"), env(nil))
	require.NoError(t, err)
	require.Equal(t, ByteSize(1<<20), cfg.Outputs[0].Bulk.MaxBytes)

	cfg, err = Parse([]byte("memory_limit: 64MiB\n"+otlpMemBase+"  - { name: k, type: kafka, brokers: [kafka-0:9092], topic: logs }\n"), env(nil))
	require.NoError(t, err)
	require.Equal(t, ByteSize(512<<10), cfg.Outputs[0].Bulk.MaxBytes)
	require.Equal(t, ByteSize(MinSizedKafkaBufferBytes*2), cfg.Outputs[1].Kafka.BufferBytes)
}
