// Persistence scenario for WeirLifecycle (kafka-clients 4.1.1), run when it is given the weir
// binary: a broker of its own on 127.0.0.1 (a free port, a temp data dir, and one static log.*
// setting, log.cleaner.delete.retention.ms, to see STATIC_BROKER_CONFIG) is stopped with SIGTERM
// and killed with SIGKILL; topic configs and the log start offset must come back.

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConfigEntry.ConfigSource;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

public class WeirLifecycleRestart extends WeirLifecycle {
    /** Brokers this program started: killed on exit whatever happens. */
    static final List<Process> CHILDREN = Collections.synchronizedList(new ArrayList<>());

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> CHILDREN.forEach(Process::destroyForcibly)));
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

    static void run(String bin) {
        scenario("configs and the log start offset survive a broker restart (SIGTERM); configs changed just before "
                + "a SIGKILL survive it", () -> {
            Path dir = Files.createTempDirectory("weir-lifecycle-java-");
            int port = freePort();
            String bs = "127.0.0.1:" + port;
            Process[] p = {spawn(bin, port, dir)};
            String t = topicName("restart");
            TopicPartition tp = new TopicPartition(t, 0);
            try {
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
                if (p[0].isAlive()) stop(p[0], false);
                try (Stream<Path> s = Files.walk(dir)) {
                    s.sorted(Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
                }
            }
        });
    }
}
