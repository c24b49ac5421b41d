#!/usr/bin/env python3
"""Consumer-group coordinator failover in a 3-node weir cluster, with stock clients: two
confluent-kafka members (librdkafka 2.16, threads of this program) and one Apache Kafka Java
member (kafka-clients 4.1.1, GroupMember.java, a subprocess) in one consumer group (classic
protocol, range assignor), reading a replicated topic while the group's coordinator is killed.

Starts its own cluster (nodes as test_cluster.py starts them: see run.sh), then, one PASS/FAIL
line each:

  gf1 the cluster forms; topic gf (6 partitions, replication factor 3, min.insync.replicas=2)
      is listed by every node with 3 replicas and ISR 3 for every partition
  gf2 the group: a group id whose coordinator (describe_consumer_groups) is not the controller
      is chosen (so that the kill below is a coordinator failover, not also a controller one);
      the 3 members join and the group is Stable with 3 members sharing the 6 partitions; only
      then an idempotent acks=all producer starts writing (6 records every 50 ms, round-robin
      over the partitions, values gf-<seq>), and every partition gets a commit >= 40
  gf3 the coordinator (describe_consumer_groups) killed with SIGKILL while the producer and the
      members go on: within 15 s describe (an AdminClient on the survivors) names a new
      coordinator, a live broker other than the killed one, and within 15 s a commit sent after
      the kill is accepted. The PASS line reports both times: kill -> the describe answer naming
      the new coordinator (librdkafka asks FindCoordinator again about once a second while the
      old one is down, so this may lag the failover by up to a second), and kill -> the
      acknowledgement of the first commit sent after the kill (by whichever member)
  gf4 the group carries on: in every partition a commit sent after the kill covers records
      produced after it (the producer stops then, or 25 s after the kill); every member commits
      again after the kill, and the group's committed offsets (list_consumer_group_offsets, i.e.
      OffsetFetch) reach the end offsets of all 6 partitions within 30 s
  gf5a none skipped: the members stopped, the topic read back with assign() from the beginning:
      every acknowledged record is in the log at its acknowledged (partition, offset), every
      record of the log is delivered to the group at least once, with the log's value
  gf5b at-least-once, no more: no record is delivered after a commit beyond its offset was
      acknowledged (to any member), and a record delivered more than once is at or after the
      last commit of its partition acknowledged before the kill
  gf6 the killed broker, restarted with the same command and data dir, rejoins: every node lists
      the 3 brokers and the ISR of every partition of the topic is the 3 replicas again
  gf6b after the rejoin the group (through the restarted node) has a live coordinator and its
      committed offsets are still the end offsets

Each member commits synchronously after every batch it received (the offsets of that batch) and
writes every event as a JSON line to <work>/members/<name>.jsonl: each record received
(partition, offset, value), each commit accepted (per partition, with the times it was sent and
acknowledged), each failed commit, each assignment and revocation. The checks read those files.

Usage: test_group_failover.py --weir BIN --work DIR --pidfile FILE -- JAVA_CMD...
JAVA_CMD: the java command line that runs a class of build/classes (e.g. java -cp 'CP'); the
member is run as JAVA_CMD GroupMember ARGS. Node logs: DIR/node<N>.log; the client's log:
DIR/librdkafka.log; the Java member's own output: DIR/members/java-1.out.
"""
import argparse
import bisect
import collections
import concurrent.futures
import faulthandler
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, ConsumerGroupTopicPartitions, KafkaException, Producer, \
    TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
import weir_compat as wc  # noqa: E402
from weir_compat import RUN_ID  # noqa: E402
import test_cluster as tc  # noqa: E402  (Node, Cluster and the client helpers; runs nothing on import)

PARTITIONS = 6
FAILOVER_WITHIN_S = 15.0    # kill -> new coordinator seen, and kill -> first commit accepted
PRE_KILL_COMMITTED = 40     # every partition committed at least this far before the kill
POST_KILL_PRODUCE_S = 25.0  # the producer stops once the group commits past the kill, at most this long after it
CATCH_UP_S = 30.0           # after the producer stops: committed offsets reach the end offsets
MEMBER_MAX_S = 240          # a Java member exits by itself after this, whatever happens
C = "group-failover"

LOG = tc.LOG


def now_ms():
    return time.time() * 1000.0


def info(msg):
    wc.emit(f"  {C}: {msg}")


class Suite(wc.Suite):
    """wc.Suite whose scenarios may return a note: it is printed after a PASS line's name
    (` -- note`), as a FAIL line's detail is."""

    note = None

    def scenario(self, name, timeout=None):
        def deco(fn):
            def run():
                self.note = None
                self.note = fn()
            self._scenarios.append((name, run, timeout or self.scenario_timeout))
            return fn
        return deco

    def _emit(self, ok, name, detail=None):
        if ok and self.note:
            wc.emit(f"PASS {self.client}: {name} -- {wc.one_line(self.note)}")
        else:
            super()._emit(ok, name, detail)


suite = Suite("cluster", scenario_timeout=60, total_budget=330)
scenario, ctx, need = suite.scenario, wc.ctx, wc.need
cluster = None  # the tc.Cluster, made in main()
java_cmd = None  # the java command line (run.sh's), to which GroupMember and its arguments are added
work = None  # this program's work dir
cluster_pidfile = None  # every PID started goes there (run.sh reaps what is left)


