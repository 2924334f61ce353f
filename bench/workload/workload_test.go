package workload

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
)

func TestDeterministicAndShaped(t *testing.T) {
	s := Spec{Files: 2, Records: 2000, Seed: 1}
	var a, b bytes.Buffer
	if err := s.WriteFile(&a, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteFile(&b, 1); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two runs differ")
	}
	var plain, partial, records int
	seq := 0
	var pending []byte
	for _, line := range bytes.Split(bytes.TrimSuffix(a.Bytes(), []byte("\n")), []byte("\n")) {
		f := bytes.SplitN(line, []byte(" "), 4)
		if len(f) != 4 {
			t.Fatalf("not CRI: %q", line)
		}
		pending = append(pending, f[3]...)
		if string(f[2]) == "P" {
			partial++
			continue
		}
		msg := pending
		pending = nil
		records++
		if msg[0] == '{' {
			if n := len(msg); n < 250 || n > 290 {
				t.Fatalf("JSON line of %d bytes", n)
			}
			var v struct{ File, Seq, End int }
			if err := json.Unmarshal(msg, &v); err != nil {
				t.Fatalf("%v: %s", err, msg)
			}
			if v.File != 1 || v.Seq != seq || v.End != seq {
				t.Fatalf("record %d: %s", seq, msg)
			}
		} else {
			plain++
			want := "file=1 seq=" + strconv.Itoa(seq) + " "
			if !bytes.HasPrefix(msg, []byte(want)) || !bytes.HasSuffix(msg, []byte(" end="+strconv.Itoa(seq))) {
				t.Fatalf("plain record %d: %s", seq, msg)
			}
		}
		seq++
	}
	if records != s.Records {
		t.Fatalf("%d records, want %d", records, s.Records)
	}
	if plain < 60 || plain > 140 || partial < 8 || partial > 40 {
		t.Fatalf("%d plain, %d split of %d", plain, partial, records)
	}
}
