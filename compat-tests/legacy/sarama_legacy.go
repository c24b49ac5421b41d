// sarama 1.22.1 at its old protocol versions: the user's example program (SyncProducer with
// WaitForAll and the random partitioner, then a Consumer with a PartitionConsumer per
// partition), with the default config (Version V0_8_2_0) and with Version V0_10_0_0, and with
// producer compression.
//
// What sarama 1.22 sends (it sends no ApiVersions; the versions follow Config.Version):
//
//	V0_8_2_0 (default): Metadata v0, Produce v0 with magic-0 message sets, ListOffsets v0,
//	                    Fetch v0
//	V0_10_0_0:          Metadata v1, Produce v2 with magic-1 message sets, ListOffsets v0,
//	                    Fetch v2
//
// A compressed producer sends, per partition and request, ONE wrapper message of the codec
// holding the messages: at V0_10_0_0 a magic-1 wrapper whose inner messages carry relative
// offsets 0..n-1 (KIP-31) and whose timestamp is the first inner message's; at V0_8_2_0 a
// magic-0 wrapper whose inner offsets are 0 (sarama leaves them unset). Snappy is xerial-framed
// (eapache/go-xerial-snappy), lz4 a standard LZ4 frame (pierrec/lz4).
// config.Validate refuses lz4 below V0_10_0_0 ("lz4 compression requires Version >=
// V0_10_0_0"), so lz4 runs only at 0.10.0; zstd needs Produce v7 (V2_1_0_0), not tested here.
package main

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/Shopify/sarama"
)

type profile struct {
	name     string // scenario prefix
	tag      string // for the topic name
	version  sarama.KafkaVersion
	codec    sarama.CompressionCodec
	produceV int16
	fetchV   int16
	magic    int8
}

func (p profile) codecName() string {
	if p.codec == sarama.CompressionNone {
		return "uncompressed"
	}
	return p.codec.String()
}

// sentMsg is one message as the producer sent it and where SendMessage(s) put it.
type sentMsg struct {
	partition int32
	offset    int64
	key       []byte // nil for the messages without a key
	value     string
	ts        time.Time // zero when the message carries none (magic 0)
}

const saramaMessages = 60
const saramaPartitions = 3

func saramaProfiles() []profile {
	def := sarama.NewConfig().Version
	return []profile{
		{name: fmt.Sprintf("sarama 1.22.1 default config (Version %v)", def), tag: "s082", version: def,
			codec: sarama.CompressionNone, produceV: 0, fetchV: 0, magic: 0},
		{name: "sarama 1.22.1 Version 0.10.0", tag: "s0100", version: sarama.V0_10_0_0,
			codec: sarama.CompressionNone, produceV: 2, fetchV: 2, magic: 1},
		{name: "sarama 1.22.1 Version 0.8.2 gzip", tag: "s082-gzip", version: sarama.V0_8_2_0,
			codec: sarama.CompressionGZIP, produceV: 0, fetchV: 0, magic: 0},
		{name: "sarama 1.22.1 Version 0.8.2 snappy", tag: "s082-snappy", version: sarama.V0_8_2_0,
			codec: sarama.CompressionSnappy, produceV: 0, fetchV: 0, magic: 0},
		{name: "sarama 1.22.1 Version 0.10.0 gzip", tag: "s0100-gzip", version: sarama.V0_10_0_0,
			codec: sarama.CompressionGZIP, produceV: 2, fetchV: 2, magic: 1},
		{name: "sarama 1.22.1 Version 0.10.0 snappy", tag: "s0100-snappy", version: sarama.V0_10_0_0,
			codec: sarama.CompressionSnappy, produceV: 2, fetchV: 2, magic: 1},
		{name: "sarama 1.22.1 Version 0.10.0 lz4", tag: "s0100-lz4", version: sarama.V0_10_0_0,
			codec: sarama.CompressionLZ4, produceV: 2, fetchV: 2, magic: 1},
	}
}

