#!/usr/bin/env python3
"""Log lifecycle scenarios for weir with confluent-kafka (librdkafka): topic configs
(CreateTopics, DescribeConfigs, IncrementalAlterConfigs, AlterConfigs), retention by time and
size, DeleteRecords, consumers below the log start offset, and log compaction per codec.

Runs its own broker (it restarts it, and reads its data dir) on a free 127.0.0.1 port, with
`log.retention.check.interval.ms=200` and `log.cleaner.backoff.ms=200`. Prints one
`PASS confluent-kafka: ...` / `FAIL confluent-kafka: ... -- detail` line per scenario.
Every wait is a poll against a deadline; nothing sleeps in place of a condition.
"""
import argparse
import os
import shutil
import struct
import sys
import time
import warnings
from collections import namedtuple

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, TIMESTAMP_LOG_APPEND_TIME, Consumer, KafkaError, \
    KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource,
                                   NewTopic, OffsetSpec, ResourceType)

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import weir_compat as wc  # noqa: E402
from weir_compat import unique  # noqa: E402

DEBUG = os.environ.get("COMPAT_DEBUG", "")
suite = wc.Suite("confluent-kafka", scenario_timeout=60, total_budget=300)
scenario = suite.scenario
Rec = namedtuple("Rec", "offset key value headers timestamp")
B = {}  # "broker": wc.Broker, "data": its data dir


def conf(**extra):
    c = {"bootstrap.servers": B["broker"].bootstrap, "socket.timeout.ms": 10000, "broker.address.family": "v4"}
    if DEBUG:
        c["debug"] = DEBUG
    c.update(extra)
    return c


admin = wc.lazy(lambda: AdminClient(conf()))


# ---------------------------------------------------------------- admin helpers
def create_topic(name, config=None, partitions=1):
    fs = admin().create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1,
                                         config=config or {})], operation_timeout=10, request_timeout=15)
    fs[name].result(timeout=20)
    ok = wc.wait_until(lambda: name in admin().list_topics(timeout=5).topics, 10)
    assert ok, f"topic {name} not in metadata 10s after create_topics"


def create_error(name, config, validate_only=False):
    """The KafkaError of a create_topics that should fail, or None when it succeeded."""
    fs = admin().create_topics([NewTopic(name, num_partitions=1, replication_factor=1, config=config)],
                               validate_only=validate_only, operation_timeout=10, request_timeout=15)
    try:
        fs[name].result(timeout=20)
        return None
    except KafkaException as e:
        return e.args[0]


def describe(topic):
    fs = admin().describe_configs([ConfigResource(ResourceType.TOPIC, topic)], request_timeout=15)
    return next(iter(fs.values())).result(timeout=20)


def source(entry):
    s = entry.source
    return (ConfigSource(s) if isinstance(s, int) else s).name


def cfg(topic, *names):
    """{name: (value, source name)} from describe_configs."""
    d = describe(topic)
    missing = [n for n in names if n not in d]
    assert not missing, f"describe_configs lacks {missing}; has {sorted(d)[:50]}"
    return {n: (d[n].value, source(d[n])) for n in names}


def inc_alter(topic, ops, validate_only=False):
    """IncrementalAlterConfigs of [(AlterConfigOpType, name, value)] on one topic."""
    res = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=[
        ConfigEntry(n, v, incremental_operation=op) for op, n, v in ops])
    fs = admin().incremental_alter_configs([res], validate_only=validate_only, request_timeout=15)
    return next(iter(fs.values())).result(timeout=20)


def error_of(fn, *args, **kw):
    try:
        fn(*args, **kw)
    except KafkaException as e:
        return e.args[0]
    return None


def check_invalid_config(err, what, mention):
    assert err is not None, f"{what}: accepted, want INVALID_CONFIG"
    assert err.code() == KafkaError.INVALID_CONFIG, \
        f"{what}: got {err.name()} ({err.code()}) {err.str()!r}, want INVALID_CONFIG (40)"
    assert mention in err.str(), f"{what}: INVALID_CONFIG message {err.str()!r} does not name {mention!r}"


def offsets(topic, p=0):
    """(earliest, latest) by ListOffsets."""
    tp = TopicPartition(topic, p)
    lo = next(iter(admin().list_offsets({tp: OffsetSpec.earliest()}, request_timeout=10).values()))
    hi = next(iter(admin().list_offsets({tp: OffsetSpec.latest()}, request_timeout=10).values()))
    return lo.result(timeout=15).offset, hi.result(timeout=15).offset


def delete_records(topic, offset, p=0):
    fs = admin().delete_records([TopicPartition(topic, p, offset)], operation_timeout=10, request_timeout=15)
    return next(iter(fs.values())).result(timeout=20).low_watermark


