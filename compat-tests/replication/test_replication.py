#!/usr/bin/env python3
"""Data replication (Kafka's ISR protocol) in a weir cluster, with the stock confluent-kafka
client (librdkafka 2.16).

Starts a cluster of four weir processes of its own on 127.0.0.1 (see run.sh for the commands):
node 0 only a controller (the whole quorum: it outlives every broker), nodes 1-3 only brokers.
Every topic has replication factor 3 and min.insync.replicas=2. One PASS/FAIL line each:

  0 the cluster forms: every broker lists brokers 1-3, and Metadata's controller_id names one
    of them (Kafka's KRaft brokers answer a random live broker, which forwards admin requests to
    the quorum; a controller-only node's id would leave admin clients waiting for a broker they
    never see). If it does not, the topics below are auto-created instead (brokers' defaults:
    3 partitions, replication factor 3, min.insync.replicas=2), and the scenarios that want one
    partition use partition 0
  1 byte-identical replicas, part one: topic rf3 (3 partitions); an idempotent acks=all producer
    writes 3,000 unique values (unique keys, spread over the partitions), every one acknowledged
    without error, at contiguous offsets; a consumer reads all 3,000 back exactly once at their
    acknowledged place, the high watermarks are the counts, and the metadata of every broker
    shows ISR = the 3 replicas of each partition
  2 acks=all with brokers down (1 partition): the leader killed with SIGKILL; once it is fenced
    (no broker lists it, ISR shrunk to 2) acks=all produces succeed; a second broker killed:
    once the ISR is the last one, a producer with retries=0 gets NOT_ENOUGH_REPLICAS (error 19)
    for each message in its delivery report; the first broker restarted: once it is back in
    the ISR, acks=all produces succeed again; every acknowledged value is read back exactly
    once, and no refused one; the second broker restarted too: every partition of every topic
    (rf3's as well, whose leaders moved with the kills) has its full ISR again within 60 s
  3 failover time (1 partition): an idempotent producer with default settings writes
    continuously; the leader is killed with SIGKILL; the first acknowledged message produced
    after the kill comes less than 10 s after it; three times (the killed broker restarted and
    back in the ISR each time); min/median/max printed; everything acknowledged read back once,
    in order, at contiguous offsets
  3b preferred leader election (ElectLeaders, as kafka-leader-election.sh sends it): the
    partitions that the kills left led by another replica than their first (if none, one is made
    so by killing and restarting its leader) are handed back to their first replica (no error
    for each), the others answer ELECTION_NOT_NEEDED; every broker's metadata then shows every
    partition led by its first replica; a second election answers ELECTION_NOT_NEEDED for all;
    an election over all partitions (a null list) answers nothing; an unknown partition
    UNKNOWN_TOPIC_OR_PARTITION. (The brokers keep Kafka's auto.leader.rebalance check interval,
    300 s, so the automatic rebalance never does it first.)
  4 byte-identical replicas, part two (last, as it stops the brokers): every broker stopped
    with SIGTERM (each must exit 0 by itself), then per partition of rf3 and of the topics of 2
    and 3, the three replicas' .log segments (concatenated in base-offset order) are
    byte-identical up to the smallest high watermark of their replication-offset-checkpoint
    files (walked batch by batch); rf3's high watermarks are its acknowledged counts; whether
    the whole files match is printed

Between scenarios, every killed broker is restarted and the ISRs are full again before the next
one begins (so a failed scenario does not cascade). Scenario 4 comes last so that no restart is
needed after the clean shutdown, and it covers the replicas that went through 2 and 3's kills
and catch-ups as well as rf3's.

Usage: test_replication.py --weir BIN --work DIR --pidfile FILE
The PID of every weir started is appended to FILE (run.sh stops any left behind). Node logs:
DIR/node<N>.log; the client's own log: DIR/librdkafka.log. Every wait polls a condition against
a deadline. COMPAT_DEBUG=protocol,broker,... adds librdkafka debug logging.
"""
import argparse
import collections
import logging
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import replicas  # noqa: E402
import weir_compat as wc  # noqa: E402
from weir_compat import RUN_ID  # noqa: E402

SESSION_MS = 3000
HEARTBEAT_MS = 500
FENCED_WITHIN_S = SESSION_MS / 1000 + 15  # a killed broker fenced and out of the ISR
REJOIN_WITHIN_S = 60  # a restarted broker back in every ISR
FAILOVER_LIMIT_S = 10.0
BROKERS = (1, 2, 3)
AUTO_PARTITIONS = 3  # num.partitions: what an auto-created topic gets
C = "confluent-kafka"
DEBUG = os.environ.get("COMPAT_DEBUG", "")

suite = wc.Suite("replication", scenario_timeout=120, total_budget=300)
scenario, ctx, need = suite.scenario, wc.ctx, wc.need
cluster = None  # the Cluster, made in main()
LOG = logging.getLogger("librdkafka")
TOPICS = {}  # name -> partitions: every replicated topic made so far (scenario 4 compares them)


def info(msg):
    """A line for the reader (not a verdict: run.sh counts only PASS/FAIL lines)."""
    wc.emit(f"  {C}: {msg}")