func runSaramaScenarios() {
	for _, p := range saramaProfiles() {
		p := p
		topic := topicName(p.tag)
		var sent []*sentMsg
		how := "one SendMessage per message, as the example does"
		if p.codec != sarama.CompressionNone {
			how = "one SendMessages batch, so one " + p.codecName() + " wrapper per partition"
		}
		produced := scenario(fmt.Sprintf("%s: SyncProducer (WaitForAll, random partitioner) sends %d messages to %d partitions (Produce v%d, magic-%d %s message sets; %s): acknowledged at offsets 0..n-1 of each partition",
			p.name, saramaMessages, saramaPartitions, p.produceV, p.magic, p.codecName(), how), func() {
			createTopic(topic, saramaPartitions)
			sent = saramaProduce(p, topic, saramaMessages)
		})
		consumeName := fmt.Sprintf("%s: Consumer with a PartitionConsumer per partition from OffsetOldest (ListOffsets v0, Fetch v%d) reads every message exactly once, at the offset SendMessage returned, with its key and value%s",
			p.name, p.fetchV, map[bool]string{true: " and timestamp", false: ""}[p.magic == 1])
		rawName := fmt.Sprintf("%s: the Fetch v%d answer (sarama's Broker.Fetch) holds only magic-%d messages (%s), offsets 0..n-1, keys and values as sent",
			p.name, p.fetchV, p.magic, map[bool]string{true: "uncompressed", false: p.codecName() + " wrappers, the codec the producer used"}[p.codec == sarama.CompressionNone])
		if !produced {
			skip(consumeName, "the produce scenario failed")
			skip(rawName, "the produce scenario failed")
			continue
		}
		scenario(consumeName, func() { saramaConsumeAll(p, topic, sent) })
		scenario(rawName, func() { checkRawFetch(p.version, p.fetchV, p.magic, p.codec, topic, []int32{0, 1, 2}, sent) })
	}
}

// producerConfig is the example's configuration: NewConfig() with WaitForAll, successes
// returned and the random partitioner; the profile's Version (none for the default) and codec.
func producerConfig(version sarama.KafkaVersion, codec sarama.CompressionCodec) *sarama.Config {
	config := sarama.NewConfig()
	config.Version = version
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Producer.Return.Successes = true
	config.Producer.Partitioner = sarama.NewRandomPartitioner
	config.Producer.Compression = codec
	return config
}

func saramaProduce(p profile, topic string, n int) []*sentMsg {
	config := producerConfig(p.version, p.codec)
	batch := p.codec != sarama.CompressionNone
	if batch {
		// All messages in one Produce request: each partition's set is one wrapper of many
		// messages. The timer only flushes what a hiccup left behind.
		config.Producer.Flush.Messages = n
		config.Producer.Flush.Frequency = 100 * time.Millisecond
	}
	must(config.Validate(), "config.Validate")
	producer, err := sarama.NewSyncProducer(bootstrap, config)
	must(err, "NewSyncProducer")
	defer producer.Close()

	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	var sent []*sentMsg
	var msgs []*sarama.ProducerMessage
	for i := 0; i < n; i++ {
		s := &sentMsg{value: fmt.Sprintf("%s message %03d %s ", p.tag, i, runID)}
		s.value += strings.Repeat("compressible text ", i%7)
		msg := &sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder(s.value)}
		if i%2 == 1 {
			s.key = []byte(fmt.Sprintf("key-%03d", i))
			msg.Key = sarama.ByteEncoder(s.key)
		}
		if p.magic == 1 {
			// Magic 1 carries a timestamp: set it, to check it comes back.
			s.ts = base.Add(time.Duration(i) * time.Millisecond)
			msg.Timestamp = s.ts
		}
		sent = append(sent, s)
		msgs = append(msgs, msg)
	}
	if batch {
		if err := producer.SendMessages(msgs); err != nil {
			if pe, ok := err.(sarama.ProducerErrors); ok && len(pe) > 0 {
				check(false, "SendMessages: %d of %d messages failed, the first with: %v", len(pe), n, pe[0].Err)
			}
			must(err, "SendMessages")
		}
		for i, m := range msgs {
			sent[i].partition, sent[i].offset = m.Partition, m.Offset
		}
	} else {
		for i, m := range msgs {
			part, off, err := producer.SendMessage(m)
			must(err, fmt.Sprintf("SendMessage of message %d of %d", i+1, n))
			sent[i].partition, sent[i].offset = part, off
		}
	}
	// Offsets: each partition's messages at 0, 1, 2, ... in the order they were sent.
	next := map[int32]int64{}
	for i, s := range sent {
		check(s.partition >= 0 && s.partition < saramaPartitions, "message %d acknowledged on partition %d", i, s.partition)
		check(s.offset == next[s.partition], "message %d acknowledged at partition %d offset %d, expected %d",
			i, s.partition, s.offset, next[s.partition])
		next[s.partition]++
	}
	check(len(next) == saramaPartitions, "the random partitioner used partitions %v of %d", next, saramaPartitions)
	return sent
}

