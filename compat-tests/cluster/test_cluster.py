#!/usr/bin/env python3
"""Cluster-mode scenarios for weir with the stock confluent-kafka client (librdkafka 2.16).

Starts a 3-node weir cluster of its own (every node broker and controller, one Raft quorum over
the CONTROLLER listeners; see run.sh for the command), then checks, one PASS/FAIL line each:

  1 the cluster forms: metadata from each node lists the 3 brokers, DescribeCluster a controller
    (librdkafka answers describe_cluster() from a Metadata request, not DescribeCluster, key 60)
  2 a 6-partition topic created through node 2 is seen by nodes 1 and 3, leaders on all 3 brokers
  3 600 keyed messages produced (acks=all) through node 3 are consumed by a new group exactly
    once, at their acknowledged partition and offset; a key always lands in one partition
  4 the controller killed with SIGKILL: a topic created through one survivor is seen by the other
    within 10 s of the kill; 4b its partitions lose their leader, then the node, restarted,
    rejoins
  5 a non-controller broker leading partitions killed with SIGKILL: after the session timeout
    its partitions have leader -1, the others keep their leaders, take produce and fetch
  6 that broker restarted (same command and data dir): it leads its partitions again, and every
    acknowledged message is read back from the beginning exactly once

Usage: test_cluster.py --weir BIN --work DIR --pidfile FILE
The PID of every weir started is appended to FILE (run.sh stops any left behind). Node logs:
DIR/node<N>.log; the client's own log: DIR/librdkafka.log. Every wait polls a condition
against a deadline. COMPAT_DEBUG=protocol,broker,... adds librdkafka debug logging.
"""
import argparse
import collections
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import weir_compat as wc  # noqa: E402
from weir_compat import RUN_ID  # noqa: E402

SESSION_MS = 3000
HEARTBEAT_MS = 500
CREATE_WITHIN_S = 10.0  # scenario 4: a topic created and seen this long after the controller's kill
C = "confluent-kafka"
DEBUG = os.environ.get("COMPAT_DEBUG", "")

suite = wc.Suite("cluster", scenario_timeout=90, total_budget=330)
scenario, ctx, need = suite.scenario, wc.ctx, wc.need
cluster = None  # the Cluster, made in main()
LOG = logging.getLogger("librdkafka")


def info(msg):
    """A line for the reader (not a verdict: run.sh counts only PASS/FAIL lines)."""
    wc.emit(f"  {C}: {msg}")


# ---------------------------------------------------------------- the cluster
class Node:
    """One weir process of the cluster: broker and controller."""

    def __init__(self, weir, node_id, work, port, cport, voters, pidfile, iport=None):
        self.id, self.port, self.cport = node_id, port, cport
        self.log_path = os.path.join(work, f"node{node_id}.log")
        self.pidfile = pidfile
        listeners = f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}"
        if iport is not None:
            listeners += f",INTERNAL://127.0.0.1:{iport}"
        self.cmd = [weir, "--node-id", str(node_id), "--data-dir", os.path.join(work, f"node{node_id}-data"),
                    "--listeners", listeners,
                    "--override", f"controller.quorum.voters={voters}",
                    "--override", f"broker.session.timeout.ms={SESSION_MS}",
                    "--override", f"broker.heartbeat.interval.ms={HEARTBEAT_MS}"]
        if iport is not None:
            self.cmd += inter_broker_sasl_ssl(node_id)
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
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self):
        """SIGTERM, then SIGKILL if it is still running 15 s later."""
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(15)


# The SASL_SSL variant (CLUSTER_INTER_BROKER=SASL_SSL, run.sh makes the certificates in
# CLUSTER_PKI): each node has a third listener, INTERNAL, mapped to SASL_SSL and named the
# inter-broker listener, so every replica fetch goes over TLS (the CA's certificates, the host
# name checked) and authenticates with SCRAM-SHA-512 as user "broker"; the CONTROLLER listener
# is SSL, so the Raft quorum runs over mutual TLS. Clients stay on PLAINTEXT.
INTER_BROKER = os.environ.get("CLUSTER_INTER_BROKER", "PLAINTEXT").upper()