def java_hash(s):
    """Java's String.hashCode() (over UTF-16 code units)."""
    h = 0
    b = s.encode("utf-16-be")
    for i in range(0, len(b), 2):
        h = (31 * h + (b[i] << 8 | b[i + 1])) & 0xFFFFFFFF
    return h - (1 << 32) if h & 0x80000000 else h


def offsets_partition(group):
    """The __consumer_offsets partition of `group` in Kafka: Utils.abs(hashCode) % 50."""
    h = java_hash(group)
    return 0 if h == -(1 << 31) else abs(h) % 50


# ---------------------------------------------------------------- members and their logs
class EventFile:
    """A member's JSON-lines events file, written line by line (flushed)."""

    def __init__(self, path, member):
        self.path, self.member = path, member
        self.lock = threading.Lock()
        self.f = open(path, "a", encoding="utf-8")

    def write(self, ev, **fields):
        line = json.dumps({"ev": ev, "t": now_ms(), "m": self.member, **fields})
        with self.lock:
            self.f.write(line + "\n")
            self.f.flush()


class PyMember(threading.Thread):
    """A confluent-kafka group member in a thread: consume() a batch, record every message,
    commit the batch's offsets synchronously, record the outcome per partition."""

    def __init__(self, name, bootstrap, topic, group, path):
        super().__init__(daemon=True, name=name)
        self.member, self.topic = name, topic
        self.events = EventFile(path, name)
        self.conf = tc.conf(bootstrap, group_id=group, client_id=name, enable_auto_commit=False,
                            auto_offset_reset="earliest", session_timeout_ms=10000, heartbeat_interval_ms=1000,
                            fetch_wait_max_ms=100, partition_assignment_strategy="range")
        self.stop = threading.Event()
        self.closed = threading.Event()

    def run(self):
        ev = self.events.write
        ev("start")
        c = None
        try:
            c = Consumer(self.conf)

            def parts(tps):
                return sorted(tp.partition for tp in tps)

            c.subscribe([self.topic], on_assign=lambda _, tps: ev("assign", ps=parts(tps)),
                        on_revoke=lambda _, tps: ev("revoke", ps=parts(tps)),
                        on_lost=lambda _, tps: ev("lost", ps=parts(tps)))
            while not self.stop.is_set():
                try:
                    msgs = c.consume(num_messages=20, timeout=0.3)
                except KafkaException as e:
                    ev("error", err=str(e))
                    continue
                offsets = {}
                for m in msgs:
                    if m.error():
                        ev("error", err=str(m.error()))
                        continue
                    v = m.value().decode() if m.value() is not None else None
                    ev("rec", p=m.partition(), o=m.offset(), v=v)
                    offsets[m.partition()] = m.offset() + 1
                if not offsets:
                    continue
                t0 = now_ms()
                try:
                    res = c.commit(offsets=[TopicPartition(self.topic, p, o) for p, o in sorted(offsets.items())],
                                   asynchronous=False)
                    for tp in res:
                        if tp.error is not None:
                            ev("commit_fail", t0=t0, offsets={str(tp.partition): tp.offset}, err=str(tp.error))
                        else:
                            ev("commit", t0=t0, p=tp.partition, c=tp.offset)
                except KafkaException as e:
                    ev("commit_fail", t0=t0, offsets={str(p): o for p, o in offsets.items()}, err=str(e))
        except Exception as e:  # noqa: BLE001 - recorded; the checks see a member that stopped
            ev("error", err=f"member thread: {type(e).__name__}: {e}")
        finally:
            if c is not None:
                try:
                    c.close()
                except Exception as e:  # noqa: BLE001
                    ev("error", err=f"close: {e}")
            ev("stop")
            self.closed.set()

    def ask_stop(self):
        self.stop.set()

    def halt(self, timeout):
        """Stops the member; True if it closed within `timeout` seconds."""
        self.stop.set()
        return self.closed.wait(timeout)


class JavaMember:
    """GroupMember.java as a subprocess; stopped by closing its stdin."""

    def __init__(self, name, bootstrap, topic, group, path, pidfile):
        self.member, self.path = name, path
        self.cmd = java_cmd + ["GroupMember", bootstrap, topic, group, name, path, str(MEMBER_MAX_S)]
        self.out_path = os.path.join(os.path.dirname(path), f"{name}.out")
        self.pidfile = pidfile
        self.proc = None

    def start(self):
        with open(self.out_path, "ab") as out:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=out, stderr=out)
        with open(self.pidfile, "a") as f:
            f.write(f"{self.proc.pid}\n")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def ask_stop(self):
        """Closes its stdin: it closes its consumer and exits."""
        if self.proc is not None and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:
                pass

    def halt(self, timeout):
        """ask_stop(), then SIGKILL (by PID) if it has not exited within `timeout` seconds. True
        if it exited by itself."""
        if self.proc is None:
            return True
        self.ask_stop()
        try:
            self.proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            return False


