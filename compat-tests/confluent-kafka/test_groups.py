"""Consumer-group scenarios for weir with confluent-kafka (librdkafka), against the built binary.

Runs its own broker (so it can restart it) on a free 127.0.0.1 port. Prints one
`PASS confluent-kafka: ...` / `FAIL confluent-kafka: ... -- detail` line per scenario.
Every wait is a poll against a deadline; nothing sleeps in place of a condition.
"""

import argparse
import functools
import os
import signal
import subprocess
import sys
import threading
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import weir_compat as wc  # noqa: E402
from weir_compat import unique  # noqa: E402

SESSION_MS = 6000
report = wc.reporter("confluent-kafka")
wait_until = functools.partial(wc.wait_until, step=0.05)


class Member:
    """A group consumer polling in its own thread, committing synchronously after each message."""

    def __init__(self, bootstrap, group, topic, strategy="range", extra=None):
        conf = {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": SESSION_MS,
            "heartbeat.interval.ms": 500,
            "partition.assignment.strategy": strategy,
            "topic.metadata.refresh.interval.ms": 2000,
        }
        conf.update(extra or {})
        self.consumer = Consumer(conf)
        self.lock = threading.Lock()
        self.assignment = set()
        self.history = []  # assignment snapshots
        self.revoked = []  # sets revoked per rebalance
        self.messages = []  # (partition, offset, value)
        self.committed = []  # (partition, offset) committed
        self.uncommitted = set()  # values whose commit failed (at-least-once may redeliver them)
        self.errors = []
        self.stop_flag = threading.Event()
        self.closed = False
        self.cooperative = strategy == "cooperative-sticky"
        self.consumer.subscribe([topic], on_assign=self._on_assign, on_revoke=self._on_revoke)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _on_assign(self, consumer, partitions):
        with self.lock:
            if self.cooperative:
                self.assignment |= {p.partition for p in partitions}
            else:
                self.assignment = {p.partition for p in partitions}
            self.history.append(frozenset(self.assignment))

    def _on_revoke(self, consumer, partitions):
        with self.lock:
            gone = {p.partition for p in partitions}
            self.revoked.append(gone)
            self.assignment -= gone

    def _run(self):
        while not self.stop_flag.is_set():
            msg = self.consumer.poll(0.2)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() != KafkaError._PARTITION_EOF:
                    with self.lock:
                        self.errors.append(str(msg.error()))
                continue
            try:
                self.consumer.commit(message=msg, asynchronous=False)
                with self.lock:
                    self.messages.append((msg.partition(), msg.offset(), msg.value().decode()))
                    self.committed.append((msg.partition(), msg.offset()))
            except Exception as e:  # a failed commit means the message may legitimately come again
                with self.lock:
                    self.errors.append(f"commit: {e}")
                    self.messages.append((msg.partition(), msg.offset(), msg.value().decode()))
                    self.uncommitted.add(msg.value().decode())

    def parts(self):
        with self.lock:
            return set(self.assignment)

    def values(self):
        with self.lock:
            return [v for _, _, v in self.messages]

    def close(self):
        if not self.closed:
            self.stop_flag.set()
            self.thread.join(30)
            self.consumer.close()
            self.closed = True


def create_topic(bootstrap, topic, partitions):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])[topic].result(30)


def produce(bootstrap, topic, values):
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for i, v in enumerate(values):
        p.produce(topic, key=str(i).encode(), value=v.encode())
    assert p.flush(30) == 0


def redelivered_after_commit(members):
    """Values delivered more than once although their first delivery's commit succeeded."""
    seen, uncommitted, bad = set(), set(), []
    for m in members:
        uncommitted |= m.uncommitted
    for m in members:
        for v in m.values():
            if v in seen and v not in uncommitted:
                bad.append(v)
            seen.add(v)
    return bad


