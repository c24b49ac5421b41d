#!/usr/bin/env bash
# Compatibility tests for the stock aiokafka 0.14 client against weir.
# Usage: compat-tests/aiokafka/run.sh   (uses target/release/weir or $WEIR_BIN)
# COMPAT_DEBUG=1 shows aiokafka's DEBUG log (stderr, in the output).
export CLIENT_NAME=aiokafka
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../lib.sh"

# 1. Install (idempotent): aiokafka 0.14.x with its compression extras into the shared venv.
#    aiokafka 0.14 does gzip with zlib and lz4/snappy/zstd with cramjam (the extras pull it),
#    so no `lz4` package is needed. If the extras cannot install, only those codecs fail.
#    The lock keeps parallel run.sh of the Python clients from racing on the shared venv.
exec 9>/tmp/.weir-compat-venv.lock
flock -w 600 9 || { echo "venv lock busy"; exit 2; }
VENV="$(python_venv)"
PY="$VENV/bin/python"
have() { "$PY" -c "import sys, aiokafka; sys.exit(0 if aiokafka.__version__.startswith('0.14.') else 1)" 2>/dev/null; }
have_extras() { "$PY" -c "import sys, aiokafka.codec as c; sys.exit(0 if c.has_lz4() and c.has_snappy() and c.has_zstd() else 1)" 2>/dev/null; }
pip_i() { "$VENV/bin/pip" install -q --disable-pip-version-check "$@"; }
if ! have || ! have_extras; then
    retry 3 pip_i 'aiokafka[lz4,snappy,zstd]==0.14.*' || retry 3 pip_i 'aiokafka==0.14.*' || true
    have || { echo "could not install aiokafka 0.14.x"; exit 2; }
    have_extras || echo "note: aiokafka compression extras (cramjam) missing: lz4/snappy/zstd scenarios will fail"
fi
exec 9>&-
"$PY" -c 'import aiokafka; print("aiokafka", aiokafka.__version__)'

# 2. Broker.
start_broker

# 3. Scenarios: one PASS/FAIL line each; per-scenario asyncio timeouts, a watchdog and a time
#    budget bound the program, `timeout` is the last resort.
run_scenarios timeout -k 10 240 "$PY" "$HERE/test_aiokafka.py"
run_scenarios timeout -k 10 180 "$PY" "$HERE/test_groups.py"

# 4. Tally.
finish
