#!/usr/bin/env bash
# A 3-node weir cluster on loopback for the transactions suite (run.sh), started the way
# compat-tests/cluster starts one: every node broker and controller, one Raft quorum over the
# CONTROLLER listeners.
#
#   weir-node.sh init DIR [--override K=V ...]  free ports and the node command into DIR/cluster.env
#   weir-node.sh start DIR ID                   start node ID in the background (the same command
#                                               every time, on DIR/n<ID>-data), its PID in
#                                               DIR/n<ID>.pid, its log DIR/n<ID>.log; returns once
#                                               its client port accepts connections
#   weir-node.sh stop DIR                       SIGTERM every node by its PID file (only a process
#                                               whose command line names DIR), SIGKILL after 15 s
#   weir-node.sh bootstrap DIR                  the three client addresses, comma-separated
#
# The node command (WEIR_BIN, else target/release/weir):
#   weir --node-id I --data-dir DIR/nI-data \
#     --listeners PLAINTEXT://127.0.0.1:Pi,CONTROLLER://127.0.0.1:Ci \
#     --override controller.quorum.voters=1@127.0.0.1:C1,2@127.0.0.1:C2,3@127.0.0.1:C3 \
#     --override broker.session.timeout.ms=3000 --override broker.heartbeat.interval.ms=500 \
#     [the --override settings given to init]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
cmd=${1:-}
DIR=${2:?usage: weir-node.sh init|start|stop|bootstrap DIR [ID]}
ENVF="$DIR/cluster.env"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ours() { [ -e "/proc/$1" ] && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$DIR/"; }

case "$cmd" in
init)
    shift 2
    mkdir -p "$DIR"
    ports=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import weir_compat as w
s = set()
while len(s) < 6: s.add(w.free_port())
print(" ".join(map(str, sorted(s))))' "$HERE/..")
    read -r p1 p2 p3 c1 c2 c3 <<<"$ports"
    bin=${WEIR_BIN:-$HERE/../../target/release/weir}
    {
        echo "WEIR_BIN=$(printf %q "$bin")"
        echo "P1=$p1 P2=$p2 P3=$p3 C1=$c1 C2=$c2 C3=$c3"
        echo "VOTERS=1@127.0.0.1:$c1,2@127.0.0.1:$c2,3@127.0.0.1:$c3"
        printf 'EXTRA=('; [ $# -eq 0 ] || printf '%q ' "$@"; echo ')'
    } >"$ENVF"
    ;;
start)
    ID=${3:?node id}
    # shellcheck disable=SC1090
    . "$ENVF"
    eval "P=\$P$ID C=\$C$ID"
    if [ -f "$DIR/n$ID.pid" ] && ours "$(cat "$DIR/n$ID.pid")"; then
        echo "node $ID is running (pid $(cat "$DIR/n$ID.pid"))" >&2; exit 1
    fi
    echo "==== $(date +%T) start node $ID" >>"$DIR/n$ID.log"
    "$WEIR_BIN" --node-id "$ID" --data-dir "$DIR/n$ID-data" \
        --listeners "PLAINTEXT://127.0.0.1:$P,CONTROLLER://127.0.0.1:$C" \
        --override "controller.quorum.voters=$VOTERS" \
        --override broker.session.timeout.ms=3000 --override broker.heartbeat.interval.ms=500 \
        "${EXTRA[@]}" </dev/null >>"$DIR/n$ID.log" 2>&1 &
    pid=$!
    echo "$pid" >"$DIR/n$ID.pid"
    echo "$pid" >>"$DIR/all.pids"
    for _ in $(seq 1 300); do
        port_open "$P" && exit 0
        kill -0 "$pid" 2>/dev/null || { echo "node $ID exited:" >&2; tail -5 "$DIR/n$ID.log" >&2; exit 1; }
        sleep 0.1
    done
    echo "node $ID: port $P not open after 30 s" >&2; exit 1
    ;;
stop)
    [ -f "$DIR/all.pids" ] || exit 0
    pids=()
    while read -r pid; do
        [ -n "$pid" ] && ours "$pid" && { kill -TERM "$pid" 2>/dev/null || true; pids+=("$pid"); }
    done <"$DIR/all.pids"
    for _ in $(seq 1 150); do
        alive=0
        for pid in "${pids[@]}"; do ours "$pid" && alive=1; done
        [ "$alive" = 0 ] && exit 0
        sleep 0.1
    done
    for pid in "${pids[@]}"; do ours "$pid" && kill -KILL "$pid" 2>/dev/null || true; done
    ;;
bootstrap)
    # shellcheck disable=SC1090
    . "$ENVF"
    echo "127.0.0.1:$P1,127.0.0.1:$P2,127.0.0.1:$P3"
    ;;
*) sed -n 2,20p "$0"; exit 2 ;;
esac