def scenario_group_split(broker):
    topic, group = unique("g6"), unique("grp")
    create_topic(broker.bootstrap, topic, 6)
    first = [f"a{i}" for i in range(600)]
    produce(broker.bootstrap, topic, first)
    members = [Member(broker.bootstrap, group, topic) for _ in range(3)]
    try:
        ok = wait_until(lambda: sorted(len(m.parts()) for m in members) == [2, 2, 2]
                        and set().union(*(m.parts() for m in members)) == set(range(6)), 60)
        report(ok, "3 consumers in one group on 6 partitions each get 2", [sorted(m.parts()) for m in members])
        ok = wait_until(lambda: sum(len(m.values()) for m in members) >= 600, 60)
        got = [v for m in members for v in m.values()]
        report(ok and sorted(got) == sorted(first), "all 600 messages consumed exactly once across the group",
               f"consumed {len(got)}, distinct {len(set(got))}")
        # One member leaves: its partitions move to the others, resuming at the committed offsets.
        leaver = members.pop()
        leaver.close()
        ok = wait_until(lambda: set().union(*(m.parts() for m in members)) == set(range(6))
                        and sum(len(m.parts()) for m in members) == 6, 60)
        report(ok, "a closing consumer's partitions move to the others", [sorted(m.parts()) for m in members])
        second = [f"b{i}" for i in range(300)]
        produce(broker.bootstrap, topic, second)
        ok = wait_until(lambda: sum(1 for m in members for v in m.values() if v.startswith("b")) >= 300, 60)
        after = [v for m in members for v in m.values()]
        all_got = after + leaver.values()
        dupes = len(redelivered_after_commit(members + [leaver]))
        report(ok and dupes == 0 and set(all_got) == set(first + second),
               "handover resumes at committed offsets: nothing lost, no committed message delivered again",
               f"total {len(all_got)} distinct {len(set(all_got))} duplicates {dupes}")
        # A second group on the same topic gets everything.
        other = Member(broker.bootstrap, unique("other"), topic)
        try:
            ok = wait_until(lambda: len(other.values()) >= 900, 60)
            report(ok and sorted(other.values()) == sorted(first + second), "a second group receives every message",
                   f"got {len(other.values())}")
        finally:
            other.close()
    finally:
        for m in members:
            m.close()


def scenario_cooperative(broker):
    topic, group = unique("coop"), unique("coopgrp")
    create_topic(broker.bootstrap, topic, 6)
    a = Member(broker.bootstrap, group, topic, "cooperative-sticky")
    b = Member(broker.bootstrap, group, topic, "cooperative-sticky")
    c = None
    try:
        ok = wait_until(lambda: len(a.parts()) == 3 and len(b.parts()) == 3 and a.parts() | b.parts() == set(range(6)), 60)
        report(ok, "cooperative-sticky: two members share 6 partitions 3/3", [sorted(a.parts()), sorted(b.parts())])
        before_a, before_b = a.parts(), b.parts()
        revokes_before = (len(a.revoked), len(b.revoked))
        c = Member(broker.bootstrap, group, topic, "cooperative-sticky")
        ok = wait_until(lambda: len(c.parts()) == 2 and len(a.parts()) == 2 and len(b.parts()) == 2, 60)
        moved = (before_a - a.parts()) | (before_b - b.parts())
        only_moved_revoked = all(r <= moved for r in a.revoked[revokes_before[0]:] + b.revoked[revokes_before[1]:])
        report(ok and a.parts() <= before_a and b.parts() <= before_b and c.parts() == moved and only_moved_revoked,
               "cooperative-sticky: a third member takes only the partitions that move",
               f"a {sorted(before_a)}->{sorted(a.parts())} b {sorted(before_b)}->{sorted(b.parts())} c {sorted(c.parts())}")
    finally:
        for m in (a, b, c):
            if m:
                m.close()


CHILD = """
import sys, time
from confluent_kafka import Consumer
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": sys.argv[2], "session.timeout.ms": %d,
              "heartbeat.interval.ms": 500, "auto.offset.reset": "earliest"})
c.subscribe([sys.argv[3]], on_assign=lambda cons, parts: print("ASSIGNED", len(parts), flush=True))
while True:
    c.poll(0.2)
""" % SESSION_MS


