// Compatibility scenarios for the stock Apache Kafka Java client (kafka-clients 4.1.1).
//
// Usage: java -cp 'build/classes:libs/*' WeirCompat BOOTSTRAP
// The consumer-group scenarios live in WeirGroups.java and run after the ones here.
// Prints exactly one line per scenario: "PASS java: NAME" or "FAIL java: NAME -- detail".
// Every scenario runs under its own deadline, and every client call has a bounded timeout, so
// a broken broker makes scenarios fail instead of hanging.

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.TopicListing;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class WeirCompat {
    static final String CLIENT = "java";
    static final long SCENARIO_TIMEOUT_MS = 60_000;
    /** All scenarios together: past this, the remaining ones fail as not run. */
    static final long RUN_BUDGET_MS = 240_000;
    static final long RUN_DEADLINE = System.currentTimeMillis() + RUN_BUDGET_MS;
    static final long CALL_TIMEOUT_MS = 15_000;
    static final String RUN_ID = UUID.randomUUID().toString().substring(0, 8);

    static String bootstrap;
    static int passed = 0;
    static int failed = 0;

    interface Body {
        void run() throws Exception;
    }

    /** A failed assertion: its message is the scenario's detail. */
    static final class Check extends RuntimeException {
        Check(String msg) {
            super(msg);
        }
    }

    static void check(boolean cond, String msg) {
        if (!cond) throw new Check(msg);
    }

    static final ExecutorService EXEC = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r);
        t.setDaemon(true);
        return t;
    });

    static boolean scenario(String name, Body body) {
        long budget = Math.min(SCENARIO_TIMEOUT_MS, RUN_DEADLINE - System.currentTimeMillis());
        if (budget <= 0) {
            skip(name, "the run's budget of " + RUN_BUDGET_MS / 1000 + " s is used up");
            return false;
        }
        Future<?> f = EXEC.submit(() -> {
            body.run();
            return null;
        });
        String detail = null;
        try {
            f.get(budget, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            detail = "scenario did not finish within " + budget + " ms";
        } catch (ExecutionException e) {
            detail = describe(e.getCause());
        } catch (InterruptedException e) {
            detail = "interrupted";
        }
        if (detail == null) {
            passed++;
            System.out.println("PASS " + CLIENT + ": " + name);
        } else {
            failed++;
            System.out.println("FAIL " + CLIENT + ": " + name + " -- " + detail.replace('\n', ' '));
        }
        System.out.flush();
        return detail == null;
    }

    static void skip(String name, String because) {
        failed++;
        System.out.println("FAIL " + CLIENT + ": " + name + " -- not run: " + because);
        System.out.flush();
    }

    static String describe(Throwable t) {
        if (t instanceof Check) return t.getMessage();
        StringBuilder sb = new StringBuilder();
        Throwable cur = t;
        int depth = 0;
        while (cur != null && depth < 4) {
            if (depth > 0) sb.append(" <- caused by: ");
            sb.append(cur.getClass().getName()).append(": ").append(cur.getMessage());
            if (cur.getCause() == cur) break;
            cur = cur.getCause();
            depth++;
        }
        return sb.toString();
    }

    static String topicName(String scenario) {
        return "java-" + scenario + "-" + RUN_ID;
    }

    // ---------------------------------------------------------------- clients

    static Properties common() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("client.id", "weir-compat-java");
        p.put("request.timeout.ms", "10000");
        p.put("default.api.timeout.ms", "15000");
        p.put("socket.connection.setup.timeout.ms", "5000");
        p.put("socket.connection.setup.timeout.max.ms", "10000");
        p.put("reconnect.backoff.max.ms", "1000");
        p.put("retry.backoff.max.ms", "1000");
        return p;
    }

    static Admin admin() {
        Properties p = common();
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
        return Admin.create(p);
    }

    /** A producer with the client's defaults (idempotent, acks=all), bounded in time only. */
    static KafkaProducer<String, String> producer(String compression) {
        Properties p = common();
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "15000");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "20000");
        if (compression != null) p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
        return new KafkaProducer<>(p);
    }

    /** A consumer without group.id: explicit assignment only, no commits. */
    static KafkaConsumer<String, String> consumer() {
        Properties p = common();
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "500");
        return new KafkaConsumer<>(p);
    }

    static <T> T get(org.apache.kafka.common.KafkaFuture<T> f) throws Exception {
        return f.get(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    }

    static void createTopic(Admin admin, String topic, int partitions) throws Exception {
        get(admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all());
    }

    /** Polls an assigned consumer until `expected` records arrived or the deadline passes. */
    static List<ConsumerRecord<String, String>> readAll(KafkaConsumer<String, String> c, int expected, long deadlineMs) {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        long end = System.currentTimeMillis() + deadlineMs;
        while (out.size() < expected && System.currentTimeMillis() < end) {
            ConsumerRecords<String, String> recs = c.poll(Duration.ofMillis(500));
            for (ConsumerRecord<String, String> r : recs) out.add(r);
        }
        return out;
    }

    static String header(ConsumerRecord<?, ?> r, String key) {
        Header h = r.headers().lastHeader(key);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    // -------------------------------------------------------------- scenarios

    static class Sent {
        final String key, value, hdr;
        final long timestamp;
        RecordMetadata md;

        Sent(String key, String value, String hdr, long timestamp) {
            this.key = key;
            this.value = value;
            this.hdr = hdr;
            this.timestamp = timestamp;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: WeirCompat BOOTSTRAP");
            System.exit(2);
        }
        bootstrap = args[0];

        // ---- Admin: createTopics / describeTopics / listTopics / deleteTopics
        String adminTopic = topicName("admin");
        Admin admin = admin();
        boolean created = scenario("admin createTopics (3 partitions)", () -> {
            createTopic(admin, adminTopic, 3);
        });
        if (created) {
            scenario("admin describeTopics (3 partitions, leader is the broker node)", () -> {
                Collection<Node> nodes = get(admin.describeCluster().nodes());
                check(nodes.size() == 1, "describeCluster returned " + nodes.size() + " nodes: " + nodes);
                Node broker = nodes.iterator().next();
                Map<String, TopicDescription> d = get(admin.describeTopics(List.of(adminTopic)).allTopicNames());
                TopicDescription td = d.get(adminTopic);
                check(td != null, "topic missing from describeTopics: " + d.keySet());
                check(td.name().equals(adminTopic), "name " + td.name());
                check(!td.isInternal(), "topic reported as internal");
                check(td.partitions().size() == 3, "partition count " + td.partitions().size() + ", expected 3");
                for (int i = 0; i < 3; i++) {
                    TopicPartitionInfo pi = td.partitions().get(i);
                    check(pi.partition() == i, "partition index " + pi.partition() + " at position " + i);
                    check(pi.leader() != null && pi.leader().id() == broker.id(),
                            "partition " + i + " leader " + pi.leader() + ", expected broker node " + broker);
                    check(pi.replicas().size() == 1 && pi.replicas().get(0).id() == broker.id(),
                            "partition " + i + " replicas " + pi.replicas());
                    check(pi.isr().size() == 1 && pi.isr().get(0).id() == broker.id(),
                            "partition " + i + " isr " + pi.isr());
                }
            });
            scenario("admin listTopics", () -> {
                Set<String> names = get(admin.listTopics().names());
                check(names.contains(adminTopic), "listTopics lacks " + adminTopic + ": " + names);
                Map<String, TopicListing> listings = get(admin.listTopics().namesToListings());
                TopicListing l = listings.get(adminTopic);
                check(l != null && !l.isInternal(), "listing " + l);
            });
            scenario("admin deleteTopics", () -> {
                get(admin.deleteTopics(List.of(adminTopic)).all());
                long end = System.currentTimeMillis() + 10_000;
                Set<String> names;
                do {
                    names = get(admin.listTopics().names());
                    if (!names.contains(adminTopic)) break;
                    Thread.sleep(100); // polling interval, bounded by the deadline above
                } while (System.currentTimeMillis() < end);
                check(!names.contains(adminTopic), "topic still listed 10 s after deleteTopics: " + names);
            });
        } else {
            skip("admin describeTopics (3 partitions, leader is the broker node)", "createTopics failed");
            skip("admin listTopics", "createTopics failed");
            skip("admin deleteTopics", "createTopics failed");
        }

        // ---- Default producer (idempotent, acks=all), keyed records with headers
        String prodTopic = topicName("produce");
        final int n = 30;
        final List<Sent> sent = new ArrayList<>();
        boolean produced = scenario("producer default settings (idempotent, acks=all) keyed sends get offsets", () -> {
            createTopic(admin, prodTopic, 3);
            try (KafkaProducer<String, String> p = producer(null)) {
                long base = System.currentTimeMillis() - 60_000;
                List<Future<RecordMetadata>> fs = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    Sent s = new Sent("key-" + (i % 7), "value-" + i + "-" + "x".repeat(i), "h-" + i, base + i);
                    RecordHeaders hs = new RecordHeaders();
                    hs.add("idx", s.hdr.getBytes(StandardCharsets.UTF_8));
                    hs.add("empty", new byte[0]);
                    fs.add(p.send(new ProducerRecord<>(prodTopic, null, s.timestamp, s.key, s.value, hs)));
                    sent.add(s);
                }
                p.flush();
                for (int i = 0; i < n; i++) sent.get(i).md = fs.get(i).get(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            }
            // Offsets per partition must be 0,1,2,... in send order; equal keys share a partition.
            Map<Integer, Long> next = new HashMap<>();
            Map<String, Integer> keyPartition = new HashMap<>();
            for (Sent s : sent) {
                check(s.md.topic().equals(prodTopic), "metadata topic " + s.md.topic());
                check(s.md.partition() >= 0 && s.md.partition() < 3, "partition " + s.md.partition());
                check(s.md.hasOffset(), "no offset returned for " + s.key);
                long want = next.getOrDefault(s.md.partition(), 0L);
                check(s.md.offset() == want, "record " + s.value.substring(0, Math.min(12, s.value.length()))
                        + " got offset " + s.md.offset() + " on partition " + s.md.partition() + ", expected " + want);
                next.put(s.md.partition(), want + 1);
                Integer kp = keyPartition.putIfAbsent(s.key, s.md.partition());
                check(kp == null || kp == s.md.partition(), "key " + s.key + " went to partitions " + kp + " and " + s.md.partition());
            }
        });

        if (produced) {
            scenario("consumer assign+seekToBeginning reads every record in order (keys, values, headers, timestamps)", () -> {
                try (KafkaConsumer<String, String> c = consumer()) {
                    List<TopicPartition> tps = List.of(new TopicPartition(prodTopic, 0),
                            new TopicPartition(prodTopic, 1), new TopicPartition(prodTopic, 2));
                    c.assign(tps);
                    c.seekToBeginning(tps);
                    List<ConsumerRecord<String, String>> got = readAll(c, n, 20_000);
                    check(got.size() == n, "read " + got.size() + " records within 20 s, expected " + n);
                    Map<Integer, List<Sent>> byPartition = new HashMap<>();
                    for (Sent s : sent) byPartition.computeIfAbsent(s.md.partition(), k -> new ArrayList<>()).add(s);
                    Map<Integer, Integer> idx = new HashMap<>();
                    for (ConsumerRecord<String, String> r : got) {
                        int i = idx.getOrDefault(r.partition(), 0);
                        List<Sent> exp = byPartition.getOrDefault(r.partition(), List.of());
                        check(i < exp.size(), "unexpected extra record on partition " + r.partition() + " at offset " + r.offset());
                        Sent s = exp.get(i);
                        idx.put(r.partition(), i + 1);
                        String where = "partition " + r.partition() + " offset " + r.offset();
                        check(r.offset() == s.md.offset(), where + ": expected offset " + s.md.offset());
                        check(s.key.equals(r.key()), where + ": key " + r.key() + ", expected " + s.key);
                        check(s.value.equals(r.value()), where + ": value " + r.value() + ", expected " + s.value);
                        check(s.hdr.equals(header(r, "idx")), where + ": header idx " + header(r, "idx") + ", expected " + s.hdr);
                        Header empty = r.headers().lastHeader("empty");
                        check(empty != null && empty.value() != null && empty.value().length == 0,
                                where + ": empty header " + (empty == null ? "missing" : Arrays.toString(empty.value())));
                        check(r.timestamp() == s.timestamp, where + ": timestamp " + r.timestamp() + ", expected " + s.timestamp);
                        check(r.timestampType() == org.apache.kafka.common.record.TimestampType.CREATE_TIME,
                                where + ": timestamp type " + r.timestampType());
                    }
                }
            });
            scenario("admin listOffsets earliest/latest", () -> {
                Map<Integer, Long> counts = new HashMap<>();
                for (Sent s : sent) counts.merge(s.md.partition(), 1L, Long::sum);
                for (String kind : List.of("earliest", "latest")) {
                    Map<TopicPartition, OffsetSpec> req = new HashMap<>();
                    for (int p = 0; p < 3; p++)
                        req.put(new TopicPartition(prodTopic, p), kind.equals("earliest") ? OffsetSpec.earliest() : OffsetSpec.latest());
                    Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> res = get(admin.listOffsets(req).all());
                    for (int p = 0; p < 3; p++) {
                        ListOffsetsResult.ListOffsetsResultInfo info = res.get(new TopicPartition(prodTopic, p));
                        check(info != null, kind + ": no result for partition " + p);
                        long want = kind.equals("earliest") ? 0 : counts.getOrDefault(p, 0L);
                        check(info.offset() == want, kind + " offset of partition " + p + " is " + info.offset() + ", expected " + want);
                    }
                }
            });
        } else {
            skip("consumer assign+seekToBeginning reads every record in order (keys, values, headers, timestamps)", "produce failed");
            skip("admin listOffsets earliest/latest", "produce failed");
        }

        // ---- Compression codecs: produce (idempotent defaults) and read back
        for (String codec : List.of("gzip", "snappy", "lz4", "zstd")) {
            scenario("compression " + codec + " round trip", () -> {
                String topic = topicName("compression-" + codec);
                createTopic(admin, topic, 1);
                final int m = 50;
                List<String> values = new ArrayList<>();
                try (KafkaProducer<String, String> p = producer(codec)) {
                    List<Future<RecordMetadata>> fs = new ArrayList<>();
                    for (int i = 0; i < m; i++) {
                        String v = codec + " payload " + i + " " + "abcdefgh".repeat(20);
                        values.add(v);
                        fs.add(p.send(new ProducerRecord<>(topic, 0, "k" + i, v)));
                    }
                    p.flush();
                    for (int i = 0; i < m; i++) {
                        RecordMetadata md = fs.get(i).get(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                        check(md.offset() == i, "record " + i + " got offset " + md.offset());
                    }
                }
                try (KafkaConsumer<String, String> c = consumer()) {
                    TopicPartition tp = new TopicPartition(topic, 0);
                    c.assign(List.of(tp));
                    c.seekToBeginning(List.of(tp));
                    List<ConsumerRecord<String, String>> got = readAll(c, m, 20_000);
                    check(got.size() == m, "read " + got.size() + " records within 20 s, expected " + m);
                    for (int i = 0; i < m; i++) {
                        ConsumerRecord<String, String> r = got.get(i);
                        check(r.offset() == i, "record " + i + " has offset " + r.offset());
                        check(("k" + i).equals(r.key()), "offset " + i + ": key " + r.key());
                        check(values.get(i).equals(r.value()), "offset " + i + ": value differs: " + r.value());
                    }
                }
            });
        }

        // ---- Consumer groups (classic protocol): see WeirGroups.java
        WeirGroups.run(admin);

        admin.close(Duration.ofSeconds(5));
        System.exit(failed == 0 ? 0 : 1);
    }
}