class Events:
    """Every member's events, read incrementally from the files (complete lines only)."""

    def __init__(self, paths):
        self.pos = {p: 0 for p in paths}
        self.all = []
        self.lock = threading.Lock()

    def refresh(self):
        with self.lock:
            for path in self.pos:
                try:
                    with open(path, "rb") as f:
                        f.seek(self.pos[path])
                        data = f.read()
                except FileNotFoundError:
                    continue
                end = data.rfind(b"\n")
                if end < 0:
                    continue
                self.pos[path] += end + 1
                for line in data[:end].decode().splitlines():
                    if line.strip():
                        self.all.append(json.loads(line))
            return list(self.all)

    def of(self, *kinds):
        return [e for e in self.refresh() if e["ev"] in kinds]


def committed_by_logs(events, before=None, sent_after=None):
    """{partition: highest offset of an accepted commit} (acknowledged before `before`, sent
    at or after `sent_after`, when given)."""
    out = {}
    for e in events:
        if e["ev"] != "commit":
            continue
        if before is not None and e["t"] >= before:
            continue
        if sent_after is not None and e["t0"] < sent_after:
            continue
        out[e["p"]] = max(out.get(e["p"], 0), e["c"])
    return out


def rel(t):
    """A time as seconds after the kill, for messages."""
    t_kill = ctx.get("t_kill")
    return f"{(t - t_kill) / 1000:+.2f}s" if t_kill else f"{t:.0f}"


# ---------------------------------------------------------------- the producer
class Feeder(threading.Thread):
    """An idempotent acks=all producer writing 6 records every 50 ms, round-robin over the
    partitions, values gf-<seq> (also the key); records what was acknowledged where."""

    def __init__(self, bootstrap, topic):
        super().__init__(daemon=True, name="feeder")
        self.topic = topic
        self.conf = tc.conf(bootstrap, acks="all", enable_idempotence=True, linger_ms=5, message_timeout_ms=30000)
        self.stop = threading.Event()
        self.done = threading.Event()
        self.acked = {}   # value -> (partition, offset, ack time ms)
        self.errors = []
        self.sent = 0
        self.unflushed = None

    def run(self):
        def on_delivery(err, msg):
            v = msg.value().decode()
            if err is not None:
                self.errors.append(f"{v}: {err}")
            else:
                self.acked[v] = (msg.partition(), msg.offset(), now_ms())

        try:
            p = Producer(self.conf)
            seq, next_t = 0, time.monotonic()
            while not self.stop.is_set():
                for _ in range(PARTITIONS):
                    v = f"gf-{seq:07d}"
                    while True:
                        try:
                            p.produce(self.topic, key=v.encode(), value=v.encode(), partition=seq % PARTITIONS,
                                      on_delivery=on_delivery)
                            break
                        except BufferError:
                            p.poll(0.05)
                    seq += 1
                self.sent = seq
                # Pacing (a rate, not a wait for a condition); delivery reports are served meanwhile
                # (poll returns early when it served one, hence the loop).
                next_t = max(next_t + 0.05, time.monotonic() - 0.05)
                while (left := next_t - time.monotonic()) > 0:
                    p.poll(left)
            self.unflushed = p.flush(30)
        except Exception as e:  # noqa: BLE001 - reported by the scenarios
            self.errors.append(f"producer thread: {type(e).__name__}: {e}")
        finally:
            self.done.set()

    def halt(self, timeout=40):
        self.stop.set()
        return self.done.wait(timeout)


# ---------------------------------------------------------------- admin helpers
# Two bugs of librdkafka 2.16's AdminClient around a killed group coordinator shape these helpers:
# - an admin request for a group (describe, list offsets) that times out while its coordinator
#   is down leaves its coordinator request behind, and when a coordinator answers later the
#   process aborts ("rd_kafka_enq_once_del_source_return: Assertion `eonce->refcnt > 0'
#   failed"); so no such request is ever left to time out: each is sent with a request timeout
#   longer than the whole run, at most one per (client, kind, group) is in flight, and the
#   caller waits for it a bounded time, picking it up again on its next call;
# - a client whose coordinator request went to a broker that was then killed can hang for good
#   in its destructor ("Handle is terminating in state INIT: 2 refcnts"); so there is one
#   AdminClient per set of bootstrap nodes, kept for the whole run and never destroyed (the
#   program ends with os._exit).
# While its cached coordinator is down, librdkafka asks FindCoordinator again every second.
_ADMINS = {}
_IN_FLIGHT = {}  # (nodes, kind, group) -> (future, sent at)
NEVER_S = 900  # an admin request's timeout: longer than the run


def admin(nodes):
    key = tuple(sorted(n.id for n in nodes))
    if key not in _ADMINS:
        _ADMINS[key] = AdminClient(tc.conf(tc.bootstrap_of(nodes)))
    return _ADMINS[key]


def admin_call(nodes, kind, group, send, wait):
    """The result of send(admin client) (a future) for (nodes, kind, group): the request in
    flight for it if there is one, else a new one; waits at most `wait` seconds. Returns the
    result, or a string: the error, or that no answer came yet."""
    key = (tuple(sorted(n.id for n in nodes)), kind, group)
    if key not in _IN_FLIGHT:
        _IN_FLIGHT[key] = (send(admin(nodes)), time.monotonic())
    fut, sent = _IN_FLIGHT[key]
    try:
        r = fut.result(max(0.01, wait))
    except concurrent.futures.TimeoutError:
        return f"no answer yet ({kind} pending for {time.monotonic() - sent:.1f}s)"
    except Exception as e:  # noqa: BLE001 - the caller reports it
        del _IN_FLIGHT[key]
        return f"{type(e).__name__}: {e}"
    del _IN_FLIGHT[key]
    return r