# ---------------------------------------------------------------- the cluster
class Node:
    """One weir process: node 0 the controller (process.roles=controller), 1-3 brokers."""

    def __init__(self, weir, node_id, work, port, cport, voters, pidfile):
        self.id, self.port, self.cport = node_id, port, cport
        self.data_dir = os.path.join(work, f"node{node_id}-data")
        self.log_path = os.path.join(work, f"node{node_id}.log")
        self.pidfile = pidfile
        role = "controller" if node_id == 0 else "broker"
        # weir binds a client listener on every node (127.0.0.1:9092 unless told), so the
        # controller gets a free port of its own for it too; it never registers as a broker.
        self.cmd = [weir, "--node-id", str(node_id), "--data-dir", self.data_dir,
                    "--listeners", f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}",
                    "--override", f"process.roles={role}",
                    "--override", f"controller.quorum.voters={voters}",
                    "--override", f"broker.session.timeout.ms={SESSION_MS}",
                    "--override", f"broker.heartbeat.interval.ms={HEARTBEAT_MS}"]
        # Broker defaults, as the topics are created (only the auto-creation fallback of
        # create_topic needs them: 3 partitions, 3 replicas, min.insync.replicas=2).
        self.cmd += ["--override", "default.replication.factor=3", "--override", "min.insync.replicas=2",
                     "--override", f"num.partitions={AUTO_PARTITIONS}"]
        self.proc = None

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    def start(self):
        """Starts the process (the same command every time); does not wait for it."""
        with open(self.log_path, "ab") as log:
            log.write(f"==== {time.strftime('%H:%M:%S')} start: {' '.join(self.cmd)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        with open(self.pidfile, "a") as f:
            f.write(f"{self.proc.pid}\n")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def listening(self):
        with socket.socket() as s:
            s.settimeout(0.2)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def mark(self, what):
        """A line in the node's log, so that its lines can be matched to the scenarios."""
        with open(self.log_path, "ab") as log:
            log.write(f"==== {time.strftime('%H:%M:%S')} {what}\n".encode())

    def log_tail(self, n=3):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
        except OSError:
            return ""
        lines = [re.sub(r"\x1b\[[0-9;]*m", "", ln).strip() for ln in lines]
        lines = [ln for ln in lines if ln and not ln.startswith(("at ", "====")) and not re.match(r"\d+: ", ln)]
        errs = [ln for ln in lines if re.search(r"(?i)error|panicked", ln)]
        return " | ".join(errs[:1] + lines[-n:])

    def kill9(self):
        self.mark("SIGKILL")
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self, timeout=15, signalled=False):
        """SIGTERM (unless `signalled`: sent already), then SIGKILL if it is still running
        `timeout` s later. Returns the exit status and whether it stopped by itself."""
        if not self.alive():
            return None if self.proc is None else self.proc.returncode, True
        if not signalled:
            self.mark("SIGTERM")
            self.proc.terminate()
        try:
            return self.proc.wait(timeout), True
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(15), False


class Cluster:
    def __init__(self, weir, work, pidfile):
        ports = set()
        while len(ports) < 8:  # eight distinct free ports: 4 client, 4 controller listeners
            ports.add(wc.free_port())
        ports = sorted(ports)
        voters = f"0@127.0.0.1:{ports[4]}"
        self.nodes = {i: Node(weir, i, work, ports[i], ports[4 + i], voters, pidfile) for i in range(4)}
        self.brokers = {i: self.nodes[i] for i in BROKERS}

    def live(self):
        return [n for n in self.brokers.values() if n.alive()]

    def bootstrap(self):
        """The client ports of the brokers that run (the controller serves no client)."""
        return ",".join(n.bootstrap for n in self.live())

    def wait_listening(self, nodes, timeout):
        """Waits until every node's client port accepts connections; fails if one exits."""
        deadline = time.monotonic() + timeout
        for n in nodes:
            while not n.listening():
                if not n.alive():
                    raise AssertionError(f"node {n.id} exited with status {n.proc.returncode}: {n.log_tail()}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"node {n.id}'s port {n.port} not open {timeout:.0f}s after the start: "
                                         f"{n.log_tail()}")
                time.sleep(0.1)  # polling interval, bounded by the deadline above

    def stop_all(self):
        # The brokers first: their controlled shutdown needs the controller.
        for n in sorted(self.nodes.values(), key=lambda n: n.id == 0):
            try:
                n.stop()
            except Exception as e:  # noqa: BLE001 - cleanup goes on; run.sh reaps what is left
                print(f"stopping node {n.id}: {e}", file=sys.stderr)


# ---------------------------------------------------------------- client helpers
def conf(bootstrap, **extra):
    c = {"bootstrap.servers": bootstrap, "broker.address.family": "v4", "socket.timeout.ms": 10000,
         "socket.connection.setup.timeout.ms": 3000, "reconnect.backoff.ms": 50,
         "reconnect.backoff.max.ms": 500, "topic.metadata.refresh.interval.ms": 2000, "logger": LOG}
    if DEBUG:
        c["debug"] = DEBUG
    c.update({k.replace("_", "."): v for k, v in extra.items()})
    return c


def probe(bootstrap, timeout=3.0):
    """ClusterMetadata from a fresh AdminClient that knows only `bootstrap` (so the Metadata
    request goes to that node), or None if it got no answer in time."""
    a = AdminClient(conf(bootstrap))
    try:
        return a.list_topics(timeout=timeout)
    except KafkaException:
        return None


def partitions_of(md, topic):
    """{partition: (leader, replicas, isr)} of `topic` in ClusterMetadata md (lists sorted);
    None if it is not listed without error."""
    t = md.topics.get(topic) if md else None
    if t is None or t.error is not None or not t.partitions:
        return None
    return {p.id: (p.leader, sorted(p.replicas), sorted(p.isrs)) for p in t.partitions.values()}


def view(topics):
    """{node id: ({broker ids}, {topic: partitions_of})} as every running broker answers."""
    out = {}
    for n in cluster.live():
        md = probe(n.bootstrap)
        out[n.id] = None if md is None else ({b for b in md.brokers}, {t: partitions_of(md, t) for t in topics})
    return out


def wait_for(what, timeout, cond, state, step=0.25):
    """Polls cond() until true or `timeout` seconds pass (then fails with `what` and state())."""
    if not wc.wait_until(cond, timeout, step=step):
        raise AssertionError(f"{what} not reached within {timeout:.0f}s; {state()}")


def wait_view(what, topics, timeout, good, describe=None):
    """Waits until every running broker's metadata satisfies good(brokers, {topic: parts});
    returns the last view. On failure the last view is described by describe(view), else in
    full."""
    state = {}

    def ok():
        state["v"] = view(topics)
        return all(v is not None and good(*v) for v in state["v"].values())

    wait_for(what, timeout, ok, lambda: (describe(state.get("v") or {}) if describe else
                                         f"(brokers, partitions) by node: {state.get('v')}"), step=0.5)
    return state["v"]


