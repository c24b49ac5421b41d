// kafka-go 0.2.1 (Debian's golang-github-segmentio-kafka-go-dev): its Writer and Reader.
//
// What kafka-go 0.2.1 sends (fixed versions, no ApiVersions): CreateTopics v0, Metadata v1,
// Produce v2 with magic-1 message sets (one request per partition and batch), ListOffsets v1,
// Fetch v2. Compressed, a batch is ONE magic-1 wrapper with offset 0 and timestamp 0 holding
// magic-1 messages at relative offsets 0..n-1; its snappy is RAW snappy (no xerial framing),
// its lz4 a standard LZ4 frame (pierrec/lz4), gzip plain gzip.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	kafka "github.com/segmentio/kafka-go"
	kgogzip "github.com/segmentio/kafka-go/gzip"
	kgolz4 "github.com/segmentio/kafka-go/lz4"
	kgosnappy "github.com/segmentio/kafka-go/snappy"
)

// logTail keeps the last lines a kafka-go Writer or Reader logged (its errors), for details.
type logTail struct {
	mu    sync.Mutex
	lines []string
}

func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range strings.Split(strings.TrimSpace(string(p)), "\n") {
		l.lines = append(l.lines, s)
		if len(l.lines) > 3 {
			l.lines = l.lines[1:]
		}
	}
	if debug {
		os.Stderr.Write(p)
	}
	return len(p), nil
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) == 0 {
		return "nothing logged"
	}
	return strings.Join(l.lines, " | ")
}

type kgoSent struct {
	key, value string
	ts         time.Time
}

const kgoPartitions = 3
const kgoMessages = 30

func runKafkaGoScenarios() {
	// ---- Topic creation with kafka-go's own CreateTopics v0 (a fallback keeps the round trip
	// testable if it fails).
	topic := topicName("kafkago")
	created := scenario("kafka-go 0.2.1 Conn.CreateTopics (CreateTopics v0) creates a 3-partition topic; Conn.ReadPartitions (Metadata v1) lists its 3 partitions", func() {
		conn, err := kafka.DialContext(context.Background(), "tcp", bootstrap[0])
		must(err, "kafka.Dial")
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(15 * time.Second))
		must(conn.CreateTopics(kafka.TopicConfig{Topic: topic, NumPartitions: kgoPartitions, ReplicationFactor: 1}), "CreateTopics")
		var parts []kafka.Partition
		end := time.Now().Add(10 * time.Second)
		for {
			parts, err = conn.ReadPartitions(topic)
			if err == nil && len(parts) == kgoPartitions {
				break
			}
			check(time.Now().Before(end), "ReadPartitions 10 s after CreateTopics: %d partitions, error %v", len(parts), err)
			time.Sleep(100 * time.Millisecond) // polling interval, bounded by the deadline
		}
	})
	if !created {
		fmt.Fprintln(os.Stderr, "kafka-go CreateTopics failed; creating the topic with sarama's ClusterAdmin instead")
		func() {
			defer func() { recover() }()
			createTopic(topic, kgoPartitions)
		}()
	}

	// ---- Writer (round robin over 3 partitions) then a Reader per partition.
	writeName := fmt.Sprintf("kafka-go 0.2.1 Writer (RoundRobin, RequiredAcks -1) writes %d keyed messages with timestamps to %d partitions (Produce v2, magic-1 message sets) without error", kgoMessages, kgoPartitions)
	var sent []kgoSent
	written := scenario(writeName, func() {
		sent = kgoWrite(topic, nil, kgoMessages, "plain")
	})
	readName := "kafka-go 0.2.1 Reader per partition (ListOffsets v1, Fetch v2) reads every message exactly once: offsets 0..n-1 in write order, keys, values, timestamps"
	if written {
		scenario(readName, func() { kgoReadAll(topic, kgoPartitions, sent) })
	} else {
		skip(readName, "the Writer scenario failed")
	}

	// ---- Compressed: one partition, one wrapper per batch.
	codecs := []struct {
		name  string
		codec kafka.CompressionCodec
	}{
		{"gzip", kgogzip.NewCompressionCodec()},
		{"snappy (raw, unframed)", kgosnappy.NewCompressionCodec()},
		{"lz4", kgolz4.NewCompressionCodec()},
	}
	for _, c := range codecs {
		c := c
		topic := topicName("kafkago-" + strings.Fields(c.name)[0])
		scenario(fmt.Sprintf("kafka-go 0.2.1 Writer with %s compression (a magic-1 wrapper, offset 0, timestamp 0, relative inner offsets) then Reader (Fetch v2): %d messages round trip", c.name, kgoMessages), func() {
			createTopic(topic, 1)
			s := kgoWrite(topic, c.codec, kgoMessages, strings.Fields(c.name)[0])
			kgoReadAll(topic, 1, s)
		})
	}
}

