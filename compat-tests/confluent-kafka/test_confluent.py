#!/usr/bin/env python3
"""Compatibility scenarios for the stock confluent-kafka (librdkafka) Python client against weir.

Prints exactly one line per scenario: `PASS confluent-kafka: NAME` or
`FAIL confluent-kafka: NAME -- detail`. Needs BOOTSTRAP=host:port in the environment.
Optional: COMPAT_DEBUG=protocol,broker,... turns on librdkafka debug logging (to stderr).

Consumer groups are not used: every consumer assigns partitions with explicit offsets.
"""
import logging
import os
import random
import sys
import time

from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_END,
    TIMESTAMP_CREATE_TIME,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import (AdminClient, ConfigResource, ConfigSource, NewTopic,
                                  ResourceType)

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import weir_compat as wc  # noqa: E402
from weir_compat import RUN_ID  # noqa: E402

BOOT = wc.bootstrap()
DEBUG = os.environ.get("COMPAT_DEBUG", "")
suite = wc.Suite("confluent-kafka", scenario_timeout=60, total_budget=180)
scenario, ctx, need = suite.scenario, wc.ctx, wc.need
topic_name = wc.topic_namer("ck")


# ---------------------------------------------------------------- client helpers
def conf(**extra):
    c = {"bootstrap.servers": BOOT, "socket.timeout.ms": 10000,
         "broker.address.family": "v4"}
    if DEBUG:
        c["debug"] = DEBUG
    c.update(extra)
    return c


admin = wc.lazy(lambda: AdminClient(conf()))


def wait_for_topic(name, partitions=None, timeout=10.0):
    """Polls Metadata until `name` is listed without error (and with `partitions` partitions)."""
    deadline = time.monotonic() + timeout
    last = "never listed"
    while time.monotonic() < deadline:
        md = admin().list_topics(timeout=5)
        t = md.topics.get(name)
        if t is not None and t.error is None and t.partitions:
            if partitions is None or len(t.partitions) == partitions:
                return t
            last = f"listed with {len(t.partitions)} partitions"
        elif t is not None:
            last = f"listed with error {t.error}"
        time.sleep(0.1)
    raise AssertionError(f"topic {name} not ready in metadata after {timeout}s ({last})")


def create_topic(name, partitions=1, config=None):
    """Creates a topic via CreateTopics; if that fails, leaves it to auto-creation on produce
    (the admin scenarios test CreateTopics itself)."""
    try:
        fs = admin().create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})],
            operation_timeout=8, request_timeout=10)
        fs[name].result(timeout=12)
        wait_for_topic(name, partitions)
    except Exception as e:  # noqa: BLE001
        print(f"note: create_topics({name}) failed ({e}); relying on auto-creation",
              file=sys.stderr)


def produce_all(topic, msgs, timeout=15.0, keep=None, **pconf):
    """Produces msgs (dicts with value/key/headers/partition/timestamp) and returns the
    delivery reports, in produce order, as (err, partition, offset). The producer is appended
    to `keep` (a list) when given, so the caller can go on polling it."""
    cfg = conf(**{"linger.ms": 5, "message.timeout.ms": 10000})
    cfg.update(pconf)
    p = Producer(cfg)
    reports = [None] * len(msgs)

    def cb_for(i):
        def cb(err, msg):
            reports[i] = (err, msg.partition(), msg.offset())
        return cb

    for i, m in enumerate(msgs):
        kw = {k: m[k] for k in ("key", "headers", "partition", "timestamp") if k in m}
        while True:
            try:
                p.produce(topic, m["value"], on_delivery=cb_for(i), **kw)
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    left = p.flush(timeout)
    assert left == 0, f"{left} of {len(msgs)} messages still undelivered after {timeout}s"
    errs = [r[0] for r in reports if r is None or r[0] is not None]
    assert not errs, f"{len(errs)} delivery errors, first: {errs[0]}"
    if keep is not None:
        keep.append(p)
    return reports


def new_consumer(**extra):
    # A group.id is required by librdkafka, but no group API is used: assign() with explicit
    # offsets, no commits. auto.offset.reset=error makes OFFSET_OUT_OF_RANGE visible.
    return Consumer(conf(**{"group.id": f"compat-{RUN_ID}", "enable.auto.commit": False,
                            "enable.auto.offset.store": False,
                            "auto.offset.reset": "error", "fetch.wait.max.ms": 100,
                            **extra}))


