# Consumer-group scenarios for kcat (balanced consumer, -G) against weir.
# Sourced by compat-tests/kcat/run.sh after start_broker: uses lib.sh's pass/fail, BOOTSTRAP and
# WORK_DIR, nothing else from run.sh. COMPAT_DEBUG=cgrp,protocol passes `-d` to every kcat here
# (librdkafka debug log in $WORK_DIR/kcat-groups/NAME.err).
#
# kcat has no admin commands and auto-created topics get num.partitions (1), so the
# multi-partition topics are made with a minimal CreateTopics v2 request from python3.
# Every kcat run is bounded by `timeout`; waits poll against deadlines.
# The first join of an empty group is held group.initial.rebalance.delay.ms (3 s).

KG_DIR="$WORK_DIR/kcat-groups"
mkdir -p "$KG_DIR"
KG_ID="$(python3 -c 'import uuid; print(uuid.uuid4().hex[:8])')"
KG_DBG=()
[ -n "${COMPAT_DEBUG:-}" ] && KG_DBG=(-d "$COMPAT_DEBUG")

# kg NAME ARGS...: one bounded kcat run; stdout to NAME.out, stderr to NAME.err.
kg() {
    local name=$1; shift
    timeout -k 5 30 kcat -b "$BOOTSTRAP" -X broker.address.family=v4 "${KG_DBG[@]}" "$@" \
        >"$KG_DIR/$name.out" 2>"$KG_DIR/$name.err"
}
kg_err() { grep -v '^%[^%]*\(Waiting for group\|rebalanced\|Reached end\)' "$KG_DIR/$1.err" 2>/dev/null | tail -n 1 | tr -s '\n\t' '  ' | cut -c1-300; }

# kg_create TOPIC PARTITIONS: CreateTopics v2 (replication factor 1); prints the error code.
kg_create() {
    python3 - "$BOOTSTRAP" "$1" "$2" <<'PY'
import socket, struct, sys
host, port = sys.argv[1].rsplit(":", 1)
topic, parts = sys.argv[2], int(sys.argv[3])
def s(x):
    b = x.encode()
    return struct.pack(">h", len(b)) + b
# topics[1]: name, num_partitions, replication_factor, assignments[0], configs[0]; timeout_ms, validate_only
body = struct.pack(">i", 1) + s(topic) + struct.pack(">ihii", parts, 1, 0, 0) + struct.pack(">i?", 10000, False)
req = struct.pack(">hhi", 19, 2, 1) + s("weir-compat-kcat-groups") + body
with socket.create_connection((host, int(port)), timeout=15) as c:
    c.sendall(struct.pack(">i", len(req)) + req)
    def rd(n):
        b = b""
        while len(b) < n:
            chunk = c.recv(n - len(b))
            if not chunk:
                sys.exit("CreateTopics: connection closed")
            b += chunk
        return b
    resp = rd(struct.unpack(">i", rd(4))[0])
# correlation_id, throttle_time_ms, topics[n]: name, error_code, error_message
_corr, _throttle, n = struct.unpack(">iii", resp[:12])
ln = struct.unpack(">h", resp[12:14])[0]
print(struct.unpack(">h", resp[14 + ln:16 + ln])[0])
PY
}

# kg_topic TOPIC PARTITIONS: create it and wait until -L shows all partitions with a leader.
kg_topic() {
    local topic=$1 parts=$2 code i
    code=$(kg_create "$topic" "$parts" 2>&1) || { DETAIL="CreateTopics failed: $code"; return 1; }
    [ "$code" = 0 ] || { DETAIL="CreateTopics v2 for $topic answered error $code"; return 1; }
    for i in $(seq 1 50); do
        kg md -L -J -t "$topic" && python3 - "$KG_DIR/md.out" "$topic" "$parts" <<'PY' && return 0
import json, sys
md = json.load(open(sys.argv[1]))
t = [t for t in md.get("topics", []) if t.get("topic") == sys.argv[2]]
ok = t and not t[0].get("error") and sorted(p["partition"] for p in t[0]["partitions"]) == list(range(int(sys.argv[3]))) \
    and all(p.get("leader", -1) >= 0 for p in t[0]["partitions"])
sys.exit(0 if ok else 1)
PY
        sleep 0.2
    done
    DETAIL="$topic not listed with $parts partitions after 10s: $(head -c 300 "$KG_DIR/md.out")"
    return 1
}

# kg_produce TOPIC PARTITIONS PREFIX FROM TO: lines PREFIX-pP-I (I in FROM..TO) to each partition P;
# appends the expected consumer output ('%p %o %s', offsets from the partition's count) to
# $KG_DIR/TOPIC.expected-all and this batch's to $KG_DIR/TOPIC.batch.
kg_produce() {
    local topic=$1 parts=$2 prefix=$3 from=$4 to=$5 p base
    : >"$KG_DIR/$topic.batch"
    for p in $(seq 0 $((parts - 1))); do
        seq "$from" "$to" | sed "s/^/$prefix-p$p-/" >"$KG_DIR/in.txt"
        kg "p-$topic-$p" -P -t "$topic" -p "$p" -X message.timeout.ms=15000 <"$KG_DIR/in.txt" ||
            { DETAIL="kcat -P -p $p exited $?: $(kg_err "p-$topic-$p")"; return 1; }
        base=$(grep -c "^$p " "$KG_DIR/$topic.expected-all" 2>/dev/null || true)
        awk -v p="$p" -v b="$base" '{ print p " " (b + NR - 1) " " $0 }' "$KG_DIR/in.txt" |
            tee -a "$KG_DIR/$topic.expected-all" >>"$KG_DIR/$topic.batch"
    done
}

