#!/usr/bin/env python3
"""Consumer-group scenarios for the stock aiokafka 0.14 client against weir.

Prints exactly one line per scenario: `PASS aiokafka: NAME` or `FAIL aiokafka: NAME -- detail`.
Needs BOOTSTRAP=host:port in the environment. COMPAT_DEBUG=1 logs aiokafka's DEBUG output to
stderr. Classic group protocol (FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
OffsetCommit, OffsetFetch) plus the admin client's OffsetFetch / DescribeGroups / ListGroups.
Every wait is a poll against a deadline. Note the broker's group.initial.rebalance.delay.ms
(3 s): the first join of an empty group is held that long.
"""
import asyncio
import os
import sys
import time

import aiokafka
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import weir_compat as wc  # noqa: E402
from weir_compat import RUN_ID, fmt_offsets as fmt  # noqa: E402

BOOT = wc.bootstrap()
wc.setup_logging()
suite = wc.Suite("aiokafka", scenario_timeout=45, total_budget=150, hang_grace=10)
scenario, ctx, need = suite.scenario, wc.ctx, wc.need
wait_until = wc.wait_until_async


# ---------------------------------------------------------------- client helpers
COMMON = dict(bootstrap_servers=BOOT, request_timeout_ms=10000)


async def with_admin(fn):
    return await wc.started(AIOKafkaAdminClient(**COMMON), fn)


async def create_topic(name, partitions):
    async def go(a):
        resp = (await a.create_topics([NewTopic(name, partitions, 1)], timeout_ms=10000)).to_object()
        key = next(k for k in ("topic_errors", "topic_error_codes", "responses", "topics") if k in resp)
        errs = [(t.get("topic", t.get("name")), t["error_code"]) for t in resp[key]]
        assert errs == [(name, 0)], f"create_topics answered {errs}"
        deadline = time.monotonic() + 10
        while True:
            ts = [t for t in await a.describe_topics([name]) if t["topic"] == name]
            if ts and ts[0]["error_code"] == 0 and len(ts[0]["partitions"]) == partitions:
                return
            assert time.monotonic() < deadline, f"{name}: not {partitions} partitions after 10s: {ts}"
            await asyncio.sleep(0.1)
    await with_admin(go)


async def produce(topic, values, partitions):
    """Round-robins `values` over the partitions explicitly; returns {TopicPartition: count}."""
    p = AIOKafkaProducer(linger_ms=5, **COMMON)
    await p.start()
    try:
        futs = [await p.send(topic, v.encode(), partition=i % partitions) for i, v in enumerate(values)]
        metas = await asyncio.gather(*futs)
    finally:
        await p.stop()
    return wc.tally(TopicPartition(topic, md.partition) for md in metas)


async def end_offsets(topic, partitions):
    c = AIOKafkaConsumer(group_id=None, **COMMON)
    await c.start()
    try:
        return await c.end_offsets([TopicPartition(topic, i) for i in range(partitions)])
    finally:
        await c.stop()


async def group_consumer(group, topic, **extra):
    conf = dict(wc.GROUP_CONF, enable_auto_commit=False)
    conf.update(extra)
    c = AIOKafkaConsumer(topic, group_id=group, **COMMON, **conf)
    await c.start()
    return c


async def read_until(consumer, count, timeout):
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        for _tp, recs in (await consumer.getmany(timeout_ms=300)).items():
            got.extend(recs)
    return got


async def committed_via_admin(group):
    offs = await with_admin(lambda a: a.list_consumer_group_offsets(group))
    return {tp: om.offset for tp, om in offs.items()}


# ---------------------------------------------------------------- scenarios
T1, G1, N1 = f"akg-main-{RUN_ID}", f"akg-group-{RUN_ID}", 300


