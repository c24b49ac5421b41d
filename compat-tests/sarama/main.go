// Compatibility scenarios for the stock Go client sarama 1.22.1 (Debian's
// golang-github-shopify-sarama-dev), built offline in GOPATH mode by run.sh.
//
// Usage: sarama-compat BOOTSTRAP
// Prints exactly one line per scenario: "PASS sarama: NAME" or "FAIL sarama: NAME -- detail".
//
// sarama 1.22 sends no ApiVersions: the request versions follow Config.Version. V2_2_0_0 is the
// highest this sarama knows; with it sarama sends Metadata v5, Produce v3 (RecordBatch, magic
// 2), Fetch v4, ListOffsets v1, CreateTopics v2, DeleteTopics v1. The consumer-group scenarios
// are in groups.go.
package main

import (
	"bytes"
	"fmt"
	"log"
	"math/rand"
	"os"
	"strings"
	"time"

	"github.com/Shopify/sarama"
)

const client = "sarama"

var (
	bootstrap []string
	runID     = fmt.Sprintf("%08x", rand.New(rand.NewSource(time.Now().UnixNano())).Uint32())
	failed    = 0
	// All scenarios together: past this, the remaining ones fail as not run.
	runDeadline = time.Now().Add(180 * time.Second)
)

// check fails the current scenario with a formatted detail.
type checkFailure string

func check(cond bool, format string, args ...interface{}) {
	if !cond {
		panic(checkFailure(fmt.Sprintf(format, args...)))
	}
}

func must(err error, what string) {
	if err != nil {
		panic(checkFailure(fmt.Sprintf("%s: %v", what, err)))
	}
}

// scenario runs body with a deadline and prints its verdict line.
func scenario(name string, body func()) bool {
	budget := time.Until(runDeadline)
	if budget <= 0 {
		skip(name, "the run's budget of 180 s is used up")
		return false
	}
	if budget > 60*time.Second {
		budget = 60 * time.Second
	}
	done := make(chan string, 1)
	go func() {
		detail := ""
		defer func() {
			if r := recover(); r != nil {
				if cf, ok := r.(checkFailure); ok {
					detail = string(cf)
				} else {
					detail = fmt.Sprintf("panic: %v", r)
				}
			}
			done <- detail
		}()
		body()
	}()
	var detail string
	select {
	case detail = <-done:
	case <-time.After(budget):
		detail = fmt.Sprintf("scenario did not finish within %v", budget.Round(time.Millisecond))
	}
	if detail == "" {
		fmt.Printf("PASS %s: %s\n", client, name)
		return true
	}
	failed++
	fmt.Printf("FAIL %s: %s -- %s\n", client, name, strings.ReplaceAll(detail, "\n", " "))
	return false
}

func skip(name, because string) {
	failed++
	fmt.Printf("FAIL %s: %s -- not run: %s\n", client, name, because)
}

func topicName(s string) string { return "sarama-" + s + "-" + runID }

func newConfig() *sarama.Config {
	c := sarama.NewConfig()
	c.Version = sarama.V2_2_0_0
	c.ClientID = "weir-compat-sarama"
	c.Net.DialTimeout = 5 * time.Second
	c.Net.ReadTimeout = 10 * time.Second
	c.Net.WriteTimeout = 10 * time.Second
	c.Metadata.Retry.Max = 3
	c.Metadata.Retry.Backoff = 250 * time.Millisecond
	c.Admin.Timeout = 10 * time.Second
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Return.Successes = true
	c.Producer.Return.Errors = true
	c.Producer.Partitioner = sarama.NewManualPartitioner
	c.Producer.Timeout = 10 * time.Second
	c.Producer.Retry.Max = 3
	c.Producer.Retry.Backoff = 250 * time.Millisecond
	c.Consumer.Return.Errors = true
	c.Consumer.MaxWaitTime = 500 * time.Millisecond
	c.Consumer.Retry.Backoff = 250 * time.Millisecond
	return c
}

func newAdmin() sarama.ClusterAdmin {
	a, err := sarama.NewClusterAdmin(bootstrap, newConfig())
	must(err, "NewClusterAdmin")
	return a
}

