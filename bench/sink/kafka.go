package sink

import "github.com/sluicelog/sluice/agent/record"

// Kafka checks one record a consumer read from the kafka output's topic
// as check does a bulk document: its value is the document, exactly once
// by its file and sequence number; id is its sluice.id header, which must
// be a record id (a record without one is bad).
func (s *Sink) Kafka(value, id []byte) {
	if len(id) != record.IDLen {
		s.docs.Add(1)
		s.bad.Add(1)
		str := "record without a sluice.id header: " + string(value)
		s.firstBad.CompareAndSwap(nil, &str)
		return
	}
	s.check(value)
}

// KafkaFetch counts one fetch of the consumer, the requests of the
// sink's report.
func (s *Sink) KafkaFetch(bytes int64) {
	s.requests.Add(1)
	s.bodyBytes.Add(bytes)
}