def not_full(v):
    """What keeps the view `v` from every broker listing 1-3 and every ISR full (for messages)."""
    out = []
    for node, seen in sorted(v.items()):
        if seen is None:
            out.append(f"broker {node}: no metadata")
            continue
        brokers, parts = seen
        if brokers != set(BROKERS):
            out.append(f"broker {node} lists brokers {sorted(brokers)}")
        for t, ps in sorted(parts.items()):
            if ps is None:
                out.append(f"broker {node}: {t} not listed")
                continue
            out += [f"broker {node}: {t}-{p} leader {leader} isr {isr}" for p, (leader, reps, isr) in sorted(ps.items())
                    if isr != reps or leader not in isr]
    return "; ".join(out)


def full_isr(parts, n):
    """Every partition led, n replicas, all of them in the ISR."""
    return parts is not None and all(
        leader in isr and len(reps) == n and isr == reps for leader, reps, isr in parts.values())


def wait_full_isr(topics, timeout=REJOIN_WITHIN_S):
    """Every running broker lists brokers 1-3 and every partition of `topics` with ISR = its 3
    replicas and a leader in it."""
    return wait_view(f"brokers {list(BROKERS)} and a full ISR for {topics} on every broker", topics, timeout,
                     lambda brokers, parts: brokers == set(BROKERS) and all(full_isr(parts[t], 3) for t in topics),
                     describe=lambda v: f"not there: {not_full(v)}")


def restore(topics=()):
    """Restarts every broker that is down; waits until every broker lists brokers 1-3 and
    `topics` have full ISRs. (Only the topics the scenario uses: a replica that another
    scenario left out of sync fails that scenario, or 4, not this one.)"""
    down = [n for n in cluster.brokers.values() if not n.alive()]
    for n in down:
        n.start()
    cluster.wait_listening(cluster.brokers.values(), 30)
    wait_full_isr(list(topics))
    if down:
        info(f"restarted broker(s) {[n.id for n in down]} left down by the scenario before")


def create_topic(name, partitions):
    """A topic with replication factor 3 and min.insync.replicas=2, created with
    AdminClient.create_topics; waits for a full ISR on every broker. Returns {partition:
    (leader, replicas, isr)}.

    When scenario 0 found that admin requests cannot reach a controller (Metadata's
    controller_id not a live broker: librdkafka then waits for it in vain), the topic is
    auto-created instead, by a producer's Metadata request, with the brokers' defaults
    (num.partitions=3, default.replication.factor=3, min.insync.replicas=2): the scenarios that
    want one partition then use partition 0 of three."""
    if ctx.get("admin_create", True):
        a = AdminClient(conf(cluster.bootstrap()))
        a.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=3,
                                  config={"min.insync.replicas": "2"})],
                        operation_timeout=15, request_timeout=20)[name].result(25)
    else:
        partitions = AUTO_PARTITIONS
        p = Producer(conf(cluster.bootstrap(), allow_auto_create_topics=True))
        wait_for(f"topic {name} auto-created through a producer's Metadata request", 20,
                 lambda: partitions_of(p.list_topics(name, timeout=5), name) is not None,
                 lambda: "not listed")
    TOPICS[name] = partitions
    v = wait_view(f"topic {name}: {partitions} partitions, each with 3 replicas all in the ISR, on every broker",
                  [name], 30, lambda brokers, parts: full_isr(parts[name], 3) and len(parts[name]) == partitions)
    return next(iter(v.values()))[1][name]


class Acks:
    """Delivery reports of a producer: acknowledged {value: (partition, offset)}, failed
    [(value, KafkaError)], and when each came (time.monotonic())."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked, self.failed, self.when = {}, [], {}

    def __call__(self, err, msg):
        v = msg.value().decode()
        with self.lock:
            self.when[v] = time.monotonic()
            if err is not None:
                self.failed.append((v, err))
            else:
                self.acked[v] = (msg.partition(), msg.offset())


def produce(p, topic, values, acks, timeout=30, key_of=None, partition=None):
    """Produces `values` (key: key_of(value) or none; to `partition` or the partitioner's
    choice) and flushes; fails if any is still unreported after `timeout` s."""
    for v in values:
        kw = {} if key_of is None else {"key": key_of(v).encode()}
        if partition is not None:
            kw["partition"] = partition
        while True:
            try:
                p.produce(topic, value=v.encode(), on_delivery=acks, **kw)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    left = p.flush(timeout)
    assert left == 0, f"{left} of {len(values)} messages unreported {timeout}s after flush(); failures {acks.failed[:3]}"


def read_all(topic, partitions, want, timeout=60):
    """Reads every partition of `topic` from the beginning with assign() until `want` records
    came (then a little longer, to see a duplicate) or the deadline: [(partition, offset,
    value)]."""
    c = Consumer(conf(cluster.bootstrap(), group_id=wc.unique("repl-read"), enable_auto_commit=False,
                      auto_offset_reset="earliest", fetch_wait_max_ms=100))
    got, errs = [], []
    try:
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        deadline = time.monotonic() + timeout
        extra_until = None
        while time.monotonic() < deadline and (extra_until is None or time.monotonic() < extra_until):
            m = c.poll(0.2)
            if len(got) >= want and extra_until is None:
                extra_until = time.monotonic() + 1.0  # anything past `want` is a duplicate or unknown
            if m is None:
                continue
            if m.error():
                if m.error().code() != KafkaError._PARTITION_EOF:
                    errs.append(str(m.error()))
                continue
            got.append((m.partition(), m.offset(), m.value().decode()))
        ends = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions)}
    finally:
        c.close()
    if errs:
        info(f"consumer errors on {topic} (retried by the client): {errs[:3]}")
    return got, ends


def check_read(got, acked, what, refused=()):
    """Asserts that `got` ([(partition, offset, value)]) is exactly the acknowledged messages
    {value: (partition, offset)}, each once, each at its acknowledged place, none of `refused`."""
    counts = collections.Counter(v for _, _, v in got)
    dupes = [v for v, n in counts.items() if n > 1]
    missing = [v for v in acked if v not in counts]
    present_refused = [v for v in refused if v in counts]
    extra = [v for v in counts if v not in acked and v not in refused]
    misplaced = [(v, (p, o), acked[v]) for p, o, v in got if v in acked and acked[v] != (p, o)]
    assert not (dupes or missing or extra or misplaced or present_refused), (
        f"{what}: read {len(got)} records for {len(acked)} acknowledged; missing {len(missing)} {missing[:3]}, "
        f"duplicated {len(dupes)} {dupes[:3]}, never produced or unacknowledged {len(extra)} {extra[:3]}, "
        f"refused yet in the log {len(present_refused)} {present_refused[:3]}, not at the acknowledged "
        f"(partition, offset) {len(misplaced)} {misplaced[:3]}")


def contiguous(acked, partitions):
    """{partition: count} after checking that each partition's acknowledged offsets are 0..n-1."""
    by_p = collections.defaultdict(list)
    for p, o in acked.values():
        by_p[p].append(o)
    counts = {}
    for p in range(partitions):
        offs = sorted(by_p.get(p, []))
        assert offs == list(range(len(offs))), (
            f"partition {p}: acknowledged offsets are not 0..{len(offs) - 1}: first {offs[:5]}, last {offs[-3:]}")
        counts[p] = len(offs)
    return counts