def consume(assignments, count, timeout=15.0):
    """Assigns [(topic, partition, offset)] and polls until `count` messages arrived."""
    c = new_consumer()
    try:
        c.assign([TopicPartition(t, p, o) for t, p, o in assignments])
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < count and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise AssertionError(f"consumer error after {len(got)} messages: {m.error()}")
            got.append(m)
        assert len(got) >= count, f"consumed {len(got)} of {count} messages within {timeout}s"
        return got
    finally:
        c.close()


# ---------------------------------------------------------------- admin scenarios
@scenario("admin create_topics (3 partitions)")
def s_admin_create():
    name = topic_name("admin")
    fs = admin().create_topics([NewTopic(name, num_partitions=3, replication_factor=1)],
                               operation_timeout=10, request_timeout=15)
    assert set(fs) == {name}, f"futures for {list(fs)}"
    res = fs[name].result(timeout=20)
    assert res is None, f"create_topics result {res!r}"
    ctx["admin_topic"] = name


@scenario("admin list_topics shows the topic with 3 partitions")
def s_admin_list():
    name = need("admin_topic", "admin create_topics (3 partitions)")
    t = wait_for_topic(name, partitions=3)
    md = admin().list_topics(timeout=10)
    assert md.brokers, "metadata lists no brokers"
    broker_ids = set(md.brokers)
    host, port = BOOT.rsplit(":", 1)
    assert any(b.host == host and b.port == int(port) for b in md.brokers.values()), \
        f"no broker at {BOOT}: {[(b.id, b.host, b.port) for b in md.brokers.values()]}"
    assert sorted(t.partitions) == [0, 1, 2], f"partition ids {sorted(t.partitions)}"
    for p in t.partitions.values():
        assert p.error is None, f"partition {p.id} error {p.error}"
        assert p.leader in broker_ids, f"partition {p.id} leader {p.leader} not in {broker_ids}"
        assert p.replicas == [p.leader] and p.isrs == [p.leader], \
            f"partition {p.id} replicas {p.replicas} isrs {p.isrs}"
    # A topic-scoped Metadata request answers the same.
    md1 = admin().list_topics(topic=name, timeout=10)
    assert name in md1.topics and len(md1.topics[name].partitions) == 3, \
        f"topic-scoped metadata: {md1.topics.get(name)}"


@scenario("admin create existing topic gives TOPIC_ALREADY_EXISTS")
def s_admin_exists():
    name = need("admin_topic", "admin create_topics (3 partitions)")
    fs = admin().create_topics([NewTopic(name, num_partitions=3, replication_factor=1)],
                               operation_timeout=10, request_timeout=15)
    try:
        fs[name].result(timeout=20)
    except KafkaException as e:
        err = e.args[0]
        assert err.code() == KafkaError.TOPIC_ALREADY_EXISTS, \
            f"expected TOPIC_ALREADY_EXISTS, got {err.name()} ({err.code()}): {err.str()}"
        return
    raise AssertionError("second create_topics of the same name succeeded")


@scenario("admin delete_topics then list_topics no longer shows it")
def s_admin_delete():
    name = need("admin_topic", "admin create_topics (3 partitions)")
    fs = admin().delete_topics([name], operation_timeout=10, request_timeout=15)
    res = fs[name].result(timeout=20)
    assert res is None, f"delete_topics result {res!r}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if name not in admin().list_topics(timeout=5).topics:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("topic still listed 10s after delete_topics")
    # Deleting it again must fail with UNKNOWN_TOPIC_OR_PART.
    fs = admin().delete_topics([name], operation_timeout=10, request_timeout=15)
    try:
        fs[name].result(timeout=20)
    except KafkaException as e:
        assert e.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART, \
            f"second delete: expected UNKNOWN_TOPIC_OR_PART, got {e.args[0].name()}"
    else:
        raise AssertionError("second delete_topics of the same topic succeeded")


def describe_topic_configs(name):
    fs = admin().describe_configs([ConfigResource(ResourceType.TOPIC, name)],
                                  request_timeout=15)
    (res, f), = fs.items()
    return f.result(timeout=20)