def describe_group(nodes, group, wait=3.0):
    """describe_consumer_groups through the AdminClient on `nodes`: the description, or a
    string (the error, or no answer yet)."""
    return admin_call(nodes, "describe", group,
                      lambda a: a.describe_consumer_groups([group], request_timeout=NEVER_S)[group], wait)


def group_summary(d):
    if isinstance(d, str):
        return d
    coord = d.coordinator.id if d.coordinator is not None else None
    members = {m.client_id or m.member_id: sorted(tp.partition for tp in m.assignment.topic_partitions)
               for m in d.members}
    return f"state {d.state.name}, coordinator {coord}, members {members}"


def listed_offsets(nodes, group, topic, wait=3.0):
    """{partition: committed offset} by list_consumer_group_offsets (OffsetFetch) through the
    AdminClient on `nodes`, or a string (the error, or no answer yet)."""
    r = admin_call(nodes, "list offsets", group,
                   lambda a: a.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)],
                                                           request_timeout=NEVER_S)[group], wait)
    if isinstance(r, str):
        return r
    return {tp.partition: tp.offset for tp in r.topic_partitions if tp.topic == topic and tp.offset >= 0}


def end_offsets(nodes, topic, timeout=5.0):
    c = Consumer(tc.conf(tc.bootstrap_of(nodes), group_id=wc.unique("gf-wm")))
    try:
        return {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)[1] for p in range(PARTITIONS)}
    finally:
        c.close()


def layout(md, topic):
    """{partition: (leader, replicas, isr)} of `topic` in metadata md, or None."""
    t = md.topics.get(topic) if md else None
    if t is None or t.error is not None or not t.partitions:
        return None
    return {p.id: (p.leader, sorted(p.replicas), sorted(p.isrs)) for p in t.partitions.values()}


# ---------------------------------------------------------------- scenarios
@scenario(f"{C} gf1 cluster forms; topic gf (6 partitions, replication factor 3, min.insync.replicas=2) listed by "
          "every node with 3 replicas and ISR 3 for every partition", timeout=90)
def gf1_cluster():
    t0 = time.monotonic()
    for n in cluster.nodes.values():
        n.start()
    cluster.wait_listening(cluster.nodes.values(), 30)
    ctx["started"] = True
    want = cluster.expected_brokers()
    state = {}

    def formed():
        d = tc.describe_cluster(cluster.nodes[1].bootstrap)
        state["DescribeCluster through node 1"] = d
        return d is not None and d[0] == want and d[1] in want

    tc.wait_for(f"DescribeCluster through node 1: brokers {want} and a controller", 60, formed,
                lambda: f"last seen {state}", step=0.5)
    topic = f"gf-{RUN_ID}"
    a = AdminClient(tc.conf(cluster.nodes[1].bootstrap))
    a.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=3,
                              config={"min.insync.replicas": "2"})],
                    operation_timeout=15, request_timeout=20)[topic].result(25)
    full = [1, 2, 3]

    def listed():
        for n in cluster.nodes.values():
            state[n.id] = layout(tc.probe(n.bootstrap), topic)
            lay = state[n.id]
            if lay is None or len(lay) != PARTITIONS or any(
                    leader not in full or r != full or isr != full for leader, r, isr in lay.values()):
                return False
        return True

    tc.wait_for(f"topic {topic} on every node: 6 partitions, replicas and ISR {full}", 30, listed,
                lambda: f"(leader, replicas, isr) by node: {state}", step=0.5)
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    cfg = a.describe_configs([res], request_timeout=10)[res].result(12)
    mir = cfg.get("min.insync.replicas")
    assert mir is not None and mir.value == "2", f"DescribeConfigs {topic}: min.insync.replicas {mir and mir.value}"
    ctx["topic"] = topic
    leaders = {p: lay[0] for p, lay in state[1].items()}
    return f"ready {time.monotonic() - t0:.1f}s after the start; partition leaders {leaders}"


@scenario(f"{C} gf2 a group of 3 members (2 confluent-kafka, 1 Java kafka-clients 4.1.1; classic protocol, range) "
          f"whose coordinator is not the controller is Stable, the 6 partitions shared; an acks=all producer starts "
          f"and every partition gets a commit >= {PRE_KILL_COMMITTED}", timeout=120)