# ---------------------------------------------------------------- scenarios
RF3 = f"rf3-{RUN_ID}"
N_RF3 = 3000


@scenario(f"{C} 0 the cluster forms: every broker lists brokers 1-3 (not the controller-only node 0), and "
          "Metadata's controller_id names one of them, so that admin requests (CreateTopics) find a broker "
          "to send to", timeout=75)
def s0_forms():
    t0 = time.monotonic()
    for n in cluster.nodes.values():
        n.start()
    cluster.wait_listening(cluster.nodes.values(), 30)
    wait_view("the cluster: every broker listing brokers 1-3", [], 60, lambda brokers, _: brokers == set(BROKERS))
    info(f"0: 3 brokers and the controller up {time.monotonic() - t0:.1f}s after the start")
    ctx["started"] = True  # the later scenarios run even if the controller id is wrong
    ids = {n.id: getattr(probe(n.bootstrap), "controller_id", None) for n in cluster.live()}
    if not all(i in BROKERS for i in ids.values()):
        ctx["admin_create"] = False
        raise AssertionError(
            f"Metadata's controller_id by broker: {ids}; not a live broker, so librdkafka's (and the Java "
            "client's) admin requests wait for it until they time out (\"Failed while waiting for controller\"). "
            "Kafka's KRaft brokers answer a random live broker, which forwards the request to the quorum. "
            "The scenarios below create their topics by auto-creation instead")


@scenario(f"{C} 1 rf3 (3 partitions, RF 3, min.insync.replicas=2): 3,000 values from an idempotent acks=all "
          "producer all acknowledged, read back exactly once at their acknowledged places, ISR = the 3 "
          "replicas of each partition on every broker", timeout=100)
def s1_rf3():
    need("started", "0")
    parts = create_topic(RF3, 3)
    info(f"1: {RF3}: (leader, replicas, isr) {parts}")
    acks = Acks()
    p = Producer(conf(cluster.bootstrap(), enable_idempotence=True, acks="all", linger_ms=5))
    values = [f"rf3-{i:05d}" for i in range(N_RF3)]
    produce(p, RF3, values, acks, timeout=60, key_of=lambda v: "k" + v)
    assert not acks.failed and len(acks.acked) == N_RF3, (
        f"acknowledged {len(acks.acked)} of {N_RF3}; failures {len(acks.failed)} {acks.failed[:3]}")
    counts = contiguous(acks.acked, 3)
    assert all(counts.values()), f"the keys did not spread over the 3 partitions: {counts}"
    got, ends = read_all(RF3, 3, N_RF3)
    check_read(got, acks.acked, "read from the beginning")
    assert ends == counts, f"high watermarks {ends}, expected the acknowledged counts {counts}"
    ctx["rf3_counts"] = counts
    wait_full_isr([RF3], 30)
    info(f"1: {N_RF3} values over partitions {counts}, read back once each; ISR full on every broker")


@scenario(f"{C} 2 acks=all with brokers down (1 partition, RF 3, min.insync.replicas=2): leader killed and "
          "fenced -> acks=all succeeds; a second broker killed -> retries=0 gets NOT_ENOUGH_REPLICAS (19); "
          "one restarted and back in the ISR -> acks=all succeeds; every acknowledged value read back once; "
          "the other restarted: every ISR of every topic full again",
          timeout=150)