// byPartition groups sent messages by partition, in offset order.
func byPartition(sent []*sentMsg) map[int32][]*sentMsg {
	out := map[int32][]*sentMsg{}
	for _, s := range sent {
		out[s.partition] = append(out[s.partition], s)
	}
	for _, l := range out {
		sort.Slice(l, func(i, j int) bool { return l[i].offset < l[j].offset })
	}
	return out
}

func consumerConfig(version sarama.KafkaVersion) *sarama.Config {
	config := sarama.NewConfig()
	config.Version = version
	// Errors on the Errors() channel instead of only in sarama's log: a failing fetch shows
	// the client's own error in the detail.
	config.Consumer.Return.Errors = true
	return config
}

// readPartition reads len(want) messages of one partition from OffsetOldest and checks each:
// offset, key, value (and timestamp when wantTS). A partition error fails at once.
func readPartition(consumer sarama.Consumer, topic string, part int32, want []*sentMsg, wantTS bool, what string) {
	pc, err := consumer.ConsumePartition(topic, part, sarama.OffsetOldest)
	must(err, fmt.Sprintf("ConsumePartition %s partition %d from OffsetOldest", what, part))
	defer pc.AsyncClose()
	deadline := time.After(10 * time.Second)
	for i := 0; i < len(want); i++ {
		var m *sarama.ConsumerMessage
		select {
		case m = <-pc.Messages():
		case e := <-pc.Errors():
			check(false, "partition %d: the PartitionConsumer reported %q after %d of %d messages", part, errText(e.Err), i, len(want))
		case <-deadline:
			check(false, "partition %d: %d of %d messages read within 10 s", part, i, len(want))
		}
		w := want[i]
		where := fmt.Sprintf("partition %d message %d", part, i)
		check(m.Partition == part, "%s came from partition %d", where, m.Partition)
		check(m.Offset == w.offset, "%s: offset %d, expected %d (value %q)", where, m.Offset, w.offset, short(m.Value))
		check(string(m.Value) == w.value, "%s at offset %d: value %q, expected %q", where, m.Offset, short(m.Value), short([]byte(w.value)))
		check(bytes.Equal(m.Key, w.key) && (m.Key == nil) == (w.key == nil), "%s at offset %d: key %q, expected %q", where, m.Offset, m.Key, w.key)
		check(len(m.Headers) == 0, "%s at offset %d carries %d headers: only RecordBatches (magic 2) have headers, the answer was not converted to a message set",
			where, m.Offset, len(m.Headers))
		if wantTS {
			check(m.Timestamp.Equal(w.ts), "%s at offset %d: timestamp %v, expected %v", where, m.Offset,
				m.Timestamp.UTC().Format(time.RFC3339Nano), w.ts.UTC().Format(time.RFC3339Nano))
		}
	}
	hwm := pc.HighWaterMarkOffset()
	check(hwm == int64(len(want)), "partition %d: high watermark %d after reading all, expected %d", part, hwm, len(want))
}

func saramaConsumeAll(p profile, topic string, sent []*sentMsg) {
	consumer, err := sarama.NewConsumer(bootstrap, consumerConfig(p.version))
	must(err, "NewConsumer")
	defer consumer.Close()
	parts := byPartition(sent)
	for part := int32(0); part < saramaPartitions; part++ {
		readPartition(consumer, topic, part, parts[part], p.magic == 1, p.name)
	}
}

// fetched is one message of a raw Fetch answer, with its absolute offset.
type fetched struct {
	offset int64
	msg    *sarama.Message
}

