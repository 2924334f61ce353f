package fairshare

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/labels"
)

func TestRoomIsAnyones(t *testing.T) {
	s := New(100)
	a := s.Join("noisy", 1)
	for range 10 {
		if !a.Request(10) {
			t.Fatal("a request that fits the budget waited")
		}
	}
	if got := s.Stats().InFlight.Load(); got != 100 {
		t.Fatalf("in flight %d, want 100", got)
	}
	if a.Request(1) {
		t.Fatal("a request past the budget was admitted")
	}
	s.Release(10)
	select {
	case <-a.Ready():
	default:
		t.Fatal("a release did not admit the waiting request")
	}
}

// A quiet key's request goes before a noisy key's backlog.
func TestQuietGoesFirst(t *testing.T) {
	s := New(100)
	noisy := make([]*Ticket, 5)
	for i := range noisy {
		noisy[i] = s.Join("noisy", 1)
	}
	for _, n := range noisy {
		n.Request(50) // two fit, three wait
	}
	quiet := s.Join("quiet", 1)
	if quiet.Request(5) {
		t.Fatal("admitted past a full budget")
	}
	s.Release(50)
	select {
	case <-quiet.Ready():
	default:
		t.Fatal("the quiet key's request was not the first admitted")
	}
	// 55 in flight: the next noisy one (50) waits for room.
	if got := s.Stats().Waiting.Load(); got != 3 {
		t.Fatalf("%d waiting, want 3", got)
	}
}

// Backlogged keys share the budget by weight.
func TestWeights(t *testing.T) {
	s := New(40)
	light, heavy := s.Join("light", 1), s.Join("heavy", 3)
	got := map[*Ticket]int{}
	pending := []*Ticket{}
	ask := func(tk *Ticket) {
		if tk.Request(10) {
			got[tk]++
			pending = append(pending, tk)
		}
	}
	ask(light)
	ask(heavy)
	for range 400 {
		s.Release(10)
		pending = pending[1:]
		for _, tk := range []*Ticket{light, heavy} {
			select {
			case <-tk.Ready():
				got[tk]++
				pending = append(pending, tk)
			default:
			}
		}
		// Each key keeps one request waiting: both are backlogged.
		for _, tk := range []*Ticket{light, heavy} {
			if tk.index < 0 {
				ask(tk)
			}
		}
	}
	ratio := float64(got[heavy]) / float64(got[light])
	if ratio < 2.7 || ratio > 3.3 {
		t.Fatalf("heavy:light = %d:%d (%.2f), want 3", got[heavy], got[light], ratio)
	}
}

func TestOversizeGoesAlone(t *testing.T) {
	s := New(10)
	a := s.Join("a", 1)
	if !a.Request(100) {
		t.Fatal("a batch larger than the budget did not go with nothing in flight")
	}
	b := s.Join("b", 1)
	if b.Request(1) {
		t.Fatal("admitted beside an oversize batch")
	}
	s.Release(100)
	<-b.Ready()
}

func TestCancel(t *testing.T) {
	s := New(10)
	a, b := s.Join("a", 1), s.Join("b", 1)
	a.Request(10)
	b.Request(5)
	if b.Cancel() {
		t.Fatal("cancel of a waiting request reported it admitted")
	}
	if got := s.Stats().Waiting.Load(); got != 0 {
		t.Fatalf("%d waiting after cancel", got)
	}
	b.Request(5)
	s.Release(10)
	if !b.Cancel() {
		t.Fatal("cancel after admission did not say so")
	}
	select {
	case <-b.Ready():
		t.Fatal("ready left signalled after cancel")
	default:
	}
	s.Release(5)
	b.Leave()
	a.Leave()
	if len(s.Keys()) != 0 {
		t.Fatalf("keys left after every ticket left: %v", s.Keys())
	}
}

// Many readers request and release at once (run with -race): the budget
// holds and ends empty.
func TestConcurrent(t *testing.T) {
	const limit = 1000
	s := New(limit)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk := s.Join([]string{"a", "b", "c"}[g%3], 1+g%3)
			defer tk.Leave()
			for range 500 {
				n := rand.Int64N(300) + 1
				if !tk.Request(n) {
					select {
					case <-tk.Ready():
					case <-ctx.Done():
						if tk.Cancel() {
							s.Release(n)
						}
						return
					}
				}
				if f := s.Stats().InFlight.Load(); f > limit {
					t.Errorf("in flight %d over the budget", f)
				}
				s.Release(n)
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatal("readers stuck")
	}
	if f := s.Stats().InFlight.Load(); f != 0 {
		t.Fatalf("in flight %d at the end", f)
	}
}

