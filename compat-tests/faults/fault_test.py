#!/usr/bin/env python3
"""The fault test: acknowledged writes survive kill -9, SIGSTOP and network partitions.

Runs inside a network namespace of its own (run.sh makes it), where the loopback addresses
127.0.0.10-13 are the nodes' and iptables rules cut one broker off from the others without
touching the host: node 0 on 127.0.0.10 is a controller only (the whole metadata quorum), nodes
1-3 on 127.0.0.11-13 are brokers only; every node listens on port 9092 (clients) and 9093
(controller). The clients connect from 127.0.0.1, which no rule ever blocks.

Writers (stock clients, separate processes, idempotent, acks=all, default settings otherwise):
producer.py (confluent-kafka / librdkafka 2.16) and FaultProducer.java (kafka-clients 4.1.1),
each writing unique values to the topic `faults` (6 partitions, replication factor 3,
min.insync.replicas=2) and logging every delivery report.

One PASS/FAIL line each:
  0 the cluster forms and the topic is created with a full ISR; both writers get their first
    acknowledgements
  1 faults for --duration seconds (180 by default): one at a time, on a random broker, in a
    shuffled cycle of the three kinds:
      kill    SIGKILL, down 1-4 s, restarted with the same command and data dir
      pause   SIGSTOP for the session timeout + 2-5 s, then SIGCONT
      cut     iptables drops everything between the broker's address and every other node's
              (brokers and controller) for the session timeout + 2-9 s, then the rules go
    a paused or cut-off broker must be fenced (gone from the others' Metadata) within the
    session timeout + 6 s of the fault's start, and its fault lasts until it is;
    after each fault the cluster heals (every broker lists brokers 1-3 and every partition has
    its 3 replicas in the ISR, within 60 s) and both writers get new acknowledgements (within
    60 s of the heal); then 1-3 s pass before the next fault
  2 failover: after each kill of a broker that led partitions, the first acknowledgement of a
    write to one of those partitions (more than 100 ms after the kill, so it cannot be a
    response the dead broker had already sent) comes within 10 s, for each writer; the
    distribution is printed
  (stop) every broker back and every ISR full; every partition led by its first replica again
    within 30 s (auto.leader.rebalance.enable, leader.imbalance.check.interval.seconds=10); the
    writers stop (flushed)
  3 (per writer) after the writers stop (flushed): every acknowledged value is read back exactly
    once, at the partition and offset its acknowledgement gave; the acknowledged values of each
    partition are in the order they were written
  4 the log as a whole: each partition's offsets run 0..high watermark-1 without a gap, no value
    appears twice (acknowledged or not), and every value is one a writer sent. One exception,
    librdkafka's own (issue #4953, open; Kafka's brokers see it too): after a request fails with
    OUT_OF_ORDER_SEQUENCE_NUMBER it bumps its producer epoch and resends every unacknowledged
    message, including one whose NOT_LEADER_OR_FOLLOWER answer came after it was written (the
    leader changed while it waited for the ISR); idempotence deduplicates within an epoch only.
    A value found twice with the later copy in a newer epoch of the same producer id (read from
    the batch headers in a replica's log), the earlier copy unacknowledged, is reported, not
    failed; twice in one epoch fails
  5 byte-identical replicas: every broker stopped with SIGTERM exits 0 by itself, then each
    partition's three replicas are identical up to the smallest checkpointed high watermark

Usage: fault_test.py --weir BIN --work DIR --pidfile FILE --java-cp CP --python PY
         [--duration S] [--seed N]
"""
import argparse
import collections
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import replicas  # noqa: E402
import weir_compat as wc  # noqa: E402