def s2_acks_all_down():
    need("started", "0")
    restore()
    topic = f"s2-{RUN_ID}"
    parts = create_topic(topic, 1)
    leader, replicas, _ = parts[0]
    acks = Acks()
    p = Producer(conf(cluster.bootstrap(), enable_idempotence=True, acks="all", linger_ms=5,
                      message_timeout_ms=30000))
    seq = iter(range(1_000_000))

    def batch(tag, n=50):
        values = [f"s2-{tag}-{next(seq):05d}" for _ in range(n)]
        produce(p, topic, values, acks, partition=0)
        bad = [(v, str(e)) for v, e in acks.failed if v in values]
        assert not bad, f"{tag}: {len(bad)} of {n} acks=all messages failed, e.g. {bad[:3]}"
        return values

    batch("all-up")
    # The leader first: it is fenced, a follower takes over with an ISR of two.
    first = cluster.brokers[leader]
    first.kill9()
    t0 = time.monotonic()
    v = wait_view(f"broker {first.id} (the leader) fenced: no broker lists it, {topic} led by another with "
                  "ISR = the other two", [topic], FENCED_WITHIN_S,
                  lambda brokers, parts: first.id not in brokers and parts[topic] is not None
                  and parts[topic][0][0] not in (-1, first.id)
                  and parts[topic][0][2] == sorted(set(replicas) - {first.id}))
    leader2 = next(iter(v.values()))[1][topic][0][0]
    info(f"2: leader {first.id} killed; {time.monotonic() - t0:.1f}s later fenced, {leader2} leads with ISR "
         f"{next(iter(v.values()))[1][topic][0][2]}")
    batch("one-down")
    # Then the other follower: the ISR is the leader alone, below min.insync.replicas.
    second = cluster.brokers[next(i for i in replicas if i not in (first.id, leader2))]
    second.kill9()
    t0 = time.monotonic()
    wait_view(f"broker {second.id} fenced too: {topic} led by {leader2} with ISR [{leader2}]", [topic],
              FENCED_WITHIN_S, lambda brokers, parts: second.id not in brokers and parts[topic] is not None
              and parts[topic][0][0] == leader2 and parts[topic][0][2] == [leader2])
    info(f"2: broker {second.id} killed; {time.monotonic() - t0:.1f}s later ISR [{leader2}]")
    refused = Acks()
    q = Producer(conf(cluster.bootstrap(), acks="all", retries=0, enable_idempotence=False, linger_ms=0,
                      message_timeout_ms=20000))
    probes = [f"s2-refused-{i}" for i in range(5)]
    produce(q, topic, probes, refused, timeout=25, partition=0)
    codes = collections.Counter(e.code() for _, e in refused.failed)
    assert not refused.acked and codes == {KafkaError.NOT_ENOUGH_REPLICAS: len(probes)}, (
        f"with ISR [{leader2}] < min.insync.replicas=2 and retries=0: {len(refused.acked)} of {len(probes)} "
        f"acknowledged {sorted(refused.acked.items())[:3]}, delivery errors "
        f"{[(v, e.code(), e.str()) for v, e in refused.failed][:5]} (expected NOT_ENOUGH_REPLICAS, 19, for each)")
    # The first one back: once it is in the ISR again, acks=all works again.
    first.start()
    t0 = time.monotonic()
    cluster.wait_listening([first], 30)
    wait_view(f"broker {first.id} restarted and back in the ISR of {topic} (with {leader2})", [topic],
              REJOIN_WITHIN_S, lambda brokers, parts: first.id in brokers and parts[topic] is not None
              and parts[topic][0][2] == sorted({first.id, leader2}) and parts[topic][0][0] in (first.id, leader2))
    info(f"2: broker {first.id} restarted, back in the ISR {time.monotonic() - t0:.1f}s later")
    batch("back")
    got, ends = read_all(topic, TOPICS[topic], len(acks.acked))
    check_read(got, acks.acked, "read from the beginning", refused=probes)
    counts = contiguous(acks.acked, TOPICS[topic])
    assert ends == counts, f"high watermark {ends}, expected the acknowledged count {counts}"
    # The second one back too: every replica of every topic (rf3's too, whose leaders moved
    # with these kills) catches up and rejoins its ISR.
    second.start()
    t0 = time.monotonic()
    cluster.wait_listening([second], 30)
    wait_full_isr(sorted(TOPICS))
    info(f"2: broker {second.id} restarted; every ISR of {sorted(TOPICS)} full {time.monotonic() - t0:.1f}s later")


@scenario(f"{C} 3 failover: an idempotent producer (default settings) writing continuously; the leader killed "
          f"with SIGKILL, the first acknowledged message produced after the kill comes within "
          f"{FAILOVER_LIMIT_S:.0f}s; 3 times; all read back once, in order, no gaps", timeout=170)
def s3_failover():
    need("started", "0")
    restore()
    topic = f"s3-{RUN_ID}"
    create_topic(topic, 1)
    acks = Acks()
    sent = {}  # value -> time.monotonic() of produce()
    order = []  # values in produce order
    stop = threading.Event()
    failure = []

    def writer():
        p = Producer(conf(cluster.bootstrap(), enable_idempotence=True))
        i = 0
        try:
            while not stop.is_set():
                v = f"s3-{i:06d}"
                try:
                    p.produce(topic, value=v.encode(), partition=0, on_delivery=acks)
                except BufferError:
                    p.poll(0.05)
                    continue
                with acks.lock:
                    sent[v] = time.monotonic()
                order.append(v)
                i += 1
                p.poll(0.005)  # serves delivery reports; paces the writer at ~200 messages/s
            left = p.flush(60)
            if left:
                failure.append(f"{left} messages unreported 60s after flush()")
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            failure.append(f"{type(e).__name__}: {e}")

    th = threading.Thread(target=writer, daemon=True)
    th.start()
    times = []
    try:
        for rnd in range(3):
            restore([topic])  # the broker killed last round is back in the ISR already
            md = view([topic])
            leader = next(iter(md.values()))[1][topic][0][0]
            start_acked = len(acks.acked)
            wait_for(f"round {rnd + 1}: deliveries before the kill", 15, lambda: len(acks.acked) > start_acked + 20,
                     lambda: f"{len(acks.acked)} acknowledged, failures {acks.failed[:3]}")
            victim = cluster.brokers[leader]
            victim.kill9()
            t_kill = time.monotonic()

            def first_after():
                with acks.lock:
                    ts = [acks.when[v] for v in acks.acked if sent.get(v, 0) > t_kill]
                return min(ts) if ts else None

            wait_for(f"round {rnd + 1}: an acknowledged message produced after leader {leader}'s kill",
                     FAILOVER_LIMIT_S + 20, lambda: first_after() is not None,
                     lambda: f"failures {acks.failed[:3]}; writer {failure}")
            took = first_after() - t_kill
            times.append(took)
            info(f"3: round {rnd + 1}: leader {leader} killed, first acknowledged message produced after the kill "
                 f"{took:.2f}s later")
            victim.start()
            cluster.wait_listening([victim], 30)
            wait_full_isr([topic])
    finally:
        stop.set()
        th.join(90)
    assert not failure, f"the writer: {failure}"
    assert not acks.failed, f"{len(acks.failed)} delivery failures, e.g. {[(v, str(e)) for v, e in acks.failed[:3]]}"
    assert len(acks.acked) == len(order), f"acknowledged {len(acks.acked)} of {len(order)} produced"
    info(f"3: failover times min {min(times):.2f}s, median {statistics.median(times):.2f}s, max {max(times):.2f}s "
         f"over {len(times)} kills; {len(order)} messages")
    slow = [f"{t:.2f}s" for t in times if t >= FAILOVER_LIMIT_S]
    assert not slow, f"failovers not under {FAILOVER_LIMIT_S:.0f}s: {slow} (all: {[f'{t:.2f}' for t in times]})"
    got, ends = read_all(topic, TOPICS[topic], len(order))
    check_read(got, acks.acked, "read from the beginning")
    read_order = [v for _, _, v in sorted(got)]
    assert read_order == order, "the log's order is not the produce order: first difference at " + str(
        next((i, a, b) for i, (a, b) in enumerate(zip(read_order + [None] * len(order), order)) if a != b))
    counts = contiguous(acks.acked, TOPICS[topic])
    assert ends == counts, f"high watermark {ends}, expected the acknowledged count {counts}"


