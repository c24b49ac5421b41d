// Cluster-mode scenarios for the stock Apache Kafka Java client (kafka-clients 4.1.1): Admin,
// KafkaProducer and KafkaConsumer against a 3-node weir cluster that this program starts, kills
// (SIGKILL) and restarts itself (see run.sh for the node command).
//
// Usage: java -cp 'build/classes:../java/libs/*' WeirCluster WEIR_BIN WORK_DIR PIDFILE
// Node logs: WORK_DIR/node<N>.log. The PID of every weir started is appended to PIDFILE (run.sh
// stops whatever is left). Prints one line per scenario: "PASS cluster: java N ..." or
// "FAIL cluster: java N ... -- detail"; lines starting with two spaces are information.
// Every scenario runs under its own deadline and every wait polls a condition against a
// deadline, so a broken cluster makes scenarios fail instead of hanging.
//
//   1  the cluster forms: describeCluster through each node lists the 3 brokers and a controller
//   2  a 6-partition topic created through node 2 is described alike by nodes 1 and 3, its
//      leaders covering the three brokers
//   2a describeMetadataQuorum through each node: leader = describeCluster's controller, voters
//      exactly {1, 2, 3} (no observers), the leader's own log end offset >= 0, leaderEpoch >= 1
//   2b createTopics with a manual replica assignment is described so; an unknown broker id or a
//      duplicate replica fails with InvalidReplicaAssignment, replication factor 4 with
//      InvalidReplicationFactor (and none of those topics exists)
//   2c createPartitions with assignments puts the new partitions on the given brokers; a
//      decrease fails with InvalidPartitions
//   2d a group consumer subscribed to the topic of 2 reads the 6 records produced (one per
//      partition); describeConsumerGroups: Stable, 1 member, a coordinator; the offsets of
//      commitSync are listed; after close the group is Empty and keeps them
//   3  600 keyed records (acks=all, idempotent) produced through node 3 are read back exactly once
//   4  the controller killed: within 10 s a topic created through one survivor is seen by the
//      other; 4b its partitions lose their leader, then the node, restarted, rejoins
//   5  a non-controller leader killed: after the session timeout its partitions have no leader,
//      the others keep theirs, take produce and fetch
//   6  that node restarted: it leads its partitions again, every acknowledged record is read back

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.CreatePartitionsOptions;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.DescribeConsumerGroupsOptions;
import org.apache.kafka.clients.admin.DescribeMetadataQuorumOptions;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.QuorumInfo;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidReplicaAssignmentException;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class WeirCluster {
    static final String CLIENT = "cluster";
    static final String C = "java";
    static final int SESSION_MS = 3000;
    static final int HEARTBEAT_MS = 500;
    static final long CREATE_WITHIN_MS = 10_000;
    static final long RUN_BUDGET_MS = 330_000;
    static final long RUN_DEADLINE = System.currentTimeMillis() + RUN_BUDGET_MS;
    static final String RUN_ID = UUID.randomUUID().toString().substring(0, 8);

    static int passed = 0;
    static int failed = 0;

    // ---------------------------------------------------------------- verdicts

    interface Body {
        void run() throws Exception;
    }

    interface Cond {
        boolean get() throws Exception;
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

    static <T> T need(T value, String scenario) {
        if (value == null) throw new Check("depends on scenario " + scenario + ", which failed");
        return value;
    }

    static final ExecutorService EXEC = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r);
        t.setDaemon(true);
        return t;
    });

    static void scenario(String name, long timeoutMs, Body body) {
        name = C + " " + name;
        long budget = Math.min(timeoutMs, RUN_DEADLINE - System.currentTimeMillis());
        String detail = null;
        if (budget <= 0) {
            detail = "not run: the run's budget of " + RUN_BUDGET_MS / 1000 + " s is used up";
        } else {
            Future<?> f = EXEC.submit(() -> {
                body.run();
                return null;
            });
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
        }
        if (detail == null) {
            passed++;
            System.out.println("PASS " + CLIENT + ": " + name);
        } else {
            failed++;
            System.out.println("FAIL " + CLIENT + ": " + name + " -- " + detail.replace('\n', ' '));
        }
        System.out.flush();
    }

    static void info(String msg) {
        System.out.println("  " + C + ": " + msg);
        System.out.flush();
    }

    static String describe(Throwable t) {
        if (t instanceof Check) return t.getMessage();
        StringBuilder sb = new StringBuilder();
        Throwable cur = t;
        for (int depth = 0; cur != null && depth < 4; depth++) {
            if (depth > 0) sb.append(" <- caused by: ");
            sb.append(cur.getClass().getName()).append(": ").append(cur.getMessage());
            if (cur.getCause() == cur) break;
            cur = cur.getCause();
        }
        return sb.toString();
    }

    /** Polls `cond` until it holds; fails with `what` and `state` once `timeoutMs` passed. */
    static void waitFor(String what, long timeoutMs, long stepMs, Cond cond, Supplier<String> state) throws Exception {
        long end = System.currentTimeMillis() + timeoutMs;
        while (!cond.get()) {
            if (System.currentTimeMillis() >= end) throw new Check(what + " not reached within " + timeoutMs / 1000 + " s; " + state.get());
            Thread.sleep(stepMs); // polling interval, bounded by the deadline above
        }
    }

    // ---------------------------------------------------------------- the cluster

    /** Brokers this program started: killed on exit whatever happens. */
    static final List<Process> CHILDREN = new ArrayList<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            synchronized (CHILDREN) {
                CHILDREN.forEach(Process::destroyForcibly);
            }
        }));
    }

    static final class WeirNode {
        final int id;
        final int port;
        final Path log;
        final Path pidfile;
        final List<String> cmd;
        Process proc;

        WeirNode(String bin, int id, Path work, int port, int cport, String voters, Path pidfile) {
            this.id = id;
            this.port = port;
            this.log = work.resolve("node" + id + ".log");
            this.pidfile = pidfile;
            this.cmd = List.of(bin, "--node-id", Integer.toString(id), "--data-dir", work.resolve("node" + id + "-data").toString(),
                    "--listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + cport,
                    "--override", "controller.quorum.voters=" + voters,
                    "--override", "broker.session.timeout.ms=" + SESSION_MS,
                    "--override", "broker.heartbeat.interval.ms=" + HEARTBEAT_MS);
        }

        String bootstrap() {
            return "127.0.0.1:" + port;
        }

        /** Starts the process (the same command every time); does not wait for it. */
        void start() throws IOException {
            Files.writeString(log, "==== start: " + String.join(" ", cmd) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            synchronized (CHILDREN) {
                proc = pb.start();
                CHILDREN.add(proc);
            }
            Files.writeString(pidfile, proc.pid() + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }

        boolean alive() {
            return proc != null && proc.isAlive();
        }

        boolean listening() {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return true;
            } catch (IOException e) {
                return false;
            }
        }

        /** SIGKILL (Process.destroyForcibly on Linux), then waits for the exit. */
        void kill9() throws InterruptedException {
            proc.destroyForcibly();
            check(proc.waitFor(30, TimeUnit.SECONDS), "node " + id + " still running 30 s after SIGKILL");
        }

        /** SIGTERM, then SIGKILL if still running 15 s later. */
        void stop() throws InterruptedException {
            if (!alive()) return;
            proc.destroy();
            if (!proc.waitFor(15, TimeUnit.SECONDS)) {
                proc.destroyForcibly();
                proc.waitFor(15, TimeUnit.SECONDS);
            }
        }

        String logTail() {
            try {
                List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8).stream()
                        .map(l -> l.replaceAll("\u001B\\[[0-9;]*m", "").trim())
                        .filter(l -> !l.isEmpty() && !l.startsWith("at ") && !l.startsWith("====") && !l.matches("\\d+: .*"))
                        .collect(Collectors.toList());
                String first = lines.stream().filter(l -> l.matches("(?i).*(error|panicked).*")).findFirst().orElse("");
                return first + " | " + String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
            } catch (IOException e) {
                return "(no log: " + e + ")";
            }
        }
    }

    static final Map<Integer, WeirNode> NODES = new TreeMap<>();

    static List<WeirNode> others(int id) {
        return NODES.values().stream().filter(n -> n.id != id).collect(Collectors.toList());
    }

    static String bootstrapOf(Collection<WeirNode> nodes) {
        return nodes.stream().map(WeirNode::bootstrap).collect(Collectors.joining(","));
    }

    static void waitListening(Collection<WeirNode> nodes, long timeoutMs) throws Exception {
        long end = System.currentTimeMillis() + timeoutMs;
        for (WeirNode n : nodes) {
            while (!n.listening()) {
                if (!n.alive()) throw new Check("node " + n.id + " exited with status " + n.proc.exitValue() + ": " + n.logTail());
                if (System.currentTimeMillis() >= end) throw new Check("node " + n.id + "'s port " + n.port + " not open "
                        + timeoutMs / 1000 + " s after the start: " + n.logTail());
                Thread.sleep(100); // polling interval, bounded by the deadline above
            }
        }
    }

    /** {id: "127.0.0.1:port"}: the brokers every node's metadata must list. */
    static Map<Integer, String> expectedBrokers() {
        Map<Integer, String> m = new TreeMap<>();
        NODES.values().forEach(n -> m.put(n.id, n.bootstrap()));
        return m;
    }

    static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    // ---------------------------------------------------------------- clients

    static Properties common(String bootstrap) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("client.id", "weir-compat-cluster-java");
        p.put("request.timeout.ms", "5000");
        p.put("default.api.timeout.ms", "10000");
        p.put("socket.connection.setup.timeout.ms", "3000");
        p.put("socket.connection.setup.timeout.max.ms", "5000");
        p.put("reconnect.backoff.ms", "50");
        p.put("reconnect.backoff.max.ms", "500");
        p.put("retry.backoff.ms", "100");
        p.put("retry.backoff.max.ms", "500");
        p.put("metadata.max.age.ms", "2000");
        return p;
    }

    interface AdminFn<T> {
        T apply(Admin a) throws Exception;
    }

    /** fn applied to a fresh Admin that knows only `bootstrap`, so its first requests go there. */
    static <T> T withAdmin(String bootstrap, AdminFn<T> fn) throws Exception {
        Admin a = Admin.create(common(bootstrap));
        try {
            return fn.apply(a);
        } finally {
            a.close(Duration.ofSeconds(1));
        }
    }

    static <T> T get(KafkaFuture<T> f, long ms) throws Exception {
        return f.get(Math.max(1, ms), TimeUnit.MILLISECONDS);
    }

    /** describeCluster through `bootstrap`: {id: host:port} and the controller id (-1: none). */
    record ClusterView(Map<Integer, String> brokers, int controller) {
    }

    static ClusterView describeCluster(String bootstrap) {
        try {
            return withAdmin(bootstrap, a -> {
                DescribeClusterResult r = a.describeCluster(new DescribeClusterOptions().timeoutMs(4000));
                Map<Integer, String> brokers = new TreeMap<>();
                for (Node n : get(r.nodes(), 5000)) brokers.put(n.id(), n.host() + ":" + n.port());
                Node c = get(r.controller(), 5000);
                return new ClusterView(brokers, c == null || c.isEmpty() ? -1 : c.id());
            });
        } catch (Exception e) {
            return null;
        }
    }

    /** {partition: leader id, -1 for none} of `topic` by Admin.describeTopics through `bootstrap`
     * (DescribeTopicPartitions, leaders resolved against describeCluster's brokers, as
     * kafka-topics --describe shows them); null if not described. */
    static Map<Integer, Integer> describedLeaders(String bootstrap, String topic, long timeoutMs) {
        try {
            return withAdmin(bootstrap, a -> {
                TopicDescription d = get(a.describeTopics(List.of(topic), new DescribeTopicsOptions().timeoutMs((int) timeoutMs))
                        .allTopicNames(), timeoutMs + 1000).get(topic);
                return d == null ? null : leaders(d);
            });
        } catch (Exception e) {
            return null;
        }
    }

    /** {partition: leader id, -1 for none} of `topic` in a Metadata response, as a fresh
     * KafkaConsumer on `bootstrap` gets it (partitionsFor; no auto-creation); null if the topic is
     * not listed. */
    static Map<Integer, Integer> metadataLeaders(String bootstrap, String topic, long timeoutMs) {
        Properties p = common(bootstrap);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            List<PartitionInfo> parts = c.partitionsFor(topic, Duration.ofMillis(timeoutMs));
            if (parts == null || parts.isEmpty()) return null;
            Map<Integer, Integer> m = new TreeMap<>();
            for (PartitionInfo pi : parts) {
                Node l = pi.leader();
                m.put(pi.partition(), l == null || l.isEmpty() || l.id() < 0 ? -1 : l.id());
            }
            return m;
        } catch (Exception e) {
            return null;
        }
    }

    static Map<Integer, Integer> leaders(TopicDescription d) {
        Map<Integer, Integer> m = new TreeMap<>();
        for (TopicPartitionInfo p : d.partitions()) {
            Node l = p.leader();
            m.put(p.partition(), l == null || l.isEmpty() || l.id() < 0 ? -1 : l.id());
        }
        return m;
    }

    static KafkaProducer<String, String> producer(String bootstrap) {
        Properties p = common(bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "15000");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        return new KafkaProducer<>(p);
    }

    /** A consumer without group.id: explicit assignment only, no commits. */
    static KafkaConsumer<String, String> consumer(String bootstrap) {
        Properties p = common(bootstrap);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "200");
        return new KafkaConsumer<>(p);
    }

    record Pos(int partition, long offset) {
    }

    /** A record to send: key, value, partition (null: the producer's partitioner chooses). */
    record Out(String key, String value, Integer partition) {
    }

    /** Sends every record (acks=all) and waits for each acknowledgement: {value: (partition, offset)}. */
    static Map<String, Pos> produceAll(String bootstrap, String topic, List<Out> records) throws Exception {
        Map<String, Pos> acked = new LinkedHashMap<>();
        try (KafkaProducer<String, String> p = producer(bootstrap)) {
            List<Future<RecordMetadata>> fs = new ArrayList<>();
            for (Out r : records) fs.add(p.send(new ProducerRecord<>(topic, r.partition(), r.key(), r.value())));
            p.flush();
            for (int i = 0; i < fs.size(); i++) {
                RecordMetadata md = fs.get(i).get(35, TimeUnit.SECONDS);
                acked.put(records.get(i).value(), new Pos(md.partition(), md.offset()));
            }
        }
        return acked;
    }

    /** Reads with assign() from {partition: offset, null for the beginning} until `want` records
     * came or `timeoutMs` passed. */
    static List<ConsumerRecord<String, String>> readAssigned(String bootstrap, String topic, Map<Integer, Long> starts,
            int want, long timeoutMs) {
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        try (KafkaConsumer<String, String> c = consumer(bootstrap)) {
            List<TopicPartition> tps = starts.keySet().stream().map(p -> new TopicPartition(topic, p)).collect(Collectors.toList());
            c.assign(tps);
            for (TopicPartition tp : tps) {
                Long o = starts.get(tp.partition());
                if (o == null) c.seekToBeginning(List.of(tp));
                else c.seek(tp, o);
            }
            long end = System.currentTimeMillis() + timeoutMs;
            while (got.size() < want && System.currentTimeMillis() < end) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) got.add(r);
            }
        }
        return got;
    }

    /** Asserts that `got` is exactly the acknowledged records, each once, at its acknowledged
     * (partition, offset), with the key the value starts with. */
    static void checkRead(List<ConsumerRecord<String, String>> got, Map<String, Pos> acked, String what) {
        Map<String, Integer> counts = new HashMap<>();
        List<String> misplaced = new ArrayList<>();
        List<String> wrongKey = new ArrayList<>();
        for (ConsumerRecord<String, String> r : got) {
            counts.merge(r.value(), 1, Integer::sum);
            Pos want = acked.get(r.value());
            if (want != null && (want.partition() != r.partition() || want.offset() != r.offset()))
                misplaced.add(r.value() + " at " + r.partition() + "/" + r.offset() + " acked " + want);
            if (!Objects.equals(r.key(), r.value().split("\\|")[0])) wrongKey.add(r.key() + "=" + r.value());
        }
        List<String> dupes = counts.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).collect(Collectors.toList());
        List<String> missing = acked.keySet().stream().filter(v -> !counts.containsKey(v)).collect(Collectors.toList());
        List<String> extra = counts.keySet().stream().filter(v -> !acked.containsKey(v)).collect(Collectors.toList());
        check(dupes.isEmpty() && missing.isEmpty() && extra.isEmpty() && misplaced.isEmpty() && wrongKey.isEmpty(),
                what + ": read " + got.size() + " of " + acked.size() + "; missing " + missing.size() + " " + head(missing)
                        + ", duplicated " + dupes.size() + " " + head(dupes) + ", unknown " + head(extra)
                        + ", not at the acknowledged (partition, offset) " + head(misplaced) + ", wrong key " + head(wrongKey));
    }

    static String head(List<String> l) {
        return l.subList(0, Math.min(3, l.size())).toString();
    }

    // ---------------------------------------------------------------- state handed on

    static volatile Boolean started;
    static volatile String topic;
    static volatile Map<Integer, Integer> topicLeaders;
    static final Map<String, Pos> ACKED = new LinkedHashMap<>();
    static volatile Boolean produced;
    static volatile WeirNode deadController;
    static volatile Boolean rejoined;
    static volatile WeirNode deadBroker;
    static volatile List<Integer> deadParts;

    // ---------------------------------------------------------------- scenarios

    static void s1Forms() throws Exception {
        long t0 = System.currentTimeMillis();
        for (WeirNode n : NODES.values()) n.start();
        waitListening(NODES.values(), 30_000);
        started = true; // the later scenarios run even if this one finds a wrong answer
        Map<Integer, String> want = expectedBrokers();
        for (WeirNode n : NODES.values()) {
            ClusterView[] last = {null};
            waitFor("describeCluster through node " + n.id + ": brokers " + want + " and a controller",
                    Math.max(1, 60_000 - (System.currentTimeMillis() - t0)), 500, () -> {
                        last[0] = describeCluster(n.bootstrap());
                        return last[0] != null && last[0].brokers().equals(want) && want.containsKey(last[0].controller());
                    }, () -> "last seen " + last[0]);
        }
        info("1: every node described 3 brokers and a controller " + (System.currentTimeMillis() - t0) / 1000.0
                + " s after the start");
    }

    static void s2Topic() throws Exception {
        need(started, "1");
        String t = "java-cl6-" + RUN_ID;
        withAdmin(NODES.get(2).bootstrap(), a -> get(a.createTopics(List.of(new NewTopic(t, 6, (short) 1)),
                new CreateTopicsOptions().timeoutMs(15_000)).all(), 20_000));
        topic = t; // scenario 3 needs only the topic; 4b-6 need its checked leaders too
        // Metadata (KafkaConsumer.partitionsFor) through nodes 1 and 3: six led partitions, alike.
        Map<Integer, Map<Integer, Integer>> md = new TreeMap<>();
        waitFor("Metadata through nodes 1 and 3 listing the topic's 6 partitions alike, each with a leader", 20_000, 250, () -> {
            for (int i : new int[] {1, 3}) md.put(i, metadataLeaders(NODES.get(i).bootstrap(), t, 3000));
            Map<Integer, Integer> m = md.get(1);
            return m != null && m.size() == 6 && m.equals(md.get(3)) && !m.containsValue(-1);
        }, () -> "node 1: " + md.get(1) + ", node 3: " + md.get(3));
        Map<Integer, Integer> l = md.get(1);
        check(new TreeSet<>(l.values()).equals(Set.of(1, 2, 3)), "leaders " + l + " do not cover brokers 1, 2 and 3");
        topicLeaders = l;
        // Admin.describeTopics through nodes 1 and 3 (what kafka-topics --describe shows): the
        // same leaders, replication factor 1.
        Map<Integer, Map<Integer, String>> views = new TreeMap<>();
        waitFor("describeTopics through nodes 1 and 3 showing leaders " + l + " and replicas [leader]", 10_000, 250, () -> {
            for (int i : new int[] {1, 3}) {
                try {
                    views.put(i, withAdmin(NODES.get(i).bootstrap(), a -> {
                        TopicDescription d = get(a.describeTopics(List.of(t), new DescribeTopicsOptions().timeoutMs(3000))
                                .allTopicNames(), 4000).get(t);
                        Map<Integer, String> m = new TreeMap<>();
                        for (TopicPartitionInfo p : d.partitions())
                            m.put(p.partition(), "leader " + (p.leader() == null ? "none" : Integer.toString(p.leader().id()))
                                    + " replicas " + p.replicas().stream().map(Node::id).collect(Collectors.toList()));
                        return m;
                    }));
                } catch (Exception e) {
                    views.put(i, Map.of(-1, describe(e)));
                }
            }
            Map<Integer, String> want = new TreeMap<>();
            l.forEach((p, leader) -> want.put(p, "leader " + leader + " replicas [" + leader + "]"));
            return want.equals(views.get(1)) && want.equals(views.get(3));
        }, () -> "node 1: " + views.get(1) + ", node 3: " + views.get(3));
    }

    // ---------------------------------------------------------------- 2a-2d: while all 3 nodes are up

    static String replicas(List<QuorumInfo.ReplicaState> l) {
        return l.stream().map(r -> r.replicaId() + ":" + r.logEndOffset()).collect(Collectors.joining(", ", "[", "]"));
    }

    static String quorumSummary(QuorumInfo q) {
        return "leaderId " + q.leaderId() + ", leaderEpoch " + q.leaderEpoch() + ", highWatermark " + q.highWatermark()
                + ", voters (id:logEndOffset) " + replicas(q.voters()) + ", observers " + replicas(q.observers());
    }

    /** describeCluster's controller id through `a`; -1 for none or an error. */
    static int controllerOf(Admin a) {
        try {
            Node c = get(a.describeCluster(new DescribeClusterOptions().timeoutMs(3000)).controller(), 4000);
            return c == null || c.isEmpty() ? -1 : c.id();
        } catch (Exception e) {
            return -1;
        }
    }

    static void s2aQuorum() throws Exception {
        need(started, "1");
        List<String> seen = new ArrayList<>();
        for (WeirNode n : NODES.values()) {
            String req = "DescribeQuorum (Admin.describeMetadataQuorum) through node " + n.id;
            QuorumInfo[] q = {null};
            int[] ctrl = {-1};
            String[] last = {"nothing"};
            // The quorum read between two describeCluster calls that name the same controller: no
            // election came in between, so the two answers must agree.
            withAdmin(n.bootstrap(), a -> {
                waitFor(req + " answered between two describeCluster calls naming the same controller", 15_000, 250, () -> {
                    int before = controllerOf(a);
                    QuorumInfo got;
                    try {
                        got = get(a.describeMetadataQuorum(new DescribeMetadataQuorumOptions().timeoutMs(4000)).quorumInfo(), 5000);
                    } catch (ExecutionException e) {
                        last[0] = "error " + describe(e.getCause());
                        return false;
                    } catch (TimeoutException e) {
                        last[0] = "no answer within 5 s";
                        return false;
                    }
                    int after = controllerOf(a);
                    last[0] = "controller " + before + " before and " + after + " after the quorum " + quorumSummary(got);
                    if (before < 0 || before != after) return false;
                    q[0] = got;
                    ctrl[0] = before;
                    return true;
                }, () -> "last: " + last[0]);
                return null;
            });
            QuorumInfo qi = q[0];
            String got = quorumSummary(qi);
            check(qi.leaderId() == ctrl[0], req + ": expected leaderId = describeCluster's controller " + ctrl[0] + ", got " + got);
            Set<Integer> voters = qi.voters().stream().map(QuorumInfo.ReplicaState::replicaId).collect(Collectors.toCollection(TreeSet::new));
            check(qi.voters().size() == 3 && voters.equals(Set.of(1, 2, 3)), req + ": expected voters exactly {1, 2, 3}, got " + got);
            QuorumInfo.ReplicaState leader = qi.voters().stream().filter(r -> r.replicaId() == qi.leaderId()).findFirst().orElse(null);
            check(leader != null && leader.logEndOffset() >= 0,
                    req + ": expected the leader's own voter entry with logEndOffset >= 0, got " + got);
            check(qi.observers().isEmpty(), req + ": expected no observers (every node is a voter), got " + got);
            check(qi.leaderEpoch() >= 1, req + ": expected leaderEpoch >= 1, got " + got);
            seen.add("node " + n.id + ": " + got);
        }
        info("2a: " + String.join("; ", seen));
    }

    static String ids(List<Node> nodes) {
        return nodes.stream().map(Node::id).collect(Collectors.toList()).toString();
    }

    /** {partition: "leader L replicas [..]"} as Admin.describeTopics through `bootstrap` shows
     * `topic`; {-1: the error} if it could not be described. */
    static Map<Integer, String> describedLayout(String bootstrap, String topic, long timeoutMs) {
        try {
            return withAdmin(bootstrap, a -> {
                TopicDescription d = get(a.describeTopics(List.of(topic), new DescribeTopicsOptions().timeoutMs((int) timeoutMs))
                        .allTopicNames(), timeoutMs + 1000).get(topic);
                Map<Integer, String> m = new TreeMap<>();
                for (TopicPartitionInfo p : d.partitions())
                    m.put(p.partition(), "leader " + (p.leader() == null || p.leader().isEmpty() ? "none" : Integer.toString(p.leader().id()))
                            + " replicas " + ids(p.replicas()));
                return m;
            });
        } catch (ExecutionException e) {
            return Map.of(-1, describe(e.getCause()));
        } catch (Exception e) {
            return Map.of(-1, describe(e));
        }
    }

    /** The layout of replica lists {partition: [brokers]}: each partition led by its first replica. */
    static Map<Integer, String> layoutOf(Map<Integer, List<Integer>> assignment) {
        Map<Integer, String> m = new TreeMap<>();
        assignment.forEach((p, r) -> m.put(p, "leader " + r.get(0) + " replicas " + r));
        return m;
    }

    /** Waits until describeTopics through each of `nodes` shows `want` for `topic`. */
    static void waitLayout(String what, List<WeirNode> nodes, String topic, Map<Integer, String> want, long timeoutMs) throws Exception {
        Map<Integer, Map<Integer, String>> views = new TreeMap<>();
        waitFor(what + " through nodes " + nodes.stream().map(n -> n.id).collect(Collectors.toList()) + " showing " + want,
                timeoutMs, 250, () -> {
                    for (WeirNode n : nodes) {
                        views.put(n.id, describedLayout(n.bootstrap(), topic, 3000));
                        if (!want.equals(views.get(n.id))) return false;
                    }
                    return true;
                }, () -> "got " + views.entrySet().stream().map(e -> "node " + e.getKey() + ": " + e.getValue())
                        .collect(Collectors.joining(", ")));
    }

    /** null if `f` fails with `want`; else what happened instead. */
    static String failsWith(Class<? extends Throwable> want, KafkaFuture<?> f) {
        try {
            get(f, 10_000);
            return "success";
        } catch (ExecutionException e) {
            return want.isInstance(e.getCause()) ? null : describe(e.getCause());
        } catch (Exception e) {
            return describe(e);
        }
    }

    static volatile String assignTopic;

    static void s2bAssign() throws Exception {
        need(started, "1");
        String t = "java-cl-assign-" + RUN_ID;
        Map<Integer, List<Integer>> asg = new TreeMap<>(Map.of(0, List.of(2), 1, List.of(3), 2, List.of(1)));
        String req = "CreateTopics " + t + " with replica assignment " + asg + " through node 1";
        withAdmin(NODES.get(1).bootstrap(), a -> {
            try {
                get(a.createTopics(List.of(new NewTopic(t, asg)), new CreateTopicsOptions().timeoutMs(10_000)).all(), 15_000);
            } catch (ExecutionException e) {
                throw new Check(req + ": expected success, got " + describe(e.getCause()));
            }
            return null;
        });
        assignTopic = t;
        waitLayout(req + ", then describeTopics", List.of(NODES.get(2), NODES.get(3)), t, layoutOf(asg), 15_000);
        String unknown = "java-cl-bad-broker-" + RUN_ID, dup = "java-cl-dup-replica-" + RUN_ID, rf4 = "java-cl-rf4-" + RUN_ID;
        withAdmin(NODES.get(1).bootstrap(), a -> {
            CreateTopicsOptions o = new CreateTopicsOptions().timeoutMs(8000);
            String r = failsWith(InvalidReplicaAssignmentException.class,
                    a.createTopics(List.of(new NewTopic(unknown, Map.of(0, List.of(9)))), o).all());
            check(r == null, "CreateTopics " + unknown + " with replica assignment {0=[9]} (no broker 9): expected "
                    + "InvalidReplicaAssignmentException, got " + r);
            r = failsWith(InvalidReplicaAssignmentException.class, a.createTopics(List.of(new NewTopic(dup, Map.of(0, List.of(1, 1)))), o).all());
            check(r == null, "CreateTopics " + dup + " with replica assignment {0=[1, 1]} (a duplicate replica): expected "
                    + "InvalidReplicaAssignmentException, got " + r);
            r = failsWith(InvalidReplicationFactorException.class, a.createTopics(List.of(new NewTopic(rf4, 1, (short) 4)), o).all());
            check(r == null, "CreateTopics " + rf4 + " with 1 partition, replication factor 4 (3 brokers): expected "
                    + "InvalidReplicationFactorException, got " + r);
            Set<String> names = get(a.listTopics(new ListTopicsOptions().timeoutMs(5000)).names(), 6000);
            List<String> made = List.of(unknown, dup, rf4).stream().filter(names::contains).collect(Collectors.toList());
            check(made.isEmpty(), "ListTopics (Metadata) after the three rejected CreateTopics: expected none of them, got " + made);
            return null;
        });
    }

    static void s2cPartitions() throws Exception {
        String t = need(assignTopic, "2b");
        String req = "CreatePartitions " + t + " (partitions 0-2 on brokers 2, 3, 1) increaseTo(5, [[3], [2]]) through node 3";
        withAdmin(NODES.get(3).bootstrap(), a -> {
            try {
                get(a.createPartitions(Map.of(t, NewPartitions.increaseTo(5, List.of(List.of(3), List.of(2)))),
                        new CreatePartitionsOptions().timeoutMs(10_000)).all(), 15_000);
            } catch (ExecutionException e) {
                throw new Check(req + ": expected success, got " + describe(e.getCause()));
            }
            return null;
        });
        Map<Integer, String> want = layoutOf(new TreeMap<>(Map.of(0, List.of(2), 1, List.of(3), 2, List.of(1), 3, List.of(3), 4, List.of(2))));
        waitLayout(req + ", then describeTopics", List.of(NODES.get(1), NODES.get(2)), t, want, 15_000);
        String r = withAdmin(NODES.get(1).bootstrap(), a -> failsWith(InvalidPartitionsException.class,
                a.createPartitions(Map.of(t, NewPartitions.increaseTo(4)), new CreatePartitionsOptions().timeoutMs(8000)).all()));
        check(r == null, "CreatePartitions " + t + " increaseTo(4) (it has 5) through node 1: expected InvalidPartitionsException, got " + r);
        Map<Integer, String> after = describedLayout(NODES.get(2).bootstrap(), t, 4000);
        check(want.equals(after), "describeTopics " + t + " through node 2 after the rejected increaseTo(4): expected " + want
                + " unchanged, got " + after);
    }

    /** {partition: committed offset} of `group` for `topic` by Admin.listConsumerGroupOffsets (OffsetFetch). */
    static Map<Integer, Long> committed(Admin a, String group, String topic) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> m = get(a.listConsumerGroupOffsets(group, new ListConsumerGroupOffsetsOptions().timeoutMs(5000))
                .partitionsToOffsetAndMetadata(), 6000);
        Map<Integer, Long> out = new TreeMap<>();
        m.forEach((tp, om) -> {
            if (tp.topic().equals(topic)) out.put(tp.partition(), om == null ? null : om.offset());
        });
        return out;
    }

    static String groupSummary(ConsumerGroupDescription d) {
        return "state " + d.groupState() + ", " + d.members().size() + " members "
                + d.members().stream().map(m -> m.consumerId() + " assigned " + m.assignment().topicPartitions().stream()
                        .map(TopicPartition::partition).sorted().collect(Collectors.toList())).collect(Collectors.toList())
                + ", coordinator " + (d.coordinator() == null || d.coordinator().isEmpty() ? "none" : Integer.toString(d.coordinator().id()));
    }

    static ConsumerGroupDescription describeGroup(Admin a, String group) throws Exception {
        return get(a.describeConsumerGroups(List.of(group), new DescribeConsumerGroupsOptions().timeoutMs(5000)).describedGroups().get(group), 6000);
    }

    static void s2dGroup() throws Exception {
        String t = need(topic, "2");
        String g = "java-cl-group-" + RUN_ID;
        List<Out> records = new ArrayList<>();
        for (int p = 0; p < 6; p++) {
            String k = String.format("j2d-p%d", p);
            records.add(new Out(k, k + "|r0", p));
        }
        Map<String, Pos> acked = produceAll(NODES.get(1).bootstrap(), t, records);
        synchronized (ACKED) {
            ACKED.putAll(acked); // read back again by 3 and 6
        }
        Map<Integer, Long> wantCommitted = new TreeMap<>();
        acked.values().forEach(x -> wantCommitted.merge(x.partition(), x.offset() + 1, Math::max));
        Set<TopicPartition> all = new HashSet<>();
        for (int p = 0; p < 6; p++) all.add(new TopicPartition(t, p));
        Properties p = common(bootstrapOf(NODES.values()));
        p.put(ConsumerConfig.GROUP_ID_CONFIG, g);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "200");
        String who = "KafkaConsumer (group " + g + ", classic protocol) subscribed to " + t;
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        long t0 = System.currentTimeMillis();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            c.subscribe(List.of(t));
            long end = t0 + 30_000;
            while (got.size() < records.size() && System.currentTimeMillis() < end)
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) got.add(r);
            check(!got.isEmpty(), who + ": expected the " + records.size() + " records produced, got none within 30 s; assignment "
                    + c.assignment());
            long took = System.currentTimeMillis() - t0;
            checkRead(got, acked, who);
            check(c.assignment().equals(all), who + ": expected all 6 partitions assigned to the group's only member, got "
                    + c.assignment());
            // While the consumer is the group's member: DescribeGroups through the coordinator.
            withAdmin(NODES.get(2).bootstrap(), a -> {
                ConsumerGroupDescription d = describeGroup(a, g);
                int coord = d.coordinator() == null || d.coordinator().isEmpty() ? -1 : d.coordinator().id();
                check(d.groupState() == GroupState.STABLE && d.members().size() == 1 && NODES.containsKey(coord),
                        "describeConsumerGroups " + g + " (Admin through node 2) with its one consumer in: expected state Stable, "
                                + "1 member, coordinator in {1, 2, 3}, got " + groupSummary(d));
                Set<TopicPartition> assigned = d.members().iterator().next().assignment().topicPartitions();
                check(assigned.equals(all), "describeConsumerGroups " + g + ": expected the member assigned all 6 partitions of "
                        + t + ", got " + groupSummary(d));
                info("2d: " + who + " read " + got.size() + " records " + took / 1000.0 + " s after subscribe; group "
                        + groupSummary(d));
                return null;
            });
            c.commitSync(Duration.ofSeconds(10));
            withAdmin(NODES.get(3).bootstrap(), a -> {
                Map<Integer, Long> listed = committed(a, g, t);
                check(wantCommitted.equals(listed), "listConsumerGroupOffsets " + g + " (OffsetFetch, Admin through node 3) after "
                        + "commitSync: expected {partition: offset} " + wantCommitted + ", got " + listed);
                return null;
            });
        }
        // The consumer closed (LeaveGroup): the group is empty, its offsets stay.
        withAdmin(NODES.get(1).bootstrap(), a -> {
            ConsumerGroupDescription[] d = {null};
            waitFor("describeConsumerGroups " + g + " (Admin through node 1) after the consumer's close: state Empty, no members",
                    5000, 250, () -> {
                        d[0] = describeGroup(a, g);
                        return d[0].groupState() == GroupState.EMPTY && d[0].members().isEmpty();
                    }, () -> "got " + (d[0] == null ? "nothing" : groupSummary(d[0])));
            Map<Integer, Long> listed = committed(a, g, t);
            check(wantCommitted.equals(listed), "listConsumerGroupOffsets " + g + " (Admin through node 1) after the consumer's "
                    + "close: expected " + wantCommitted + ", got " + listed);
            return null;
        });
    }

    static void s3ProduceConsume() throws Exception {
        String t = need(topic, "2");
        List<Out> records = new ArrayList<>();
        for (int r = 0; r < 2; r++)
            for (int k = 0; k < 300; k++) records.add(new Out(String.format("key-%03d", k), String.format("key-%03d|r%d", k, r), null));
        Map<String, Pos> acked = produceAll(NODES.get(3).bootstrap(), t, records);
        check(acked.size() == 600, "acknowledged " + acked.size() + " of 600");
        Map<String, Set<Integer>> byKey = new TreeMap<>();
        acked.forEach((v, p) -> byKey.computeIfAbsent(v.split("\\|")[0], k -> new TreeSet<>()).add(p.partition()));
        List<String> split = byKey.entrySet().stream().filter(e -> e.getValue().size() > 1).map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.toList());
        check(split.isEmpty(), "keys acknowledged in more than one partition: " + head(split));
        check(new HashSet<>(acked.values()).size() == 600, "two records acknowledged at the same (partition, offset)");
        Map<Integer, Long> starts = new TreeMap<>();
        for (int p = 0; p < 6; p++) starts.put(p, null);
        // From the beginning: with the records of 2d (if any) before these.
        Map<String, Pos> all;
        synchronized (ACKED) {
            all = new LinkedHashMap<>(ACKED);
        }
        all.putAll(acked);
        List<ConsumerRecord<String, String>> got = readAssigned(NODES.get(1).bootstrap(), t, starts, all.size(), 60_000);
        checkRead(got, all, "assigned consumer through node 1" + (all.size() > 600 ? " (with the " + (all.size() - 600)
                + " records of 2d)" : ""));
        synchronized (ACKED) {
            ACKED.putAll(acked);
        }
        produced = true;
    }

    static void s4ControllerKill() throws Exception {
        need(started, "1");
        ClusterView cv = describeCluster(NODES.get(1).bootstrap());
        check(cv != null && NODES.containsKey(cv.controller()), "describeCluster through node 1: " + cv);
        WeirNode victim = NODES.get(cv.controller());
        List<WeirNode> rest = others(victim.id);
        WeirNode creator = rest.get(0), watcher = rest.get(1);
        String t = "java-cl-after-kill-" + RUN_ID;
        victim.kill9();
        long t0 = System.currentTimeMillis();
        deadController = victim;
        long deadline = t0 + CREATE_WITHIN_MS;
        boolean created = false, seen = false;
        List<String> errors = new ArrayList<>();
        while (!seen && System.currentTimeMillis() < deadline) {
            long left = Math.max(500, deadline - System.currentTimeMillis());
            if (!created) {
                // Short attempts, each with a fresh client: one that waits on a dead controller must
                // not use up the whole deadline.
                long attempt = Math.min(3000, left);
                try {
                    withAdmin(creator.bootstrap(), a -> get(a.createTopics(List.of(new NewTopic(t, 3, (short) 1)),
                            new CreateTopicsOptions().timeoutMs((int) attempt)).all(), attempt + 500));
                    created = true;
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof TopicExistsException) created = true; // an earlier attempt went through late
                    else errors.add((System.currentTimeMillis() - t0) + " ms: " + describe(e.getCause()));
                } catch (Exception e) {
                    errors.add((System.currentTimeMillis() - t0) + " ms: " + describe(e));
                }
            }
            if (created) seen = describedLeaders(watcher.bootstrap(), t, Math.min(2000, left)) != null;
            if (!seen) Thread.sleep(100); // polling interval, bounded by the deadline
        }
        long took = System.currentTimeMillis() - t0;
        check(seen, "killed controller " + victim.id + ": " + (created ? "created through" : "could not create through")
                + " node " + creator.id + (created ? ", but" : ", and") + " node " + watcher.id + " did not describe the topic "
                + took + " ms after the kill; errors " + head(errors.subList(Math.max(0, errors.size() - 3), errors.size())));
        info("4: controller " + victim.id + " killed; topic created through node " + creator.id + " and described by node "
                + watcher.id + " " + took / 1000.0 + " s after the kill (" + errors.size() + " failed attempts first)");
    }

    static void s4bRejoin() throws Exception {
        WeirNode victim = need(deadController, "4");
        String t = need(topic, "2");
        Map<Integer, Integer> leaders = need(topicLeaders, "2");
        // First fenced (so that the restart is a rejoin, not a return within the session).
        WeirNode survivor = others(victim.id).get(0);
        Map<Integer, Integer> fenced = new TreeMap<>();
        leaders.forEach((p, l) -> fenced.put(p, l == victim.id ? -1 : l));
        Map<Integer, Map<Integer, Integer>> state = new TreeMap<>();
        waitFor("node " + survivor.id + " reporting leaders " + fenced + " after node " + victim.id + "'s kill",
                SESSION_MS + 20_000, 250, () -> {
                    state.put(survivor.id, metadataLeaders(survivor.bootstrap(), t, 2000));
                    return fenced.equals(state.get(survivor.id));
                }, () -> "last seen " + state);
        victim.start();
        long t0 = System.currentTimeMillis();
        waitListening(List.of(victim), 30_000);
        waitFor("node " + victim.id + " back: Metadata through every node with leaders " + leaders, 50_000, 500, () -> {
            for (WeirNode n : NODES.values()) {
                state.put(n.id, metadataLeaders(n.bootstrap(), t, 3000));
                if (!leaders.equals(state.get(n.id))) return false;
            }
            return true;
        }, () -> "leaders by node: " + state);
        info("4b: node " + victim.id + " rejoined " + (System.currentTimeMillis() - t0) / 1000.0 + " s after its restart");
        rejoined = true;
    }

    static void s5BrokerKill() throws Exception {
        need(rejoined, "4b");
        String t = need(topic, "2");
        Map<Integer, Integer> leaders = need(topicLeaders, "2");
        need(produced, "3");
        ClusterView cv = describeCluster(NODES.get(1).bootstrap());
        int ctrl = cv == null ? -1 : cv.controller();
        TreeSet<Integer> leading = new TreeSet<>(leaders.values());
        WeirNode victim = NODES.get(leading.stream().filter(i -> i != ctrl).findFirst().orElse(leading.first()));
        List<WeirNode> survivors = others(victim.id);
        List<Integer> dead = leaders.entrySet().stream().filter(e -> e.getValue() == victim.id).map(Map.Entry::getKey).collect(Collectors.toList());
        List<Integer> live = leaders.entrySet().stream().filter(e -> e.getValue() != victim.id).map(Map.Entry::getKey).collect(Collectors.toList());
        Map<Integer, Integer> want = new TreeMap<>();
        leaders.forEach((p, l) -> want.put(p, l == victim.id ? -1 : l));
        victim.kill9();
        long t0 = System.currentTimeMillis();
        deadBroker = victim;
        Map<Integer, Map<Integer, Integer>> state = new TreeMap<>();
        waitFor("node " + survivors.get(0).id + " describing leaders " + want + " after node " + victim.id + "'s kill",
                SESSION_MS + 20_000, 250, () -> {
                    state.put(survivors.get(0).id, metadataLeaders(survivors.get(0).bootstrap(), t, 2000));
                    return want.equals(state.get(survivors.get(0).id));
                }, () -> "last seen " + state);
        long took = System.currentTimeMillis() - t0;
        waitFor("node " + survivors.get(1).id + " describing leaders " + want, 10_000, 250, () -> {
            state.put(survivors.get(1).id, metadataLeaders(survivors.get(1).bootstrap(), t, 2000));
            return want.equals(state.get(survivors.get(1).id));
        }, () -> "last seen " + state);
        info("5: node " + victim.id + " (controller was " + ctrl + ") killed; its partitions " + dead + " had no leader "
                + took / 1000.0 + " s later (session timeout " + SESSION_MS / 1000 + " s)");
        List<Out> records = new ArrayList<>();
        for (int p : live)
            for (int i = 0; i < 25; i++) {
                String k = String.format("j5-p%d-%02d", p, i);
                records.add(new Out(k, k + "|r0", p));
            }
        Map<String, Pos> fresh = produceAll(bootstrapOf(survivors), t, records);
        check(fresh.size() == records.size(), "acknowledged " + fresh.size() + " of " + records.size());
        for (Out r : records)
            check(fresh.get(r.value()).partition() == r.partition(), r.value() + " acknowledged in " + fresh.get(r.value()));
        Map<Integer, Long> starts = new TreeMap<>();
        for (int p : live) starts.put(p, fresh.values().stream().filter(x -> x.partition() == p).mapToLong(Pos::offset).min().getAsLong());
        List<ConsumerRecord<String, String>> got = readAssigned(bootstrapOf(survivors), t, starts, fresh.size(), 30_000);
        checkRead(got, fresh, "fetch from the live partitions " + live);
        synchronized (ACKED) {
            ACKED.putAll(fresh);
        }
        deadParts = dead;
    }

    static void s6Restart() throws Exception {
        WeirNode victim = need(deadBroker, "5");
        List<Integer> dead = need(deadParts, "5");
        String t = need(topic, "2");
        Map<Integer, Integer> leaders = need(topicLeaders, "2");
        victim.start();
        long t0 = System.currentTimeMillis();
        waitListening(List.of(victim), 30_000);
        Map<Integer, Map<Integer, Integer>> state = new TreeMap<>();
        waitFor("leaders " + leaders + " through every node after node " + victim.id + "'s restart", 50_000, 500, () -> {
            for (WeirNode n : NODES.values()) {
                state.put(n.id, metadataLeaders(n.bootstrap(), t, 3000));
                if (!leaders.equals(state.get(n.id))) return false;
            }
            return true;
        }, () -> "by node: " + state);
        info("6: node " + victim.id + " leads " + dead + " again " + (System.currentTimeMillis() - t0) / 1000.0
                + " s after its restart");
        Map<String, Pos> acked;
        synchronized (ACKED) {
            acked = new LinkedHashMap<>(ACKED);
        }
        Map<Integer, Long> starts = new TreeMap<>();
        for (int p : leaders.keySet()) starts.put(p, null);
        List<ConsumerRecord<String, String>> got = readAssigned(bootstrapOf(NODES.values()), t, starts, acked.size(), 60_000);
        checkRead(got, acked, "everything from the beginning");
        // Nothing past the acknowledged records either: each partition ends after its last one.
        Map<Integer, Long> wantEnds = new TreeMap<>();
        for (int p : leaders.keySet()) wantEnds.put(p, 0L);
        acked.values().forEach(x -> wantEnds.merge(x.partition(), x.offset() + 1, Math::max));
        Map<Integer, Long> ends = new TreeMap<>();
        try (KafkaConsumer<String, String> c = consumer(bootstrapOf(NODES.values()))) {
            List<TopicPartition> tps = leaders.keySet().stream().map(p -> new TopicPartition(t, p)).collect(Collectors.toList());
            c.endOffsets(tps, Duration.ofSeconds(10)).forEach((tp, o) -> ends.put(tp.partition(), o));
        }
        check(ends.equals(wantEnds), "end offsets " + ends + ", expected " + wantEnds + " (one past the last acknowledged)");
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: WeirCluster WEIR_BIN WORK_DIR PIDFILE");
            System.exit(2);
        }
        Path work = Path.of(args[1]);
        Files.createDirectories(work);
        Set<Integer> ports = new TreeSet<>();
        while (ports.size() < 6) ports.add(freePort()); // 3 client and 3 controller listeners
        List<Integer> pl = new ArrayList<>(ports);
        String voters = "1@127.0.0.1:" + pl.get(3) + ",2@127.0.0.1:" + pl.get(4) + ",3@127.0.0.1:" + pl.get(5);
        for (int i = 1; i <= 3; i++) NODES.put(i, new WeirNode(args[0], i, work, pl.get(i - 1), pl.get(2 + i), voters, Path.of(args[2])));
        try {
            scenario("1 cluster forms: describeCluster through each node lists the 3 brokers (ids and client ports) "
                    + "and a controller", 75_000, WeirCluster::s1Forms);
            scenario("2 a 6-partition topic created through node 2 only: Metadata and describeTopics through nodes 1 "
                    + "and 3 show it alike, leaders covering all three brokers", 60_000, WeirCluster::s2Topic);
            scenario("2a metadata quorum: describeMetadataQuorum through each node names describeCluster's controller as "
                    + "leader (leaderEpoch >= 1, its logEndOffset >= 0), voters exactly {1, 2, 3}, no observers", 60_000,
                    WeirCluster::s2aQuorum);
            scenario("2b manual replica assignment: a topic created with {0=[2], 1=[3], 2=[1]} is described so; an unknown "
                    + "broker or a duplicate replica is InvalidReplicaAssignment, replication factor 4 InvalidReplicationFactor",
                    45_000, WeirCluster::s2bAssign);
            scenario("2c create partitions with assignments: increaseTo(5, [[3], [2]]) puts partitions 3 and 4 on brokers 3 "
                    + "and 2; increaseTo(4) is InvalidPartitions", 40_000, WeirCluster::s2cPartitions);
            scenario("2d consumer group coordinator: a subscribed group consumer reads the topic of 2; describeConsumerGroups "
                    + "shows it Stable with 1 member and a coordinator; commitSync's offsets are listed", 75_000, WeirCluster::s2dGroup);
            scenario("3 600 keyed records (acks=all, idempotent) produced through node 3 are read back exactly once, "
                    + "at their acknowledged partition and offset; a key always lands in one partition", 90_000,
                    WeirCluster::s3ProduceConsume);
            scenario("4 the controller killed with SIGKILL: within " + CREATE_WITHIN_MS / 1000 + " s a topic created "
                    + "through one survivor is described by the other", 30_000, WeirCluster::s4ControllerKill);
            scenario("4b the killed controller's partitions lose their leader; restarted, it rejoins: Metadata through "
                    + "every node shows every partition led by its broker again", 75_000, WeirCluster::s4bRejoin);
            scenario("5 a non-controller broker leading partitions killed with SIGKILL: after the session timeout its "
                    + "partitions have no leader; the others keep their leaders and take produce and fetch", 90_000,
                    WeirCluster::s5BrokerKill);
            scenario("6 the killed broker restarted with the same command and data dir leads its partitions again; "
                    + "every acknowledged record is read back from the beginning exactly once", 120_000,
                    WeirCluster::s6Restart);
        } finally {
            for (WeirNode n : NODES.values()) {
                try {
                    n.stop();
                } catch (Exception e) {
                    System.err.println("stopping node " + n.id + ": " + e);
                }
            }
        }
        System.out.println(C + ": " + passed + " passed, " + failed + " failed");
        System.out.flush();
        System.exit(failed > 0 ? 1 : 0);
    }
}