@scenario("describe_configs topic defaults (retention.ms etc.)")
def s_describe_defaults():
    name = topic_name("cfgdef")
    create_topic(name)
    wait_for_topic(name)
    entries = describe_topic_configs(name)
    want = {"retention.ms": "604800000", "cleanup.policy": "delete"}
    for k, v in want.items():
        assert k in entries, f"{k} missing; got keys {sorted(entries)[:40]}"
        assert entries[k].value == v, f"{k}={entries[k].value!r}, Kafka's default is {v!r}"
    for k in ("retention.bytes", "segment.bytes", "max.message.bytes",
              "min.insync.replicas", "message.timestamp.type"):
        assert k in entries, f"{k} missing; got keys {sorted(entries)[:40]}"
    src = entries["retention.ms"].source
    assert src != ConfigSource.DYNAMIC_TOPIC_CONFIG.value and \
        src != ConfigSource.DYNAMIC_TOPIC_CONFIG, f"retention.ms default reported with source {src}"


@scenario("describe_configs topic override set at create")
def s_describe_override():
    name = topic_name("cfgset")
    fs = admin().create_topics(
        [NewTopic(name, num_partitions=1, replication_factor=1,
                  config={"retention.ms": "3600000"})],
        operation_timeout=10, request_timeout=15)
    fs[name].result(timeout=20)
    wait_for_topic(name)
    e = describe_topic_configs(name)
    assert "retention.ms" in e, f"retention.ms missing; got keys {sorted(e)[:40]}"
    assert e["retention.ms"].value == "3600000", f"retention.ms={e['retention.ms'].value!r}"
    src = e["retention.ms"].source
    assert src in (ConfigSource.DYNAMIC_TOPIC_CONFIG, ConfigSource.DYNAMIC_TOPIC_CONFIG.value), \
        f"retention.ms override reported with source {src}, Kafka says DYNAMIC_TOPIC_CONFIG"
    assert e.get("cleanup.policy") is not None and e["cleanup.policy"].value == "delete", \
        f"cleanup.policy={getattr(e.get('cleanup.policy'), 'value', None)!r}"


# ---------------------------------------------------------------- produce / consume
def payload_set(seed):
    rnd = random.Random(seed)
    msgs = []
    sizes = [1, 7, 100, 1000, 4096, 10000, 50000, 100000, 102400]
    sizes += [rnd.randint(1, 300) for _ in range(40)]
    for i, size in enumerate(sizes):
        m = {"value": rnd.randbytes(size)}
        if i % 5 != 0:
            m["key"] = rnd.randbytes(rnd.randint(1, 40))
        if i % 3 == 0:
            m["headers"] = [("seq", str(i).encode()), ("bin", rnd.randbytes(16)),
                            ("dup", b"a"), ("dup", b"b")]
        elif i % 3 == 1:
            m["headers"] = [("only", rnd.randbytes(rnd.randint(1, 64)))]
        msgs.append(m)
    # Compressible payloads, so the codecs really shrink something.
    msgs.append({"value": (b"weir-compat-" * 9000)[:100000], "key": b"text",
                 "headers": [("kind", b"compressible")]})
    msgs.append({"value": bytes(5000), "key": b"zeros"})
    msgs.append({"value": b"x", "key": b"hdr-edge",
                 "headers": [("empty", b""), ("null", None)]})
    return msgs


def check_roundtrip(topic, msgs, reports, got):
    by_off = {}
    for m in got:
        assert m.offset() not in by_off, f"offset {m.offset()} consumed twice"
        by_off[m.offset()] = m
    for i, (msg, (_, part, off)) in enumerate(zip(msgs, reports)):
        assert off >= 0, f"message {i}: delivery report offset {off}"
        m = by_off.get(off)
        assert m is not None, f"message {i} (offset {off}) not consumed"
        assert m.value() == msg["value"], \
            f"message {i} @{off}: value differs (len {len(m.value() or b'')} vs {len(msg['value'])})"
        assert m.key() == msg.get("key"), f"message {i} @{off}: key {m.key()!r} != {msg.get('key')!r}"
        want_h = msg.get("headers") or None
        got_h = m.headers() or None
        assert got_h == want_h, f"message {i} @{off}: headers {got_h!r} != {want_h!r}"
    assert sorted(by_off) == sorted(r[2] for r in reports), \
        f"consumed offsets {sorted(by_off)[:5]}... != delivered offsets"


