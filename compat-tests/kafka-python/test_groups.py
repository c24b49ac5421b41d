#!/usr/bin/env python3
"""Consumer-group scenarios for the stock kafka-python 3.0 client against weir.

Prints exactly one line per scenario: `PASS kafka-python: NAME` or
`FAIL kafka-python: NAME -- detail`. Needs BOOTSTRAP=host:port in the environment.
COMPAT_DEBUG=1 logs kafka-python's DEBUG output (requests/responses) to stderr.

Classic group protocol: FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
OffsetCommit, OffsetFetch; admin: DescribeGroups, ListGroups, OffsetFetch (list_group_offsets).
kafka-python 3.0 names the admin calls describe_groups / list_groups / list_group_offsets
(2.x: describe_consumer_groups / list_consumer_groups / list_consumer_group_offsets).
Every wait is a poll against a deadline. Note the broker's group.initial.rebalance.delay.ms
(3 s): the first join of an empty group is held that long.
"""
import os
import sys
import threading
import time

import kafka
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import weir_compat as wc  # noqa: E402
from weir_compat import RUN_ID, wait_until  # noqa: E402

BOOT = wc.bootstrap()
wc.setup_logging()
suite = wc.Suite("kafka-python", scenario_timeout=45, total_budget=150)
scenario, ctx, need = suite.scenario, wc.ctx, wc.need


# ---------------------------------------------------------------- client helpers
COMMON = dict(bootstrap_servers=BOOT, request_timeout_ms=10000, bootstrap_timeout_ms=10000)
admin = wc.lazy(lambda: KafkaAdminClient(**COMMON))


def create_topic(name, partitions):
    res = admin().create_topics({name: {"num_partitions": partitions, "replication_factor": 1}},
                                timeout_ms=10000)
    errs = [(t.get("name"), t.get("error_code")) for t in res["topics"]]
    assert errs == [(name, 0)], f"create_topics answered {errs}"
    deadline = time.monotonic() + 10
    while True:
        ts = [t for t in admin().describe_topics([name]) if t.get("name") == name]
        if ts and ts[0].get("error_code", 0) == 0 and len(ts[0].get("partitions") or []) == partitions \
                and all(p.get("leader_id", -1) >= 0 for p in ts[0]["partitions"]):
            return
        assert time.monotonic() < deadline, f"topic {name} not ready after 10s: {ts}"
        time.sleep(0.1)


def produce(topic, values, partitions):
    """Round-robins `values` over the partitions explicitly; returns {TopicPartition: count}."""
    p = KafkaProducer(delivery_timeout_ms=20000, **COMMON)
    try:
        futs = [p.send(topic, value=v.encode(), partition=i % partitions) for i, v in enumerate(values)]
        p.flush(timeout=20)
        metas = [f.get(timeout=1) for f in futs]
    finally:
        p.close(timeout=5)
    return wc.tally(TopicPartition(topic, md.partition) for md in metas)


def end_offsets(topic, partitions):
    c = KafkaConsumer(group_id=None, **COMMON)
    try:
        tps = [TopicPartition(topic, i) for i in range(partitions)]
        return c.end_offsets(tps, timeout_ms=10000)
    finally:
        c.close(timeout_ms=5000)


def group_consumer(group, topic, **extra):
    conf = dict(wc.GROUP_CONF, enable_auto_commit=False)
    conf.update(extra)
    return KafkaConsumer(topic, group_id=group, **COMMON, **conf)


def poll_until(consumer, count, timeout):
    """Polls until `count` records arrived (or the deadline); returns the records."""
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        for _tp, recs in consumer.poll(timeout_ms=300).items():
            got.extend(recs)
    return got


def committed_offsets(group):
    res = admin().list_group_offsets({group: None})
    assert group in res, f"list_group_offsets has no entry for {group}: {res}"
    return {tp: om.offset for tp, om in res[group].items()}


def describe(group):
    res = admin().describe_groups([group])
    assert group in res, f"describe_groups has no entry for {group}: {list(res)}"
    d = res[group]
    assert d.get("error") is None, f"describe_groups error: {d.get('error')}"
    return d


def member_partitions(member, topic):
    """Partitions of `topic` in a described member's (decoded) assignment."""
    a = member.get("member_assignment")
    assert isinstance(a, dict), f"member_assignment not decoded: {a!r}"
    parts = set()
    for t in a.get("assigned_partitions") or a.get("topics") or []:
        name = t.get("topic")
        if name == topic:
            parts.update(t.get("partitions") or [])
    return parts