# kg_same EXPECTED ACTUAL: same lines regardless of order (sets DETAIL otherwise).
kg_same() {
    sort "$1" >"$1.sorted"; sort "$2" >"$2.sorted"
    cmp -s "$1.sorted" "$2.sorted" && return 0
    DETAIL="$(wc -l <"$2") lines ($(sort -u "$2" | wc -l) distinct) vs $(wc -l <"$1") expected;"
    DETAIL+=" missing e.g. '$(comm -23 "$1.sorted" "$2.sorted" | head -n 1)', unexpected e.g. '$(comm -13 "$1.sorted" "$2.sorted" | head -n 1)'"
    return 1
}
kg_verdict() { if [ "$1" -eq 0 ]; then pass "$2"; else fail "$2" "$DETAIL"; fi; }

# kg_group NAME GROUP ARGS...: kcat -G GROUP (balanced consumer) from the earliest offset.
kg_group() {
    local name=$1 group=$2; shift 2
    kg "$name" -G "$group" -X auto.offset.reset=earliest -f '%p %o %s\n' "$@" ||
        { DETAIL="kcat -G exited $? ($([ -s "$KG_DIR/$name.out" ] && wc -l <"$KG_DIR/$name.out" || echo 0) lines): $(kg_err "$name")"; return 1; }
}

# ------------------------------------------------------------------ scenarios
KG_TOPIC="kcat-grp-$KG_ID"
KG_GROUP="kcat-group-$KG_ID"
rm -f "$KG_DIR/$KG_TOPIC.expected-all"
kg_topic "$KG_TOPIC" 3 && kg_produce "$KG_TOPIC" 3 first 1 100 &&
    kg_group g1 "$KG_GROUP" -c 300 "$KG_TOPIC" && kg_same "$KG_DIR/$KG_TOPIC.batch" "$KG_DIR/g1.out"
kg_verdict $? "-G balanced consumer reads all 300 messages of a 3-partition topic exactly once (-c 300)"

# kcat commits the consumed offsets when it closes: the same group finds nothing left to read.
kg_group g2 "$KG_GROUP" -e "$KG_TOPIC" && {
    [ ! -s "$KG_DIR/g2.out" ] || { DETAIL="read $(wc -l <"$KG_DIR/g2.out") messages again, e.g. '$(head -n 1 "$KG_DIR/g2.out")'"; false; }
} && {
    n=$(grep -c 'Reached end of topic' "$KG_DIR/g2.err" || true)
    [ "$n" -eq 3 ] || { DETAIL="expected end-of-partition for 3 partitions, got $n: $(kg_err g2)"; false; }
}
kg_verdict $? "-G again in the same group with -e: nothing re-read (offsets committed), exits at the end"

kg_produce "$KG_TOPIC" 3 second 1 20 &&
    kg_group g3 "$KG_GROUP" -c 60 "$KG_TOPIC" && kg_same "$KG_DIR/$KG_TOPIC.batch" "$KG_DIR/g3.out"
kg_verdict $? "-G again after producing 60 more: reads only the new messages, from the committed offsets"

# Two concurrent members of a fresh group: both started together (inside the 3 s initial
# rebalance delay), read until all messages are out, then stopped with SIGTERM (clean close).
kg_split() {
    local topic="kcat-split-$KG_ID" group="kcat-split-group-$KG_ID" pa pb i n
    rm -f "$KG_DIR/$topic.expected-all"
    kg_topic "$topic" 4 && kg_produce "$topic" 4 split 1 50 || return 1
    for m in a b; do
        timeout -k 5 40 kcat -b "$BOOTSTRAP" -X broker.address.family=v4 "${KG_DBG[@]}" -G "$group" \
            -X auto.offset.reset=earliest -u -q -f '%p %o %s\n' "$topic" \
            >"$KG_DIR/split-$m.out" 2>"$KG_DIR/split-$m.err" &
        eval "pid_$m=\$!"
    done
    n=0
    for i in $(seq 1 300); do
        n=$(cat "$KG_DIR/split-a.out" "$KG_DIR/split-b.out" | wc -l)
        [ "$n" -ge 200 ] && break
        kill -0 "$pid_a" 2>/dev/null || kill -0 "$pid_b" 2>/dev/null || break
        sleep 0.1
    done
    kill -TERM "$pid_a" "$pid_b" 2>/dev/null
    wait "$pid_a" "$pid_b" 2>/dev/null
    pa=$(cut -d' ' -f1 "$KG_DIR/split-a.out" | sort -u | tr '\n' ' ')
    pb=$(cut -d' ' -f1 "$KG_DIR/split-b.out" | sort -u | tr '\n' ' ')
    cat "$KG_DIR/split-a.out" "$KG_DIR/split-b.out" >"$KG_DIR/split.out"
    kg_same "$KG_DIR/$topic.batch" "$KG_DIR/split.out" || { DETAIL+=" (member partitions: [$pa] / [$pb])"; return 1; }
    [ -n "$pa" ] && [ -n "$pb" ] || { DETAIL="one member got nothing: partitions [$pa] / [$pb]"; return 1; }
    [ -z "$(comm -12 <(echo "$pa" | tr ' ' '\n' | sort) <(echo "$pb" | tr ' ' '\n' | sort) | grep .)" ] ||
        { DETAIL="both members read partitions in common: [$pa] / [$pb]"; return 1; }
}
kg_split
kg_verdict $? "two concurrent -G members split 4 partitions without overlap, every message read once"