SESSION_MS = 3000
HEARTBEAT_MS = 500
LAG_MS = 10000  # replica.lag.time.max.ms: a cut-off follower leaves the ISR within the test's faults
REBALANCE_S = 10  # leader.imbalance.check.interval.seconds: leadership goes home between faults
HEAL_WITHIN_S = 60
PROGRESS_WITHIN_S = 60
FAILOVER_LIMIT_S = 10.0
TOPIC = "faults"
PARTITIONS = 6
RATE = 150  # values per second per writer
BROKERS = (1, 2, 3)
IP = {i: f"127.0.0.1{i}" for i in range(4)}
PORT, CPORT = 9092, 9093
CHAIN = "WEIR-FAULTS"

suite = wc.Suite("faults", scenario_timeout=120, total_budget=900)
scenario, ctx, need = suite.scenario, wc.ctx, wc.need
args = None
nodes = {}
writers = {}


def info(msg):
    wc.emit(f"  faults: {msg}")


# ---------------------------------------------------------------- nodes
class Node(wc.NodeProcess):
    def __init__(self, node_id):
        self.id, self.ip = node_id, IP[node_id]
        self.data_dir = os.path.join(args.work, f"node{node_id}-data")
        role = "controller" if node_id == 0 else "broker"
        cmd = [args.weir, "--node-id", str(node_id), "--data-dir", self.data_dir,
                    "--listeners", f"PLAINTEXT://{self.ip}:{PORT},CONTROLLER://{self.ip}:{CPORT}",
                    "--override", f"process.roles={role}",
                    "--override", f"controller.quorum.voters=0@{IP[0]}:{CPORT}",
                    "--override", f"broker.session.timeout.ms={SESSION_MS}",
                    "--override", f"broker.heartbeat.interval.ms={HEARTBEAT_MS}",
                    "--override", f"replica.lag.time.max.ms={LAG_MS}",
                    "--override", f"leader.imbalance.check.interval.seconds={REBALANCE_S}"]
        super().__init__(cmd, os.path.join(args.work, f"node{node_id}.log"), args.pidfile)
        self.stopped = False  # SIGSTOPped

    @property
    def bootstrap(self):
        return f"{self.ip}:{PORT}"

    def listening(self):
        with socket.socket() as s:
            s.settimeout(0.2)
            return s.connect_ex((self.ip, PORT)) == 0

    def wait_listening(self, timeout=30):
        if not wc.wait_until(lambda: self.listening() or not self.alive(), timeout):
            raise AssertionError(f"node {self.id}'s port not open {timeout}s after its start: {self.log_tail()}")
        if not self.alive():
            raise AssertionError(f"node {self.id} exited with status {self.proc.returncode}: {self.log_tail()}")

    def signal(self, sig, what):
        self.mark(what)
        self.proc.send_signal(sig)

    def stop(self, timeout=20):
        """SIGTERM (SIGCONT first if stopped), then SIGKILL if still running `timeout` s later.
        Returns (exit status, whether it stopped by itself)."""
        if not self.alive():
            return (None if self.proc is None else self.proc.returncode), True
        if self.stopped:
            self.proc.send_signal(signal.SIGCONT)
            self.stopped = False
        self.mark("SIGTERM")
        self.proc.terminate()
        try:
            return self.proc.wait(timeout), True
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(15), False


def brokers():
    return [nodes[i] for i in BROKERS]


def bootstrap():
    return ",".join(n.bootstrap for n in brokers())


# ---------------------------------------------------------------- network partitions
def iptables(*rule):
    subprocess.run(["iptables", "-w", *rule], check=True, capture_output=True, timeout=30)


def cut_off(node):
    """Drops every packet between `node`'s address and each other node's, both ways."""
    for other in nodes.values():
        if other.id != node.id:
            iptables("-A", CHAIN, "-s", node.ip, "-d", other.ip, "-j", "DROP")
            iptables("-A", CHAIN, "-s", other.ip, "-d", node.ip, "-j", "DROP")


def heal_network():
    iptables("-F", CHAIN)


# ---------------------------------------------------------------- metadata
def conf(bs, **extra):
    c = {"bootstrap.servers": bs, "broker.address.family": "v4", "socket.timeout.ms": 10000,
         "socket.connection.setup.timeout.ms": 3000, "reconnect.backoff.ms": 50,
         "reconnect.backoff.max.ms": 500, "log_level": 0}
    c.update({k.replace("_", "."): v for k, v in extra.items()})
    return c


