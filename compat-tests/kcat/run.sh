#!/usr/bin/env bash
# Compatibility tests for the stock kcat 1.7.1 (Debian's, librdkafka 2.0.2) against weir.
# Usage: compat-tests/kcat/run.sh   (uses target/release/weir or $WEIR_BIN)
# COMPAT_DEBUG=protocol,broker passes `-d` to every kcat (librdkafka debug log on stderr;
# a failing scenario's detail shows its last stderr line, the full logs are under $WORK_DIR).
#
# kcat has no admin commands: topics are auto-created by the producer's Metadata request.
# Plain consumers use -C -p PARTITION -o OFFSET; groups.sh covers balanced consumers (-G).
export CLIENT_NAME=kcat
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../lib.sh"

# 1. Install (idempotent; apt_install retries apt's transient failures).
apt_install kcat || { echo "could not install kcat"; exit 2; }
kcat -V | head -n 4 | tail -n 1

# 2. Broker.
start_broker

RID="$(python3 -c 'import uuid; print(uuid.uuid4().hex[:8])')"
T="$WORK_DIR/kcat"
mkdir -p "$T"
DBG=()
[ -n "${COMPAT_DEBUG:-}" ] && DBG=(-d "$COMPAT_DEBUG")

# kc NAME ARGS...: one bounded kcat run; stdout to $T/NAME.out, stderr to $T/NAME.err.
kc() {
    local name=$1; shift
    timeout -k 5 30 kcat -b "$BOOTSTRAP" -X broker.address.family=v4 "${DBG[@]}" "$@" \
        >"$T/$name.out" 2>"$T/$name.err"
}
# produce NAME TOPIC FILE ARGS...: kcat -P; deliveries must succeed within 15 s.
produce() {
    local name=$1 topic=$2 file=$3; shift 3
    kc "$name" -P -t "$topic" -p 0 -X message.timeout.ms=15000 "$@" <"$file"
}
# consume NAME TOPIC ARGS...: kcat -C from partition 0 until the end (-e).
consume() {
    local name=$1 topic=$2; shift 2
    kc "$name" -C -q -t "$topic" -p 0 -e "$@"
}
errtail() { tail -n 1 "$T/$1.err" 2>/dev/null | tr -s '\n\t' '  ' | cut -c1-300; }
# same EXPECTED ACTUAL: detail of the first difference, or nothing when byte-identical.
same() {
    cmp -s "$1" "$2" && return 0
    echo "$(wc -l <"$2") lines vs $(wc -l <"$1") expected; first difference: $(diff "$1" "$2" | sed -n 2p | cut -c1-120)"
    return 1
}

# Test data: printable lines with spaces, tabs, punctuation and UTF-8; no empty lines.
python3 - "$T" <<'EOF'
import random, sys
d = sys.argv[1]
rnd = random.Random(7)
alpha = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \t!#$%&()*+,-./;<=>?@[]^_{|}~:\"'" + "äöüßé€漢字🙂"
with open(f"{d}/lines.txt", "w", encoding="utf-8") as f:
    for i in range(500):
        f.write(f"line {i:03d} " + "".join(rnd.choice(alpha) for _ in range(rnd.randint(0, 200))) + "\n")
with open(f"{d}/keyed.txt", "w", encoding="utf-8") as f:
    for i in range(300):
        f.write(f"key-{i % 17}:value {i} has: colons " + "x" * rnd.randint(0, 50) + "\n")
with open(f"{d}/text.txt", "w", encoding="utf-8") as f:
    for i in range(300):
        f.write(f"compressible record {i} " + "lorem ipsum dolor sit amet " * rnd.randint(1, 40) + "\n")
EOF
N=$(wc -l <"$T/lines.txt")

# Steps for a scenario: each sets DETAIL and returns non-zero on failure.
P() { local n=$1; produce "$@" || { DETAIL="kcat -P exited $?: $(errtail "$n")"; return 1; }; }
C() { local n=$1; consume "$@" || { DETAIL="kcat -C exited $?: $(errtail "$n")"; return 1; }; }
L() { local n=$1; shift; kc "$n" -L -J "$@" || { DETAIL="kcat -L exited $?: $(errtail "$n")"; return 1; }; }
SAME() { DETAIL=$(same "$@"); }
verdict() { if [ "$1" -eq 0 ]; then pass "$2"; else fail "$2" "$DETAIL"; fi; }

