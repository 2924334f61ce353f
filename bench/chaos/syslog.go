package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Syslog app names: each sort of numbered message is told apart by it.
const (
	appTCP   = "chaos-tcp"
	appFlood = "chaos-flood"
	appUDP   = "chaos-udp"
	appSlow  = "chaos-slow"
)

// syslogSenders sends numbered RFC 5424 messages over TCP and UDP.
//
// TCP syslog has no acknowledgement: what the agent read but had not
// shipped when it is SIGKILLed is gone, for any agent. So before a kill
// the harness takes gate exclusively (senders pause) and waits until the
// store holds every TCP message sent; after the restart every sender opens
// a new connection (gen), since a write on the old one can succeed into
// the kernel's buffer and still be lost.
type syslogSenders struct {
	tcpAddr, udpAddr string
	gate             sync.RWMutex
	gen              atomic.Int64
	logf             func(string, ...any)

	// sent TCP messages by key "app/proc": the highest seq+1 written.
	mu        sync.Mutex
	tcpSent   map[string]int
	tcpErrors int // writes that failed; their message counts as sent (in doubt)
	hostile   int // hostile TCP frames sent (htcp seq=N)
	hostKinds map[string]int

	udpSent      atomic.Int64
	udpErrors    atomic.Int64
	idleOpen     atomic.Int64
	idleReopened atomic.Int64
	floodConns   atomic.Int64

	// udpGated: the UDP sender holds gate shared too, so a kill can
	// pause it (the syslog-outage scenario, where UDP may lose nothing).
	udpGated bool
	maxWrite atomic.Int64 // longest TCP write of runTCP (ns)
}

func newSyslogSenders(tcp, udp string, logf func(string, ...any)) *syslogSenders {
	return &syslogSenders{tcpAddr: tcp, udpAddr: udp, logf: logf, tcpSent: map[string]int{}, hostKinds: map[string]int{}}
}

