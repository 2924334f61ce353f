package config

import (
	"slices"

	"github.com/sluicelog/sluice/agent/budget"
)

// sizeMemory sizes from memory_limit what the config leaves unset (an
// Elasticsearch output's bulk.max_bytes, agent/budget.Plan.BulkBytes; a
// kafka output's buffer_bytes, sizeKafkaBuffers; an otlp output's
// bulk.max_bytes, from 1MiB halved down to 64KiB) and
// refuses a config whose memory_limit cannot hold what it asks for: the
// agent would go over memory_limit under load, which it promises never to
// do. Skipped when a value the rule reads was refused already.
func (c *Config) sizeMemory(p *problems) {
	base, ok := c.memoryPlan(p)
	if !ok {
		return
	}
	// Unset otlp bodies shrink only once the kafka buffers are at their
	// smallest: an otlp request's fixed cost is a receiver's.
	otlpBody := int64(DefaultOTLPMaxBytes)
	kafkaBuffer, plan := c.sizeKafkaBuffers(c.withOTLPBodies(base, otlpBody))
	for !plan.Fits() && otlpBody > MinSizedOTLPMaxBytes {
		otlpBody /= 2
		kafkaBuffer, plan = c.sizeKafkaBuffers(c.withOTLPBodies(base, otlpBody))
	}
	bodies := plan.BulkBytes()
	if plan.Fits() {
		for i := range c.Outputs {
			o := &c.Outputs[i]
			switch {
			case o.Type == "elasticsearch" && o.Bulk.Sized:
				o.Bulk.MaxBytes = ByteSize(bodies)
			case o.Type == "otlp" && o.Bulk.Sized:
				o.Bulk.MaxBytes = ByteSize(otlpBody)
			case o.Type == "kafka" && o.Kafka.BufferSized:
				o.Kafka.BufferBytes = ByteSize(kafkaBuffer)
			}
		}
		return
	}
	need := ByteSize(plan.Needed())
	if i := c.bodiesTooLarge(plan); i >= 0 {
		o := c.Outputs[i]
		p.add("%v needs memory_limit: %v or more here (memory_limit is %v; with %d pipeline workers and %d bulk workers the output holds about %d bodies at once, and batches for those in flight): raise memory_limit, or lower bulk.max_bytes or leave it unset to size it from memory_limit",
			[]any{"outputs", i, "bulk", "max_bytes"}, o.Bulk.MaxBytes, need, c.MemoryLimit, max(c.Workers, 1), o.Bulk.Workers, bodiesHeld(max(c.Workers, 1), o.Bulk.Workers))
		return
	}
	if i := c.kafkaBufferTooLarge(base); i >= 0 {
		o := c.Outputs[i]
		p.add("%v needs memory_limit: %v or more here (memory_limit is %v; a kafka output holds buffer_bytes of documents until the brokers acknowledge them and as much again for the producer's record batches, and batches for those in flight): raise memory_limit, or lower buffer_bytes or leave it unset to size it from memory_limit",
			[]any{"outputs", i, "buffer_bytes"}, o.Kafka.BufferBytes, need, c.MemoryLimit)
		return
	}
	p.add("%v is too small to run: with these inputs and outputs (%d workers) the agent needs %v or more (its binary's pages, its working set, the tap's share, the smallest bulk bodies and kafka buffers and the batches they refer to)",
		[]any{"memory_limit"}, c.MemoryLimit, max(c.Workers, 1), need)
}

// withOTLPBodies is plan with the otlp outputs that leave bulk.max_bytes
// unset at size (memoryPlan puts every otlp output in plan.Outputs, in
// the order of c.Outputs, as elasticsearch outputs are).
func (c *Config) withOTLPBodies(plan budget.Plan, size int64) budget.Plan {
	plan.Outputs = slices.Clone(plan.Outputs)
	j := 0
	for _, o := range c.Outputs {
		switch o.Type {
		case "otlp":
			if o.Bulk.Sized {
				plan.Outputs[j].MaxBytes = otlpHeld(size)
			}
			j++
		case "elasticsearch":
			j++
		}
	}
	return plan
}

// otlpHeld is what an otlp request of maxBytes costs the plan: its
// records' groups and then its body, each up to maxBytes (agent/otlp
// BufferBytes).
func otlpHeld(maxBytes int64) int64 { return 2 * maxBytes }

// sizeKafkaBuffers is base with the kafka outputs' buffers: those set
// as they are, those unset at the largest size from 8MiB down to 1MiB
// (halving) with which the plan fits, or the smallest if none does.
func (c *Config) sizeKafkaBuffers(base budget.Plan) (int64, budget.Plan) {
	size := int64(DefaultKafkaBufferBytes)
	plan := c.withKafkaBuffers(base, size, true)
	for !plan.Fits() && size > MinSizedKafkaBufferBytes {
		size /= 2
		plan = c.withKafkaBuffers(base, size, true)
	}
	return size, plan
}

