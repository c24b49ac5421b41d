#!/usr/bin/env bash
# The fault test (fault_test.py): idempotent acks=all writers of two stock clients - confluent-kafka
# (librdkafka 2.16, producer.py) and kafka-clients 4.1.1 (FaultProducer.java) - write unique values
# to a replicated topic while brokers are killed (-9), paused (SIGSTOP) and cut off from the
# others (iptables), one fault every few seconds for FAULT_DURATION seconds (180 by default);
# then every acknowledged value must be read back exactly once, in order, and the replicas must
# be byte-identical up to the high watermark.
#
# Usage: compat-tests/faults/run.sh   (uses $WEIR_BIN, else target/release/weir; builds nothing)
#   FAULT_DURATION=S   seconds of faults (default 180)
#   FAULT_SEED=N       the fault schedule's random seed (printed by every run)
#
# The cluster lives in a network namespace of this run's own (ip netns; root is needed), so
# that its iptables rules never touch the host: node 0 on 127.0.0.10 is only a controller (the
# whole metadata quorum), nodes 1-3 on 127.0.0.11-13 are only brokers, each node with port 9092
# for clients and 9093 for the controller listener:
#
#   weir --node-id N --data-dir DN \
#     --listeners PLAINTEXT://127.0.0.1N:9092,CONTROLLER://127.0.0.1N:9093 \
#     --override process.roles=broker (controller for node 0) \
#     --override controller.quorum.voters=0@127.0.0.10:9093 \
#     --override broker.session.timeout.ms=3000 --override broker.heartbeat.interval.ms=500 \
#     --override replica.lag.time.max.ms=10000 --override leader.imbalance.check.interval.seconds=10
#
# Node logs are <work>/node<N>.log, the writers' reports <work>/<writer>.acks; their tails are
# printed when anything failed.
export CLIENT_NAME=faults
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../lib.sh"

PIDFILE="$WORK_DIR/weir.pids"
: >"$PIDFILE"
NETNS="weir-faults-$$"

reap() {
    local pid
    # Every process left in this run's namespace is this run's (nodes, writers).
    if ip netns list 2>/dev/null | grep -qw "$NETNS"; then
        for pid in $(ip netns pids "$NETNS" 2>/dev/null); do
            kill -CONT "$pid" 2>/dev/null || true
            kill -KILL "$pid" 2>/dev/null || true
        done
        ip netns del "$NETNS" 2>/dev/null || true
    fi
    while read -r pid; do
        [ -n "$pid" ] || continue
        if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$WORK_DIR"; then
            kill -CONT "$pid" 2>/dev/null || true
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done <"$PIDFILE"
}

faults_cleanup() {
    reap
    if [ "$FAILED" -gt 0 ]; then
        local log
        for log in "$WORK_DIR"/node*.log "$WORK_DIR"/*.log; do
            [ -f "$log" ] || continue
            echo "--- last lines of ${log#"$WORK_DIR"/} ---"
            tail -n 25 "$log" | sed 's/\x1b\[[0-9;]*m//g'
        done
    fi
    cleanup
}
trap faults_cleanup EXIT

[ -x "$WEIR_BIN" ] || { echo "weir binary not found at $WEIR_BIN (run: cargo build --release)"; exit 2; }
if [ "$(id -u)" -ne 0 ]; then
    fail "the fault test needs root (a network namespace and iptables rules of its own)"
    finish
fi

# ---------------------------------------------------------------- install
apt_install iptables iproute2 || { echo "faults: could not install iptables"; exit 2; }
PY="$(confluent_kafka_python)" || exit 2
install_kafka_jars || { echo "faults: could not install the kafka-clients jars"; exit 2; }
classes="$HERE/build/classes"
if [ ! -f "$classes/FaultProducer.class" ] || [ "$HERE/FaultProducer.java" -nt "$classes/FaultProducer.class" ]; then
    rm -rf "$classes"; mkdir -p "$classes"
    javac -nowarn -cp "$KAFKA_JARS_DIR/libs/*" -d "$classes" "$HERE/FaultProducer.java" || { echo "faults: javac failed"; exit 2; }
fi

# ---------------------------------------------------------------- the namespace
ip netns add "$NETNS" || { fail "ip netns add $NETNS"; finish; }
ip netns exec "$NETNS" ip link set lo up
# The nodes' addresses, on lo: glibc's getaddrinfo (AI_ADDRCONFIG, as librdkafka calls it) finds
# no IPv4 name at all in a namespace whose only address is 127.0.0.1.
for a in 10 11 12 13; do ip netns exec "$NETNS" ip addr add "127.0.0.$a/8" dev lo; done
# iptables-legacy or -nft: whichever this machine's iptables is, inside the namespace only.
ip netns exec "$NETNS" iptables -w -L -n >/dev/null || { fail "iptables in the namespace"; finish; }

run_scenarios ip netns exec "$NETNS" timeout -k 10 $(( ${FAULT_DURATION:-180} + 720 )) \
    "$PY" "$HERE/fault_test.py" --weir "$WEIR_BIN" --work "$WORK_DIR" --pidfile "$PIDFILE" \
    --java-cp "$classes:$KAFKA_JARS_DIR/libs/*" --python "$PY" \
    --duration "${FAULT_DURATION:-180}" ${FAULT_SEED:+--seed "$FAULT_SEED"}
reap

panics=$(grep -l 'panicked' "$WORK_DIR"/node*.log 2>/dev/null | sed "s#^$WORK_DIR/##" | tr '\n' ' ')
if [ -z "$panics" ]; then pass "no node panicked"; else fail "no node panicked" "a panic in: $panics"; fi

finish
