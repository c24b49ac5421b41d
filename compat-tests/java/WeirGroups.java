// Consumer-group scenarios for the stock Apache Kafka Java client (kafka-clients 4.1.1), run by
// WeirCompat.main after its own scenarios, with the same PASS/FAIL lines and deadlines.
//
// The consumers use the classic group protocol (the 4.1 default): FindCoordinator, JoinGroup,
// SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch; the Admin calls add
// DescribeGroups, ListGroups, DeleteGroups and ListOffsets. The broker runs with Kafka's default
// group.initial.rebalance.delay.ms (3 s), so every new group's first join waits for it.
//
// Every consumer runs in its own polling thread (GroupMember): KafkaConsumer is single-threaded,
// and a member that is not polled would not take part in rebalances. The scenario thread talks
// to it through tasks that run between two polls, and waits for conditions with deadlines.

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.GroupNotEmptyException;
import org.apache.kafka.common.serialization.StringDeserializer;

public class WeirGroups extends WeirCompat {

    static String groupName(String scenario) {
        return "java-group-" + scenario + "-" + RUN_ID;
    }

    // ---------------------------------------------------------------- helpers

    /** Polls `cond` every 50 ms until it holds; fails with `what` and `state` at the deadline. */
    static void waitUntil(String what, long timeoutMs, BooleanSupplier cond, Supplier<String> state)
            throws InterruptedException {
        long end = System.currentTimeMillis() + timeoutMs;
        while (!cond.getAsBoolean()) {
            check(System.currentTimeMillis() < end, what + " not reached within " + timeoutMs + " ms; " + state.get());
            Thread.sleep(50); // polling interval, bounded by the deadline above
        }
    }

