package config

import (
	"net"
	"strconv"
	"strings"

	"github.com/sluicelog/sluice/agent/config/indexname"
)

// Kafka are the keys of a kafka output (agent/kafka), inline in Output.
// tls and retry are shared with elasticsearch outputs (Output).
type Kafka struct {
	// Brokers are the bootstrap brokers, host:port each.
	Brokers []string `yaml:"brokers"`
	// Topic takes the {field} placeholders and date verbs of index.
	Topic string `yaml:"topic"`
	// PartitionKey is what a record's Kafka key is made of, so that the
	// records of one key stay in order in one partition: pod_id (default),
	// pod_name, namespace_name, container_id or none.
	PartitionKey string `yaml:"partition_key"`
	// Compression of record batches: none, gzip, snappy (default), lz4, zstd.
	Compression string `yaml:"compression"`
	// Acks the producer waits for: all (default), leader or none.
	Acks string `yaml:"acks"`
	// Idempotent turns the idempotent producer on; it needs acks: all and
	// is on by default with it.
	Idempotent *bool `yaml:"idempotent"`
	// MaxMessageBytes is the largest record batch the producer builds,
	// like the producer's max.request.size; keep it at or below the
	// topics' max.message.bytes.
	MaxMessageBytes ByteSize `yaml:"max_message_bytes"`
	// BufferBytes bounds the documents the output holds until the brokers
	// acknowledge them (part of memory_limit's share for outputs); sized
	// from memory_limit when unset (BufferSized).
	BufferBytes ByteSize `yaml:"buffer_bytes"`
	BufferSized bool     `yaml:"-"` // BufferBytes came from memory_limit
	// DeadLetterTopic takes a record that its topic refuses as too large;
	// "" counts and logs it as lost instead.
	DeadLetterTopic string    `yaml:"dead_letter_topic"`
	SASL            KafkaSASL `yaml:"sasl"`
}

// KafkaSASL authenticates to the brokers.
type KafkaSASL struct {
	// Mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; "" = no SASL.
	Mechanism    string `yaml:"mechanism"`
	Username     string `yaml:"username"`
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
}

// The kafka output's defaults.
const (
	DefaultKafkaMaxMessageBytes = 1000012 // Kafka's own default of max.message.bytes
	DefaultKafkaBufferBytes     = 8 << 20
	// MinSizedKafkaBufferBytes is the smallest buffer_bytes sized from
	// memory_limit: about one full record batch of the default
	// max_message_bytes.
	MinSizedKafkaBufferBytes = 1 << 20
)

func defaultKafka(o *Output) {
	k := &o.Kafka
	if k.PartitionKey == "" {
		k.PartitionKey = "pod_id"
	}
	if k.Compression == "" {
		k.Compression = "snappy"
	}
	if k.Acks == "" {
		k.Acks = "all"
	}
	if k.Idempotent == nil {
		on := k.Acks == "all"
		k.Idempotent = &on
	}
	if k.MaxMessageBytes == 0 {
		k.MaxMessageBytes = DefaultKafkaMaxMessageBytes
	}
	if k.BufferBytes == 0 {
		// The largest; sizeMemory lowers it when memory_limit cannot
		// hold it. A refused value comes here too, and is not sized
		// (memoryPlan skips an output whose value was refused).
		k.BufferBytes, k.BufferSized = DefaultKafkaBufferBytes, true
	}
}

// validateKafka checks a kafka output. Messages never quote a secret.
func validateKafka(p *problems, o Output, at func(k ...any) []any) {
	k := o.Kafka
	if len(k.Brokers) == 0 {
		p.add("at least one broker (host:port) is needed", at("brokers"))
	}
	for j, b := range k.Brokers {
		host, port, err := net.SplitHostPort(b)
		n, perr := strconv.Atoi(port)
		if err != nil || host == "" || perr != nil || n < 1 || n > 65535 || strings.Contains(b, "://") {
			p.add("must be host:port (e.g. kafka-0.kafka:9092), got %q", at("brokers", j), b)
		}
	}
	if k.Topic == "" {
		p.add("must be set (a topic name; {field} placeholders as in index)", at("topic"))
	} else if _, err := indexname.Parse(k.Topic); err != nil {
		p.add("%v", at("topic"), err)
	} else if bad := strings.Trim(literalOf(k.Topic), "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"); bad != "" {
		p.add("a topic name takes only letters, digits, '.', '_' and '-', got %q", at("topic"), k.Topic)
	}
	if t := k.DeadLetterTopic; t != "" && (len(t) > 249 || strings.Trim(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "") {
		p.add("must be a topic name (letters, digits, '.', '_', '-'; up to 249), got %q", at("dead_letter_topic"), t)
	}
	oneOf(p, k.PartitionKey, at("partition_key"), "pod_id", "pod_name", "namespace_name", "container_id", "none")
	oneOf(p, k.Compression, at("compression"), "none", "gzip", "snappy", "lz4", "zstd")
	oneOf(p, k.Acks, at("acks"), "all", "leader", "none")
	if k.Idempotent != nil && *k.Idempotent && k.Acks != "all" {
		p.add("the idempotent producer needs acks: all (set idempotent: false to use acks: %s)", at("idempotent"), k.Acks)
	}
	if k.MaxMessageBytes < 1024 || k.MaxMessageBytes > 256<<20 {
		p.add("must be between 1Ki and 256Mi, got %v", at("max_message_bytes"), k.MaxMessageBytes)
	}
	if k.BufferBytes < 64<<10 || k.BufferBytes > 1<<30 {
		p.add("must be between 64Ki and 1Gi, got %v", at("buffer_bytes"), k.BufferBytes)
	}
	validateKafkaSASL(p, k.SASL, at)
	checkClientTLS(p, o.TLS, at)
}

func validateKafkaSASL(p *problems, s KafkaSASL, at func(k ...any) []any) {
	if s == (KafkaSASL{}) {
		return
	}
	switch s.Mechanism {
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
	case "":
		p.add("must be set when sasl is (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)", at("sasl", "mechanism"))
	default:
		p.add("must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, got %q", at("sasl", "mechanism"), s.Mechanism)
	}
	if s.Username == "" {
		p.add("must be set with sasl", at("sasl", "username"))
	}
	switch {
	case s.Password != "" && s.PasswordFile != "":
		p.add("set only one of password and password_file", at("sasl", "password_file"))
	case s.Password == "" && s.PasswordFile == "":
		p.add("set password or password_file with sasl", at("sasl", "password"))
	}
	checkSecretFile(p, s.PasswordFile, at("sasl", "password_file"))
}

// oneOf reports v unless it is one of want.
func oneOf(p *problems, v string, at []any, want ...string) {
	for _, w := range want {
		if v == w {
			return
		}
	}
	p.add("must be one of %s, got %q", at, strings.Join(want, ", "), v)
}

// literalOf is the literal text of a checked name template.
func literalOf(tmpl string) string {
	segs, _ := indexname.Parse(tmpl)
	var b strings.Builder
	for _, s := range segs {
		if s.Kind == indexname.Literal {
			b.WriteString(s.Lit)
		}
	}
	return b.String()
}