def gf2_group():
    topic = need("topic", "gf1")
    nodes = list(cluster.nodes.values())
    ctrl = tc.controller_of(cluster.nodes[1].bootstrap)
    # A group id whose coordinator is known and is not the controller (the first of a few).
    tried, group = [], None
    deadline = time.monotonic() + 30
    i = 0
    while group is None and time.monotonic() < deadline and i < 12:
        g = f"gf-{RUN_ID}-{i}"
        d = describe_group(nodes, g)
        coord = None if isinstance(d, str) or d.coordinator is None else d.coordinator.id
        if coord is None:
            tried.append(f"{g}: {group_summary(d)}")
            time.sleep(0.5)  # the coordinator may not be known yet (e.g. __consumer_offsets being made); polled
            continue
        tried.append(f"{g}: coordinator {coord}")
        if coord != ctrl:
            group = g
        i += 1
    if group is None:
        usable = [t for t in tried if "coordinator " in t and "coordinator None" not in t]
        assert usable, (f"describe_consumer_groups named no coordinator for any candidate group within 30 s: "
                        f"{tried[-3:]}")
        group = usable[0].split(":")[0]
        info(f"gf2: every candidate group is coordinated by the controller {ctrl}: {tried}; using {group}")
    ctx["group"] = group
    os.makedirs(os.path.join(work, "members"), exist_ok=True)
    paths = {name: os.path.join(work, "members", f"{name}.jsonl") for name in ("py-1", "py-2", "java-1")}
    boot = tc.bootstrap_of(nodes)
    members = [PyMember("py-1", boot, topic, group, paths["py-1"]), PyMember("py-2", boot, topic, group, paths["py-2"]),
               JavaMember("java-1", boot, topic, group, paths["java-1"], cluster_pidfile)]
    ctx["members"] = members
    ctx["events"] = events = Events(list(paths.values()))
    t0 = time.monotonic()
    for m in members:
        m.start()
    state = {}

    def stable():
        d = describe_group(nodes, group)
        state["describe"] = group_summary(d)
        if isinstance(d, str) or d.state.name != "STABLE" or len(d.members) != 3:
            return False
        assigned = [sorted(tp.partition for tp in m.assignment.topic_partitions) for m in d.members]
        if sorted(p for a in assigned for p in a) != list(range(PARTITIONS)) or not all(assigned):
            return False
        # ... and each member has been told its partitions.
        got = {}
        for e in events.of("assign", "revoke", "lost"):
            got[e["m"]] = e["ps"] if e["ev"] == "assign" else []
        state["assigned by the members' callbacks"] = got
        return len(got) == 3 and sorted(p for a in got.values() for p in a) == list(range(PARTITIONS))

    def member_state():
        dead = [m.member for m in members if not (m.is_alive() if isinstance(m, PyMember) else m.alive())]
        errs = [f"{e['m']}: {e['err']}" for e in events.of("error")][-3:]
        return f"last seen {state}; members not running {dead}; errors {errs}"

    tc.wait_for(f"group {group}: Stable, 3 members, each with partitions, the 6 shared", 60, stable, member_state,
                step=0.5)
    took = time.monotonic() - t0
    coord = describe_group(nodes, group)
    feeder = Feeder(boot, topic)
    ctx["feeder"] = feeder
    feeder.start()
    # The producer's first records: nothing was in the topic while the members joined.
    tc.wait_for(f"every partition committed to >= {PRE_KILL_COMMITTED} (members' logs)", 30,
                lambda: all(committed_by_logs(events.refresh()).get(p, 0) >= PRE_KILL_COMMITTED
                            for p in range(PARTITIONS)),
                lambda: f"committed by the logs {committed_by_logs(events.refresh())}, producer sent {feeder.sent}, "
                        f"acknowledged {len(feeder.acked)}, errors {feeder.errors[:3]}; {member_state()}")
    revokes = [e for e in events.of("revoke", "lost") if e["ps"]]
    return (f"group {group} Stable {took:.1f}s after the members started ({group_summary(coord)}; controller {ctrl}; "
            f"{len(revokes)} revocations during the joins); candidates {tried}")


@scenario(f"{C} gf3 the group's coordinator killed with SIGKILL: within {FAILOVER_WITHIN_S:.0f}s describe names a new, "
          "live coordinator and a commit sent after the kill is accepted", timeout=45)