def probe(node):
    """(brokers, {partition: (leader, replicas, isr)}) as `node` answers Metadata, or None."""
    try:
        md = AdminClient(conf(node.bootstrap)).list_topics(timeout=3)
    except KafkaException:
        return None
    t = md.topics.get(TOPIC)
    parts = None
    if t is not None and t.error is None and t.partitions:
        parts = {p.id: (p.leader, sorted(p.replicas), sorted(p.isrs)) for p in t.partitions.values()}
    return set(md.brokers), parts


def healthy_state():
    """None when every broker lists brokers 1-3 and every partition of the topic with its 3
    replicas in the ISR and a leader among them; else what is missing."""
    missing = []
    for n in brokers():
        v = probe(n)
        if v is None:
            missing.append(f"broker {n.id}: no metadata")
            continue
        bs, parts = v
        if bs != set(BROKERS):
            missing.append(f"broker {n.id} lists {sorted(bs)}")
        if parts is None or len(parts) != PARTITIONS:
            missing.append(f"broker {n.id}: topic {TOPIC} {'not listed' if parts is None else len(parts)}")
            continue
        missing += [f"broker {n.id}: {TOPIC}-{p} leader {leader} isr {isr}" for p, (leader, reps, isr)
                    in sorted(parts.items()) if len(reps) != 3 or isr != reps or leader not in isr]
    return "; ".join(missing) or None


def wait_healthy(what, timeout=HEAL_WITHIN_S):
    state = {}

    def ok():
        state["m"] = healthy_state()
        return state["m"] is None
    if not wc.wait_until(ok, timeout, step=0.5):
        raise AssertionError(f"{what}: the cluster did not heal within {timeout}s: {state.get('m')}")


def leaders():
    """{partition: leader} as the first broker that answers sees it."""
    for n in brokers():
        v = n.alive() and not n.stopped and probe(n)
        if v and v[1]:
            return {p: leader for p, (leader, _, _) in v[1].items()}
    return {}


# ---------------------------------------------------------------- writers
class Writer:
    """One writer process and its report file."""

    def __init__(self, name, cmd_of):
        self.name = name
        self.out = os.path.join(args.work, f"{name}.acks")
        self.cmd = cmd_of(self.out)
        self.log = os.path.join(args.work, f"{name}.log")
        self.proc = None

    def start(self):
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def reports(self):
        """(acked {value: (partition, offset, time)}, failed {value: error}, done line or None,
        fatal lines)."""
        acked, failed, done, fatal = {}, {}, None, []
        try:
            with open(self.out) as f:
                lines = f.read().splitlines()
        except OSError:
            return acked, failed, done, fatal
        for ln in lines:
            if ln.startswith("ACK "):
                parts = ln.split()
                if len(parts) == 5:  # a line being written has fewer fields
                    offset = int(parts[3]) if parts[3].lstrip("-").isdigit() else -1
                    acked[parts[1]] = (int(parts[2]), offset, float(parts[4]))
            elif ln.startswith("ERR "):
                v, _, err = ln[4:].partition(" ")
                failed[v] = err
            elif ln.startswith("DONE "):
                done = ln
            elif ln.startswith("FATAL "):
                fatal.append(ln)
        return acked, failed, done, fatal

    def acked_count(self):
        return len(self.reports()[0])

    def stop(self, timeout=240):
        open(self.out + ".stop", "w").close()
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(15)
            raise AssertionError(f"writer {self.name} still running {timeout}s after it was told to stop")
        if rc != 0:
            raise AssertionError(f"writer {self.name} exited {rc}: {open(self.log).read()[-500:]}")

    def tail(self):
        try:
            return open(self.log).read()[-400:]
        except OSError:
            return ""


