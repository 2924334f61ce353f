package agenttest

import (
	"bytes"
	"strings"
	"sync"
)

// Buffer collects output written from other goroutines (a process's pipe
// copier, a server's logger) while the test reads it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Count is the number of times s was written so far.
func (b *Buffer) Count(s string) int {
	return strings.Count(b.String(), s)
}