def gf3_kill():
    group = need("group", "gf2")
    events, feeder = need("events", "gf2"), need("feeder", "gf2")
    nodes = list(cluster.nodes.values())
    d = describe_group(nodes, group)
    assert not isinstance(d, str) and d.coordinator is not None and d.coordinator.id in cluster.nodes, (
        f"describe_consumer_groups {group} before the kill: {group_summary(d)}")
    victim = cluster.nodes[d.coordinator.id]
    survivors = [n for n in nodes if n is not victim]
    ctrl = tc.controller_of(survivors[0].bootstrap)
    k = offsets_partition(group)
    co = layout(tc.probe(survivors[0].bootstrap), "__consumer_offsets")
    co_info = f"__consumer_offsets-{k} (leader, replicas, isr) {co.get(k) if co else 'not listed'}"
    admin(survivors)  # connected before the kill
    acked = list(feeder.acked.values())  # (a copy: the producer's thread adds to it)
    t_kill = now_ms()
    victim.kill9()
    t_dead = now_ms()
    # Per partition, the end of what was acknowledged before the kill: gf4 wants commits past it.
    at_kill = {p: 1 + max((o for q, o, _ in acked if q == p), default=-1) for p in range(PARTITIONS)}
    ctx.update(t_kill=t_kill, t_dead=t_dead, victim=victim, survivors=survivors, acked_at_kill=at_kill)
    info(f"gf3: coordinator {victim.id} killed (controller {ctrl}; {co_info}); group before: {group_summary(d)}")
    deadline = time.monotonic() + FAILOVER_WITHIN_S
    seen, first_commit, tries = None, None, []
    while time.monotonic() < deadline and (seen is None or first_commit is None):
        if seen is None:
            d = describe_group(survivors, group, wait=min(1.0, max(0.05, deadline - time.monotonic())))
            t = now_ms()
            coord = None if isinstance(d, str) or d.coordinator is None else d.coordinator.id
            tries.append(f"{rel(t)}: {group_summary(d)}")
            if coord is not None and coord != victim.id and coord in {n.id for n in survivors}:
                seen = (t, d)
        if first_commit is None:
            after = [e for e in events.of("commit") if e["t0"] >= t_dead]
            if after:
                first_commit = min(after, key=lambda e: e["t"])
        if seen is None or first_commit is None:
            time.sleep(0.2)  # polling interval, bounded by the deadline
    ctx["seen_coordinator"] = seen
    fails = [f"{e['m']} {rel(e['t0'])}..{rel(e['t'])}: {e['err'][:90]}" for e in events.of("commit_fail")
             if e["t"] >= t_kill]
    problems = []
    if seen is None:
        problems.append(f"no new coordinator within {FAILOVER_WITHIN_S:.0f}s: describe_consumer_groups through "
                        f"the survivors {[n.id for n in survivors]} answered {tries[:1] + tries[-2:]} "
                        f"({len(tries)} tries)")
    if first_commit is None:
        problems.append(f"no commit sent after the kill accepted within {FAILOVER_WITHIN_S:.0f}s; failed commits "
                        f"after the kill: {len(fails)}, e.g. {fails[:1] + fails[-1:]}")
    assert not problems, "; ".join(problems) + f"; {co_info}"
    t_coord, d = seen
    return (f"coordinator {victim.id} killed (controller {ctrl}); new coordinator {d.coordinator.id} seen "
            f"{(t_coord - t_kill) / 1000:.2f}s after the kill ({group_summary(d)}); first commit accepted "
            f"{(first_commit['t'] - t_kill) / 1000:.2f}s after the kill ({first_commit['m']}, partition "
            f"{first_commit['p']} -> {first_commit['c']}); {len(fails)} commits failed meanwhile")


@scenario(f"{C} gf4 the group carries on: every partition and every member commits after the kill, past the records "
          "produced before it; the producer stopped, the group's committed offsets (OffsetFetch) reach the end offsets "
          "of all 6 partitions", timeout=80)
def gf4_catch_up():
    topic, group = need("topic", "gf1"), need("group", "gf2")
    events, feeder, members = need("events", "gf2"), need("feeder", "gf2"), need("members", "gf2")
    t_kill, t_dead, survivors = need("t_kill", "gf3"), ctx["t_dead"], ctx["survivors"]
    at_kill = ctx["acked_at_kill"]

    def past_kill():
        """{partition: highest commit sent after the kill}, and the partitions where it is not yet
        past the records acknowledged before the kill."""
        post = committed_by_logs(events.refresh(), sent_after=t_dead)
        return post, [p for p in range(PARTITIONS) if post.get(p, 0) <= at_kill[p]]

    # Producing goes on until, in every partition, a commit sent after the kill covers records
    # produced after it (or the time is up).
    wc.wait_until(lambda: not past_kill()[1], max(0.0, POST_KILL_PRODUCE_S - (now_ms() - t_kill) / 1000),
                  step=0.25)
    stopped = feeder.halt()
    t_stop = now_ms()
    acked_after = sum(1 for _, _, t in feeder.acked.values() if t > t_kill)
    info(f"gf4: producer stopped {rel(t_stop)} after the kill: {feeder.sent} sent, {len(feeder.acked)} acknowledged "
         f"({acked_after} after the kill), {len(feeder.errors)} errors {feeder.errors[:2]}, "
         f"unflushed {feeder.unflushed}")
    assert stopped, "the producer did not finish flushing within 40 s"
    ends = end_offsets(survivors, topic)
    ctx["ends"] = ends
    state = {}

    def caught_up():
        state["listed"] = listed_offsets(survivors, group, topic)
        return state["listed"] == ends

    ok = wc.wait_until(caught_up, CATCH_UP_S, step=0.5)
    evs = events.refresh()
    post, short = past_kill()
    by_member = {m.member: sorted({e["p"] for e in evs if e["ev"] == "commit" and e["m"] == m.member
                                   and e["t0"] >= t_dead}) for m in members}
    fails = [f"{e['m']} {rel(e['t0'])}: {e['err'][:90]}" for e in evs if e["ev"] == "commit_fail"]
    errs = [f"{e['m']} {rel(e['t'])}: {e['err'][:90]}" for e in evs if e["ev"] == "error"]
    problems = []
    if not ok:
        problems.append(f"committed offsets (OffsetFetch through the survivors) {state.get('listed')} did not reach "
                        f"the end offsets {ends} within {CATCH_UP_S:.0f}s after the producer stopped")
    if short:
        problems.append(f"partitions {short} got no commit, sent after the kill, past the records acknowledged "
                        f"before it (acknowledged before the kill: up to {at_kill}; highest commits sent after the "
                        f"kill: {dict(sorted(post.items()))})")
    idle = [m for m, ps in by_member.items() if not ps]
    if idle:
        problems.append(f"members {idle} committed nothing after the kill (partitions committed after the kill by "
                        f"member {by_member})")
    assert not problems, "; ".join(problems) + (f"; failed commits {len(fails)}, first {fails[:1]}, last {fails[-1:]}; "
                                                f"member errors {errs[:1] + errs[-1:]}")
    return (f"caught up {(now_ms() - t_stop) / 1000:.1f}s after the producer stopped; end offsets {ends}; partitions "
            f"committed after the kill by member {by_member}; {len(fails)} failed commits")