# 3. Scenarios.
TOPIC="kcat-lines-$RID"
P p1 "$TOPIC" "$T/lines.txt" && C c1 "$TOPIC" -o beginning && SAME "$T/lines.txt" "$T/c1.out"
verdict $? "produce $N lines with -P, consume -C -o beginning -e: identical"

seq 0 $((N - 1)) | sed 's/^/0 /' >"$T/offsets.expected"
C c2 "$TOPIC" -o beginning -f '%p %o\n' && SAME "$T/offsets.expected" "$T/c2.out"
verdict $? "consumed offsets are 0..$((N - 1)) on partition 0 (-f '%p %o')"

tail -n +124 "$T/lines.txt" >"$T/from123.expected"
C c3 "$TOPIC" -o 123 && SAME "$T/from123.expected" "$T/c3.out"
verdict $? "-o 123 (absolute offset) starts at line 123"

tail -n 10 "$T/lines.txt" >"$T/last10.expected"
C c4 "$TOPIC" -o -10 && SAME "$T/last10.expected" "$T/c4.out"
verdict $? "-o -10 (relative to the end, ListOffsets) gives the last 10 lines"

check_md() {
    DETAIL=$(python3 - "$T/md.out" "$BOOTSTRAP" "$TOPIC" <<'PY'
import json, sys
out, boot, topic = sys.argv[1:]
try:
    md = json.load(open(out))
except ValueError as e:
    sys.exit(f"kcat -L -J printed no JSON ({e}): {open(out).read()[:200]!r}")
brokers = {b["id"]: b["name"] for b in md.get("brokers", [])}
if boot not in brokers.values():
    sys.exit(f"broker {boot} not listed: {brokers}")
ts = [t for t in md.get("topics", []) if t.get("topic") == topic]
if not ts:
    sys.exit(f"topic {topic} not listed: {[t.get('topic') for t in md.get('topics', [])]}")
t = ts[0]
if t.get("error"):
    sys.exit(f"topic error {t['error']}")
parts = t.get("partitions", [])
if not parts or sorted(p["partition"] for p in parts) != list(range(len(parts))):
    sys.exit(f"partitions {[p.get('partition') for p in parts]}")
for p in parts:
    if p.get("error") or p.get("leader") not in brokers:
        sys.exit(f"partition {p}: error, or leader not a listed broker {list(brokers)}")
PY
)
}
L md && check_md
verdict $? "-L metadata lists the broker and the auto-created topic"

check_md1() {
    DETAIL=$(python3 - "$T/md1.out" "$TOPIC" <<'PY'
import json, sys
out, topic = sys.argv[1:]
try:
    md = json.load(open(out))
except ValueError as e:
    sys.exit(f"kcat -L -J printed no JSON ({e}): {open(out).read()[:200]!r}")
names = [t.get("topic") for t in md.get("topics", [])]
if names != [topic]:
    sys.exit(f"topics listed: {names}")
if md["topics"][0].get("error") or not md["topics"][0].get("partitions"):
    sys.exit(f"topic entry {md['topics'][0]}")
PY
)
}
L md1 -t "$TOPIC" && check_md1
verdict $? "-L -t TOPIC lists just that topic"

KTOPIC="kcat-keyed-$RID"
P p5 "$KTOPIC" "$T/keyed.txt" -K: && C c5 "$KTOPIC" -o beginning -f '%k:%s\n' &&
    SAME "$T/keyed.txt" "$T/c5.out"
verdict $? "keyed produce (-K:) and read back keys (-f '%k:%s')"

HTOPIC="kcat-headers-$RID"
head -n 20 "$T/lines.txt" >"$T/h.in"
sed 's/^/trace=abc123,empty=,trace=second\t/' "$T/h.in" >"$T/h.expected"
P p6 "$HTOPIC" "$T/h.in" -H trace=abc123 -H empty= -H trace=second &&
    C c6 "$HTOPIC" -o beginning -f '%h\t%s\n' && SAME "$T/h.expected" "$T/c6.out"
verdict $? "headers (-H) read back (-f '%h')"

for codec in gzip snappy lz4 zstd; do
    CTOPIC="kcat-$codec-$RID"
    P "pz$codec" "$CTOPIC" "$T/text.txt" -z "$codec" -X linger.ms=20 &&
        C "cz$codec" "$CTOPIC" -o beginning && SAME "$T/text.txt" "$T/cz$codec.out"
    verdict $? "-z $codec compressed produce read back identical"
done
. "$HERE/groups.sh"   # consumer groups (-G)

# 4. Tally.
finish
