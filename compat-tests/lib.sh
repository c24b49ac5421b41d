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

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
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
    rm -rf "$WORK_DIR"
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
