// Mixed old and new clients on one topic.
//
// mixed-read: confluent-kafka (mixed_produce.py) wrote RecordBatch v2 with headers and explicit
// timestamps: partition 0 uncompressed, partition 1 lz4, partition 2 zstd. sarama at 0.8.2
// (Fetch v0) and at 0.10.0 (Fetch v2) must read partitions 0 and 1 converted to magic-0 /
// magic-1 message sets (headers dropped; at magic 1 the timestamps kept; partition 1 as lz4
// wrappers), and get UNSUPPORTED_COMPRESSION_TYPE (76) for partition 2: neither old format can
// carry zstd.
//
// Note for magic 0 + lz4: Kafka writes magic-0 lz4 wrappers with the broken frame header
// checksum of KAFKA-3160; sarama 1.22 decompresses with pierrec/lz4, which verifies that
// checksum ("lz4: invalid header checksum"). The 0.8/0.9 Java clients ignore the checksum at
// magic 0 and librdkafka rewrites it before decoding, so a correct checksum suits every client.
//
// sarama-write: sarama at its default 0.8.2 writes keyed messages (Produce v0, magic 0) for the
// Java consumer (LegacyJavaRead.java) and lists them in a TSV file.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/Shopify/sarama"
)

// expected is one line of the TSV mixed_produce.py writes:
// partition, offset, codec, timestamp (ms), key, value, header count.
type expected struct {
	partition int32
	offset    int64
	codec     string
	tsMillis  int64
	key       string
	value     string
	headers   int
}

func readExpected(path string) []expected {
	f, err := os.Open(path)
	must(err, "open "+path)
	defer f.Close()
	var out []expected
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		check(len(cols) == 7, "%s: line %q has %d columns", path, sc.Text(), len(cols))
		p, e1 := strconv.Atoi(cols[0])
		o, e2 := strconv.ParseInt(cols[1], 10, 64)
		ts, e3 := strconv.ParseInt(cols[3], 10, 64)
		h, e4 := strconv.Atoi(cols[6])
		check(e1 == nil && e2 == nil && e3 == nil && e4 == nil, "%s: bad line %q", path, sc.Text())
		out = append(out, expected{int32(p), o, cols[2], ts, cols[4], cols[5], h})
	}
	must(sc.Err(), "reading "+path)
	return out
}

