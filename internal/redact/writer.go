package redact

import (
	"io"
	"sync"
)

// Writer masks secrets in everything written through it. Each Write is
// masked whole, so a secret is caught when it arrives in one Write, as a
// log record or an error line does; Write reports len(p) written.
type Writer struct {
	mu  sync.Mutex // one Write at a time, in order, as the stream had it
	w   io.Writer
	red *Redactor
}

// NewWriter returns a Writer to w that masks what red and Text find.
func NewWriter(w io.Writer, red *Redactor) *Writer {
	return &Writer{w: w, red: red}
}

// Write masks p and writes it to the underlying writer.
func (w *Writer) Write(p []byte) (int, error) {
	out := w.red.Text(string(p))
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := io.WriteString(w.w, out); err != nil {
		return 0, err
	}
	return len(p), nil
}
