// Transactions (KIP-98) with the stock Java client, kafka-clients 4.1.1: KafkaProducer
// transactions, zombie fencing and the coordinator's abort of an abandoned transaction.
//
// Usage: java -cp 'build/classes:../java/libs/*' TxnSingle BOOTSTRAP [--rf N] [--label L]
//        [--only java-txn,zombie,timeout]
//   --rf N     replication factor of the topics (scenario 6 runs java-txn with 3 on a cluster)
//   --label L  prefix of the scenario names (e.g. "cluster")
//
// java-txn (scenario 1): a transactional producer runs 20 transactions, each writing 2 records
//   to each of the 3 partitions of a topic and sendOffsetsToTransaction(in-0 -> i+1) for a group,
//   alternately committed (even i) and aborted (odd i). During transaction 4 (open, records
//   flushed to partitions 0 and 2 only): describeTransactions says Ongoing with those partitions,
//   a start time and the timeout; listTransactions (filter Ongoing) lists it; describeProducers
//   on partition 0 shows the producer id with the open transaction's first offset. After each
//   commit the group's committed offset (Admin listConsumerGroupOffsets) becomes i+1 (awaited),
//   after each abort it stays. At the end: a read_committed consumer sees exactly the committed
//   records in order per partition; a read_uncommitted one sees all of them in order; each
//   transaction's control marker takes one offset (log end = 20 * (2 + 1) per partition);
//   describeTransactions: CompleteAbort (the last was aborted), no partitions, the same producer
//   id; listTransactions lists it; describeProducers on each partition shows that producer id
//   with no open transaction; the offsets with requireStable are 19.
// zombie (scenario 2): producer A (transactional.id X) begins and sends 3 records; producer B
//   with X calls initTransactions; A's commitTransaction fails with ProducerFencedException (or
//   InvalidProducerEpochException); B commits 3 records of its own; read_committed shows only
//   B's, read_uncommitted both; a read_committed consumer reaches the log end (A's transaction
//   is aborted, not left open).
// timeout (scenario 5): a child JVM (this class, mode "abandon") with transaction.timeout.ms=3000
//   begins, sends 5 records, flushes, prints their offsets (the last stable offset stays at the
//   first of them, 0) and is killed with SIGKILL; within
//   30 s the last stable offset passes them (the coordinator aborted the transaction:
//   describeTransactions says CompleteAbort), a read_committed consumer reads none of them and
//   reaches the log end, a read_uncommitted one reads all 5.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeProducersResult.PartitionProducerState;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.admin.ListTransactionsOptions;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;

