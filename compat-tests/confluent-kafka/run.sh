#!/usr/bin/env bash
# Compatibility tests for the stock confluent-kafka Python client (librdkafka 2.16) against weir.
# Usage: compat-tests/confluent-kafka/run.sh   (uses target/release/weir or $WEIR_BIN)
# COMPAT_DEBUG=protocol,broker turns on librdkafka debug logs (stderr, shown in the output).
export CLIENT_NAME=confluent-kafka
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../lib.sh"

# 1. Install (idempotent): confluent-kafka 2.16.x into the shared venv, else the latest 2.x.
PY="$(confluent_kafka_python)" || exit 2
"$PY" -c 'import confluent_kafka as c; print("confluent-kafka", c.version(), "librdkafka", c.libversion()[0])'

# 2. Broker.
start_broker

# 3. Scenarios: the program prints one PASS/FAIL line per scenario; its watchdog and time
#    budget bound it, `timeout` is the last resort.
run_scenarios timeout -k 10 240 "$PY" "$HERE/test_confluent.py"
# Consumer groups (runs and restarts its own broker).
run_scenarios timeout -k 10 400 "$PY" "$HERE/test_groups.py" --weir "$WEIR_BIN" --work "$WORK_DIR"
run_scenarios timeout -k 10 400 "$PY" "$HERE/test_lifecycle.py" --weir "$WEIR_BIN" --work "$WORK_DIR"

# 4. Tally.
finish
