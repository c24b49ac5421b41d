#!/usr/bin/env bash
# Old, unmodified clients from Debian bookworm's packages against weir (issue 16): the Kafka
# 0.8-0.10 protocol versions and message formats v0 and v1 (MessageSet, magic 0 and 1) that
# Apache Kafka 4 removed (KIP-896, KIP-724), so existing code connects as it is.
#
#   compat-tests/legacy/run.sh          install (idempotent), build, start weir, run everything
#   WEIR_COMPAT_DEBUG=1 .../run.sh      sarama's log and kafka-go's logs on stderr
#   COMPAT_DEBUG=protocol,msg ...       librdkafka debug log of the confluent-kafka producer, and
#                                       kafka-python's DEBUG log (old_groups.py) on stderr
#   KEEP_WORK=1 .../run.sh              keep the work dir: broker log, kcat's protocol debug logs
#                                       (kcat/*.err), the TSV files of the mixed scenario
#
# Clients and versions (all stock; the Go ones built offline in GOPATH mode from Debian's
# /usr/share/gocode with Go 1.19, like compat-tests/sarama; builds go to build/, ignored):
#   sarama 1.22.1   golang-github-shopify-sarama-dev (import path github.com/Shopify/sarama)
#   kafka-go 0.2.1  golang-github-segmentio-kafka-go-dev
#   kcat 1.7.1      kcat (librdkafka 2.0.2), with api.version.request=false and an old
#                   broker.version.fallback
#   confluent-kafka 2.16.x (librdkafka 2.16) in the shared venv (lib.sh), the new producer of
#                   the mixed scenario and a new client reading old clients' commits
#   kafka-python 3.0.x in the same venv, with an explicit old api_version (old_groups.py), and at
#                   its default api_version as a new client reading old clients' commits
#   kafka-clients 4.1.1 (lib.sh's install_kafka_jars), the new consumer of the mixed scenario
#
# Scenarios (one PASS/FAIL line each; every wait polls a condition against a deadline; a
# scenario that depends on a failed one fails as "not run"):
#   sarama (legacy-compat sarama, sarama_legacy.go), per profile: default config (Version
#   0.8.2.0: Produce v0, magic 0, Fetch v0), Version 0.10.0 (Produce v2, magic 1, Fetch v2),
#   gzip and snappy at both, lz4 at 0.10.0 only (config.Validate refuses lz4 below 0.10.0):
#     1 the user's example program: a SyncProducer with RequiredAcks=WaitForAll,
#       Return.Successes and the random partitioner sends 60 messages (half keyed; at 0.10.0
#       with timestamps) to a 3-partition topic; every message is acknowledged, each partition
#       at offsets 0..n-1. Uncompressed: one SendMessage per message, as the example does;
#       compressed: one SendMessages batch, so each partition's set is one wrapper of many.
#     2 a Consumer with a PartitionConsumer per partition from OffsetOldest (ListOffsets v0)
#       reads every message exactly once, at the offset SendMessage returned, with its key and
#       value (and timestamp at 0.10.0), and no headers; high watermark = n.
#     3 the raw Fetch answer (sarama's Broker.Fetch, same version) holds only message sets of
#       the profile's magic (no RecordBatch), uncompressed or wrappers of the producer's codec,
#       with every message at its absolute offset.
#   kafka-go (legacy-compat kafka-go, kafkago.go):
#     4 Conn.CreateTopics (CreateTopics v0) makes a 3-partition topic (else sarama creates it)
#     5 Writer (round robin, acks -1) writes 30 keyed messages with timestamps (Produce v2, magic 1)
#     6 a Reader per partition (ListOffsets v1, Fetch v2) reads each exactly once, in write order
#       at offsets 0..n-1, with key, value and time
#     7 the same round trip with the Writer's gzip, snappy (raw, not xerial-framed) and lz4
#   kcat (below): with api.version.request=false and broker.version.fallback
#     8 0.9.0 (Produce v1, magic 0; ListOffsets v0, Fetch v1): 200 keyed lines produced and
#       consumed back (-o beginning -e): same keys, values, offsets 0..199 and count
#     9 0.9.0 with -z gzip, snappy, lz4 (magic-0 wrappers; lz4 with KAFKA-3160's broken frame
#       header checksum, which Kafka accepts at magic 0): the same round trip
#    10 0.8.2 (Produce v0, magic 0; Fetch v0): the same round trip
#    11 0.10.0, as issue 16 lists it. librdkafka turns api.version.request back on for any
#       fallback >= 0.10.0 and then uses the broker's versions (RecordBatch v2), so this one
#       is not an old-format test; librdkafka has no setting that makes it send magic 1
#       unless the broker's ApiVersions caps Produce at v2.
#   mixed:
#    12 confluent-kafka (idempotent, acks=all) writes 20 messages with 2 headers and explicit
#       timestamps to each partition of a 3-partition topic: 0 uncompressed, 1 lz4, 2 zstd
#    13 sarama at 0.8.2 (Fetch v0) and at 0.10.0 (Fetch v2) read partitions 0 and 1: every
#       message once at its offset with key and value (timestamp at 0.10.0), no headers; the
#       raw Fetch answer is magic-0 / magic-1 message sets (lz4 wrappers for partition 1)
#    14 the same PartitionConsumers on partition 2 (zstd) get UNSUPPORTED_COMPRESSION_TYPE (76)
#       (sarama: ErrUnsupportedCompressionType, "kafka server: The requesting client does not
#       support the compression type of given partition.")
#    15 sarama at its default 0.8.2 writes 40 keyed messages to 2 partitions (Produce v0)
#    16 the Java KafkaConsumer (kafka-clients 4.1.1) reads those 40: each once at its offset with
#       its key and value, no headers; end offsets = counts
#   old group and offset APIs. kafka-python (old_groups.py) with an explicit api_version sends no
#   ApiVersions and takes, per API, the highest version of kafka-python's table for that broker
#   version (kafka/protocol/broker_version_data.py); sarama's versions follow Config.Version
#   (groups.go lists where in its source). The old clients' scenarios also check the versions on
#   the wire:
#   kafka-python's own DEBUG log of every request and response, and for sarama a recording
#   dialer (Config.Net.Proxy.Dialer, wire.go) that only reads the bytes going by.
#   kafka-python 3.0 api_version=(0, 9):
#    17 KafkaProducer (Metadata v0, Produce v1): 30 keyed messages, 3 partitions, offsets 0..9 each
#    18 KafkaConsumer.beginning_offsets / end_offsets (ListOffsets v0, max_num_offsets 1, the
#       old-style offset list) = 0 / 12, 0 / 0 for an empty partition, 5 / 12 after DeleteRecords
#    19 a group consumer (FindCoordinator v0, JoinGroup v0, SyncGroup v0, Heartbeat v0 answered 0,
#       OffsetFetch v1, ListOffsets v0, Fetch v1) reads the 30 once; commit() (OffsetCommit v2 with
#       generation and member id) = committed() (OffsetFetch v1); close() sends LeaveGroup v0
#       (answered 0) and a new client's DescribeGroups shows the group Empty within 5 s (its
#       session timeout is 30 s)
#    20 new clients read those commits: kafka-python at its default api_version and
#       confluent-kafka's committed()
#    21 a restarted group consumer resumes at the committed offsets: it reads exactly the 15
#       messages written meanwhile, each once, the first of each partition at its committed offset
#    22 two members split 4 partitions disjointly and cover them; 40 messages written after the
#       split are each read once, by the owner of its partition; Heartbeat v0 answered 0 after the
#       split, LeaveGroup v0 answered 0 for each
#   kafka-python 3.0 api_version=(0, 8, 2) and (0, 8, 1) (no group management below 0.9):
#    23 assign() + commit() of chosen offsets with metadata (0.8.2: FindCoordinator v0,
#       OffsetCommit v1 with generation -1) = committed() (OffsetFetch v1); a restarted consumer
#       (Fetch v0, no ListOffsets) reads exactly from them: nothing twice, nothing skipped
#    24 new clients read those commits, metadata included
#    25 the same at 0.8.1: OffsetCommit v0 and OffsetFetch v0, sent to any broker (no
#       FindCoordinator)
#    26 new clients read those commits (weir keeps v0 commits with the others; Kafka before 4.0
#       kept them in ZooKeeper)
#   sarama 1.22.1 (legacy-compat sarama-groups, groups.go):
#    27 default config (0.8.2): Client.GetOffset (ListOffsets v0, max_num_offsets 1) = 5 / 12
#       after DeleteRecords to 5, 0 / 0 on an empty partition
#    28 Broker.GetAvailableOffsets, ListOffsets v0 with max_num_offsets 10, 1 and 0: Kafka's
#       old-style lists (Log.legacyFetchOffsetsBefore): latest = the high watermark, then the start
#       of each segment down to the log start offset ([12, ..., 5]), earliest = [5], max 1 = [12],
#       max 0 = [], an empty partition [0]
#    29 an OffsetManager at 0.8.2 (FindCoordinator v0, OffsetFetch v1) finds no commit; MarkOffset
#       + Close commit (OffsetCommit v1, generation -1) offsets with metadata; a new OffsetManager
#       reads them back
#    30 a Consumer (Fetch v0) restarted at the OffsetManager's NextOffset reads exactly the rest
#    31 two ConsumerGroup members at 0.10.2.0 (FindCoordinator v0, JoinGroup v1, SyncGroup v0,
#       Heartbeat v0, OffsetFetch v1, OffsetCommit v1 with generation and member id, LeaveGroup v0,
#       Metadata v1, ListOffsets v1, Fetch v3) split 4 partitions disjointly and cover them in one
#       generation; 40 messages written after the split are each read once by the owner; both
#       keep the generation
#       (Heartbeat v0 answered 0); LeaveGroup v0 answered 0; a new OffsetManager reads 10 each
#    32, 33 new clients (kafka-python default, confluent-kafka) read 29's and 31's commits
#
# In scripts/test since weir serves Produce v0-v2 (magic 0 and 1 message sets) and Fetch v0-v3
# (stored batches down-converted to message sets). The broker runs with
# group.initial.rebalance.delay.ms=0: each group forms at once (3 s saved per formation), and a
# second member usually joins a group the first already formed, so the first has to rejoin (a
# rebalance through the old JoinGroup and Heartbeat versions) rather than both being held in one
# delayed join.
export CLIENT_NAME=legacy
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../lib.sh"

