#!/usr/bin/env python3
"""Compatibility scenarios for the stock aiokafka 0.14 client against weir.

Prints exactly one line per scenario: `PASS aiokafka: NAME` or `FAIL aiokafka: NAME -- detail`.
Needs BOOTSTRAP=host:port in the environment. COMPAT_DEBUG=1 logs aiokafka's DEBUG output to
stderr. Consumers have no group_id and use assign() + seek_to_beginning(): no group APIs.
"""
import asyncio
import os
import random
import sys
import time

import aiokafka
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.codec import has_gzip, has_lz4, has_snappy, has_zstd

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import weir_compat as wc  # noqa: E402

BOOT = wc.bootstrap()
wc.setup_logging()
suite = wc.Suite("aiokafka", scenario_timeout=60, total_budget=180, hang_grace=10)
scenario = suite.scenario
topic_name = wc.topic_namer("ak")


# ---------------------------------------------------------------- client helpers
COMMON = dict(bootstrap_servers=BOOT, request_timeout_ms=10000)


def topic_errors(resp):
    """(name, error_code) pairs of a CreateTopics/DeleteTopics response of any version."""
    obj = resp.to_object()
    for key in ("topic_errors", "topic_error_codes", "responses"):
        if key in obj:
            return [(t.get("topic", t.get("name")), t["error_code"]) for t in obj[key]]
    raise AssertionError(f"unexpected response shape {obj}")


async def with_admin(fn):
    return await wc.started(AIOKafkaAdminClient(**COMMON), fn)


async def create_topic(name, partitions=1):
    """CreateTopics; on failure leaves the topic to auto-creation by the producer's Metadata
    request (the admin scenario tests CreateTopics itself)."""
    async def go(a):
        errs = topic_errors(await a.create_topics([NewTopic(name, partitions, 1)], timeout_ms=10000))
        if errs != [(name, 0)]:
            raise RuntimeError(f"create_topics answered {errs}")
    try:
        await with_admin(go)
    except Exception as e:  # noqa: BLE001
        print(f"note: create_topics({name}) failed ({e!r}); relying on auto-creation",
              file=sys.stderr)


async def read_back(topic, count, partitions=(0,), timeout=15.0):
    """assign() + seek_to_beginning(), then getmany() until `count` records arrived."""
    c = AIOKafkaConsumer(group_id=None, enable_auto_commit=False, fetch_max_wait_ms=100,
                         **COMMON)
    await c.start()
    try:
        tps = [TopicPartition(topic, p) for p in partitions]
        c.assign(tps)
        await c.seek_to_beginning(*tps)
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < count and time.monotonic() < deadline:
            for _tp, recs in (await c.getmany(timeout_ms=500)).items():
                got.extend(recs)
        assert len(got) >= count, f"consumed {len(got)} of {count} records within {timeout}s"
        return got
    finally:
        await c.stop()


def messages(seed, n, big=True):
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        m = {"value": f"{i}:".encode() + rnd.randbytes(rnd.choice([1, 10, 100, 1000, 5000]))}
        if i % 4:
            m["key"] = f"k{i % 11}".encode()
        if i % 3 == 0:
            m["headers"] = [("seq", str(i).encode()), ("bin", rnd.randbytes(8))]
        out.append(m)
    if big:
        out.append({"value": rnd.randbytes(100_000), "key": b"big-random"})
        out.append({"value": b"compressible " * 7000, "key": b"big-text",
                    "headers": [("kind", b"text")]})
    return out


def check_in_order(msgs, metas, recs):
    assert len(recs) == len(msgs), f"consumed {len(recs)} records, produced {len(msgs)}"
    offs = [md.offset for md in metas]
    assert offs == list(range(len(msgs))), f"send offsets {offs[:8]}... not 0..{len(msgs) - 1}"
    for i, (m, r) in enumerate(zip(msgs, recs)):
        assert r.offset == i, f"record {i} has offset {r.offset}"
        assert r.value == m["value"], f"record {i}: value differs (len {len(r.value or b'')} vs {len(m['value'])})"
        assert r.key == m.get("key"), f"record {i}: key {r.key!r} != {m.get('key')!r}"
        got_h = [(k, bytes(v)) for k, v in (r.headers or [])]
        assert got_h == list(m.get("headers") or []), f"record {i}: headers {got_h} != {m.get('headers')}"


async def produce(topic, msgs, batched, **pconf):
    p = AIOKafkaProducer(**COMMON, **pconf)
    await p.start()
    try:
        if batched:
            futs = [await p.send(topic, m["value"], key=m.get("key"), headers=m.get("headers"))
                    for m in msgs]
            return list(await asyncio.gather(*futs))
        return [await p.send_and_wait(topic, m["value"], key=m.get("key"),
                                      headers=m.get("headers")) for m in msgs]
    finally:
        await p.stop()


