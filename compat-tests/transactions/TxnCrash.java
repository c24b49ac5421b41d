// Crash test of transactions on a 3-broker cluster (scenario 7), stock Java client 4.1.1.
//
// Usage: java -cp 'build/classes:../java/libs/*' TxnCrash BOOTSTRAP [--label L]
// Environment (run.sh sets them for its weir cluster; dev-kafka.sh env for Kafka's):
//   TXN_CLUSTER_PID_CMD      shell command printing the PID of node {id} (e.g. cat DIR/n{id}.pid)
//   TXN_CLUSTER_RESTART_CMD  shell command starting node {id} again, same data dir and config; it
//                            may return before the node serves (this program awaits that)
//
// 5 transactional producers (threads, each its own KafkaProducer and transactional.id,
// transaction.timeout.ms 20000) run transactions back to back; transaction t of producer k
// writes 2 records to each of 3 of the 6 partitions (RF 3, min.insync.replicas 2) of a topic,
// values "k<k>-t<t>-r<j>/6"; every 5th is aborted on purpose (flushed, then abortTransaction).
// Each transaction's outcome is recorded: COMMITTED (commitTransaction returned), ABORTED
// (abortTransaction returned) or UNKNOWN (an exception, e.g. a commit blocked past max.block.ms,
// 8000, during a failover; the producer is then closed and a new one with the same
// transactional.id calls initTransactions, which settles the old transaction).
//   1. once every producer has committed 3 transactions, the transaction coordinator of
//      producer 0 (describeTransactions' coordinator id) is killed with SIGKILL; every producer
//      must commit 3 more transactions afterwards (awaited); the node is restarted and rejoins
//      (describeCluster lists 3 brokers);
//   2. then the leader of partition 0 of the topic is killed with SIGKILL; again 3 more commits
//      each; restarted and rejoined;
//   3. the producers stop; within the transaction timeout + 15 s no transaction of theirs is
//      Ongoing/Prepare* (listTransactions, describeTransactions), and every partition's last
//      stable offset is its log end (read_committed consumers can reach the end);
//   4. read_committed from the start: every COMMITTED transaction wholly visible, exactly once;
//      every ABORTED one invisible; an UNKNOWN one all or nothing; no record duplicated.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListTransactionsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

public class TxnCrash extends TxnCommon {
    static final int PRODUCERS = 5, PARTS = 6, PER_PART = 2, TOUCH = 3, TXN_TIMEOUT_MS = 20000;
    // Shorter than a failover takes (Kafka: ~15 s), so that commits in flight at a kill time out:
    // their outcome is unknown to the producer, which is replaced by a new one with the same
    // transactional.id whose initTransactions settles the old transaction one way or the other.
    static final int MAX_BLOCK_MS = 8000;
    enum Outcome { COMMITTED, ABORTED, UNKNOWN }

    static String bootstrap;
    static String topic;
    static final Map<String, Outcome> outcomes = new ConcurrentHashMap<>();
    static final AtomicInteger[] commits = new AtomicInteger[PRODUCERS];
    static final AtomicBoolean stop = new AtomicBoolean();
    static final AtomicInteger recreated = new AtomicInteger();

    public static void main(String[] args) throws Exception {
        bootstrap = args[0];
        String label = arg(args, "--label", "");
        String pre = label.isEmpty() ? "" : label + " ";
        scenario(pre + "crash: " + PRODUCERS + " transactional producers while the coordinator, then a partition leader, "
            + "are killed (SIGKILL) and restarted: acknowledged commits whole, aborted invisible, nothing partial or left open",
            420, TxnCrash::crash);
        System.exit(failures == 0 ? 0 : 1);
    }

    static String txnId(int k) {
        return "crash-" + RUN + "-" + k;
    }

    static KafkaProducer<String, String> newProducer(int k) {
        while (true) {
            KafkaProducer<String, String> p = null;
            try {
                p = txnProducer(bootstrap, txnId(k), TXN_TIMEOUT_MS, MAX_BLOCK_MS);
                p.initTransactions();
                return p;
            } catch (Exception e) {
                info("producer " + k + ": initTransactions: " + e);
                if (p != null) p.close(Duration.ofSeconds(2));
                if (stop.get()) return null;
                sleepMs(500);
            }
        }
    }

    static void produceLoop(int k) {
        KafkaProducer<String, String> p = newProducer(k);
        if (p == null) return;
        try {
            for (int t = 0; !stop.get(); t++) {
                String key = "k" + k + "-t" + t;
                boolean abort = t % 5 == 4;
                outcomes.put(key, Outcome.UNKNOWN);
                try {
                    p.beginTransaction();
                    int j = 0;
                    for (int i = 0; i < TOUCH; i++) {
                        int part = (k + t + 2 * i) % PARTS;
                        for (int r = 0; r < PER_PART; r++, j++)
                            p.send(new ProducerRecord<>(topic, part, key, key + "-r" + j + "/" + (TOUCH * PER_PART)));
                    }
                    if (abort) {
                        p.flush();
                        p.abortTransaction();
                        outcomes.put(key, Outcome.ABORTED);
                    } else {
                        p.commitTransaction();
                        outcomes.put(key, Outcome.COMMITTED);
                        commits[k].incrementAndGet();
                    }
                } catch (Exception e) {
                    info("producer " + k + " txn " + t + ": " + e.getClass().getSimpleName() + ": " + e.getMessage());
                    p.close(Duration.ofSeconds(2));
                    recreated.incrementAndGet();
                    p = newProducer(k);
                    if (p == null) return;
                }
            }
        } finally {
            if (p != null) p.close(Duration.ofSeconds(10));
        }
    }