def wait_progress(what, timeout=PROGRESS_WITHIN_S):
    """Waits until every writer has new acknowledgements (beyond its count now)."""
    before = {w.name: w.acked_count() for w in writers.values()}
    stuck = {}

    def ok():
        for w in writers.values():
            if w.proc.poll() is not None:
                raise AssertionError(f"writer {w.name} exited {w.proc.returncode} ({what}): {w.tail()}")
        stuck.clear()
        stuck.update({w.name: w.acked_count() for w in writers.values() if w.acked_count() <= before[w.name]})
        return not stuck
    if not wc.wait_until(ok, timeout, step=0.2):
        detail = {n: (c, writers[n].reports()[3][:2], list(writers[n].reports()[1].items())[-2:])
                  for n, c in stuck.items()}
        raise AssertionError(f"{what}: no new acknowledgement within {timeout}s from {sorted(stuck)} "
                             f"(acknowledged so far, fatal, last failures: {detail})")


# ---------------------------------------------------------------- scenarios
@scenario("0 a controller-only node and 3 brokers on 127.0.0.10-13 form a cluster; topic 'faults' (6 partitions, "
          "RF 3, min.insync.replicas=2) has full ISRs; both idempotent writers (librdkafka, Java) get "
          "acknowledgements", timeout=120)
def s0_start():
    for n in nodes.values():
        n.start()
    for n in nodes.values():
        n.wait_listening()
    if not wc.wait_until(lambda: all((v := probe(n)) and v[0] == set(BROKERS) for n in brokers()), 60, step=0.5):
        raise AssertionError("the brokers never all listed brokers 1-3")
    a = AdminClient(conf(bootstrap()))
    a.create_topics([NewTopic(TOPIC, num_partitions=PARTITIONS, replication_factor=3,
                              config={"min.insync.replicas": "2"})], operation_timeout=15,
                    request_timeout=20)[TOPIC].result(25)
    wait_healthy("after the topic's creation", 30)
    for w in writers.values():
        w.start()
    wait_progress("the writers' start")
    ctx["started"] = True


def fault_kill(n, rnd):
    before = leaders()
    t = time.time()
    n.signal(signal.SIGKILL, "SIGKILL (fault)")
    n.proc.wait(30)
    led = [p for p, leader in before.items() if leader == n.id]
    if led:
        ctx.setdefault("kills", []).append((t, led))
    time.sleep(rnd.uniform(1, 4))  # the fault's own length: the broker stays down this long
    n.start()
    n.wait_listening()
    return f"kill -9 broker {n.id} (led {led})"


def others_see_fenced(n):
    """True once every other running broker's Metadata leaves broker `n` out (it is fenced)."""
    views = [probe(o) for o in brokers() if o.id != n.id and o.alive() and not o.stopped]
    return bool(views) and all(v is not None and n.id not in v[0] for v in views)


# How long after the fault begins the other brokers must have fenced the broker: the session
# timeout plus the controller's check (every 250 ms), its metadata write and its spread to the
# brokers, with room for a loaded 2-core machine (fsyncs under a parallel image build).
FENCE_BOUND_S = SESSION_MS / 1000 + 6


def hold_fault(n, d, what):
    """Keeps the fault on for `d` seconds, and longer if need be until the broker is fenced
    (the fault is meant to outlast its session), watching the other brokers' metadata: the
    broker must be fenced within FENCE_BOUND_S of the fault's start."""
    t0 = time.monotonic()
    fenced = wc.wait_until(lambda: others_see_fenced(n), max(d, FENCE_BOUND_S), step=0.25)
    fenced_after = time.monotonic() - t0
    rest = d - fenced_after
    if rest > 0:
        time.sleep(rest)  # the fault's own length
    if not fenced:
        raise AssertionError(f"{what}: the other brokers still listed broker {n.id} after "
                             f"{fenced_after:.1f}s (session timeout {SESSION_MS} ms)")
    return fenced_after


