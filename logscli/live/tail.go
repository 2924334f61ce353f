// Package live follows the agents' taps for the logs CLI: one reader per
// agent, reconnecting as agents restart, started and stopped as agents
// come and go, all feeding one channel.
package live

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/sluicelog/sluice/logscli/entry"
)

// Target is one agent's tap.
type Target struct {
	// Name identifies the agent in messages, and across refreshes: a
	// target whose name is listed again keeps its stream.
	Name string
	// Open starts the NDJSON stream of the filtered tap.
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// FatalError is an Open error that retrying cannot fix (refused
// credentials, RBAC, a filter the agent rejects).
type FatalError struct{ Err error }

func (e *FatalError) Error() string { return e.Err.Error() }
func (e *FatalError) Unwrap() error { return e.Err }

// IsFatal reports whether err is a FatalError.
func IsFatal(err error) bool {
	var f *FatalError
	return errors.As(err, &f)
}

// errDropped ends a stream that the agent closed because this client did
// not read fast enough.
var errDropped = errors.New("the agent dropped this client for reading too slowly; some lines were missed")

// droppedPrefix starts the agent's last line to a dropped client.
var droppedPrefix = []byte(`{"sluice_tap":`)

// Retry bounds of a lost stream.
const (
	retryMin = 250 * time.Millisecond
	retryMax = 5 * time.Second
)

// Tail runs one reader per target. The zero value is not usable; use New.
type Tail struct {
	out chan<- *entry.Entry
	log *slog.Logger

	mu      sync.Mutex
	running map[string]context.CancelFunc
	wg      sync.WaitGroup
}

// New returns a Tail that sends every record to out; out must be read
// promptly (an agent drops a client that falls behind).
func New(out chan<- *entry.Entry, log *slog.Logger) *Tail {
	return &Tail{out: out, log: log, running: map[string]context.CancelFunc{}}
}

// Sync makes the running readers those of targets: new targets are
// connected (Sync waits for each one's first attempt and returns its
// error, the reader retrying in the background unless the error is
// fatal), targets no longer listed are closed.
func (t *Tail) Sync(ctx context.Context, targets []Target) (errs map[string]error) {
	t.mu.Lock()
	want := make(map[string]bool, len(targets))
	firsts := map[string]chan error{}
	for _, tg := range targets {
		want[tg.Name] = true
		if _, ok := t.running[tg.Name]; ok {
			continue
		}
		rctx, cancel := context.WithCancel(ctx)
		t.running[tg.Name] = cancel
		first := make(chan error, 1)
		firsts[tg.Name] = first
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			t.run(rctx, tg, first)
		}()
	}
	for name, cancel := range t.running {
		if !want[name] {
			t.log.Info("agent gone; its stream is closed", "agent", name)
			cancel()
			delete(t.running, name)
		}
	}
	t.mu.Unlock()
	errs = map[string]error{}
	for name, first := range firsts {
		select {
		case err := <-first:
			if err != nil {
				errs[name] = err
			}
		case <-ctx.Done():
			return errs
		}
	}
	return errs
}

// Running is the number of readers.
func (t *Tail) Running() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.running)
}

// Wait waits for every reader to end (after ctx of Sync ends).
func (t *Tail) Wait() { t.wg.Wait() }

// run reads one target until ctx ends, reconnecting when the stream
// breaks. first gets the result of the first connection attempt.
func (t *Tail) run(ctx context.Context, tg Target, first chan<- error) {
	delay := retryMin
	connectedOnce := false
	var lastErr string
	for ctx.Err() == nil {
		rc, err := tg.Open(ctx)
		// The first attempt's error is Sync's caller's to report.
		reported := first != nil
		if first != nil {
			first <- err
			first = nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if IsFatal(err) {
				if !reported {
					t.log.Error("agent stream refused; not retrying", "agent", tg.Name, "err", err)
				}
				return
			}
			// Say it once per kind of failure, not on every retry.
			if reported {
				lastErr = err.Error()
			} else if err.Error() != lastErr {
				t.log.Warn("cannot connect to agent; retrying", "agent", tg.Name, "err", err)
				lastErr = err.Error()
			}
			if !sleep(ctx, delay) {
				return
			}
			delay = min(delay*2, retryMax)
			continue
		}
		if connectedOnce {
			t.log.Warn("reconnected to agent; lines logged while disconnected are not shown live", "agent", tg.Name)
		}
		connectedOnce, delay, lastErr = true, retryMin, ""
		err = t.read(ctx, rc)
		rc.Close()
		if ctx.Err() != nil {
			return
		}
		t.log.Warn("agent stream ended; reconnecting", "agent", tg.Name, "err", err)
		if !sleep(ctx, retryMin) {
			return
		}
	}
}

// read sends the stream's records to out until it ends.
func (t *Tail) read(ctx context.Context, rc io.Reader) error {
	br := bufio.NewReaderSize(rc, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 && err == nil {
			if bytes.HasPrefix(line, droppedPrefix) {
				return errDropped
			}
			e, perr := entry.Parse(line)
			if perr != nil {
				t.log.Warn("skipping a line the agent sent that is not a document", "err", perr)
				continue
			}
			select {
			case t.out <- e:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return errors.New("closed by the agent")
			}
			return fmt.Errorf("read: %w", err)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}
