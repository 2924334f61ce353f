package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestScrapeMetrics(t *testing.T) {
	body := `# HELP go_memstats_mallocs_total Total number of heap objects allocated, both live and gc-ed. Semantically a counter version for go_memstats_heap_objects gauge.
# TYPE go_memstats_mallocs_total counter
go_memstats_mallocs_total 1.234567e+06
go_memstats_mallocs_totally_not 5
sluice_input_records_total{input="containers"} 100
sluice_input_records_total{input="odd name"} 23
`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/metrics":
			io.WriteString(w, body)
		case "/bare":
			io.WriteString(w, "sluice_input_records_total 5\n")
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx := context.Background()

	sc, answered := scrapeMetrics(ctx, srv.URL+"/metrics")
	if !answered || sc.err != nil || sc.mallocs != 1234567 || sc.records != 123 {
		t.Fatalf("scrape = %+v, answered %v", sc, answered)
	}
	if sc, answered := scrapeMetrics(ctx, srv.URL+"/nope"); !answered || sc.err == nil {
		t.Fatalf("404: scrape = %+v, answered %v", sc, answered)
	}
	if sc, _ := scrapeMetrics(ctx, srv.URL+"/bare"); sc.err == nil || !strings.Contains(sc.err.Error(), "no go_memstats_mallocs_total") {
		t.Fatalf("missing metric: scrape = %+v", sc)
	}
	srv.Close()
	if _, answered := scrapeMetrics(ctx, srv.URL+"/metrics"); answered {
		t.Fatal("closed server: answered")
	}
}

func TestResultAllocsLine(t *testing.T) {
	r := Result{Records: 1000, Mallocs: 1234567}
	if s := r.String(); !strings.Contains(s, "allocs/record:  1234.567 (go_memstats_mallocs_total, from the agent's first /metrics answer to the last record; 1,234,567 objects)\n") {
		t.Fatalf("got\n%s", s)
	}
	r.MallocsErr = "last scrape: refused"
	if s := r.String(); !strings.Contains(s, "allocs/record:  n/a (last scrape: refused)\n") {
		t.Fatalf("got\n%s", s)
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 123456: "123,456", -1234: "-1,234"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestLastMallocsNoAnswer(t *testing.T) {
	ports, err := freePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ports[0] + "/metrics" // nobody listens
	ctx, stop := context.WithCancel(context.Background())
	first := make(chan scrape, 1)
	go func() { first <- firstScrape(ctx, url) }()
	time.Sleep(50 * time.Millisecond) // a few refused polls
	if _, _, why := lastMallocs(context.Background(), url, first, stop); why != "no /metrics answer before the last record" {
		t.Fatalf("why = %q", why)
	}
}