def stop_members(members, timeout=15):
    """Stops every member, all within `timeout` seconds; names those that did not close in
    time (a Java one is then killed; a Python thread is left, a daemon)."""
    for m in members:
        m.ask_stop()
    deadline = time.monotonic() + timeout
    return [m.member for m in members if not m.halt(max(0.1, deadline - time.monotonic()))]


@scenario(f"{C} gf5a none skipped: every acknowledged record is in the log at its acknowledged place, and every "
          "record of the log up to the end offsets was delivered to the group, with the log's value", timeout=90)
def gf5a_none_skipped():
    topic = need("topic", "gf1")
    events, feeder, members = need("events", "gf2"), need("feeder", "gf2"), need("members", "gf2")
    survivors = need("survivors", "gf3")
    feeder.halt()  # (already stopped unless gf4 failed early)
    stuck = stop_members(members)
    if stuck:
        info(f"gf5a: members {stuck} did not close within 15 s (stopped anyway)")
    ends = ctx.get("ends") or end_offsets(survivors, topic)
    ctx["ends"] = ends
    got = tc.read_assigned(tc.bootstrap_of(survivors), {(topic, p): OFFSET_BEGINNING for p in range(PARTITIONS)},
                           sum(ends.values()), timeout=40)
    log = {(p, o): v for p, o, _, v in got if o < ends[p]}
    holes = {p: ends[p] - sum(1 for q, _ in log if q == p) for p in range(PARTITIONS)}
    assert all(n == 0 for n in holes.values()), (
        f"the topic read back with assign() lacks records below the end offsets {ends}: missing per partition {holes}")
    evs = events.refresh()
    recs = [e for e in evs if e["ev"] == "rec"]
    ctx["recs"], ctx["commits"] = recs, [e for e in evs if e["ev"] == "commit"]
    delivered = {}
    for e in recs:
        delivered.setdefault((e["p"], e["o"]), e)
    lost = [(v, (p, o)) for v, (p, o, _) in feeder.acked.items() if log.get((p, o)) != v]
    skipped = sorted(k for k in log if k not in delivered)
    not_in_log = sorted(k for k in delivered if k not in log)
    wrong = [(k, e["v"], log[k]) for e in recs for k in [(e["p"], e["o"])] if k in log and log[k] != e["v"]]
    unacked = len(log) - len(feeder.acked) + len(lost)
    problems = []
    if lost:
        problems.append(f"{len(lost)} acknowledged records not in the log at their acknowledged (partition, offset), "
                        f"e.g. {lost[:3]}")
    if skipped:
        # Below the highest offset delivered in its partition: skipped over (a gap); above it:
        # never reached (the group stopped short of the end).
        top = {}
        for p, o in delivered:
            top[p] = max(top.get(p, -1), o)
        gaps = [(p, o) for p, o in skipped if o < top.get(p, -1)]
        short = collections.Counter(p for p, o in skipped if o > top.get(p, -1))
        if gaps:
            by_p = collections.Counter(p for p, _ in gaps)
            problems.append(f"{len(gaps)} records of the log skipped by the group (never delivered, though later "
                            f"offsets of their partition were), per partition {dict(sorted(by_p.items()))}, "
                            f"e.g. {gaps[:5]}")
        if short:
            problems.append(f"{sum(short.values())} records of the log never reached by the group: per partition, "
                            f"highest offset delivered {dict(sorted(top.items()))}, end offsets {ends}, not delivered "
                            f"{dict(sorted(short.items()))}")
    if not_in_log:
        problems.append(f"{len(not_in_log)} delivered (partition, offset)s not in the log, e.g. {not_in_log[:3]}")
    if wrong:
        problems.append(f"{len(wrong)} deliveries with another value than the log's, e.g. {wrong[:3]}")
    assert not problems, "; ".join(problems)
    return (f"{len(log)} records in the log ({len(feeder.acked)} acknowledged, {unacked} not), all delivered; "
            f"{len(recs)} deliveries in all")


@scenario(f"{C} gf5b at-least-once, no more: no record delivered after a commit past it was acknowledged, and records "
          "delivered twice only at or after their partition's last commit acknowledged before the kill", timeout=30)