def fault_pause(n, rnd):
    d = SESSION_MS / 1000 + rnd.uniform(2, 5)
    n.signal(signal.SIGSTOP, f"SIGSTOP for {d:.1f}s (fault)")
    n.stopped = True
    try:
        fenced = hold_fault(n, d, f"SIGSTOP of broker {n.id}")
    finally:
        n.proc.send_signal(signal.SIGCONT)
        n.stopped = False
        n.mark("SIGCONT")
    return f"SIGSTOP broker {n.id} for {d:.1f}s (fenced after {fenced:.1f}s)"


def fault_cut(n, rnd):
    d = SESSION_MS / 1000 + rnd.uniform(2, 9)
    n.mark(f"cut off from the other nodes for {d:.1f}s (fault)")
    cut_off(n)
    try:
        fenced = hold_fault(n, d, f"cutting broker {n.id} off")
    finally:
        heal_network()
    n.mark("network healed")
    return f"cut broker {n.id} off for {d:.1f}s (fenced after {fenced:.1f}s)"


@scenario("1 faults for the run's duration, one at a time on a random broker (kill -9 and restart, SIGSTOP past the "
          "session timeout, cut off by iptables); after each the cluster heals within 60 s (brokers 1-3 listed, "
          "full ISRs) and both writers get new acknowledgements", timeout=1)
def s1_faults():
    need("started", "0")
    rnd = random.Random(args.seed)
    info(f"1: seed {args.seed}, {args.duration}s of faults")
    kinds = {"kill": fault_kill, "pause": fault_pause, "cut": fault_cut}
    done = collections.Counter()
    end = time.monotonic() + args.duration
    cycle = []
    while time.monotonic() < end:
        if not cycle:
            cycle = list(kinds)
            rnd.shuffle(cycle)
        kind = cycle.pop()
        n = rnd.choice(brokers())
        what = kinds[kind](n, rnd)
        t0 = time.monotonic()
        wait_healthy(f"after {what}")
        wait_progress(f"after {what} healed")
        done[kind] += 1
        info(f"1: {what}; healed and writing again after {time.monotonic() - t0:.1f}s")
        time.sleep(rnd.uniform(1, 3))  # the schedule's gap between faults
    ctx["faults"] = dict(done)
    info(f"1: faults done: {dict(done)}")
    assert all(done[k] for k in kinds), f"not every kind of fault ran: {dict(done)} (a shorter --duration?)"


@scenario("2 failover: after each kill of a partition leader, each writer's first acknowledgement of a write to a "
          "partition it led comes within 10 s", timeout=30)
def s2_failover():
    kills = need("kills", "1 (no kill of a leader happened)")
    problems, times = [], collections.defaultdict(list)
    for w in writers.values():
        acked = w.reports()[0]
        by_p = collections.defaultdict(list)
        for v, (p, o, t) in acked.items():
            by_p[p].append(t)
        for p in by_p:
            by_p[p].sort()
        for t_kill, led in kills:
            firsts = [next((t for t in by_p[p] if t > t_kill + 0.1), None) for p in led]
            firsts = [t for t in firsts if t is not None]
            if not firsts:
                problems.append(f"{w.name}: no acknowledgement after the kill at {t_kill:.1f} on partitions {led}")
                continue
            times[w.name].append(min(firsts) - t_kill)
    for name, ts in sorted(times.items()):
        info(f"2: {name} failover after {len(ts)} leader kills: min {min(ts):.2f}s median "
             f"{statistics.median(ts):.2f}s max {max(ts):.2f}s ({', '.join(f'{t:.2f}' for t in ts)})")
        problems += [f"{name}: {t:.2f}s" for t in ts if t >= FAILOVER_LIMIT_S]
    assert not problems, f"failovers not within {FAILOVER_LIMIT_S:.0f}s: {problems}"


def preferred_state():
    """None when every broker's Metadata shows each partition led by its first replica."""
    away = []
    for n in brokers():
        try:
            md = AdminClient(conf(n.bootstrap)).list_topics(TOPIC, timeout=3)
        except KafkaException:
            away.append(f"broker {n.id}: no metadata")
            continue
        t = md.topics.get(TOPIC)
        parts = t.partitions.values() if t is not None and t.error is None else []
        away += [f"broker {n.id}: {TOPIC}-{p.id} led by {p.leader}, replicas {p.replicas}" for p in parts
                 if not p.replicas or p.leader != p.replicas[0]]
    return "; ".join(away) or None


