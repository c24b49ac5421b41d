// Exactly-once copy loop (scenario 8) with the stock Java client, kafka-clients 4.1.1.
//
// Usage: java -cp 'build/classes:../java/libs/*' TxnCopy BOOTSTRAP [--rf N] [--label L] [--records M]
//        (child mode, started by the above: TxnCopy worker BOOTSTRAP A B GROUP TXNID)
//
// Topic A (3 partitions) is filled with M (5000) numbered records (key k<i mod 97>, value n<i>).
// A read-process-write worker (a child JVM) consumes A in a consumer group (subscribe,
// isolation.level=read_committed, enable.auto.commit=false), copies each record to the same
// partition of B inside a transaction and commits its position with
// sendOffsetsToTransaction(offsets, consumer.groupMetadata()), up to 100 records a transaction.
// The worker is killed with SIGKILL 4 times, each once the group's committed offsets (Admin
// listConsumerGroupOffsets) have reached 1000, 2000, 3000 and 4000 records, and restarted with
// the same transactional.id and group. Once the committed offsets reach the end of A, B read
// with read_committed equals A exactly: per partition the same records in the same order (so
// the same multiset per key, no duplicates, no gaps), and B's last stable offset is its log end.

import java.io.File;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

public class TxnCopy extends TxnCommon {
    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("worker")) {
            worker(args[1], args[2], args[3], args[4], args[5]);
            return;
        }
        String bootstrap = args[0];
        int rf = Integer.parseInt(arg(args, "--rf", "1"));
        String label = arg(args, "--label", "");
        int m = Integer.parseInt(arg(args, "--records", "5000"));
        String pre = label.isEmpty() ? "" : label + " ";
        scenario(pre + "exactly-once copy: read-process-write with sendOffsetsToTransaction, worker killed (SIGKILL) 4 times, B == A",
            240, () -> copy(bootstrap, rf, m, label));
        System.exit(failures == 0 ? 0 : 1);
    }

    static void worker(String bootstrap, String a, String b, String group, String txnId) {
        Properties c = common(bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "100");
        c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "6000");
        c.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000");
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c);
             KafkaProducer<String, String> producer = txnProducer(bootstrap, txnId, 10000)) {
            producer.initTransactions();
            consumer.subscribe(List.of(a));
            long copied = 0;
            while (true) {
                ConsumerRecords<String, String> recs = consumer.poll(Duration.ofMillis(200));
                if (recs.isEmpty()) continue;
                producer.beginTransaction();
                Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                for (ConsumerRecord<String, String> r : recs) {
                    producer.send(new ProducerRecord<>(b, r.partition(), r.key(), r.value()));
                    offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                }
                // A pace, not a synchronisation: the transaction stays open a little, so that a
                // kill often lands inside one.
                Thread.sleep(40);
                producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
                producer.commitTransaction();
                copied += recs.count();
                System.out.println("committed " + copied + " " + offsets);
                System.out.flush();
            }
        } catch (Exception e) {
            e.printStackTrace();
            System.exit(3);
        }
    }

    static long committedTotal(Admin admin, String group) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> m = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
            .get(30, TimeUnit.SECONDS);
        long sum = 0;
        for (OffsetAndMetadata o : m.values()) if (o != null) sum += o.offset();
        return sum;
    }

    static String copy(String bootstrap, int rf, int m, String label) throws Exception {
        String tag = label.replace(' ', '-') + RUN;
        String a = "copy-a-" + tag, b = "copy-b-" + tag, group = "copy-group-" + tag, txnId = "copy-" + tag;
        List<TopicPartition> aTps = partitions(a, 3), bTps = partitions(b, 3);
        File work = new File(env("TXN_WORK", System.getProperty("java.io.tmpdir")));
        String cp = System.getProperty("java.class.path");
        try (Admin admin = admin(bootstrap)) {
            createTopic(admin, a, 3, rf, null);
            createTopic(admin, b, 3, rf, null);
            try (KafkaProducer<String, String> p = plainProducer(bootstrap)) {
                for (int i = 0; i < m; i++) p.send(new ProducerRecord<>(a, "k" + (i % 97), "n" + i));
                p.flush();
            }
            Map<TopicPartition, Long> aEnd = endOffsets(bootstrap, aTps, false);
            long total = aEnd.values().stream().mapToLong(Long::longValue).sum();
            checkEq((long) m, total, "records in A");
            int kills = 0;
            List<Long> killedAt = new ArrayList<>();
            Process worker = null;
            try {
                for (int round = 0; ; round++) {
                    File log = new File(work, "copy-worker-" + tag + "-" + round + ".log");
                    worker = new ProcessBuilder("java", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", cp, "TxnCopy", "worker",
                        bootstrap, a, b, group, txnId).redirectErrorStream(true).redirectOutput(log).start();
                    final Process w = worker;
                    if (round < 4) {
                        long target = (round + 1) * (long) m / 5;
                        final long[] got = {0};
                        await("group " + group + " committed " + target + " records (worker run " + round + ")", 60000, () -> {
                            check(w.isAlive(), "the copy worker exited with " + (w.isAlive() ? "" : w.exitValue()) + ", see " + log);
                            try {
                                got[0] = committedTotal(admin, group);
                            } catch (Exception e) {
                                throw new RuntimeException(e);
                            }
                            return got[0] >= target;
                        }, () -> "committed " + got[0]);
                        worker.destroyForcibly(); // SIGKILL
                        worker.waitFor(30, TimeUnit.SECONDS);
                        kills++;
                        killedAt.add(got[0]);
                    } else {
                        final long[] got = {0};
                        await("group " + group + " committed all " + total + " records", 90000, () -> {
                            check(w.isAlive(), "the copy worker exited with " + (w.isAlive() ? "" : w.exitValue()) + ", see " + log);
                            try {
                                got[0] = committedTotal(admin, group);
                            } catch (Exception e) {
                                throw new RuntimeException(e);
                            }
                            return got[0] >= total;
                        }, () -> "committed " + got[0]);
                        checkEq(total, got[0], "committed offsets of the group at the end");
                        break;
                    }
                }
            } finally {
                if (worker != null) {
                    worker.destroyForcibly();
                    worker.waitFor(30, TimeUnit.SECONDS);
                }
            }
            Map<TopicPartition, List<ConsumerRecord<String, String>>> ra = readAll(bootstrap, aTps, false, 60000);
            Map<TopicPartition, Long> bEnd = endOffsets(bootstrap, bTps, false);
            final Map<TopicPartition, Long>[] lso = new Map[] {null};
            await("B's last stable offsets reach its log end " + bEnd, 30000, () -> {
                lso[0] = endOffsets(bootstrap, bTps, true);
                return lso[0].equals(bEnd);
            }, () -> "LSO " + lso[0]);
            Map<TopicPartition, List<ConsumerRecord<String, String>>> rb = readAll(bootstrap, bTps, true, 60000);
            long copied = 0;
            for (int p = 0; p < 3; p++) {
                List<String> av = new ArrayList<>(), bv = new ArrayList<>();
                for (ConsumerRecord<String, String> r : ra.get(aTps.get(p))) av.add(r.key() + "=" + r.value());
                for (ConsumerRecord<String, String> r : rb.get(bTps.get(p))) bv.add(r.key() + "=" + r.value());
                copied += bv.size();
                if (!av.equals(bv)) {
                    TreeMap<String, Integer> diff = new TreeMap<>();
                    for (String s : bv) diff.merge(s, 1, Integer::sum);
                    for (String s : av) diff.merge(s, -1, Integer::sum);
                    diff.values().removeIf(x -> x == 0);
                    throw new Check("partition " + p + ": B (read_committed, " + bv.size() + " records) differs from A ("
                        + av.size() + "); count differences (B - A) " + (diff.isEmpty() ? "none, order differs" : diff.toString()));
                }
            }
            long uncommitted = readAll(bootstrap, bTps, false, 60000).values().stream().mapToLong(List::size).sum();
            return kills + " kills at committed " + killedAt + "; B has " + copied + " committed records of " + uncommitted
                + " written (the rest aborted)";
        }
    }
}
