#!/usr/bin/env python3
"""The stock kafka-python 3.0 client with an explicit OLD api_version against weir: the group
and offset APIs of Kafka 0.8.1-0.9, and new clients reading what the old ones committed.

kafka-python with an explicit api_version sends no ApiVersions: every request takes the highest
version that both kafka-python and the table for that broker version
(kafka/protocol/broker_version_data.py, BROKER_API_VERSIONS) allow. kafka-python 3.0.12 keeps
the old fields (MaxNumOffsets / OldStyleOffsets, CommitTimestamp, RetentionTimeMs) in its
request schemas, so it still encodes and decodes these versions:

  api_version   Metadata ListOffsets Fetch Produce FindCoord. OffsetCommit OffsetFetch JoinGroup SyncGroup Heartbeat LeaveGroup
  (0, 9)        v0       v0          v1    v1      v0         v2           v1          v0        v0        v0        v0
  (0, 8, 2)     v0       v0          v0    v0      v0         v1           v1          (none: no group management below 0.9)
  (0, 8, 1)     v0       v0          v0    v0      (none)     v0           v0          (none)
                (at 0.8.1 kafka-python sends the offset requests to any broker, its "coordinator")

ListOffsets v0 is the max_num_offsets form: kafka-python sends max_num_offsets 1 and reads the
old-style offset list (kafka/consumer/fetcher.py). The scenarios also check, from
kafka-python's own DEBUG log of each request and response (logger kafka.net.connection), that
the old client sent exactly these versions of the APIs they name, and no ApiVersions; and that
the Heartbeat v0 and LeaveGroup v0 answers carried error 0.

Usage:
  old_groups.py kafka-python                       the kafka-python scenarios (BOOTSTRAP in the env)
  old_groups.py verify-commits FILE.tsv NAME       one scenario NAME: kafka-python 3.0 at its
      default api_version and confluent-kafka read the commits FILE.tsv lists (group, topic,
      partition, offset, metadata; written by legacy-compat sarama-groups)
Prints one PASS/FAIL line per scenario. COMPAT_DEBUG=1: kafka-python's DEBUG log on stderr.
"""
import collections
import logging
import os
import sys
import threading
import time

import confluent_kafka
import kafka
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient
from kafka.structs import OffsetAndMetadata

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import weir_compat as wc  # noqa: E402
from weir_compat import wait_until  # noqa: E402

BOOT = wc.bootstrap()
CLIENT = os.environ.get("CLIENT_NAME", "legacy")
DEBUG = bool(os.environ.get("COMPAT_DEBUG"))
KP = f"kafka-python {kafka.__version__}"
CK = "confluent-kafka " + (lambda v: v if isinstance(v, str) else v[0])(confluent_kafka.version())
topic = wc.topic_namer("legacy-kp")
COMMON = dict(bootstrap_servers=BOOT, request_timeout_ms=10000)


