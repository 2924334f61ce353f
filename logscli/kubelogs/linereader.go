package kubelogs

import (
	"bufio"
	"errors"
	"io"
)

// errEOF: the stream ended after its last full line.
var errEOF = io.EOF

// lineReader reads lines of at most max bytes; the rest of a longer line
// is read and dropped, so one line cannot hold unbounded memory.
type lineReader struct {
	br  *bufio.Reader
	max int
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10), max: max}
}

// next returns the next line without its newline. At the end of the
// stream it returns what is left (a last line without a newline) and
// io.EOF.
func (l *lineReader) next() (string, error) {
	var line []byte
	for {
		chunk, err := l.br.ReadSlice('\n')
		if room := l.max - len(line); room > 0 {
			line = append(line, chunk[:min(len(chunk), room)]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if len(line) > 0 && line[len(line)-1] == '\n' {
			line = line[:len(line)-1]
		}
		return string(line), err
	}
}
