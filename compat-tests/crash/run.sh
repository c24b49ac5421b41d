#!/usr/bin/env bash
# Crash test: 100,000 messages produced with acks=all by confluent-kafka (librdkafka) while
# the broker is killed with SIGKILL and restarted at least 5 times; every acknowledged
# message must be read back exactly once, at its acknowledged offset, with no offset gaps.
# Then lifecycle_crash.py: the log cleaner and retention under kill -9 (kills timed on the
# cleaner's and retention's file renames); see its docstring. Then storage_full.py: a full
# disk (a small tmpfs; needs root) gives KAFKA_STORAGE_ERROR, reads go on, writes resume.
export CLIENT_NAME=crash
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../lib.sh"

VENV="$(python_venv)"
retry 3 "$VENV/bin/pip" install -q 'confluent-kafka>=2.6,<3' || { echo "pip install failed"; exit 2; }
[ -x "$WEIR_BIN" ] || { echo "weir binary not found at $WEIR_BIN"; exit 2; }

run_scenarios "$VENV/bin/python" "$HERE/crash_test.py" --weir "$WEIR_BIN" --work "$WORK_DIR" \
    --messages "${CRASH_MESSAGES:-100000}" --kills "${CRASH_KILLS:-5}"
run_scenarios "$VENV/bin/python" "$HERE/lifecycle_crash.py" --weir "$WEIR_BIN" --work "$WORK_DIR" \
    --kills "${CRASH_KILLS:-5}"
run_scenarios "$VENV/bin/python" "$HERE/storage_full.py" --weir "$WEIR_BIN" --work "$WORK_DIR"
finish