@scenario("(stop) every broker back, full ISRs; every partition led by its preferred replica again (the "
          "controller's automatic rebalance, every 10 s here); the writers stop and flush", timeout=300)
def s_stop():
    need("started", "0")
    heal_network()
    for n in brokers():
        if n.stopped:
            n.proc.send_signal(signal.SIGCONT)
            n.stopped = False
        if not n.alive():
            n.start()
            n.wait_listening()
    wait_healthy("before the writers stop")
    state = {}

    def home():
        state["m"] = preferred_state()
        return state["m"] is None
    if not wc.wait_until(home, 3 * REBALANCE_S, step=0.5):
        raise AssertionError(f"leadership not back on the preferred replicas {3 * REBALANCE_S}s after healing: "
                             f"{state.get('m')}")
    for w in writers.values():
        w.stop()
    for w in writers.values():
        acked, failed, done, fatal = w.reports()
        info(f"{w.name}: {len(acked)} acknowledged, {len(failed)} failed, {done}, fatal {fatal}")
        if failed:
            kinds = collections.Counter(e.split(":")[0] for e in failed.values())
            info(f"{w.name}: failures by error: {dict(kinds)}")
    ctx["stopped"] = True


def read_log():
    """Every record of the topic from offset 0 up to the high watermark: {partition: [(offset,
    value)]}, and the high watermarks."""
    c = Consumer(conf(bootstrap(), group_id=wc.unique("faults-read"), enable_auto_commit=False,
                      auto_offset_reset="earliest", fetch_wait_max_ms=100))
    try:
        ends = {p: c.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=10) for p in range(PARTITIONS)}
        hw = {p: hi for p, (lo, hi) in ends.items()}
        c.assign([TopicPartition(TOPIC, p, OFFSET_BEGINNING) for p in range(PARTITIONS)])
        got = collections.defaultdict(list)
        errs = []

        def complete():
            m = c.poll(0.2)
            if m is not None:
                if m.error():
                    if m.error().code() != KafkaError._PARTITION_EOF:
                        errs.append(str(m.error()))
                else:
                    got[m.partition()].append((m.offset(), m.value().decode()))
            return all((got[p][-1][0] + 1 if got[p] else 0) >= hw[p] for p in range(PARTITIONS))
        if not wc.wait_until(complete, 120, step=0):
            raise AssertionError(f"the log not read up to the high watermarks {hw} within 120s: reached "
                                 f"{ {p: got[p][-1][0] + 1 if got[p] else 0 for p in range(PARTITIONS)} }; "
                                 f"errors {errs[:3]}")
        return got, hw, {p: lo for p, (lo, hi) in ends.items()}
    finally:
        c.close()


def the_log():
    if "log" not in ctx:
        need("stopped", "(stop)")
        ctx["log"] = read_log()
    return ctx["log"]


def epoch_resends(got, values):
    """The values of `values` found twice whose later copy was written under a newer epoch of
    the same producer id than the earlier one, read from broker 1's log files (every replica
    holds the same batches up to the high watermark): {value: ((partition, offset, epoch), ...)}.

    librdkafka (2.16) bumps its idempotent producer's epoch when a request gets
    OUT_OF_ORDER_SEQUENCE_NUMBER after an earlier one failed, and resends every message not yet
    acknowledged under the new epoch with new sequence numbers; a message of the failed request
    that was in fact written (NOT_LEADER_OR_FOLLOWER after the append: the leader changed while
    it waited for the ISR, which librdkafka takes for "not persisted") is then written again.
    Kafka's brokers do the same: idempotence deduplicates within one producer epoch only
    (librdkafka issue #4953, open). A copy written again in the same epoch is the broker's
    fault and is not counted here."""
    where = collections.defaultdict(list)
    for p, recs in got.items():
        for o, v in recs:
            if v in values:
                where[v].append((p, o))
    logs = {}
    out = {}
    for v, places in where.items():
        if len(places) < 2:
            continue
        copies = []
        for p, o in sorted(places):
            if p not in logs:
                logs[p] = replicas.log_bytes(nodes[1].data_dir, TOPIC, p)[0]
            copies.append((p, o, replicas.producer_of(logs[p], o)))
        ids = {c[2][0] for c in copies if c[2]}
        epochs = [c[2][1] for c in copies if c[2]]
        if len(ids) == 1 and len(epochs) == len(copies) and all(a < b for a, b in zip(epochs, epochs[1:])):
            out[v] = tuple((p, o, e) for (p, o, _), e in zip(copies, epochs))
    return out


