#!/usr/bin/env python3
"""Compatibility scenarios for the stock kafka-python 3.0 client against weir.

Prints exactly one line per scenario: `PASS kafka-python: NAME` or
`FAIL kafka-python: NAME -- detail`. Needs BOOTSTRAP=host:port in the environment.
COMPAT_DEBUG=1 logs kafka-python's DEBUG output (requests/responses) to stderr.

Consumer groups are not used: consumers have no group_id and assign() partitions.
"""
import os
import random
import sys
import time

import kafka
import kafka.errors as Errors
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import weir_compat as wc  # noqa: E402

BOOT = wc.bootstrap()
wc.setup_logging()
suite = wc.Suite("kafka-python", scenario_timeout=60, total_budget=180)
scenario, ctx, need = suite.scenario, wc.ctx, wc.need
topic_name = wc.topic_namer("kp")


# ---------------------------------------------------------------- client helpers
COMMON = dict(bootstrap_servers=BOOT, request_timeout_ms=10000, bootstrap_timeout_ms=10000)
admin = wc.lazy(lambda: KafkaAdminClient(**COMMON))


def wait_topic(name, partitions, timeout=10.0):
    """Polls describe_topics (Metadata) until every partition of `name` has a leader."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        ts = [t for t in admin().describe_topics([name]) if t.get("name") == name]
        last = ts[0] if ts else None
        if last and last.get("error_code", 0) == 0 and len(last.get("partitions") or []) == partitions \
                and all(p.get("error_code", 0) == 0 and p.get("leader_id", -1) >= 0
                        for p in last["partitions"]):
            return last
        time.sleep(0.1)
    raise AssertionError(f"topic {name} not ready with {partitions} partitions after {timeout}s: {last}")


def create_topic(name, partitions=1):
    """CreateTopics via the admin client; on failure leaves the topic to auto-creation
    (the admin scenarios test CreateTopics itself)."""
    try:
        admin().create_topics({name: {"num_partitions": partitions, "replication_factor": 1}},
                              timeout_ms=10000)
        wait_topic(name, partitions)
    except Exception as e:  # noqa: BLE001
        print(f"note: create_topics({name}) failed ({e!r}); relying on auto-creation",
              file=sys.stderr)


def new_producer(**extra):
    # Default settings (idempotent, acks=all); only the timeouts are bounded.
    return KafkaProducer(request_timeout_ms=10000, delivery_timeout_ms=20000,
                         bootstrap_servers=BOOT, bootstrap_timeout_ms=10000, **extra)


def send_all(producer, topic, msgs, timeout=20.0):
    futs = [producer.send(topic, value=m["value"], key=m.get("key"), headers=m.get("headers"),
                          partition=m.get("partition")) for m in msgs]
    producer.flush(timeout=timeout)
    return [f.get(timeout=1) for f in futs]


def new_consumer():
    return KafkaConsumer(group_id=None, enable_auto_commit=False, fetch_max_wait_ms=100,
                         **COMMON)


def read_back(tps, count, timeout=20.0):
    """assign() + seek_to_beginning(), then poll until `count` records arrived."""
    c = new_consumer()
    try:
        c.assign(tps)
        c.seek_to_beginning(*tps)
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < count and time.monotonic() < deadline:
            for _tp, recs in c.poll(timeout_ms=500).items():
                got.extend(recs)
        assert len(got) >= count, f"consumed {len(got)} of {count} records within {timeout}s"
        return got
    finally:
        c.close(timeout_ms=5000)


def messages(seed, n):
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        m = {"value": f"{i}:".encode() + rnd.randbytes(rnd.choice([1, 10, 100, 1000, 20000]))}
        if i % 4:
            m["key"] = f"k{i % 13}".encode()
        if i % 3 == 0:
            m["headers"] = [("seq", str(i).encode()), ("bin", rnd.randbytes(8))]
        out.append(m)
    return out


def check_records(msgs, metas, recs):
    by_off = {r.offset: r for r in recs}
    assert len(by_off) == len(recs), "an offset was consumed twice"
    for i, (m, md) in enumerate(zip(msgs, metas)):
        r = by_off.get(md.offset)
        assert r is not None, f"message {i} (offset {md.offset}) not consumed"
        assert r.value == m["value"], f"message {i} @{md.offset}: value differs"
        assert r.key == m.get("key"), f"message {i} @{md.offset}: key {r.key!r} != {m.get('key')!r}"
        assert list(r.headers or []) == list(m.get("headers") or []), \
            f"message {i} @{md.offset}: headers {r.headers!r} != {m.get('headers')!r}"
    assert [r.offset for r in recs] == sorted(r.offset for r in recs), "records out of order"


# ---------------------------------------------------------------- admin scenarios
@scenario("admin create_topics (3 partitions)")
def s_create():
    name = topic_name("admin")
    res = admin().create_topics({name: {"num_partitions": 3, "replication_factor": 1}},
                                timeout_ms=10000)
    errs = [(t.get("name"), t.get("error_code")) for t in res["topics"]]
    assert errs == [(name, 0)], f"create_topics answered {errs}"
    t = wait_topic(name, 3)
    assert sorted(p["partition_index"] for p in t["partitions"]) == [0, 1, 2], t
    ctx["admin_topic"] = name


@scenario("admin list_topics shows the topic")
def s_list():
    name = need("admin_topic", "admin create_topics (3 partitions)")
    names = admin().list_topics()
    assert name in names, f"{name} not in list_topics(): {names}"


@scenario("admin create existing topic gives TopicAlreadyExistsError")
def s_exists():
    name = need("admin_topic", "admin create_topics (3 partitions)")
    try:
        res = admin().create_topics({name: {"num_partitions": 3, "replication_factor": 1}},
                                    timeout_ms=10000)
    except Errors.TopicAlreadyExistsError:
        return
    raise AssertionError(f"no TopicAlreadyExistsError; create_topics answered {res}")


@scenario("admin delete_topics then list_topics no longer shows it")
def s_delete():
    name = need("admin_topic", "admin create_topics (3 partitions)")
    res = admin().delete_topics([name], timeout_ms=10000)
    errs = [(t.get("name"), t.get("error_code")) for t in res["topics"]]
    assert errs == [(name, 0)], f"delete_topics answered {errs}"
    deadline = time.monotonic() + 10
    while name in admin().list_topics():
        assert time.monotonic() < deadline, "topic still listed 10s after delete_topics"
        time.sleep(0.1)


# ---------------------------------------------------------------- produce / consume
@scenario("broker version inferred from ApiVersions as Kafka 4.1 (Produce v13, Fetch v18)")
def s_infers_4_1():
    # kafka-python 3.0 infers the broker's release from the version ranges it advertises
    # (kafka/protocol/broker_version_data.py): Produce v13 means 4.1, ListOffsets v10 4.0.
    p = new_producer()
    try:
        assert p.config["api_version"] == (4, 1), \
            f"broker inferred as {p.config['api_version']}, not (4, 1)"
    finally:
        p.close(timeout=5)


@scenario("default producer (idempotent, ApiVersions v4) produces 100 records")
def s_produce_default():
    topic = topic_name("idem")
    create_topic(topic)
    msgs = messages("idem", 100)
    p = new_producer()
    try:
        assert p.config["enable_idempotence"], \
            f"idempotence got disabled (broker api_version seen as {p.config['api_version']})"
        metas = send_all(p, topic, msgs)
        tm = p._transaction_manager  # set because idempotence is on
        pid = tm.producer_id_and_epoch.producer_id
        assert pid >= 0, f"no producer id from InitProducerId (got {pid})"
    finally:
        p.close(timeout=5)
    offs = [(md.partition, md.offset) for md in metas]
    assert offs == [(0, i) for i in range(100)], f"record metadata {offs[:5]}... not (0, 0..99)"
    ctx["idem"] = (topic, msgs, metas)


@scenario("consumer assign + seek_to_beginning reads back all records in order")
def s_read_back():
    topic, msgs, metas = need("idem", "default producer (idempotent, ApiVersions v4) produces 100 records")
    recs = read_back([TopicPartition(topic, 0)], len(msgs))
    assert len(recs) == len(msgs), f"consumed {len(recs)} records, produced {len(msgs)}"
    check_records(msgs, metas, recs)


@scenario("ListOffsets: beginning_offsets / end_offsets")
def s_offsets():
    topic, msgs, _ = need("idem", "default producer (idempotent, ApiVersions v4) produces 100 records")
    c = new_consumer()
    try:
        tp = TopicPartition(topic, 0)
        b = c.beginning_offsets([tp], timeout_ms=10000)
        e = c.end_offsets([tp], timeout_ms=10000)
        assert (b.get(tp), e.get(tp)) == (0, len(msgs)), f"beginning {b}, end {e}, want 0 / {len(msgs)}"
    finally:
        c.close(timeout_ms=5000)


@scenario("keyed records on 3 partitions keep per-key order")
def s_keys():
    topic = topic_name("keys")
    create_topic(topic, 3)
    p = new_producer()
    try:
        parts = p.partitions_for(topic)
        assert parts == {0, 1, 2}, f"producer sees partitions {parts}, want {{0, 1, 2}}"
        msgs = [{"key": f"key-{k}".encode(), "value": f"key-{k}:{s}".encode()}
                for s in range(20) for k in range(30)]
        metas = send_all(p, topic, msgs)
    finally:
        p.close(timeout=5)
    recs = read_back([TopicPartition(topic, i) for i in range(3)], len(msgs))
    assert len(recs) == len(msgs), f"consumed {len(recs)} records, produced {len(msgs)}"
    seqs, where = {}, {}
    for r in recs:
        k, s = r.value.decode().split(":")
        assert r.key.decode() == k, f"key {r.key!r} with value {r.value!r}"
        seqs.setdefault(k, []).append(int(s))
        where.setdefault(k, set()).add(r.partition)
    for k in seqs:
        assert len(where[k]) == 1, f"{k} spread over {where[k]}"
        assert seqs[k] == list(range(20)), f"{k} order {seqs[k]}"
    assert {(m.partition, m.offset) for m in metas} == {(r.partition, r.offset) for r in recs}, \
        "delivered (partition, offset) pairs differ from consumed ones"


@scenario("gzip-compressed produce and read back")
def s_gzip():
    topic = topic_name("gzip")
    create_topic(topic)
    msgs = messages("gzip", 60) + [{"value": b"compressible " * 5000, "key": b"text"}]
    p = new_producer(compression_type="gzip")
    try:
        metas = send_all(p, topic, msgs)
    finally:
        p.close(timeout=5)
    assert [md.offset for md in metas] == list(range(len(msgs))), "offsets not 0..n-1"
    recs = read_back([TopicPartition(topic, 0)], len(msgs))
    assert len(recs) == len(msgs), f"consumed {len(recs)} records, produced {len(msgs)}"
    check_records(msgs, metas, recs)


if __name__ == "__main__":
    print(f"kafka-python {kafka.__version__}", file=sys.stderr)
    wc.exit_now(suite.run_all())
