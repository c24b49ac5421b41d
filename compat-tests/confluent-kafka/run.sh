#!/usr/bin/env bash
# Compatibility tests for the stock confluent-kafka Python client (librdkafka 2.16) against weir.
# Usage: compat-tests/confluent-kafka/run.sh   (uses target/release/weir or $WEIR_BIN)
# COMPAT_DEBUG=protocol,broker turns on librdkafka debug logs (stderr, shown in the output).
export CLIENT_NAME=confluent-kafka
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../lib.sh"

# 1. Install (idempotent): confluent-kafka 2.16.x into the shared venv, else the latest 2.x.
#    The lock keeps parallel run.sh of the Python clients from racing on the shared venv.
exec 9>/tmp/.weir-compat-venv.lock
flock -w 600 9 || { echo "venv lock busy"; exit 2; }
VENV="$(python_venv)"
PY="$VENV/bin/python"
have() { "$PY" -c "import sys, confluent_kafka as c; v = c.version(); v = v if isinstance(v, str) else v[0]; sys.exit(0 if v.startswith('$1') else 1)" 2>/dev/null; }
if ! have 2.16.; then
    pip_i() { "$VENV/bin/pip" install -q --disable-pip-version-check "$@"; }
    retry 3 pip_i 'confluent-kafka==2.16.*' || retry 3 pip_i 'confluent-kafka>=2,<3'
    have 2. || { echo "could not install confluent-kafka 2.x"; exit 2; }
fi
exec 9>&-
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