# ---------------------------------------------------------------- scenarios
T1, G1, N1 = f"kpg-main-{RUN_ID}", f"kpg-group-{RUN_ID}", 300


@scenario("group consumer reads every message of a 3-partition topic exactly once, commit()")
def s_consume_all():
    create_topic(T1, 3)
    values = [f"first-{i}" for i in range(N1)]
    counts = produce(T1, values, 3)
    assert sorted(counts.values()) == [N1 // 3] * 3, f"produced per partition {counts}"
    c = group_consumer(G1, T1)
    ctx["c1"] = c
    got = poll_until(c, N1, 30)
    # Anything delivered past the expected count (duplicates) shows up in a short extra poll.
    got += poll_until(c, 1, 0.5) if len(got) >= N1 else []
    vals = [r.value.decode() for r in got]
    assert len(vals) == len(set(vals)), f"{len(vals) - len(set(vals))} duplicates among {len(vals)}"
    assert sorted(vals) == sorted(values), f"consumed {len(vals)} of {N1} (distinct {len(set(vals))})"
    assert c.assignment() == {TopicPartition(T1, i) for i in range(3)}, f"assignment {c.assignment()}"
    c.commit()
    for tp, n in counts.items():
        got_c = c.committed(tp, timeout_ms=10000)
        assert got_c == n, f"committed({tp.partition}) = {got_c}, want {n}"
    ctx["counts1"] = counts


@scenario("admin list_group_offsets: committed offsets equal the end offsets")
def s_offsets():
    counts = need("counts1", "group consumer reads every message")
    ends = end_offsets(T1, 3)
    want = {tp: ends[tp] for tp in ends}
    assert want == counts, f"end offsets {want} differ from produced counts {counts}"
    got = committed_offsets(G1)
    assert got == want, f"committed {wc.fmt_offsets(got)}, end offsets {wc.fmt_offsets(want)}"


@scenario("admin describe_groups: Stable, protocol consumer, one member assigned all 3 partitions")
def s_describe():
    c = need("c1", "group consumer reads every message")
    d = describe(G1)
    assert d.get("group_state") == "Stable", f"state {d.get('group_state')!r}"
    assert d.get("protocol_type") == "consumer", f"protocol_type {d.get('protocol_type')!r}"
    assert d.get("protocol_data") in ("range", "roundrobin"), f"protocol {d.get('protocol_data')!r}"
    members = d.get("members") or []
    assert len(members) == 1, f"{len(members)} members: {[m.get('member_id') for m in members]}"
    m = members[0]
    own = c._coordinator._generation.member_id if hasattr(c, "_coordinator") else None
    if own:
        assert m.get("member_id") == own, f"member_id {m.get('member_id')!r}, consumer has {own!r}"
    assert m.get("client_id"), f"empty client_id in {m}"
    assert member_partitions(m, T1) == {0, 1, 2}, f"assignment {m.get('member_assignment')}"
    meta = m.get("member_metadata")
    assert isinstance(meta, dict) and T1 in (meta.get("topics") or []), f"member_metadata {meta!r}"


@scenario("admin list_groups includes the group (protocol_type consumer)")
def s_list():
    groups = admin().list_groups()
    mine = [g for g in groups if g.get("group_id") == G1]
    assert mine, f"{G1} not among {len(groups)} listed groups: {[g.get('group_id') for g in groups][:20]}"
    assert mine[0].get("protocol_type") == "consumer", f"listed as {mine[0]}"


@scenario("close() leaves the group: describe_groups shows it Empty with no members")
def s_close_empty():
    c = need("c1", "group consumer reads every message")
    ctx.pop("c1")
    c.close(timeout_ms=10000)
    last = {}

    def empty():
        last.update(describe(G1))
        return last.get("group_state") == "Empty" and not last.get("members")
    # LeaveGroup makes this immediate; the deadline stays well below the 10 s session timeout.
    assert wait_until(empty, 5), \
        f"state {last.get('group_state')!r}, {len(last.get('members') or [])} members 5s after close()"


@scenario("a new consumer in the same group reads only the messages produced after the commit")
def s_resume():
    counts = need("counts1", "group consumer reads every message")
    values = [f"second-{i}" for i in range(60)]
    produce(T1, values, 3)
    c = group_consumer(G1, T1)
    try:
        got = poll_until(c, len(values), 30)
        wc.check_resumed(got, values, counts)
        c.commit()
    finally:
        c.close(timeout_ms=10000)


T2, G2 = f"kpg-split-{RUN_ID}", f"kpg-split-group-{RUN_ID}"


class Member:
    """A KafkaConsumer polling in its own thread (auto-commit every 200 ms)."""

    def __init__(self, group, topic):
        self.consumer = group_consumer(group, topic, enable_auto_commit=True, auto_commit_interval_ms=200)
        self.lock = threading.Lock()
        self.parts = set()
        self.values = []
        self.error = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            while not self.stop.is_set():
                recs = self.consumer.poll(timeout_ms=200)
                with self.lock:
                    self.parts = {tp.partition for tp in self.consumer.assignment()}
                    for _tp, rs in recs.items():
                        self.values.extend(r.value.decode() for r in rs)
        except Exception as e:  # noqa: BLE001
            self.error = f"{type(e).__name__}: {e}"
        finally:
            # close() commits the consumed offsets (autocommit=True) and sends LeaveGroup.
            try:
                self.consumer.close(timeout_ms=10000)
            except Exception as e:  # noqa: BLE001
                self.error = self.error or f"close: {type(e).__name__}: {e}"

    def snapshot(self):
        with self.lock:
            return set(self.parts), list(self.values)

    def close(self):
        self.stop.set()
        self.thread.join(20)


@scenario("two consumers in one group split 4 partitions without overlap and read each message once",
          timeout=60)
def s_split():
    create_topic(T2, 4)
    values = [f"split-{i}" for i in range(400)]
    produce(T2, values, 4)
    a, b = Member(G2, T2), Member(G2, T2)
    ctx["split"] = (a, b)

    def split():
        pa, _ = a.snapshot()
        pb, _ = b.snapshot()
        return pa and pb and not pa & pb and pa | pb == {0, 1, 2, 3}
    ok = wait_until(split, 40)
    pa, va = a.snapshot()
    pb, vb = b.snapshot()
    assert ok, f"assignments {sorted(pa)} / {sorted(pb)} (errors {a.error} / {b.error})"
    assert wait_until(lambda: len(a.snapshot()[1]) + len(b.snapshot()[1]) >= len(values), 20), \
        f"consumed {len(a.snapshot()[1]) + len(b.snapshot()[1])} of {len(values)}"
    pa, va = a.snapshot()
    pb, vb = b.snapshot()
    both = va + vb
    # With auto-commit on, kafka-python commits synchronously before it gives partitions up in
    # a rebalance, so even a member that read before the other joined causes no duplicate.
    assert len(both) == len(set(both)), \
        f"{len(both) - len(set(both))} messages consumed twice ({len(va)} + {len(vb)})"
    assert sorted(both) == sorted(values), f"consumed {len(set(both))} distinct of {len(values)}"
    d = describe(G2)
    ms = d.get("members") or []
    assert d.get("group_state") == "Stable" and len(ms) == 2, \
        f"describe_groups: state {d.get('group_state')!r}, {len(ms)} members"
    described = [member_partitions(m, T2) for m in ms]
    assert sorted(map(sorted, described)) == sorted([sorted(pa), sorted(pb)]), \
        f"described assignments {described} differ from the consumers' {sorted(pa)} / {sorted(pb)}"


@scenario("auto-commit: after both members close, committed offsets equal the end offsets")
def s_split_committed():
    a, b = need("split", "two consumers in one group split 4 partitions")
    ctx.pop("split")
    a.close()
    b.close()
    assert not a.thread.is_alive() and not b.thread.is_alive(), "a consumer thread did not stop"
    assert not (a.error or b.error), f"consumer errors: {a.error} / {b.error}"
    ends = end_offsets(T2, 4)
    got = committed_offsets(G2)
    assert got == ends, f"committed {wc.fmt_offsets(got)}, end offsets {wc.fmt_offsets(ends)}"


def cleanup():
    for key in ("c1",):
        c = ctx.pop(key, None)
        if c:
            try:
                c.close(timeout_ms=5000)
            except Exception:  # noqa: BLE001
                pass
    for m in ctx.pop("split", ()) or ():
        m.close()


if __name__ == "__main__":
    print(f"kafka-python {kafka.__version__}", file=sys.stderr)
    rc = suite.run_all()
    cleanup()
    wc.exit_now(rc)
