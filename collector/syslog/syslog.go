// Package syslog is the syslog input: TCP (RFC 6587 octet counting and
// newline framing on the same port, optional TLS) and UDP (RFC 5426, one
// message per datagram), RFC 3164 and RFC 5424 messages read with
// gopkg.in/mcuadros/go-syslog.v2's parsers; well-formed RFC 5424 frames
// take a fast path of our own (rfc5424.go) that reads them as the library
// does, without allocating.
//
// The library's server is not used: its TCP framing resets a connection on
// a frame over 64 KiB and cuts octet-counted frames at a newline, and its
// parsers fill in a hostname, a priority and a time that the message did
// not have. This package owns the connections and the framing, with
// explicit limits, hands each frame to the library's parser, and records
// only what the message held.
package syslog

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicelog/sluice/agent/budget"
	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/internal/loglimit"
)

// Sink takes batches. Push may block to push back and fails when ctx
// ends; with a ctx that has already ended it must not wait, only take the
// batch if there is room now (agent/pipeline behaves so). On error the
// caller still owns the batch.
type Sink interface {
	Push(ctx context.Context, b *record.Batch) error
}

// Downstream is a Sink that keeps batches itself before the pipeline
// (agent/spool): a batch it takes is acknowledged to the input once kept,
// so what it drops and how long its oldest record waits count as the
// input's.
type Downstream interface {
	Sink
	Dropped() int64
	OldestAge(now time.Time) time.Duration
}

// Stats are the input's counters.
type Stats struct {
	Messages    atomic.Int64 // frames and datagrams read
	Records     atomic.Int64 // records handed to the pipeline
	Bytes       atomic.Int64 // bytes read (TCP) or received (UDP)
	Malformed   atomic.Int64 // not syslog: shipped raw, flagged malformed
	Truncated   atomic.Int64 // cut at max_message_bytes
	NoTimestamp atomic.Int64 // no usable timestamp: the receive time is used
	Incomplete  atomic.Int64 // TCP frames cut short by a disconnect (shipped raw)

	DroppedFull     atomic.Int64 // UDP records dropped: the pipeline was full
	DroppedShutdown atomic.Int64 // records read but not handed over before shutdown

	ConnsAccepted   atomic.Int64
	ConnsOpen       atomic.Int64
	ConnsRefused    atomic.Int64 // closed at once: max_connections reached
	ConnsIdleClosed atomic.Int64 // closed after idle_timeout without data
	ConnErrors      atomic.Int64 // read or TLS errors other than a clean close
	// Closed after handshake_timeout without finishing the TLS handshake.
	ConnsHandshakeTimeout atomic.Int64
	// Closed because an unfinished frame needed more frame memory than
	// there was room for within frameWait.
	ConnsFrameMemory atomic.Int64
	// FrameBytes is what connections' frame buffers hold beyond their
	// first size, charged to the frame memory (a gauge).
	FrameBytes atomic.Int64
}

// flushDelay bounds how long a partial batch waits for more messages.
const flushDelay = 100 * time.Millisecond

// shutdownPush bounds the last hand-over of a batch once the input stops.
const shutdownPush = 2 * time.Second

// frameWait bounds how long a connection whose unfinished frame needs a
// bigger buffer waits for room in the frame memory (not reading, so the
// sender is pushed back) before it is closed. Room comes back as other
// frames finish and quiet connections shrink (shrinkAfter).
const frameWait = 3 * time.Second

// shrinkAfter: a connection quiet this long gives back a grown buffer.
const shrinkAfter = time.Second

