package syslog

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gsformat "gopkg.in/mcuadros/go-syslog.v2/format"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/document"
	"github.com/sluicelog/sluice/agent/pipeline"
	"github.com/sluicelog/sluice/agent/record"
)

// benchMessage is a ~170-byte RFC 5424 message, i its sequence number.
func benchMessage(dst []byte, i int) []byte {
	start := len(dst)
	dst = append(dst, `<165>1 2026-03-10T12:00:00.123456Z host-01.example.com payments-api 12345 ID47 [meta seq="`...)
	dst = strconv.AppendInt(dst, int64(i), 10)
	dst = append(dst, `"] GET /v1/orders/`...)
	dst = strconv.AppendInt(dst, int64(i), 10)
	for len(dst)-start < 170 {
		dst = append(dst, 'x')
	}
	return dst
}

// countingOutput counts the records that reach it, doing nothing else.
type countingOutput struct{ n atomic.Int64 }

func (o *countingOutput) Name() string                  { return "count" }
func (o *countingOutput) NewWriter() pipeline.Writer    { return o }
func (o *countingOutput) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (o *countingOutput) Flush(context.Context, bool) error {
	return nil
}

func (o *countingOutput) Write(_ context.Context, b *record.Batch) error {
	o.n.Add(int64(len(b.Records)))
	return nil
}

// benchPipeline runs the real pipeline (ring, budget, one worker per CPU
// encoding every document) into a counting output.
func benchPipeline(b *testing.B) (*pipeline.Pipeline, *countingOutput) {
	out := &countingOutput{}
	p := pipeline.New(document.New(nil, func() int64 { return time.Now().UnixNano() }), []pipeline.Output{out}, runtime.GOMAXPROCS(0), 256<<20, discardLogger())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = p.Run(ctx, context.Background()); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	return p, out
}