// msg5424 is one RFC 5424 message; app, proc and seq (as MSGID "m<seq>")
// identify it in the store.
func msg5424(app, proc string, seq int, body string) string {
	return fmt.Sprintf("<134>1 %s chaos-host %s %s m%d - %s %s seq=%d %s",
		time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"), app, proc, seq, app, proc, seq, body)
}

// octet frames a message with RFC 6587 octet counting.
func octet(m string) string { return strconv.Itoa(len(m)) + " " + m }

func (s *syslogSenders) markSent(app, proc string, seq int) {
	s.mu.Lock()
	s.tcpSent[app+"/"+proc] = seq + 1
	s.mu.Unlock()
}

// tcpConn is a sender's connection, reopened after each agent restart.
type tcpConn struct {
	s   *syslogSenders
	c   net.Conn
	gen int64
}

// get returns a connection of the current generation; the caller holds the
// gate shared.
func (t *tcpConn) get(ctx context.Context) (net.Conn, error) {
	if t.c != nil && t.gen == t.s.gen.Load() {
		return t.c, nil
	}
	if t.c != nil {
		_ = t.c.Close()
		t.c = nil
	}
	var err error
	for range 100 {
		var c net.Conn
		c, err = net.DialTimeout("tcp", t.s.tcpAddr, 2*time.Second)
		if err == nil {
			t.c, t.gen = c, t.s.gen.Load()
			return c, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		time.Sleep(100 * time.Millisecond) // the agent is restarting
	}
	return nil, fmt.Errorf("connect syslog tcp: %w", err)
}

func (t *tcpConn) close() {
	if t.c != nil {
		_ = t.c.Close()
	}
}

// runTCP sends rate messages per second on one connection, app/proc, in
// writes of 20 ms worth, alternating octet counting and newline framing.
func (s *syslogSenders) runTCP(ctx context.Context, app, proc string, rate float64) {
	const tick = 20 * time.Millisecond
	tc := &tcpConn{s: s}
	defer tc.close()
	t := time.NewTicker(tick)
	defer t.Stop()
	seq := 0
	var owed float64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		owed += rate * tick.Seconds()
		n := int(owed)
		owed -= float64(n)
		if n == 0 {
			continue
		}
		var buf []byte
		for i := range n {
			m := msg5424(app, proc, seq+i, "payload of a numbered tcp message")
			if (seq+i)%2 == 0 {
				buf = append(buf, octet(m)...)
			} else {
				buf = append(buf, m...)
				buf = append(buf, '\n')
			}
		}
		s.gate.RLock()
		c, err := tc.get(ctx)
		if err != nil {
			s.gate.RUnlock()
			s.logf("tcp sender %s: %v", proc, err)
			continue // owed lines are not written; seq stays
		}
		t0 := time.Now()
		_, err = c.Write(buf)
		storeMax(&s.maxWrite, int64(time.Since(t0)))
		if err != nil {
			s.mu.Lock()
			s.tcpErrors++
			s.mu.Unlock()
			tc.close()
			tc.c = nil
		}
		seq += n
		s.markSent(app, proc, seq-1)
		s.gate.RUnlock()
	}
}

// flood opens conns connections at once and sends perConn messages on
// each as fast as the agent takes them (TCP pushes back when it is full).
func (s *syslogSenders) flood(ctx context.Context, conns, perConn int) {
	var wg sync.WaitGroup
	for k := range conns {
		wg.Go(func() {
			proc := "f" + strconv.Itoa(k) + "-" + strconv.FormatInt(time.Now().UnixNano()%1e6, 10)
			tc := &tcpConn{s: s}
			defer tc.close()
			s.floodConns.Add(1)
			const chunk = 100
			for seq := 0; seq < perConn && ctx.Err() == nil; seq += chunk {
				var buf []byte
				for i := seq; i < min(seq+chunk, perConn); i++ {
					buf = append(buf, octet(msg5424(appFlood, proc, i, "flood"))...)
				}
				s.gate.RLock()
				c, err := tc.get(ctx)
				if err == nil {
					_ = c.SetWriteDeadline(time.Now().Add(30 * time.Second))
					if _, err = c.Write(buf); err != nil {
						s.mu.Lock()
						s.tcpErrors++
						s.mu.Unlock()
						tc.close()
						tc.c = nil
					}
					s.markSent(appFlood, proc, min(seq+chunk, perConn)-1)
				}
				s.gate.RUnlock()
				if err != nil && tc.c == nil && ctx.Err() == nil {
					s.logf("flood %s: %v", proc, err)
				}
			}
		})
	}
	wg.Wait()
}

// slow sends numbered messages one byte at a time (a slowloris client
// that is still a legitimate sender), count of them.
func (s *syslogSenders) slow(ctx context.Context, count int, perByte time.Duration) {
	tc := &tcpConn{s: s}
	defer tc.close()
	for seq := 0; seq < count && ctx.Err() == nil; seq++ {
		m := octet(msg5424(appSlow, "slow", seq, "one byte at a time"))
		s.gate.RLock()
		c, err := tc.get(ctx)
		if err == nil {
			for i := 0; i < len(m) && err == nil; i++ {
				_, err = c.Write([]byte{m[i]})
				time.Sleep(perByte) // the slowness is the point
			}
			if err != nil {
				s.mu.Lock()
				s.tcpErrors++
				s.mu.Unlock()
				tc.close()
				tc.c = nil
			}
			s.markSent(appSlow, "slow", seq)
		}
		s.gate.RUnlock()
	}
}

// hostileTCP sends one frame meant to hurt, on its own connection: not
// syslog, over max_message_bytes, invalid UTF-8, or an octet-counted frame
// cut by a disconnect. Each carries "htcp seq=N " and must arrive once.
func (s *syslogSenders) hostileTCP(ctx context.Context, kind string) {
	s.gate.RLock()
	defer s.gate.RUnlock()
	tc := &tcpConn{s: s}
	c, err := tc.get(ctx)
	if err != nil {
		s.logf("hostile tcp: %v", err)
		return
	}
	defer c.Close()
	s.mu.Lock()
	seq := s.hostile
	s.hostile++
	s.hostKinds[kind]++
	s.mu.Unlock()
	mark := fmt.Sprintf("htcp seq=%d ", seq)
	var frame string
	switch kind {
	case "not syslog":
		frame = mark + "no pri, no header at all\n"
	case "over max_message_bytes":
		m := msg5424("chaos-hostile", "h", seq, mark) + string(repeatByte('z', 100<<10))
		frame = octet(m)
	case "invalid UTF-8":
		frame = octet(msg5424("chaos-hostile", "h", seq, mark+"bad \xff\xfe\xc3\x28 bytes"))
	case "cut frame":
		m := msg5424("chaos-hostile", "h", seq, mark+"this frame says it is longer than it is")
		frame = strconv.Itoa(len(m)+500) + " " + m
	default:
		panic("BUG: unknown hostile tcp kind " + kind)
	}
	if _, err := c.Write([]byte(frame)); err != nil {
		s.mu.Lock()
		s.tcpErrors++
		s.mu.Unlock()
	}
	// Closing at once is part of "cut frame"; for the others the agent has
	// the whole frame already.
}

var hostileTCPKinds = []string{"not syslog", "over max_message_bytes", "invalid UTF-8", "cut frame"}

func repeatByte(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

// idle keeps n connections open that never send, reopening them after an
// agent restart, until ctx ends.
func (s *syslogSenders) idle(ctx context.Context, n int) {
	conns := make([]net.Conn, n)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	gen := int64(-1)
	for {
		if g := s.gen.Load(); g != gen {
			gen = g
			open := 0
			for i := range conns {
				if conns[i] != nil {
					conns[i].Close()
					s.idleReopened.Add(1)
				}
				c, err := net.DialTimeout("tcp", s.tcpAddr, 2*time.Second)
				if err != nil {
					conns[i] = nil
					continue
				}
				conns[i] = c
				open++
			}
			s.idleOpen.Store(int64(open))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second): // generation poll
		}
	}
}

// runUDP sends rate numbered datagrams per second until ctx ends. Loss is
// allowed on UDP; the agent counts its own drops.
func (s *syslogSenders) runUDP(ctx context.Context, rate float64) {
	c, err := net.Dial("udp", s.udpAddr)
	if err != nil {
		s.logf("udp sender: %v", err)
		return
	}
	defer c.Close()
	const tick = 20 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	seq := 0
	var owed float64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		owed += rate * tick.Seconds()
		n := int(owed)
		owed -= float64(n)
		if s.udpGated {
			s.gate.RLock()
		}
		for range n {
			if _, err := c.Write([]byte(msg5424(appUDP, "u", seq, "numbered udp datagram"))); err != nil {
				s.udpErrors.Add(1) // ECONNREFUSED from an earlier datagram while the agent was down
			}
			seq++
			s.udpSent.Add(1)
		}
		if s.udpGated {
			s.gate.RUnlock()
		}
	}
}