public class TxnSingle extends TxnCommon {
    static String bootstrap;
    static int rf = 1;
    static String label = "";
    // The Admin checks of java-txn (describeTransactions, listTransactions, describeProducers),
    // reported as a scenario of their own so that a broker without one of those APIs still gets
    // its verdict on the transactions themselves.
    static final List<String> adminFailures = new ArrayList<>();
    static boolean adminRan = false;
    static String adminNote = "";

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("abandon")) {
            abandon(args[1], args[2], args[3]);
            return;
        }
        bootstrap = args[0];
        rf = Integer.parseInt(arg(args, "--rf", "1"));
        label = arg(args, "--label", "");
        Set<String> only = new HashSet<>(Arrays.asList(arg(args, "--only", "java-txn,zombie,timeout").split(",")));
        String pre = label.isEmpty() ? "" : label + " ";
        if (only.contains("java-txn"))
            scenario(pre + "java-txn: 20 transactions alternately committed/aborted, offsets in txn, read_committed/uncommitted, LSO, markers",
                180, TxnSingle::javaTxn);
        if (only.contains("java-txn"))
            scenario(pre + "java-txn admin: describeTransactions, listTransactions and describeProducers of an open and a finished transaction", 10, () -> {
                check(adminRan, "not run: java-txn failed before its transactions were over");
                check(adminFailures.isEmpty(), String.join("; ", adminFailures));
                return adminNote;
            });
        if (only.contains("zombie"))
            scenario(pre + "zombie: a second producer with the same transactional.id fences the first, whose open records are aborted",
                90, TxnSingle::zombie);
        if (only.contains("timeout"))
            scenario(pre + "timeout: a transaction abandoned by a killed producer is aborted by the coordinator after transaction.timeout.ms",
                120, TxnSingle::timeout);
        System.exit(failures == 0 ? 0 : 1);
    }

    static String v(int txn, int p, int r) {
        return "t" + txn + "-p" + p + "-r" + r;
    }

    static long groupOffset(Admin admin, String group, TopicPartition tp, boolean stable) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> m = admin.listConsumerGroupOffsets(group,
            new ListConsumerGroupOffsetsOptions().requireStable(stable)).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
        OffsetAndMetadata o = m.get(tp);
        return o == null ? -1 : o.offset();
    }

    static TransactionDescription describe(Admin admin, String txnId) throws Exception {
        return admin.describeTransactions(List.of(txnId)).description(txnId).get(30, TimeUnit.SECONDS);
    }

    static PartitionProducerState producers(Admin admin, TopicPartition tp) throws Exception {
        return admin.describeProducers(List.of(tp)).partitionResult(tp).get(30, TimeUnit.SECONDS);
    }

    static String javaTxn() throws Exception {
        final int n = 20, perPart = 2, parts = 3;
        String out = "txn-out-" + label.replace(' ', '-') + RUN, in = "txn-in-" + label.replace(' ', '-') + RUN;
        String group = "txn-group-" + RUN + label.replace(' ', '-');
        String txnId = "txn-java-" + RUN + label.replace(' ', '-');
        List<TopicPartition> outTps = partitions(out, parts);
        TopicPartition in0 = new TopicPartition(in, 0);
        try (Admin admin = admin(bootstrap)) {
            createTopic(admin, out, parts, rf, null);
            createTopic(admin, in, 1, rf, null);
            try (KafkaProducer<String, String> plain = plainProducer(bootstrap)) {
                for (int i = 0; i < n; i++) plain.send(new ProducerRecord<>(in, 0, "in", "in-" + i));
                plain.flush();
            }
            Map<Integer, List<String>> committed = new HashMap<>(), all = new HashMap<>();
            for (int p = 0; p < parts; p++) {
                committed.put(p, new ArrayList<>());
                all.put(p, new ArrayList<>());
            }
            long expectOffset = -1;
            String ongoingNote = "";
            try (KafkaProducer<String, String> prod = txnProducer(bootstrap, txnId, 60000)) {
                prod.initTransactions();
                for (int i = 0; i < n; i++) {
                    boolean commit = i % 2 == 0;
                    prod.beginTransaction();
                    // Transaction 4 touches partitions 0 and 2 first and is inspected while open.
                    int[] order = i == 4 ? new int[] {0, 2, 1} : new int[] {0, 1, 2};
                    for (int p : order) {
                        if (i == 4 && p == 1) {
                            prod.flush();
                            TopicPartition p0 = new TopicPartition(out, 0);
                            // A read_committed consumer stops at the open transaction: transactions
                            // 0..3 took 3 offsets each on partition 0 (2 records, 1 marker).
                            checkEq(12L, endOffsets(bootstrap, List.of(p0), true).get(p0),
                                "last stable offset of " + p0 + " while transaction 4 is open (its first offset)");
                            try {
                                ongoingNote = inspectOngoing(admin, txnId, out, all);
                            } catch (Exception e) {
                                adminFailures.add("while transaction 4 was open: " + e);
                            }
                        }
                        for (int r = 0; r < perPart; r++) {
                            prod.send(new ProducerRecord<>(out, p, "t" + i, v(i, p, r)));
                            all.get(p).add(v(i, p, r));
                            if (commit) committed.get(p).add(v(i, p, r));
                        }
                    }
                    prod.sendOffsetsToTransaction(Map.of(in0, new OffsetAndMetadata(i + 1)), new ConsumerGroupMetadata(group));
                    if (commit) {
                        prod.commitTransaction();
                        expectOffset = i + 1;
                        final long want = expectOffset;
                        final long[] seen = {-2};
                        await("committed offset of " + group + " after commit of txn " + i, 15000, () -> {
                            try {
                                seen[0] = groupOffset(admin, group, in0, false);
                            } catch (Exception e) {
                                throw new RuntimeException(e);
                            }
                            return seen[0] == want;
                        }, () -> "listConsumerGroupOffsets says " + seen[0] + ", expected " + want);
                    } else {
                        // Flushed first: abortTransaction drops batches not yet sent, and the
                        // aborted records are meant to reach the log (read_uncommitted sees them).
                        prod.flush();
                        prod.abortTransaction();
                        long got = groupOffset(admin, group, in0, false);
                        checkEq(expectOffset, got, "committed offset of " + group + " after abort of txn " + i
                            + " (the aborted transaction's sendOffsetsToTransaction must not count)");
                    }
                }
            }
            // Read back.
            Map<TopicPartition, List<ConsumerRecord<String, String>>> rc = readAll(bootstrap, outTps, true, 30000);
            Map<TopicPartition, List<ConsumerRecord<String, String>>> ru = readAll(bootstrap, outTps, false, 30000);
            for (int p = 0; p < parts; p++) {
                TopicPartition tp = outTps.get(p);
                checkEq(committed.get(p), values(rc.get(tp)), "read_committed values of partition " + p);
                checkEq(all.get(p), values(ru.get(tp)), "read_uncommitted values of partition " + p);
            }
            Map<TopicPartition, Long> endU = endOffsets(bootstrap, outTps, false);
            Map<TopicPartition, Long> endC = endOffsets(bootstrap, outTps, true);
            for (TopicPartition tp : outTps) {
                checkEq((long) n * (perPart + 1), endU.get(tp), "log end offset of " + tp + " (records + one control marker per transaction)");
                checkEq(endU.get(tp), endC.get(tp), "last stable offset of " + tp + " (no transaction open)");
            }
            checkEq(19L, groupOffset(admin, group, in0, true), "committed offset (requireStable) after the last, aborted, transaction");
            adminRan = true;
            String finalNote = "";
            try {
                finalNote = inspectFinal(admin, txnId, outTps);
            } catch (Exception e) {
                adminFailures.add("after the 20 transactions: " + e);
            }
            adminNote = ongoingNote + "; " + finalNote;
            return "20 transactions, 30 committed records per partition of 60, markers one offset each";
        }
    }


    /** What Admin says of the transactional id once its 20 transactions are over. */
    static String inspectFinal(Admin admin, String txnId, List<TopicPartition> outTps) throws Exception {
        TransactionDescription d = describe(admin, txnId);
        checkEq(TransactionState.COMPLETE_ABORT, d.state(), "describeTransactions state after the last (aborted) transaction");
        check(d.topicPartitions().isEmpty(), "describeTransactions partitions of a completed transaction: " + d.topicPartitions());
        // (Kafka 4.1 keeps reporting the last transaction's start time once it completed: not checked.)
        checkEq(60000L, d.transactionTimeoutMs(), "describeTransactions transaction timeout");
        check(d.producerId() >= 0 && d.producerEpoch() >= 0, "describeTransactions producer id/epoch: " + d.producerId() + "/" + d.producerEpoch());
        Collection<TransactionListing> listed = admin.listTransactions().all().get(30, TimeUnit.SECONDS);
        TransactionListing mine = listed.stream().filter(l -> l.transactionalId().equals(txnId)).findFirst().orElse(null);
        check(mine != null, "listTransactions does not list " + txnId + ": " + listed);
        checkEq(d.producerId(), mine.producerId(), "listTransactions producer id");
        checkEq(TransactionState.COMPLETE_ABORT, mine.state(), "listTransactions state");
        for (TopicPartition tp : outTps) {
            PartitionProducerState ps = producers(admin, tp);
            ProducerState st = ps.activeProducers().stream().filter(s -> s.producerId() == d.producerId()).findFirst().orElse(null);
            check(st != null, "describeProducers(" + tp + ") does not show producer id " + d.producerId() + ": " + ps.activeProducers());
            check(st.currentTransactionStartOffset().isEmpty(), "describeProducers(" + tp + ") shows an open transaction: " + st);
            // (lastSequence is not checked: Kafka 4.1 with transaction.version 2 bumps the epoch at
            // every transaction end and reports -1 after the marker; with version 1 it is >= 0.)
            check(st.producerEpoch() <= d.producerEpoch(), "describeProducers(" + tp + ") epoch " + st.producerEpoch()
                + " above the coordinator's " + d.producerEpoch());
            check(st.coordinatorEpoch().isPresent() && st.coordinatorEpoch().getAsInt() >= 0,
                "describeProducers(" + tp + ") coordinator epoch of the last marker: " + st);
        }
        info(label + " java-txn: describeTransactions " + d);
        return "final " + d.state() + " pid " + d.producerId() + " epoch " + d.producerEpoch();
    }

    /** Transaction 4 is open with records flushed to partitions 0 and 2: what Admin says of it. */
    static String inspectOngoing(Admin admin, String txnId, String out, Map<Integer, List<String>> all) throws Exception {
        TransactionDescription d = describe(admin, txnId);
        checkEq(TransactionState.ONGOING, d.state(), "describeTransactions state of an open transaction");
        checkEq(Set.of(new TopicPartition(out, 0), new TopicPartition(out, 2)), d.topicPartitions(),
            "describeTransactions partitions of the open transaction");
        check(d.transactionStartTimeMs().isPresent() && d.transactionStartTimeMs().getAsLong() > System.currentTimeMillis() - 120000,
            "describeTransactions start time of the open transaction: " + d.transactionStartTimeMs());
        checkEq(60000L, d.transactionTimeoutMs(), "describeTransactions transaction timeout");
        check(d.coordinatorId() >= 0, "describeTransactions coordinator id: " + d.coordinatorId());
        Collection<TransactionListing> ongoing = admin.listTransactions(new ListTransactionsOptions()
            .filterStates(List.of(TransactionState.ONGOING))).all().get(30, TimeUnit.SECONDS);
        check(ongoing.stream().anyMatch(l -> l.transactionalId().equals(txnId) && l.producerId() == d.producerId()
                && l.state() == TransactionState.ONGOING),
            "listTransactions(Ongoing) does not list " + txnId + " with producer id " + d.producerId() + ": " + ongoing);
        TopicPartition p0 = new TopicPartition(out, 0);
        PartitionProducerState ps = producers(admin, p0);
        ProducerState st = ps.activeProducers().stream().filter(s -> s.producerId() == d.producerId()).findFirst().orElse(null);
        check(st != null, "describeProducers(" + p0 + ") does not show producer id " + d.producerId() + ": " + ps.activeProducers());
        // Transactions 0..3 took 3 offsets each on partition 0 (2 records, 1 marker): 4 opens at 12.
        checkEq(java.util.OptionalLong.of(12L), st.currentTransactionStartOffset(), "describeProducers(" + p0 + ") open transaction's first offset");
        checkEq((int) d.producerEpoch(), st.producerEpoch(), "describeProducers(" + p0 + ") epoch of the open transaction's records vs describeTransactions");
        return "open txn: Ongoing " + d.topicPartitions().size() + " partitions, coordinator " + d.coordinatorId()
            + ", epoch " + d.producerEpoch();
    }

    static boolean isFenced(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause())
            if (t instanceof ProducerFencedException || t instanceof InvalidProducerEpochException) return true;
        return false;
    }

    static String zombie() throws Exception {
        String topic = "txn-zombie-" + RUN + label.replace(' ', '-'), txnId = "txn-zombie-" + RUN + label.replace(' ', '-');
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = admin(bootstrap)) {
            createTopic(admin, topic, 1, rf, null);
            KafkaProducer<String, String> a = txnProducer(bootstrap, txnId, 60000);
            String fencedBy;
            try {
                a.initTransactions();
                a.beginTransaction();
                for (int i = 0; i < 3; i++) a.send(new ProducerRecord<>(topic, 0, "a", "zombie-a-" + i));
                a.flush();
                check(describe(admin, txnId).state() == TransactionState.ONGOING, "A's transaction is not Ongoing after its sends");
                try (KafkaProducer<String, String> b = txnProducer(bootstrap, txnId, 60000)) {
                    b.initTransactions();
                    try {
                        a.commitTransaction();
                        throw new Check("A's commitTransaction succeeded after B's initTransactions with the same transactional.id");
                    } catch (KafkaException e) {
                        check(isFenced(e), "A's commit failed, but not as fenced: " + e);
                        fencedBy = e.getClass().getSimpleName();
                    }
                    b.beginTransaction();
                    for (int i = 0; i < 3; i++) b.send(new ProducerRecord<>(topic, 0, "b", "zombie-b-" + i));
                    b.commitTransaction();
                }
            } finally {
                a.close(Duration.ofSeconds(5));
            }
            List<String> rc = values(readAll(bootstrap, List.of(tp), true, 30000).get(tp));
            List<String> ru = values(readAll(bootstrap, List.of(tp), false, 30000).get(tp));
            checkEq(List.of("zombie-b-0", "zombie-b-1", "zombie-b-2"), rc, "read_committed values");
            checkEq(List.of("zombie-a-0", "zombie-a-1", "zombie-a-2", "zombie-b-0", "zombie-b-1", "zombie-b-2"), ru, "read_uncommitted values");
            checkEq(endOffsets(bootstrap, List.of(tp), false), endOffsets(bootstrap, List.of(tp), true), "last stable offset vs log end");
            TransactionDescription d = describe(admin, txnId);
            checkEq(TransactionState.COMPLETE_COMMIT, d.state(), "describeTransactions state after B's commit");
            return "A's commit: " + fencedBy;
        }
    }

    /** Child mode: begin, send 5 records, flush, print their offsets, then wait to be killed. */
    static void abandon(String bs, String topic, String txnId) throws Exception {
        KafkaProducer<String, String> p = txnProducer(bs, txnId, 3000);
        p.initTransactions();
        p.beginTransaction();
        List<java.util.concurrent.Future<RecordMetadata>> fs = new ArrayList<>();
        for (int i = 0; i < 5; i++) fs.add(p.send(new ProducerRecord<>(topic, 0, "x", "abandoned-" + i)));
        p.flush();
        StringBuilder sb = new StringBuilder("SENT");
        for (java.util.concurrent.Future<RecordMetadata> f : fs) sb.append(' ').append(f.get().offset());
        System.out.println(sb);
        System.out.flush();
        Thread.sleep(600000);
    }

    static String timeout() throws Exception {
        String topic = "txn-abandon-" + RUN + label.replace(' ', '-'), txnId = "txn-abandon-" + RUN + label.replace(' ', '-');
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = admin(bootstrap)) {
            createTopic(admin, topic, 1, rf, null);
            String cp = System.getProperty("java.class.path");
            Process child = new ProcessBuilder("java", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", cp, "TxnSingle", "abandon", bootstrap, topic, txnId)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String line;
            try {
                BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
                line = r.readLine();
                check(line != null && line.startsWith("SENT "), "the abandoning producer printed " + line);
                check(describe(admin, txnId).state() == TransactionState.ONGOING, "the abandoned transaction is not Ongoing before the kill");
                // While it is open, read_committed ends at its first record (offset 0 of a new topic).
                checkEq(0L, endOffsets(bootstrap, List.of(tp), true).get(tp), "last stable offset while the abandoned transaction is open");
            } finally {
                child.destroyForcibly(); // SIGKILL
                child.waitFor(30, TimeUnit.SECONDS);
            }
            long killedAt = System.currentTimeMillis();
            long last = Long.parseLong(line.trim().substring(line.trim().lastIndexOf(' ') + 1));
            final long[] lso = {-1};
            await("last stable offset past the abandoned records (offset " + last + ")", 30000, () -> {
                lso[0] = endOffsets(bootstrap, List.of(tp), true).get(tp);
                return lso[0] > last;
            }, () -> "LSO " + lso[0]);
            long abortedAfter = System.currentTimeMillis() - killedAt;
            TransactionDescription d = describe(admin, txnId);
            checkEq(TransactionState.COMPLETE_ABORT, d.state(), "describeTransactions state of the timed-out transaction");
            checkEq(3000L, d.transactionTimeoutMs(), "describeTransactions transaction timeout");
            List<String> rc = values(readAll(bootstrap, List.of(tp), true, 30000).get(tp));
            List<String> ru = values(readAll(bootstrap, List.of(tp), false, 30000).get(tp));
            check(rc.isEmpty(), "read_committed sees records of the aborted transaction: " + rc);
            checkEq(List.of("abandoned-0", "abandoned-1", "abandoned-2", "abandoned-3", "abandoned-4"), ru, "read_uncommitted values");
            return "aborted " + abortedAfter + " ms after the kill";
        }
    }
}