def gf5b_window():
    recs, commits = need("recs", "gf5a"), need("commits", "gf5a")
    t_kill = need("t_kill", "gf3")
    # Per partition: the commits in order of acknowledgement, with the running highest offset.
    by_p = collections.defaultdict(list)
    for e in sorted(commits, key=lambda e: e["t"]):
        by_p[e["p"]].append(e)
    times = {p: [e["t"] for e in es] for p, es in by_p.items()}
    running = {}
    for p, es in by_p.items():
        best, out = None, []
        for e in es:
            if best is None or e["c"] > best["c"]:
                best = e
            out.append(best)
        running[p] = out
    before_kill = committed_by_logs(commits, before=t_kill)
    again = []     # delivered after a commit beyond its offset was acknowledged
    for e in recs:
        p = e["p"]
        i = bisect.bisect_left(times.get(p, []), e["t"])  # commits acknowledged strictly before the delivery
        if i > 0:
            c = running[p][i - 1]
            if e["o"] < c["c"]:
                again.append(f"p{p}@{e['o']} ({e['v']}) to {e['m']} at {rel(e['t'])}, after {c['m']}'s commit of "
                             f"{c['c']} acknowledged at {rel(c['t'])}")
    counts = collections.Counter((e["p"], e["o"]) for e in recs)
    dupes = sorted(k for k, n in counts.items() if n > 1)
    outside = [k for k in dupes if k[1] < before_kill.get(k[0], 0)]
    regress = []
    for p, es in by_p.items():
        hi = 0
        for e in es:
            if e["c"] < hi:
                regress.append(f"p{p}: {e['m']} committed {e['c']} at {rel(e['t'])} after {hi}")
            hi = max(hi, e["c"])
    problems = []
    if again:
        problems.append(f"{len(again)} deliveries of records already committed, e.g. {again[:3]}")
    if outside:
        by_part = collections.Counter(p for p, _ in outside)
        problems.append(f"{len(outside)} records delivered more than once below their partition's last commit before "
                        f"the kill {before_kill} (per partition {dict(sorted(by_part.items()))}), e.g. {outside[:5]}")
    if regress:
        problems.append(f"committed offsets went back {len(regress)} times, e.g. {regress[:3]}")
    assert not problems, "; ".join(problems)
    return (f"{len(dupes)} records delivered more than once, all at or after the last commits before the kill "
            f"{before_kill}")


@scenario(f"{C} gf6 the killed coordinator, restarted with the same command and data dir, rejoins: every node lists "
          "3 brokers and every partition of the topic has ISR 3 again", timeout=75)
def gf6_rejoin():
    topic, victim = need("topic", "gf1"), need("victim", "gf3")
    victim.start()
    t0 = time.monotonic()
    cluster.wait_listening([victim], 30)
    full = [1, 2, 3]
    state = {}

    def back():
        for n in cluster.nodes.values():
            md = tc.probe(n.bootstrap)
            lay = layout(md, topic)
            state[n.id] = None if md is None else (sorted(b.id for b in md.brokers.values()),
                                                   None if lay is None else {p: x[2] for p, x in lay.items()})
            if md is None or state[n.id][0] != full or lay is None or any(x[2] != full for x in lay.values()):
                return False
        return True

    tc.wait_for(f"node {victim.id} back: every node listing brokers {full} and ISR {full} for every partition", 50,
                back, lambda: f"(brokers, isr by partition) by node: {state}", step=0.5)
    ctx["rejoined"] = True
    return f"node {victim.id} rejoined {time.monotonic() - t0:.1f}s after its restart"


@scenario(f"{C} gf6b after the rejoin, describe through the restarted node names a live coordinator and the group's "
          "committed offsets are still the end offsets", timeout=40)
def gf6b_offsets_kept():
    topic, group, victim = need("topic", "gf1"), need("group", "gf2"), need("victim", "gf3")
    need("rejoined", "gf6")
    ends = need("ends", "gf4")
    state = {}

    def kept():
        d = describe_group([victim], group)
        state["describe"] = group_summary(d)
        state["committed"] = listed_offsets([victim], group, topic)
        return (not isinstance(d, str) and d.coordinator is not None and d.coordinator.id in cluster.nodes
                and state["committed"] == ends)

    tc.wait_for(f"describe and list_consumer_group_offsets through node {victim.id}: a coordinator, committed "
                f"offsets = end offsets {ends}", 20, kept, lambda: f"last seen {state}", step=0.5)
    return state["describe"]


def main():
    global cluster, java_cmd, work, cluster_pidfile
    ap = argparse.ArgumentParser()
    ap.add_argument("--weir", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--pidfile", required=True)
    ap.add_argument("java", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    java_cmd = [a for a in args.java if a != "--"]
    assert java_cmd, "no java command given (after --)"
    work = args.work
    cluster_pidfile = args.pidfile
    os.makedirs(work, exist_ok=True)
    wc.setup_logging()
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # kill -USR1 PID: every thread's stack on stderr
    handler = logging.FileHandler(os.path.join(work, "librdkafka.log"))
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    LOG.addHandler(handler)
    LOG.setLevel(logging.DEBUG)
    LOG.propagate = False
    cluster = tc.Cluster(args.weir, work, args.pidfile)
    try:
        rc = suite.run_all()
    finally:
        if "feeder" in ctx:
            ctx["feeder"].stop.set()
        stop_members(ctx.get("members", []), timeout=5)
        cluster.stop_all()
    wc.exit_now(rc)


if __name__ == "__main__":
    main()
