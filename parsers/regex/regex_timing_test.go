package regex

import (
	"regexp"
	"testing"
)

// BenchmarkPresets parses the access corpus with nginx and apache and the
// glog file with klog, next to a plain regexp.FindSubmatchIndex of the same
// nginx pattern as a baseline (the floor of what the presets cost).
//
//	go test -run '^$' -bench 'BenchmarkPresets' -count 6 -benchmem ./parsers/regex | tee regex.txt
func BenchmarkPresets(b *testing.B) {
	access := readLines(b, "access/*/*")
	klog := readLines(b, "klog/*/*.0")
	syslog := readLines(b, "syslog/lnav/logfile_syslog*.0")
	run := func(name string, lines []string, parse func(dst, line []byte) []byte) {
		in := make([][]byte, len(lines))
		size := 0
		for i, l := range lines {
			in[i] = []byte(l)
			size += len(l)
		}
		buf := make([]byte, 0, 1<<16)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				for _, l := range in {
					buf = parse(buf[:0], l)
				}
			}
		})
	}
	for _, c := range []struct {
		preset string
		lines  []string
	}{{"nginx", access}, {"apache", access}, {"klog", klog}, {"syslog", syslog}} {
		p, err := Preset(c.preset)
		if err != nil {
			b.Fatal(err)
		}
		run(c.preset, c.lines, func(dst, line []byte) []byte {
			dst, _ = p.AppendMembers(dst, line)
			return dst
		})
	}
	re := regexp.MustCompile(presets["nginx"])
	run("regexp-baseline-nginx", access, func(dst, line []byte) []byte {
		_ = re.FindSubmatchIndex(line)
		return dst
	})
	sre := regexp.MustCompile(presets["syslog"])
	run("regexp-baseline-syslog", syslog, func(dst, line []byte) []byte {
		_ = sre.FindSubmatchIndex(line)
		return dst
	})
}