# ---------------------------------------------------------------- 1. install and build
apt_install golang-go golang-github-shopify-sarama-dev golang-github-segmentio-kafka-go-dev kcat ||
    { echo "legacy: apt install failed"; exit 2; }
PY="$(confluent_kafka_python)" || { echo "legacy: could not install confluent-kafka"; exit 2; }
install_kafka_jars || { echo "legacy: could not install the kafka-clients jars"; exit 2; }
# kafka-python 3.0.x in the same venv (old_groups.py).
kafka_python_python >/dev/null || { echo "legacy: could not install kafka-python 3.0.x"; exit 2; }
JAVA_LIBS="$COMPAT_DIR/java/libs"

BIN="$HERE/build/legacy-compat"
stale=0
for src in "$HERE"/*.go; do [ "$src" -nt "$BIN" ] && stale=1; done
if [ ! -x "$BIN" ] || [ "$stale" = 1 ]; then
    mkdir -p "$HERE/build/gocache" "$HERE/build/gopath"
    (cd "$HERE" && GO111MODULE=off GOFLAGS= GOPATH="/usr/share/gocode:$HERE/build/gopath" \
        GOCACHE="$HERE/build/gocache" CGO_CFLAGS="-O2 -g -Wno-deprecated-declarations" \
        go build -o "$BIN" .) || { echo "legacy: go build failed"; exit 2; }
fi
CLASSES="$HERE/build/classes"
if [ ! -f "$CLASSES/LegacyJavaRead.class" ] || [ "$HERE/LegacyJavaRead.java" -nt "$CLASSES/LegacyJavaRead.class" ]; then
    rm -rf "$CLASSES"; mkdir -p "$CLASSES"
    javac -nowarn -cp "$JAVA_LIBS/*" -d "$CLASSES" "$HERE/LegacyJavaRead.java" || { echo "legacy: javac failed"; exit 2; }
fi
echo "sarama $(dpkg-query -W -f='${Version}' golang-github-shopify-sarama-dev)," \
    "kafka-go $(dpkg-query -W -f='${Version}' golang-github-segmentio-kafka-go-dev)," \
    "kcat $(dpkg-query -W -f='${Version}' kcat) (librdkafka $(dpkg-query -W -f='${Version}' librdkafka1))," \
    "$("$PY" -c 'import confluent_kafka as c; v = c.version(); print("confluent-kafka", v if isinstance(v, str) else v[0], "librdkafka", c.libversion()[0])')," \
    "$("$PY" -c 'import kafka; print("kafka-python", kafka.__version__)')"

# ---------------------------------------------------------------- 2. broker
start_broker --override group.initial.rebalance.delay.ms=0
RID="$(python3 -c 'import uuid; print(uuid.uuid4().hex[:8])')"

# ---------------------------------------------------------------- 3. sarama and kafka-go
# Each invocation bounds every scenario at 45 s and all of its scenarios at 150 s; `timeout`
# is the last resort.
run_scenarios timeout -k 5 170 "$BIN" sarama "$BOOTSTRAP"
run_scenarios timeout -k 5 170 "$BIN" kafka-go "$BOOTSTRAP"

# ---------------------------------------------------------------- 4. kcat with an old fallback
T="$WORK_DIR/kcat"
mkdir -p "$T"
python3 - "$T" <<'EOF'
import random, sys
d = sys.argv[1]
rnd = random.Random(16)
alpha = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !#$%&()*+,-./;<=>?@[]^_{|}~" + "äöüß€漢字"
# keyed.txt: "key:value" lines (kcat -K:), keyed.expected: what -f '%o %k:%s\n' prints back.
with open(f"{d}/keyed.txt", "w", encoding="utf-8") as f, open(f"{d}/keyed.expected", "w", encoding="utf-8") as e:
    for i in range(200):
        line = f"key-{i % 13}:legacy line {i:03d} " + "".join(rnd.choice(alpha) for _ in range(rnd.randint(0, 120)))
        f.write(line + "\n")
        e.write(f"{i} {line}\n")
# text.txt: compressible lines, large enough that librdkafka keeps the compressed form.
with open(f"{d}/text.txt", "w", encoding="utf-8") as f, open(f"{d}/text.expected", "w", encoding="utf-8") as e:
    for i in range(200):
        line = f"k{i % 7}:compressible record {i} " + "lorem ipsum dolor sit amet " * rnd.randint(2, 30)
        f.write(line + "\n")
        e.write(f"{i} {line}\n")
EOF

# kc NAME FALLBACK ARGS...: one bounded kcat run with api.version.request=false and the
# fallback, librdkafka's protocol debug log on stderr ($T/NAME.err), stdout in $T/NAME.out.
kc() {
    local name=$1 fb=$2; shift 2
    timeout -k 5 30 kcat -b "$BOOTSTRAP" -X broker.address.family=v4 \
        -X api.version.request=false -X broker.version.fallback="$fb" -d protocol,msg "$@" \
        >"$T/$name.out" 2>"$T/$name.err"
}
# kcat's own last message (not its debug lines).
errtail() { grep -v '^%7|' "$T/$1.err" | grep . | tail -n 1 | tr -s '\n\t' '  ' | cut -c1-250; }
# What librdkafka sent, from the debug log: distinct request versions and message-set formats.
sent() {
    {
        grep -o 'Sent [A-Za-z]*Request (v[0-9]*' "$T/$1.err" | sed 's/Sent //; s/ (/ /' | sort -u | tr '\n' ',' | sed 's/,$//'
        grep -o 'MsgVersion [0-9]*, [^)]*, [a-z0-9]*)' "$T/$1.err" | sed 's/,.*, / /; s/)$//' | sort -u | sed 's/^/; MessageSet /' | tr -d '\n'
    } | tr -d '\n'
}
has_request() { grep -q "Sent $2 (v$3," "$T/$1.err"; }
# same EXPECTED ACTUAL: nothing when byte-identical, else the first difference.
same() {
    cmp -s "$1" "$2" && return 0
    echo "read $(wc -l <"$2") lines, expected $(wc -l <"$1"); first difference: $(diff "$1" "$2" | sed -n 2p | cut -c1-150)"
    return 1
}

# kcat_round_trip FALLBACK PRODUCE_V FETCH_V MSGVER CODEC INPUT EXPECTED: sets DETAIL, returns
# non-zero on failure. PRODUCE_V etc. empty: not checked (the 0.10.0 case).
kcat_round_trip() {
    local fb=$1 pv=$2 fv=$3 mv=$4 codec=$5 input=$6 expected=$7
    local topic="legacy-kcat-${fb//./}-$codec-$RID" p="p-${fb//./}-$codec" c="c-${fb//./}-$codec"
    local z=()
    [ "$codec" != none ] && z=(-z "$codec")
    local rc
    kc "$p" "$fb" -P -t "$topic" -p 0 -K: -X message.timeout.ms=15000 -X linger.ms=50 "${z[@]}" <"$input"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        DETAIL="kcat -P exited $rc: $(errtail "$p") [sent: $(sent "$p")]"; return 1
    fi
    if [ -n "$pv" ]; then
        has_request "$p" ProduceRequest "$pv" || { DETAIL="kcat did not send ProduceRequest v$pv [sent: $(sent "$p")]"; return 1; }
        local want="MsgVersion $mv, .*, $([ "$codec" = none ] && echo uncompressed || echo "$codec"))"
        grep -q "$want" "$T/$p.err" || { DETAIL="no message set of MsgVersion $mv, $codec in kcat's log [sent: $(sent "$p")]"; return 1; }
    fi
    kc "$c" "$fb" -C -t "$topic" -p 0 -o beginning -e -f '%o %k:%s\n'
    rc=$?
    if [ "$rc" -ne 0 ]; then
        DETAIL="kcat -C exited $rc: $(errtail "$c") [sent: $(sent "$c")]; read $(wc -l <"$T/$c.out") of $(wc -l <"$expected") lines"
        return 1
    fi
    if [ -n "$fv" ]; then
        has_request "$c" FetchRequest "$fv" || { DETAIL="kcat did not send FetchRequest v$fv [sent: $(sent "$c")]"; return 1; }
    fi
    DETAIL="$(same "$expected" "$T/$c.out")"
}
verdict() { if [ "$1" -eq 0 ]; then pass "$2"; else fail "$2" "$DETAIL"; fi; }

KCAT="kcat 1.7.1 (librdkafka 2.0.2) -X api.version.request=false -X broker.version.fallback"
kcat_round_trip 0.9.0 1 1 0 none "$T/keyed.txt" "$T/keyed.expected"
verdict $? "$KCAT=0.9.0: 200 keyed lines -P (Produce v1, magic-0 message sets) then -C -o beginning -e (ListOffsets v0, Fetch v1): same keys, values, offsets 0..199, count"
for codec in gzip snappy lz4; do
    note=""
    [ "$codec" = lz4 ] && note=", KAFKA-3160's broken frame header checksum"
    kcat_round_trip 0.9.0 1 1 0 "$codec" "$T/text.txt" "$T/text.expected"
    verdict $? "$KCAT=0.9.0 -z $codec: 200 compressible keyed lines -P (Produce v1, magic-0 $codec wrappers$note) then -C (Fetch v1): same keys, values, offsets, count"
done
kcat_round_trip 0.8.2 0 0 0 none "$T/keyed.txt" "$T/keyed.expected"
verdict $? "$KCAT=0.8.2: 200 keyed lines -P (Produce v0, magic-0 message sets) then -C -o beginning -e (ListOffsets v0, Fetch v0): same keys, values, offsets 0..199, count"
kcat_round_trip 0.10.0 "" "" "" none "$T/keyed.txt" "$T/keyed.expected"
verdict $? "$KCAT=0.10.0 (librdkafka re-enables ApiVersions for a fallback >= 0.10.0 and uses the broker's versions): 200 keyed lines -P then -C: same keys, values, offsets, count"

# ---------------------------------------------------------------- 5. mixed old and new clients
MTOPIC="legacy-mixed-$RID"
run_scenarios timeout -k 5 60 "$PY" "$HERE/mixed_produce.py" "$MTOPIC" "$WORK_DIR/mixed.tsv"
run_scenarios timeout -k 5 170 "$BIN" mixed-read "$BOOTSTRAP" "$MTOPIC" "$WORK_DIR/mixed.tsv"

JTOPIC="legacy-for-java-$RID"
run_scenarios timeout -k 5 60 "$BIN" sarama-write "$BOOTSTRAP" "$JTOPIC" "$WORK_DIR/for-java.tsv"
if [ -s "$WORK_DIR/for-java.tsv" ]; then
    run_scenarios timeout -k 5 60 java -Xmx256m -Dslf4j.internal.verbosity=ERROR -cp "$CLASSES:$JAVA_LIBS/*" LegacyJavaRead "$BOOTSTRAP" "$JTOPIC" "$WORK_DIR/for-java.tsv"
else
    fail "Java kafka-clients 4.1.1 KafkaConsumer (assign + seekToBeginning) reads the 40 messages sarama 1.22.1 wrote at 0.8.2 (magic 0): each exactly once at its offset, with its key and value" \
        "not run: sarama's write failed"
fi

# ---------------------------------------------------------------- 6. old group and offset APIs
run_scenarios timeout -k 5 130 "$PY" "$HERE/old_groups.py" kafka-python
run_scenarios timeout -k 5 170 "$BIN" sarama-groups "$BOOTSTRAP" "$WORK_DIR/sarama-om.tsv" "$WORK_DIR/sarama-cg.tsv"
NEW_READERS="kafka-python $("$PY" -c 'import kafka; print(kafka.__version__)') at its default api_version and confluent-kafka committed()"
run_scenarios timeout -k 5 60 "$PY" "$HERE/old_groups.py" verify-commits "$WORK_DIR/sarama-om.tsv" \
    "new clients read what the sarama 1.22.1 OffsetManager committed with OffsetCommit v1: $NEW_READERS see the same offsets and metadata"
run_scenarios timeout -k 5 60 "$PY" "$HERE/old_groups.py" verify-commits "$WORK_DIR/sarama-cg.tsv" \
    "new clients read what the sarama 1.22.1 ConsumerGroup members committed with OffsetCommit v1: $NEW_READERS see offset 10 of each partition"
finish
