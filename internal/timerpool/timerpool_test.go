package timerpool

import (
	"testing"
	"time"
)

func TestRecycledTimerHasNoStaleTick(t *testing.T) {
	tm := Get(time.Millisecond)
	time.Sleep(5 * time.Millisecond) // it fired; nobody read the tick
	Put(tm)
	tm = Get(time.Hour)
	defer Put(tm)
	select {
	case <-tm.C:
		t.Fatal("a recycled timer delivered the tick of its previous wait")
	case <-time.After(20 * time.Millisecond):
	}
}

func TestGetFires(t *testing.T) {
	tm := Get(time.Millisecond)
	defer Put(tm)
	select {
	case <-tm.C:
	case <-time.After(5 * time.Second):
		t.Fatal("timer did not fire")
	}
}

// TestPutStops fails if Put leaves the timer running: the recycled
// timer's own Stop then finds nothing to stop.
func TestPutStops(t *testing.T) {
	tm := Get(time.Hour)
	Put(tm)
	if tm.Stop() {
		t.Fatal("Put left the timer running")
	}
}

// TestGetPutAllocatesNothing fails if Put does not recycle: each Get then
// makes a new timer. Under the race detector sync.Pool drops items on
// purpose; `make test-alloc` runs it without.
func TestGetPutAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items; `make test-alloc` runs this without it")
	}
	Put(Get(time.Hour))
	if n := testing.AllocsPerRun(100, func() { Put(Get(time.Hour)) }); n != 0 {
		t.Fatalf("Get after Put allocates %.1f times", n)
	}
}