@scenario("group consumer reads every message of a 3-partition topic exactly once, commit()")
async def s_consume_all():
    await create_topic(T1, 3)
    values = [f"first-{i}" for i in range(N1)]
    counts = await produce(T1, values, 3)
    assert sorted(counts.values()) == [N1 // 3] * 3, f"produced per partition {counts}"
    c = await group_consumer(G1, T1)
    ctx["c1"] = c
    got = await read_until(c, N1, 30)
    if len(got) >= N1:  # duplicates past the expected count show up in one more short poll
        got += await read_until(c, 1, 0.5)
    vals = [r.value.decode() for r in got]
    assert len(vals) == len(set(vals)), f"{len(vals) - len(set(vals))} duplicates among {len(vals)}"
    assert sorted(vals) == sorted(values), f"consumed {len(vals)} of {N1} (distinct {len(set(vals))})"
    assert c.assignment() == {TopicPartition(T1, i) for i in range(3)}, f"assignment {c.assignment()}"
    await c.commit()
    got_c = {tp: await c.committed(tp) for tp in counts}
    assert got_c == counts, f"committed() {fmt(got_c)}, want {fmt(counts)}"
    ctx["counts1"] = counts


@scenario("admin list_consumer_group_offsets: committed offsets equal the end offsets")
async def s_offsets():
    counts = need("counts1", "group consumer reads every message")
    ends = await end_offsets(T1, 3)
    assert ends == counts, f"end offsets {fmt(ends)} differ from produced counts {fmt(counts)}"
    got = await committed_via_admin(G1)
    assert got == ends, f"committed {fmt(got)}, end offsets {fmt(ends)}"


@scenario("admin describe_consumer_groups: Stable, protocol consumer, one member; list_consumer_groups has it")
async def s_describe():
    need("c1", "group consumer reads every message")
    resps = await with_admin(lambda a: a.describe_consumer_groups([G1]))
    groups = [g for r in resps for g in r.to_object()["groups"] if g["group"] == G1]
    assert len(groups) == 1, f"{len(groups)} entries for {G1}: {resps}"
    g = groups[0]
    assert g["error_code"] == 0, f"error_code {g['error_code']}"
    assert (g["state"], g["protocol_type"]) == ("Stable", "consumer"), \
        f"state {g['state']!r}, protocol_type {g['protocol_type']!r}"
    assert len(g["members"]) == 1, f"{len(g['members'])} members"
    ls = await with_admin(lambda a: a.list_consumer_groups())
    assert any(x[0] == G1 for x in ls), f"{G1} not in list_consumer_groups(): {ls[:20]}"


@scenario("after the first consumer stops, a second one in the group resumes from the committed offsets")
async def s_resume():
    counts = need("counts1", "group consumer reads every message")
    c1 = ctx.pop("c1")
    await c1.stop()
    values = [f"second-{i}" for i in range(60)]
    await produce(T1, values, 3)
    c = await group_consumer(G1, T1)
    try:
        got = await read_until(c, len(values), 30)
        wc.check_resumed(got, values, counts)
    finally:
        await c.stop()


T2, G2 = f"akg-split-{RUN_ID}", f"akg-split-group-{RUN_ID}"


class Member:
    """A group consumer reading in its own task; auto-commit every 200 ms (and on rebalance)."""

    def __init__(self, consumer):
        self.consumer = consumer
        self.values = []
        self.parts = set()
        self.error = None
        self.task = asyncio.ensure_future(self._run())

    async def _run(self):
        try:
            while True:
                recs = await self.consumer.getmany(timeout_ms=200)
                self.parts = {tp.partition for tp in self.consumer.assignment()}
                for _tp, rs in recs.items():
                    self.values.extend(r.value.decode() for r in rs)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001
            self.error = f"{type(e).__name__}: {e}"

    async def stop(self):
        self.task.cancel()
        try:
            await self.task
        except asyncio.CancelledError:
            pass
        await self.consumer.stop()  # commits the consumed offsets, then LeaveGroup


@scenario("two members split 4 partitions without overlap and read each message once", timeout=60)
async def s_split():
    await create_topic(T2, 4)
    values = [f"split-{i}" for i in range(400)]
    await produce(T2, values, 4)
    conf = dict(enable_auto_commit=True, auto_commit_interval_ms=200)
    a = Member(await group_consumer(G2, T2, **conf))
    b = Member(await group_consumer(G2, T2, **conf))
    ctx["split"] = (a, b)

    def split():
        return a.parts and b.parts and not a.parts & b.parts and a.parts | b.parts == {0, 1, 2, 3}
    ok = await wait_until(split, 40)
    assert ok, f"assignments {sorted(a.parts)} / {sorted(b.parts)} (errors {a.error} / {b.error})"
    ok = await wait_until(lambda: len(a.values) + len(b.values) >= len(values), 20)
    both = a.values + b.values
    assert ok, f"consumed {len(both)} of {len(values)}"
    # aiokafka commits before it gives partitions up in a rebalance: no duplicates expected.
    assert len(both) == len(set(both)), \
        f"{len(both) - len(set(both))} messages consumed twice ({len(a.values)} + {len(b.values)})"
    assert sorted(both) == sorted(values), f"consumed {len(set(both))} distinct of {len(values)}"


@scenario("auto-commit: after both members stop, committed offsets equal the end offsets")
async def s_split_committed():
    a, b = need("split", "two members split 4 partitions")
    ctx.pop("split")
    await a.stop()
    await b.stop()
    assert not (a.error or b.error), f"consumer errors: {a.error} / {b.error}"
    ends = await end_offsets(T2, 4)
    got = await committed_via_admin(G2)
    assert got == ends, f"committed {fmt(got)}, end offsets {fmt(ends)}"


async def main():
    rc = await suite.run_all_async()
    c = ctx.pop("c1", None)
    if c:
        await asyncio.wait_for(c.stop(), 10)
    for m in ctx.pop("split", ()):
        await asyncio.wait_for(m.stop(), 10)
    return rc


if __name__ == "__main__":
    print(f"aiokafka {aiokafka.__version__}", file=sys.stderr)
    wc.exit_now(asyncio.run(main()))