def compression_scenario(codec):
    def run():
        topic = topic_name(f"comp-{codec}")
        create_topic(topic)
        msgs = payload_set(codec)
        reports = produce_all(topic, msgs, **{"compression.type": codec})
        offs = [r[2] for r in reports]
        assert offs == list(range(len(msgs))), f"delivered offsets {offs[:10]}... not 0..{len(msgs) - 1}"
        got = consume([(topic, 0, 0)], len(msgs))
        check_roundtrip(topic, msgs, reports, got)
    return run


for _codec in ("none", "gzip", "snappy", "lz4", "zstd"):
    scenario(f"produce/consume compression.type={_codec} (binary values, keys, headers)")(
        compression_scenario(_codec))


def recompression_scenario(stored, sent):
    def run():
        # A topic-level compression.type other than "producer": the broker recompresses
        # what the producer sent (librdkafka's codec) to the topic's codec; the consumer
        # decodes the broker's encoding (snappy in the xerial framing, as Kafka writes it).
        topic = topic_name(f"recomp-{stored}")
        create_topic(topic, config={"compression.type": stored})
        wait_for_topic(topic)
        e = describe_topic_configs(topic)
        assert e["compression.type"].value == stored, \
            f"compression.type={e['compression.type'].value!r}"
        assert e["compression.type"].source in (ConfigSource.DYNAMIC_TOPIC_CONFIG,
                                                ConfigSource.DYNAMIC_TOPIC_CONFIG.value)
        msgs = payload_set(f"recomp-{stored}")
        reports = produce_all(topic, msgs, **{"compression.type": sent})
        assert [r[2] for r in reports] == list(range(len(msgs))), "delivered offsets"
        got = consume([(topic, 0, 0)], len(msgs))
        check_roundtrip(topic, msgs, reports, got)
    return run


for _stored, _sent in (("gzip", "lz4"), ("snappy", "zstd"), ("lz4", "none"),
                       ("zstd", "gzip"), ("uncompressed", "snappy")):
    scenario(f"topic compression.type={_stored}: {_sent} batches recompressed, read back")(
        recompression_scenario(_stored, _sent))


@scenario("create_topics with compression.type=brotli gives INVALID_CONFIG")
def s_bad_compression_type():
    name = topic_name("badcomp")
    fs = admin().create_topics(
        [NewTopic(name, num_partitions=1, replication_factor=1,
                  config={"compression.type": "brotli"})],
        operation_timeout=10, request_timeout=15)
    try:
        fs[name].result(timeout=20)
        raise AssertionError("created a topic with compression.type=brotli")
    except KafkaException as e:
        err = e.args[0]
        assert err.code() == KafkaError.INVALID_CONFIG, f"got {err}"


@scenario("keyed messages on 3 partitions keep per-key order")
def s_key_order():
    topic = topic_name("keyorder")
    create_topic(topic, partitions=3)
    t = wait_for_topic(topic)
    assert len(t.partitions) == 3, f"topic has {len(t.partitions)} partitions, want 3"
    nkeys, nseq = 60, 25
    msgs = [{"key": f"key-{k}".encode(), "value": f"key-{k}:{s}".encode()}
            for s in range(nseq) for k in range(nkeys)]
    reports = produce_all(topic, msgs)
    got = consume([(topic, p, OFFSET_BEGINNING) for p in range(3)], len(msgs))
    assert len(got) == len(msgs), f"consumed {len(got)} != produced {len(msgs)}"
    seqs, parts = {}, {}
    for m in got:
        k, s = m.value().decode().split(":")
        assert m.key().decode() == k, f"key {m.key()!r} with value {m.value()!r}"
        seqs.setdefault(k, []).append(int(s))
        parts.setdefault(k, set()).add(m.partition())
    for k in seqs:
        assert len(parts[k]) == 1, f"{k} spread over partitions {parts[k]}"
        assert seqs[k] == list(range(nseq)), f"{k} sequence {seqs[k]}"
    used = set().union(*parts.values())
    assert len(used) >= 2, f"all keys landed on partitions {used}"
    delivered = {(r[1], r[2]) for r in reports}
    consumed = {(m.partition(), m.offset()) for m in got}
    assert delivered == consumed, "delivered (partition, offset) pairs differ from consumed ones"