# ---------------------------------------------------------------- data dir helpers
def seg_files(topic, p=0, ext=".log"):
    """{base offset: size} of the partition's `<20 digits><ext>` files."""
    d = os.path.join(B["data"], f"{topic}-{p}")
    out = {}
    for n in os.listdir(d):
        if n.endswith(ext) and len(n) == 20 + len(ext) and n[:20].isdigit():
            try:
                out[int(n[:20])] = os.path.getsize(os.path.join(d, n))
            except FileNotFoundError:
                pass
    return out


def all_seg_bases(topic, p=0):
    """Base offsets of any segment file (.log, .index, .timeindex)."""
    return set().union(*(seg_files(topic, p, e) for e in (".log", ".index", ".timeindex")))


def batch_codecs(topic, p=0):
    """{codec id} of the non-empty record batches in the partition's .log files."""
    d = os.path.join(B["data"], f"{topic}-{p}")
    codecs = set()
    for base in sorted(seg_files(topic, p)):
        try:
            with open(os.path.join(d, f"{base:020d}.log"), "rb") as f:
                data = f.read()
        except FileNotFoundError:  # replaced by the cleaner meanwhile: look again
            return None
        pos = 0
        while pos + 61 <= len(data):
            length = struct.unpack_from(">i", data, pos + 8)[0]
            attrs = struct.unpack_from(">h", data, pos + 21)[0]
            count = struct.unpack_from(">i", data, pos + 57)[0]
            if count > 0:
                codecs.add(attrs & 7)
            pos += 12 + length
    return codecs


# ---------------------------------------------------------------- produce / consume
def produce(topic, msgs, timeout=30, **pconf):
    """msgs: dicts with value and optional key/headers/timestamp. Returns [(KafkaError|None, offset, timestamp)]."""
    p = Producer(conf(**{"linger.ms": 5, "message.timeout.ms": 15000, **pconf}))
    reports = [None] * len(msgs)

    def cb_for(i):
        return lambda err, m: reports.__setitem__(i, (err, m.offset(), m.timestamp()[1]))

    for i, m in enumerate(msgs):
        kw = {k: m[k] for k in ("key", "headers", "timestamp") if k in m}
        while True:
            try:
                p.produce(topic, m["value"], on_delivery=cb_for(i), **kw)
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    left = p.flush(timeout)
    assert left == 0, f"{left} of {len(msgs)} messages undelivered after {timeout}s"
    return reports


def produce_ok(topic, msgs, with_ts=False, **pconf):
    """The offsets (with_ts: (offset, timestamp)s) of msgs; fails on any delivery error."""
    reports = produce(topic, msgs, **pconf)
    errs = [r[0] for r in reports if r[0] is not None]
    assert not errs, f"{len(errs)} delivery errors, first: {errs[0]}"
    return [(o, ts) if with_ts else o for _, o, ts in reports]


def consumer(reset="error", group=None, **extra):
    return Consumer(conf(**{"group.id": group or unique("lc-grp"), "enable.auto.commit": False,
                            "enable.auto.offset.store": False, "auto.offset.reset": reset,
                            "fetch.wait.max.ms": 100, **extra}))


def read(topic, start, end=None, timeout=20, p=0):
    """Reads (topic, p) from `start` until the end of the partition at an offset >= end (the first
    end of partition when end is None). Any consumer error fails. Returns [Rec]."""
    c = consumer(**{"enable.partition.eof": True, "check.crcs": True})
    got = []
    try:
        c.assign([TopicPartition(topic, p, start)])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in c.consume(1000, 0.2):
                e = m.error()
                if e is None:
                    got.append(Rec(m.offset(), m.key(), m.value(), m.headers(), m.timestamp()[1]))
                elif e.code() == KafkaError._PARTITION_EOF:
                    if end is None or m.offset() >= end:
                        return got
                else:
                    raise AssertionError(f"consumer error reading from {start} after {len(got)} records: {e}")
        last = got[-1].offset if got else None
        raise AssertionError(f"no end of partition at >= {end} within {timeout}s reading from {start}: "
                             f"{len(got)} records, last offset {last}")
    finally:
        c.close()