def inter_broker_sasl_ssl(node_id):
    pki = os.environ["CLUSTER_PKI"]
    jaas = ('org.apache.kafka.common.security.scram.ScramLoginModule required '
            'username="broker" password="broker-secret";')
    settings = {
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:SSL,INTERNAL:SASL_SSL",
        "inter.broker.listener.name": "INTERNAL",
        "sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
        "listener.name.internal.scram-sha-512.sasl.jaas.config": jaas,
        "sasl.scram.bootstrap": "SCRAM-SHA-512=[name=broker,password=broker-secret]",
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": os.path.join(pki, f"node{node_id}.pem"),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": os.path.join(pki, "ca.pem"),
    }
    out = []
    for k, v in settings.items():
        out += ["--override", f"{k}={v}"]
    return out


class Cluster:
    def __init__(self, weir, work, pidfile):
        secured = INTER_BROKER == "SASL_SSL"
        want = 9 if secured else 6  # 3 client, 3 controller (and 3 inter-broker) listeners
        ports = set()
        while len(ports) < want:
            ports.add(wc.free_port())
        ports = sorted(ports)
        voters = ",".join(f"{i}@127.0.0.1:{ports[2 + i]}" for i in (1, 2, 3))
        self.nodes = {i: Node(weir, i, work, ports[i - 1], ports[2 + i], voters, pidfile,
                              ports[5 + i] if secured else None) for i in (1, 2, 3)}

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
        for n in self.nodes.values():
            try:
                n.stop()
            except Exception as e:  # noqa: BLE001 - cleanup goes on; run.sh reaps what is left
                print(f"stopping node {n.id}: {e}", file=sys.stderr)

    def expected_brokers(self):
        return {n.id: ("127.0.0.1", n.port) for n in self.nodes.values()}


# ---------------------------------------------------------------- client helpers
def conf(bootstrap, **extra):
    c = {"bootstrap.servers": bootstrap, "broker.address.family": "v4", "socket.timeout.ms": 10000,
         "socket.connection.setup.timeout.ms": 3000, "reconnect.backoff.ms": 50,
         "reconnect.backoff.max.ms": 500, "topic.metadata.refresh.interval.ms": 2000, "logger": LOG}
    if DEBUG:
        c["debug"] = DEBUG
    c.update({k.replace("_", "."): v for k, v in extra.items()})
    return c


def bootstrap_of(nodes):
    return ",".join(n.bootstrap for n in nodes)


def probe(bootstrap, timeout=3.0):
    """ClusterMetadata from a fresh AdminClient that knows only `bootstrap` (so the Metadata
    request goes to that node), or None if it got no answer in time."""
    a = AdminClient(conf(bootstrap))
    try:
        return a.list_topics(timeout=timeout)
    except KafkaException:
        return None


def describe_cluster(bootstrap, timeout=5.0):
    """DescribeCluster through a fresh AdminClient on `bootstrap`: ({id: (host, port)},
    controller id or None), or None without an answer."""
    a = AdminClient(conf(bootstrap))
    try:
        r = a.describe_cluster(request_timeout=timeout).result(timeout + 1)
    except Exception:  # noqa: BLE001 - no answer yet
        return None
    ctrl = r.controller.id if r.controller is not None and r.controller.id >= 0 else None
    return {n.id: (n.host, n.port) for n in r.nodes}, ctrl


def controller_of(bootstrap, timeout=5.0):
    """DescribeCluster's controller id through a fresh AdminClient on `bootstrap` (None: none)."""
    d = describe_cluster(bootstrap, timeout)
    return None if d is None else d[1]


def leaders_of(md, topic):
    """{partition: leader id} of `topic` in ClusterMetadata md; None if it is not listed fully."""
    t = md.topics.get(topic) if md else None
    if t is None or t.error is not None or not t.partitions:
        return None
    return {p.id: p.leader for p in t.partitions.values()}


def wait_for(what, timeout, cond, state, step=0.25):
    """Polls cond() until true or `timeout` seconds pass (then fails with `what` and state())."""
    if not wc.wait_until(cond, timeout, step=step):
        raise AssertionError(f"{what} not reached within {timeout:.0f}s; {state()}")