// checkRawFetch sends one Fetch of version fetchV from offset 0 per partition with sarama's
// Broker.Fetch and checks what the broker put in it: only message sets (no RecordBatch), every
// message of magic `magic`, uncompressed or wrappers of `codec`, and all of `sent`.
func checkRawFetch(version sarama.KafkaVersion, fetchV int16, magic int8, codec sarama.CompressionCodec, topic string, partitions []int32, sent []*sentMsg) {
	cl, err := sarama.NewClient(bootstrap, consumerConfig(version))
	must(err, "NewClient")
	defer cl.Close()
	parts := byPartition(sent)
	for _, part := range partitions {
		want := parts[part]
		got := rawFetch(cl, fetchV, magic, codec, topic, part)
		check(len(got) == len(want), "partition %d: the Fetch v%d answer holds %d messages, expected %d", part, fetchV, len(got), len(want))
		for i, f := range got {
			w := want[i]
			where := fmt.Sprintf("partition %d fetched message %d", part, i)
			check(f.offset == w.offset, "%s: offset %d, expected %d", where, f.offset, w.offset)
			check(string(f.msg.Value) == w.value, "%s: value %q, expected %q", where, short(f.msg.Value), short([]byte(w.value)))
			check(bytes.Equal(f.msg.Key, w.key) && (f.msg.Key == nil) == (w.key == nil), "%s: key %q, expected %q", where, f.msg.Key, w.key)
			if magic == 1 && !w.ts.IsZero() {
				check(f.msg.Timestamp.Equal(w.ts), "%s: timestamp %v, expected %v", where, f.msg.Timestamp, w.ts)
			}
		}
	}
}

// rawFetch fetches one partition from offset 0 and flattens the answer's messages (wrappers
// opened) after checking their format.
func rawFetch(cl sarama.Client, fetchV int16, magic int8, codec sarama.CompressionCodec, topic string, part int32) []fetched {
	b, err := cl.Leader(topic, part)
	must(err, fmt.Sprintf("Leader of partition %d", part))
	req := &sarama.FetchRequest{Version: fetchV, MaxWaitTime: 100, MinBytes: 1}
	req.AddBlock(topic, part, 0, 1<<20)
	resp, err := b.Fetch(req)
	must(err, fmt.Sprintf("Fetch v%d of partition %d", fetchV, part))
	blk := resp.GetBlock(topic, part)
	check(blk != nil, "the Fetch v%d answer has no block for partition %d", fetchV, part)
	check(blk.Err == sarama.ErrNoError, "the Fetch v%d answer for partition %d has error %d: %v", fetchV, part, int16(blk.Err), blk.Err)
	var out []fetched
	for i, rs := range blk.RecordsSet {
		check(rs.RecordBatch == nil, "partition %d: record set %d of the Fetch v%d answer is a RecordBatch (magic 2); a Fetch v%d client needs magic-%d message sets",
			part, i, fetchV, fetchV, magic)
		check(rs.MsgSet != nil, "partition %d: record set %d is empty", part, i)
		for _, mb := range rs.MsgSet.Messages {
			m := mb.Msg
			check(m.Version == magic, "partition %d: message at offset %d has magic %d, expected %d", part, mb.Offset, m.Version, magic)
			if m.Codec == sarama.CompressionNone {
				check(codec == sarama.CompressionNone, "partition %d: message at offset %d is uncompressed, expected a %v wrapper", part, mb.Offset, codec)
				out = append(out, fetched{mb.Offset, m})
				continue
			}
			check(m.Codec == codec, "partition %d: wrapper at offset %d is %v, expected %v", part, mb.Offset, m.Codec, codec)
			check(m.Set != nil && len(m.Set.Messages) > 0, "partition %d: %v wrapper at offset %d holds no messages", part, m.Codec, mb.Offset)
			inner := m.Set.Messages
			last := inner[len(inner)-1].Offset
			for _, in := range inner {
				check(in.Msg.Version == magic, "partition %d: a message inside the wrapper at offset %d has magic %d, expected %d",
					part, mb.Offset, in.Msg.Version, magic)
				check(in.Msg.Codec == sarama.CompressionNone, "partition %d: a message inside the wrapper at offset %d is itself compressed (%v)",
					part, mb.Offset, in.Msg.Codec)
				off := in.Offset // magic 0: absolute offsets inside the wrapper
				if magic == 1 {
					off = mb.Offset - last + in.Offset // magic 1: relative, the wrapper has the last one's
				}
				out = append(out, fetched{off, in.Msg})
			}
		}
	}
	return out
}

func short(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "..."
	}
	return string(b)
}
