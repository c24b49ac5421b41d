#!/usr/bin/env bash
# Cluster-mode compatibility tests: three weir processes forming one cluster over a Raft quorum,
# driven by two stock clients - confluent-kafka (librdkafka 2.16, test_cluster.py) and the Apache
# Kafka Java client kafka-clients 4.1.1 (WeirCluster.java) - and a consumer group of both kinds of
# members across a coordinator failover (test_group_failover.py with GroupMember.java). Each
# program starts, kills (SIGKILL) and restarts a 3-node cluster of its own, in a folder of this
# run's work dir.
#
# Usage: compat-tests/cluster/run.sh     (uses $WEIR_BIN, else target/release/weir; builds nothing)
#   CLUSTER_ONLY=group-failover   run only some programs: a comma list of confluent-kafka, java,
#                                 group-failover, group-failover-sasl-ssl (default: all four)
#   COMPAT_DEBUG=protocol,broker  librdkafka debug logs (stderr)
#   WEIR_COMPAT_DEBUG=1           the Java client's DEBUG log (log4j2)
#
# How a node is started (the interface under test; every node is broker and controller, the
# default process.roles=broker,controller):
#
#   weir --node-id 1 --data-dir D1 \
#     --listeners PLAINTEXT://127.0.0.1:P1,CONTROLLER://127.0.0.1:C1 \
#     --override controller.quorum.voters=1@127.0.0.1:C1,2@127.0.0.1:C2,3@127.0.0.1:C3 \
#     --override broker.session.timeout.ms=3000 --override broker.heartbeat.interval.ms=500
#
# and nodes 2 and 3 likewise, with their own free ports and data dirs. A restart is the same
# command on the same data dir. Topics are created with replication factor 1 (the default
# default.replication.factor). Each node's stderr/stdout goes to <work>/<client>/node<N>.log;
# the tails of those logs are printed when anything failed.
#
# Scenarios (each program reports one PASS/FAIL line per scenario; every wait polls a condition
# against a deadline):
#   1 the cluster forms: bootstrapping from each node, metadata lists the 3 brokers (ids and
#     client ports) and a controller id
#   2 a 6-partition topic created through node 2 only is seen by nodes 1 and 3, with the
#     partition leaders covering all three brokers
#   2a-2d (Java only, right after 2, all three nodes up):
#     2a metadata quorum: describeMetadataQuorum through each node names DescribeCluster's
#        controller as leader, voters exactly {1,2,3}, no observers, the leader's own log end
#        offset >= 0, leader epoch >= 1
#     2b manual replica assignment: createTopics {0:[2], 1:[3], 2:[1]} is described so; an
#        unknown broker id or a duplicate replica -> InvalidReplicaAssignment, replication
#        factor 4 -> InvalidReplicationFactor
#     2c create partitions with assignments: increaseTo(5, [[3],[2]]) puts partitions 3 and 4 on
#        brokers 3 and 2; increaseTo(4) -> InvalidPartitions
#     2d consumer group coordinator: a subscribed group consumer reads 6 records of the topic of
#        2; describeConsumerGroups shows it Stable with 1 member and a coordinator; commitSync's
#        offsets are listed (and kept, the group Empty, after close). Those 6 records are part
#        of what 3 and 6 read back.
#   3 600 keyed messages (300 keys twice, acks=all) produced through node 3 are consumed back
#     exactly once, at their acknowledged partition and offset, a key always in one partition
#   4 the controller (DescribeCluster's) is killed with SIGKILL: within 10 s of the kill a topic
#     created through one survivor is seen by the other (the time is reported); 4b once its
#     partitions have lost their leader, the killed node is restarted and rejoins (every
#     partition led by its broker again)
#   5 a non-controller broker that leads partitions of the topic is killed with SIGKILL: after the
#     session timeout its partitions have no leader (-1), the others keep theirs and take
#     produce (acks=all) and fetch
#   6 the killed broker, restarted with the same command and data dir, leads its partitions
#     again, and every message acknowledged so far is read back from the beginning, exactly once
# (The killed controller of 4 is restarted before 5: with two of three voters dead the quorum
# is lost and no broker could be fenced.) The Python program consumes in 3 with a consumer
# group, the Java one with assign(); Java reads leaders both from Metadata (KafkaConsumer
# .partitionsFor) and, in 2, from Admin.describeTopics (what kafka-topics --describe shows).
#
# Group coordinator failover (test_group_failover.py, its own 3-node cluster, the same node
# command; topic gf: 6 partitions, replication factor 3, min.insync.replicas=2, so the killed
# coordinator is never the only replica of anything). A consumer group of three members, classic
# protocol, range assignor: two confluent-kafka members (threads) and one Java kafka-clients 4.1.1
# member (GroupMember.java, a subprocess); each commits synchronously after every batch and logs
# every record received and every commit (per partition, with times) as JSON lines that the checks
# read. An idempotent acks=all producer writes gf-<seq> values round-robin over the partitions
# from the moment the group is Stable until after the failover.
#   gf1  the cluster forms; the topic is listed by every node with 3 replicas and ISR 3 everywhere
#   gf2  a group id whose coordinator (describe_consumer_groups) is not the controller; the 3
#        members join: Stable, 3 members sharing the 6 partitions; then the producer starts and
#        every partition gets a commit >= 40
#   gf3  the coordinator killed with SIGKILL: within 15 s describe (through the survivors) names a
#        new coordinator, a live broker other than the killed one, and a commit sent after the
#        kill is accepted; the PASS line reports both times (kill -> new coordinator seen, kill ->
#        first commit accepted)
#   gf4  the group carries on: every partition and every member commits after the kill, past the
#        records produced before it; then the producer stops, and the committed offsets
#        (OffsetFetch) reach the end offsets within 30 s
#   gf5a none skipped: the members stopped, the topic read back with assign(): every acknowledged
#        record is in the log at its place, every record of the log was delivered to the group
#   gf5b at-least-once, no more: no record delivered after a commit past it was acknowledged;
#        records delivered twice only at/after their partition's last commit before the kill
#   gf6  the killed broker restarted (same command, same data dir) rejoins: 3 brokers listed by
#        every node, ISR 3 for every partition again; gf6b the group's committed offsets, through
#        the restarted node, are still the end offsets, its coordinator live
# Member logs: <work>/group-failover/members/<name>.jsonl (KEEP_WORK=1 keeps them).
export CLIENT_NAME=cluster
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../lib.sh"