def produce_all(bootstrap, topic, records, timeout=60):
    """Produces (key, value, partition or None) with acks=all; returns {value: (partition,
    offset)} of the acknowledged ones and the delivery errors."""
    acked, errors = {}, []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(f"{msg.value().decode()}: {err}")
        else:
            acked[msg.value().decode()] = (msg.partition(), msg.offset())

    p = Producer(conf(bootstrap, acks="all", linger_ms=5, message_timeout_ms=30000))
    for key, value, partition in records:
        kw = {} if partition is None else {"partition": partition}
        while True:
            try:
                p.produce(topic, key=key.encode(), value=value.encode(), on_delivery=on_delivery, **kw)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    left = p.flush(timeout)
    assert left == 0, f"{left} messages still unacknowledged {timeout}s after flush(); errors {errors[:3]}"
    return acked, errors


def read_assigned(bootstrap, starts, want, timeout=60):
    """Reads with assign() from {(topic, partition): offset} until `want` records came or the
    deadline; returns [(partition, offset, key, value)]."""
    c = Consumer(conf(bootstrap, group_id=wc.unique("cl-assign"), enable_auto_commit=False,
                      auto_offset_reset="earliest", fetch_wait_max_ms=200))
    got = []
    try:
        c.assign([TopicPartition(t, p, o) for (t, p), o in starts.items()])
        deadline = time.monotonic() + timeout
        while len(got) < want and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() != KafkaError._PARTITION_EOF:
                    info(f"consumer error (retried): {m.error()}")
                continue
            got.append((m.partition(), m.offset(), m.key().decode() if m.key() else None, m.value().decode()))
    finally:
        c.close()
    return got


def check_read(got, acked, what):
    """Asserts that `got` ([(partition, offset, key, value)]) is exactly the acknowledged
    messages {value: (partition, offset)}, each once, each at its acknowledged place."""
    counts = collections.Counter(v for _, _, _, v in got)
    dupes = [v for v, n in counts.items() if n > 1]
    missing = [v for v in acked if v not in counts]
    extra = [v for v in counts if v not in acked]
    misplaced = [(v, (p, o), acked[v]) for p, o, _, v in got if v in acked and acked[v] != (p, o)]
    wrong_key = [(k, v) for _, _, k, v in got if k != v.split("|")[0]]
    assert not (dupes or missing or extra or misplaced or wrong_key), (
        f"{what}: read {len(got)} of {len(acked)}; missing {len(missing)} {missing[:3]}, duplicated "
        f"{len(dupes)} {dupes[:3]}, unknown {extra[:3]}, not at the acknowledged (partition, offset) "
        f"{misplaced[:3]}, wrong key {wrong_key[:3]}")


# ---------------------------------------------------------------- scenarios
@scenario(f"{C} 1 cluster forms: bootstrapping from each node, metadata lists the 3 brokers "
          "(ids and client ports) and DescribeCluster names a controller", timeout=75)
def s1_forms():
    t0 = time.monotonic()
    for n in cluster.nodes.values():
        n.start()
    cluster.wait_listening(cluster.nodes.values(), 30)
    ctx["started"] = True  # the later scenarios run even if this one finds a wrong answer
    want = cluster.expected_brokers()
    for n in cluster.nodes.values():
        state = {}

        def formed():
            md = probe(n.bootstrap)
            state["metadata brokers"] = None if md is None else {b.id: (b.host, b.port) for b in md.brokers.values()}
            if state["metadata brokers"] != want:
                return False
            d = describe_cluster(n.bootstrap)
            state["DescribeCluster (brokers, controller)"] = d
            return d is not None and d[0] == want and d[1] in want

        wait_for(f"bootstrapping from node {n.id}: brokers {want} and a controller", 60 - (time.monotonic() - t0),
                 formed, lambda: f"last seen {state}", step=0.5)
    info(f"1: the cluster answered with 3 brokers and a controller on every node {time.monotonic() - t0:.1f}s "
         "after the start")