func benchInput(b *testing.B, cfg config.Input, sink Sink) *Input {
	in, err := New(cfg, sink, discardLogger())
	if err != nil {
		b.Fatal(err)
	}
	if err := in.Listen(); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = in.Run(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	return in
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

const loadMessages = 1_000_000

// BenchmarkLoad sends 1,000,000 RFC 5424 messages of ~170 bytes over one
// loopback connection (TCP, octet counting) or one UDP socket into the
// input and the real pipeline with a counting output. It reports
// messages/s, process CPU per million messages (client, input, pipeline
// and encoding together), allocations per message, and for UDP the share
// lost.
//
//	go test -run '^$' -bench 'BenchmarkLoad' -benchtime 3x -count 3 ./collector/syslog/ | tee load.txt
func BenchmarkLoad(b *testing.B) {
	// Pre-built stream: the client costs a write per 256 KiB.
	var tcpStream []byte
	msgs := make([][]byte, loadMessages)
	for i := range loadMessages {
		m := benchMessage(nil, i)
		msgs[i] = m
		tcpStream = strconv.AppendInt(tcpStream, int64(len(m)), 10)
		tcpStream = append(tcpStream, ' ')
		tcpStream = append(tcpStream, m...)
	}
	b.Run("tcp", func(b *testing.B) {
		p, out := benchPipeline(b)
		cfg := testConfig()
		cfg.UDP = ""
		in := benchInput(b, cfg, p)
		b.SetBytes(int64(len(tcpStream)))
		b.ReportAllocs()
		var cpu time.Duration
		var mallocs uint64
		for b.Loop() {
			base := out.n.Load()
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			c0 := cpuTime()
			c, err := net.Dial("tcp", in.TCPAddr().String())
			if err != nil {
				b.Fatal(err)
			}
			for off := 0; off < len(tcpStream); off += 256 << 10 {
				if _, err := c.Write(tcpStream[off:min(off+256<<10, len(tcpStream))]); err != nil {
					b.Fatal(err)
				}
			}
			for out.n.Load() < base+loadMessages {
				time.Sleep(100 * time.Microsecond)
			}
			cpu += cpuTime() - c0
			runtime.ReadMemStats(&ms1)
			mallocs += ms1.Mallocs - ms0.Mallocs
			c.Close()
		}
		n := float64(b.N)
		b.ReportMetric(loadMessages*n/b.Elapsed().Seconds(), "msgs/s")
		b.ReportMetric(cpu.Seconds()*1000/n, "cpu-ms/M")
		b.ReportMetric(float64(mallocs)/(n*loadMessages), "allocs/msg")
	})
	b.Run("udp", func(b *testing.B) {
		p, out := benchPipeline(b)
		cfg := testConfig()
		cfg.TCP = ""
		in := benchInput(b, cfg, p)
		b.ReportAllocs()
		var cpu time.Duration
		var received int64
		for b.Loop() {
			base := out.n.Load()
			c0 := cpuTime()
			c, err := net.Dial("udp", in.UDPAddr().String())
			if err != nil {
				b.Fatal(err)
			}
			for _, m := range msgs {
				if _, err := c.Write(m); err != nil {
					b.Fatal(err)
				}
			}
			// Wait until nothing more arrives.
			last, since := out.n.Load(), time.Now()
			for time.Since(since) < 300*time.Millisecond {
				time.Sleep(10 * time.Millisecond)
				if n := out.n.Load(); n != last {
					last, since = n, time.Now()
				}
			}
			cpu += cpuTime() - c0
			received += last - base
			c.Close()
		}
		n := float64(b.N)
		// The wait for stragglers (300ms) is not throughput.
		b.ReportMetric(float64(received)/(b.Elapsed().Seconds()-0.3*n), "msgs/s")
		b.ReportMetric(100*(1-float64(received)/(n*loadMessages)), "lost-%")
		b.ReportMetric(cpu.Seconds()*1000/n, "cpu-ms/M")
		s := in.Stats()
		b.Logf("udp: sent %d, received %d, dropped by sluice (pipeline full) %d; the rest was dropped by the kernel (socket buffer)",
			int64(n)*loadMessages, received, s.DroppedFull.Load())
	})
}

// BenchmarkParse splits the per-message cost: the library's parse alone,
// its Dump (a map per message), and sluice's whole
// per-message path (framing excluded) into a batch: library parse + Dump +
// the checks and the JSON of the syslog members.
//
//	go test -run '^$' -bench 'BenchmarkParse' -count 6 -benchmem ./collector/syslog/ | tee parse.txt
func BenchmarkParse(b *testing.B) {
	frames := map[string][]byte{
		"rfc5424": benchMessage(nil, 123456),
		"rfc3164": []byte("<13>Mar  1 20:51:40 host-01.example.com payments-api[12345]: GET /v1/orders/123456 " + string(make([]byte, 0)) + "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
	}
	for _, name := range []string{"rfc5424", "rfc3164"} {
		frame := frames[name]
		auto := &gsformat.Automatic{}
		b.Run(name+"/library-parse", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				if err := auto.GetParser(frame).Parse(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/library-parse+dump", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				lp := auto.GetParser(frame)
				if err := lp.Parse(); err != nil {
					b.Fatal(err)
				}
				if len(lp.Dump()) == 0 {
					b.Fatal("empty dump")
				}
			}
		})
		b.Run(name+"/sluice-add", func(b *testing.B) {
			p := newParser("auto")
			src := &record.Source{Input: "b"}
			batch := record.NewBatch(src, nil)
			var out outcome
			ip := appendSourceIP(nil, mustAddr("10.1.2.3"))
			recvNow := time.Now().UnixNano()
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				if len(batch.Records) == 400 {
					batch.Records, batch.Buf = batch.Records[:0], batch.Buf[:0]
				}
				p.add(batch, frame, false, false, recvNow, ip, &out)
			}
			if out.malformed != 0 {
				b.Fatal("malformed")
			}
		})
	}
	b.Run("framer-octet", func(b *testing.B) {
		m := benchMessage(nil, 1)
		var stream []byte
		for range 400 {
			stream = append(stream, []byte(fmt.Sprintf("%d ", len(m)))...)
			stream = append(stream, m...)
		}
		b.ReportAllocs()
		b.SetBytes(int64(len(stream)))
		fr := newFramer(64<<10, nil)
		for b.Loop() {
			fr.start, fr.end = 0, copy(fr.buf, stream)
			for n := 0; ; n++ {
				if _, _, ok := fr.next(); !ok {
					break
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*400), "ns/msg")
	})
}