// Input is one syslog input.
type Input struct {
	cfg    config.Input
	sink   Sink
	logger *slog.Logger
	tls    *tls.Config
	stats  Stats

	flushDelay time.Duration  // a field so tests can shorten it
	frames     *budget.Budget // connections' frame buffers; nil: unbounded
	frameWait  time.Duration  // a field so tests can shorten it

	udpDrops udpDrops
	unacked  unacked // batches handed over, not yet acknowledged (lag.go)

	limit *loglimit.Limiter // warnings a flood could repeat: each message once a second

	tcpLn    net.Listener
	udpConns []*net.UDPConn // one per reader, sharing the port
	tcpSrc   *record.Source
	udpSrc   *record.Source

	mu    sync.Mutex
	conns map[net.Conn]struct{}

	// idKey and batchers make every message's document id unique: each
	// connection or UDP reader gets a number of its own, and numbers its
	// messages; the id is their encryption under a random key
	// (record.AppendID). A bulk request sent again after a lost answer
	// then carries the same ids, and Elasticsearch answers 409 instead of
	// storing the messages twice. (Syslog is not replayed across restarts,
	// so a random key per process is enough.)
	idKey    cipher.Block
	batchers atomic.Uint64
}

// Option adjusts an Input in New.
type Option func(*Input)

// WithFrameMemory charges what TCP connections' frame buffers hold beyond
// their first 4 KiB to b (budget.Split.Frames), which every syslog input
// of the agent shares: their sum stays inside memory_limit. Without it
// they are unbounded (up to max_connections × max_message_bytes).
func WithFrameMemory(b *budget.Budget) Option { return func(in *Input) { in.frames = b } }

// New checks cfg and loads the TLS key pair; nothing listens until Listen
// or Run.
func New(cfg config.Input, sink Sink, logger *slog.Logger, opts ...Option) (*Input, error) {
	in := &Input{
		cfg:        cfg,
		sink:       sink,
		logger:     logger.With("component", "syslog", "input", cfg.Name),
		flushDelay: flushDelay,
		frameWait:  frameWait,
		conns:      map[net.Conn]struct{}{},
	}
	in.limit = loglimit.New(in.logger, time.Second)
	for _, o := range opts {
		o(in)
	}
	var key [16]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("syslog id key: %w", err)
	}
	var err error
	if in.idKey, err = aes.NewCipher(key[:]); err != nil {
		return nil, fmt.Errorf("syslog id key: %w", err)
	}
	if cfg.TCP == "" && cfg.UDP == "" {
		return nil, errors.New("syslog input needs a tcp or udp address")
	}
	if cfg.MaxMessageBytes <= 0 || cfg.MaxConnections <= 0 || cfg.UDPReaders <= 0 || cfg.BatchBytes <= 0 ||
		cfg.HandshakeTimeout <= 0 || cfg.UDPReceiveBuffer <= 0 {
		return nil, errors.New("syslog input: max_message_bytes, max_connections, udp_readers, batch_bytes, handshake_timeout and udp_receive_buffer must be set (config defaults do)")
	}
	if cfg.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load tls key pair: %w", err)
		}
		in.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	return in, nil
}

// Stats returns the live counters.
func (in *Input) Stats() *Stats { return &in.stats }

// Listen binds the configured addresses. Run calls it when it has not been
// called; tests call it first to learn the ports.
func (in *Input) Listen() error {
	if in.tcpLn != nil || in.udpConns != nil {
		return nil
	}
	if in.cfg.TCP != "" {
		ln, err := net.Listen("tcp", in.cfg.TCP)
		if err != nil {
			return fmt.Errorf("syslog tcp listen %s: %w", in.cfg.TCP, err)
		}
		// TLS connections shake hands in their own goroutine, under
		// handshake_timeout (tcp.go), not in Accept.
		scheme := "tcp://"
		if in.tls != nil {
			scheme = "tls://"
		}
		in.tcpLn = ln
		in.tcpSrc = &record.Source{Input: in.cfg.Name, Path: scheme + ln.Addr().String()}
	}
	if in.cfg.UDP != "" {
		if err := in.listenUDP(); err != nil {
			in.closeListeners()
			return err
		}
	}
	return nil
}