@scenario(f"{C} 2 a 6-partition topic created through node 2 only is seen by nodes 1 and 3, "
          "leaders covering all three brokers")
def s2_topic():
    need("started", "1")
    topic = f"cl6-{RUN_ID}"
    a = AdminClient(conf(cluster.nodes[2].bootstrap))
    a.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)],
                    operation_timeout=15, request_timeout=20)[topic].result(25)
    ctx["topic"] = topic  # scenario 3 needs only the topic; 4b-6 need its checked leaders too
    state = {}

    def seen():
        for i in (1, 3):
            md = probe(cluster.nodes[i].bootstrap)
            t = md.topics.get(topic) if md else None
            if t is None or t.error is not None:
                state[i] = "not listed" if t is None else str(t.error)
                return False
            state[i] = {p.id: (p.leader, list(p.replicas)) for p in t.partitions.values()}
        return (len(state[1]) == 6 and state[1] == state[3]
                and all(leader >= 0 for leader, _ in state[1].values()))

    wait_for("the topic with 6 led partitions, the same on nodes 1 and 3", 20, seen,
             lambda: f"node 1 {state.get(1)}, node 3 {state.get(3)}")
    leaders = {p: leader for p, (leader, _) in state[1].items()}
    bad_replicas = {p: r for p, (leader, r) in state[1].items() if r != [leader]}
    assert not bad_replicas, f"replication factor 1, yet replicas {bad_replicas} (leaders {leaders})"
    assert set(leaders.values()) == {1, 2, 3}, f"leaders {leaders} do not cover brokers 1, 2 and 3"
    ctx["leaders"] = leaders


@scenario(f"{C} 3 600 keyed messages (acks=all) produced through node 3 are consumed by a new group "
          "exactly once, at their acknowledged partition and offset; a key always lands in one partition")
def s3_produce_consume():
    topic = need("topic", "2")
    records = [(f"key-{k:03d}", f"key-{k:03d}|r{r}", None) for r in range(2) for k in range(300)]
    acked, errors = produce_all(cluster.nodes[3].bootstrap, topic, records)
    assert not errors and len(acked) == 600, f"acknowledged {len(acked)} of 600; errors {errors[:3]}"
    by_key = collections.defaultdict(set)
    for v, (p, _) in acked.items():
        by_key[v.split("|")[0]].add(p)
    split = {k: sorted(ps) for k, ps in by_key.items() if len(ps) > 1}
    assert not split, f"keys acknowledged in more than one partition: {dict(list(split.items())[:3])}"
    assert len(set(acked.values())) == 600, "two messages acknowledged at the same (partition, offset)"
    c = Consumer(conf(cluster.nodes[1].bootstrap, group_id=wc.unique("cl-group"), enable_auto_commit=False,
                      auto_offset_reset="earliest", session_timeout_ms=6000, heartbeat_interval_ms=500,
                      fetch_wait_max_ms=200))
    got, errs = [], []
    try:
        c.subscribe([topic])
        deadline = time.monotonic() + 60
        while len(got) < 600 and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                errs.append(str(m.error()))
                continue
            got.append((m.partition(), m.offset(), m.key().decode() if m.key() else None, m.value().decode()))
    finally:
        c.close()
    check_read(got, acked, f"group consumer (errors {errs[:3]})")
    ctx["acked"] = dict(acked)


@scenario(f"{C} 4 the controller killed with SIGKILL: within {CREATE_WITHIN_S:.0f}s a topic created through "
          "one survivor is seen by the other")
