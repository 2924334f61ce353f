// Command roundtrip measures what one bulk-like HTTP request costs the
// client in CPU, through net/http the way the Elasticsearch output sends
// (headers flushed, then the body in one write from its own slice) and
// with the request written and the answer read on the caller's goroutine.
// The server is a child process, so the CPU counted (getrusage of this
// process) is the client's alone.
//
//	go run ./bench/roundtrip -n 2000 -size 524288 -rounds 3
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

func main() {
	serve := flag.String("serve", "", "run the server on this address (the child process)")
	n := flag.Int("n", 2000, "requests per measurement")
	size := flag.Int("size", 512<<10, "body bytes")
	items := flag.Int("items", 600, "items in each answer")
	rounds := flag.Int("rounds", 3, "measurements of each way, alternated")
	flag.Parse()
	answer := append([]byte(`{"errors":false,"items":[`), bytes.Repeat([]byte(`{"create":{"status":201}},`), *items)...)
	answer = append(answer[:len(answer)-1], "]}"...)
	if *serve != "" {
		log.Fatal(http.ListenAndServe(*serve, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.Copy(io.Discard, r.Body); err != nil {
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(answer)
		})))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := exec.Command(os.Args[0], "-serve", addr, "-items", strconv.Itoa(*items))
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	if err := waitListening(addr); err != nil {
		log.Fatal(err)
	}
	payload := bytes.Repeat([]byte("x"), *size)
	for r := 1; r <= *rounds; r++ {
		for _, way := range []struct {
			name string
			run  func(addr string, payload []byte, n int) error
		}{{"net/http", viaNetHTTP}, {"one goroutine", onOneGoroutine}} {
			before, t0 := cpu(), time.Now()
			if err := way.run(addr, payload, *n); err != nil {
				log.Fatal(err)
			}
			used := cpu() - before
			fmt.Printf("round %d %-13s %d requests of %d bytes: %.1f µs CPU a request (%v wall)\n",
				r, way.name, *n, *size, float64(used.Nanoseconds())/float64(*n)/1e3, time.Since(t0).Round(time.Millisecond))
		}
	}
}

// waitListening waits until the child accepts connections.
func waitListening(addr string) error {
	var err error
	for range 500 {
		var c net.Conn
		if c, err = net.Dial("tcp", addr); err == nil {
			return c.Close()
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("server at %s: %w", addr, err)
}

func cpu() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		log.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// body is a request body net/http does not know to be in memory, so it
// flushes the headers first and hands the body to the connection's
// ReadFrom, as it does with the output's bodies.
type body struct {
	b   []byte
	off int
}

func (r *body) Read(p []byte) (int, error) {
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.off:])
	r.off += n
	return n, nil
}

// bodyConn writes a body in one write from its slice.
type bodyConn struct{ net.Conn }

func (c bodyConn) ReadFrom(r io.Reader) (int64, error) {
	if lr, ok := r.(*io.LimitedReader); ok {
		if w, ok := lr.R.(*body); ok {
			p := w.b[w.off:]
			p = p[:min(int64(len(p)), lr.N)]
			n, err := c.Conn.Write(p)
			w.off += n
			lr.N -= int64(n)
			return int64(n), err
		}
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

func viaNetHTTP(addr string, payload []byte, n int) error {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, a)
			return bodyConn{c}, err
		},
		WriteBufferSize: 16 << 10,
	}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr}
	var answer bytes.Buffer
	for range n {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/_bulk", &body{b: payload})
		if err != nil {
			cancel()
			return err
		}
		req.ContentLength = int64(len(payload))
		req.Header.Set("Content-Type", "application/x-ndjson")
		res, err := cl.Do(req)
		if err != nil {
			cancel()
			return err
		}
		answer.Reset()
		_, err = answer.ReadFrom(res.Body)
		res.Body.Close()
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

func onOneGoroutine(addr string, payload []byte, n int) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	br := bufio.NewReaderSize(c, 64<<10)
	head := []byte("POST /_bulk HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/x-ndjson\r\nContent-Length: " +
		strconv.Itoa(len(payload)) + "\r\n\r\n")
	var answer bytes.Buffer
	for range n {
		bufs := net.Buffers{head, payload}
		if _, err := bufs.WriteTo(c); err != nil {
			return err
		}
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			return err
		}
		answer.Reset()
		_, err = answer.ReadFrom(res.Body)
		res.Body.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
