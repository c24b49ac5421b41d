#!/usr/bin/env bash
# The web console in a real browser: Debian's headless Chromium driven by playwright-core
# (test.js), against weir's console and JSON API (docs/console-api.md), with the stock
# confluent-kafka client (kafka_helper.py) creating and checking what the pages show.
#
#   compat-tests/console/run.sh        install (idempotent), start two brokers, run test.js
#
# WEIR_SCREENSHOTS=DIR keeps the screenshots there (default: $WORK_DIR/screenshots, which
# is removed at the end unless KEEP_WORK=1); WEIR_CONSOLE_SCALE_PARTITIONS (default 1000; the
# goal is 10000) sizes the scale scenario's topic. Chromium reaches nothing but 127.0.0.1: it runs with
# background networking, component updates and sync off, and the test aborts any other request.
export CLIENT_NAME=console
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../lib.sh"

# 1. Install (idempotent): Chromium from Debian (never Playwright's own browsers),
#    playwright-core pinned by package-lock.json, confluent-kafka in the shared venv.
if [ ! -x /usr/bin/chromium ]; then
    apt_install chromium || { echo "could not install chromium"; exit 2; }
fi
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
want="$(cd "$HERE" && node -p 'require("./package.json").dependencies["playwright-core"]')"
have="$(cd "$HERE" && node -p 'require("./node_modules/playwright-core/package.json").version' 2>/dev/null)"
if [ "$have" != "$want" ]; then
    (cd "$HERE" && retry 3 npm ci --no-audit --no-fund --loglevel=error) || { echo "playwright-core: npm ci failed"; exit 2; }
fi
PY="$(confluent_kafka_python)" || exit 2
echo "$(/usr/bin/chromium --version 2>/dev/null), playwright-core $want, node $(node --version)," \
    "$("$PY" -c 'import confluent_kafka as c; print("confluent-kafka", c.version()[0], "librdkafka", c.libversion()[0])')"

# wait_http URL PID: until URL answers 200 (30 s), while PID lives.
wait_http() {
    local i
    for i in $(seq 1 300); do
        python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# 2. The broker under test, its HTTP listener on a free loopback port. Groups form at once;
#    the lag sampler looks every second (the lag scenario waits for its look).
HTTP_PORT="$(free_port)"
start_broker --override "http.listeners=127.0.0.1:$HTTP_PORT" --override group.initial.rebalance.delay.ms=0 \
    --override http.console.lag.sample.ms=1000
wait_http "http://127.0.0.1:$HTTP_PORT/api/v1/console" "$BROKER_PID" \
    || { echo "the console API did not answer; log:"; tail -50 "$WORK_DIR/broker.log"; exit 2; }

# 3. A second broker (own ports and data dir) whose console is read-only; stopped by PID.
RO_PORT="$(free_port)"
RO_HTTP_PORT="$(free_port)"
mkdir -p "$WORK_DIR/data-ro"
"$WEIR_BIN" --listeners "127.0.0.1:$RO_PORT" --data-dir "$WORK_DIR/data-ro" \
    --override "http.listeners=127.0.0.1:$RO_HTTP_PORT" --override http.console.read.only=true \
    --override group.initial.rebalance.delay.ms=0 >>"$WORK_DIR/broker-ro.log" 2>&1 &
RO_PID=$!
stop_ro() {
    if kill -0 "$RO_PID" 2>/dev/null; then
        kill -TERM "$RO_PID" 2>/dev/null
        local i
        for i in $(seq 1 100); do kill -0 "$RO_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$RO_PID" 2>/dev/null || true
        wait "$RO_PID" 2>/dev/null || true
    fi
}
trap 'stop_ro; cleanup' EXIT
wait_http "http://127.0.0.1:$RO_HTTP_PORT/api/v1/console" "$RO_PID" \
    || { echo "the read-only broker did not start; log:"; tail -50 "$WORK_DIR/broker-ro.log"; exit 2; }

# 4. Scenarios: test.js bounds each one; `timeout` is the last resort.
export WEIR_CONSOLE_URL="http://127.0.0.1:$HTTP_PORT" WEIR_CONSOLE_RO_URL="http://127.0.0.1:$RO_HTTP_PORT"
export RO_BOOTSTRAP="127.0.0.1:$RO_PORT" PY WORK_DIR
export WEIR_SCREENSHOTS="${WEIR_SCREENSHOTS:-$WORK_DIR/screenshots}"
run_scenarios timeout -k 10 900 node "$HERE/test.js"
if [ "${KEEP_WORK:-0}" != 1 ] && [[ "$WEIR_SCREENSHOTS" == "$WORK_DIR"/* ]]; then
    echo "screenshots: $WEIR_SCREENSHOTS (removed with the work dir: set KEEP_WORK=1 or WEIR_SCREENSHOTS=DIR to keep them)"
else
    echo "screenshots: $WEIR_SCREENSHOTS"
fi

# 5. Tally.
finish