def acks_scenario(acks):
    def run():
        topic = topic_name(f"acks{acks}")
        create_topic(topic)
        msgs = [{"value": f"acks={acks} #{i}".encode(), "key": str(i % 7).encode()}
                for i in range(200)]
        extra, keep, cap = {}, [], _Capture()
        if acks == "0":
            # Kafka never answers an acks=0 Produce; librdkafka's protocol log shows any answer.
            log = logging.getLogger(f"rdkafka-acks0-{RUN_ID}")
            log.propagate = False
            log.setLevel(logging.DEBUG)
            log.addHandler(cap)
            extra = {"debug": "protocol,broker", "logger": log}
        reports = produce_all(topic, msgs, acks=acks, keep=keep, **extra)
        if acks != "0":
            offs = [r[2] for r in reports]
            assert offs == list(range(200)), f"delivered offsets {offs[:10]}... not 0..199"
        got = consume([(topic, 0, 0)], 200)
        assert [m.value() for m in got[:200]] == [m["value"] for m in msgs], "values differ"
        assert [m.offset() for m in got[:200]] == list(range(200)), "offsets not 0..199"
        if acks == "0":
            keep[0].poll(0.2)  # serve the log queue: any late answer has arrived by now
            sent = [x for x in cap.lines if "Sent ProduceRequest" in x]
            answered = [x for x in cap.lines if "ProduceResponse" in x or "unknown CorrId" in x]
            assert sent, "no 'Sent ProduceRequest' in librdkafka's protocol log (log capture broken?)"
            assert not answered, f"the broker answered an acks=0 Produce: {answered[0]}"
    return run


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


for _acks in ("0", "1", "all"):
    scenario(f"produce with acks={_acks}")(acks_scenario(_acks))


@scenario("ListOffsets: get_watermark_offsets (empty and 37 messages)")
def s_watermarks():
    topic = topic_name("wm")
    create_topic(topic)
    empty = topic_name("wm-empty")
    create_topic(empty)
    produce_all(topic, [{"value": f"m{i}".encode()} for i in range(37)])
    c = new_consumer()
    try:
        lo_hi = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10, cached=False)
        assert lo_hi == (0, 37), f"watermarks {lo_hi}, want (0, 37)"
        lo_hi = c.get_watermark_offsets(TopicPartition(empty, 0), timeout=10, cached=False)
        assert lo_hi == (0, 0), f"empty topic watermarks {lo_hi}, want (0, 0)"
    finally:
        c.close()


@scenario("CreateTime timestamps set by the producer are returned")
def s_timestamps():
    topic = topic_name("ts")
    create_topic(topic)
    base = int(time.time() * 1000) - 600_000
    msgs = [{"value": f"t{i}".encode(), "timestamp": base + i * 1000} for i in range(10)]
    produce_all(topic, msgs)
    got = consume([(topic, 0, 0)], 10)
    ts = [m.timestamp() for m in got]
    assert ts == [(TIMESTAMP_CREATE_TIME, base + i * 1000) for i in range(10)], \
        f"timestamps {ts[:3]}..., want (CreateTime={TIMESTAMP_CREATE_TIME}, {base}+i*1000)"
    ctx["ts_topic"] = (topic, base)


@scenario("ListOffsets: offsets_for_times")
def s_offsets_for_times():
    topic, base = need("ts_topic", "CreateTime timestamps set by the producer are returned")
    c = new_consumer()
    try:
        cases = [(base - 5000, 0), (base, 0), (base + 3500, 4), (base + 9000, 9),
                 (base + 20000, OFFSET_END)]
        got = []
        for q, _ in cases:  # one request per query: a partition may appear once per request
            (r,) = c.offsets_for_times([TopicPartition(topic, 0, q)], timeout=10)
            got.append((r.offset, r.error))
        want = [(o, None) for _, o in cases]
        assert got == want, f"offsets_for_times {got}, want {want} (-1 = no such offset)"
    finally:
        c.close()


if __name__ == "__main__":
    wc.exit_now(suite.run_all())  # os._exit: skips librdkafka handle teardown at interpreter exit