def check_writer(name):
    got, hw, _ = the_log()
    w = writers[name]
    acked, failed, done, fatal = w.reports()
    assert done is not None, f"{name} wrote no DONE line"
    where = {}
    for p, recs in got.items():
        for o, v in recs:
            where.setdefault(v, []).append((p, o))
    missing = [v for v in acked if v not in where]
    twice = [v for v in acked if len(where.get(v, ())) > 1]
    # librdkafka's resends under a new epoch (see epoch_resends): the acknowledged copy must be
    # the last one, every earlier one unacknowledged.
    resent = epoch_resends(got, set(twice)) if name == "librdkafka" else {}
    resent = {v: c for v, c in resent.items() if acked[v][1] < 0 or acked[v][:2] == c[-1][:2]}
    twice = [v for v in twice if v not in resent]
    misplaced = [(v, where[v][0], acked[v][:2]) for v in acked
                 if v in where and v not in resent and acked[v][1] >= 0 and where[v][0] != acked[v][:2]]
    if resent:
        info(f"3: {name}: {len(resent)} acknowledged value(s) also written earlier, unacknowledged, under an older "
             f"producer epoch (librdkafka's epoch bump after OUT_OF_ORDER_SEQUENCE_NUMBER, librdkafka issue #4953): "
             f"{sorted(resent.items())[:3]}")
    no_offset = sum(1 for v in acked if acked[v][1] < 0)
    disorder = []
    for p, recs in got.items():
        mine = [v for _, v in recs if v in acked]
        if mine != sorted(mine):
            disorder.append(f"partition {p}: " + str(next((a, b) for a, b in zip(mine, mine[1:]) if a > b)))
    info(f"3: {name}: {len(acked)} acknowledged values checked ({no_offset} acknowledged without an offset); "
         f"{sum(1 for v in failed if v in where)} of {len(failed)} failed ones are in the log")
    assert acked, f"{name} has no acknowledged value"
    assert not (missing or twice or misplaced or disorder), (
        f"{name}: acknowledged but missing {len(missing)} {missing[:3]}; twice {len(twice)} {twice[:3]}; not at "
        f"the acknowledged place {len(misplaced)} {misplaced[:3]}; out of order {disorder[:3]}")


@scenario("3a librdkafka: every acknowledged value read back exactly once, at its acknowledged partition and "
          "offset, in write order per partition", timeout=180)
def s3_librdkafka():
    check_writer("librdkafka")


@scenario("3b java: every acknowledged value read back exactly once, at its acknowledged partition and offset, "
          "in write order per partition", timeout=180)
def s3_java():
    check_writer("java")


@scenario("4 the log: offsets 0..high watermark-1 without a gap in each partition; no value twice; every value "
          "one a writer sent", timeout=180)
