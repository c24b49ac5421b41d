#!/usr/bin/env bash
# Transactions (KIP-98) and exactly-once with real, stock clients: the Apache Kafka Java client
# kafka-clients 4.1.1 (TxnSingle, TxnCopy, TxnCrash), confluent-kafka 2.16 (librdkafka) and
# kafka-python 3.0 (test_txn_python.py). See README.md beside this file for the scenarios.
#
#   compat-tests/transactions/run.sh [single|cluster|all]   (default all)
#     single   scenarios 1-5 and 8 on one broker (started here: weir via lib.sh's start_broker)
#     cluster  scenarios 6-7 (and 3 with RF 3) on a 3-node cluster (started here with weir-node.sh, the node
#              command of compat-tests/cluster)
#
#   Against an external broker (development, e.g. Apache Kafka from dev-kafka.sh):
#     TXN_BOOTSTRAP=127.0.0.1:29392 run.sh single
#     TXN_CLUSTER_BOOTSTRAP=h:p,h:p,h:p TXN_CLUSTER_PID_CMD='cat .../n{id}/broker.pid' \
#       TXN_CLUSTER_RESTART_CMD='.../restart-node.sh {id}' run.sh cluster
#     (eval "$(dev-kafka.sh env)" sets all four for dev-kafka.sh's Kafka single node and cluster)
#   WEIR_COMPAT_DEBUG=1   the Java client's DEBUG log (log4j2); COMPAT_DEBUG=1 the Python clients'
#   KEEP_WORK=1           keep the work dir (broker and node logs, copy worker logs)
#
# Settings given to weir, by their Kafka names (README.md): every broker gets
#   transaction.abort.timed.out.transaction.cleanup.interval.ms=1000
# and the single broker transaction.state.log.replication.factor=1, transaction.state.log.min.isr=1.
export CLIENT_NAME=transactions
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../lib.sh"

PART=${1:-all}
case "$PART" in single | cluster | all) ;; *) echo "usage: run.sh [single|cluster|all]"; exit 2 ;; esac
want() { [ "$PART" = all ] || [ "$PART" = "$1" ]; }

BROKER_SETTINGS=(--override transaction.abort.timed.out.transaction.cleanup.interval.ms=1000)
SINGLE_SETTINGS=(--override transaction.state.log.replication.factor=1 --override transaction.state.log.min.isr=1)

# ---------------------------------------------------------------- cleanup
CLUSTER_DIR="$WORK_DIR/cluster"
txn_cleanup() {
    [ -f "$CLUSTER_DIR/cluster.env" ] && "$HERE/weir-node.sh" stop "$CLUSTER_DIR"
    if [ "$FAILED" -gt 0 ]; then
        local log
        for log in "$CLUSTER_DIR"/n*.log; do
            [ -f "$log" ] || continue
            echo "--- last lines of ${log#"$WORK_DIR"/} ---"; tail -n 25 "$log" | sed 's/\x1b\[[0-9;]*m//g'
        done
    fi
    cleanup
}
trap txn_cleanup EXIT

