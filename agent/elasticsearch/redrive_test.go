package elasticsearch

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/document"
)

// deadLettersAfterCollision ships two pods whose labels collide under the
// built-in template alone (app, then app.kubernetes.io/name): the second
// pod's documents end in the dead-letter index. It returns their ids.
func deadLettersAfterCollision(t *testing.T, f *faultyBulk) []string {
	t.Helper()
	cfg := streamConfig(f.srv.URL)
	off := false
	cfg.InstallTemplates = &off
	o := startOutput(t, cfg)
	acks := newAckRecorder()
	w := o.NewWriter()
	write(t, w, newTestBatch(nsSource("payments", "a-1", map[string]string{"app": "a"}), acks, 0, 0, 2, nil))
	acks.waitAcked(t, 0) // a's labels are mapped first
	b := nsSource("payments", "b-1", map[string]string{"app.kubernetes.io/name": "b"})
	write(t, w, newTestBatch(b, acks, 1, 10, 3, nil))
	acks.waitAcked(t, 0, 1)
	require.Equal(t, int64(3), o.Stats().DocsDeadLettered)
	var ids []string
	for n := 10; n < 13; n++ {
		ids = append(ids, idOf(b, n))
	}
	return ids
}

// fixMapping is the operator's fix: install sluice's templates (labels
// flattened) and roll the data stream over.
func fixMapping(t *testing.T, f *faultyBulk) {
	t.Helper()
	d := &DataStreams{Type: "logs", Dataset: datasetContainers}
	require.NoError(t, d.ParseNamespace("default"))
	mt := buildTemplates(d, 0, serverInfo{known: true, major: 8, minor: 17}, false)
	f.mu.Lock()
	defer f.mu.Unlock()
	st, _, reason := f.model.putComponent(mt.componentName, mt.component)
	require.Equal(t, 200, st, reason)
	st, _, reason = f.model.putTemplate(mt.indexName, mt.index)
	require.Equal(t, 200, st, reason)
	f.model.rollover("logs-sluice.container_logs-default")
}

func redrive(t *testing.T, f *faultyBulk, opts RedriveOptions) RedriveSummary {
	t.Helper()
	o, err := New(streamConfig(f.srv.URL), nil)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	enc := document.New(nil, func() int64 { return time.Now().UnixNano() })
	sum, err := o.Redrive(ctx, enc, opts, nil)
	require.NoError(t, err)
	return sum
}

// After a mapping fix, redrive returns the dead letters to their data
// stream under their original _id and deletes them; a dry run first
// changes nothing; a dead letter that comes back again (a crash between
// the store and the delete) is a 409, not a second copy.
func TestRedriveAfterMappingFix(t *testing.T) {
	f := newModelES(t, "8.17.0")
	ids := deadLettersAfterCollision(t, f)
	fixMapping(t, f)
	stream := f.modelTarget("logs-sluice.container_logs-default")
	dl := f.modelTarget("sluice-dead-letter")

	sum := redrive(t, f, RedriveOptions{DryRun: true, PageSize: 2})
	require.Equal(t, RedriveSummary{Total: 3, Read: 3}, sum)
	f.mu.Lock()
	require.Len(t, dl.docs, 3)
	require.Len(t, stream.docs, 2)
	saved := dl.docs[ids[0]]
	f.mu.Unlock()

	sum = redrive(t, f, RedriveOptions{PageSize: 2})
	require.Equal(t, RedriveSummary{Total: 3, Read: 3, Stored: 3, Deleted: 3}, sum)
	require.Zero(t, sum.Left(false))
	f.mu.Lock()
	require.Empty(t, dl.docs)
	require.Len(t, stream.docs, 5)
	for _, id := range ids {
		var d struct {
			Log        string `json:"log"`
			Kubernetes struct {
				Labels map[string]string `json:"labels"`
			} `json:"kubernetes"`
		}
		require.NoError(t, json.Unmarshal(stream.docs[id].Doc, &d), id)
		require.Equal(t, "b", d.Kubernetes.Labels["app.kubernetes.io/name"])
	}
	dl.docs[ids[0]] = saved // back, as after a crash before the delete
	f.mu.Unlock()

	sum = redrive(t, f, RedriveOptions{})
	require.Equal(t, RedriveSummary{Total: 1, Read: 1, Duplicate: 1, Deleted: 1}, sum)
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Len(t, stream.docs, 5, "stored once")
	require.Empty(t, dl.docs)
}

// What is refused again stays in the dead-letter index and is counted;
// --since leaves older dead letters alone.
func TestRedriveLeavesWhatFails(t *testing.T) {
	f := newModelES(t, "8.17.0")
	ids := deadLettersAfterCollision(t, f) // no fix: they collide again
	sum := redrive(t, f, RedriveOptions{})
	require.Equal(t, RedriveSummary{Total: 3, Read: 3, Failing: 3}, sum)
	require.Equal(t, int64(3), sum.Left(false))
	f.mu.Lock()
	require.Len(t, f.model.targets["sluice-dead-letter"].docs, 3)
	f.mu.Unlock()

	// The test records are from 2026-11-25T10:00:00.010Z on.
	sum = redrive(t, f, RedriveOptions{Since: baseTime.Add(11 * time.Millisecond)})
	require.Equal(t, int64(2), sum.Total, strconv.Itoa(len(ids)))
	_, err := New(streamConfig(f.srv.URL), nil)
	require.NoError(t, err)
}

func TestRedriveWithoutDeadLetterIndex(t *testing.T) {
	f := newModelES(t, "8.17.0")
	o, err := New(streamConfig(f.srv.URL), nil)
	require.NoError(t, err)
	_, err = o.Redrive(context.Background(), document.New(nil, time.Now().UnixNano), RedriveOptions{}, nil)
	require.ErrorContains(t, err, "not found")
}