def s4_log():
    got, hw, lo = the_log()
    problems = []
    sent = {}
    for w in writers.values():
        m = re.search(r"sent=(\d+)", w.reports()[2] or "")
        sent[w.name] = int(m.group(1)) if m else None
    counts = collections.Counter()
    for p in range(PARTITIONS):
        offs = [o for o, _ in got[p]]
        if lo[p] != 0 or offs != list(range(hw[p])):
            gap = next((i for i, o in enumerate(offs) if o != i), len(offs))
            problems.append(f"partition {p}: log start {lo[p]}, high watermark {hw[p]}, {len(offs)} records, "
                            f"first gap at index {gap}")
        counts.update(v for _, v in got[p])
    twice = [v for v, n in counts.items() if n > 1]
    resent = epoch_resends(got, {v for v in twice if v.startswith("librdkafka-")})
    twice = [v for v in twice if v not in resent]
    unknown = []
    for v in counts:
        prefix, _, n = v.rpartition("-")
        if prefix not in sent or sent[prefix] is None or not n.isdigit() or int(n) >= sent[prefix]:
            unknown.append(v)
    info(f"4: {sum(hw.values())} records in {PARTITIONS} partitions; high watermarks {hw}; "
         f"{len(resent)} librdkafka value(s) written again under a newer producer epoch (see 3a)")
    assert not (problems or twice or unknown), (
        f"{'; '.join(problems[:3])}; values twice {len(twice)} {twice[:3]}; never sent {len(unknown)} {unknown[:3]}")


@scenario("5 byte-identical replicas: every broker stopped with SIGTERM exits 0 by itself; each partition's "
          "3 replicas are identical up to the smallest checkpointed high watermark, which is the one read", timeout=120)
def s5_identical():
    _, hw, _ = the_log()
    problems = []
    for n in brokers():
        n.mark("SIGTERM (all brokers at once)")
        n.proc.terminate()
    for n in brokers():
        rc, by_itself = n.stop(timeout=30)
        if rc != 0 or not by_itself:
            problems.append(f"broker {n.id}: {'exit status ' + str(rc) if by_itself else 'still running 30s after SIGTERM'}"
                            f" ({n.log_tail(2)})")
    found, summary = replicas.compare({n.id: n.data_dir for n in brokers()},
                                      [(TOPIC, p) for p in range(PARTITIONS)],
                                      {(TOPIC, p): h for p, h in hw.items()})
    info("5: " + "; ".join(summary))
    problems += found
    assert not problems, "; ".join(problems)


def main():
    global args
    ap = argparse.ArgumentParser()
    ap.add_argument("--weir", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--pidfile", required=True)
    ap.add_argument("--java-cp", required=True)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--duration", type=int, default=180)
    ap.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    wc.setup_logging()
    s1 = next(i for i, s in enumerate(suite._scenarios) if s[1] is s1_faults)
    name, fn, _ = suite._scenarios[s1]
    # The faults' budget: the duration, plus the last fault and its heal.
    suite._scenarios[s1] = (name, fn, args.duration + 2 * HEAL_WITHIN_S + PROGRESS_WITHIN_S + 60)
    for i in nodes or range(4):
        nodes[i] = Node(i)
    writers["librdkafka"] = Writer("librdkafka", lambda out: [
        args.python, os.path.join(HERE, "producer.py"), bootstrap(), TOPIC, out, "librdkafka", str(RATE)])
    writers["java"] = Writer("java", lambda out: [
        "java", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", args.java_cp, "FaultProducer", bootstrap(), TOPIC,
        out, "java", str(RATE)])
    iptables("-N", CHAIN)
    iptables("-I", "INPUT", "-j", CHAIN)
    try:
        rc = suite.run_all()
    finally:
        try:
            heal_network()
        except Exception as e:  # noqa: BLE001 - cleanup goes on; the namespace goes away anyway
            print(f"healing the network: {e}", file=sys.stderr)
        for w in writers.values():
            if w.proc is not None and w.proc.poll() is None:
                w.proc.kill()
        for n in sorted(nodes.values(), key=lambda n: n.id == 0):  # brokers first: they need the controller
            try:
                n.stop()
            except Exception as e:  # noqa: BLE001 - run.sh reaps what is left
                print(f"stopping node {n.id}: {e}", file=sys.stderr)
    wc.exit_now(rc)


if __name__ == "__main__":
    main()