def scenario_sigkill(broker):
    topic, group = unique("kill"), unique("killgrp")
    create_topic(broker.bootstrap, topic, 4)
    stay = Member(broker.bootstrap, group, topic)
    child = subprocess.Popen([sys.executable, "-c", CHILD, broker.bootstrap, group, topic],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        ok = wait_until(lambda: len(stay.parts()) == 2, 60)
        report(ok, "a second member (another process) takes half the partitions", sorted(stay.parts()))
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        killed_at = time.monotonic()
        ok = wait_until(lambda: stay.parts() == set(range(4)), SESSION_MS / 1000 + 30)
        took = time.monotonic() - killed_at
        report(ok, "a consumer killed with SIGKILL is expelled after its session timeout; its partitions move",
               f"after {took:.1f}s the survivor has {sorted(stay.parts())}")
    finally:
        if child.poll() is None:
            child.kill()
        stay.close()


def scenario_more_consumers_than_partitions(broker):
    topic, group = unique("few"), unique("fewgrp")
    create_topic(broker.bootstrap, topic, 2)
    members = [Member(broker.bootstrap, group, topic) for _ in range(3)]
    try:
        ok = wait_until(lambda: sorted(len(m.parts()) for m in members) == [0, 1, 1]
                        and set().union(*(m.parts() for m in members)) == {0, 1}, 60)
        report(ok, "more consumers than partitions: the extra one gets nothing", [sorted(m.parts()) for m in members])
        idle = next(m for m in members if not m.parts())
        busy = next(m for m in members if m.parts())
        busy.close()
        members.remove(busy)
        ok = wait_until(lambda: len(idle.parts()) == 1 and set().union(*(m.parts() for m in members)) == {0, 1}, 60)
        report(ok, "the idle consumer takes over when an active one leaves", [sorted(m.parts()) for m in members])
    finally:
        for m in members:
            m.close()


def scenario_broker_restart(broker):
    topic, group = unique("restart"), unique("rgrp")
    create_topic(broker.bootstrap, topic, 3)
    first = [f"r{i}" for i in range(300)]
    produce(broker.bootstrap, topic, first)
    m = Member(broker.bootstrap, group, topic)
    try:
        ok = wait_until(lambda: len(m.values()) >= 300, 60)
        report(ok, "consumed before the restart", len(m.values()))
        broker.stop()
        broker.start()
        second = [f"s{i}" for i in range(300)]
        produce(broker.bootstrap, topic, second)
        ok = wait_until(lambda: sum(1 for v in m.values() if v.startswith("s")) >= 300, 90)
        got = m.values()
        bad = redelivered_after_commit([m])
        report(ok and not bad and set(got) == set(first + second),
               "broker restart mid-consumption: the consumer reconnects and resumes from its committed offsets",
               f"got {len(got)} distinct {len(set(got))}; redelivered after a successful commit: {bad[:5]}; "
               f"commits failed during the restart: {len(m.uncommitted)}")
    finally:
        m.close()
    # A new consumer in the same group starts at the committed offsets: nothing to read.
    late = Member(broker.bootstrap, group, topic)
    try:
        ok = wait_until(lambda: len(late.parts()) == 3, 60)
        # Give it the chance to (wrongly) read: produce one marker and wait for exactly it.
        produce(broker.bootstrap, topic, ["marker"])
        ok = ok and wait_until(lambda: "marker" in late.values(), 60)
        report(ok and late.values() == ["marker"], "committed offsets survive the restart: a new member reads only new messages",
               late.values()[:5])
    finally:
        late.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weir", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    broker = wc.Broker(args.weir, os.path.join(args.work, "groups-data"),
                       os.path.join(args.work, "groups-broker.log"))
    broker.start()
    try:
        for scenario in (scenario_group_split, scenario_cooperative, scenario_sigkill,
                         scenario_more_consumers_than_partitions, scenario_broker_restart):
            try:
                scenario(broker)
            except Exception as e:
                report(False, scenario.__name__, repr(e))
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
