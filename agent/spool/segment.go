package spool

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/sluicelog/sluice/agent/record"
)

// segment is one file of the spool. Only the newest is written; the
// writer publishes how far it wrote (size) after each write, and the
// reader reads no further, so it never sees half an entry of this run.
type segment struct {
	num     uint64
	path    string
	size    atomic.Int64 // bytes written (committed to the file)
	records atomic.Int64 // records in it, for what drop_oldest loses
	sealed  atomic.Bool  // no more writes: what is short at its end is torn

	// Its summary records (under Spool.mu): the drops they tell, and
	// their entries' bytes, for drop_oldest to tell again when it goes.
	toldRecords, toldBytes, summaryBytes int64
}

const segmentSuffix = ".seg"

func segmentName(num uint64) string { return fmt.Sprintf("%016x%s", num, segmentSuffix) }

// listSegments finds dir's segments, oldest first. Segments of an earlier
// run are sealed; their record counts come from a scan of their headers.
func listSegments(dir string) ([]*segment, error) {
	names, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list spool: %w", err)
	}
	var segs []*segment
	for _, d := range names {
		hex, ok := strings.CutSuffix(d.Name(), segmentSuffix)
		if !ok || d.IsDir() {
			continue
		}
		num, err := strconv.ParseUint(hex, 16, 64)
		if err != nil || len(hex) != 16 {
			continue // not ours
		}
		s := &segment{num: num, path: filepath.Join(dir, d.Name())}
		if err := s.scan(); err != nil {
			return nil, err
		}
		s.sealed.Store(true)
		segs = append(segs, s)
	}
	slices.SortFunc(segs, func(a, b *segment) int {
		switch {
		case a.num < b.num:
			return -1
		case a.num > b.num:
			return 1
		}
		return 0
	})
	return segs, nil
}

// scan sets size and counts the records of the entries whose headers
// read well; the reader checks each entry's CRC and resyncs past damage.
func (s *segment) scan() error {
	f, err := os.Open(s.path)
	if err != nil {
		return fmt.Errorf("open spool segment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("open spool segment: %w", err)
	}
	s.size.Store(st.Size())
	var hdr [headerLen + 8 + 2]byte
	var n int64
	for off := int64(0); ; {
		if _, err := f.ReadAt(hdr[:], off); err != nil {
			break
		}
		plen, err := checkHeader(hdr[:])
		if err != nil || off+headerLen+int64(plen) > st.Size() {
			break
		}
		pathLen := int64(binary.LittleEndian.Uint16(hdr[headerLen+8:]))
		if pathLen == int64(len(SummaryPath)) && s.scanSummary(f, off, plen) {
			off += headerLen + int64(plen)
			continue
		}
		var cnt [4]byte
		if _, err := f.ReadAt(cnt[:], off+headerLen+10+pathLen); err != nil && err != io.EOF {
			break
		}
		n += int64(binary.LittleEndian.Uint32(cnt[:]))
		off += headerLen + int64(plen)
	}
	s.records.Store(n)
	return nil
}

// scanSummary counts the entry at off (plen bytes of payload) as a
// summary if it is one, and reports whether it was.
func (s *segment) scanSummary(f *os.File, off int64, plen int) bool {
	buf := make([]byte, headerLen+plen)
	if _, err := f.ReadAt(buf, off); err != nil {
		return false
	}
	e, err := decode(buf[:headerLen], buf[headerLen:])
	if err != nil || string(e.path) != SummaryPath {
		return false
	}
	b := record.NewBatch(nil, nil)
	defer b.Discard()
	if addRecords(b, e, 0) != nil {
		return false
	}
	for _, r := range b.Records {
		records, bytes := summaryCounts(r.Extra)
		s.toldRecords += records
		s.toldBytes += bytes
	}
	s.summaryBytes += int64(len(buf))
	return true
}