// listenUDP opens udp_readers sockets on one port (SO_REUSEPORT), or one
// where the platform cannot share a port.
func (in *Input) listenUDP() error {
	n := in.cfg.UDPReaders
	lc := net.ListenConfig{}
	if canReusePort && n > 1 {
		lc.Control = reusePort
	} else {
		n = 1
	}
	addr := in.cfg.UDP
	for range n {
		pc, err := lc.ListenPacket(context.Background(), "udp", addr)
		if err != nil {
			return fmt.Errorf("syslog udp listen %s: %w", addr, err)
		}
		uc := pc.(*net.UDPConn)
		// A larger socket buffer absorbs bursts; the kernel caps it at
		// net.core.rmem_max, so this is best effort (Run logs what it got).
		_ = uc.SetReadBuffer(int(in.cfg.UDPReceiveBuffer))
		in.udpConns = append(in.udpConns, uc)
		// Port 0 picks a port once; the other sockets join it.
		addr = uc.LocalAddr().String()
	}
	in.udpSrc = &record.Source{Input: in.cfg.Name, Path: "udp://" + addr}
	return nil
}

// TCPAddr is the bound TCP address, nil before Listen or without TCP.
func (in *Input) TCPAddr() net.Addr {
	if in.tcpLn == nil {
		return nil
	}
	return in.tcpLn.Addr()
}

// UDPAddr is the bound UDP address, nil before Listen or without UDP.
func (in *Input) UDPAddr() net.Addr {
	if len(in.udpConns) == 0 {
		return nil
	}
	return in.udpConns[0].LocalAddr()
}

// addrString is addr as host:port ("" for none): a net.Addr is logged by
// the JSON handler as a struct of its fields otherwise.
func addrString(addr net.Addr) string {
	if addr == nil {
		return ""
	}
	return addr.String()
}

// Close releases the listeners of an input that will not Run. Run closes
// them itself when it ends.
func (in *Input) Close() { in.closeListeners() }

func (in *Input) closeListeners() {
	if in.tcpLn != nil {
		in.tcpLn.Close()
	}
	in.UDPKernelDrops() // the last count, before the sockets go
	for _, c := range in.udpConns {
		c.Close()
	}
}

// Run serves until ctx ends, then stops reading, hands over what it has
// read (waiting up to a few seconds for room) and returns once every
// connection and reader has stopped.
func (in *Input) Run(ctx context.Context) error {
	if err := in.Listen(); err != nil {
		return err
	}
	var wg sync.WaitGroup
	if in.tcpLn != nil {
		wg.Go(func() { in.acceptLoop(ctx, &wg) })
	}
	for _, c := range in.udpConns {
		wg.Go(func() { in.serveUDP(ctx, c) })
	}
	args := []any{"tcp", addrString(in.TCPAddr()), "udp", addrString(in.UDPAddr()), "format", in.cfg.Format, "tls", in.tls != nil}
	if len(in.udpConns) > 0 {
		args = append(args, "udp_receive_buffer", int64(in.cfg.UDPReceiveBuffer), "udp_receive_buffer_kernel", receiveBuffer(in.udpConns[0]))
	}
	in.logger.Info("syslog input listening", args...)
	<-ctx.Done()
	in.closeListeners()
	in.mu.Lock()
	for c := range in.conns {
		// Wake blocked reads; each connection hands over what it has.
		_ = c.SetReadDeadline(time.Now())
	}
	in.mu.Unlock()
	wg.Wait()
	return nil
}

// logf logs each message at most once a second, so a flood cannot hide
// another warning; the counters keep the full count.
func (in *Input) logf(msg string, args ...any) { in.limit.Warn(msg, args...) }

// appendSourceIP appends the `"source_ip":"…"` member for addr.
func appendSourceIP(dst []byte, addr netip.Addr) []byte {
	dst = append(dst, `"source_ip":"`...)
	dst = addr.Unmap().AppendTo(dst)
	return append(dst, '"')
}

// batcher fills one batch at a time for one connection or UDP reader.
type batcher struct {
	in      *Input
	src     *record.Source
	parser  *parser
	b       *record.Batch
	started time.Time // when b got its first record
	out     outcome
	seq     int64 // the next message's number, its "offset" in the id
	// lastBuf and lastRecords are what the previous batch held: the next
	// one reserves that much (Reserve), so a busy connection's batches do
	// not grow by append, and a quiet one's are not charged for room
	// they never use.
	lastBuf, lastRecords int
}