func TestNoAllocation(t *testing.T) {
	s := New(1 << 20)
	tk := s.Join("a", 1)
	other := s.Join("b", 1)
	other.Request(1 << 20)
	allocs := testing.AllocsPerRun(1000, func() {
		if !tk.Request(100) { // waits behind other
			s.Release(1 << 20)
			<-tk.Ready()
			if !other.Request(1 << 20) {
				s.Release(100)
				<-other.Ready()
				return
			}
		}
		s.Release(100)
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per request", allocs)
	}
}

func TestPolicy(t *testing.T) {
	p := Policy{By: "pod", Weights: map[string]int{"payments": 4}, DefaultWeight: 2}
	if k, w := p.Key("payments", "api-1", "c"); k != "payments/api-1" || w != 4 {
		t.Fatalf("got %q %d", k, w)
	}
	if k, w := p.Key("web", "x", "c"); k != "web/x" || w != 2 {
		t.Fatalf("got %q %d", k, w)
	}
	if k, _ := (Policy{}).Key("web", "x", "c"); k != "web" {
		t.Fatalf("default by: got %q", k)
	}
	if k, _ := (Policy{By: "container"}).Key("", "", ""); k != "" {
		t.Fatalf("no names: got %q", k)
	}
}

func BenchmarkRequestRelease(b *testing.B) {
	s := New(1 << 30)
	tk := s.Join("a", 1)
	b.ReportAllocs()
	for b.Loop() {
		tk.Request(64 << 10)
		s.Release(64 << 10)
	}
}

// A pod's weight: its annotation, else the first label selector it
// matches, else its namespace's, else the default; an annotation out of
// range is ignored. An uncached pod gets the config's and is unresolved.
func TestPolicyWeightFromPods(t *testing.T) {
	pods := map[string][2]map[string]string{
		"shop/api-1":   {{"app": "api", "tier": "web"}, {AnnotationWeight: "7"}},
		"shop/web-1":   {{"app": "web", "tier": "web"}, nil},
		"shop/db-1":    {{"app": "db"}, {AnnotationWeight: "5000"}},
		"shop/other-1": {{"app": "x"}, {AnnotationWeight: " 3 "}},
	}
	p := Policy{
		By: "pod", Weights: map[string]int{"shop": 2}, DefaultWeight: 1,
		LabelWeights: []LabelWeight{
			{Selector: mustSelector(t, "tier in (web)"), Weight: 5},
			{Selector: mustSelector(t, "app=db"), Weight: 9},
		},
		Pods: func(ns, pod string) (map[string]string, map[string]string, bool) {
			m, ok := pods[ns+"/"+pod]
			return m[0], m[1], ok
		},
	}
	for pod, want := range map[string]int{"api-1": 7, "web-1": 5, "db-1": 9, "other-1": 3, "gone-1": 2} {
		require.Equal(t, want, p.Weight("shop", pod), pod)
	}
	require.Equal(t, 1, p.Weight("elsewhere", "gone-1"))
	require.True(t, p.Resolved("shop", "api-1"))
	require.False(t, p.Resolved("shop", "gone-1"))
	key, w := p.Key("shop", "api-1", "c")
	require.Equal(t, "shop/api-1", key)
	require.Equal(t, 7, w)
	require.True(t, Policy{}.Resolved("shop", "x"), "without a metadata cache there is nothing to wait for")
}

func mustSelector(t *testing.T, s string) labels.Selector {
	sel, err := labels.Parse(s)
	require.NoError(t, err)
	return sel
}

// A key's ceiling delays what goes over it and lets a second's worth go
// at once; keys have ceilings of their own; no ceiling, no delay.
func TestCeilingDelays(t *testing.T) {
	s := New(1 << 30)
	s.SetCeilings(1<<20, 0)
	a, b := s.Join("a", 1), s.Join("b", 1)
	require.Zero(t, a.Delay(1<<20, 10), "a second's burst goes at once")
	d := a.Delay(512<<10, 10)
	require.InDelta(t, 500*time.Millisecond, d, float64(100*time.Millisecond), "half a second's bytes over")
	require.Zero(t, b.Delay(1<<20, 10), "b's ceiling is its own")
	require.Equal(t, int64(1), s.Stats().CeilingWaited.Load())

	s = New(1 << 30)
	s.SetCeilings(0, 100)
	c := s.Join("c", 1)
	require.Zero(t, c.Delay(1<<30, 1000), "a batch over the burst takes the burst")
	require.InDelta(t, 500*time.Millisecond, c.Delay(10, 50), float64(100*time.Millisecond))
	require.Zero(t, New(1).Join("d", 1).Delay(1<<30, 1<<20), "no ceiling")
}

// An annotation that is not a weight is logged once per pod and value,
// naming both, however often the pod's files ask; the pod's files take the
// configured weight.
func TestPolicyLogsAnInvalidWeightOnce(t *testing.T) {
	ann := map[string]map[string]string{
		"shop/api-1": {AnnotationWeight: "heavy"},
		"shop/api-2": {AnnotationWeight: "0"},
		"shop/ok-1":  {AnnotationWeight: "4"},
	}
	var out bytes.Buffer
	p := Policy{
		Weights: map[string]int{"shop": 2}, DefaultWeight: 1,
		Pods: func(ns, pod string) (map[string]string, map[string]string, bool) {
			a, ok := ann[ns+"/"+pod]
			return nil, a, ok
		},
		Invalid: NewInvalid(slog.New(slog.NewJSONHandler(&out, nil))),
	}
	for range 5 {
		require.Equal(t, 2, p.Weight("shop", "api-1"))
		require.Equal(t, 2, p.Weight("shop", "api-2"))
		require.Equal(t, 4, p.Weight("shop", "ok-1"))
	}
	ann["shop/api-1"] = map[string]string{AnnotationWeight: "9999"}
	require.Equal(t, 2, p.Weight("shop", "api-1"))

	type line struct{ Level, Namespace, Pod, Value string }
	var got []line
	dec := json.NewDecoder(&out)
	for dec.More() {
		var l line
		require.NoError(t, dec.Decode(&l))
		got = append(got, l)
	}
	require.Equal(t, []line{
		{"WARN", "shop", "api-1", "heavy"},
		{"WARN", "shop", "api-2", "0"},
		{"WARN", "shop", "api-1", "9999"},
	}, got)
}
