// More log-lifecycle scenarios for WeirLifecycle (kafka-clients 4.1.1), run after its own:
// message.timestamp.* changed live, DeleteRecords refused without the delete policy,
// retention.bytes, and, given the weir binary, a broker of its own (127.0.0.1, a free port, a
// temp data dir, one static log.* setting to see STATIC_BROKER_CONFIG) stopped with SIGTERM and
// killed with SIGKILL: topic configs and the log start offset must come back.

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;
import java.util.stream.Stream;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConfigEntry.ConfigSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidTimestampException;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.apache.kafka.common.record.TimestampType;

public class WeirLifecycleExtra extends WeirLifecycle {
    /** Brokers this program started: killed on exit whatever happens. */
    static final List<Process> CHILDREN = Collections.synchronizedList(new ArrayList<>());

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> CHILDREN.forEach(Process::destroyForcibly)));
    }

    /** bin: the weir binary for the restart scenario, or null to skip it. */
    static void run(Admin admin, String bin) {
        scenario("message.timestamp.* changed live: CreateTime outside before/after.max.ms -> InvalidTimestampException; "
                + "LogAppendTime stamps the broker's time", () -> {
            String t = topicName("cfg-timestamps");
            TopicPartition tp = new TopicPartition(t, 0);
            createTopic(admin, t, 1);
            long hour = 3_600_000;
            try (KafkaProducer<String, String> p = producerFor(bootstrap, null, Map.of(ProducerConfig.LINGER_MS_CONFIG, "0"))) {
                Map<Long, Long> sentTs = new HashMap<>(); // offset -> timestamp sent
                LongFunction<Object> send = ts -> {
                    Object r = sendOne(p, t, ts, "ts-" + ts);
                    if (r instanceof RecordMetadata md) sentTs.put(md.offset(), ts);
                    return r;
                };
                long now = System.currentTimeMillis();
                check(send.apply(now - hour) instanceof RecordMetadata && send.apply(now + hour / 2) instanceof RecordMetadata,
                        "records 1 h old and 30 min ahead failed with the default before/after.max.ms");
                alter(admin, t, set("message.timestamp.before.max.ms", "60000"), set("message.timestamp.after.max.ms", "60000"));
                for (long off : new long[] {-hour, hour / 2}) {
                    Object r = send.apply(System.currentTimeMillis() + off);
                    check(r instanceof InvalidTimestampException, "a record " + off / 60_000 + " min from now with before/after.max.ms=60000: "
                            + (r instanceof Throwable e ? describe(e) : "accepted") + ", expected InvalidTimestampException");
                }
                check(send.apply(System.currentTimeMillis() - 1_000) instanceof RecordMetadata, "a record 1 s old was rejected");
                alter(admin, t, set("message.timestamp.type", "LogAppendTime"));
                long before = System.currentTimeMillis();
                Object r = send.apply(before - hour); // LogAppendTime: the CreateTime bounds do not apply
                long after = System.currentTimeMillis();
                check(r instanceof RecordMetadata md && md.timestamp() >= before - 5 && md.timestamp() <= after + 5,
                        "with LogAppendTime a record sent with a 1 h old timestamp: " + (r instanceof Throwable e ? describe(e)
                                : "producer got timestamp " + ((RecordMetadata) r).timestamp()) + ", expected the broker's time in [" + before + ", " + after + "]");
                long lat = ((RecordMetadata) r).offset(), latTs = ((RecordMetadata) r).timestamp();
                alter(admin, t, del("message.timestamp.type"));
                check(send.apply(System.currentTimeMillis() - 2_000) instanceof RecordMetadata, "a CreateTime record after DELETE message.timestamp.type failed");
                try (KafkaConsumer<String, String> c = consumerFor(bootstrap)) {
                    c.assign(List.of(tp));
                    c.seekToBeginning(List.of(tp));
                    List<ConsumerRecord<String, String>> got = readAll(c, sentTs.size(), 15_000);
                    check(got.size() == sentTs.size(), "read " + got.size() + " records, " + sentTs.size() + " were accepted");
                    for (ConsumerRecord<String, String> rec : got) {
                        boolean la = rec.offset() == lat;
                        check(rec.timestampType() == (la ? TimestampType.LOG_APPEND_TIME : TimestampType.CREATE_TIME)
                                        && rec.timestamp() == (la ? latTs : sentTs.get(rec.offset())),
                                "offset " + rec.offset() + ": " + rec.timestampType() + " " + rec.timestamp() + ", expected "
                                        + (la ? "LogAppendTime " + latTs : "CreateTime " + sentTs.get(rec.offset())));
                    }
                }
            }
        });

        scenario("deleteRecords on a cleanup.policy=compact topic -> PolicyViolationException, the log start offset stays", () -> {
            String t = topicName("delete-records-compact");
            TopicPartition tp = new TopicPartition(t, 0);
            createWith(admin, t, Map.of("cleanup.policy", "compact"));
            produceN(bootstrap, t, 5, "drc", 0);
            Throwable e = failure(deleteBefore(admin, tp, 3));
            check(e instanceof PolicyViolationException, "deleteRecords before 3: " + (e == null ? "succeeded" : describe(e))
                    + ", expected PolicyViolationException (Kafka deletes records only with delete in cleanup.policy)");
            check(earliest(admin, tp) == 0, "earliest after the refused deleteRecords: " + earliest(admin, tp));
        });

        scenario("retention.bytes=50000 over five ~20 KB segments: the two oldest deleted (at least retention.bytes "
                + "kept), never more", () -> {
            String t = topicName("retention-bytes");
            TopicPartition tp = new TopicPartition(t, 0);
            createWith(admin, t, Map.of("retention.bytes", "50000", "segment.ms", "300"));
            String pad = "p".repeat(1000);
            for (int chunk = 0; chunk < 5; chunk++) {
                produceN(bootstrap, t, 20, "rb", chunk * 20, pad); // one ~20.4 KB batch
                if (chunk < 4) Thread.sleep(350); // past segment.ms: the next chunk goes to a new segment
            }
            long[] earliest = {0};
            Cond atMost40 = () -> {
                long e = earliest(admin, tp);
                check(e <= 40, "listOffsets earliest " + e + ": retention.bytes=50000 left less than 50000 bytes (3 segments of ~20.4 KB remain at 40)");
                earliest[0] = e;
                return e == 40;
            };
            waitFor("listOffsets earliest == 40 (segments 0-19 and 20-39 deleted)", 10_000, atMost40, () -> "earliest " + earliest[0]);
            long end = System.currentTimeMillis() + 1_000;
            while (System.currentTimeMillis() < end) {
                check(atMost40.get(), "earliest went back from 40 to " + earliest[0]);
                Thread.sleep(100); // five retention checks that must not delete more
            }
            try (KafkaConsumer<String, String> c = consumerFor(bootstrap)) {
                expectRead(c, tp, 0, 60, 40, "rb", pad);
            }
        });
        if (bin != null) restart(bin);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    static Process spawn(String bin, int port, Path dir) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(bin, "--listeners", "127.0.0.1:" + port, "--data-dir", dir.resolve("data").toString(),
                "--override", "log.retention.check.interval.ms=200", "--override", "log.cleaner.backoff.ms=200",
                "--override", "log.cleaner.delete.retention.ms=3600000");
        pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("broker.log").toFile()));
        Process p = pb.start();
        CHILDREN.add(p);
        long end = System.currentTimeMillis() + 20_000;
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return p;
            } catch (IOException e) {
                if (!p.isAlive() || System.currentTimeMillis() > end) {
                    List<String> log = Files.readAllLines(dir.resolve("broker.log")).stream()
                            .map(l -> l.replaceAll("\u001B\\[[0-9;]*m", "").trim()).toList();
                    String first = log.stream().filter(l -> l.matches("(?i).*(error|panicked).*")).findFirst().orElse("");
                    throw new Check("the broker (pid " + p.pid() + ") did not start on port " + port + ": " + first + " | log tail: "
                            + String.join(" | ", log.subList(Math.max(0, log.size() - 3), log.size())));
                }
                Thread.sleep(50); // waiting for the port, bounded by the deadline above
            }
        }
    }

    static void stop(Process p, boolean kill) throws Exception {
        if (kill) p.destroyForcibly();
        else p.destroy(); // SIGTERM
        if (!p.waitFor(15, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
            throw new Check("the broker (pid " + p.pid() + ") did not exit within 15 s of SIGTERM");
        }
    }

    static void restart(String bin) {
        scenario("configs and the log start offset survive a broker restart (SIGTERM); configs changed just before "
                + "a SIGKILL survive it", () -> {
            Path dir = Files.createTempDirectory("weir-lifecycle-java-");
            int port = freePort();
            String bs = "127.0.0.1:" + port;
            Process[] p = {null};
            String t = topicName("restart");
            TopicPartition tp = new TopicPartition(t, 0);
            try {
                p[0] = spawn(bin, port, dir);
                try (Admin a = adminFor(bs)) {
                    createWith(a, t, Map.of(
                            "retention.ms", "7200000", "cleanup.policy", "compact,delete"));
                    alter(a, t, set("max.message.bytes", "300000"), set("min.cleanable.dirty.ratio", "0.25"));
                    produceN(bs, t, 10, "rs", 0);
                    long lw = get(deleteBefore(a, tp, 4)).lowWatermark();
                    check(lw == 4, "deleteRecords before 4: low watermark " + lw);
                }
                stop(p[0], false);
                p[0] = spawn(bin, port, dir);
                try (Admin a = adminFor(bs)) {
                    Config c = describe(a, t, true);
                    String when = "after a restart";
                    expect(c, "retention.ms", "7200000", DYNAMIC, when);
                    expect(c, "max.message.bytes", "300000", DYNAMIC, when);
                    expect(c, "min.cleanable.dirty.ratio", "0.25", DYNAMIC, when);
                    expect(c, "segment.bytes", "1073741824", DEFAULT, when);
                    check(policy(c, when).equals(Set.of("compact", "delete")), when + ": " + show(entry(c, "cleanup.policy")));
                    checkSynonyms(c, when);
                    ConfigEntry dr = entry(c, "delete.retention.ms");
                    check("3600000".equals(dr.value()) && dr.source() == ConfigSource.STATIC_BROKER_CONFIG
                                    && dr.synonyms().stream().anyMatch(y -> y.name().equals("log.cleaner.delete.retention.ms")
                                    && "3600000".equals(y.value()) && y.source() == ConfigSource.STATIC_BROKER_CONFIG),
                            "broker started with log.cleaner.delete.retention.ms=3600000: " + show(dr) + " synonyms " + dr.synonyms()
                                    + ", expected 3600000 (STATIC_BROKER_CONFIG) with that synonym");
                    check(earliest(a, tp) == 4 && latest(a, tp) == 10, when
                            + ": earliest " + earliest(a, tp) + " latest " + latest(a, tp) + ", expected 4 and 10");
                    try (KafkaConsumer<String, String> c2 = consumerFor(bs)) {
                        expectRead(c2, tp, 0, 6, 4, "rs");
                    }
                    alter(a, t, set("retention.bytes", "123456789"), del("max.message.bytes"), set("delete.retention.ms", "5000"));
                }
                stop(p[0], true);
                p[0] = spawn(bin, port, dir);
                try (Admin a = adminFor(bs)) {
                    Config c = describe(a, t, true);
                    String when = "after SIGKILL";
                    checkSynonyms(c, when);
                    ConfigEntry dr = entry(c, "delete.retention.ms");
                    check("5000".equals(dr.value()) && dr.source() == DYNAMIC && dr.synonyms().size() >= 2
                                    && dr.synonyms().get(1).source() == ConfigSource.STATIC_BROKER_CONFIG && "3600000".equals(dr.synonyms().get(1).value()),
                            when + ": " + show(dr) + " synonyms " + dr.synonyms() + ", expected 5000 (DYNAMIC_TOPIC_CONFIG) then the static 3600000");
                    expect(c, "retention.bytes", "123456789", DYNAMIC, when);
                    expect(c, "max.message.bytes", "1048588", DEFAULT, when);
                    expect(c, "retention.ms", "7200000", DYNAMIC, when);
                    check(latest(a, tp) == 10, when + ": latest " + latest(a, tp));
                }
            } finally {
                if (p[0] != null && p[0].isAlive()) stop(p[0], false);
                try (Stream<Path> s = Files.walk(dir)) {
                    s.sorted(Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
                }
            }
        });
    }
}