def s4_controller_kill():
    need("started", "1")
    ctrl = controller_of(cluster.nodes[1].bootstrap)
    assert ctrl in cluster.nodes, f"DescribeCluster through node 1 named controller {ctrl}"
    md = probe(cluster.nodes[1].bootstrap)
    md_ctrl = None if md is None else md.controller_id
    victim = cluster.nodes[ctrl]
    creator, watcher = [n for i, n in cluster.nodes.items() if i != ctrl]
    topic = f"cl-after-kill-{RUN_ID}"
    victim.kill9()
    t0 = time.monotonic()
    ctx["dead_controller"] = victim
    deadline = t0 + CREATE_WITHIN_S
    created, seen, errors = False, False, []
    while not seen and time.monotonic() < deadline:
        left = deadline - time.monotonic()
        if not created:
            try:
                a = AdminClient(conf(creator.bootstrap))
                # Short attempts, each with a fresh client: one that waits on a dead controller
                # must not use up the whole deadline.
                attempt = max(0.5, min(3, left))
                a.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)],
                                operation_timeout=attempt, request_timeout=attempt)[topic].result(attempt + 0.5)
                created = True
            except KafkaException as e:
                err = e.args[0] if e.args and isinstance(e.args[0], KafkaError) else None
                if err is not None and err.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                    created = True  # an earlier attempt went through after its client gave up
                else:
                    errors.append(f"{time.monotonic() - t0:.1f}s: {e}")
            except Exception as e:  # noqa: BLE001 - e.g. the future's own timeout: retried
                errors.append(f"{time.monotonic() - t0:.1f}s: {type(e).__name__} {e}")
        if created:
            seen = leaders_of(probe(watcher.bootstrap, timeout=min(2, max(0.5, left))), topic) is not None
        if not seen:
            time.sleep(0.1)  # polling interval, bounded by the deadline
    took = time.monotonic() - t0
    assert seen, (f"killed controller {ctrl}: {'created through' if created else 'could not create through'} "
                  f"node {creator.id}, {'but' if created else 'and'} node {watcher.id} did not list the topic "
                  f"{took:.1f}s after the kill; errors {errors[-3:]}")
    info(f"4: controller {ctrl} (DescribeCluster; Metadata's controller_id {md_ctrl}) killed; topic created "
         f"through node {creator.id} and seen by node {watcher.id} {took:.1f}s after the kill "
         f"({len(errors)} failed attempts first)")


@scenario(f"{C} 4b the killed controller's partitions lose their leader; restarted, it rejoins: every node "
          "lists 3 brokers, every partition led by its broker again", timeout=75)
def s4b_rejoin():
    victim = need("dead_controller", "4")
    topic, leaders = need("topic", "2"), need("leaders", "2")
    # First fenced (so that the restart is a rejoin, not a return within the session).
    survivor = next(n for n in cluster.nodes.values() if n is not victim)
    fenced = {p: (-1 if leader == victim.id else leader) for p, leader in leaders.items()}
    state = {}

    def gone():
        state["leaders"] = leaders_of(probe(survivor.bootstrap), topic)
        return state["leaders"] == fenced

    wait_for(f"node {survivor.id} reporting leaders {fenced} after node {victim.id}'s kill", SESSION_MS / 1000 + 20,
             gone, lambda: f"last seen {state}")
    victim.start()
    t0 = time.monotonic()
    cluster.wait_listening([victim], 30)
    want = cluster.expected_brokers()

    def back():
        for n in cluster.nodes.values():
            md = probe(n.bootstrap)
            state[n.id] = None if md is None else ({b.id for b in md.brokers.values()}, leaders_of(md, topic))
            if md is None or state[n.id] != (set(want), leaders):
                return False
        return True

    wait_for(f"node {victim.id} back: 3 brokers and leaders {leaders} on every node", 50, back,
             lambda: f"(brokers, leaders) by node: {state}", step=0.5)
    info(f"4b: node {victim.id} rejoined {time.monotonic() - t0:.1f}s after its restart")
    ctx["rejoined"] = True


@scenario(f"{C} 5 a non-controller broker leading partitions killed with SIGKILL: after the session timeout "
          "its partitions have leader -1; the others keep their leaders and take produce and fetch")