    // ------------------------------------------------------------ nodes
    static String sh(String cmd, int timeoutSec) throws Exception {
        Process pr = new ProcessBuilder("bash", "-c", cmd).redirectErrorStream(true).start();
        StringBuilder sb = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(pr.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) sb.append(line).append('\n');
        }
        check(pr.waitFor(timeoutSec, TimeUnit.SECONDS), "command did not finish in " + timeoutSec + "s: " + cmd);
        check(pr.exitValue() == 0, "command exited " + pr.exitValue() + ": " + cmd + ": " + sb.toString().trim());
        return sb.toString().trim();
    }

    static void kill(int node) throws Exception {
        String pid = sh(System.getenv("TXN_CLUSTER_PID_CMD").replace("{id}", String.valueOf(node)), 10);
        check(pid.matches("\\d+"), "PID of node " + node + ": '" + pid + "'");
        sh("kill -KILL " + pid, 10);
        long p = Long.parseLong(pid);
        // Gone, or a zombie (a node reparented to an init that does not reap).
        await("node " + node + " (pid " + p + ") gone after SIGKILL", 10000, () -> {
            try {
                for (String l : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/" + p + "/status")))
                    if (l.startsWith("State:")) return l.contains("Z");
                return true;
            } catch (java.io.IOException e) {
                return true;
            }
        }, null);
    }

    static void restart(Admin admin, int node) throws Exception {
        sh(System.getenv("TXN_CLUSTER_RESTART_CMD").replace("{id}", String.valueOf(node)), 180);
        await("node " + node + " back in the cluster (describeCluster lists 3 brokers)", 90000, () -> {
            try {
                return admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).size() == 3;
            } catch (Exception e) {
                return false;
            }
        }, null);
    }

    static void awaitCommits(String after, int more, long timeoutMs) {
        int[] base = new int[PRODUCERS];
        for (int k = 0; k < PRODUCERS; k++) base[k] = commits[k].get();
        await("every producer commits " + more + " more transactions " + after, timeoutMs, () -> {
            for (int k = 0; k < PRODUCERS; k++) if (commits[k].get() < base[k] + more) return false;
            return true;
        }, () -> {
            StringBuilder sb = new StringBuilder("commits per producer:");
            for (int k = 0; k < PRODUCERS; k++) sb.append(' ').append(commits[k].get() - base[k]);
            return sb.toString();
        });
    }

    static String crash() throws Exception {
        check(System.getenv("TXN_CLUSTER_PID_CMD") != null && System.getenv("TXN_CLUSTER_RESTART_CMD") != null,
            "TXN_CLUSTER_PID_CMD and TXN_CLUSTER_RESTART_CMD must be set");
        topic = "crash-" + RUN;
        List<TopicPartition> tps = partitions(topic, PARTS);
        StringBuilder note = new StringBuilder();
        try (Admin admin = admin(bootstrap)) {
            createTopic(admin, topic, PARTS, 3, Map.of("min.insync.replicas", "2"));
            for (int k = 0; k < PRODUCERS; k++) commits[k] = new AtomicInteger();
            List<Thread> threads = new ArrayList<>();
            for (int k = 0; k < PRODUCERS; k++) {
                final int kk = k;
                Thread th = new Thread(() -> produceLoop(kk), "producer-" + k);
                th.setDaemon(true);
                th.start();
                threads.add(th);
            }
            try {
                awaitCommits("at the start", 3, 60000);
                // 1. the transaction coordinator of producer 0
                int coord = admin.describeTransactions(List.of(txnId(0))).description(txnId(0)).get(30, TimeUnit.SECONDS).coordinatorId();
                Map<Integer, Integer> coords = new TreeMap<>();
                for (int k = 0; k < PRODUCERS; k++)
                    coords.merge(admin.describeTransactions(List.of(txnId(k))).description(txnId(k)).get(30, TimeUnit.SECONDS).coordinatorId(), 1, Integer::sum);
                info("crash: coordinators (node: producers) " + coords + "; killing node " + coord);
                long t0 = System.currentTimeMillis();
                kill(coord);
                awaitCommits("after the coordinator's kill", 3, 120000);
                note.append("coordinator ").append(coord).append(" (of ").append(coords.get(coord)).append(" producers) killed: 3 commits each after ")
                    .append(System.currentTimeMillis() - t0).append(" ms");
                long t1 = System.currentTimeMillis();
                restart(admin, coord);
                note.append(", back after ").append(System.currentTimeMillis() - t1).append(" ms");
                awaitCommits("after the coordinator's restart", 2, 120000);
                // 2. the leader of partition 0
                TopicDescription td = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
                int leader = td.partitions().get(0).leader().id();
                info("crash: killing node " + leader + ", the leader of " + topic + "-0");
                long t2 = System.currentTimeMillis();
                kill(leader);
                awaitCommits("after the partition leader's kill", 3, 120000);
                note.append("; leader ").append(leader).append(" killed: 3 commits each after ").append(System.currentTimeMillis() - t2).append(" ms");
                restart(admin, leader);
                awaitCommits("after the partition leader's restart", 2, 120000);
            } finally {
                stop.set(true);
                for (Thread th : threads) th.join(60000);
            }
            for (Thread th : threads) check(!th.isAlive(), "producer thread " + th.getName() + " did not stop within 60 s");
            // 3. nothing left open
            Set<String> ids = new java.util.HashSet<>();
            for (int k = 0; k < PRODUCERS; k++) ids.add(txnId(k));
            final String[] state = {""};
            await("no transaction of the producers Ongoing or Prepare*", TXN_TIMEOUT_MS + 15000, () -> {
                try {
                    Collection<TransactionListing> open = admin.listTransactions(new ListTransactionsOptions().filterStates(
                        List.of(TransactionState.ONGOING, TransactionState.PREPARE_COMMIT, TransactionState.PREPARE_ABORT)))
                        .all().get(10, TimeUnit.SECONDS);
                    List<TransactionListing> ours = new ArrayList<>();
                    for (TransactionListing l : open) if (ids.contains(l.transactionalId())) ours.add(l);
                    Map<String, TransactionDescription> ds = admin.describeTransactions(ids).all().get(10, TimeUnit.SECONDS);
                    List<String> notDone = new ArrayList<>();
                    for (TransactionDescription d : ds.values())
                        if (d.state() != TransactionState.COMPLETE_COMMIT && d.state() != TransactionState.COMPLETE_ABORT
                            && d.state() != TransactionState.EMPTY) notDone.add(d.toString());
                    state[0] = "listTransactions " + ours + ", describeTransactions " + notDone;
                    return ours.isEmpty() && notDone.isEmpty();
                } catch (Exception e) {
                    state[0] = e.toString();
                    return false;
                }
            }, () -> state[0]);
            Map<TopicPartition, Long> hw = endOffsets(bootstrap, tps, false);
            final Map<TopicPartition, Long>[] lso = new Map[] {null};
            await("last stable offsets reach the log end " + hw, 30000, () -> {
                lso[0] = endOffsets(bootstrap, tps, true);
                return lso[0].equals(hw);
            }, () -> "LSO " + lso[0]);
            // 4. what read_committed sees
            Map<TopicPartition, List<ConsumerRecord<String, String>>> rc = readAll(bootstrap, tps, true, 60000);
            Map<String, Integer> seen = new HashMap<>();
            Map<String, Integer> perTxn = new HashMap<>();
            List<String> problems = new ArrayList<>();
            for (List<ConsumerRecord<String, String>> l : rc.values())
                for (ConsumerRecord<String, String> r : l) {
                    if (seen.merge(r.value(), 1, Integer::sum) == 2) problems.add("duplicate " + r.value());
                    perTxn.merge(r.key(), 1, Integer::sum);
                }
            int full = TOUCH * PER_PART;
            int nCommitted = 0, nAborted = 0, unknownVisible = 0, unknownInvisible = 0;
            for (Map.Entry<String, Outcome> e : outcomes.entrySet()) {
                int n = perTxn.getOrDefault(e.getKey(), 0);
                switch (e.getValue()) {
                    case COMMITTED:
                        nCommitted++;
                        if (n != full) problems.add(e.getKey() + " commit acknowledged, " + n + " of " + full + " records visible");
                        break;
                    case ABORTED:
                        nAborted++;
                        if (n != 0) problems.add(e.getKey() + " aborted, " + n + " records visible");
                        break;
                    default:
                        if (n == full) unknownVisible++;
                        else if (n == 0) unknownInvisible++;
                        else problems.add(e.getKey() + " (outcome unknown) partially visible: " + n + " of " + full);
                }
            }
            for (String key : perTxn.keySet()) if (!outcomes.containsKey(key)) problems.add("records of an unknown transaction " + key);
            if (!problems.isEmpty()) {
                Map<String, Integer> kinds = new TreeMap<>();
                for (String pr : problems)
                    kinds.merge(pr.startsWith("duplicate") ? "duplicate records" : pr.contains("commit acknowledged") ? "acknowledged commits not wholly visible"
                        : pr.contains(" aborted, ") ? "aborted transactions visible" : pr.contains("partially") ? "unknown outcome partially visible"
                        : "records of unrecorded transactions", 1, Integer::sum);
                throw new Check(problems.size() + " problems " + kinds + " of " + outcomes.size() + " transactions: "
                    + (problems.size() > 10 ? problems.subList(0, 10) : problems));
            }
            return note + "; " + nCommitted + " committed, " + nAborted + " aborted, unknown outcome " + unknownVisible + " visible / "
                + unknownInvisible + " invisible; producers recreated " + recreated.get() + " times";
        }
    }
}
