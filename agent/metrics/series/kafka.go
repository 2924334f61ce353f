package series

// A kafka output's own series (agent/kafka), under OutputLabel; the
// series every output reports are in output.go's OutputDescs.
var (
	KafkaProduceFailures = Family{Name: "sluice_output_kafka_produce_failures_total", Help: "Records a kafka output failed to produce and produces again after a backoff, by cause: the Kafka error code's name (UNKNOWN_TOPIC_OR_PARTITION, TOPIC_AUTHORIZATION_FAILED, ...), network or timeout.", Labels: []string{"cause"}}
	KafkaAuthRefusals    = Family{Name: "sluice_output_kafka_auth_refusals_total", Help: "Connections of a kafka output that a broker refused at SASL authentication (a wrong username or password, or a mechanism the broker does not take); while they go on nothing is delivered. The first refusal is logged; /api/v1/status shows the last (auth_error)."}
	KafkaTooLarge        = Family{Name: "sluice_output_kafka_too_large_records_total", Help: "Records a kafka output's topic refused as larger than its max.message.bytes within a batch; each is sent again on its own, then to the dead-letter topic if refused alone (sluice_output_documents_total, result dead_lettered; failed when that is refused too or there is none)."}
)