# ---------------------------------------------------------------- install (idempotent)
PY="$(confluent_kafka_python)" || exit 2
KPY="$(kafka_python_python)" || exit 2
"$PY" -c 'import confluent_kafka as c; print("confluent-kafka", c.version(), "librdkafka", c.libversion()[0])'
"$KPY" -c 'import kafka; print("kafka-python", kafka.__version__)'
install_kafka_jars || { echo "transactions: could not install the kafka-clients jars"; exit 2; }
compile() {
    local classes="$HERE/build/classes" stale=0 src
    for src in "$HERE"/*.java; do
        local cls="$classes/$(basename "$src" .java).class"
        { [ -f "$cls" ] && [ ! "$src" -nt "$cls" ]; } || stale=1
    done
    if [ "$stale" = 1 ]; then
        rm -rf "$classes"; mkdir -p "$classes"
        javac -nowarn -Xlint:none -cp "$KAFKA_JARS_DIR/libs/*" -d "$classes" "$HERE"/*.java || return 1
    fi
}
compile || { echo "transactions: javac failed"; exit 2; }
CP="$HERE/build/classes:$KAFKA_JARS_DIR/libs/*"
JOPTS=(-Xmx512m -XX:TieredStopAtLevel=1)
if [ "${WEIR_COMPAT_DEBUG:-0}" = 1 ]; then
    CP="$CP:$KAFKA_JARS_DIR/libs-debug/*"
    JOPTS+=(-Dlog4j2.level=DEBUG)
fi
export TXN_WORK="$WORK_DIR"

# ---------------------------------------------------------------- single broker: 1-5, 8
if want single; then
    if [ -n "${TXN_BOOTSTRAP:-}" ]; then
        BOOTSTRAP=$TXN_BOOTSTRAP; export BOOTSTRAP
        echo "transactions: external broker $BOOTSTRAP"
    else
        start_broker "${BROKER_SETTINGS[@]}" "${SINGLE_SETTINGS[@]}"
    fi
    # Each program bounds its scenarios itself; `timeout` is the last resort.
    run_scenarios timeout -k 10 420 java "${JOPTS[@]}" -cp "$CP" TxnSingle "$BOOTSTRAP"
    run_scenarios timeout -k 10 120 "$PY" "$HERE/test_txn_python.py" --client confluent-kafka
    # kafka-python 3.0 has transactional producers (transactional_id, since 2.1) and
    # isolation_level on the consumer.
    run_scenarios timeout -k 10 120 "$KPY" "$HERE/test_txn_python.py" --client kafka-python
    run_scenarios timeout -k 10 300 java "${JOPTS[@]}" -cp "$CP" TxnCopy "$BOOTSTRAP"
    stop_broker
fi

# ---------------------------------------------------------------- 3-node cluster: 6, 7
if want cluster; then
    if [ -n "${TXN_CLUSTER_BOOTSTRAP:-}" ]; then
        CB=$TXN_CLUSTER_BOOTSTRAP
        [ -n "${TXN_CLUSTER_PID_CMD:-}" ] && [ -n "${TXN_CLUSTER_RESTART_CMD:-}" ] ||
            { echo "transactions: TXN_CLUSTER_BOOTSTRAP needs TXN_CLUSTER_PID_CMD and TXN_CLUSTER_RESTART_CMD"; exit 2; }
        echo "transactions: external cluster $CB"
    else
        [ -x "$WEIR_BIN" ] || { echo "weir binary not found at $WEIR_BIN (run: cargo build --release)"; exit 2; }
        WEIR_BIN="$WEIR_BIN" "$HERE/weir-node.sh" init "$CLUSTER_DIR" "${BROKER_SETTINGS[@]}"
        started=1
        for i in 1 2 3; do "$HERE/weir-node.sh" start "$CLUSTER_DIR" "$i" & done
        for i in 1 2 3; do wait -n || started=0; done
        if [ "$started" = 0 ]; then fail "cluster start" "a weir node did not start (logs below)"; finish; fi
        CB="$("$HERE/weir-node.sh" bootstrap "$CLUSTER_DIR")"
        export TXN_CLUSTER_PID_CMD="cat '$CLUSTER_DIR'/n{id}.pid"
        export TXN_CLUSTER_RESTART_CMD="'$HERE/weir-node.sh' start '$CLUSTER_DIR' {id}"
    fi
    run_scenarios timeout -k 10 300 java "${JOPTS[@]}" -cp "$CP" TxnSingle "$CB" --rf 3 --label cluster --only java-txn
    BOOTSTRAP="$CB" run_scenarios timeout -k 10 120 "$PY" "$HERE/test_txn_python.py" --client confluent-kafka --rf 3 --label cluster
    run_scenarios timeout -k 10 480 java "${JOPTS[@]}" -cp "$CP" TxnCrash "$CB" --label cluster
    [ -f "$CLUSTER_DIR/cluster.env" ] && "$HERE/weir-node.sh" stop "$CLUSTER_DIR"
fi

# No weir process may have panicked, whatever the clients saw.
logs=$(ls "$WORK_DIR"/broker.log "$CLUSTER_DIR"/n*.log 2>/dev/null || true)
if [ -n "$logs" ]; then
    panics=$(grep -l 'panicked' $logs | sed "s#^$WORK_DIR/##" | tr '\n' ' ')
    if [ -z "$panics" ]; then pass "no weir process panicked"; else fail "no weir process panicked" "a panic in: $panics"; fi
fi
finish
