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