func runMixedRead(topic, path string) {
	var exp []expected
	loaded := false
	func() {
		defer func() {
			if r := recover(); r != nil {
				fmt.Fprintf(os.Stderr, "cannot read %s: %v\n", path, r)
			}
		}()
		exp = readExpected(path)
		loaded = len(exp) > 0
	}()

	codecOf := map[int32]string{}
	sent := map[string][]*sentMsg{}
	for _, e := range exp {
		codecOf[e.partition] = e.codec
		sent[e.codec] = append(sent[e.codec], &sentMsg{partition: e.partition, offset: e.offset,
			key: []byte(e.key), value: e.value, ts: time.Unix(0, e.tsMillis*int64(time.Millisecond))})
	}
	partOf := func(codec string) int32 {
		for p, c := range codecOf {
			if c == codec {
				return p
			}
		}
		return -1
	}
	versions := []struct {
		name    string
		version sarama.KafkaVersion
		fetchV  int16
		magic   int8
	}{
		{fmt.Sprintf("sarama 1.22.1 default config (Version %v)", sarama.NewConfig().Version), sarama.NewConfig().Version, 0, 0},
		{"sarama 1.22.1 Version 0.10.0", sarama.V0_10_0_0, 2, 1},
	}
	for _, v := range versions {
		v := v
		for _, c := range []struct {
			codec string
			sc    sarama.CompressionCodec
		}{{"none", sarama.CompressionNone}, {"lz4", sarama.CompressionLZ4}} {
			c := c
			what := "uncompressed"
			if c.codec != "none" {
				what = c.codec
			}
			readName := fmt.Sprintf("%s: PartitionConsumer (Fetch v%d) reads confluent-kafka's %s partition (RecordBatch v2 with headers): every message once at its offset, key, value%s, no headers",
				v.name, v.fetchV, what, map[bool]string{true: ", timestamp", false: ""}[v.magic == 1])
			rawName := fmt.Sprintf("%s: the Fetch v%d answer for confluent-kafka's %s partition holds only magic-%d messages (%s), all of them",
				v.name, v.fetchV, what, v.magic, map[bool]string{true: "uncompressed", false: c.codec + " wrappers"}[c.codec == "none"])
			part := partOf(c.codec)
			if !loaded || part < 0 {
				skip(readName, "confluent-kafka's messages are missing (its produce failed)")
				skip(rawName, "confluent-kafka's messages are missing (its produce failed)")
				continue
			}
			want := sent[c.codec]
			scenario(readName, func() {
				consumer, err := sarama.NewConsumer(bootstrap, consumerConfig(v.version))
				must(err, "NewConsumer")
				defer consumer.Close()
				readPartition(consumer, topic, part, want, v.magic == 1, v.name)
			})
			scenario(rawName, func() {
				checkRawFetch(v.version, v.fetchV, v.magic, c.sc, topic, []int32{part}, want)
			})
		}
		zstdName := fmt.Sprintf("%s: PartitionConsumer (Fetch v%d) on confluent-kafka's zstd partition gets UNSUPPORTED_COMPRESSION_TYPE (76): no old message format carries zstd",
			v.name, v.fetchV)
		part := partOf("zstd")
		if !loaded || part < 0 {
			skip(zstdName, "confluent-kafka's messages are missing (its produce failed)")
			continue
		}
		n := len(sent["zstd"])
		scenario(zstdName, func() {
			consumer, err := sarama.NewConsumer(bootstrap, consumerConfig(v.version))
			must(err, "NewConsumer")
			defer consumer.Close()
			pc, err := consumer.ConsumePartition(topic, part, sarama.OffsetOldest)
			must(err, fmt.Sprintf("ConsumePartition partition %d from OffsetOldest", part))
			defer pc.AsyncClose()
			select {
			case e := <-pc.Errors():
				check(e.Err == sarama.ErrUnsupportedCompressionType, "the PartitionConsumer reported %q, expected %q",
					errText(e.Err), sarama.ErrUnsupportedCompressionType)
			case m := <-pc.Messages():
				check(false, "read a message (offset %d, value %q, %d headers) from the zstd partition of %d messages instead of getting UNSUPPORTED_COMPRESSION_TYPE",
					m.Offset, short(m.Value), len(m.Headers), n)
			case <-time.After(10 * time.Second):
				check(false, "neither a message nor an error within 10 s")
			}
		})
	}
}

func runSaramaWrite(topic, out string) {
	const n = 40
	def := sarama.NewConfig().Version
	scenario(fmt.Sprintf("sarama 1.22.1 default config (Version %v): SyncProducer (WaitForAll, random partitioner) writes %d keyed messages to 2 partitions for the Java consumer (Produce v0, magic 0)", def, n), func() {
		createTopic(topic, 2)
		config := producerConfig(def, sarama.CompressionNone)
		producer, err := sarama.NewSyncProducer(bootstrap, config)
		must(err, "NewSyncProducer")
		defer producer.Close()
		var lines []string
		next := map[int32]int64{}
		for i := 0; i < n; i++ {
			key := fmt.Sprintf("sarama-key-%03d", i)
			value := fmt.Sprintf("sarama 0.8.2 message %03d for java %s", i, runID)
			part, off, err := producer.SendMessage(&sarama.ProducerMessage{Topic: topic,
				Key: sarama.StringEncoder(key), Value: sarama.StringEncoder(value)})
			must(err, fmt.Sprintf("SendMessage of message %d of %d", i+1, n))
			check(off == next[part], "message %d acknowledged at partition %d offset %d, expected %d", i, part, off, next[part])
			next[part]++
			lines = append(lines, fmt.Sprintf("%d\t%d\t%s\t%s\n", part, off, key, value))
		}
		check(len(next) == 2, "the random partitioner used partitions %v of 2", next)
		must(os.WriteFile(out, []byte(strings.Join(lines, "")), 0o644), "writing "+out)
	})
}
