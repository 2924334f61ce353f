package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/kafka"
	"github.com/sluicelog/sluice/internal/agenttest"
)

// kafkaLog is what a consumer has read of a topic: each record's id, the
// partition and key it came with, and its line.
type kafkaLog struct {
	mu   sync.Mutex
	recs []kafkaRec
}

type kafkaRec struct {
	id, key, line string
	partition     int32
}

func (k *kafkaLog) snapshot() []kafkaRec {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]kafkaRec(nil), k.recs...)
}

// consumeKafka reads topics from the start until the test ends.
func consumeKafka(t *testing.T, brokers []string, opts []kgo.Opt, topics ...string) *kafkaLog {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100 * time.Millisecond)}, opts...)...)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	log := &kafkaLog{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			fs.EachRecord(func(r *kgo.Record) {
				var doc struct {
					Log string `json:"log"`
				}
				_ = json.Unmarshal(r.Value, &doc)
				kr := kafkaRec{key: string(r.Key), line: doc.Log, partition: r.Partition}
				for _, h := range r.Headers {
					if h.Key == kafka.IDHeader {
						kr.id = string(h.Value)
					}
				}
				log.mu.Lock()
				log.recs = append(log.recs, kr)
				log.mu.Unlock()
			})
		}
	}()
	t.Cleanup(func() { cancel(); <-done; cl.Close() })
	return log
}

// The agent binary into a Kafka broker (franz-go's kfake, in this
// process, speaking the wire protocol, with SASL SCRAM-SHA-256 from a
// password file), killed with SIGKILL part way and started again: every
// line arrives, each id in one partition only, each pod's lines in one
// partition in file order; what the restart sends again carries the ids
// it had, so counting by id every line is there exactly once. The
// password is in no message of the agent.
func TestKafkaKillAndRestart(t *testing.T) {
	agenttest.Binary(t)
	tStart := time.Now()
	const password = "kafka-s3cret-pw"
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "logs-shop"),
		kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "sluice", password))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	brokers := c.ListenAddrs()

	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	pwFile := filepath.Join(dir, "kafka-password")
	require.NoError(t, os.WriteFile(pwFile, []byte(password+"\n"), 0o600))
	cfg := agenttest.Config(dir)
	cfg.Inputs = []config.Input{agenttest.ContainerLogs(filepath.Join(logs, "*.log"))}
	out := config.Output{Name: "kafka", Type: "kafka"}
	out.Brokers, out.Topic = brokers, "logs-{kubernetes.namespace_name}"
	out.SASL = config.KafkaSASL{Mechanism: "SCRAM-SHA-256", Username: "sluice", PasswordFile: pwFile}
	out.Retry = config.Retry{Initial: config.Duration(50 * time.Millisecond), Max: config.Duration(time.Second)}
	cfg.Outputs = []config.Output{out}
	cfgPath := agenttest.WriteConfig(t, dir, cfg)

	pods := []string{"api-0", "api-1", "web-0"}
	const first, second = 3000, 2000
	for _, pod := range pods {
		writeCRI(t, criFile(logs, "shop", pod), first, func(i int) string { return pod + " line " + strconv.Itoa(i) })
	}
	got := consumeKafka(t, brokers, []kgo.Opt{kgo.SASL(scram.Auth{User: "sluice", Pass: password}.AsSha256Mechanism())}, "logs-shop")

	a1 := agenttest.Start(t, cfgPath, agenttest.Options{Name: "agent#1"})
	a := a1
	require.Eventually(t, func() bool { a.RequireRunning(t); return len(got.snapshot()) > 1000 }, 20*time.Second, 20*time.Millisecond)
	t0 := time.Now()
	a.Kill(t)
	t.Logf("killed at %d records, %v after the start", len(got.snapshot()), t0.Sub(tStart))
	for _, pod := range pods {
		writeCRI(t, criFile(logs, "shop", pod), second, func(i int) string { return pod + " line " + strconv.Itoa(first+i) })
	}
	a = agenttest.Start(t, cfgPath, agenttest.Options{Name: "agent#2"})
	want := len(pods) * (first + second)
	ids := map[string]int32{}
	require.Eventually(t, func() bool {
		a.RequireRunning(t)
		clear(ids)
		for _, r := range got.snapshot() {
			ids[r.id] = r.partition
		}
		return len(ids) == want
	}, 30*time.Second, 100*time.Millisecond, "distinct ids in Kafka, want %d", want)
	t.Logf("all delivered %v after the kill", time.Since(t0))
	require.Equal(t, 0, a.Stop(t), "exit code after SIGTERM")

	recs := got.snapshot()
	partOf := map[string]int32{}
	next := map[string]int{} // per pod: the next line number not seen yet
	for _, r := range recs {
		require.Len(t, r.id, 22, "record without its id header: %+v", r)
		require.Equal(t, ids[r.id], r.partition, "id %s in two partitions", r.id)
		pod, num, ok := strings.Cut(r.line, " line ")
		require.True(t, ok, r.line)
		require.Equal(t, "shop/"+pod, r.key, "key of %s", r.line)
		if p, seen := partOf[pod]; seen {
			require.Equal(t, p, r.partition, "pod %s in two partitions", pod)
		}
		partOf[pod] = r.partition
		n, err := strconv.Atoi(num)
		require.NoError(t, err)
		// A replay goes back to the last checkpoint; new lines come in
		// file order: no line past the next one expected is skipped.
		require.LessOrEqual(t, n, next[pod], "pod %s: line %d before line %d", pod, n, next[pod])
		if n == next[pod] {
			next[pod]++
		}
	}
	for _, pod := range pods {
		require.Equal(t, first+second, next[pod], pod)
	}
	t.Logf("%d records for %d lines: %d sent again after the kill", len(recs), want, len(recs)-want)
	require.NotContains(t, a1.Stderr.String()+a.Stderr.String(), password)
}