# ---------------------------------------------------------------- what went over the wire
class Wire(logging.Handler):
    """Every request kafka-python sent, as (name, version) per client_id, and every response
    as (name, version, top-level error code or None), from kafka-python's DEBUG log lines
    '%s Request %d: %s' and '%s: Response %d (%s ms): %s' (kafka/net/connection.py), whose
    first argument is the connection (with its client_id) and last the request/response."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.mu = threading.Lock()
        self.sent = collections.defaultdict(collections.Counter)
        self.answers = collections.defaultdict(list)

    def emit(self, rec):
        try:
            args = rec.args if isinstance(rec.args, tuple) else ()
            if len(args) >= 3 and isinstance(rec.msg, str) and ("Request %d" in rec.msg or "Response %d" in rec.msg):
                cid = getattr(args[0], "config", {}).get("client_id")
                msg = args[-1]
                name, ver = type(msg).__name__, getattr(msg, "API_VERSION", None)
                with self.mu:
                    if "Request %d" in rec.msg:
                        self.sent[cid][(name.replace("Request", ""), ver)] += 1
                    else:
                        self.answers[cid].append((name.replace("Response", ""), ver, getattr(msg, "error_code", None)))
        except Exception:  # noqa: BLE001 - never break the client's logging
            pass
        if DEBUG or rec.levelno >= logging.WARNING:
            for h in logging.getLogger().handlers:
                h.handle(rec)

    def versions(self, cid):
        """{api name: sorted versions} that client_id sent."""
        with self.mu:
            out = collections.defaultdict(set)
            for (name, ver) in self.sent[cid]:
                out[name].add(ver)
        return {k: sorted(v) for k, v in out.items()}

    def answered(self, cid, name, version, error=0):
        with self.mu:
            return sum(1 for a in self.answers[cid] if a == (name, version, error))


WIRE = Wire()


def setup_logging():
    wc.setup_logging()
    lg = logging.getLogger("kafka.net.connection")
    lg.setLevel(logging.DEBUG)
    lg.propagate = False
    lg.addHandler(WIRE)


def expect_versions(cid, want, forbid=("ApiVersions",)):
    """Asserts that client_id sent exactly the versions `want` ({name: [versions]}) of those
    APIs, and none of `forbid`."""
    got = WIRE.versions(cid)
    bad = {n: got.get(n) for n, vs in want.items() if got.get(n) != sorted(vs)}
    bad.update({n: got[n] for n in forbid if n in got})
    assert not bad, f"{cid} sent {bad}, expected {({n: want.get(n, 'none') for n in bad})} (everything it sent: {got})"


# ---------------------------------------------------------------- client helpers
admin = wc.lazy(lambda: KafkaAdminClient(client_id="legacy-kp-admin", **COMMON))


def create_topic(name, partitions):
    res = admin().create_topics({name: {"num_partitions": partitions, "replication_factor": 1}}, timeout_ms=10000)
    errs = [(t.get("name"), t.get("error_code")) for t in res["topics"]]
    assert errs == [(name, 0)], f"create_topics answered {errs}"

    def ready():
        ts = [t for t in admin().describe_topics([name]) if t.get("name") == name]
        return bool(ts) and ts[0].get("error_code", 0) == 0 and len(ts[0].get("partitions") or []) == partitions \
            and all(p.get("leader_id", -1) >= 0 for p in ts[0]["partitions"])
    assert wait_until(ready, 10), f"topic {name} not ready 10 s after CreateTopics"


def old_producer(cid):
    return KafkaProducer(client_id=cid, api_version=(0, 9), acks="all", linger_ms=5, enable_idempotence=False, **COMMON)


def produce(cid, name, values, partitions):
    """The (0, 9) producer (Produce v1) sends values round robin over the partitions; returns
    {partition: [offsets]}."""
    p = old_producer(cid)
    try:
        futs = [p.send(name, key=f"k{i}".encode(), value=v.encode(), partition=i % partitions) for i, v in enumerate(values)]
        p.flush(timeout=20)
        metas = [f.get(timeout=1) for f in futs]
    finally:
        p.close(timeout=5)
    out = collections.defaultdict(list)
    for m in metas:
        out[m.partition].append(m.offset)
    return dict(out)


def old_consumer(cid, api_version, group, *topics, **extra):
    conf = dict(wc.GROUP_CONF, enable_auto_commit=False)
    conf.update(extra)
    return KafkaConsumer(*topics, client_id=cid, api_version=api_version, group_id=group, **COMMON, **conf)


def poll_until(consumers, done, timeout):
    """Polls every consumer in turn (a short poll each) until done() or the deadline; returns
    {consumer index: [records]}."""
    got = collections.defaultdict(list)
    deadline = time.monotonic() + timeout
    while not done(got) and time.monotonic() < deadline:
        for i, c in enumerate(consumers):
            for _tp, recs in c.poll(timeout_ms=100).items():
                got[i].extend(recs)
    return got


def new_clients_committed(group, tps):
    """{tp: (offset, metadata)} as kafka-python 3.0 at its default api_version (ApiVersions,
    then its newest OffsetFetch) and confluent-kafka's Consumer.committed() read them."""
    kp = KafkaConsumer(client_id="legacy-kp-new", group_id=group, enable_auto_commit=False, **COMMON)
    try:
        kp_got = {}
        for tp in tps:
            om = kp.committed(tp, metadata=True, timeout_ms=10000)
            kp_got[tp] = None if om is None else (om.offset, om.metadata)
    finally:
        kp.close()
    ck = confluent_kafka.Consumer({"bootstrap.servers": BOOT, "group.id": group, "broker.address.family": "v4",
                                   "enable.auto.commit": False, "socket.timeout.ms": 10000})
    try:
        res = ck.committed([confluent_kafka.TopicPartition(tp.topic, tp.partition) for tp in tps], timeout=10)
        ck_got = {TopicPartition(r.topic, r.partition): None if r.offset < 0 else (r.offset, r.metadata or "")
                  for r in res}
    finally:
        ck.close()
    return kp_got, ck_got


