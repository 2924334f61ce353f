package httpbody

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"
)

// blockedWriter is a connection whose Write waits until release is
// closed, then keeps a copy of what it was given.
type blockedWriter struct {
	entered, release chan struct{}
	got              []byte
}

func (w *blockedWriter) Write(p []byte) (int, error) {
	close(w.entered)
	<-w.release
	w.got = append(w.got, p...)
	return len(p), nil
}

// A body net/http is still writing when the sender gives its request up
// (an error, or an answer before the body was written) keeps its bytes
// until the write ends: detach waits for it, and the bytes may be reused
// after. Later reads of any of the request's bodies fail.
func TestDetachWaitsForTheWrite(t *testing.T) {
	body := bytes.Repeat([]byte("{\"a\":1}\n"), 125)
	want := bytes.Clone(body)
	req, held, err := NewRequest(context.Background(), http.MethodPost, "http://127.0.0.1:1/_bulk", body)
	if err != nil {
		t.Fatal(err)
	}
	w := &blockedWriter{entered: make(chan struct{}), release: make(chan struct{})}
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		_, _ = req.Body.(*Body).WriteUpTo(w, int64(len(body)))
	}()
	<-w.entered
	detached := make(chan struct{})
	go func() {
		held.Detach()
		close(detached)
	}()
	close(w.release)
	<-detached
	clear(body) // the sender fills its buffer again
	<-wrote
	if !bytes.Equal(w.got, want) {
		t.Fatalf("the connection got %d bytes that differ from the body", len(w.got))
	}
	if _, err := req.Body.Read(make([]byte, 10)); !errors.Is(err, ErrDetached) {
		t.Fatalf("read after detach: %v, want ErrDetached", err)
	}
	again, err := req.GetBody()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Read(make([]byte, 10)); !errors.Is(err, ErrDetached) {
		t.Fatalf("read of a resend's body after detach: %v, want ErrDetached", err)
	}
}
