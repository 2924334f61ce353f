package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// dumpMagic starts the file `go run ./bench/kafkarun -dump FILE` writes:
// after it, each record's topic, key, value, header count and headers,
// each byte string preceded by its length as a uvarint.
const dumpMagic = "sluice-kafka-records v1\n"

// header is a record header.
type header struct {
	key   string // for franz-go, whose header keys are strings
	keyB  []byte // for sarama, whose are bytes
	value []byte
}

// rec is a record as the agent produced it.
type rec struct {
	topic      string
	key, value []byte
	headers    []header
}

// dataset is the records of a dump and facts about them.
type dataset struct {
	recs       []rec
	topics     []string
	valueBytes int64
}

// readDump reads a dump file.
func readDump(path string) (*dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	magic := make([]byte, len(dumpMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != dumpMagic {
		return nil, fmt.Errorf("%s: not a kafkarun dump", path)
	}
	d := &dataset{}
	seen := map[string]bool{}
	for {
		topic, err := readBytes(r)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: record %d: %w", path, len(d.recs), err)
		}
		x := rec{topic: string(topic)}
		if !seen[x.topic] {
			seen[x.topic] = true
			d.topics = append(d.topics, x.topic)
		}
		if x.key, err = readBytes(r); err != nil {
			return nil, err
		}
		if x.value, err = readBytes(r); err != nil {
			return nil, err
		}
		nh, err := binary.ReadUvarint(r)
		if err != nil || nh > 64 {
			return nil, fmt.Errorf("%s: record %d: bad header count", path, len(d.recs))
		}
		for range nh {
			var h header
			if h.keyB, err = readBytes(r); err != nil {
				return nil, err
			}
			h.key = string(h.keyB)
			if h.value, err = readBytes(r); err != nil {
				return nil, err
			}
			x.headers = append(x.headers, h)
		}
		d.valueBytes += int64(len(x.value))
		d.recs = append(d.recs, x)
	}
	if len(d.recs) == 0 {
		return nil, fmt.Errorf("%s: no records", path)
	}
	return d, nil
}

func readBytes(r *bufio.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > 64<<20 {
		return nil, fmt.Errorf("length %d too large", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, io.ErrUnexpectedEOF
	}
	return b, nil
}
