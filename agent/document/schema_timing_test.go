package document

import "testing"

// The cost of an output's schema per document: the Encoder's fluentd
// document (a merged JSON line and a pod's Kubernetes object), rewritten
// by a Shaper into a reused buffer; the Kubernetes object is shaped once
// per pod, outside the loop, as the writers cache it.
//
//	go test -run '^$' -bench 'BenchmarkShaper' -count 6 -benchmem ./agent/document/ | tee shaper.txt
func BenchmarkShaper(b *testing.B) {
	for _, s := range []Schema{SchemaFluentBit, SchemaECS, SchemaOTel} {
		b.Run(s.String(), func(b *testing.B) {
			sh := &Shaper{Schema: s, MaxLabels: 64}
			m := sh.Meta([]byte(podMeta))
			var dst []byte
			b.ReportAllocs()
			b.SetBytes(int64(len(containerDoc)))
			for b.Loop() {
				dst = sh.Append(dst[:0], []byte(containerDoc), &m, ds)
			}
		})
	}
}
