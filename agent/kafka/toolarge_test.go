package kafka

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
)

// createTopic creates topic with a max.message.bytes of its own, as an
// operator would with kafka-topics.sh --config.
func createTopic(t *testing.T, brokers []string, topic string, maxMessageBytes string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	require.NoError(t, err)
	defer cl.Close()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, 1, 1
	c := kmsg.NewCreateTopicsRequestTopicConfig()
	c.Name, c.Value = "max.message.bytes", &maxMessageBytes
	rt.Configs = append(rt.Configs, c)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), cl)
	require.NoError(t, err)
	require.Zero(t, resp.Topics[0].ErrorCode)
}

// A record over its topic's max.message.bytes, batched with small ones:
// the small ones are stored in the topic, the large one in the
// dead-letter topic with why and where from, it is counted, and the
// batch is acknowledged.
func TestTooLargeGoesToDeadLetterTopic(t *testing.T) {
	c := cluster(t, kfake.SeedTopics(1, "dead"))
	brokers := c.ListenAddrs()
	createTopic(t, brokers, "small", "2048")
	o := start(t, outputConfig(t, brokers, func(oc *config.Output) {
		oc.Topic, oc.DeadLetterTopic, oc.Compression = "small", "dead", "none"
	}))
	var a acks
	src := source("api-1", "uid-1")
	b := batch(src, &a, 0, 0, 20, 50)
	big := batch(src, &a, 1, 20, 1, 4096)
	w := o.NewWriter()
	write(t, w, b)
	write(t, w, big)
	write(t, w, batch(src, &a, 2, 21, 20, 50))
	waitFor(t, "all batches acknowledged", func() bool { return a.n.Load() == 3 })

	small := consume(t, brokers, 40, []string{"small"})
	require.Len(t, small, 40)
	for _, m := range small {
		require.Less(t, len(m.value), 200)
	}
	dead := consume(t, brokers, 1, []string{"dead"})
	require.Len(t, dead, 1)
	require.Greater(t, len(dead[0].value), 4096)
	require.Equal(t, "small", dead[0].headers[TopicHeader])
	require.Contains(t, dead[0].headers[ErrorHeader], "MESSAGE_TOO_LARGE")
	require.Len(t, dead[0].headers[IDHeader], record.IDLen)
	st := o.Stats()
	require.EqualValues(t, 40, st.DocsSent)
	require.EqualValues(t, 1, st.DocsDeadLettered)
	require.Zero(t, st.DocsFailed)
	require.Positive(t, st.TooLarge)
}

// Without a dead-letter topic the record is lost, but counted and logged,
// and its batch acknowledged so the file's checkpoint moves on.
func TestTooLargeWithoutDeadLetterTopicIsCounted(t *testing.T) {
	c := cluster(t)
	brokers := c.ListenAddrs()
	createTopic(t, brokers, "small", "2048")
	o := start(t, outputConfig(t, brokers, func(oc *config.Output) { oc.Topic, oc.Compression = "small", "none" }))
	var a acks
	write(t, o.NewWriter(), batch(source("api-1", "uid-1"), &a, 0, 0, 1, 4096))
	waitFor(t, "the batch acknowledged", func() bool { return a.n.Load() == 1 })
	st := o.Stats()
	require.EqualValues(t, 1, st.DocsFailed)
	require.Zero(t, st.DocsSent+st.DocsDeadLettered)
}