def s5_broker_kill():
    need("rejoined", "4b")
    topic, leaders, acked = need("topic", "2"), need("leaders", "2"), need("acked", "3")
    # Not the controller, as DescribeCluster or Metadata name it, if a broker leading partitions is neither.
    ctrl = controller_of(cluster.nodes[1].bootstrap)
    md = probe(cluster.nodes[1].bootstrap)
    md_ctrl = None if md is None else md.controller_id
    leading = sorted(set(leaders.values()))
    candidates = ([i for i in leading if i not in (ctrl, md_ctrl)] or [i for i in leading if i != ctrl] or leading)
    victim = cluster.nodes[candidates[0]]
    survivors = [n for i, n in cluster.nodes.items() if i != victim.id]
    dead_parts = sorted(p for p, leader in leaders.items() if leader == victim.id)
    live_parts = sorted(p for p, leader in leaders.items() if leader != victim.id)
    want = {p: (-1 if p in dead_parts else leaders[p]) for p in leaders}
    victim.kill9()
    t0 = time.monotonic()
    ctx["dead_broker"] = victim
    state = {}

    def fenced(n):
        state[n.id] = leaders_of(probe(n.bootstrap), topic)
        return state[n.id] == want

    wait_for(f"node {survivors[0].id} reporting leaders {want} after node {victim.id}'s kill",
             SESSION_MS / 1000 + 20, lambda: fenced(survivors[0]), lambda: f"last seen {state}")
    took = time.monotonic() - t0
    wait_for(f"node {survivors[1].id} reporting leaders {want}", 10, lambda: fenced(survivors[1]),
             lambda: f"last seen {state}")
    info(f"5: node {victim.id} (controller: {ctrl} by DescribeCluster, {md_ctrl} by Metadata) killed; "
         f"its partitions {dead_parts} had leader -1 {took:.1f}s later (session timeout {SESSION_MS / 1000:.0f}s)")
    records = [(f"s5-p{p}-{i:02d}", f"s5-p{p}-{i:02d}|r0", p) for p in live_parts for i in range(25)]
    new, errors = produce_all(bootstrap_of(survivors), topic, records, timeout=30)
    assert not errors and len(new) == len(records), f"acknowledged {len(new)} of {len(records)}; errors {errors[:3]}"
    wrong = {v: pos for v, pos in new.items() if pos[0] != int(v.split("-p")[1].split("-")[0])}
    assert not wrong, f"acknowledged in another partition than asked: {dict(list(wrong.items())[:3])}"
    starts = {(topic, p): min(o for q, o in new.values() if q == p) for p in live_parts}
    got = read_assigned(bootstrap_of(survivors), starts, len(new), timeout=30)
    check_read(got, new, f"fetch from the live partitions {live_parts}")
    acked.update(new)
    ctx["dead_parts"] = dead_parts


@scenario(f"{C} 6 the killed broker restarted with the same command and data dir leads its partitions again; "
          "every acknowledged message is read back from the beginning exactly once", timeout=120)
def s6_restart():
    victim, dead_parts = need("dead_broker", "5"), need("dead_parts", "5")
    topic, leaders, acked = need("topic", "2"), need("leaders", "2"), need("acked", "3")
    victim.start()
    t0 = time.monotonic()
    cluster.wait_listening([victim], 30)
    state = {}

    def led():
        for n in cluster.nodes.values():
            state[n.id] = leaders_of(probe(n.bootstrap), topic)
            if state[n.id] != leaders:
                return False
        return True

    wait_for(f"leaders {leaders} on every node after node {victim.id}'s restart", 50, led,
             lambda: f"leaders by node: {state}", step=0.5)
    info(f"6: node {victim.id} leads {dead_parts} again {time.monotonic() - t0:.1f}s after its restart")
    got = read_assigned(bootstrap_of(cluster.nodes.values()),
                        {(topic, p): OFFSET_BEGINNING for p in leaders}, len(acked), timeout=60)
    check_read(got, acked, "everything from the beginning")
    # Nothing past the acknowledged messages either: each partition ends after its last one.
    c = Consumer(conf(bootstrap_of(cluster.nodes.values()), group_id=wc.unique("cl-wm")))
    try:
        ends = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in leaders}
    finally:
        c.close()
    want_ends = {p: 1 + max((o for q, o in acked.values() if q == p), default=-1) for p in leaders}
    assert ends == want_ends, f"high watermarks {ends}, expected {want_ends} (one past the last acknowledged)"


def main():
    global cluster
    ap = argparse.ArgumentParser()
    ap.add_argument("--weir", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--pidfile", required=True)
    args = ap.parse_args()
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
