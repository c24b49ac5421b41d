#!/usr/bin/env bash
# Compatibility tests for the stock kafka-python 3.0 client against weir.
# Usage: compat-tests/kafka-python/run.sh   (uses target/release/weir or $WEIR_BIN)
# COMPAT_DEBUG=1 shows kafka-python's DEBUG log (stderr, in the output).
export CLIENT_NAME=kafka-python
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../lib.sh"

# 1. Install (idempotent): kafka-python 3.0.x into the shared venv.
PY="$(kafka_python_python)" || exit 2
"$PY" -c 'import kafka; print("kafka-python", kafka.__version__)'

# 2. Broker.
start_broker

# 3. Scenarios: one PASS/FAIL line each; the program's watchdog and time budget bound it,
#    `timeout` is the last resort.
run_scenarios timeout -k 10 240 "$PY" "$HERE/test_kafka_python.py"
run_scenarios timeout -k 10 180 "$PY" "$HERE/test_groups.py"

# 4. Tally.
finish
