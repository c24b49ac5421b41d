#!/usr/bin/env bash
# Burrow 1.2.1 (Debian bookworm's `burrow` package, LinkedIn's stock Kafka lag monitor) against
# weir: Burrow sees a weir consumer group, its committed offsets and its lag through its HTTP API,
# against a single weir node and against a 3-node weir cluster.
#
# Burrow knows groups only from Kafka's internal topic __consumer_offsets: its "kafka" consumer
# module (sarama 1.22) reads every partition of it from the oldest offset and decodes the offset
# commit records (key v0/v1; value v0, v1 or v3 - not Kafka 4.1's v4; group metadata values
# v0/v1 only, later ones are skipped with a warning, which loses only the partition owners).
# Its "kafka" cluster module polls every topic's log end offset (ListOffsets v0). Lag =
# latest log end offset - latest committed offset, per partition.
#
# Usage: compat-tests/burrow/run.sh     (uses $WEIR_BIN, else target/release/weir; builds nothing)
#   COMPAT_DEBUG=protocol,broker  librdkafka debug logs (stderr), and Burrow at log level debug
#   KEEP_WORK=1                   keep the work dir (weir, ZooKeeper and Burrow logs and configs)
#
# Scenarios (test_burrow.py, run once with --mode single and once with --mode cluster; one
# PASS/FAIL line each, every wait polls a condition against a deadline):
#    1 weir starts: metadata lists the broker(s) with their ports
#    2 a 3-partition topic is created; 30/45/60 messages produced (acks=all) to partitions 0/1/2
#      are acknowledged at offsets 0..n-1, the log end offsets are n
#    3 a confluent-kafka group (subscribe) consumes part of every partition and commits offsets
#      10/20/50 synchronously; committed() reads them back (the consumer stays in the group)
#    4 ZooKeeper serves requests (`srvr` reports `Mode: standalone`)
#    5 weir's __consumer_offsets (created for that group) is listed, holds records, and every
#      partition answers ListOffsets at its leader (else Burrow exits at its start)
#    6 Burrow starts (even if 5 failed): /v3/kafka lists exactly its cluster, and its consumer
#      module starts one reader per partition of __consumer_offsets (as many as in 5)
#    7 /v3/kafka/<cluster>/topic lists the topic; /topic/<topic> gives per partition the log end
#      offset the client reads (get_watermark_offsets)
#    8 /v3/kafka/<cluster>/consumer lists the group
#    9 /consumer/<group>: per partition, Burrow's latest offset = committed() and current-lag =
#      log end - committed
#   10 /consumer/<group>/lag: per partition current_lag = log end - committed (the client's
#      numbers) and end.offset = committed; totallag = their sum; partition_count = 3
#   11 Burrow follows: 12/7/20 more messages, the group reads on and commits 30/52/55 ->
#      Burrow's topic offsets, the group's offsets, per-partition lag and total lag move to the
#      new values (partition 1's lag to 0)
#   12 every process started (weir, ZooKeeper, Burrow) is still running
# Then, for both modes: no weir node panicked.
#
# How they are started (all on free 127.0.0.1 ports, data and logs in this run's work dir,
# <work>/<mode>/; each PID is recorded and stopped by PID):
#   weir, single:  weir --node-id 1 --data-dir D \
#                    --listeners PLAINTEXT://127.0.0.1:P,CONTROLLER://127.0.0.1:C
#   weir, cluster: three such nodes (ids 1-3) plus
#                    --override controller.quorum.voters=1@127.0.0.1:C1,2@127.0.0.1:C2,3@127.0.0.1:C3
#                    --override broker.session.timeout.ms=3000 --override broker.heartbeat.interval.ms=500
#                  (as compat-tests/cluster/run.sh); the topic has replication factor 1.
#   ZooKeeper:     java -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar \
#                    org.apache.zookeeper.server.ZooKeeperServerMain <work>/<mode>/zookeeper/zoo.cfg
#                  standalone (clientPortAddress=127.0.0.1, admin server off), ready when its
#                  `srvr` reports "Mode: standalone" (`ruok` answers imok too early). Burrow 1.2.1
#                  needs one: its [zookeeper] section is mandatory ("No Zookeeper servers
#                  specified"), it creates its root-path there before anything else starts (and
#                  exits if it cannot), and its notifier takes a lock there. (Only with
#                  root-path="/" does it start with no ZooKeeper listening - the HTTP API then
#                  works, but it retries the connection forever and logs a lock failure every
#                  100 ms: not a setup to test with.)
#   Burrow:        /usr/bin/Burrow -config-dir <work>/<mode>/burrow, burrow.toml written by
#                  test_burrow.py: client-profile kafka-version "2.0.0" (sarama 1.22's V2_0_0_0),
#                  one [cluster.weir-<mode>] (topic-refresh 2 s, offset-refresh 1 s) and one
#                  [consumer.weir-<mode>] of class "kafka" on the weir node(s), inmemory storage
#                  (intervals 5, min-distance 1), caching evaluator (expire-cache 1 s), HTTP on
#                  127.0.0.1:<free port>. Burrow's JSON log goes to <work>/<mode>/burrow.log.
# The tails of every weir, ZooKeeper and Burrow log are printed when anything failed.
export CLIENT_NAME=burrow
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../lib.sh"

