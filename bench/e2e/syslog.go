package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sluicelog/sluice/bench/sink"
)

// SyslogOptions are the syslog workload: Messages RFC 5424
// messages of ~170 bytes over Conns TCP connections, shipped to the sink's
// _bulk.
type SyslogOptions struct {
	Options
	Messages, Conns int
	// Spool, when set, is the input's spool sync policy (interval or
	// batch): the messages go through the disk spool.
	Spool string
}

const syslogConfig = `node_name: ` + nodeName + `
data_dir: %s
memory_limit: %s
http: { listen: "%s" }
inputs:
  - { name: syslog, type: syslog, tcp: "%s", format: auto%s }
kubernetes: { enabled: false }
outputs:
  - name: es
    type: elasticsearch
    urls: ["%s"]
    index: "syslog-%%Y.%%m.%%d"
    bulk: { %sflush_interval: 1s, workers: 2, compress: false }
`

// RunSyslog runs the agent once on the syslog workload.
func RunSyslog(ctx context.Context, o SyslogOptions) (Result, error) {
	if o.Conns < 1 || o.Messages < o.Conns {
		return Result{}, fmt.Errorf("syslog workload: %d messages over %d connections", o.Messages, o.Conns)
	}
	perConn := o.Messages / o.Conns
	work, err := os.MkdirTemp("", "sluice-bench-syslog-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(work)

	// The messages are built before the agent starts, so the senders only
	// write: the agent is what is measured.
	frames := make([][]byte, o.Conns)
	var size int64
	for c := range frames {
		for i := range perConn {
			frames[c] = sink.AppendSyslog(frames[c], c, i)
		}
		size += int64(len(frames[c]))
	}

	sk := sink.NewSyslog(o.Conns, perConn)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Result{}, err
	}
	srv := &http.Server{Handler: sk}
	go srv.Serve(ln)
	defer srv.Close()

	// Free ports for the agent's syslog listener and HTTP API.
	ports, err := freePorts(2)
	if err != nil {
		return Result{}, err
	}
	addr, api := ports[0], ports[1]

	limit, maxBytes := o.MemoryLimit, o.MaxBytes
	if limit == "" {
		limit = "256MiB"
	}
	if maxBytes != "" { // unset: sized from memory_limit
		maxBytes = "max_bytes: " + maxBytes + ", "
	}
	cfgPath := filepath.Join(work, "sluice.yaml")
	spool := ""
	if o.Spool != "" {
		spool = ", spool: { max_bytes: 8GiB, sync: " + o.Spool + " }"
	}
	cfg := fmt.Sprintf(syslogConfig, filepath.Join(work, "data"), limit, api, addr, spool, "http://"+ln.Addr().String(), maxBytes)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return Result{}, err
	}
	feed := func(ctx context.Context) error {
		conns := make([]net.Conn, o.Conns)
		for c := range conns {
			deadline := time.Now().Add(30 * time.Second)
			for {
				conns[c], err = net.Dial("tcp", addr)
				if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
					break
				}
				time.Sleep(20 * time.Millisecond) // the agent is starting
			}
			if err != nil {
				return fmt.Errorf("connect to the agent's syslog port: %w", err)
			}
		}
		var wg sync.WaitGroup
		errs := make([]error, o.Conns)
		for c, conn := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				_, errs[c] = conn.Write(frames[c])
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		return nil
	}
	res, err := runAgent(ctx, o.Options, cfgPath, work, api, sk, feed)
	res.Bytes = size
	return res, err
}