def preferred_view():
    """{(topic, partition): (leader, preferred replica)} of every topic so far, as each running
    broker answers: {node id: that dict or None}."""
    out = {}
    for n in cluster.live():
        md = probe(n.bootstrap)
        if md is None:
            out[n.id] = None
            continue
        seen = {}
        for t in TOPICS:
            tm = md.topics.get(t)
            for p in (tm.partitions.values() if tm is not None and tm.error is None else []):
                seen[(t, p.id)] = (p.leader, p.replicas[0] if p.replicas else None)
        out[n.id] = seen
    return out


def err_code(e):
    """The error code of an elect_leaders result (None: elected), whether the binding gives a
    KafkaError or a KafkaException holding one."""
    if e is None:
        return None
    return e.code() if hasattr(e, "code") else e.args[0].code()


def off_preferred(view):
    return sorted({tp for seen in view.values() if seen for tp, (leader, pref) in seen.items() if leader != pref})


@scenario(f"{C} 3b preferred leader election (ElectLeaders, what kafka-leader-election.sh sends): partitions "
          "led by another replica since the kills are handed back to their first replica (None per partition), "
          "the others answer ELECTION_NOT_NEEDED, as does a second election; all partitions at once hands "
          "back only other topics' partitions (__consumer_offsets), then answers nothing to do; an unknown partition UNKNOWN_TOPIC_OR_PARTITION", timeout=120)
def s3b_elect_leaders():
    from confluent_kafka import ElectionType
    need("started", "0")
    restore(sorted(TOPICS))
    view = preferred_view()
    moved = off_preferred(view)
    if not moved:
        # Every partition is home: move one away (its preferred leader killed and restarted).
        t = sorted(TOPICS)[0]
        seen = next(v for v in view.values() if v)
        leader = seen[(t, 0)][0]
        cluster.brokers[leader].kill9()
        wait_for(f"{t}-0 led by another broker than {leader}", FENCED_WITHIN_S,
                 lambda: all(v and v[(t, 0)][0] not in (leader, -1) for v in preferred_view().values()),
                 lambda: preferred_view())
        restore(sorted(TOPICS))
        moved = off_preferred(preferred_view())
    assert moved, "no partition is led by another replica than its first"
    everything = [TopicPartition(t, p) for t, n in sorted(TOPICS.items()) for p in range(n)]
    a = AdminClient(conf(cluster.bootstrap()))
    # No timeout arguments: confluent-kafka 2.16's binding refuses both (its keyword list is
    # short); the defaults come from socket.timeout.ms (10 s here).
    res = a.elect_leaders(ElectionType.PREFERRED, everything).result(40)
    got = {(tp.topic, tp.partition): err_code(e) for tp, e in res.items()}
    want = {(tp.topic, tp.partition): (None if (tp.topic, tp.partition) in moved else KafkaError.ELECTION_NOT_NEEDED)
            for tp in everything}
    assert got == want, f"results {got}, expected {want} (moved: {moved})"
    wait_for("every partition led by its first replica on every broker", 20,
             lambda: not off_preferred(preferred_view()), lambda: off_preferred(preferred_view()))
    info(f"3b: {len(moved)} partition(s) handed back to their preferred leader: {moved}")
    again = a.elect_leaders(ElectionType.PREFERRED, everything).result(40)
    not_needed = [tp for tp, e in again.items() if err_code(e) != KafkaError.ELECTION_NOT_NEEDED]
    assert not not_needed, f"a second election: not ELECTION_NOT_NEEDED for {not_needed}: {again}"
    # Partitions of other topics (__consumer_offsets, created by the groups of earlier
    # scenarios) may be off their first replica too since the kills: an election for all
    # partitions hands back those (and none of ours); a second one has nothing to do.
    settle = a.elect_leaders(ElectionType.PREFERRED, None).result(40)
    ours = [tp for tp in settle if tp.topic in TOPICS]
    failed = {tp: e for tp, e in settle.items() if err_code(e) is not None}
    assert not ours and not failed, f"an election for all partitions answered {settle}"
    everyone = a.elect_leaders(ElectionType.PREFERRED, None).result(40)
    assert everyone == {}, f"an election for all partitions with nothing to do answered {everyone}"
    unknown = a.elect_leaders(ElectionType.PREFERRED, [TopicPartition(RF3, 99)]).result(40)
    codes = [err_code(e) for e in unknown.values()]
    assert codes == [KafkaError.UNKNOWN_TOPIC_OR_PART], f"an unknown partition answered {unknown}"


MOVES = f"moves-{RUN_ID}"
# {(topic, partition): the replicas a completed reassignment left}: scenario 4 compares those.
MOVED = {}
JAVA_CP = None


