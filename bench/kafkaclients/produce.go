package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
)

// producer is one client's producer.
type producer interface {
	// produce hands c's records to the client; each answer calls c.done.
	produce(recs []rec, c *chunk)
	close()
}

// result is one producer run, printed as JSON by produce mode.
type result struct {
	Client, Codec string
	Records       int64
	Seconds       float64 // first record to last acknowledgement
	CPUSeconds    float64 // user+sys of the producer process meanwhile
	Mallocs       uint64  // heap objects allocated meanwhile
	Failed        int64
	FirstErr      string  `json:",omitempty"`
	BrokerCPU     float64 // the broker process's user+sys, filled by compare
}

func (r result) recordsPerSec() float64   { return float64(r.Records) / r.Seconds }
func (r result) cpuPerMillion() float64   { return r.CPUSeconds / float64(r.Records) * 1e6 }
func (r result) allocsPerRecord() float64 { return float64(r.Mallocs) / float64(r.Records) }

func newProducer(client, broker, codec string) (producer, error) {
	switch client {
	case "franz-go":
		return newFranz(broker, codec)
	case "sarama":
		return newSarama(broker, codec)
	}
	return nil, fmt.Errorf("client %q: franz-go or sarama", client)
}

// produceMode runs one client over the dump's records passes times and
// prints the result as one line of JSON.
func produceMode(dump, broker, client, codec string, passes int) error {
	d, err := readDump(dump)
	if err != nil {
		return err
	}
	p, err := newProducer(client, broker, codec)
	if err != nil {
		return err
	}
	res := measure(p, d, passes)
	p.close()
	res.Client, res.Codec = client, codec
	if res.Failed > 0 {
		return fmt.Errorf("%s: %d records failed, the first: %s", client, res.Failed, res.FirstErr)
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// measure produces every record of d passes times, a chunk at a time
// within bufferBytes, and waits for every answer.
func measure(p producer, d *dataset, passes int) result {
	w := newWindow(bufferBytes)
	runtime.GC()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0 := cpuTime()
	start := time.Now()
	for range passes {
		for i := 0; i < len(d.recs); i += chunkRecords {
			part := d.recs[i:min(i+chunkRecords, len(d.recs))]
			w.produceChunk(p, part)
		}
	}
	w.wait()
	res := result{Seconds: time.Since(start).Seconds(), CPUSeconds: cpuTime() - cpu0}
	runtime.ReadMemStats(&ms1)
	res.Mallocs = ms1.Mallocs - ms0.Mallocs
	res.Records = w.acked.Load() + w.failed.Load()
	res.Failed = w.failed.Load()
	if e := w.firstErr.Load(); e != nil {
		res.FirstErr = (*e).Error()
	}
	return res
}

// produceChunk takes the bytes of part from the window (what the agent's
// tracker holds: the bytes and about 256 more per record) and produces it.
func (w *window) produceChunk(p producer, part []rec) {
	var n int64
	for i := range part {
		n += int64(len(part[i].key)+len(part[i].value)) + 256
		for _, h := range part[i].headers {
			n += int64(len(h.value))
		}
	}
	p.produce(part, w.take(n, len(part)))
}

// cpuTime is this process's user+system CPU seconds.
func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(errors.New("BUG: getrusage: " + err.Error()))
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
