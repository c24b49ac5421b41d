// Shared helpers of the transactions scenarios (TxnSingle, TxnCrash, TxnCopy): client configs,
// verdict lines, awaited conditions, reading a topic back under either isolation level, and
// stopping/restarting the brokers of a cluster through the commands run.sh hands over.
//
// Verdicts: "PASS <client>: <scenario>" / "FAIL <client>: <scenario> -- detail" on stdout (the
// format lib.sh's run_scenarios counts); information lines start with two spaces.

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

class TxnCommon {
    TxnCommon() {}

    static final String CLIENT = System.getenv().getOrDefault("CLIENT_NAME", "transactions");
    static final String RUN = UUID.randomUUID().toString().substring(0, 8);
    static int failures = 0;

    static synchronized void pass(String scenario, String note) {
        System.out.println("PASS " + CLIENT + ": " + scenario + (note == null || note.isEmpty() ? "" : " (" + note + ")"));
        System.out.flush();
    }

    static synchronized void fail(String scenario, String detail) {
        failures++;
        String d = detail == null ? "" : detail.replaceAll("\\s+", " ");
        if (d.length() > 700) d = d.substring(0, 700) + "...";
        System.out.println("FAIL " + CLIENT + ": " + scenario + " -- " + d);
        System.out.flush();
    }

    static synchronized void info(String msg) {
        System.out.println("  " + msg);
        System.out.flush();
    }

    /** A failed check: the message is the FAIL detail. */
    static final class Check extends RuntimeException {
        Check(String msg) { super(msg); }
    }

    static void check(boolean ok, String msg) {
        if (!ok) throw new Check(msg);
    }

    static <T> void checkEq(T want, T got, String what) {
        if (want == null ? got != null : !want.equals(got)) throw new Check(what + ": expected " + want + ", got " + got);
    }

    /** Runs one scenario under a deadline, as one PASS/FAIL line; the body returns a note. */
    interface Body { String run() throws Exception; }

    static boolean scenario(String name, int timeoutSec, Body body) {
        long t0 = System.nanoTime();
        final Object[] result = new Object[1];
        Thread t = new Thread(() -> {
            try {
                result[0] = body.run();
            } catch (Throwable e) {
                result[0] = e;
            }
        }, "scenario");
        t.setDaemon(true);
        t.start();
        try {
            t.join(timeoutSec * 1000L);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String took = String.format("%.1fs", (System.nanoTime() - t0) / 1e9);
        if (t.isAlive()) {
            t.interrupt();
            fail(name, "no result within " + timeoutSec + "s");
            return false;
        }
        if (result[0] instanceof Throwable) {
            Throwable e = (Throwable) result[0];
            if (!(e instanceof Check)) e.printStackTrace(System.err);
            fail(name, (e instanceof Check ? "" : e.getClass().getSimpleName() + ": ") + e.getMessage() + " [after " + took + "]");
            return false;
        }
        String note = (String) result[0];
        pass(name, (note == null || note.isEmpty() ? "" : note + ", ") + took);
        return true;
    }

    /** Polls cond every 100 ms until it holds; a Check naming what with the last state if not in time. */
    static void await(String what, long timeoutMs, BooleanSupplier cond, Supplier<String> state) {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (true) {
            RuntimeException last = null;
            try {
                if (cond.getAsBoolean()) return;
            } catch (RuntimeException e) {
                last = e;
            }
            if (System.currentTimeMillis() > deadline) {
                String s = state == null ? "" : state.get();
                throw new Check(what + " not within " + timeoutMs + " ms" + (s.isEmpty() ? "" : ": " + s)
                    + (last == null ? "" : " (last error: " + last + ")"));
            }
            sleepMs(100);
        }
    }

    static void sleepMs(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeException("interrupted");
        }
    }