# ---------------------------------------------------------------- cleanup
# The programs record the PID of every weir (and Java group member) they start in this file;
# whatever is left running (a program killed by `timeout`, a watchdog exit) is stopped here, by
# PID, and only if the process's command line still names this run's work dir (no PID reuse
# accident).
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

cluster_cleanup() {
    reap_nodes
    if [ "$FAILED" -gt 0 ]; then node_log_tails; fi
    cleanup
}
trap cluster_cleanup EXIT

[ -x "$WEIR_BIN" ] || { echo "weir binary not found at $WEIR_BIN (run: cargo build --release)"; exit 2; }

# ---------------------------------------------------------------- install
# confluent-kafka and the kafka-clients jars, as the confluent-kafka and java suites get them
# (compat-tests/lib.sh). Only this suite's own classes are compiled here, into build/.
PY="$(confluent_kafka_python)" || exit 2
"$PY" -c 'import confluent_kafka as c; print("confluent-kafka", c.version(), "librdkafka", c.libversion()[0])'
JAVA_DIR="$KAFKA_JARS_DIR"

compile() {
    local classes="$HERE/build/classes" stale=0 src
    for src in "$HERE"/*.java; do
        local cls="$classes/$(basename "$src" .java).class"
        { [ -f "$cls" ] && [ ! "$src" -nt "$cls" ]; } || stale=1
    done
    if [ "$stale" = 1 ]; then
        rm -rf "$classes"; mkdir -p "$classes"
        javac -nowarn -cp "$JAVA_DIR/libs/*" -d "$classes" "$HERE"/*.java || return 1
    fi
}

install_kafka_jars || { echo "cluster: could not install the kafka-clients jars"; exit 2; }
compile || { echo "cluster: javac failed"; exit 2; }
CP="$HERE/build/classes:$JAVA_DIR/libs/*"
JOPTS=(-Xmx384m -XX:TieredStopAtLevel=1)
if [ "${WEIR_COMPAT_DEBUG:-0}" = 1 ]; then
    CP="$CP:$JAVA_DIR/libs-debug/*"
    JOPTS+=(-Dlog4j2.level=DEBUG)
fi

# ---------------------------------------------------------------- scenarios
# Each program bounds its scenarios and its whole run itself; `timeout` is the last resort.
ONLY=",${CLUSTER_ONLY:-confluent-kafka,java,group-failover,group-failover-sasl-ssl},"
wanted() { case "$ONLY" in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
mkdir -p "$WORK_DIR/confluent-kafka" "$WORK_DIR/java" "$WORK_DIR/group-failover"
if wanted confluent-kafka; then
    run_scenarios timeout -k 10 390 "$PY" "$HERE/test_cluster.py" \
        --weir "$WEIR_BIN" --work "$WORK_DIR/confluent-kafka" --pidfile "$PIDFILE"
    reap_nodes
fi
if wanted java; then
    run_scenarios timeout -k 10 390 java "${JOPTS[@]}" -cp "$CP" WeirCluster \
        "$WEIR_BIN" "$WORK_DIR/java" "$PIDFILE"
    reap_nodes
fi
if wanted group-failover; then
    # The Java member runs as `java ... GroupMember ARGS` (its PID goes to $PIDFILE too).
    run_scenarios timeout -k 10 360 "$PY" "$HERE/test_group_failover.py" \
        --weir "$WEIR_BIN" --work "$WORK_DIR/group-failover" --pidfile "$PIDFILE" -- java "${JOPTS[@]}" -cp "$CP"
    reap_nodes
fi

if wanted group-failover-sasl-ssl; then
    # The same programme with the brokers replicating over SASL_SSL (TLS with the CA made here,
    # SCRAM-SHA-512): the killed coordinator's partitions fail over and every acknowledged
    # record is still read back, with replication authenticated and encrypted.
    PKI="$WORK_DIR/pki"
    mkdir -p "$PKI" "$WORK_DIR/group-failover-sasl-ssl"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=weir cluster CA" \
        -keyout "$PKI/ca.key" -out "$PKI/ca.pem" 2>/dev/null || { echo "cluster: openssl failed"; exit 2; }
    for n in 1 2 3; do
        openssl req -newkey rsa:2048 -nodes -subj "/CN=node$n" -keyout "$PKI/node$n.key" \
            -out "$PKI/node$n.csr" 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$PKI/san.ext"
        openssl x509 -req -in "$PKI/node$n.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -CAcreateserial \
            -days 2 -extfile "$PKI/san.ext" -out "$PKI/node$n.crt" 2>/dev/null
        cat "$PKI/node$n.key" "$PKI/node$n.crt" >"$PKI/node$n.pem"
    done
    # Its PASS/FAIL lines name the variant (CLIENT_NAME is the suites' reporting name).
    export CLUSTER_INTER_BROKER=SASL_SSL CLUSTER_PKI="$PKI" CLIENT_NAME="cluster (inter-broker SASL_SSL)"
    run_scenarios timeout -k 10 360 "$PY" "$HERE/test_group_failover.py" \
        --weir "$WEIR_BIN" --work "$WORK_DIR/group-failover-sasl-ssl" --pidfile "$PIDFILE" -- java "${JOPTS[@]}" -cp "$CP"
    unset CLUSTER_INTER_BROKER CLUSTER_PKI
    export CLIENT_NAME=cluster
    reap_nodes
fi

# No node may have panicked, whatever the scenarios saw (a panic in a task can leave the
# process up and the clients unaware).
if ls "$WORK_DIR"/*/node*.log >/dev/null 2>&1; then
    panics=$(grep -l 'panicked' "$WORK_DIR"/*/node*.log | sed "s#^$WORK_DIR/##" | tr '\n' ' ')
    if [ -z "$panics" ]; then pass "no node panicked"; else fail "no node panicked" "a panic in: $panics"; fi
fi

finish
