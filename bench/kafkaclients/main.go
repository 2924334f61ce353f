// Command kafkaclients compares the two Go Kafka clients issue 33 names,
// github.com/twmb/franz-go (the agent's) and github.com/IBM/sarama, on
// the agent's own records: both produce the same records (the documents,
// keys and sluice.id headers that the agent produced for the tail
// workload, read from a `bench/kafkarun -dump` file), idempotent with
// acks=all, with snappy and with zstd, to the same broker on loopback:
// franz-go's kfake, in a process of its own and fresh for every run, so
// neither its CPU nor its memory is the client's.
//
// Each run is a producer process of its own: records/s from the first
// record to the last acknowledgement, its CPU-seconds per million records
// (getrusage), and heap allocations per record (runtime.MemStats). The
// runs alternate clients (the first client of a round alternates too),
// and the medians over the rounds are printed. Its own module, so sarama
// stays out of the agent's module graph.
//
//	go build -o /tmp/sluice ./cmd/sluice
//	go run ./bench/kafkarun -agent /tmp/sluice -records 25000 -dump /tmp/records.bin
//	cd bench/kafkaclients && go run . -dump /tmp/records.bin
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// maxMessageBytes is the agent's default max_message_bytes (Kafka's own
// default of max.message.bytes), the batch limit of both producers.
const maxMessageBytes = 1000012

// bufferBytes is the agent's default buffer_bytes: the records produced
// and not yet acknowledged, for both producers.
const bufferBytes = 8 << 20

// chunkRecords is the records taken at once, about one of the agent's
// batches (a 64 KiB read of a container log).
const chunkRecords = 200

func main() {
	mode := flag.String("mode", "run", "run (compare), broker (a kfake broker) or produce (one producer run)")
	dump := flag.String("dump", "", "records to produce (go run ./bench/kafkarun -dump FILE)")
	clients := flag.String("clients", "franz-go,sarama", "clients to compare")
	codecs := flag.String("codecs", "snappy,zstd", "compression codecs")
	rounds := flag.Int("rounds", 3, "rounds (each client and codec once a round)")
	passes := flag.Int("passes", 5, "times each run produces the dump's records")
	topics := flag.String("topics", "logs", "broker: topics to create")
	partitions := flag.Int("partitions", 8, "broker: partitions per topic")
	broker := flag.String("broker", "", "produce: the broker's address")
	client := flag.String("client", "", "produce: franz-go or sarama")
	codec := flag.String("codec", "", "produce: snappy or zstd")
	flag.Parse()
	var err error
	switch *mode {
	case "broker":
		err = serveBroker(strings.Split(*topics, ","), int32(*partitions))
	case "produce":
		err = produceMode(*dump, *broker, *client, *codec, *passes)
	case "run":
		err = compare(runOpts{
			dump: *dump, clients: strings.Split(*clients, ","), codecs: strings.Split(*codecs, ","),
			rounds: *rounds, passes: *passes, topics: *topics, partitions: *partitions,
		})
	default:
		err = fmt.Errorf("-mode %q: run, broker or produce", *mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kafkaclients:", err)
		os.Exit(1)
	}
}