// tcpTotal is every numbered TCP message sent (hostile frames included).
func (s *syslogSenders) tcpTotal() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.hostile
	for _, v := range s.tcpSent {
		n += v
	}
	return n
}

// numberedTCP selects the rows of the numbered TCP senders; hostileTCPRows
// the hostile frames, by their marker.
const (
	numberedTCP    = `syslog.app_name:in("` + appTCP + `","` + appFlood + `","` + appSlow + `")`
	hostileTCPRows = `"htcp seq="`
)

// tcpDelivered counts distinct numbered TCP messages in the store.
func (s *syslogSenders) tcpDelivered(ctx context.Context, st *storeClient) (int, error) {
	r, err := st.stats(ctx, numberedTCP+` | stats count_uniq(syslog.app_name, syslog.proc_id, syslog.msg_id) n`)
	if err != nil {
		return 0, err
	}
	h, err := st.stats(ctx, hostileTCPRows+` | extract "htcp seq=<h> " from _msg | stats count_uniq(h) n`)
	if err != nil {
		return 0, err
	}
	return atoi(r["n"]) + atoi(h["n"]), nil
}

// quiesce pauses every TCP sender and waits until the store holds all
// they sent; resume must follow.
func (s *syslogSenders) quiesce(ctx context.Context, st *storeClient, timeout time.Duration) error {
	s.gate.Lock()
	want := s.tcpTotal()
	deadline := time.Now().Add(timeout)
	for {
		have, err := s.tcpDelivered(ctx, st)
		if err == nil && have >= want {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%d of %d TCP messages in the store after %v (%v)", have, want, timeout, err)
		}
		time.Sleep(300 * time.Millisecond) // delivery poll
	}
}

// resume lets senders go on, on new connections.
func (s *syslogSenders) resume() {
	s.gen.Add(1)
	s.gate.Unlock()
}

// storeMax raises m to v if v is larger.
func storeMax(m *atomic.Int64, v int64) {
	for old := m.Load(); v > old && !m.CompareAndSwap(old, v); old = m.Load() {
	}
}