// newBatcher starts the batches of one connection or UDP reader, under a
// source of its own that carries its id key and number.
func (in *Input) newBatcher(src *record.Source) *batcher {
	own := *src
	own.IDKey, own.IDConn = in.idKey, in.batchers.Add(1)
	return &batcher{in: in, src: &own, parser: newParser(in.cfg.Format)}
}

// add parses one frame into the current batch.
func (bt *batcher) add(frame []byte, truncated, incomplete bool, recv int64, sourceIP []byte) {
	if bt.b == nil {
		bt.b = record.NewBatch(bt.src, nil)
		// Up to batch_bytes plus the message that crossed it.
		n := int(bt.in.cfg.BatchBytes)
		bt.b.Reserve(min(bt.lastBuf+bt.lastBuf/8, n+n/16), bt.lastRecords+bt.lastRecords/8)
		bt.started = time.Now()
	}
	bt.parser.add(bt.b, frame, truncated, incomplete, recv, sourceIP, &bt.out)
	bt.b.Records[len(bt.b.Records)-1].Offset = bt.seq
	bt.seq++
}

// full reports a batch at batch_bytes.
func (bt *batcher) full() bool {
	return bt.b != nil && len(bt.b.Buf) >= int(bt.in.cfg.BatchBytes)
}

func (bt *batcher) pending() bool { return bt.b != nil && len(bt.b.Records) > 0 }

// countOutcome moves the batch's counts into the input's stats.
func (bt *batcher) countOutcome() {
	s, o := &bt.in.stats, bt.out
	s.Messages.Add(o.messages)
	if o.malformed > 0 {
		s.Malformed.Add(o.malformed)
		bt.in.logf("messages that are not syslog were shipped raw and flagged sluice.malformed", "count", o.malformed)
	}
	if o.truncated > 0 {
		s.Truncated.Add(o.truncated)
		bt.in.logf("messages longer than max_message_bytes were cut and flagged sluice.truncated", "max_message_bytes", int64(bt.in.cfg.MaxMessageBytes), "count", o.truncated)
	}
	if o.noTimestamp > 0 {
		s.NoTimestamp.Add(o.noTimestamp)
	}
	bt.out = outcome{}
}

// push hands the batch over, waiting for room (TCP: the sender is pushed
// back). Once ctx has ended it waits at most shutdownPush, then drops and
// counts.
func (bt *batcher) push(ctx context.Context) {
	if bt.b == nil {
		return
	}
	b, n := bt.b, int64(len(bt.b.Records))
	bt.b = nil
	bt.lastBuf, bt.lastRecords = len(b.Buf), len(b.Records)
	bt.countOutcome()
	// Noted before the hand-over, which may wait: a message waiting for
	// room is read and not delivered, and its age is the lag.
	bt.in.unacked.add(b, bt.started)
	err := bt.in.sink.Push(ctx, b)
	if err != nil && ctx.Err() != nil {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownPush)
		err = bt.in.sink.Push(sctx, b)
		cancel()
	}
	if err != nil {
		bt.in.unacked.remove(b)
		b.Discard()
		bt.in.stats.DroppedShutdown.Add(n)
		bt.in.logger.Warn("syslog messages read but not handed over before shutdown", "count", n, "err", err)
		return
	}
	bt.in.stats.Records.Add(n)
}

// tryPush hands the batch over only if there is room now (UDP: never
// block); otherwise the records are dropped and counted.
func (bt *batcher) tryPush() {
	if bt.b == nil {
		return
	}
	b, n := bt.b, int64(len(bt.b.Records))
	bt.b = nil
	bt.lastBuf, bt.lastRecords = len(b.Buf), len(b.Records)
	bt.countOutcome()
	bt.in.unacked.add(b, bt.started)
	if err := bt.in.sink.Push(doneCtx, b); err != nil {
		bt.in.unacked.remove(b)
		b.Discard()
		bt.in.stats.DroppedFull.Add(n)
		bt.in.logf("pipeline full: UDP syslog messages dropped (memory_limit reached)", "count", n)
		return
	}
	bt.in.stats.Records.Add(n)
}

// doneCtx has already ended: a Push with it takes the batch only if it
// fits now.
var doneCtx = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()