def reassign(*argv):
    """Runs Reassign.java (kafka-clients 4.1.1's Admin) with these arguments after the
    bootstrap: its output lines, split."""
    out = subprocess.run(["java", "-cp", JAVA_CP, "Reassign", cluster.bootstrap(), *argv],
                         capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, f"Reassign {argv} exited {out.returncode}: {out.stderr[-800:]}"
    return [line.split(" ", 3) for line in out.stdout.splitlines() if line.strip()]


def moves_in_progress(*tps):
    """{"topic:partition": (replicas, adding, removing)} that ListPartitionReassignments lists."""
    lines = reassign("list", *tps)
    assert lines and lines[-1] == ["END"], f"list answered {lines}"
    ids = lambda s: [] if s == "-" else [int(b) for b in s.split(",")]
    return {tp: tuple(ids(x) for x in rest.split(" ")) for _, tp, rest in
            [(l[0], l[1], " ".join(l[2:])) for l in lines[:-1]]}


def data_dir_has(node, topic, p):
    return os.path.isdir(os.path.join(node.data_dir, f"{topic}-{p}"))


THROTTLE_RATE = 100_000  # bytes/s


def throttled_move(p, before):
    """Part of 3c: partition 0 ([3,1], led by 1) gets about 3 MB more, then moves to [2,1] with
    Kafka's throttle as kafka-reassign-partitions.sh --throttle sets it (the rates on the
    brokers involved, the throttled replicas on the topic): broker 2 must copy the whole log at
    100 kB/s, so the move is still listed 3 s later (unthrottled it takes well under a second
    here); DescribeConfigs shows the rate as a dynamic broker config; once the throttle is
    removed, the move completes and every value is read back once."""
    acks = Acks()
    pad = "x" * 2000
    produce(p, MOVES, [f"big-{i:05d}-{pad}" for i in range(1500)], acks, partition=0, timeout=60)
    assert not acks.failed, f"big values refused: {acks.failed[:3]}"
    rates = [f"leader.replication.throttled.rate={THROTTLE_RATE}", f"follower.replication.throttled.rate={THROTTLE_RATE}"]
    for b in (1, 2, 3):
        got = reassign("config", "broker", str(b), *rates)
        assert got == [["OK"]], f"setting the throttle rates on broker {b} answered {got}"
    got = reassign("config", "topic", MOVES, "leader.replication.throttled.replicas=0:3,0:1",
                   "follower.replication.throttled.replicas=0:2")
    assert got == [["OK"]], f"setting the throttled replicas answered {got}"
    got = reassign("describe", "broker", "1", "leader.replication.throttled.rate")
    assert got == [["VALUE", str(THROTTLE_RATE), "DYNAMIC_BROKER_CONFIG"]], f"DescribeConfigs answered {got}"
    refused = reassign("config", "broker", "1", "num.partitions=5")
    assert refused and refused[0][0] == "ERR", f"a static broker config changed at run time: {refused}"
    started = time.monotonic()
    got = reassign("alter", f"{MOVES}:0=2,1")
    assert got[0][0] == "OK", f"the throttled move answered {got}"
    # The rate bounds the copy: ~3 MB at 100 kB/s is ~30 s; 3 s in, it must still be going.
    while time.monotonic() < started + 3:
        listed = moves_in_progress(f"{MOVES}:0")
        assert listed == {f"{MOVES}:0": ([2, 1, 3], [2], [3])}, (
            f"{time.monotonic() - started:.1f}s into a move throttled to {THROTTLE_RATE} B/s: listed {listed}")
        time.sleep(0.5)
    for b in (1, 2, 3):
        got = reassign("config", "broker", str(b), "leader.replication.throttled.rate=",
                       "follower.replication.throttled.rate=")
        assert got == [["OK"]], f"removing the throttle on broker {b} answered {got}"
    got = reassign("config", "topic", MOVES, "leader.replication.throttled.replicas=",
                   "follower.replication.throttled.replicas=")
    assert got == [["OK"]], f"removing the throttled replicas answered {got}"
    held = time.monotonic() - started
    wait_for("the move unthrottled completes", 60, lambda: moves_in_progress() == {}, lambda: moves_in_progress())
    info(f"3c: a move of {MOVES}-0 throttled to {THROTTLE_RATE} B/s was still in progress {held:.1f}s after it began; "
         f"unthrottled, it completed {time.monotonic() - started:.1f}s after it began")
    wait_view(f"{MOVES}-0: replicas [1,2], all in sync, on every broker", [MOVES], 30,
              lambda b, parts: parts[MOVES] is not None and parts[MOVES][0][1:] == ([1, 2], [1, 2]))
    MOVED[(MOVES, 0)] = [2, 1]
    got, _ = read_all(MOVES, 2, before + len(acks.acked), timeout=60)
    big = [g for g in got if g[2].startswith("big-")]
    check_read(big, acks.acked, f"{MOVES} after the throttled move")


@scenario(f"{C} 3c reassignment (Java Admin 4.1.1's alterPartitionReassignments / listPartitionReassignments, "
          "as kafka-reassign-partitions.sh sends them): [1,2] and [2,3] moved to [3,1] and [1] under an acks=all "
          "writer; the moves complete, the metadata shows the targets, the leaving brokers delete their copies, "
          "every acknowledged value is read back once; a move throttled as kafka-reassign-partitions.sh --throttle "
          "sets it is held to its rate until the throttle goes; bad targets and cancellations get Kafka's errors; "
          "a move onto a broker that is down stays listed until cancelled", timeout=300)
def s3c_reassign():
    need("started", "0")
    if not ctx.get("admin_create", True):
        raise AssertionError("skipped: admin requests cannot reach a controller (scenario 0)")
    restore()
    a = AdminClient(conf(cluster.bootstrap()))
    a.create_topics([NewTopic(MOVES, num_partitions=2, replica_assignment=[[1, 2], [2, 3]],
                             config={"min.insync.replicas": "1"})],  # it ends with one replica
                    operation_timeout=15, request_timeout=20)[MOVES].result(25)
    wait_view(f"{MOVES}: replicas [1,2] and [2,3] in sync on every broker", [MOVES], 30,
              lambda b, parts: parts[MOVES] is not None and {p: (r, i) for p, (_, r, i) in parts[MOVES].items()}
              == {0: ([1, 2], [1, 2]), 1: ([2, 3], [2, 3])})
    acks = Acks()
    p = Producer(conf(cluster.bootstrap(), enable_idempotence=True, linger_ms=5))
    produce(p, MOVES, [f"m-{i:06d}" for i in range(2000)], acks, key_of=lambda v: v)
    # A writer keeps going through the moves.
    stop = threading.Event()

    def writer():
        i = 2000
        while not stop.is_set():
            v = f"m-{i:06d}"
            try:
                p.produce(MOVES, key=v.encode(), value=v.encode(), on_delivery=acks)
                i += 1
            except BufferError:
                pass
            p.poll(0.005)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        got = reassign("alter", f"{MOVES}:0=3,1", f"{MOVES}:1=1")
        assert [g[0] for g in got] == ["OK", "OK"], f"alter answered {got}"
        wait_for("no move listed any more (ListPartitionReassignments)", 60,
                 lambda: moves_in_progress() == {}, lambda: moves_in_progress())
        wait_view(f"{MOVES}: replicas [1,3] (target [3,1]) and [1], all in sync, on every broker", [MOVES], 30,
                  lambda b, parts: parts[MOVES] is not None and {pp: (r, i) for pp, (_, r, i) in parts[MOVES].items()}
                  == {0: ([1, 3], [1, 3]), 1: ([1], [1])})
        md = probe(cluster.bootstrap())
        order = {pid: list(pm.replicas) for pid, pm in md.topics[MOVES].partitions.items()}
        assert order == {0: [3, 1], 1: [1]}, f"replica order {order}, expected the targets' [3, 1] and [1]"
        wait_for("the leaving brokers deleted their copies (broker 2: both partitions; broker 3: partition 1)", 30,
                 lambda: not any(data_dir_has(cluster.brokers[b], MOVES, pp) for b, pp in [(2, 0), (2, 1), (3, 1)]),
                 lambda: {(b, pp): data_dir_has(cluster.brokers[b], MOVES, pp) for b, pp in [(2, 0), (2, 1), (3, 1)]})
        before = len(acks.acked)
        wait_for("new acknowledgements after the moves", 20, lambda: len(acks.acked) > before + 50,
                 lambda: f"{len(acks.acked) - before} new, failures {acks.failed[:3]}")
    finally:
        stop.set()
        t.join(10)
    left = p.flush(30)
    assert left == 0 and not acks.failed, f"{left} unreported, failures {acks.failed[:3]}"
    got, ends = read_all(MOVES, 2, len(acks.acked))
    check_read(got, acks.acked, MOVES)
    info(f"3c: {len(acks.acked)} values written across the moves, all read back once; ends {ends}")
    MOVED.update({(MOVES, 0): [3, 1], (MOVES, 1): [1]})
    throttled_move(p, len(acks.acked))
    # Kafka's errors.
    got = reassign("alter", f"{MOVES}:0=1,9", f"{MOVES}:1=cancel", f"{MOVES}:7=1") + reassign("alter", f"{MOVES}:0=2,2")
    errors = [g[2] if g[0] == "ERR" else "OK" for g in got]
    assert errors == ["InvalidReplicaAssignmentException", "NoReassignmentInProgressException",
                      "UnknownTopicOrPartitionException", "InvalidReplicaAssignmentException"], f"answered {got}"
    # A move onto a broker that is down: listed until cancelled.
    cluster.brokers[2].kill9()
    got = reassign("alter", f"{MOVES}:1=1,2")
    assert got[0][0] == "OK", f"a move onto stopped broker 2 answered {got}"
    listed = moves_in_progress(f"{MOVES}:1", f"{MOVES}:0")
    assert listed == {f"{MOVES}:1": ([1, 2], [2], [])}, f"listed {listed}"
    got = reassign("alter", f"{MOVES}:1=cancel")
    assert got[0][0] == "OK", f"the cancellation answered {got}"
    assert moves_in_progress() == {}, "still listed after the cancellation"
    md = probe(cluster.bootstrap())
    reps = list(md.topics[MOVES].partitions[1].replicas)
    assert reps == [1], f"after the cancellation {MOVES}-1 has replicas {reps}, not [1]"
    restore()


@scenario(f"{C} 4 (last) byte-identical replicas: every broker stopped with SIGTERM exits 0 by itself; per "
          "partition of rf3 and of 2's and 3's topics the 3 replicas' .log segments are identical up to the "
          "smallest high watermark in replication-offset-checkpoint; rf3's is its acknowledged count", timeout=120)
def s4_identical():
    rf3_counts = need("rf3_counts", "1")
    restore()
    problems = []
    try:
        wait_full_isr(sorted(TOPICS))
    except AssertionError:  # compared all the same: the replicas agree up to the high watermark
        problems.append(f"ISR not full {REJOIN_WITHIN_S}s after every broker was up: {not_full(view(sorted(TOPICS)))}")
    procs = list(cluster.brokers.values())
    for n in procs:
        n.mark("SIGTERM (all brokers at once)")
        n.proc.terminate()
    unclean = []
    for n in procs:
        rc, by_itself = n.stop(timeout=20, signalled=True)
        if rc != 0 or not by_itself:
            unclean.append(f"broker {n.id}: {'exit status ' + str(rc) if by_itself else 'still running 20s after SIGTERM'}"
                           f" ({n.log_tail(2)})")
    problems += unclean
    expected = {(RF3, p): n for p, n in rf3_counts.items()}
    parts = [(t, p) for t, n in TOPICS.items() for p in range(n)]
    found, summary = replicas.compare({n.id: n.data_dir for n in procs}, parts, expected)
    problems += found
    # The partitions 3c moved: their new replicas.
    for (t, p), reps in sorted(MOVED.items()):
        found, more = replicas.compare({n.id: n.data_dir for n in procs if n.id in reps}, [(t, p)])
        problems += found
        summary += more
    info("4: " + "; ".join(summary))
    assert not problems, "; ".join(problems)


def main():
    global cluster
    ap = argparse.ArgumentParser()
    ap.add_argument("--weir", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--pidfile", required=True)
    ap.add_argument("--java-cp", required=True)
    args = ap.parse_args()
    global JAVA_CP
    JAVA_CP = args.java_cp
    os.makedirs(args.work, exist_ok=True)
    wc.setup_logging()
    handler = logging.FileHandler(os.path.join(args.work, "librdkafka.log"))
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    LOG.addHandler(handler)
    LOG.setLevel(logging.DEBUG)
    LOG.propagate = False
    cluster = Cluster(args.weir, args.work, args.pidfile)
    try:
        rc = suite.run_all()
    finally:
        cluster.stop_all()
    wc.exit_now(rc)


if __name__ == "__main__":
    main()