# ---------------------------------------------------------------- cleanup
# test_burrow.py records the PID of every process it starts in this file; whatever is left
# running (a program killed by `timeout`, a watchdog exit) is stopped here, by PID, and only if
# the process's command line still names this run's work dir (no PID reuse accident).
PIDFILE="$WORK_DIR/pids"
: >"$PIDFILE"

reap() {
    local pid
    while read -r pid; do
        [ -n "$pid" ] || continue
        if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$WORK_DIR"; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done <"$PIDFILE"
}

log_tails() {
    local log
    for log in "$WORK_DIR"/*/node*.log "$WORK_DIR"/*/zookeeper.log "$WORK_DIR"/*/burrow.log; do
        [ -f "$log" ] || continue
        echo "--- last lines of ${log#"$WORK_DIR"/} ---"
        tail -n 25 "$log" | sed 's/\x1b\[[0-9;]*m//g' | cut -c1-400   # without colour codes
    done
}

burrow_cleanup() {
    reap
    if [ "$FAILED" -gt 0 ]; then log_tails; fi
    cleanup
}
trap burrow_cleanup EXIT

[ -x "$WEIR_BIN" ] || { echo "weir binary not found at $WEIR_BIN (run: cargo build --release)"; exit 2; }

# ---------------------------------------------------------------- install
apt_install burrow zookeeper || { echo "burrow: apt install of burrow and zookeeper failed"; exit 2; }
command -v java >/dev/null || { echo "burrow: no java (zookeeper depends on default-jre)"; exit 2; }
echo "burrow $(dpkg-query -W -f='${Version}' burrow), zookeeper $(dpkg-query -W -f='${Version}' zookeeper)"
PY="$(confluent_kafka_python)" || exit 2
"$PY" -c 'import confluent_kafka as c; print("confluent-kafka", c.version(), "librdkafka", c.libversion()[0])'

# ---------------------------------------------------------------- scenarios
# The program bounds its scenarios and its whole run itself; `timeout` is the last resort.
for mode in single cluster; do
    mkdir -p "$WORK_DIR/$mode"
    run_scenarios timeout -k 10 150 "$PY" "$HERE/test_burrow.py" \
        --mode "$mode" --weir "$WEIR_BIN" --work "$WORK_DIR/$mode" --pidfile "$PIDFILE"
    reap
done

# No weir node may have panicked, whatever Burrow saw.
if ls "$WORK_DIR"/*/node*.log >/dev/null 2>&1; then
    panics=$(grep -l 'panicked' "$WORK_DIR"/*/node*.log | sed "s#^$WORK_DIR/##" | tr '\n' ' ')
    if [ -z "$panics" ]; then pass "no weir node panicked"; else fail "no weir node panicked" "a panic in: $panics"; fi
fi

finish