    static Properties groupProps(String groupId, String clientId, String instanceId, int sessionTimeoutMs) {
        Properties p = common();
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        if (instanceId != null) p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instanceId);
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, Integer.toString(sessionTimeoutMs));
        // Frequent heartbeats: a member learns of a rebalance within half a second.
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "500");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "500");
        return p;
    }

    /** A subscribed KafkaConsumer polled by its own thread. */
    static final class GroupMember implements AutoCloseable {
        final String name;
        final KafkaConsumer<String, String> consumer;
        private final String topic;
        private final Thread thread;
        private final LinkedBlockingQueue<FutureTask<?>> tasks = new LinkedBlockingQueue<>();
        private volatile boolean stopped = false;
        private volatile boolean closed = false;
        final List<ConsumerRecord<String, String>> records = Collections.synchronizedList(new ArrayList<>());
        /** onPartitionsAssigned calls, and a log of all listener calls with the generation seen. */
        final AtomicInteger assignedCalls = new AtomicInteger();
        final List<String> events = Collections.synchronizedList(new ArrayList<>());
        volatile Set<TopicPartition> assignment = Set.of();
        volatile int generation = -1;
        volatile String memberId = "";
        volatile Throwable error;

        GroupMember(String name, Properties props, String topic) {
            this.name = name;
            this.topic = topic;
            this.consumer = new KafkaConsumer<>(props);
            this.thread = new Thread(this::loop, "group-member-" + name);
            this.thread.setDaemon(true);
            this.thread.start();
        }

        private void loop() {
            try {
                consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                    @Override
                    public void onPartitionsRevoked(Collection<TopicPartition> parts) {
                        events.add("revoked " + sorted(parts));
                    }

                    @Override
                    public void onPartitionsAssigned(Collection<TopicPartition> parts) {
                        assignedCalls.incrementAndGet();
                        events.add("assigned " + sorted(parts) + " gen " + consumer.groupMetadata().generationId());
                    }
                });
                while (!stopped) {
                    FutureTask<?> t;
                    while ((t = tasks.poll()) != null) t.run();
                    if (stopped) break;
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) records.add(r);
                    assignment = Set.copyOf(consumer.assignment());
                    ConsumerGroupMetadata md = consumer.groupMetadata();
                    generation = md.generationId();
                    memberId = md.memberId();
                }
            } catch (Throwable e) {
                error = e;
            } finally {
                FutureTask<?> t;
                while ((t = tasks.poll()) != null) t.cancel(false);
            }
        }

        /** Runs `c` on the polling thread between two polls and returns its result. */
        <T> T call(String what, Callable<T> c) throws Exception {
            check(error == null, name + ": polling thread died before " + what + ": " + describe(error));
            check(thread.isAlive(), name + ": polling thread is not running (" + what + ")");
            FutureTask<T> t = new FutureTask<>(c);
            tasks.add(t);
            try {
                return t.get(CALL_TIMEOUT_MS + 5_000, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                throw new Check(name + ": " + what + " failed: " + describe(e.getCause()));
            } catch (TimeoutException e) {
                throw new Check(name + ": " + what + " did not return within " + (CALL_TIMEOUT_MS + 5_000) + " ms");
            }
        }

        void commitSync() throws Exception {
            call("commitSync", () -> {
                consumer.commitSync(Duration.ofMillis(CALL_TIMEOUT_MS));
                return null;
            });
        }

        /** Closes the consumer on its thread with the given options and stops the thread. */
        void close(CloseOptions options) throws Exception {
            if (closed) return;
            call("close", () -> {
                stopped = true;
                closed = true;
                consumer.close(options);
                return null;
            });
            thread.join(5_000);
        }

        /** Cleanup: a best-effort close that never throws. */
        @Override
        public void close() {
            if (closed) return;
            try {
                if (thread.isAlive()) {
                    close(CloseOptions.timeout(Duration.ofSeconds(5)));
                } else {
                    closed = true;
                    consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
                }
            } catch (Throwable ignored) {
                // the scenario has already reported what matters
            }
        }

        /** Fails now if the polling thread died. */
        void alive() {
            check(error == null, name + ": consumer failed: " + describe(error));
        }

        String state() {
            return name + "{gen " + generation + ", assigned " + sorted(assignment) + ", " + records.size()
                    + " records, listener " + events + (error != null ? ", error " + describe(error) : "") + "}";
        }
    }

    static String sorted(Collection<TopicPartition> parts) {
        return parts.stream().map(TopicPartition::partition).sorted().map(String::valueOf)
                .collect(Collectors.joining(",", "[", "]"));
    }

    static Set<TopicPartition> partitions(String topic, int... ps) {
        Set<TopicPartition> s = new HashSet<>();
        for (int p : ps) s.add(new TopicPartition(topic, p));
        return s;
    }

    static Set<TopicPartition> allPartitions(String topic, int n) {
        Set<TopicPartition> s = new HashSet<>();
        for (int p = 0; p < n; p++) s.add(new TopicPartition(topic, p));
        return s;
    }

    /** Produces counts[p] records to each partition p (explicit partitions); returns nothing, checks offsets. */
    static void produce(String topic, long[] counts, long[] firstOffsets, String tag) throws Exception {
        try (KafkaProducer<String, String> p = producer(null)) {
            List<Future3> fs = new ArrayList<>();
            for (int part = 0; part < counts.length; part++) {
                for (int i = 0; i < counts[part]; i++) {
                    fs.add(new Future3(part, firstOffsets[part] + i,
                            p.send(new ProducerRecord<>(topic, part, "k" + i, tag + "-" + part + "-" + i))));
                }
            }
            p.flush();
            for (Future3 f : fs) {
                RecordMetadata md = f.f.get(CALL_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                check(md.partition() == f.partition && md.offset() == f.offset,
                        "produce: record for partition " + f.partition + " expected at offset " + f.offset + " got "
                                + md.partition() + "/" + md.offset());
            }
        }
    }

    record Future3(int partition, long offset, java.util.concurrent.Future<RecordMetadata> f) {
    }

    static Map<TopicPartition, Long> endOffsets(Admin admin, String topic, int n) throws Exception {
        Map<TopicPartition, OffsetSpec> req = new HashMap<>();
        for (TopicPartition tp : allPartitions(topic, n)) req.put(tp, OffsetSpec.latest());
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> res = get(admin.listOffsets(req).all());
        Map<TopicPartition, Long> out = new TreeMap<>((a, b) -> Integer.compare(a.partition(), b.partition()));
        for (TopicPartition tp : req.keySet()) {
            check(res.containsKey(tp), "listOffsets latest: no result for " + tp);
            out.put(tp, res.get(tp).offset());
        }
        return out;
    }

    /** Committed offsets of a group, by partition; a partition without a committed offset is absent. */
    static Map<TopicPartition, Long> committed(Admin admin, String group) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> m = get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata());
        Map<TopicPartition, Long> out = new TreeMap<>((a, b) -> Integer.compare(a.partition(), b.partition()));
        for (Map.Entry<TopicPartition, OffsetAndMetadata> e : m.entrySet())
            if (e.getValue() != null) out.put(e.getKey(), e.getValue().offset());
        return out;
    }

    static Map<TopicPartition, Long> offsets(String topic, long... perPartition) {
        Map<TopicPartition, Long> out = new TreeMap<>((a, b) -> Integer.compare(a.partition(), b.partition()));
        for (int p = 0; p < perPartition.length; p++) out.put(new TopicPartition(topic, p), perPartition[p]);
        return out;
    }

    static ConsumerGroupDescription describeGroup(Admin admin, String group) throws Exception {
        Map<String, ConsumerGroupDescription> d = get(admin.describeConsumerGroups(List.of(group)).all());
        ConsumerGroupDescription gd = d.get(group);
        check(gd != null, "describeConsumerGroups: no description for " + group + ": " + d.keySet());
        return gd;
    }

    static String members(ConsumerGroupDescription gd) {
        return gd.members().stream().map(m -> m.consumerId() + m.groupInstanceId().map(i -> "(" + i + ")").orElse("")
                + "=" + sorted(m.assignment().topicPartitions())).collect(Collectors.joining(", ", "[", "]"));
    }

    @SuppressWarnings("deprecation")
    static Map<String, ConsumerGroupListing> listGroups(Admin admin) throws Exception {
        Map<String, ConsumerGroupListing> out = new HashMap<>();
        for (ConsumerGroupListing l : get(admin.listConsumerGroups().all())) out.put(l.groupId(), l);
        return out;
    }

    static Throwable deleteGroupError(Admin admin, String group) throws Exception {
        try {
            get(admin.deleteConsumerGroups(List.of(group)).all());
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }

    /** Records of a member as "partition:offset" keys, checking there are no duplicates. */
    static Map<TopicPartition, TreeSet<Long>> byPartition(List<ConsumerRecord<String, String>> recs, String who) {
        Map<TopicPartition, TreeSet<Long>> out = new HashMap<>();
        synchronized (recs) {
            for (ConsumerRecord<String, String> r : recs) {
                boolean fresh = out.computeIfAbsent(new TopicPartition(r.topic(), r.partition()), k -> new TreeSet<>())
                        .add(r.offset());
                check(fresh, who + " read partition " + r.partition() + " offset " + r.offset() + " twice");
            }
        }
        return out;
    }

    // -------------------------------------------------------------- scenarios

    static void run(Admin admin) {
        basicGroup(admin);
        twoMembers(admin);
        staticMembership(admin, false, false);
        staticMembership(admin, false, true);
        staticMembership(admin, true, false);
    }

    /** One consumer on a 3-partition topic; the Admin views of its group; lag; deleteConsumerGroups. */
    static void basicGroup(Admin admin) {
        String topic = topicName("group-basic");
        String group = groupName("basic");
        long[] counts = {7, 4, 9};
        GroupMember[] m = new GroupMember[1];
        try {
            boolean consumed = scenario("group consumer subscribe() reads all records of 3 partitions and commitSync", () -> {
                createTopic(admin, topic, 3);
                produce(topic, counts, new long[3], "basic");
                m[0] = new GroupMember("c1", groupProps(group, "weir-compat-java-c1", null, 10_000), topic);
                waitUntil("reading all 20 records", 30_000, () -> {
                    m[0].alive();
                    return m[0].records.size() >= 20;
                }, () -> m[0].state());
                Map<TopicPartition, TreeSet<Long>> got = byPartition(m[0].records, "c1");
                for (int p = 0; p < 3; p++) {
                    TreeSet<Long> offs = got.getOrDefault(new TopicPartition(topic, p), new TreeSet<>());
                    check(offs.size() == counts[p] && (offs.isEmpty() || offs.last() == counts[p] - 1),
                            "partition " + p + ": read offsets " + offs + ", expected 0.." + (counts[p] - 1));
                }
                check(m[0].assignment.equals(allPartitions(topic, 3)), "assignment " + sorted(m[0].assignment));
                check(m[0].generation > 0, "generation " + m[0].generation);
                m[0].commitSync();
            });
            if (!consumed) {
                for (String s : List.of("admin listConsumerGroupOffsets equals the end offsets after commitSync",
                        "admin describeConsumerGroups: Stable, one member holding all 3 partitions",
                        "admin listConsumerGroups includes the group", "admin deleteConsumerGroups of a group with an active member fails with GroupNotEmptyException",
                        "consumer lag: committed offsets vs listOffsets latest after producing more",
                        "admin deleteConsumerGroups after the consumer closed: the group and its offsets are gone"))
                    skip(s, "the group consumer scenario failed");
                return;
            }
            scenario("admin listConsumerGroupOffsets equals the end offsets after commitSync", () -> {
                Map<TopicPartition, Long> c = committed(admin, group);
                Map<TopicPartition, Long> end = endOffsets(admin, topic, 3);
                check(end.equals(offsets(topic, counts)), "listOffsets latest " + end + ", expected " + offsets(topic, counts));
                check(c.equals(end), "committed " + c + ", end offsets " + end);
            });
            scenario("admin describeConsumerGroups: Stable, one member holding all 3 partitions", () -> {
                ConsumerGroupDescription gd = describeGroup(admin, group);
                check(gd.groupState() == GroupState.STABLE, "state " + gd.groupState() + ", expected STABLE; " + gd);
                check(gd.type() == GroupType.CLASSIC, "type " + gd.type() + ", expected CLASSIC");
                check(!gd.isSimpleConsumerGroup(), "reported as a simple consumer group");
                check("range".equals(gd.partitionAssignor()), "assignor " + gd.partitionAssignor() + ", expected range");
                check(gd.coordinator() != null && gd.coordinator().port() == Integer.parseInt(bootstrap.split(":")[1]),
                        "coordinator " + gd.coordinator());
                check(gd.members().size() == 1, "members " + members(gd));
                MemberDescription md = gd.members().iterator().next();
                check(md.consumerId().equals(m[0].memberId), "member id " + md.consumerId() + ", consumer has " + m[0].memberId);
                check(md.clientId().equals("weir-compat-java-c1"), "client id " + md.clientId());
                check(md.groupInstanceId().isEmpty(), "group instance id " + md.groupInstanceId());
                check(md.assignment().topicPartitions().equals(allPartitions(topic, 3)),
                        "member assignment " + md.assignment().topicPartitions());
            });
            scenario("admin listConsumerGroups includes the group", () -> {
                ConsumerGroupListing l = listGroups(admin).get(group);
                check(l != null, "group missing from listConsumerGroups");
                check(l.groupState().equals(Optional.of(GroupState.STABLE)), "listed state " + l.groupState() + ", expected Stable");
                check(l.type().isEmpty() || l.type().get() == GroupType.CLASSIC, "listed type " + l.type());
                check(!l.isSimpleConsumerGroup(), "listed as a simple consumer group");
            });
            scenario("admin deleteConsumerGroups of a group with an active member fails with GroupNotEmptyException", () -> {
                Throwable e = deleteGroupError(admin, group);
                check(e != null, "deleteConsumerGroups succeeded while a member is active");
                check(e instanceof GroupNotEmptyException, "expected GroupNotEmptyException, got " + describe(e));
                check(describeGroup(admin, group).members().size() == 1, "the member is gone after the failed delete");
            });
            scenario("consumer lag: committed offsets vs listOffsets latest after producing more", () -> {
                long[] more = {3, 0, 5};
                produce(topic, more, counts, "lag");
                Map<TopicPartition, Long> end = endOffsets(admin, topic, 3);
                Map<TopicPartition, Long> c = committed(admin, group);
                Map<TopicPartition, Long> lag = new TreeMap<>((a, b) -> Integer.compare(a.partition(), b.partition()));
                for (TopicPartition tp : end.keySet()) lag.put(tp, end.get(tp) - c.getOrDefault(tp, 0L));
                check(lag.equals(offsets(topic, more)), "lag " + lag + " (end " + end + ", committed " + c + "), expected " + offsets(topic, more));
                // The member reads the new records; after its commit the lag is zero.
                waitUntil("reading the 8 new records", 20_000, () -> {
                    m[0].alive();
                    return m[0].records.size() >= 28;
                }, () -> m[0].state());
                m[0].commitSync();
                c = committed(admin, group);
                check(c.equals(end), "after commitSync: committed " + c + ", end offsets " + end);
            });
            scenario("admin deleteConsumerGroups after the consumer closed: the group and its offsets are gone", () -> {
                m[0].close(CloseOptions.timeout(Duration.ofSeconds(10)));
                ConsumerGroupDescription gd = describeGroup(admin, group);
                check(gd.groupState() == GroupState.EMPTY && gd.members().isEmpty(),
                        "after close (LeaveGroup): state " + gd.groupState() + " members " + members(gd) + ", expected EMPTY without members");
                Throwable e = deleteGroupError(admin, group);
                check(e == null, "deleteConsumerGroups failed: " + describe(e));
                check(!listGroups(admin).containsKey(group), "group still in listConsumerGroups after delete");
                Map<TopicPartition, Long> c = committed(admin, group);
                check(c.isEmpty(), "offsets still committed after delete: " + c);
                try {
                    gd = describeGroup(admin, group);
                    check(gd.groupState() == GroupState.DEAD && gd.members().isEmpty(),
                            "describe after delete: state " + gd.groupState() + " members " + members(gd) + ", expected DEAD");
                } catch (ExecutionException ex) {
                    check(ex.getCause() instanceof GroupIdNotFoundException, "describe after delete: " + describe(ex.getCause()));
                }
            });
        } finally {
            if (m[0] != null) m[0].close();
        }
    }

    /** Two consumers of one group on a 4-partition topic: split, then takeover from committed offsets. */
    static void twoMembers(Admin admin) {
        String topic = topicName("group-pair");
        String group = groupName("pair");
        GroupMember[] m = new GroupMember[2];
        try {
            boolean split = scenario("two consumers in one group split 4 partitions 2/2 without overlap, each reads only its own", () -> {
                createTopic(admin, topic, 4);
                m[0] = new GroupMember("c1", groupProps(group, "weir-compat-java-c1", null, 10_000), topic);
                m[1] = new GroupMember("c2", groupProps(group, "weir-compat-java-c2", null, 10_000), topic);
                waitUntil("a 2/2 split in one generation", 30_000, () -> {
                    m[0].alive();
                    m[1].alive();
                    Set<TopicPartition> a = m[0].assignment, b = m[1].assignment;
                    Set<TopicPartition> union = new HashSet<>(a);
                    union.addAll(b);
                    return a.size() == 2 && b.size() == 2 && union.equals(allPartitions(topic, 4))
                            && m[0].generation == m[1].generation && m[0].generation > 0;
                }, () -> m[0].state() + " " + m[1].state());
                produce(topic, new long[] {10, 10, 10, 10}, new long[4], "pair");
                waitUntil("reading all 40 records", 20_000, () -> {
                    m[0].alive();
                    m[1].alive();
                    return m[0].records.size() + m[1].records.size() >= 40;
                }, () -> m[0].state() + " " + m[1].state());
                for (GroupMember g : m) {
                    Map<TopicPartition, TreeSet<Long>> got = byPartition(g.records, g.name);
                    check(g.assignment.containsAll(got.keySet()), g.name + " read partitions " + sorted(got.keySet())
                            + " but holds " + sorted(g.assignment));
                    for (TopicPartition tp : g.assignment) {
                        TreeSet<Long> offs = got.getOrDefault(tp, new TreeSet<>());
                        check(offs.size() == 10 && offs.last() == 9, g.name + " partition " + tp.partition() + ": offsets " + offs);
                    }
                    g.commitSync();
                }
                Map<TopicPartition, Long> c = committed(admin, group);
                check(c.equals(offsets(topic, 10, 10, 10, 10)), "committed " + c + ", expected 10 on every partition");
                ConsumerGroupDescription gd = describeGroup(admin, group);
                check(gd.groupState() == GroupState.STABLE && gd.members().size() == 2,
                        "describe: state " + gd.groupState() + " members " + members(gd));
                for (MemberDescription md : gd.members()) {
                    GroupMember g = md.consumerId().equals(m[0].memberId) ? m[0] : md.consumerId().equals(m[1].memberId) ? m[1] : null;
                    check(g != null, "describe lists unknown member " + md.consumerId());
                    check(md.assignment().topicPartitions().equals(g.assignment),
                            "describe: " + g.name + " assigned " + sorted(md.assignment().topicPartitions()) + ", consumer holds " + sorted(g.assignment));
                }
            });
            if (!split) {
                skip("after one consumer closes the other gets all 4 partitions and resumes from the committed offsets",
                        "the split scenario failed");
                return;
            }
            scenario("after one consumer closes the other gets all 4 partitions and resumes from the committed offsets", () -> {
                int genBefore = m[1].generation;
                int seenBefore = m[1].records.size();
                m[0].close(CloseOptions.timeout(Duration.ofSeconds(10)));
                waitUntil("c2 holding all 4 partitions", 30_000, () -> {
                    m[1].alive();
                    return m[1].assignment.equals(allPartitions(topic, 4)) && m[1].generation > genBefore;
                }, () -> m[1].state());
                produce(topic, new long[] {5, 5, 5, 5}, new long[] {10, 10, 10, 10}, "after");
                // Read until offset 14 of every partition: records re-read from before the committed
                // offsets would come earlier in each partition, so they are in by then.
                waitUntil("c2 reading up to offset 14 on every partition", 20_000, () -> {
                    m[1].alive();
                    Map<Integer, Long> max = new HashMap<>();
                    synchronized (m[1].records) {
                        for (ConsumerRecord<String, String> r : m[1].records) max.merge(r.partition(), r.offset(), Math::max);
                    }
                    for (int p = 0; p < 4; p++) if (max.getOrDefault(p, -1L) < 14) return false;
                    return true;
                }, () -> m[1].state());
                List<ConsumerRecord<String, String>> after;
                synchronized (m[1].records) {
                    after = new ArrayList<>(m[1].records.subList(seenBefore, m[1].records.size()));
                }
                Map<TopicPartition, TreeSet<Long>> got = byPartition(after, "c2 after the takeover");
                for (int p = 0; p < 4; p++) {
                    TreeSet<Long> offs = got.getOrDefault(new TopicPartition(topic, p), new TreeSet<>());
                    check(offs.equals(new TreeSet<>(List.of(10L, 11L, 12L, 13L, 14L))), "partition " + p + ": c2 read offsets " + offs
                            + " after the takeover, expected only 10..14 (committed offset 10)");
                }
                m[1].commitSync();
                Map<TopicPartition, Long> c = committed(admin, group);
                check(c.equals(offsets(topic, 15, 15, 15, 15)), "committed " + c + ", expected 15 on every partition");
            });
        } finally {
            for (GroupMember g : m) if (g != null) g.close();
        }
    }

    /**
     * Static membership (KIP-345): a member with group.instance.id closes without LeaveGroup and comes
     * back with the same instance id within session.timeout.ms; Kafka hands it its old partitions in
     * the same generation, without a rebalance of the other member. With staticLeader the static
     * member joins first and so is the group leader (KIP-814's skipAssignment on its rejoin). With
     * rejoinedBefore the static member goes through one more rebalance (enforceRebalance) before the
     * restart, as any long-lived member does: its last JoinGroup then carried subscription metadata
     * (ConsumerProtocolSubscription v3: owned partitions, generation) that differs from what the
     * restarted consumer sends. Kafka only rebalances if the group's selected protocol would change.
     */
    static void staticMembership(Admin admin, boolean staticLeader, boolean rejoinedBefore) {
        String role = (staticLeader ? "leader" : "follower") + (rejoinedBefore ? "-rejoined" : "");
        String topic = topicName("group-static-" + role);
        String group = groupName("static-" + role);
        String instanceId = "weir-static-" + role;
        GroupMember[] m = new GroupMember[3]; // dynamic, static, static again
        try {
            String what = staticLeader ? "static member (group leader)" : rejoinedBefore
                    ? "static member (follower, after one more rebalance)" : "static member (follower)";
            scenario(what + " closed with REMAIN_IN_GROUP and restarted within session.timeout.ms "
                    + "gets the same partitions, no rebalance", () -> {
                createTopic(admin, topic, 4);
                Properties dyn = groupProps(group, "weir-compat-java-dynamic", null, 10_000);
                Properties stat = groupProps(group, "weir-compat-java-static", instanceId, 30_000);
                GroupMember first = new GroupMember(staticLeader ? "static" : "dynamic", staticLeader ? stat : dyn, topic);
                m[staticLeader ? 1 : 0] = first;
                waitUntil("the first member holding all 4 partitions", 30_000, () -> {
                    first.alive();
                    return first.assignment.size() == 4;
                }, first::state);
                m[staticLeader ? 0 : 1] = new GroupMember(staticLeader ? "dynamic" : "static", staticLeader ? dyn : stat, topic);
                GroupMember d = m[0], s = m[1];
                waitUntil("a 2/2 split in one generation", 30_000, () -> {
                    d.alive();
                    s.alive();
                    return d.assignment.size() == 2 && s.assignment.size() == 2 && !d.assignment.equals(s.assignment)
                            && d.generation == s.generation;
                }, () -> d.state() + " " + s.state());
                if (rejoinedBefore) {
                    int gen = s.generation;
                    s.call("enforceRebalance", () -> {
                        s.consumer.enforceRebalance("weir compat: one more generation before the restart");
                        return null;
                    });
                    waitUntil("a 2/2 split in the next generation after enforceRebalance", 30_000, () -> {
                        d.alive();
                        s.alive();
                        return d.assignment.size() == 2 && s.assignment.size() == 2 && !d.assignment.equals(s.assignment)
                                && d.generation == s.generation && s.generation > gen;
                    }, () -> d.state() + " " + s.state());
                }
                ConsumerGroupDescription gd = describeGroup(admin, group);
                check(gd.groupState() == GroupState.STABLE && gd.members().size() == 2, "describe: " + gd.groupState() + " " + members(gd));
                check(gd.members().stream().anyMatch(md -> md.consumerId().equals(s.memberId)
                        && md.groupInstanceId().equals(Optional.of(instanceId))),
                        "describe does not show the static member " + s.memberId + " with instance id " + instanceId + ": " + members(gd));
                int generation = d.generation;
                int dAssigned = d.assignedCalls.get();
                Set<TopicPartition> dParts = d.assignment, sParts = s.assignment;
                String oldStaticId = s.memberId;

                s.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.REMAIN_IN_GROUP)
                        .withTimeout(Duration.ofSeconds(10)));
                gd = describeGroup(admin, group);
                check(gd.groupState() == GroupState.STABLE && gd.members().size() == 2,
                        "after close without LeaveGroup: " + gd.groupState() + " " + members(gd) + ", expected Stable with both members");

                GroupMember s2 = new GroupMember("static-again", stat, topic);
                m[2] = s2;
                waitUntil("the restarted static member receiving an assignment", 20_000, () -> {
                    s2.alive();
                    return !s2.assignment.isEmpty();
                }, () -> s2.state() + " " + d.state());
                check(s2.assignment.equals(sParts), "restarted static member got " + sorted(s2.assignment) + ", before it held " + sorted(sParts));
                check(s2.generation == generation, "restarted static member is in generation " + s2.generation + ", the group was in " + generation);
                // A rebalance would reach the other member within one heartbeat (500 ms): give it four.
                long end = System.currentTimeMillis() + 2_000;
                while (System.currentTimeMillis() < end) {
                    d.alive();
                    check(d.generation == generation && d.assignedCalls.get() == dAssigned,
                            "the other member went through a rebalance: " + d.state() + " (generation was " + generation + ")");
                    Thread.sleep(50); // observation window for an event that must not happen
                }
                check(d.assignment.equals(dParts), "the other member's partitions changed: " + sorted(dParts) + " -> " + sorted(d.assignment));
                gd = describeGroup(admin, group);
                check(gd.groupState() == GroupState.STABLE && gd.members().size() == 2, "describe after restart: " + gd.groupState() + " " + members(gd));
                Optional<MemberDescription> sm = gd.members().stream()
                        .filter(md -> md.groupInstanceId().equals(Optional.of(instanceId))).findFirst();
                check(sm.isPresent(), "describe after restart lacks instance id " + instanceId + ": " + members(gd));
                check(sm.get().consumerId().equals(s2.memberId), "describe shows static member id " + sm.get().consumerId()
                        + ", the restarted consumer has " + s2.memberId + " (old id " + oldStaticId + ")");
                check(sm.get().assignment().topicPartitions().equals(sParts), "describe: static member assigned "
                        + sorted(sm.get().assignment().topicPartitions()) + ", expected " + sorted(sParts));
            });
        } finally {
            for (GroupMember g : m) if (g != null) g.close();
        }
    }
}