    // ------------------------------------------------------------ clients
    static Properties common(String bootstrap) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("client.dns.lookup", "use_all_dns_ips");
        p.put("reconnect.backoff.ms", "50");
        p.put("reconnect.backoff.max.ms", "1000");
        p.put("metadata.max.age.ms", "5000");
        return p;
    }

    static Admin admin(String bootstrap) {
        Properties p = common(bootstrap);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        return Admin.create(p);
    }

    static KafkaProducer<String, String> txnProducer(String bootstrap, String txnId, int txnTimeoutMs) {
        return txnProducer(bootstrap, txnId, txnTimeoutMs, 60000);
    }

    static KafkaProducer<String, String> txnProducer(String bootstrap, String txnId, int txnTimeoutMs, int maxBlockMs) {
        Properties p = common(bootstrap);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, String.valueOf(maxBlockMs));
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, txnId);
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, String.valueOf(txnTimeoutMs));
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        return new KafkaProducer<>(p);
    }

    static KafkaProducer<String, String> plainProducer(String bootstrap) {
        Properties p = common(bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        return new KafkaProducer<>(p);
    }

    /** A consumer without a group (assign only), read_committed or read_uncommitted. */
    static KafkaConsumer<String, String> consumer(String bootstrap, boolean committed) {
        Properties p = common(bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, committed ? "read_committed" : "read_uncommitted");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        return new KafkaConsumer<>(p);
    }

    static List<TopicPartition> partitions(String topic, int n) {
        List<TopicPartition> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(new TopicPartition(topic, i));
        return out;
    }

    static void createTopic(Admin admin, String topic, int partitions, int rf, Map<String, String> configs) throws Exception {
        // A cluster just started: every broker registered before replicas are placed.
        final int[] seen = {0};
        await(rf + " brokers in describeCluster", 60000, () -> {
            try {
                seen[0] = admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).size();
            } catch (Exception e) {
                return false;
            }
            return seen[0] >= rf;
        }, () -> seen[0] + " brokers");
        NewTopic t = new NewTopic(topic, partitions, (short) rf);
        if (configs != null) t.configs(configs);
        admin.createTopics(List.of(t)).all().get(30, TimeUnit.SECONDS);
        // Every partition has a leader that answers a ListOffsets.
        await("topic " + topic + " has leaders for its " + partitions + " partitions", 30000, () -> {
            try {
                Map<TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> q = new HashMap<>();
                for (TopicPartition tp : partitions(topic, partitions)) q.put(tp, org.apache.kafka.clients.admin.OffsetSpec.latest());
                admin.listOffsets(q).all().get(10, TimeUnit.SECONDS);
                return true;
            } catch (Exception e) {
                return false;
            }
        }, null);
    }

    /**
     * Everything a fresh consumer of the given isolation level reads from the start of the
     * partitions up to their end as that consumer sees it (read_committed: the last stable
     * offset, awaited to be the log end when untilLogEnd), per partition in order.
     */
    static Map<TopicPartition, List<ConsumerRecord<String, String>>> readAll(String bootstrap, Collection<TopicPartition> tps,
                                                                           boolean committed, long timeoutMs) {
        Map<TopicPartition, List<ConsumerRecord<String, String>>> out = new HashMap<>();
        for (TopicPartition tp : tps) out.put(tp, new ArrayList<>());
        try (KafkaConsumer<String, String> c = consumer(bootstrap, committed)) {
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps, Duration.ofSeconds(30));
            long deadline = System.currentTimeMillis() + timeoutMs;
            while (true) {
                boolean done = true;
                for (TopicPartition tp : tps) if (c.position(tp, Duration.ofSeconds(30)) < end.get(tp)) done = false;
                if (done) break;
                if (System.currentTimeMillis() > deadline) {
                    Map<TopicPartition, Long> pos = new HashMap<>();
                    for (TopicPartition tp : tps) pos.put(tp, c.position(tp));
                    throw new Check((committed ? "read_committed" : "read_uncommitted") + " consumer did not reach " + end
                        + " within " + timeoutMs + " ms: positions " + pos);
                }
                ConsumerRecords<String, String> recs = c.poll(Duration.ofMillis(200));
                for (ConsumerRecord<String, String> r : recs) out.get(new TopicPartition(r.topic(), r.partition())).add(r);
            }
        }
        return out;
    }

    static Map<TopicPartition, Long> endOffsets(String bootstrap, Collection<TopicPartition> tps, boolean committed) {
        try (KafkaConsumer<String, String> c = consumer(bootstrap, committed)) {
            return c.endOffsets(tps, Duration.ofSeconds(30));
        }
    }

    static List<String> values(List<ConsumerRecord<String, String>> recs) {
        List<String> out = new ArrayList<>();
        for (ConsumerRecord<String, String> r : recs) out.add(r.value());
        return out;
    }

    static String env(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? dflt : v;
    }

    static String arg(String[] args, String name, String dflt) {
        for (int i = 0; i + 1 < args.length; i++) if (args[i].equals(name)) return args[i + 1];
        return dflt;
    }
}