def check_new_clients(group, want):
    """Asserts that both new clients read `want` ({tp: (offset, metadata)}) back."""
    kp_got, ck_got = new_clients_committed(group, list(want))
    fmt = lambda d: sorted((tp.partition, v) for tp, v in d.items())  # noqa: E731
    assert kp_got == want, f"{KP} (default api_version) read {fmt(kp_got)}, committed were {fmt(want)}"
    assert ck_got == want, f"{CK} committed() read {fmt(ck_got)}, committed were {fmt(want)}"
    v = WIRE.versions("legacy-kp-new").get("OffsetFetch")
    return f"kafka-python OffsetFetch v{v[0] if v else '?'}"


# ---------------------------------------------------------------- the kafka-python scenarios
suite = wc.Suite(CLIENT, scenario_timeout=30, total_budget=100)
scenario, ctx, need = suite.scenario, wc.ctx, wc.need
P = 3            # partitions of the group topic
FIRST = 30       # messages written before the group consumer reads
SECOND = 15      # written while it is away
G09 = wc.unique("legacy-kp-09")
G082 = wc.unique("legacy-kp-082")
G081 = wc.unique("legacy-kp-081")
S1 = f"{KP} api_version=(0, 9): KafkaProducer writes {FIRST} keyed messages to {P} partitions (no ApiVersions; Metadata v0, Produce v1 with magic-0 message sets): acknowledged at offsets 0..{FIRST // P - 1} of each partition"