# ---------------------------------------------------------------- scenarios
@scenario("admin create_topics / list_topics / delete_topics")
async def s_admin():
    name = topic_name("admin")

    async def go(a):
        errs = topic_errors(await a.create_topics([NewTopic(name, 3, 1)], timeout_ms=10000))
        assert errs == [(name, 0)], f"create_topics answered {errs}"
        deadline = time.monotonic() + 10
        while True:
            ts = [t for t in await a.describe_topics([name]) if t["topic"] == name]
            if ts and ts[0]["error_code"] == 0 and len(ts[0]["partitions"]) == 3:
                break
            assert time.monotonic() < deadline, f"not 3 partitions in metadata after 10s: {ts}"
            await asyncio.sleep(0.1)
        assert name in await a.list_topics(), "created topic missing from list_topics()"
        errs = topic_errors(await a.create_topics([NewTopic(name, 3, 1)], timeout_ms=10000))
        assert errs == [(name, 36)], f"re-create answered {errs}, want TOPIC_ALREADY_EXISTS (36)"
        errs = topic_errors(await a.delete_topics([name], timeout_ms=10000))
        assert errs == [(name, 0)], f"delete_topics answered {errs}"
        deadline = time.monotonic() + 10
        while name in await a.list_topics():
            assert time.monotonic() < deadline, "topic still listed 10s after delete_topics"
            await asyncio.sleep(0.1)
    await with_admin(go)


@scenario("send_and_wait then assign + seek_to_beginning reads everything in order")
async def s_basic():
    topic = topic_name("basic")
    await create_topic(topic)
    msgs = messages("basic", 60)
    metas = await produce(topic, msgs, batched=False)
    check_in_order(msgs, metas, await read_back(topic, len(msgs)))


@scenario("batched send of 1000 records (linger_ms=20) read back in order")
async def s_batched():
    topic = topic_name("batch")
    await create_topic(topic)
    msgs = [{"value": f"record-{i}".encode(), "key": f"k{i % 5}".encode()} for i in range(1000)]
    metas = await produce(topic, msgs, batched=True, linger_ms=20)
    check_in_order(msgs, metas, await read_back(topic, len(msgs)))


@scenario("idempotent producer (enable_idempotence=True) read back in order")
async def s_idem():
    topic = topic_name("idem")
    await create_topic(topic)
    msgs = messages("idem", 50, big=False)
    metas = await produce(topic, msgs, batched=True, enable_idempotence=True)
    check_in_order(msgs, metas, await read_back(topic, len(msgs)))


@scenario("keyed records on 3 partitions keep per-key order")
async def s_keys():
    topic = topic_name("keys")
    await create_topic(topic, 3)
    msgs = [{"key": f"key-{k}".encode(), "value": f"key-{k}:{s}".encode()}
            for s in range(20) for k in range(30)]
    metas = await produce(topic, msgs, batched=True, linger_ms=5)
    recs = await read_back(topic, len(msgs), partitions=(0, 1, 2))
    assert len(recs) == len(msgs), f"consumed {len(recs)} records, produced {len(msgs)}"
    seqs, where = {}, {}
    for r in recs:
        k, s = r.value.decode().split(":")
        seqs.setdefault(k, []).append(int(s))
        where.setdefault(k, set()).add(r.partition)
    for k in seqs:
        assert len(where[k]) == 1, f"{k} spread over {where[k]}"
        assert seqs[k] == list(range(20)), f"{k} order {seqs[k]}"
    assert len(set().union(*where.values())) == 3, f"keys used partitions {set().union(*where.values())}"
    assert {(m.partition, m.offset) for m in metas} == {(r.partition, r.offset) for r in recs}, \
        "send (partition, offset) pairs differ from consumed ones"


CODECS = {"gzip": has_gzip, "lz4": has_lz4, "snappy": has_snappy, "zstd": has_zstd}


def codec_scenario(codec):
    async def run():
        assert CODECS[codec](), f"aiokafka reports no {codec} support (compression extra not installed)"
        topic = topic_name(f"comp-{codec}")
        await create_topic(topic)
        msgs = messages(codec, 80)
        metas = await produce(topic, msgs, batched=True, compression_type=codec, linger_ms=10)
        last = [{"value": b"last", "key": b"send_and_wait"}]
        metas += await produce(topic, last, batched=False, compression_type=codec)
        msgs += last
        check_in_order(msgs, metas, await read_back(topic, len(msgs)))
    return run


for _codec in CODECS:
    scenario(f"compression_type={_codec} send + read back")(codec_scenario(_codec))


if __name__ == "__main__":
    print(f"aiokafka {aiokafka.__version__}", file=sys.stderr)
    wc.exit_now(asyncio.run(suite.run_all_async()))