def first_message(c, timeout=15):
    """The first record (or non-EOF error) a consumer gets: ("msg", Message) or ("error", KafkaError)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = c.poll(0.2)
        if m is None:
            continue
        if m.error() is None:
            return "msg", m
        if m.error().code() != KafkaError._PARTITION_EOF:
            return "error", m.error()
    raise AssertionError(f"no message and no error within {timeout}s")


def pad(prefix, i, size):
    v = f"{prefix}{i}:".encode()
    return v + b"x" * max(0, size - len(v))


# ---------------------------------------------------------------- 1. retention by time
@scenario("retention.ms deletes expired closed segments and their files; the log start moves; "
          "new records are readable", timeout=60)
def s_retention_time():
    t = unique("lc-rtime")
    create_topic(t, {"retention.ms": "1500", "segment.ms": "300"})
    t0 = time.monotonic()
    offs = produce_ok(t, [{"value": pad("t", i, 100)} for i in range(2000)])
    assert offs == list(range(2000)), f"offsets {offs[:3]}..{offs[-3:]}"
    lo, hi = offsets(t)
    if time.monotonic() - t0 < 1.0:  # nothing is 1.5 s old yet: nothing may be gone
        assert lo == 0, f"log start {lo} within 1s of producing (retention.ms=1500)"
    assert hi == 2000, f"high watermark {hi}"
    state = {}

    def expired():
        state["off"] = offsets(t)
        state["bases"] = sorted(all_seg_bases(t))
        return state["off"] == (2000, 2000) and all(b >= 2000 for b in state["bases"])
    ok = wc.wait_until(expired, 20, step=0.2)
    assert ok, f"20s on: (earliest, latest) {state['off']}, segment files at bases {state['bases']} " \
               f"(want (2000, 2000), no segment file below 2000)"
    # New records, read by a consumer already waiting at the end (they expire 1.5 s on too).
    c = consumer(**{"enable.partition.eof": True})
    try:
        c.assign([TopicPartition(t, 0, 2000)])
        m = c.poll(10)
        assert m is not None and m.error() is not None and m.error().code() == KafkaError._PARTITION_EOF \
            and m.offset() == 2000, f"at 2000: want end of partition, got {m and (m.error(), m.offset())}"
        offs = produce_ok(t, [{"value": pad("n", i, 20)} for i in range(100)])
        assert offs == list(range(2000, 2100)), f"new offsets {offs[:3]}..{offs[-3:]}"
        got = []
        deadline = time.monotonic() + 10
        while len(got) < 100 and time.monotonic() < deadline:
            for m in c.consume(100, 0.2):
                assert m.error() is None or m.error().code() == KafkaError._PARTITION_EOF, f"error {m.error()}"
                if m.error() is None:
                    got.append((m.offset(), m.value()))
        assert got == [(o, pad("n", o - 2000, 20)) for o in offs], f"read back {len(got)} records, first {got[:2]}"
    finally:
        c.close()


# ---------------------------------------------------------------- 2. retention by size
@scenario("retention.bytes deletes the oldest segments down to the limit; the newest records stay readable",
          timeout=60)
def s_retention_size():
    t, limit, seg = unique("lc-rsize"), 20000, 4096
    create_topic(t, {"retention.bytes": str(limit), "segment.bytes": str(seg)})
    vals = [pad("s", i, 500) for i in range(400)]
    offs = produce_ok(t, [{"value": v} for v in vals], **{"batch.size": 3000})
    assert offs == list(range(400)), f"offsets {offs[:3]}..{offs[-3:]}"
    state = {}

    def trimmed():
        state["off"], state["logs"] = offsets(t), seg_files(t)
        return state["off"][0] > 0 and sum(state["logs"].values()) <= limit + 2 * seg
    ok = wc.wait_until(trimmed, 20, step=0.2)
    lo, hi = state["off"]
    logs = state["logs"]
    total = sum(logs.values())
    assert ok, f"20s on: log start {lo}, .log files total {total} bytes in {len(logs)} segments " \
               f"(want start > 0, total <= {limit + 2 * seg})"
    assert hi == 400, f"high watermark {hi}"
    assert lo == min(logs), f"log start {lo} is not the base offset of the oldest segment {min(logs)}"
    assert total >= limit, f"retention left {total} bytes, below retention.bytes={limit} (Kafka deletes a " \
                           f"segment only while the rest stays >= retention.bytes)"
    big = {b: s for b, s in logs.items() if s > seg}
    assert not big, f"segments larger than segment.bytes={seg}: {big}"
    got = read(t, lo, 400)
    assert [r.offset for r in got] == list(range(lo, 400)), f"read offsets {[r.offset for r in got][:5]}.."
    assert [r.value for r in got] == vals[lo:], "values read differ from those produced"


# ---------------------------------------------------------------- 3. consumer below the log start
@scenario("a consumer at an offset below the log start (committed 0, assigned at 0) resets per "
          "auto.offset.reset", timeout=60)
def s_behind_start():
    t, group = unique("lc-behind"), unique("lc-grp")
    create_topic(t, {"segment.bytes": "4096"})
    produce_ok(t, [{"value": pad("b", i, 40)} for i in range(300)])
    c = consumer(group=group)
    c.commit(offsets=[TopicPartition(t, 0, 0)], asynchronous=False)
    c.close()
    low = delete_records(t, 120)
    assert low == 120, f"delete_records(120) low watermark {low}"
    # Committed offset 0 is below the log start: reset to earliest = the new log start.
    c = consumer("earliest", group=group)
    try:
        (com,) = c.committed([TopicPartition(t, 0)], timeout=10)
        assert com.offset == 0, f"committed offset {com.offset}, want 0"
        c.assign([TopicPartition(t, 0)])
        kind, m = first_message(c)
        assert kind == "msg", f"committed 0, auto.offset.reset=earliest: error {m}"
        assert (m.offset(), m.value()) == (120, pad("b", 120, 40)), \
            f"committed 0: first record at offset {m.offset()} ({m.value()[:8]!r}), want 120 (the log start)"
    finally:
        c.close()
    # Assigned (seek) at 0 with earliest.
    c = consumer("earliest")
    try:
        c.assign([TopicPartition(t, 0, 0)])
        kind, m = first_message(c)
        assert kind == "msg" and m.offset() == 120, \
            f"assigned at 0, earliest: {kind} {m.offset() if kind == 'msg' else m}, want offset 120"
    finally:
        c.close()
    # auto.offset.reset=error: the OFFSET_OUT_OF_RANGE reaches the application.
    c = consumer("error")
    try:
        c.assign([TopicPartition(t, 0, 0)])
        kind, m = first_message(c)
        assert kind == "error", f"assigned at 0, reset=error: got offset {m.offset()} instead of an error"
        assert m.code() in (KafkaError._AUTO_OFFSET_RESET, KafkaError.OFFSET_OUT_OF_RANGE) \
            and "range" in m.str().lower(), f"assigned at 0, reset=error: {m.name()} {m.str()!r}"
    finally:
        c.close()
    # latest: jumps to the end; the next record produced is the first one received.
    c = consumer("latest", **{"enable.partition.eof": True})
    try:
        c.assign([TopicPartition(t, 0, 0)])
        eof = []
        ok = wc.wait_until(lambda: eof.append(c.poll(0.1)) or (eof[-1] is not None and eof[-1].error() is not None),
                           15, step=0)
        e = eof[-1].error() if ok else None
        assert e is not None and e.code() == KafkaError._PARTITION_EOF and eof[-1].offset() == 300, \
            f"assigned at 0, latest: want end of partition at 300, got {e} offset {eof[-1].offset() if ok else None}"
        produce_ok(t, [{"value": b"after"}])
        kind, m = first_message(c)
        assert kind == "msg" and (m.offset(), m.value()) == (300, b"after"), f"latest: then got {kind} {m}"
    finally:
        c.close()
    wc.ctx["mid_segment_start"] = (t, (120, 301))  # the log start DeleteRecords set: checked after the restart


# ---------------------------------------------------------------- 4. DeleteRecords
@scenario("delete_records moves the log start (and deletes whole segments below it); beyond the high "
          "watermark is OFFSET_OUT_OF_RANGE; OFFSET_END empties the partition", timeout=60)
def s_delete_records():
    t = unique("lc-delrec")
    create_topic(t, {"segment.bytes": "2048"})
    produce_ok(t, [{"value": pad("d", i, 60)} for i in range(500)], **{"batch.size": 1500})
    below = [b for b in seg_files(t) if b < 137]
    assert len(below) >= 3, f"segment.bytes=2048: want >= 3 segments starting below 137, have bases {below}"
    low = delete_records(t, 137)
    assert low == 137, f"delete_records(137) reported low watermark {low}"
    assert offsets(t) == (137, 500), f"ListOffsets (earliest, latest) {offsets(t)}, want (137, 500)"
    got = read(t, 137, 500)
    assert got and (got[0].offset, got[0].value) == (137, pad("d", 137, 60)) and len(got) == 363, \
        f"reading from 137: {len(got)} records, first {got[:1]}"
    c = consumer("error")
    try:
        wm = c.get_watermark_offsets(TopicPartition(t, 0), timeout=10, cached=False)
        assert wm == (137, 500), f"get_watermark_offsets after delete_records(137): {wm}, want (137, 500)"
        c.assign([TopicPartition(t, 0, 136)])
        kind, m = first_message(c)
        assert kind == "error" and m.code() in (KafkaError._AUTO_OFFSET_RESET, KafkaError.OFFSET_OUT_OF_RANGE), \
            f"fetch at 136 (below the log start 137): {kind} {m.offset() if kind == 'msg' else m}"
    finally:
        c.close()
    state = {}
    ok = wc.wait_until(lambda: state.update(b=sorted(all_seg_bases(t))) or
                       len([b for b in state["b"] if b <= 137]) == 1, 10)
    assert ok, f"segment files at bases {state['b']}: whole segments below 137 not deleted"
    low = delete_records(t, 50)
    assert low == 137, f"delete_records(50) below the log start: low watermark {low}, want 137 (unchanged)"
    err = error_of(delete_records, t, 600)
    assert err is not None and err.code() == KafkaError.OFFSET_OUT_OF_RANGE, \
        f"delete_records(600) beyond the high watermark 500: {err.name() + ' ' + err.str() if err else 'accepted'}"
    assert offsets(t) == (137, 500), f"after the refused delete_records: {offsets(t)}"
    low = delete_records(t, OFFSET_END)
    assert low == 500, f"delete_records(OFFSET_END) low watermark {low}, want 500"
    assert offsets(t) == (500, 500), f"after delete_records(OFFSET_END): {offsets(t)}"
    got = read(t, OFFSET_BEGINNING, 500)
    assert got == [], f"read {len(got)} records from an emptied partition, first {got[0]}"
    ok = wc.wait_until(lambda: state.update(b=sorted(all_seg_bases(t))) or
                       len([b for b in state["b"] if b < 500]) <= 1, 10)
    assert ok, f"after delete_records(OFFSET_END) segment files at bases {state['b']} (want at most the active one)"
    produce_ok(t, [{"value": b"again"}])
    got = read(t, OFFSET_BEGINNING, 501)
    assert [(r.offset, r.value) for r in got] == [(500, b"again")], f"after a new record: {got}"


# ---------------------------------------------------------------- 5. describe / alter round trip
@scenario("describe_configs / incremental_alter_configs / alter_configs round trip; invalid changes "
          "refused atomically; validate_only; values survive a restart", timeout=75)
def s_config_roundtrip():
    t = unique("lc-cfg")
    create_topic(t)
    SET, DEL, APP, SUB = (AlterConfigOpType.SET, AlterConfigOpType.DELETE, AlterConfigOpType.APPEND,
                          AlterConfigOpType.SUBTRACT)
    RM, CP = "retention.ms", "cleanup.policy"
    got = cfg(t, RM, CP)
    assert got == {RM: ("604800000", "DEFAULT_CONFIG"), CP: ("delete", "DEFAULT_CONFIG")}, f"defaults {got}"
    inc_alter(t, [(SET, RM, "3600000"), (APP, CP, "compact")])
    got = cfg(t, RM, CP)
    assert got[RM] == ("3600000", "DYNAMIC_TOPIC_CONFIG"), f"after SET: {got[RM]}"
    assert sorted(got[CP][0].split(",")) == ["compact", "delete"] and got[CP][1] == "DYNAMIC_TOPIC_CONFIG", \
        f"after APPEND compact: {got[CP]}"
    inc_alter(t, [(APP, CP, "compact")])  # already in the list: Kafka does not add it twice
    got = cfg(t, CP)
    assert sorted(got[CP][0].split(",")) == ["compact", "delete"], f"after APPEND compact again: {got[CP]}"
    inc_alter(t, [(DEL, RM, None), (SUB, CP, "delete")])
    got = cfg(t, RM, CP)
    assert got == {RM: ("604800000", "DEFAULT_CONFIG"), CP: ("compact", "DYNAMIC_TOPIC_CONFIG")}, \
        f"after DELETE retention.ms, SUBTRACT delete: {got}"
    check_invalid_config(error_of(inc_alter, t, [(APP, RM, "5")]), "APPEND to retention.ms (not a list)", RM)
    missing = unique("lc-missing")
    for what, fn in (("describe_configs", lambda: describe(missing)),
                     ("incremental_alter_configs", lambda: inc_alter(missing, [(SET, RM, "1000")]))):
        err = error_of(fn)
        assert err is not None and err.code() == KafkaError.UNKNOWN_TOPIC_OR_PART, \
            f"{what} of a topic that does not exist: {err.name() + ' ' + err.str() if err else 'succeeded'}"
    # Refused changes, each naming what is wrong; a refused request changes nothing.
    check_invalid_config(error_of(inc_alter, t, [(SET, "no.such.config", "1")]), "SET no.such.config",
                         "no.such.config")
    check_invalid_config(error_of(inc_alter, t, [(SET, RM, "abc")]), "SET retention.ms=abc", "abc")
    check_invalid_config(error_of(inc_alter, t, [(SET, CP, "bogus")]), "SET cleanup.policy=bogus", "bogus")
    check_invalid_config(error_of(inc_alter, t, [(SET, "segment.bytes", "13")]), "SET segment.bytes=13", "13")
    check_invalid_config(error_of(inc_alter, t, [(SET, RM, "1000"), (SET, "max.message.bytes", "lots")]),
                         "SET retention.ms=1000 + max.message.bytes=lots", "lots")
    got = cfg(t, RM, CP, "max.message.bytes")
    assert got[RM] == ("604800000", "DEFAULT_CONFIG") and got[CP] == ("compact", "DYNAMIC_TOPIC_CONFIG"), \
        f"a refused request changed configs: {got}"
    # validate_only: a valid change is accepted and not applied; an invalid one is refused.
    inc_alter(t, [(SET, RM, "123456")], validate_only=True)
    check_invalid_config(error_of(inc_alter, t, [(SET, RM, "abc")], validate_only=True),
                         "validate_only SET retention.ms=abc", "abc")
    got = cfg(t, RM)
    assert got[RM] == ("604800000", "DEFAULT_CONFIG"), f"validate_only changed retention.ms: {got[RM]}"
    # AlterConfigs (non-incremental) replaces the whole set of overrides.
    with warnings.catch_warnings():  # deprecated in the client, still a Kafka API
        warnings.simplefilter("ignore", DeprecationWarning)
        fs = admin().alter_configs([ConfigResource(ResourceType.TOPIC, t, set_config={RM: "7200000"})],
                                   request_timeout=15)
    next(iter(fs.values())).result(timeout=20)
    got = cfg(t, RM, CP)
    assert got == {RM: ("7200000", "DYNAMIC_TOPIC_CONFIG"), CP: ("delete", "DEFAULT_CONFIG")}, \
        f"after alter_configs {{retention.ms: 7200000}} (cleanup.policy override must be gone): {got}"
    inc_alter(t, [(SET, "segment.ms", "86400000"), (APP, CP, "compact"), (SET, "min.cleanable.dirty.ratio", "0.25")])
    want = cfg(t, RM, CP, "segment.ms", "min.cleanable.dirty.ratio")
    assert {n: (sorted(v.split(",")), src) for n, (v, src) in want.items()} == {
        n: ([v], "DYNAMIC_TOPIC_CONFIG") for n, v in ((RM, "7200000"), ("segment.ms", "86400000"),
                                                       ("min.cleanable.dirty.ratio", "0.25"))} | {
        CP: (["compact", "delete"], "DYNAMIC_TOPIC_CONFIG")}, f"before the restart: {want}"
    B["broker"].stop()
    B["broker"].start()
    state = {}

    def described():
        try:
            state["got"] = cfg(t, RM, CP, "segment.ms", "min.cleanable.dirty.ratio")
            return True
        except KafkaException as e:
            state["got"] = e
            return False
    ok = wc.wait_until(described, 30, step=0.3)
    assert ok and state["got"] == want, f"after a restart: {state['got']}, before it {want}"
    if "mid_segment_start" in wc.ctx:  # the log start DeleteRecords set is kept too
        t, want = wc.ctx["mid_segment_start"]
        assert offsets(t) == want, f"after a restart, (earliest, latest) of {t}: {offsets(t)}, before it {want}"


# ---------------------------------------------------------------- 6. live changes take effect
@scenario("live config changes take effect without a restart (max.message.bytes, message.timestamp.before.max.ms, "
          "message.timestamp.type, retention.ms)", timeout=60)
def s_live_change():
    t = unique("lc-live")
    create_topic(t)
    SET = AlterConfigOpType.SET
    pc = {"compression.type": "none", "linger.ms": 0}
    inc_alter(t, [(SET, "max.message.bytes", "2000")])
    (small,), (big,) = produce(t, [{"value": b"s" * 100}], **pc), produce(t, [{"value": b"b" * 4000}], **pc)
    assert small[0] is None, f"100-byte record with max.message.bytes=2000: {small[0]}"
    assert big[0] is not None and big[0].code() == KafkaError.MSG_SIZE_TOO_LARGE, \
        f"4000-byte record with max.message.bytes=2000: {big[0] or 'accepted at offset %d' % big[1]}"
    inc_alter(t, [(SET, "max.message.bytes", "100000")])
    (big,) = produce(t, [{"value": b"b" * 4000}], **pc)
    assert big[0] is None, f"4000-byte record after raising max.message.bytes to 100000: {big[0]}"
    got = read(t, big[1], big[1] + 1)
    assert [(r.offset, len(r.value)) for r in got] == [(big[1], 4000)], f"read back {got[:1]}"
    # message.timestamp.before.max.ms, then message.timestamp.type=LogAppendTime.
    old_ts = int(time.time() * 1000) - 86400000
    (r,) = produce(t, [{"value": b"old", "timestamp": old_ts}], **pc)
    assert r[0] is None, f"a record a day old with the default message.timestamp.before.max.ms: {r[0]}"
    inc_alter(t, [(SET, "message.timestamp.before.max.ms", "3600000")])
    (r,) = produce(t, [{"value": b"old", "timestamp": old_ts}], **pc)
    assert r[0] is not None and r[0].code() == KafkaError.INVALID_TIMESTAMP, \
        f"a record a day old with message.timestamp.before.max.ms=3600000: {r[0] or 'accepted'}"
    inc_alter(t, [(SET, "message.timestamp.type", "LogAppendTime")])
    before = int(time.time() * 1000)
    (r,) = produce(t, [{"value": b"lat", "timestamp": old_ts}], **pc)
    assert r[0] is None, f"LogAppendTime (the broker's clock; the record's is not checked): {r[0]}"
    c = consumer()
    try:
        c.assign([TopicPartition(t, 0, r[1])])
        kind, m = first_message(c)
        after = int(time.time() * 1000)
        assert kind == "msg" and m.value() == b"lat" and m.timestamp()[0] == TIMESTAMP_LOG_APPEND_TIME and \
            before - 1000 <= m.timestamp()[1] <= after + 1000, \
            f"LogAppendTime record read back: {kind} {m.timestamp() if kind == 'msg' else m}, want " \
            f"({TIMESTAMP_LOG_APPEND_TIME}, {before}..{after})"
        assert r[2] == m.timestamp()[1], f"LogAppendTime: produce response time {r[2]}, record {m.timestamp()}"
    finally:
        c.close()
    # retention.ms lowered on a topic with data and closed segments.
    t = unique("lc-liveret")
    create_topic(t, {"segment.ms": "300"})
    produce_ok(t, [{"value": pad("l", i, 50)} for i in range(500)])
    state = {}
    ok = wc.wait_until(lambda: state.update(b=seg_files(t)) or len(state["b"]) >= 2, 10)
    assert ok, f"segment.ms=300: no second segment after 10s: {state['b']}"
    assert offsets(t) == (0, 500), f"default retention (7 days): {offsets(t)}, want (0, 500)"
    inc_alter(t, [(SET, "retention.ms", "1000")])
    ok = wc.wait_until(lambda: state.update(o=offsets(t), b=sorted(all_seg_bases(t))) or
                       (state["o"] == (500, 500) and all(b >= 500 for b in state["b"])), 20, step=0.2)
    assert ok, f"retention.ms lowered to 1000: (earliest, latest) {state['o']}, segment files {state['b']}"


# ---------------------------------------------------------------- 7. compaction per codec
KEYS = [b"k\x00\xff" + bytes([i]) + b"\xfe" for i in range(10)]
DEAD = KEYS[8:]  # tombstoned
END_KEY = b"end\x00"


def compaction_scenario(codec):
    def run():
        t = unique(f"lc-compact-{codec}")
        create_topic(t, {"cleanup.policy": "compact", "segment.ms": "300", "min.cleanable.dirty.ratio": "0.01",
                         "delete.retention.ms": "1000"})
        msgs = []
        for i in range(10000):
            m = {"key": KEYS[i % 10], "value": b"%d:%d:" % (i % 10, i) + b"payload-" * 8}
            if i % 3 == 0:
                m["headers"] = [("h", b"\x00\xff" + str(i).encode()), ("null", None), ("h\u00e9", "\u00e9".encode())]
            msgs.append(m)
        msgs += [{"key": k, "value": None} for k in DEAD] + [{"key": END_KEY, "value": b"the end"}]
        # Five rounds, each left to roll into a segment of its own (so the cleaner merges the
        # newest values of later segments into what it cleaned before), in batches of <= 500.
        pconf = {"compression.type": codec, "linger.ms": 100, "batch.num.messages": 500, "batch.size": 1000000,
                 "max.in.flight.requests.per.connection": 1}
        offs, state = [], {}
        for r in range(5):
            offs += produce_ok(t, msgs[r * 2000:(r + 1) * 2000 if r < 4 else None], with_ts=True, **pconf)
            ok = wc.wait_until(lambda: state.update(b=seg_files(t)) or max(state["b"] or [0]) == len(offs), 5)
            assert ok, f"round {r}: no new segment at {len(offs)} 5s on (segment.ms=300): {sorted(state['b'])}"
        hw = len(msgs)
        assert [o for o, _ in offs] == list(range(hw)), f"produced offsets {offs[:3]}..{offs[-3:]}"
        latest = {}  # key -> (offset, value, headers, timestamp) of the record written last
        for (o, ts), m in zip(offs, msgs):
            latest[m["key"]] = (o, m["value"], m.get("headers"), ts)
        live = {k: v for k, v in latest.items() if k not in DEAD}

        def compacted(no_tombstones):
            state["recs"] = read(t, OFFSET_BEGINNING, hw)
            recs = state["recs"]
            return len(recs) <= 3 * len(latest) and \
                (not no_tombstones or not any(r.key in DEAD for r in recs))
        ok = wc.wait_until(lambda: compacted(False), 20, step=0.3)
        assert ok, f"{len(state['recs'])} of {hw} records left 20s on (want <= {3 * len(latest)})"
        ok = wc.wait_until(lambda: compacted(True), 10, step=0.3)
        recs = state["recs"]
        dead = [(r.offset, r.key, r.value) for r in recs if r.key in DEAD]
        assert ok, f"tombstoned keys still present 10s after compaction (delete.retention.ms=1000): {dead[:4]}"
        offsets_read = [r.offset for r in recs]
        assert all(a < b for a, b in zip(offsets_read, offsets_read[1:])), f"offsets not increasing: {offsets_read}"
        last = {}
        for r in recs:
            last[r.key] = (r.offset, r.value, r.headers, r.timestamp)
        assert set(last) == set(live), f"keys read {sorted(last)}, want {sorted(live)}"
        bad = {k: (last[k], live[k]) for k in live if last[k] != live[k]}
        assert not bad, f"latest record per key differs (read, written): {list(bad.items())[:2]}"
        assert offsets(t) == (0, hw), f"(earliest, latest) after compaction {offsets(t)}, want (0, {hw})"
        want = {0} if codec == "none" else {0, {"gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}[codec]}
        ok = wc.wait_until(lambda: state.update(c=batch_codecs(t)) or (state["c"] is not None and state["c"] <= want
                                                                        and max(want) in state["c"]), 3)
        assert ok, f"codecs of the batches on disk {state['c']}, want {codec} ({max(want)}) among {sorted(want)}"
    return run


# ---------------------------------------------------------------- 8. CreateTopics with configs
ALL_CONFIGS = {
    "retention.ms": "86400000", "retention.bytes": "1073741824", "segment.bytes": "1048576",
    "segment.ms": "3600000", "cleanup.policy": "compact,delete", "min.compaction.lag.ms": "1000",
    "max.compaction.lag.ms": "86400000", "delete.retention.ms": "3600000", "min.cleanable.dirty.ratio": "0.3",
    "max.message.bytes": "500000", "message.timestamp.type": "LogAppendTime",
    "message.timestamp.before.max.ms": "86400000", "message.timestamp.after.max.ms": "3600000",
    "flush.messages": "10000", "flush.ms": "5000", "segment.index.bytes": "1048576",
    "index.interval.bytes": "8192", "min.insync.replicas": "1",
}


@scenario("create_topics with an invalid config is refused with INVALID_CONFIG; valid configs show in "
          "describe_configs", timeout=45)
def s_create_configs():
    bad = [({"retention.ms": "abc"}, "abc"), ({"no.such.config": "1"}, "no.such.config"),
           ({"cleanup.policy": "bogus"}, "bogus"), ({"segment.bytes": "13"}, "13"),
           ({"min.cleanable.dirty.ratio": "2"}, "2"), ({"message.timestamp.type": "Sometime"}, "Sometime")]
    names = []
    for config, mention in bad:
        t = unique("lc-badcfg")
        names.append(t)
        check_invalid_config(create_error(t, config), f"create_topics {config}", mention)
    t = unique("lc-badcfg")
    names.append(t)
    check_invalid_config(create_error(t, {"retention.ms": "abc"}, validate_only=True),
                         "create_topics validate_only retention.ms=abc", "abc")
    t = unique("lc-valonly")
    names.append(t)
    err = create_error(t, dict(ALL_CONFIGS), validate_only=True)
    assert err is None, f"validate_only create with valid configs: {err}"
    listed = admin().list_topics(timeout=10).topics
    created = [n for n in names if n in listed]
    assert not created, f"refused or validate_only topics exist: {created}"
    t = unique("lc-allcfg")
    create_topic(t, dict(ALL_CONFIGS))
    got = cfg(t, *ALL_CONFIGS)
    wrong = {}
    for n, v in ALL_CONFIGS.items():
        gv, gs = got[n]
        same = (float(gv) == float(v)) if n == "min.cleanable.dirty.ratio" else \
            (sorted(gv.split(",")) == sorted(v.split(","))) if n == "cleanup.policy" else gv == v
        if not same or gs != "DYNAMIC_TOPIC_CONFIG":
            wrong[n] = got[n]
    assert not wrong, f"describe_configs after create_topics with {len(ALL_CONFIGS)} configs, wrong: {wrong}"


for _codec in ("none", "gzip", "snappy", "lz4", "zstd"):
    scenario(f"compaction ({_codec}): latest value and headers per key kept at their offsets, tombstones "
             f"removed, high watermark unchanged", timeout=75)(compaction_scenario(_codec))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weir", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    data = os.path.join(args.work, "lifecycle-data")
    shutil.rmtree(data, ignore_errors=True)
    broker = wc.Broker(args.weir, data, os.path.join(args.work, "lifecycle-broker.log"),
                       extra_args=["--override", "log.retention.check.interval.ms=200",
                                   "--override", "log.cleaner.backoff.ms=200"])
    if shutil.which("setpriv"):  # the broker gets SIGTERM if this program dies (e.g. the watchdog's exit)
        broker.cmd = ["setpriv", "--pdeathsig", "TERM"] + broker.cmd
    B.update(broker=broker, data=data)
    broker.start()
    rc = 1
    try:
        rc = suite.run_all()
    finally:
        broker.stop()
    wc.exit_now(rc)  # os._exit: skips librdkafka handle teardown at interpreter exit


if __name__ == "__main__":
    main()