// withKafkaBuffers adds the kafka outputs' buffers to plan as their
// runtime counts them (agent/kafka BufferBytes and InFlightBytes): twice
// buffer_bytes outside the batches, buffer_bytes in flight. Unset ones
// are at sized; set ones count only if set is true.
func (c *Config) withKafkaBuffers(plan budget.Plan, sized int64, set bool) budget.Plan {
	for _, o := range c.Outputs {
		if o.Type != "kafka" {
			continue
		}
		b := int64(o.Kafka.BufferBytes)
		switch {
		case o.Kafka.BufferSized:
			b = sized
		case !set:
			continue
		}
		plan.Buffers += 2 * b
		plan.InFlight += b
	}
	return plan
}

// kafkaBufferTooLarge is the first kafka output whose buffer_bytes is
// set, when base would fit without the set ones (and unset ones at their
// smallest); -1 if none.
func (c *Config) kafkaBufferTooLarge(base budget.Plan) int {
	if !c.withKafkaBuffers(base, MinSizedKafkaBufferBytes, false).Fits() {
		return -1
	}
	for i, o := range c.Outputs {
		if o.Type == "kafka" && !o.Kafka.BufferSized {
			return i
		}
	}
	return -1
}

// bodiesTooLarge is the first output whose bulk.max_bytes is set, when
// plan would fit with every body sized from memory_limit instead (else
// memory_limit itself is too small); -1 if none.
func (c *Config) bodiesTooLarge(plan budget.Plan) int {
	sized := plan
	sized.Outputs = make([]budget.Bulk, len(plan.Outputs))
	for i, o := range plan.Outputs {
		sized.Outputs[i] = budget.Bulk{Workers: o.Workers}
	}
	j := 0
	for _, o := range c.Outputs {
		switch o.Type {
		case "otlp":
			sized.Outputs[j].MaxBytes = otlpHeld(MinSizedOTLPMaxBytes)
			j++
		case "elasticsearch":
			j++
		}
	}
	if !sized.Fits() {
		return -1
	}
	for i, o := range c.Outputs {
		if (o.Type == "elasticsearch" || o.Type == "otlp") && !o.Bulk.Sized {
			return i
		}
	}
	return -1
}

// memoryPlan is what shares memory_limit out; false when a value it reads
// was refused (its error stands, this one would only add noise).
func (c *Config) memoryPlan(p *problems) (budget.Plan, bool) {
	if c.MemoryLimit < 1<<20 || p.seen["memory_limit"] || p.seen["workers"] || c.Workers < 0 {
		return budget.Plan{}, false
	}
	plan := budget.Plan{Limit: int64(c.MemoryLimit), Writers: max(c.Workers, 1), Frames: c.HasSyslogTCP()}
	for i, o := range c.Outputs {
		if o.Type == "otlp" {
			// Never sized: an otlp request is its records' groups and
			// then its body, each up to max_bytes (agent/otlp BufferBytes).
			plan.Outputs = append(plan.Outputs, budget.Bulk{MaxBytes: otlpHeld(int64(o.Bulk.MaxBytes)), Workers: o.Bulk.Workers})
			continue
		}
		if o.Type == "kafka" {
			key := keyPath([]any{"outputs", i, "buffer_bytes"})
			if p.seen[key] || o.Kafka.BufferBytes < 64<<10 || o.Kafka.BufferBytes > 1<<30 {
				return budget.Plan{}, false
			}
			continue // withKafkaBuffers
		}
		if o.Type != "elasticsearch" {
			continue
		}
		key := keyPath([]any{"outputs", i, "bulk"})
		if p.seen[key+".max_bytes"] || p.seen[key+".workers"] || o.Bulk.Workers < 1 || o.Bulk.Workers > 64 ||
			o.Bulk.MaxBytes < 1024 || o.Bulk.MaxBytes > MaxBulkBytes {
			return budget.Plan{}, false
		}
		b := budget.Bulk{MaxBytes: int64(o.Bulk.MaxBytes), Workers: o.Bulk.Workers}
		if o.Bulk.Sized {
			b.MaxBytes = 0
		}
		plan.Outputs = append(plan.Outputs, b)
	}
	return plan, true
}

// bodiesHeld is about how many bodies an output holds at once
// (budget.OutputBytes), for messages.
func bodiesHeld(writers, senders int) int {
	return (5 * (writers + 3*senders)) / 4
}
