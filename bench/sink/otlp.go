package sink

import (
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/sluicelog/sluice/bench/workload"
)

// otlp answers POST /v1/logs (OTLP/HTTP protobuf, gzipped or not) with
// an empty ExportLogsServiceResponse, checking every log record as check
// does a document: the resource names the file's pod, and the record is
// either a JSON line (msg as body, file/seq/end attributes) or a plain
// line (body "file=F seq=S … end=S", on stderr).
func (s *Sink) otlp(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.bodyBytes.Add(int64(len(raw)))
	ld, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(raw)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for i := range ld.ResourceLogs().Len() {
		rl := ld.ResourceLogs().At(i)
		res := rl.Resource().Attributes()
		for j := range rl.ScopeLogs().Len() {
			recs := rl.ScopeLogs().At(j).LogRecords()
			for k := range recs.Len() {
				s.docs.Add(1)
				f, seq, ok := s.parseOTLP(res, recs.At(k))
				if !ok {
					s.bad.Add(1)
					str := "record of pod " + str(res, "k8s.pod.name") + ": " + recs.At(k).Body().AsString()
					s.firstBad.CompareAndSwap(nil, &str)
					continue
				}
				if _, ok := res.Get("k8s.pod.uid"); ok {
					s.enriched.Add(1)
				}
				s.account(f, seq)
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

func str(m pcommon.Map, k string) string {
	v, ok := m.Get(k)
	if !ok {
		return ""
	}
	return v.AsString()
}

func (s *Sink) parseOTLP(res pcommon.Map, lr plog.LogRecord) (f, seq int, ok bool) {
	f, ok = s.pods[str(res, "k8s.pod.name")]
	if !ok || str(res, "k8s.namespace.name") != workload.Namespace || lr.Timestamp() == 0 {
		return 0, 0, false
	}
	attrs := lr.Attributes()
	body := lr.Body().Str()
	if str(attrs, "log.iostream") == "stderr" {
		lf, ok1 := intAfter([]byte(body), "file=")
		seq, ok2 := intAfter([]byte(body), " seq=")
		end, ok3 := intAfter([]byte(body), " end=")
		if !ok1 || !ok2 || !ok3 || lf != f || end != seq || !strings.HasSuffix(body, " end="+strconv.Itoa(seq)) {
			return 0, 0, false
		}
		return f, seq, s.inRange(seq)
	}
	if lr.SeverityText() == "" || !strings.HasPrefix(body, "request served ") {
		return 0, 0, false
	}
	jf, ok1 := attrs.Get("file")
	js, ok2 := attrs.Get("seq")
	je, ok3 := attrs.Get("end")
	if !ok1 || !ok2 || !ok3 || int(jf.Int()) != f || je.Int() != js.Int() {
		return 0, 0, false
	}
	return f, int(js.Int()), s.inRange(int(js.Int()))
}