func kgoWrite(topic string, codec kafka.CompressionCodec, n int, tag string) []kgoSent {
	errs := &logTail{}
	w := kafka.NewWriter(kafka.WriterConfig{
		Brokers:          bootstrap,
		Topic:            topic,
		Balancer:         &kafka.RoundRobin{},
		RequiredAcks:     -1,
		BatchTimeout:     50 * time.Millisecond,
		MaxAttempts:      3,
		CompressionCodec: codec,
		ReadTimeout:      10 * time.Second,
		WriteTimeout:     10 * time.Second,
		ErrorLogger:      log.New(errs, "", 0),
	})
	defer w.Close()
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Millisecond)
	var sent []kgoSent
	var msgs []kafka.Message
	for i := 0; i < n; i++ {
		s := kgoSent{key: fmt.Sprintf("kgo-key-%03d", i),
			value: fmt.Sprintf("kafka-go %s message %03d %s %s", tag, i, runID, strings.Repeat("abc", i%5)),
			ts:    base.Add(time.Duration(i) * time.Millisecond)}
		sent = append(sent, s)
		msgs = append(msgs, kafka.Message{Key: []byte(s.key), Value: []byte(s.value), Time: s.ts})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		check(false, "WriteMessages: %s (writer log: %s)", errText(err), errs)
	}
	st := w.Stats()
	check(st.Messages == int64(n), "writer stats: %d messages written, expected %d (errors %d)", st.Messages, n, st.Errors)
	return sent
}

// kgoReadAll reads every partition with its own Reader and checks that every sent message
// arrives exactly once: per partition at offsets 0..n-1, in the order written.
func kgoReadAll(topic string, partitions int, sent []kgoSent) {
	index := map[string]int{}
	for i, s := range sent {
		index[s.value] = i
	}
	seen := map[string]bool{}
	total := 0
	for p := 0; p < partitions; p++ {
		// How many the partition holds: its last offset (ListOffsets v1).
		conn, err := kafka.DialLeader(context.Background(), "tcp", bootstrap[0], topic, p)
		must(err, fmt.Sprintf("DialLeader partition %d", p))
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		first, last, err := conn.ReadOffsets()
		conn.Close()
		must(err, fmt.Sprintf("ReadOffsets partition %d (ListOffsets v1)", p))
		check(first == 0, "partition %d: first offset %d", p, first)
		total += int(last)

		errs := &logTail{}
		r := kafka.NewReader(kafka.ReaderConfig{
			Brokers: bootstrap, Topic: topic, Partition: p,
			MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 200 * time.Millisecond,
			ErrorLogger: log.New(errs, "", 0),
		})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		prev := -1
		for o := int64(0); o < last; o++ {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				cancel()
				r.Close()
				check(false, "partition %d: ReadMessage after %d of %d messages: %s (reader log: %s)", p, o, last, errText(err), errs)
			}
			check(m.Offset == o, "partition %d: message %d has offset %d", p, o, m.Offset)
			i, ok := index[string(m.Value)]
			check(ok, "partition %d offset %d: value %q was never written", p, o, short(m.Value))
			check(!seen[string(m.Value)], "partition %d offset %d: value %q read twice", p, o, short(m.Value))
			seen[string(m.Value)] = true
			check(i > prev, "partition %d offset %d: message %d read after message %d (not in write order)", p, o, i, prev)
			prev = i
			check(string(m.Key) == sent[i].key, "partition %d offset %d: key %q, expected %q", p, o, m.Key, sent[i].key)
			check(m.Time.Equal(sent[i].ts), "partition %d offset %d: time %v, expected %v", p, o, m.Time, sent[i].ts)
		}
		cancel()
		r.Close()
	}
	check(total == len(sent), "the partitions hold %d messages, %d were written", total, len(sent))
	var missing []int
	for i, s := range sent {
		if !seen[s.value] {
			missing = append(missing, i)
		}
	}
	sort.Ints(missing)
	check(len(missing) == 0, "messages never read: %v", missing)
}
