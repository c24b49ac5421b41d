// Log-lifecycle scenarios for the stock Apache Kafka Java client (kafka-clients 4.1.1): topic
// configs (DescribeConfigs, IncrementalAlterConfigs, CreateTopics with configs), a live config
// change, DeleteRecords, retention by time, and compacted logs read back by the Java
// consumer with every codec. Same PASS/FAIL lines, deadlines and run budget as WeirCompat.
//
// Usage: java -cp 'build/classes:libs/*' WeirLifecycle BOOTSTRAP [WEIR_BIN]
// The broker at BOOTSTRAP must run with --override log.retention.check.interval.ms=200
// --override log.cleaner.backoff.ms=200 (run.sh restarts it so) and no other log.* setting, so
// every topic config not overridden has source DEFAULT_CONFIG. More scenarios (timestamp configs,
// DeleteRecords policy, retention.bytes, and with WEIR_BIN a broker of its own restarted and
// killed) are in WeirLifecycleExtra.java, run after the ones here.

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.AlterConfigsOptions;
import org.apache.kafka.clients.admin.AlterConfigsResult;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.DeletedRecords;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.ConfigEntry.ConfigSource;
import org.apache.kafka.clients.admin.ConfigEntry.ConfigSynonym;
import org.apache.kafka.clients.admin.ConfigEntry.ConfigType;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.OffsetOutOfRangeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class WeirLifecycle extends WeirCompat {
    static final ConfigSource DYNAMIC = ConfigSource.DYNAMIC_TOPIC_CONFIG;
    static final ConfigSource DEFAULT = ConfigSource.DEFAULT_CONFIG;

    /** A topic config: Kafka's default (null: not checked), type and broker-level synonyms. */
    record Spec(String name, String dflt, ConfigType type, List<String> brokerNames) {
    }

    static final String LONG_MAX = Long.toString(Long.MAX_VALUE);
    static final List<Spec> SPECS = List.of(
            new Spec("retention.ms", "604800000", ConfigType.LONG, List.of("log.retention.ms", "log.retention.minutes", "log.retention.hours")),
            new Spec("retention.bytes", "-1", ConfigType.LONG, List.of("log.retention.bytes")),
            new Spec("segment.bytes", "1073741824", ConfigType.INT, List.of("log.segment.bytes")),
            new Spec("segment.ms", "604800000", ConfigType.LONG, List.of("log.roll.ms", "log.roll.hours")),
            new Spec("cleanup.policy", "delete", ConfigType.LIST, List.of("log.cleanup.policy")),
            new Spec("min.compaction.lag.ms", "0", ConfigType.LONG, List.of("log.cleaner.min.compaction.lag.ms")),
            new Spec("max.compaction.lag.ms", LONG_MAX, ConfigType.LONG, List.of("log.cleaner.max.compaction.lag.ms")),
            new Spec("delete.retention.ms", "86400000", ConfigType.LONG, List.of("log.cleaner.delete.retention.ms")),
            new Spec("min.cleanable.dirty.ratio", "0.5", ConfigType.DOUBLE, List.of("log.cleaner.min.cleanable.ratio")),
            new Spec("max.message.bytes", "1048588", ConfigType.INT, List.of("message.max.bytes")),
            new Spec("message.timestamp.type", "CreateTime", ConfigType.STRING, List.of("log.message.timestamp.type")),
            new Spec("message.timestamp.before.max.ms", LONG_MAX, ConfigType.LONG, List.of("log.message.timestamp.before.max.ms")),
            new Spec("message.timestamp.after.max.ms", null, ConfigType.LONG, List.of("log.message.timestamp.after.max.ms")),
            new Spec("flush.messages", LONG_MAX, ConfigType.LONG, List.of("log.flush.interval.messages")),
            new Spec("flush.ms", LONG_MAX, ConfigType.LONG, List.of("log.flush.interval.ms", "log.flush.scheduler.interval.ms")),
            new Spec("segment.index.bytes", "10485760", ConfigType.INT, List.of("log.index.size.max.bytes")),
            new Spec("index.interval.bytes", "4096", ConfigType.INT, List.of("log.index.interval.bytes")),
            new Spec("min.insync.replicas", "1", ConfigType.INT, List.of("min.insync.replicas")));

    interface Cond {
        boolean get() throws Exception;
    }

    /** Polls `cond` every 100 ms until it holds; fails with `what` and `state` at the deadline. */
    static void waitFor(String what, long timeoutMs, Cond cond, Supplier<String> state) throws Exception {
        long end = System.currentTimeMillis() + timeoutMs;
        while (!cond.get()) {
            check(System.currentTimeMillis() < end, what + " not reached within " + timeoutMs + " ms; " + state.get());
            Thread.sleep(100); // polling interval, bounded by the deadline above
        }
    }

    // ---------------------------------------------------------------- clients for any broker

    static Admin adminFor(String bs) {
        Properties p = common();
        p.put("bootstrap.servers", bs);
        return Admin.create(p);
    }

    static KafkaProducer<String, String> producerFor(String bs, String compression, Map<String, String> extra) {
        Properties p = common();
        p.put("bootstrap.servers", bs);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "15000");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "20000");
        if (compression != null) p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, compression);
        p.putAll(extra);
        return new KafkaProducer<>(p);
    }

    static KafkaConsumer<String, String> consumerFor(String bs) {
        return consumerFor(bs, "earliest");
    }

    /** No group: explicit assignment only. */
    static KafkaConsumer<String, String> consumerFor(String bs, String offsetReset) {
        Properties p = common();
        p.put("bootstrap.servers", bs);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, offsetReset);
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "200");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        return new KafkaConsumer<>(p);
    }

    // ---------------------------------------------------------------- config helpers

    static ConfigResource res(String topic) { return new ConfigResource(ConfigResource.Type.TOPIC, topic); }

    static Config describe(Admin admin, String topic, boolean synonyms) throws Exception {
        Map<ConfigResource, Config> m = get(admin.describeConfigs(List.of(res(topic)),
                new DescribeConfigsOptions().includeSynonyms(synonyms)).all());
        Config c = m.get(res(topic));
        check(c != null, "describeConfigs: no result for " + topic + ": " + m.keySet());
        return c;
    }

    static ConfigEntry entry(Config c, String name) {
        ConfigEntry e = c.get(name);
        check(e != null, "describeConfigs lacks " + name + "; it lists " + c.entries().stream().map(ConfigEntry::name).sorted().toList());
        return e;
    }

    static String show(ConfigEntry e) { return e.name() + "=" + e.value() + " (" + e.source() + ")"; }

    static void expect(Config c, String name, String value, ConfigSource source, String when) {
        ConfigEntry e = entry(c, name);
        check(Objects.equals(e.value(), value) && e.source() == source,
                when + ": " + show(e) + ", expected " + name + "=" + value + " (" + source + ")");
    }

    /** cleanup.policy as a set, checking it has no duplicates. */
    static Set<String> policy(Config c, String when) {
        String v = entry(c, "cleanup.policy").value();
        List<String> parts = Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        check(new HashSet<>(parts).size() == parts.size(), when + ": cleanup.policy=" + v + " repeats a value");
        return new HashSet<>(parts);
    }

    /** With includeSynonyms: Kafka lists the entry's own source first, then its broker-level names. */
    static void checkSynonyms(Config c, String when) {
        for (Spec s : SPECS) {
            ConfigEntry e = entry(c, s.name);
            List<ConfigSynonym> syn = e.synonyms();
            check(!syn.isEmpty(), when + ": " + show(e) + " has no synonyms with includeSynonyms");
            check(syn.get(0).source() == e.source(), when + ": " + show(e) + " but its first synonym is " + syn.get(0));
            for (int i = 0; i < syn.size(); i++) {
                ConfigSynonym y = syn.get(i);
                if (y.source() == DYNAMIC) {
                    check(i == 0 && y.name().equals(s.name) && Objects.equals(y.value(), e.value()),
                            when + ": " + show(e) + " has the topic synonym " + y + " at position " + i);
                } else {
                    check(s.brokerNames.contains(y.name()), when + ": " + s.name + " synonym " + y
                            + " is not one of Kafka's broker-level names " + s.brokerNames);
                }
            }
        }
    }

    static AlterConfigOp op(String name, String value, AlterConfigOp.OpType type) {
        return new AlterConfigOp(new ConfigEntry(name, value), type);
    }
    static AlterConfigOp set(String name, String value) { return op(name, value, AlterConfigOp.OpType.SET); }
    static AlterConfigOp del(String name) { return op(name, "", AlterConfigOp.OpType.DELETE); }

    static void createWith(Admin admin, String topic, Map<String, String> configs) throws Exception {
        get(admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(configs))).all());
    }

    static void alter(Admin admin, String topic, AlterConfigOp... ops) throws Exception {
        get(admin.incrementalAlterConfigs(Map.of(res(topic), List.of(ops))).all());
    }

    /** The cause a future failed with, or null if it succeeded. */
    static Throwable failure(KafkaFuture<?> f) throws Exception {
        try {
            get(f);
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }

    static void expectInvalidConfig(Throwable e, String what, String mention) {
        check(e != null, what + " succeeded, expected InvalidConfigurationException");
        check(e instanceof InvalidConfigurationException, what + ": expected InvalidConfigurationException, got " + describe(e));
        check(e.getMessage() != null && e.getMessage().contains(mention),
                what + ": the error message does not name " + mention + ": " + e.getMessage());
    }

    // ---------------------------------------------------------------- log helpers

    static long offset(Admin admin, TopicPartition tp, OffsetSpec spec) throws Exception {
        return get(admin.listOffsets(Map.of(tp, spec)).partitionResult(tp)).offset();
    }
    static long earliest(Admin admin, TopicPartition tp) throws Exception { return offset(admin, tp, OffsetSpec.earliest()); }
    static long latest(Admin admin, TopicPartition tp) throws Exception { return offset(admin, tp, OffsetSpec.latest()); }

    static KafkaFuture<DeletedRecords> deleteBefore(Admin admin, TopicPartition tp, long off) {
        return admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(off))).lowWatermarks().get(tp);
    }

    static long produceN(String bs, String topic, int n, String tag, long first) throws Exception {
        return produceN(bs, topic, n, tag, first, "");
    }

    /** Produces n records "tag-OFFSET" + pad to partition 0 (one batch up to 64 KB), expecting offsets from `first`; returns the last timestamp. */
    static long produceN(String bs, String topic, int n, String tag, long first, String pad) throws Exception {
        long ts = 0;
        try (KafkaProducer<String, String> p = producerFor(bs, null,
                Map.of(ProducerConfig.LINGER_MS_CONFIG, "20", ProducerConfig.BATCH_SIZE_CONFIG, "65536"))) {
            List<Future<RecordMetadata>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ts = System.currentTimeMillis();
                fs.add(p.send(new ProducerRecord<>(topic, 0, ts, "k" + i, tag + "-" + (first + i) + pad)));
            }
            p.flush();
            for (int i = 0; i < n; i++) {
                long off = fs.get(i).get(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS).offset();
                check(off == first + i, "produce: record " + i + " got offset " + off + ", expected " + (first + i));
            }
        }
        return ts;
    }

    /** One record to partition 0, waited for: its RecordMetadata, or what it failed with. */
    static Object sendOne(KafkaProducer<String, String> p, String topic, Long ts, String value) {
        try {
            return p.send(new ProducerRecord<>(topic, 0, ts, "k", value)).get(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (Exception e) {
            return e;
        }
    }

    static void expectRead(KafkaConsumer<String, String> c, TopicPartition tp, long from, int n, long first, String tag) {
        expectRead(c, tp, from, n, first, tag, "");
    }

    /** Reads from `from` (assign + seek) until `n` records; checks they are offsets first..first+n-1 "tag-OFFSET" + pad. */
    static void expectRead(KafkaConsumer<String, String> c, TopicPartition tp, long from, int n, long first, String tag, String pad) {
        c.assign(List.of(tp));
        c.seek(tp, from);
        List<ConsumerRecord<String, String>> got = readAll(c, n, 15_000);
        List<Long> offs = got.stream().map(ConsumerRecord::offset).toList();
        check(got.size() == n, "after seek(" + from + "): read offsets " + offs + " within 15 s, expected " + n + " from " + first);
        for (int i = 0; i < n; i++) {
            ConsumerRecord<String, String> r = got.get(i);
            check(r.offset() == first + i && (tag + "-" + r.offset() + pad).equals(r.value()),
                    "after seek(" + from + "): record " + i + " is offset " + r.offset() + " value " + r.value().substring(0, Math.min(20, r.value().length()))
                            + ", expected offset " + (first + i) + " (" + offs + ")");
        }
    }

    static List<String> headerList(Headers hs) {
        List<String> out = new ArrayList<>();
        for (Header h : hs) out.add(h.key() + "=" + (h.value() == null ? "null" : new String(h.value(), StandardCharsets.UTF_8)));
        return out;
    }

    // -------------------------------------------------------------- scenarios

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: WeirLifecycle BOOTSTRAP [WEIR_BIN]");
            System.exit(2);
        }
        bootstrap = args[0];
        Admin admin = admin();

        scenario("describeConfigs on a new topic: every supported config with Kafka's default, type, "
                + "source DEFAULT_CONFIG, synonyms only with includeSynonyms", () -> {
            String t = topicName("cfg-describe");
            createTopic(admin, t, 1);
            Config plain = describe(admin, t, false), syn = describe(admin, t, true);
            for (Spec s : SPECS) {
                for (Config c : List.of(plain, syn)) {
                    ConfigEntry e = entry(c, s.name);
                    check(s.dflt == null || s.dflt.equals(e.value()), show(e) + ", Kafka's default is " + s.dflt);
                    check(e.source() == DEFAULT, show(e) + ", expected source DEFAULT_CONFIG (no topic override, no log.* setting)");
                    check(e.type() == s.type, s.name + " has type " + e.type() + ", Kafka's is " + s.type);
                    check(!e.isReadOnly() && !e.isSensitive(), s.name + " read-only " + e.isReadOnly() + ", sensitive " + e.isSensitive());
                }
                check(entry(plain, s.name).synonyms().isEmpty(),
                        "without includeSynonyms " + s.name + " has synonyms " + entry(plain, s.name).synonyms());
            }
            checkSynonyms(syn, "new topic");
            Throwable e = failure(admin.describeConfigs(List.of(res(topicName("cfg-missing")))).all());
            check(e instanceof UnknownTopicOrPartitionException, "describeConfigs of a missing topic: "
                    + (e == null ? "succeeded" : describe(e)) + ", expected UnknownTopicOrPartitionException");
        });

        scenario("incrementalAlterConfigs SET/APPEND/SUBTRACT/DELETE with sources, validateOnly, "
                + "INVALID_CONFIG for the bad resource only", () -> {
            String a = topicName("cfg-alter-a"), b = topicName("cfg-alter-b");
            createTopic(admin, a, 1);
            createTopic(admin, b, 1);
            alter(admin, a, set("retention.ms", "3600000"), set("max.message.bytes", "500000"));
            Config c = describe(admin, a, true);
            expect(c, "retention.ms", "3600000", DYNAMIC, "after SET");
            expect(c, "max.message.bytes", "500000", DYNAMIC, "after SET");
            expect(c, "cleanup.policy", "delete", DEFAULT, "after SET of other configs");
            expect(c, "segment.ms", "604800000", DEFAULT, "after SET of other configs");
            checkSynonyms(c, "after SET");

            alter(admin, a, op("cleanup.policy", "compact", AlterConfigOp.OpType.APPEND));
            c = describe(admin, a, false);
            check(policy(c, "APPEND").equals(Set.of("delete", "compact")) && entry(c, "cleanup.policy").source() == DYNAMIC,
                    "after APPEND compact to the default delete: " + show(entry(c, "cleanup.policy")) + ", expected delete and compact, DYNAMIC_TOPIC_CONFIG");
            alter(admin, a, op("cleanup.policy", "compact", AlterConfigOp.OpType.APPEND));
            c = describe(admin, a, false);
            check(policy(c, "APPEND again").equals(Set.of("delete", "compact")),
                    "after APPEND compact to delete,compact: " + show(entry(c, "cleanup.policy")));
            alter(admin, a, op("cleanup.policy", "delete", AlterConfigOp.OpType.SUBTRACT));
            expect(describe(admin, a, false), "cleanup.policy", "compact", DYNAMIC, "after SUBTRACT delete");

            alter(admin, a, del("retention.ms"));
            c = describe(admin, a, true);
            expect(c, "retention.ms", "604800000", DEFAULT, "after DELETE retention.ms");
            expect(c, "max.message.bytes", "500000", DYNAMIC, "after DELETE of retention.ms");
            checkSynonyms(c, "after DELETE");
            alter(admin, a, del("cleanup.policy"), del("max.message.bytes"));
            c = describe(admin, a, false);
            expect(c, "cleanup.policy", "delete", DEFAULT, "after DELETE cleanup.policy");
            expect(c, "max.message.bytes", "1048588", DEFAULT, "after DELETE max.message.bytes");

            AlterConfigsOptions validateOnly = new AlterConfigsOptions().validateOnly(true);
            get(admin.incrementalAlterConfigs(Map.of(res(a), List.of(set("segment.ms", "12345"))), validateOnly).all());
            expect(describe(admin, a, false), "segment.ms", "604800000", DEFAULT, "after a validateOnly SET segment.ms=12345");
            Throwable ve = failure(admin.incrementalAlterConfigs(Map.of(res(a), List.of(set("retention.ms", "abc"))), validateOnly).all());
            expectInvalidConfig(ve, "validateOnly SET retention.ms=abc", "abc");

            // Each bad operation goes with a valid SET on the same resource (a resource is all or
            // nothing) and a valid SET on another resource of the same call (which must succeed).
            Object[][] bad = {
                    {"SET of an unknown config", set("no.such.config", "1"), "no.such.config"},
                    {"SET retention.ms=abc", set("retention.ms", "abc"), "abc"},
                    {"SET cleanup.policy=bogus", set("cleanup.policy", "bogus"), "bogus"},
                    {"APPEND to retention.ms (not a list)", op("retention.ms", "5", AlterConfigOp.OpType.APPEND), "retention.ms"},
                    {"SUBTRACT from max.message.bytes (not a list)", op("max.message.bytes", "5", AlterConfigOp.OpType.SUBTRACT), "max.message.bytes"}};
            for (int i = 0; i < bad.length; i++) {
                String what = (String) bad[i][0];
                String goodValue = Long.toString(1_000_000L + i);
                AlterConfigsResult r = admin.incrementalAlterConfigs(Map.of(
                        res(a), List.of(set("segment.ms", "7777"), (AlterConfigOp) bad[i][1]),
                        res(b), List.of(set("retention.ms", goodValue))));
                expectInvalidConfig(failure(r.values().get(res(a))), what, (String) bad[i][2]);
                Throwable ok = failure(r.values().get(res(b)));
                check(ok == null, what + ": the valid SET on the other topic of the same call failed: " + describe(ok));
                expect(describe(admin, a, false), "segment.ms", "604800000", DEFAULT,
                        what + ": the valid SET segment.ms=7777 next to it must not be applied");
                expect(describe(admin, b, false), "retention.ms", goodValue, DYNAMIC, what + ": the other topic");
            }
        });

        scenario("max.message.bytes changed live: lowered -> RecordTooLargeException, raised -> accepted, no restart", () -> {
            String t = topicName("cfg-live");
            TopicPartition tp = new TopicPartition(t, 0);
            createTopic(admin, t, 1);
            String big = "B".repeat(4000), small = "s".repeat(100);
            List<Long> bigOffsets = new ArrayList<>();
            try (KafkaProducer<String, String> p = producerFor(bootstrap, null, Map.of(ProducerConfig.LINGER_MS_CONFIG, "0"))) {
                Supplier<Throwable> sendBig = () -> {
                    Object r = sendOne(p, t, null, big);
                    if (r instanceof RecordMetadata md) bigOffsets.add(md.offset());
                    return r instanceof Throwable e ? e : null;
                };
                check(sendBig.get() == null, "a 4000-byte record failed with the default max.message.bytes");
                alter(admin, t, set("max.message.bytes", "1024"));
                Throwable[] last = {null};
                waitFor("a 4000-byte record rejected after SET max.message.bytes=1024", 5_000, () -> (last[0] = sendBig.get()) != null,
                        () -> "accepted at offsets " + bigOffsets);
                check(last[0] instanceof RecordTooLargeException, "the 4000-byte record failed with " + describe(last[0])
                        + ", expected RecordTooLargeException");
                Object sr = sendOne(p, t, null, small);
                check(sr instanceof RecordMetadata, "a 100-byte record under max.message.bytes=1024: " + (sr instanceof Throwable e ? describe(e) : sr));
                long smallOff = ((RecordMetadata) sr).offset();
                alter(admin, t, set("max.message.bytes", "8192"));
                waitFor("the 4000-byte record accepted after SET max.message.bytes=8192", 5_000, () -> {
                    Throwable e = sendBig.get();
                    check(e == null || e instanceof RecordTooLargeException, "sending the 4000-byte record: " + describe(e));
                    return e == null;
                }, () -> "still RecordTooLargeException");
                long lastBig = bigOffsets.get(bigOffsets.size() - 1);
                check(smallOff < lastBig, "the small record's offset " + smallOff + " is not before the accepted big one " + lastBig);
                try (KafkaConsumer<String, String> c = consumerFor(bootstrap)) {
                    c.assign(List.of(tp));
                    c.seek(tp, lastBig);
                    List<ConsumerRecord<String, String>> got = readAll(c, 1, 15_000);
                    check(got.size() == 1 && got.get(0).offset() == lastBig && big.equals(got.get(0).value()),
                            "reading the accepted 4000-byte record at offset " + lastBig + ": " + got.size() + " records");
                }
            }
        });

        scenario("createTopics with configs: returned and described as DYNAMIC_TOPIC_CONFIG; "
                + "invalid configs -> InvalidConfigurationException, no topic", () -> {
            String t = topicName("cfg-create");
            CreateTopicsResult r = admin.createTopics(List.of(new NewTopic(t, 1, (short) 1)
                    .configs(Map.of("cleanup.policy", "compact", "retention.ms", "1000"))));
            get(r.all());
            Config returned = get(r.config(t));
            for (Config c : List.of(returned, describe(admin, t, true))) {
                String when = c == returned ? "CreateTopics response" : "describeConfigs";
                expect(c, "cleanup.policy", "compact", DYNAMIC, when);
                expect(c, "retention.ms", "1000", DYNAMIC, when);
                expect(c, "segment.bytes", "1073741824", DEFAULT, when);
                expect(c, "delete.retention.ms", "86400000", DEFAULT, when);
            }
            checkSynonyms(describe(admin, t, true), "created with configs");
            List<Map<String, String>> bad = List.of(Map.of("retention.ms", "abc"), Map.of("cleanup.policy", "bogus"),
                    Map.of("no.such.config", "1"), Map.of("min.cleanable.dirty.ratio", "1.5"));
            List<String> mention = List.of("abc", "bogus", "no.such.config", "1.5");
            for (int i = 0; i < bad.size(); i++) {
                String bt = topicName("cfg-create-bad" + i);
                Throwable e = failure(admin.createTopics(List.of(new NewTopic(bt, 1, (short) 1).configs(bad.get(i)))).all());
                expectInvalidConfig(e, "createTopics with " + bad.get(i), mention.get(i));
                check(!get(admin.listTopics().names()).contains(bt), "createTopics with " + bad.get(i) + " failed but the topic exists");
            }
        });

        scenario("deleteRecords: low watermark, listOffsets earliest, consumer reset from 0 to it, "
                + "above the high watermark -> OffsetOutOfRangeException", () -> {
            String t = topicName("delete-records");
            TopicPartition tp = new TopicPartition(t, 0);
            createTopic(admin, t, 1);
            produceN(bootstrap, t, 20, "dr", 0);
            long lw = get(deleteBefore(admin, tp, 7)).lowWatermark();
            check(lw == 7, "deleteRecords before 7: low watermark " + lw);
            check(earliest(admin, tp) == 7, "listOffsets earliest " + earliest(admin, tp) + ", expected 7");
            check(latest(admin, tp) == 20, "listOffsets latest " + latest(admin, tp) + ", expected 20");
            try (KafkaConsumer<String, String> c = consumerFor(bootstrap)) {
                expectRead(c, tp, 0, 13, 7, "dr");
            }
            lw = get(deleteBefore(admin, tp, 3)).lowWatermark();
            check(lw == 7, "deleteRecords before 3 (below the low watermark 7): low watermark " + lw + ", expected it to stay 7");
            Throwable e = failure(deleteBefore(admin, tp, 25));
            check(e instanceof OffsetOutOfRangeException, "deleteRecords before 25 (high watermark 20): "
                    + (e == null ? "succeeded" : describe(e)) + ", expected OffsetOutOfRangeException");
            check(earliest(admin, tp) == 7, "earliest after the failed deleteRecords: " + earliest(admin, tp));
            lw = get(deleteBefore(admin, tp, 20)).lowWatermark();
            check(lw == 20 && earliest(admin, tp) == 20, "deleteRecords before the high watermark 20: low watermark " + lw);
            produceN(bootstrap, t, 3, "dr", 20);
            try (KafkaConsumer<String, String> c = consumerFor(bootstrap)) {
                expectRead(c, tp, 5, 3, 20, "dr");
            }
        });

        scenario("retention.ms=1500, segment.ms=300: segments deleted once expired (not before) until earliest == "
                + "high watermark; then produce and consume resume", () -> {
            String t = topicName("retention-time");
            TopicPartition tp = new TopicPartition(t, 0);
            createWith(admin, t, Map.of("retention.ms", "1500", "segment.ms", "300"));
            long firstTs = System.currentTimeMillis();
            long lastTs = produceN(bootstrap, t, 30, "rt", 0);
            lastTs = produceN(bootstrap, t, 20, "rt", 30);
            check(latest(admin, tp) == 50, "latest after producing 50: " + latest(admin, tp));
            long[] earliest = {0};
            waitFor("listOffsets earliest == 50 (every segment expired)", 20_000, () -> {
                long before = System.currentTimeMillis();
                long e = earliest(admin, tp);
                check(e >= earliest[0] && e <= 50, "listOffsets earliest went from " + earliest[0] + " to " + e + " (high watermark 50)");
                // Records sent at or after firstTs may only go once retention.ms has passed since.
                check(e == 0 || before >= firstTs + 1500 - 50, "earliest " + e + " only " + (before - firstTs)
                        + " ms after the first record's timestamp, retention.ms is 1500");
                earliest[0] = e;
                return e == 50;
            }, () -> "earliest " + earliest[0]);
            check(System.currentTimeMillis() >= lastTs + 1500 - 50, "everything deleted less than retention.ms (1500) after the last record's timestamp");
            alter(admin, t, del("retention.ms"));
            produceN(bootstrap, t, 5, "rt", 50);
            check(earliest(admin, tp) == 50, "earliest after producing more: " + earliest(admin, tp));
            try (KafkaConsumer<String, String> c = consumerFor(bootstrap)) {
                expectRead(c, tp, 0, 5, 50, "rt");
            }
        });

        for (String codec : List.of("none", "gzip", "snappy", "lz4", "zstd")) {
            scenario("compaction with " + codec + ": 10 keys x 1000 interleaved writes with headers + 2 tombstones, "
                    + "read by the consumer across gaps: latest value and headers per key, tombstones removed", () -> compaction(admin, codec));
        }

        // More Kafka semantics than the scenarios above: WeirLifecycleExtra.java.
        WeirLifecycleExtra.run(admin, args.length == 2 ? args[1] : null);

        admin.close(Duration.ofSeconds(5));
        System.exit(failed == 0 ? 0 : 1);
    }

    // ---------------------------------------------------------------- compaction

    static Headers headers(String codec, int i, String key, boolean tombstone) {
        RecordHeaders hs = new RecordHeaders();
        hs.add("key", key.getBytes(StandardCharsets.UTF_8));
        if (tombstone) {
            hs.add("tombstone", "yes".getBytes(StandardCharsets.UTF_8));
        } else {
            hs.add("seq", Integer.toString(i).getBytes(StandardCharsets.UTF_8));
            hs.add("codec", codec.getBytes(StandardCharsets.UTF_8));
            hs.add("empty", new byte[0]);
        }
        return hs;
    }

    /** Seeks to the beginning and reads until the position reaches the end offset taken first. */
    static List<ConsumerRecord<String, String>> readToEnd(KafkaConsumer<String, String> c, TopicPartition tp, long timeoutMs) {
        long end = c.endOffsets(List.of(tp), Duration.ofMillis(CALL_TIMEOUT_MS)).get(tp);
        c.seekToBeginning(List.of(tp));
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        long deadline = System.currentTimeMillis() + timeoutMs;
        long pos;
        while ((pos = c.position(tp, Duration.ofMillis(CALL_TIMEOUT_MS))) < end) {
            check(System.currentTimeMillis() < deadline, "consumer position " + pos + " did not reach the end offset " + end
                    + " within " + timeoutMs + " ms (" + out.size() + " records read, last offset "
                    + (out.isEmpty() ? "-" : out.get(out.size() - 1).offset()) + ")");
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) out.add(r);
        }
        return out;
    }

    static void compaction(Admin admin, String codec) throws Exception {
        String t = topicName("compact-" + codec);
        TopicPartition tp = new TopicPartition(t, 0);
        createWith(admin, t, Map.of("cleanup.policy", "compact",
                "segment.ms", "400", "min.cleanable.dirty.ratio", "0.01", "delete.retention.ms", "1000"));
        final int keys = 10, writes = 1000, total = keys * writes + 2;
        // Write j of key k happens at "time" (j + 0.5) * (k + 1): keys interleave in every batch,
        // and key k's last write lands about (k + 1) tenths into the log, so the survivors of
        // compaction sit far apart, alone in batches whose other records are gone.
        List<int[]> order = new ArrayList<>();
        for (int k = 0; k < keys; k++) for (int j = 0; j < writes; j++) order.add(new int[] {k, j});
        order.sort(Comparator.<int[]>comparingDouble(e -> (e[1] + 0.5) * (e[0] + 1)).thenComparingInt(e -> e[0]));
        String[] key = new String[total], val = new String[total];
        long[] ts = new long[total];
        Map<String, Long> latest = new TreeMap<>(); // live key -> offset of its last write
        Map<String, Long> tombstones = new TreeMap<>(); // deleted key -> offset of its tombstone
        try (KafkaProducer<String, String> p = producerFor(bootstrap, codec,
                Map.of(ProducerConfig.LINGER_MS_CONFIG, "10", ProducerConfig.BATCH_SIZE_CONFIG, "65536"))) {
            List<Future<RecordMetadata>> fs = new ArrayList<>();
            for (int i = 0; i < total; i++) {
                boolean tomb = i >= total - 2;
                key[i] = "key-" + (tomb ? i - (total - 2) : order.get(i)[0]);
                val[i] = tomb ? null : "value " + order.get(i)[1] + " of " + key[i] + " " + "abcdefghij".repeat(5);
                ts[i] = System.currentTimeMillis();
                fs.add(p.send(new ProducerRecord<>(t, 0, ts[i], key[i], val[i], headers(codec, i, key[i], tomb))));
                (tomb ? tombstones : latest).put(key[i], (long) i);
                if (i % 4000 == 3999) {
                    p.flush();
                    // Past segment.ms (400 ms): the next append rolls a new segment, so the log
                    // has several segments before the cleaner's first pass.
                    Thread.sleep(450);
                }
            }
            p.flush();
            for (int i = 0; i < total; i++) {
                long off = fs.get(i).get(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS).offset();
                check(off == i, "produce: record " + i + " got offset " + off);
            }
        }
        for (String k : tombstones.keySet()) latest.remove(k);
        Map<Long, String> ticks = new HashMap<>();
        try (KafkaConsumer<String, String> c = consumerFor(bootstrap);
             KafkaProducer<String, String> ticker = producerFor(bootstrap, codec, Map.of(ProducerConfig.LINGER_MS_CONFIG, "0"))) {
            c.assign(List.of(tp));
            long deadline = System.currentTimeMillis() + 40_000;
            List<ConsumerRecord<String, String>> recs;
            for (int read = 1; ; read++) {
                long readStart = System.currentTimeMillis();
                recs = readToEnd(c, tp, 15_000);
                long readMs = System.currentTimeMillis() - readStart;
                Map<String, Integer> count = new TreeMap<>();
                Map<String, Long> lastSeen = new HashMap<>();
                long prev = -1;
                for (ConsumerRecord<String, String> r : recs) {
                    String where = "read " + read + ", offset " + r.offset();
                    check(r.offset() > prev, where + " after offset " + prev + ": offsets not strictly increasing");
                    prev = r.offset();
                    if ("tick".equals(r.key())) {
                        check(Objects.equals(ticks.get(r.offset()), r.value()), where + ": tick value " + r.value() + ", sent " + ticks.get(r.offset()));
                    } else {
                        check(r.offset() < total, where + ": no record was sent at this offset (key " + r.key() + ")");
                        int i = (int) r.offset();
                        boolean tomb = val[i] == null;
                        check(key[i].equals(r.key()) && Objects.equals(val[i], r.value()), where + ": key " + r.key()
                                + " value " + r.value() + ", sent key " + key[i] + " value " + val[i]);
                        List<String> want = headerList(headers(codec, i, key[i], tomb)), have = headerList(r.headers());
                        check(want.equals(have), where + ": headers " + have + ", sent " + want);
                        check(r.timestamp() == ts[i], where + ": timestamp " + r.timestamp() + ", sent " + ts[i]);
                        count.merge(r.key(), 1, Integer::sum);
                    }
                    lastSeen.put(r.key(), r.offset());
                }
                for (Map.Entry<String, Long> e : latest.entrySet()) {
                    check(e.getValue().equals(lastSeen.get(e.getKey())), "read " + read + ": the latest write of " + e.getKey()
                            + " (offset " + e.getValue() + ") is missing; the last record of that key read is at " + lastSeen.get(e.getKey()));
                }
                // Kafka guarantees a reader sees the tombstone only if it reads to it within delete.retention.ms.
                for (Map.Entry<String, Long> e : tombstones.entrySet()) {
                    Long seen = lastSeen.get(e.getKey());
                    check(readMs >= 1000 || seen == null || seen.equals(e.getValue()), "read " + read + " (" + readMs + " ms): " + e.getKey()
                            + " has a value at offset " + seen + " without its tombstone at offset " + e.getValue() + " (a deleted key came back)");
                }
                int data = count.values().stream().mapToInt(Integer::intValue).sum();
                boolean dedup = count.values().stream().allMatch(n -> n == 1);
                boolean tombsGone = tombstones.keySet().stream().noneMatch(count::containsKey);
                if (dedup && tombsGone) {
                    check(data == latest.size() - (latest.containsKey("tick") ? 1 : 0),
                            "compacted read has " + data + " records of the 10 keys, expected " + (keys - 2));
                    break;
                }
                check(System.currentTimeMillis() < deadline, "not compacted within 40 s: read " + read + " got " + recs.size()
                        + " records, per key " + count + " (" + total + " written; delete.retention.ms=1000, dirty ratio 0.01)");
                if (dedup) {
                    // Only the tombstones are left: Kafka re-cleans (and drops tombstones past
                    // delete.retention.ms) only once new writes make the log dirty again.
                    String v = "tick-" + read;
                    long off = ticker.send(new ProducerRecord<>(t, 0, "tick", v)).get(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS).offset();
                    ticks.put(off, v);
                    latest.put("tick", off);
                }
                Thread.sleep(200); // between two full reads, bounded by the deadline above
            }
            long lso = earliest(admin, tp);
            check(lso == 0, "listOffsets earliest " + lso + " after compaction, expected 0 (cleaning never moves the log start offset)");
            // Fetching from inside a gap returns the next survivor, never OFFSET_OUT_OF_RANGE (no
            // reset here). Only the 10 keys' survivors: older ticks may still be cleaned away.
            try (KafkaConsumer<String, String> g = consumerFor(bootstrap, "none")) {
                g.assign(List.of(tp));
                long from = 0;
                for (ConsumerRecord<String, String> survivor : recs) {
                    if (survivor.offset() >= total) break;
                    g.seek(tp, from);
                    List<ConsumerRecord<String, String>> got = readAll(g, 1, 10_000);
                    check(!got.isEmpty() && got.get(0).offset() == survivor.offset(), "seek(" + from + ") into a compacted gap: first record at "
                            + (got.isEmpty() ? "none" : got.get(0).offset()) + ", expected the next survivor at " + survivor.offset());
                    from = survivor.offset() + 1;
                }
            }
        }
    }
}