func createTopic(topic string, partitions int32) {
	a := newAdmin()
	defer a.Close()
	must(a.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1}, false), "CreateTopic "+topic)
}

type sent struct {
	partition int32
	key       string
	value     string
	header    string
	ts        time.Time
	offset    int64
}

func newMessage(topic string, s *sent) *sarama.ProducerMessage {
	return &sarama.ProducerMessage{
		Topic:     topic,
		Partition: s.partition,
		Key:       sarama.StringEncoder(s.key),
		Value:     sarama.StringEncoder(s.value),
		Headers:   []sarama.RecordHeader{{Key: []byte("idx"), Value: []byte(s.header)}},
		Timestamp: s.ts,
	}
}

// consumeAll reads `want` messages of one partition from OffsetOldest, with a deadline.
func consumeAll(cl sarama.Client, topic string, partition int32, want int) []*sarama.ConsumerMessage {
	consumer, err := sarama.NewConsumerFromClient(cl)
	must(err, "NewConsumerFromClient")
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(topic, partition, sarama.OffsetOldest)
	must(err, fmt.Sprintf("ConsumePartition %s/%d from OffsetOldest", topic, partition))
	defer pc.AsyncClose()
	var got []*sarama.ConsumerMessage
	deadline := time.After(20 * time.Second)
	for len(got) < want {
		select {
		case m := <-pc.Messages():
			got = append(got, m)
		case e := <-pc.Errors():
			check(false, "partition %d consumer error after %d messages: %v", partition, len(got), e)
		case <-deadline:
			check(false, "partition %d: read %d messages within 20 s, expected %d", partition, len(got), want)
		}
	}
	return got
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: sarama-compat BOOTSTRAP")
		os.Exit(2)
	}
	bootstrap = []string{os.Args[1]}
	if os.Getenv("WEIR_COMPAT_DEBUG") == "1" {
		sarama.Logger = log.New(os.Stderr, "[sarama] ", log.Lmicroseconds)
	}

	// ---- ClusterAdmin: CreateTopic / DescribeTopics / ListTopics / DeleteTopic
	adminTopic := topicName("admin")
	created := scenario("ClusterAdmin CreateTopic (CreateTopics v2, 3 partitions)", func() {
		createTopic(adminTopic, 3)
	})
	if created {
		scenario("ClusterAdmin DescribeTopics (Metadata v5): 3 partitions led by the broker", func() {
			cl, err := sarama.NewClient(bootstrap, newConfig())
			must(err, "NewClient")
			defer cl.Close()
			brokers := cl.Brokers()
			check(len(brokers) == 1, "client sees %d brokers, expected 1", len(brokers))
			id := brokers[0].ID()
			a := newAdmin()
			defer a.Close()
			md, err := a.DescribeTopics([]string{adminTopic})
			must(err, "DescribeTopics")
			check(len(md) == 1, "DescribeTopics returned %d topics", len(md))
			t := md[0]
			check(t.Err == sarama.ErrNoError, "topic error %v", t.Err)
			check(t.Name == adminTopic, "topic name %q", t.Name)
			check(len(t.Partitions) == 3, "%d partitions, expected 3", len(t.Partitions))
			seen := map[int32]bool{}
			for _, p := range t.Partitions {
				check(p.Err == sarama.ErrNoError, "partition %d error %v", p.ID, p.Err)
				check(p.Leader == id, "partition %d leader %d, expected broker %d", p.ID, p.Leader, id)
				check(len(p.Replicas) == 1 && p.Replicas[0] == id, "partition %d replicas %v", p.ID, p.Replicas)
				check(len(p.Isr) == 1 && p.Isr[0] == id, "partition %d isr %v", p.ID, p.Isr)
				seen[p.ID] = true
			}
			check(seen[0] && seen[1] && seen[2], "partition ids %v", seen)
			ctrl, err := cl.Controller()
			must(err, "Controller")
			check(ctrl.ID() == id, "controller %d, expected broker %d", ctrl.ID(), id)
		})
		scenario("ClusterAdmin ListTopics (Metadata v0 + DescribeConfigs v0)", func() {
			a := newAdmin()
			defer a.Close()
			topics, err := a.ListTopics()
			must(err, "ListTopics")
			d, ok := topics[adminTopic]
			check(ok, "ListTopics lacks %s (has %d topics)", adminTopic, len(topics))
			check(d.NumPartitions == 3, "NumPartitions %d", d.NumPartitions)
			check(d.ReplicationFactor == 1, "ReplicationFactor %d", d.ReplicationFactor)
		})
		scenario("ClusterAdmin DeleteTopic (DeleteTopics v1)", func() {
			a := newAdmin()
			defer a.Close()
			must(a.DeleteTopic(adminTopic), "DeleteTopic")
			end := time.Now().Add(10 * time.Second)
			var last string
			for {
				md, err := a.DescribeTopics([]string{adminTopic})
				must(err, "DescribeTopics after delete")
				if len(md) == 1 && md[0].Err == sarama.ErrUnknownTopicOrPartition {
					return
				}
				if len(md) == 1 {
					last = fmt.Sprintf("error %v with %d partitions", md[0].Err, len(md[0].Partitions))
				}
				check(time.Now().Before(end), "topic still described 10 s after DeleteTopic: %s", last)
				time.Sleep(100 * time.Millisecond) // polling interval, bounded by the deadline
			}
		})
	} else {
		for _, n := range []string{"ClusterAdmin DescribeTopics (Metadata v5): 3 partitions led by the broker",
			"ClusterAdmin ListTopics (Metadata v0 + DescribeConfigs v0)", "ClusterAdmin DeleteTopic (DeleteTopics v1)"} {
			skip(n, "CreateTopic failed")
		}
	}

	// ---- SyncProducer (Produce v3, acks=all) and partition consumer (Fetch v4)
	prodTopic := topicName("produce")
	var msgs []*sent
	perPartition := map[int32]int{0: 10, 1: 5, 2: 7}
	base := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	produced := scenario("SyncProducer acks=all (Produce v3) returns partitions and offsets", func() {
		createTopic(prodTopic, 3)
		cl, err := sarama.NewClient(bootstrap, newConfig())
		must(err, "NewClient")
		defer cl.Close()
		p, err := sarama.NewSyncProducerFromClient(cl)
		must(err, "NewSyncProducerFromClient")
		defer p.Close()
		// Partitions 0 and 2: one SendMessage each; partition 1: one SendMessages batch.
		for _, part := range []int32{0, 2} {
			for i := 0; i < perPartition[part]; i++ {
				s := &sent{partition: part, key: fmt.Sprintf("k-%d-%d", part, i),
					value: fmt.Sprintf("v-%d-%d-%s", part, i, strings.Repeat("s", i)), header: fmt.Sprintf("h%d", i),
					ts: base.Add(time.Duration(len(msgs)) * time.Millisecond)}
				gotP, off, err := p.SendMessage(newMessage(prodTopic, s))
				must(err, fmt.Sprintf("SendMessage %s", s.key))
				check(gotP == part, "%s: partition %d, expected %d", s.key, gotP, part)
				check(off == int64(i), "%s: offset %d, expected %d", s.key, off, i)
				s.offset = off
				msgs = append(msgs, s)
			}
		}
		var batch []*sarama.ProducerMessage
		var batchSent []*sent
		for i := 0; i < perPartition[1]; i++ {
			s := &sent{partition: 1, key: fmt.Sprintf("k-1-%d", i), value: fmt.Sprintf("v-1-%d", i),
				header: fmt.Sprintf("h%d", i), ts: base.Add(time.Duration(len(msgs)+i) * time.Millisecond)}
			batch = append(batch, newMessage(prodTopic, s))
			batchSent = append(batchSent, s)
		}
		must(p.SendMessages(batch), "SendMessages")
		for i, m := range batch {
			check(m.Partition == 1, "batch message %d: partition %d", i, m.Partition)
			check(m.Offset == int64(i), "batch message %d: offset %d, expected %d", i, m.Offset, i)
			batchSent[i].offset = m.Offset
		}
		msgs = append(msgs, batchSent...)
	})

	if produced {
		scenario("partition consumer from OffsetOldest (Fetch v4) reads all in order", func() {
			cl, err := sarama.NewClient(bootstrap, newConfig())
			must(err, "NewClient")
			defer cl.Close()
			for part := int32(0); part < 3; part++ {
				var want []*sent
				for _, s := range msgs {
					if s.partition == part {
						want = append(want, s)
					}
				}
				got := consumeAll(cl, prodTopic, part, len(want))
				for i, m := range got {
					w := want[i]
					where := fmt.Sprintf("partition %d message %d", part, i)
					check(m.Topic == prodTopic && m.Partition == part, "%s: from %s/%d", where, m.Topic, m.Partition)
					check(m.Offset == w.offset, "%s: offset %d, expected %d", where, m.Offset, w.offset)
					check(string(m.Key) == w.key, "%s: key %q, expected %q", where, m.Key, w.key)
					check(string(m.Value) == w.value, "%s: value %q, expected %q", where, m.Value, w.value)
					check(len(m.Headers) == 1 && string(m.Headers[0].Key) == "idx" && string(m.Headers[0].Value) == w.header,
						"%s: headers %v, expected idx=%s", where, m.Headers, w.header)
					check(m.Timestamp.Equal(w.ts), "%s: timestamp %v, expected %v", where, m.Timestamp, w.ts)
				}
			}
		})
		scenario("client.GetOffset newest/oldest (ListOffsets v1)", func() {
			cl, err := sarama.NewClient(bootstrap, newConfig())
			must(err, "NewClient")
			defer cl.Close()
			for part := int32(0); part < 3; part++ {
				newest, err := cl.GetOffset(prodTopic, part, sarama.OffsetNewest)
				must(err, fmt.Sprintf("GetOffset newest partition %d", part))
				check(newest == int64(perPartition[part]), "partition %d newest %d, expected %d", part, newest, perPartition[part])
				oldest, err := cl.GetOffset(prodTopic, part, sarama.OffsetOldest)
				must(err, fmt.Sprintf("GetOffset oldest partition %d", part))
				check(oldest == 0, "partition %d oldest %d, expected 0", part, oldest)
			}
		})
	} else {
		skip("partition consumer from OffsetOldest (Fetch v4) reads all in order", "produce failed")
		skip("client.GetOffset newest/oldest (ListOffsets v1)", "produce failed")
	}

	// ---- Compressed RecordBatches (sarama 1.22 sends zstd only with Produce v7, which it lacks)
	codecs := []struct {
		name  string
		codec sarama.CompressionCodec
	}{{"gzip", sarama.CompressionGZIP}, {"snappy", sarama.CompressionSnappy}, {"lz4", sarama.CompressionLZ4}}
	for _, c := range codecs {
		c := c
		scenario("compression "+c.name+" round trip", func() {
			topic := topicName("compression-" + c.name)
			createTopic(topic, 1)
			conf := newConfig()
			conf.Producer.Compression = c.codec
			cl, err := sarama.NewClient(bootstrap, conf)
			must(err, "NewClient")
			defer cl.Close()
			p, err := sarama.NewSyncProducerFromClient(cl)
			must(err, "NewSyncProducerFromClient")
			defer p.Close()
			const n = 40
			var batch []*sarama.ProducerMessage
			for i := 0; i < n; i++ {
				batch = append(batch, &sarama.ProducerMessage{Topic: topic, Partition: 0,
					Key:   sarama.StringEncoder(fmt.Sprintf("k%d", i)),
					Value: sarama.ByteEncoder(bytes.Repeat([]byte(fmt.Sprintf("%s-%d ", c.name, i)), 30))})
			}
			must(p.SendMessages(batch), "SendMessages")
			for i, m := range batch {
				check(m.Offset == int64(i), "message %d: offset %d", i, m.Offset)
			}
			got := consumeAll(cl, topic, 0, n)
			for i, m := range got {
				check(m.Offset == int64(i), "read message %d has offset %d", i, m.Offset)
				check(string(m.Key) == fmt.Sprintf("k%d", i), "offset %d: key %q", i, m.Key)
				want := bytes.Repeat([]byte(fmt.Sprintf("%s-%d ", c.name, i)), 30)
				check(bytes.Equal(m.Value, want), "offset %d: value differs (%d bytes)", i, len(m.Value))
			}
		})
	}

	// ---- Consumer groups: see groups.go
	runGroupScenarios()

	if failed > 0 {
		os.Exit(1)
	}
}