@scenario(S1)
def s_produce():
    name = topic("group")
    create_topic(name, P)
    offs = produce("legacy-kp-09-producer", name, [f"first-{i:02d}" for i in range(FIRST)], P)
    assert offs == {p: list(range(FIRST // P)) for p in range(P)}, f"acknowledged at {offs}"
    expect_versions("legacy-kp-09-producer", {"Metadata": [0], "Produce": [1]})
    ctx["group_topic"] = name


@scenario(f"{KP} api_version=(0, 9): KafkaConsumer.beginning_offsets / end_offsets (ListOffsets v0 with max_num_offsets 1, the old-style offset list) "
          "= 0 / 12 and 0 / 0 on an empty partition; after a new client's DeleteRecords to offset 5: 5 / 12")
def s_list_offsets_v0():
    name = topic("lo")
    create_topic(name, 2)
    produce("legacy-kp-09-producer", name, [f"lo-{i}" for i in range(12)], 1)
    c = KafkaConsumer(client_id="legacy-kp-09-lo", api_version=(0, 9), enable_auto_commit=False, **COMMON)
    try:
        tps = [TopicPartition(name, 0), TopicPartition(name, 1)]
        got = (c.beginning_offsets(tps, timeout_ms=10000), c.end_offsets(tps, timeout_ms=10000))
        assert got == ({tps[0]: 0, tps[1]: 0}, {tps[0]: 12, tps[1]: 0}), f"before DeleteRecords: beginning/end {got}"
        admin().delete_records({tps[0]: 5}, timeout_ms=10000)
        got = (c.beginning_offsets(tps, timeout_ms=10000), c.end_offsets(tps, timeout_ms=10000))
        assert got == ({tps[0]: 5, tps[1]: 0}, {tps[0]: 12, tps[1]: 0}), f"after DeleteRecords to 5: beginning/end {got}"
    finally:
        c.close()
    expect_versions("legacy-kp-09-lo", {"Metadata": [0], "ListOffsets": [0]})


@scenario(f"{KP} api_version=(0, 9): a KafkaConsumer in a group (FindCoordinator v0, JoinGroup v0, SyncGroup v0, Heartbeat v0, OffsetFetch v1, "
          f"ListOffsets v0, Fetch v1) reads all {FIRST} messages once, commit() (OffsetCommit v2 with generation and member id) and "
          "committed() (OffsetFetch v1) agree, close() sends LeaveGroup v0 and a new client's DescribeGroups shows the group Empty "
          "well before the 30 s session timeout")
def s_group_consumer():
    name = need("group_topic", S1)
    cid = "legacy-kp-09-group-a"
    c = old_consumer(cid, (0, 9), G09, name, session_timeout_ms=30000)
    closed = False
    try:
        # Read everything, and stay until a Heartbeat v0 was answered without error.
        got = poll_until([c], lambda g: len(g[0]) >= FIRST and WIRE.answered(cid, "Heartbeat", 0) > 0, 20)[0]
        vals = sorted(r.value.decode() for r in got)
        assert vals == [f"first-{i:02d}" for i in range(FIRST)], f"read {len(vals)} values, {len(set(vals))} distinct, of {FIRST}"
        assert WIRE.answered(cid, "Heartbeat", 0) > 0, f"no Heartbeat v0 answered with error 0 within 20 s (answers: {WIRE.answers[cid][-5:]})"
        tps = [TopicPartition(name, p) for p in range(P)]
        c.commit()
        com = {tp: c.committed(tp, timeout_ms=10000) for tp in tps}
        assert com == {tp: FIRST // P for tp in tps}, f"committed() = {wc.fmt_offsets(com)}, position was {FIRST // P} each"
        c.close()
        closed = True
    finally:
        if not closed:
            c.close()
    assert wait_until(lambda: WIRE.answered(cid, "LeaveGroup", 0) == 1, 5), f"LeaveGroup v0 answers: {[a for a in WIRE.answers[cid] if a[0] == 'LeaveGroup']}"
    expect_versions(cid, {"Metadata": [0], "FindCoordinator": [0], "JoinGroup": [0], "SyncGroup": [0], "Heartbeat": [0],
                          "LeaveGroup": [0], "OffsetCommit": [2], "OffsetFetch": [1], "ListOffsets": [0], "Fetch": [1]})
    last = {}

    def empty():
        last.update(admin().describe_groups([G09]).get(G09) or {})
        return last.get("group_state") == "Empty" and not last.get("members")
    assert wait_until(empty, 5), f"5 s after LeaveGroup v0: state {last.get('group_state')!r}, {len(last.get('members') or [])} members"
    ctx["g09_committed"] = {tp: (FIRST // P, "") for tp in tps}


@scenario(f"new clients read what {KP} api_version=(0, 9) committed with OffsetCommit v2: {KP} at its default api_version and {CK} committed() "
          f"both see offset {FIRST // P} of each partition")
def s_g09_new_read():
    check_new_clients(G09, need("g09_committed", "the (0, 9) group consumer"))


@scenario(f"{KP} api_version=(0, 9): a restarted group consumer resumes at the committed offsets: it reads exactly the {SECOND} messages "
          "written while the group was empty, each once, the first of each partition at its committed offset (OffsetFetch v1, Fetch v1)")
def s_resume():
    name = need("group_topic", S1)
    committed = need("g09_committed", "the (0, 9) group consumer")
    values = [f"second-{i:02d}" for i in range(SECOND)]
    produce("legacy-kp-09-producer", name, values, P)
    cid = "legacy-kp-09-group-b"
    c = old_consumer(cid, (0, 9), G09, name)
    try:
        got = poll_until([c], lambda g: len(g[0]) >= SECOND, 20)[0]
        # One more short poll: anything read twice would show up now.
        got += poll_until([c], lambda g: False, 0.3)[0]
        wc.check_resumed(got, values, {tp: o for tp, (o, _m) in committed.items()})
        c.commit()
    finally:
        c.close()
    expect_versions(cid, {"JoinGroup": [0], "SyncGroup": [0], "OffsetFetch": [1], "OffsetCommit": [2], "Fetch": [1]})
    # Only OffsetFetch answers: nothing reset the position (ListOffsets) since offsets were committed.
    assert "ListOffsets" not in WIRE.versions(cid), f"{cid} sent ListOffsets although every partition had a committed offset"


@scenario(f"{KP} api_version=(0, 9): two group members (JoinGroup v0, SyncGroup v0, Heartbeat v0) split 4 partitions disjointly and cover "
          "all of them; 40 messages written after the split are each read once, by the member owning its partition; both stay in the "
          "generation (Heartbeat v0 answered 0) and leave with LeaveGroup v0")
def s_two_members():
    name = topic("two")
    create_topic(name, 4)
    group = wc.unique("legacy-kp-09-two")
    cids = ["legacy-kp-09-two-a", "legacy-kp-09-two-b"]
    ms = [Member(cid, group, name) for cid in cids]
    try:
        def split():
            a, b = (m.snapshot()[0] for m in ms)
            return bool(a and b and not (a & b) and a | b == set(range(4)))
        assert wait_until(split, 20), \
            f"assignments {[sorted(m.snapshot()[0]) for m in ms]} 20 s after both joined (errors {[m.error for m in ms]})"
        owners = {p: i for i, m in enumerate(ms) for p in m.snapshot()[0]}
        hb0 = [WIRE.answered(cid, "Heartbeat", 0) for cid in cids]
        values = [f"two-{i:02d}" for i in range(40)]
        produce("legacy-kp-09-producer", name, values, 4)
        assert wait_until(lambda: sum(len(m.snapshot()[1]) for m in ms) >= 40 and
                          all(WIRE.answered(cid, "Heartbeat", 0) > hb0[i] for i, cid in enumerate(cids)), 20), \
            f"read {[len(m.snapshot()[1]) for m in ms]} of 40; Heartbeat v0 answers {[WIRE.answered(c, 'Heartbeat', 0) for c in cids]} (before: {hb0})"
        assert [m.snapshot()[0] for m in ms] == [{p for p, o in owners.items() if o == i} for i in range(2)], \
            f"the assignment changed while reading: {[sorted(m.snapshot()[0]) for m in ms]}, owners were {owners}"
    finally:
        for m in ms:
            m.close()
    got = {i: m.snapshot()[1] for i, m in enumerate(ms)}
    read = sorted(v for i in got for (_p, _o, v) in got[i])
    assert read == values, f"read {len(read)} values ({len(set(read))} distinct) of 40"
    wrong = [(p, i) for i in got for (p, _o, _v) in got[i] if owners[p] != i]
    assert not wrong, f"records read by a member not owning their partition (partition, member): {wrong[:5]}"
    assert not any(m.error for m in ms), f"consumer errors: {[m.error for m in ms]}"
    for cid in cids:
        assert wait_until(lambda: WIRE.answered(cid, "LeaveGroup", 0) == 1, 5), f"{cid}: LeaveGroup v0 answers {[a for a in WIRE.answers[cid] if a[0] == 'LeaveGroup']}"
        expect_versions(cid, {"JoinGroup": [0], "SyncGroup": [0], "Heartbeat": [0], "LeaveGroup": [0], "Fetch": [1]})


class Member:
    """A (0, 9) group consumer polling in its own thread, as applications run one: its
    assignment and the (partition, offset, value) of each record it read."""

    def __init__(self, cid, group, name):
        self.lock, self.stop = threading.Lock(), threading.Event()
        self.parts, self.read, self.error = set(), [], None
        self.consumer = old_consumer(cid, (0, 9), group, name)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        c = self.consumer
        try:
            while not self.stop.is_set():
                recs = c.poll(timeout_ms=100)
                with self.lock:
                    for rs in recs.values():
                        self.read.extend((r.partition, r.offset, r.value.decode()) for r in rs)
                    self.parts = {tp.partition for tp in c.assignment()}
        except Exception as e:  # noqa: BLE001 - reported by the scenario
            self.error = f"{type(e).__name__}: {e}"
        finally:
            try:
                c.close()
            except Exception as e:  # noqa: BLE001
                self.error = self.error or f"close: {type(e).__name__}: {e}"

    def snapshot(self):
        with self.lock:
            return set(self.parts), list(self.read)

    def close(self):
        self.stop.set()
        self.thread.join(15)


def manual_offsets(api_version, group, want, cid_prefix, versions, fetch_versions):
    """An old consumer with assign() commits `want` ({partition: (offset, metadata)}) and reads
    them back; a second one (the restart) starts at exactly those offsets."""
    name = need("group_topic", S1)
    total = FIRST // P + SECOND // P
    tps = [TopicPartition(name, p) for p in range(P)]
    cid = f"{cid_prefix}-a"
    c = old_consumer(cid, api_version, group)
    try:
        c.assign(tps)
        c.commit({tps[p]: OffsetAndMetadata(o, m, -1) for p, (o, m) in want.items()})
        got = {tp: c.committed(tp, metadata=True, timeout_ms=10000) for tp in tps}
        got = {tp: (om.offset, om.metadata) if om is not None else None for tp, om in got.items()}
        exp = {tps[p]: v for p, v in want.items()}
        assert got == exp, f"committed() read {sorted((tp.partition, v) for tp, v in got.items())}, committed were {sorted(want.items())}"
    finally:
        c.close()
    expect_versions(cid, versions)
    for api in ("JoinGroup", "SyncGroup", "Heartbeat", "LeaveGroup"):
        assert api not in WIRE.versions(cid), f"{cid} sent {api} (no group management below 0.9)"
    cid = f"{cid_prefix}-b"
    c = old_consumer(cid, api_version, group)
    try:
        c.assign(tps)
        expect = total * P - sum(o for o, _m in want.values())
        got = poll_until([c], lambda g: len(g[0]) >= expect, 20)[0]
        got += poll_until([c], lambda g: False, 0.3)[0]
        seen = sorted((r.partition, r.offset) for r in got)
        exp = sorted((p, o) for p, (start, _m) in want.items() for o in range(start, total))
        assert seen == exp, f"the restarted consumer read (partition, offset) {seen[:8]}... ({len(seen)}), expected from the committed offsets {exp[:8]}... ({len(exp)})"
        pos = {tp.partition: c.position(tp) for tp in tps}
        assert pos == {p: total for p in range(P)}, f"positions {pos} after reading, expected {total} each"
    finally:
        c.close()
    expect_versions(cid, fetch_versions)
    assert "ListOffsets" not in WIRE.versions(cid), f"{cid} sent ListOffsets although every partition had a committed offset"
    return {tps[p]: v for p, v in want.items()}


@scenario(f"{KP} api_version=(0, 8, 2): assign() + commit() (FindCoordinator v0, OffsetCommit v1, generation -1) of chosen offsets with metadata; "
          "committed() (OffsetFetch v1) reads them back; a restarted consumer (Fetch v0) reads exactly from them, nothing twice or skipped")
def s_082():
    ctx["g082"] = manual_offsets((0, 8, 2), G082, {0: (3, "kp-082-meta-0"), 1: (7, ""), 2: (FIRST // P + SECOND // P, "all read")},
                                 "legacy-kp-082", {"Metadata": [0], "FindCoordinator": [0], "OffsetCommit": [1], "OffsetFetch": [1]},
                                 {"OffsetFetch": [1], "Fetch": [0]})


@scenario(f"new clients read what {KP} api_version=(0, 8, 2) committed with OffsetCommit v1: {KP} at its default api_version and {CK} "
          "committed() see the same offsets and metadata")
def s_082_new_read():
    check_new_clients(G082, need("g082", "the (0, 8, 2) commit"))


@scenario(f"{KP} api_version=(0, 8, 1): assign() + commit() (OffsetCommit v0, to any broker: no FindCoordinator) of chosen offsets with metadata; "
          "committed() (OffsetFetch v0) reads them back; a restarted consumer (Fetch v0) reads exactly from them, nothing twice or skipped")
def s_081():
    ctx["g081"] = manual_offsets((0, 8, 1), G081, {0: (5, "kp-081-meta-0"), 1: (0, ""), 2: (12, "v0 commit")},
                                 "legacy-kp-081", {"Metadata": [0], "OffsetCommit": [0], "OffsetFetch": [0]},
                                 {"OffsetFetch": [0], "Fetch": [0]})
    for cid in ("legacy-kp-081-a", "legacy-kp-081-b"):
        assert "FindCoordinator" not in WIRE.versions(cid), f"{cid} (api_version (0, 8, 1)) sent FindCoordinator"


@scenario(f"new clients read what {KP} api_version=(0, 8, 1) committed with OffsetCommit v0: {KP} at its default api_version and {CK} committed() "
          "see the same offsets and metadata (weir keeps v0 commits with the others; Kafka before 4.0 kept them in ZooKeeper)")
def s_081_new_read():
    check_new_clients(G081, need("g081", "the (0, 8, 1) commit"))


# ---------------------------------------------------------------- verify-commits
def verify_commits(path, name):
    report = wc.reporter(CLIENT)
    if not os.path.exists(path):
        return report(False, name, f"not run: {os.path.basename(path)} is missing (the sarama scenario that commits failed)")
    try:
        want = collections.defaultdict(dict)
        with open(path) as f:
            for line in f:
                g, t, p, o, m = line.rstrip("\n").split("\t")
                want[g][TopicPartition(t, int(p))] = (int(o), m)
        assert want, f"{path} lists no commits"
        for g, w in want.items():
            check_new_clients(g, dict(w))
    except (OSError, ValueError) as e:
        return report(False, name, f"not run: {wc.one_line(e)}")
    except AssertionError as e:
        return report(False, name, wc.one_line(e))
    except Exception as e:  # noqa: BLE001 - any client error fails the scenario
        return report(False, name, wc.one_line(f"{type(e).__name__}: {e}"))
    return report(True, name)


def main():
    setup_logging()
    if sys.argv[1:2] == ["kafka-python"]:
        return suite.run_all()
    if sys.argv[1:2] == ["verify-commits"] and len(sys.argv) == 4:
        return 0 if verify_commits(sys.argv[2], sys.argv[3]) else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    wc.exit_now(main())
