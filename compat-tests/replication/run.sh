#!/usr/bin/env bash
# Data replication (Kafka's ISR protocol) with a stock client, confluent-kafka (librdkafka 2.16,
# test_replication.py), against four weir processes: a controller-only node that is the whole
# metadata quorum (so the quorum outlives any broker) and three broker-only nodes. Every topic
# has replication factor 3 and min.insync.replicas=2.
#
# Usage: compat-tests/replication/run.sh   (uses $WEIR_BIN, else target/release/weir; builds nothing)
#   COMPAT_DEBUG=protocol,broker  librdkafka debug logs (stderr)
#
# How the nodes are started (the interface under test):
#
#   weir --node-id 0 --data-dir D0 \
#     --listeners PLAINTEXT://127.0.0.1:P0,CONTROLLER://127.0.0.1:C0 \
#     --override process.roles=controller \
#     --override controller.quorum.voters=0@127.0.0.1:C0 \
#     --override broker.session.timeout.ms=3000 --override broker.heartbeat.interval.ms=500
#
#   weir --node-id N --data-dir DN \
#     --listeners PLAINTEXT://127.0.0.1:PN,CONTROLLER://127.0.0.1:CN \
#     --override process.roles=broker \
#     --override controller.quorum.voters=0@127.0.0.1:C0 \
#     --override broker.session.timeout.ms=3000 --override broker.heartbeat.interval.ms=500
#
# for N = 1, 2, 3, each with free ports and a data dir of its own. (The controller gets a
# PLAINTEXT port too: weir binds its client listener on every node, 127.0.0.1:9092 unless told
# otherwise; clients are only ever given the brokers' ports.) A restart is the same command on
# the same data dir. Each node's output goes to <work>/confluent-kafka/node<N>.log; the tails of
# those logs are printed when anything failed.
#
# Scenarios (one PASS/FAIL line each; every wait polls a condition against a deadline):
#   0 the cluster forms: every broker lists brokers 1-3, and Metadata's controller_id names one
#     of them (as Kafka's KRaft brokers answer), so that admin clients can send CreateTopics;
#     if not, the topics below are auto-created with the brokers' defaults instead (3
#     partitions, replication factor 3, min.insync.replicas=2; one-partition scenarios use
#     partition 0), so that the replication scenarios still run
#   1 topic rf3 (3 partitions): 3,000 unique values from an idempotent acks=all producer, all
#     acknowledged, read back exactly once; ISR = all 3 replicas of each partition everywhere
#   2 acks=all with brokers down: leader killed (SIGKILL) and fenced -> acks=all succeeds; a
#     second broker killed -> a retries=0 producer gets NOT_ENOUGH_REPLICAS (19) per message;
#     the first restarted and back in the ISR -> acks=all succeeds; all acknowledged read once;
#     the second restarted too -> every ISR of every topic (rf3's too) full again within 60 s
#   3 failover time: the leader of a single-partition topic killed under a continuously writing
#     idempotent producer (default settings), 3 times; the first acknowledged message produced
#     after the kill comes within 10 s; min/median/max printed; all read back once, in order
#   3b preferred leader election: AdminClient.elect_leaders(PREFERRED) hands the partitions the
#     kills moved back to their first replica (the others: ELECTION_NOT_NEEDED); then every
#     partition is led by its first replica on every broker; again -> ELECTION_NOT_NEEDED; all
#     partitions (null) -> only other topics' partitions (__consumer_offsets, which the kills
#     moved too) handed back, then nothing to do; an unknown partition -> UNKNOWN_TOPIC_OR_PARTITION
#   3c reassignment (AlterPartitionReassignments / ListPartitionReassignments through Java's Admin,
#     kafka-clients 4.1.1, as kafka-reassign-partitions.sh sends them): a 2-partition topic with
#     replicas [1,2] and [2,3] moved to [3,1] and [1] under a writing acks=all producer; the moves
#     complete (nothing listed), the metadata shows the targets as replicas and ISR, the leaving
#     brokers delete their copies, everything acknowledged is read back once; bad targets, an
#     unknown partition and a cancellation without a move get Kafka's errors; a move throttled
#     as kafka-reassign-partitions.sh --throttle sets it (the rates as dynamic broker configs,
#     the throttled replicas as topic configs) is still in progress 3 s into copying ~3 MB at
#     100 kB/s, and completes once the throttle is removed; a move onto a broker that is down
#     stays listed (adding it) until cancelled, which restores the replicas
#   4 byte-identical replicas (last: it stops the brokers with SIGTERM, each must exit 0 by
#     itself): per partition of every topic above, the three replicas' .log segments are
#     identical up to the smallest high watermark in the replication-offset-checkpoint files
# followed by "no node panicked" over every node log. See test_replication.py for the details.
export CLIENT_NAME=replication
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../lib.sh"

