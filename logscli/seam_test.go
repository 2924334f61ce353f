package logscli

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSeamHistoryStopsWhereLiveBegins: the store has lines 1-3 and 6-7 of
// a container searchable but not yet 4-5 (a later batch refreshed first);
// live began at line 4. History prints 1-3 only, so 4-7 come live, in
// order; another container without live records is printed whole.
func TestSeamHistoryStopsWhereLiveBegins(t *testing.T) {
	line := func(pod string, i int) string {
		return fmt.Sprintf(`{"@timestamp":"2026-11-25T10:00:0%dZ","kubernetes":{"namespace_name":"n","pod_name":%q,"container_name":"c"},"log":"%d"}`, i, pod, i)
	}
	s := newSeam(false)
	s.noteLive(mustEntry(t, line("a", 4)))
	s.noteLive(mustEntry(t, line("a", 5)))
	var printed []int
	for _, i := range []int{1, 2, 3, 6, 7} {
		e := mustEntry(t, line("a", i))
		if !s.live(e) {
			s.add(e)
			printed = append(printed, i)
		}
	}
	require.Equal(t, []int{1, 2, 3}, printed)
	require.False(t, s.live(mustEntry(t, line("b", 9))), "no live record of b yet")
	require.False(t, s.live(mustEntry(t, line("a", 4))), "the first live record's own time is history's")

	s.historyDone()
	s.noteLive(mustEntry(t, line("b", 1)))
	require.False(t, s.live(mustEntry(t, line("b", 2))), "after history, nothing is noted")
}