# ---------------------------------------------------------------- cleanup
# The program records the PID of every weir it starts in this file; whatever is left running
# (a program killed by `timeout`, a watchdog exit) is stopped here, by PID, and only if the
# process's command line still names this run's work dir (no PID reuse accident).
PIDFILE="$WORK_DIR/weir.pids"
: >"$PIDFILE"

reap_nodes() {
    local pid
    while read -r pid; do
        [ -n "$pid" ] || continue
        if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$WORK_DIR"; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done <"$PIDFILE"
}

node_log_tails() {
    local log
    for log in "$WORK_DIR"/*/node*.log; do
        [ -f "$log" ] || continue
        echo "--- last lines of ${log#"$WORK_DIR"/} ---"
        tail -n 25 "$log" | sed 's/\x1b\[[0-9;]*m//g'   # without the colour codes
    done
}

replication_cleanup() {
    reap_nodes
    if [ "$FAILED" -gt 0 ]; then
        node_log_tails
        # REPLICATION_KEEP=DIR: keep the node logs and data dirs there for a post-mortem.
        if [ -n "${REPLICATION_KEEP:-}" ]; then
            mkdir -p "$REPLICATION_KEEP" && cp -a "$WORK_DIR"/. "$REPLICATION_KEEP"/ && echo "kept in $REPLICATION_KEEP"
        fi
    fi
    cleanup
}
trap replication_cleanup EXIT

[ -x "$WEIR_BIN" ] || { echo "weir binary not found at $WEIR_BIN (run: cargo build --release)"; exit 2; }

# ---------------------------------------------------------------- install
PY="$(confluent_kafka_python)" || exit 2
# Scenario 3c's Admin client (kafka-clients 4.1.1: what kafka-reassign-partitions.sh uses).
install_kafka_jars || { echo "replication: could not install the kafka-clients jars"; exit 2; }
classes="$HERE/build/classes"
if [ ! -f "$classes/Reassign.class" ] || [ "$HERE/Reassign.java" -nt "$classes/Reassign.class" ]; then
    rm -rf "$classes"; mkdir -p "$classes"
    javac -nowarn -cp "$KAFKA_JARS_DIR/libs/*" -d "$classes" "$HERE/Reassign.java" || { echo "replication: javac failed"; exit 2; }
fi
"$PY" -c 'import confluent_kafka as c; print("confluent-kafka", c.version(), "librdkafka", c.libversion()[0])'

# ---------------------------------------------------------------- scenarios
# The program bounds its scenarios and its whole run itself; `timeout` is the last resort.
mkdir -p "$WORK_DIR/confluent-kafka"
t0=$SECONDS
run_scenarios timeout -k 10 420 "$PY" "$HERE/test_replication.py" \
    --weir "$WEIR_BIN" --work "$WORK_DIR/confluent-kafka" --pidfile "$PIDFILE" \
    --java-cp "$classes:$KAFKA_JARS_DIR/libs/*"
reap_nodes
echo "  replication: the scenarios took $((SECONDS - t0))s"

# No node may have panicked, whatever the scenarios saw (a panic in a task can leave the
# process up and the clients unaware).
if ls "$WORK_DIR"/*/node*.log >/dev/null 2>&1; then
    panics=$(grep -l 'panicked' "$WORK_DIR"/*/node*.log | sed "s#^$WORK_DIR/##" | tr '\n' ' ')
    if [ -z "$panics" ]; then pass "no node panicked"; else fail "no node panicked" "a panic in: $panics"; fi
fi

finish
