#!/usr/bin/env python3
"""Burrow 1.2.1 (Debian bookworm's `burrow`, a stock Kafka lag monitor) against weir.

Burrow learns consumer groups only from Kafka's internal topic `__consumer_offsets`: its
"kafka" consumer module reads every partition of it from the beginning and decodes the offset
commit records (key v0/v1, value v0/v1/v3), while its "kafka" cluster module polls the log end
offsets of every topic (ListOffsets v0). So Burrow sees a weir group only if weir writes the
group's commits to `__consumer_offsets` in Kafka's record format. One PASS/FAIL line each:

  1 weir starts: metadata lists the broker(s) (1 node, or 3 nodes in one cluster)
  2 a 3-partition topic is created; messages produced (acks=all) to chosen partitions are
    acknowledged at offsets 0..n-1 and the log end offsets are n
  3 a confluent-kafka group (subscribe) consumes part of every partition and commits chosen
    offsets synchronously; committed() reads them back
  4 ZooKeeper (Debian's 3.8, standalone, Burrow's own coordination store) serves: `srvr`
    reports `Mode: standalone`
  5 weir's `__consumer_offsets` (created for the group of 3) is listed, holds records, and
    every partition answers ListOffsets at its leader (Burrow exits at its start if one
    does not)
  6 Burrow starts: /v3/kafka lists exactly its one cluster, and its consumer module started
    one reader per partition of `__consumer_offsets` (its "starting consumers" log line)
  7 /v3/kafka/<cluster>/topic lists the topic and /topic/<topic> gives, per partition, the
    log end offset the client reads (get_watermark_offsets)
  8 /v3/kafka/<cluster>/consumer lists the group
  9 /consumer/<group>: per partition, Burrow's latest offset is the one committed()
    returns and its current-lag is log end - committed
 10 /consumer/<group>/lag: per partition current_lag = log end - committed (both from the
    client) and end.offset = committed; totallag = their sum; partition_count = 3
 11 Burrow follows the topic: more messages, the group consumes on and commits again ->
    Burrow's topic offsets, the group's offsets and its lag (per partition and total) move
    to the new values
 12 every process started (weir, ZooKeeper, Burrow) is still running

Usage: test_burrow.py --mode single|cluster --weir BIN --work DIR --pidfile FILE
Every PID started is appended to FILE (run.sh stops what is left, by PID). Logs in DIR:
node<N>.log (weir), zookeeper.log, burrow.log (Burrow's JSON log lines), librdkafka.log.
Every wait polls a condition against a deadline. COMPAT_DEBUG=protocol,... adds librdkafka
debug logging and runs Burrow at log level debug.
"""
import argparse
import collections
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import weir_compat as wc  # noqa: E402
from weir_compat import RUN_ID  # noqa: E402

BURROW_BIN = "/usr/bin/Burrow"
# Debian's zookeeper.jar names its dependencies in its manifest's Class-Path; slf4j-simple
# (libslf4j-java, a dependency) makes ZooKeeper log to stderr.
ZK_CLASSPATH = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar"
KAFKA_VERSION = "2.0.0"  # Burrow's client-profile: sarama 1.22's V2_0_0_0 (Metadata v5, Fetch v4)
OFFSETS_TOPIC = "__consumer_offsets"
PARTITIONS = 3
# Messages per partition before Burrow starts, the first commit, then more messages and the
# second commit (partition 1's second commit is its log end: lag 0).
FIRST = {0: 30, 1: 45, 2: 60}
FIRST_COMMIT = {0: 10, 1: 20, 2: 50}
MORE = {0: 12, 1: 7, 2: 20}
SECOND_COMMIT = {0: 30, 1: 52, 2: 55}
SESSION_MS = 3000
HEARTBEAT_MS = 500
BURROW_WAIT_S = 20  # Burrow refreshes every 1-2 s: its view settles well within this

DEBUG = os.environ.get("COMPAT_DEBUG", "")
LOG = logging.getLogger("librdkafka")
suite = wc.Suite("burrow", scenario_timeout=60, total_budget=120)
ctx, need = wc.ctx, wc.need
env = None  # the Env, made in main()


def info(msg):
    """A line for the reader (not a verdict: run.sh counts only PASS/FAIL lines)."""
    wc.emit(f"  burrow {env.mode}: {msg}")


def wait_for(what, timeout, cond, state, step=0.25):
    """Polls cond() until it is true or `timeout` seconds passed, then fails with `what` and
    state() (a description of what was last seen)."""
    if not wc.wait_until(cond, timeout, step=step):
        raise AssertionError(f"{what}: not reached within {timeout:.0f}s; {state()}")


# ---------------------------------------------------------------- processes
class Proc:
    """A child process of this test: its stdout and stderr appended to log_path, its PID to
    the pidfile (run.sh stops whatever is left, by PID)."""

    def __init__(self, name, cmd, log_path, pidfile, cwd=None, environ=None):
        self.name, self.cmd, self.log_path, self.pidfile = name, cmd, log_path, pidfile
        self.cwd, self.environ = cwd, environ
        self.proc = None

    def start(self):
        with open(self.log_path, "ab") as log:
            log.write(f"==== {time.strftime('%H:%M:%S')} start: {' '.join(self.cmd)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         cwd=self.cwd, env=self.environ)
        with open(self.pidfile, "a") as f:
            f.write(f"{self.proc.pid}\n")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def exited(self):
        """None while running (or never started), else a sentence with the exit status."""
        if self.proc is None or self.proc.poll() is None:
            return None
        return f"{self.name} exited with status {self.proc.returncode}"

    def lines(self):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode(errors="replace")
        except OSError:
            return []
        return [re.sub(r"\x1b\[[0-9;]*m", "", ln).strip() for ln in text.splitlines() if ln.strip()]

    def log_tail(self, n=3):
        """The first error line and the last n lines, on one line (Burrow's JSON lines
        shortened to their level, message and error fields)."""
        lines = [compact(ln) for ln in self.lines() if not ln.startswith("====")]
        errs = [ln for ln in lines if re.search(r"(?i)\berror\b|panicked|exception", ln)]
        tail = lines[-n:]
        return " | ".join([e for e in errs[:1] if e not in tail] + tail)

    def stop(self):
        """SIGTERM, then SIGKILL if it is still running 15 s later."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(15)


def compact(line):
    """A zap JSON log line as `level msg key=value...` (without its timestamp and the
    module-naming fields); other lines as they are."""
    try:
        e = json.loads(line)
    except ValueError:
        return line
    if not isinstance(e, dict):
        return line
    rest = " ".join(f"{k}={v}" for k, v in e.items()
                    if k not in ("level", "ts", "msg", "type", "name", "coordinator", "class"))
    return f"{e.get('level', '?')} {e.get('msg', '')}{' ' + rest if rest else ''}"


def listening(port):
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def zk_serving(port):
    """ZooKeeper's four-letter `srvr`: statistics with `Mode: standalone` once the server
    serves requests ("not currently serving requests" before; `ruok` already answers `imok`
    while the server is still starting up, and a client connecting then is turned away)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"srvr")
            s.settimeout(1)
            out = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                out += chunk
        return b"Mode: standalone" in out
    except OSError:
        return False


class Env:
    """This run's weir node(s), ZooKeeper and Burrow, on free 127.0.0.1 ports."""

    def __init__(self, mode, weir, work, pidfile):
        self.mode, self.work, self.pidfile = mode, work, pidfile
        n = 1 if mode == "single" else 3
        ports = set()
        while len(ports) < 2 * n + 2:  # client + controller listener per node, ZooKeeper, HTTP
            ports.add(wc.free_port())
        ports = sorted(ports)
        self.zk_port, self.http_port = ports[-2], ports[-1]
        voters = ",".join(f"{i}@127.0.0.1:{ports[n + i - 1]}" for i in range(1, n + 1))
        self.nodes = {}
        for i in range(1, n + 1):
            port, cport = ports[i - 1], ports[n + i - 1]
            # The single node is a quorum of itself (controller.quorum.voters unset).
            cmd = [weir, "--node-id", str(i), "--data-dir", os.path.join(work, f"node{i}-data"),
                   "--listeners", f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}"]
            if n > 1:
                cmd += ["--override", f"controller.quorum.voters={voters}",
                        "--override", f"broker.session.timeout.ms={SESSION_MS}",
                        "--override", f"broker.heartbeat.interval.ms={HEARTBEAT_MS}"]
            node = Proc(f"weir node {i}", cmd, os.path.join(work, f"node{i}.log"), pidfile)
            node.id, node.port = i, port
            self.nodes[i] = node
        self.bootstrap = ",".join(f"127.0.0.1:{nd.port}" for nd in self.nodes.values())
        self.cluster = f"weir-{mode}"
        self.topic = f"burrow-{mode}-{RUN_ID}"
        self.group = f"burrow-group-{mode}-{RUN_ID}"
        self.zk = None
        self.burrow = None

    def procs(self):
        return [p for p in [self.burrow, self.zk, *self.nodes.values()] if p is not None]

    def stop_all(self):
        for p in self.procs():  # Burrow first, then ZooKeeper, then weir
            try:
                p.stop()
            except Exception as e:  # noqa: BLE001 - cleanup goes on; run.sh reaps what is left
                print(f"stopping {p.name}: {e}", file=sys.stderr)


# ---------------------------------------------------------------- client helpers
def conf(**extra):
    c = {"bootstrap.servers": env.bootstrap, "broker.address.family": "v4", "socket.timeout.ms": 10000,
         "socket.connection.setup.timeout.ms": 3000, "reconnect.backoff.ms": 50,
         "reconnect.backoff.max.ms": 500, "topic.metadata.refresh.interval.ms": 2000, "logger": LOG}
    if DEBUG:
        c["debug"] = DEBUG
    c.update({k.replace("_", "."): v for k, v in extra.items()})
    return c


def metadata(timeout=3.0):
    try:
        return AdminClient(conf()).list_topics(timeout=timeout)
    except Exception:  # noqa: BLE001 - no answer yet
        return None


def log_ends(consumer):
    """{partition: log end offset (high watermark)} of the topic, as the client reads them."""
    return {p: consumer.get_watermark_offsets(TopicPartition(env.topic, p), timeout=10)[1]
            for p in range(PARTITIONS)}


def produce(counts, start):
    """Produces counts[p] messages to each partition p (acks=all); asserts that they were
    acknowledged at offsets start[p] .. start[p] + counts[p] - 1."""
    acked, errors = collections.defaultdict(list), []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(str(err))
        else:
            acked[msg.partition()].append(msg.offset())

    p = Producer(conf(acks="all", linger_ms=5, message_timeout_ms=30000))
    for part, n in counts.items():
        for i in range(n):
            p.produce(env.topic, key=f"k{part}".encode(), value=f"p{part}-{start[part] + i}".encode(),
                      partition=part, on_delivery=on_delivery)
    left = p.flush(30)
    assert left == 0 and not errors, f"{left} messages unacknowledged after 30s; errors {errors[:3]}"
    got = {part: sorted(acked[part]) for part in counts}
    want = {part: list(range(start[part], start[part] + n)) for part, n in counts.items()}
    assert got == want, (f"acknowledged offsets {({k: (v[:1] + v[-1:]) for k, v in got.items()})} "
                         f"(first, last), expected {start} .. {({k: v[-1] for k, v in want.items()})}")


def consume_until(consumer, targets, timeout=40):
    """Polls the subscribed group consumer until it has read, on every partition p, at least
    up to offset targets[p] - 1. Returns the highest offset read per partition."""
    highest = ctx.setdefault("highest", {})
    errors = []
    deadline = time.monotonic() + timeout
    while any(highest.get(p, -1) < t - 1 for p, t in targets.items()) and time.monotonic() < deadline:
        m = consumer.poll(0.2)
        if m is None:
            continue
        if m.error():
            if m.error().code() != KafkaError._PARTITION_EOF:
                errors.append(str(m.error()))
            continue
        if m.topic() == env.topic:
            highest[m.partition()] = max(highest.get(m.partition(), -1), m.offset())
    short = {p: highest.get(p, -1) for p, t in targets.items() if highest.get(p, -1) < t - 1}
    assert not short, (f"after {timeout}s the group had read only up to offsets {short} (needed "
                       f"{({p: t - 1 for p, t in targets.items()})}); consumer errors {errors[:3]}")
    return dict(highest)


def commit_and_read_back(consumer, offsets):
    """Commits {partition: offset} synchronously and returns committed()'s offsets."""
    res = consumer.commit(offsets=[TopicPartition(env.topic, p, o) for p, o in offsets.items()],
                          asynchronous=False)
    bad = [(tp.partition, str(tp.error)) for tp in (res or []) if tp.error is not None]
    assert not bad, f"commit errors per partition: {bad}"
    got = consumer.committed([TopicPartition(env.topic, p) for p in offsets], timeout=10)
    read = {tp.partition: tp.offset for tp in got}
    assert read == offsets, f"committed() reads {read}, committed were {offsets}"
    return read


# ---------------------------------------------------------------- Burrow's side
def http_get(path):
    """(HTTP status or None, parsed JSON body or an error string) of GET <Burrow>/path."""
    url = f"http://127.0.0.1:{env.http_port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, json.loads(r.read().decode())
    except urllib.error.HTTPError as e:
        body = e.read().decode(errors="replace")
        try:
            return e.code, json.loads(body)
        except ValueError:
            return e.code, body[:200]
    except (urllib.error.URLError, OSError, ValueError) as e:
        return None, f"{type(e).__name__}: {e}"


def burrow_log():
    """Burrow's JSON log lines (zap), parsed; other lines (stderr) as {"raw": line}."""
    out = []
    for ln in env.burrow.lines() if env.burrow else []:
        try:
            out.append(json.loads(ln))
        except ValueError:
            out.append({"raw": ln})
    return out


def burrow_diagnosis():
    """What Burrow's log says about its reading of __consumer_offsets: decode failures by
    reason (e.g. an offset value version it does not know), consume errors, the last error."""
    events = burrow_log()
    decode = collections.Counter()
    for e in events:
        if e.get("msg") == "failed to decode":
            decode[f"{e.get('message_type', '?')} {e.get('reason')}"
                   f"{' v' + str(e['version']) if 'version' in e else ''}"] += 1
    consume_errors = [e.get("error") for e in events if e.get("msg") == "consume error"]
    errors = [f"{e.get('msg')} {e.get('error') or e.get('sarama_error') or ''}".strip()
              for e in events if e.get("level") in ("error", "panic", "fatal")]
    started = [e.get("count") for e in events if e.get("msg") == "starting consumers"]
    parts = [f"Burrow's log: readers started on {started[-1] if started else 'no'} partitions of "
             f"{OFFSETS_TOPIC}",
             f"decode failures {dict(decode) if decode else 'none'}",
             f"consume errors {len(consume_errors)}{' e.g. ' + str(consume_errors[-1]) if consume_errors else ''}"]
    if errors:
        parts.append(f"last error: {errors[-1]}")
    if env.burrow and env.burrow.exited():
        parts.append(env.burrow.exited())
    return "; ".join(parts)


def burrow_alive():
    if env.burrow.exited():
        raise AssertionError(f"{env.burrow.exited()}: {env.burrow.log_tail(4)}")


def latest_offsets(detail):
    """From /consumer/<group>'s body: {partition: (latest offset, current-lag)} of the topic
    (Burrow keeps a ring of offsets per partition, oldest first: the last one is the latest)."""
    parts = (detail.get("topics") or {}).get(env.topic)
    if parts is None:
        return None
    out = {}
    for p, part in enumerate(parts):
        offs = (part or {}).get("offsets") or []
        last = offs[-1] if offs else None
        out[p] = (None if last is None else last.get("offset"), (part or {}).get("current-lag"))
    return out


def lag_view(status):
    """From /lag's `status`: ({partition: (current_lag, end offset)} of the topic, totallag,
    partition_count)."""
    parts = {}
    for ps in status.get("partitions") or []:
        if ps.get("topic") == env.topic:
            parts[ps.get("partition")] = (ps.get("current_lag"), (ps.get("end") or {}).get("offset"))
    return parts, status.get("totallag"), status.get("partition_count")


def expected(committed):
    """The client's view: {partition: log end offset} (get_watermark_offsets) and {partition:
    log end - committed}."""
    ends = log_ends(need("consumer", "3"))
    return ends, {p: ends[p] - committed[p] for p in range(PARTITIONS)}


def check_detail(committed, what):
    """Polls /consumer/<group> until, per partition, Burrow's latest offset is the committed
    one and its current-lag is log end - committed."""
    ends, lag = expected(committed)
    want = {p: (committed[p], lag[p]) for p in range(PARTITIONS)}
    seen = {}

    def agree():
        burrow_alive()
        code, body = http_get(f"/v3/kafka/{env.cluster}/consumer/{env.group}")
        seen["detail"] = (code, latest_offsets(body) if code == 200 and isinstance(body, dict) else body)
        return code == 200 and seen["detail"][1] == want

    wait_for(f"{what}: Burrow's /consumer/{env.group} showing {{partition: (latest offset, current-lag)}} "
             f"{want} (log ends {ends})", BURROW_WAIT_S, agree,
             lambda: f"last seen (HTTP status, view) {seen.get('detail')}; {burrow_diagnosis()}", step=0.5)
    return ends, lag


def check_lag(committed, what):
    """Polls /consumer/<group>/lag until, per partition, current_lag is log end - committed and
    end.offset the committed offset, totallag their sum and partition_count the topic's."""
    ends, lag = expected(committed)
    want = ({p: (lag[p], committed[p]) for p in range(PARTITIONS)}, sum(lag.values()), PARTITIONS)
    seen = {}

    def agree():
        burrow_alive()
        code, body = http_get(f"/v3/kafka/{env.cluster}/consumer/{env.group}/lag")
        status = body.get("status") if isinstance(body, dict) else None
        seen["lag"] = (code, lag_view(status) if isinstance(status, dict) else body)
        return code == 200 and seen["lag"][1] == want

    wait_for(f"{what}: Burrow's /consumer/{env.group}/lag showing ({{partition: (current_lag, end.offset)}}, "
             f"totallag, partition_count) {want} (log ends {ends})", BURROW_WAIT_S, agree,
             lambda: f"last seen (HTTP status, view) {seen.get('lag')}; {burrow_diagnosis()}", step=0.5)
    return ends, lag


# ---------------------------------------------------------------- scenarios
def s1_weir_starts():
    for n in env.nodes.values():
        n.start()
    deadline = time.monotonic() + 30
    for n in env.nodes.values():
        while not listening(n.port):
            assert n.alive(), f"{n.exited()}: {n.log_tail()}"
            assert time.monotonic() < deadline, f"node {n.id}'s port {n.port} not open 30s after the start"
            time.sleep(0.1)  # polling interval, bounded by the deadline
    ctx["weir"] = True
    want = {n.id: ("127.0.0.1", n.port) for n in env.nodes.values()}
    seen = {}

    def formed():
        md = metadata()
        seen["brokers"] = None if md is None else {b.id: (b.host, b.port) for b in md.brokers.values()}
        return seen["brokers"] == want

    wait_for(f"metadata listing brokers {want}", 60, formed, lambda: f"last seen {seen}", step=0.5)


def s2_topic():
    need("weir", "1")
    admin = AdminClient(conf())
    admin.create_topics([NewTopic(env.topic, num_partitions=PARTITIONS, replication_factor=1)],
                        operation_timeout=15, request_timeout=20)[env.topic].result(25)
    seen = {}

    def led():
        md = metadata()
        t = md.topics.get(env.topic) if md else None
        seen["leaders"] = None if t is None else {p.id: p.leader for p in t.partitions.values()}
        return (t is not None and t.error is None and len(t.partitions) == PARTITIONS
                and all(p.leader in env.nodes for p in t.partitions.values()))

    wait_for(f"{PARTITIONS} partitions with a leader", 20, led, lambda: f"last seen {seen}")
    produce(FIRST, {p: 0 for p in FIRST})
    c = Consumer(conf(group_id=wc.unique("burrow-wm")))
    try:
        ends = log_ends(c)
    finally:
        c.close()
    assert ends == FIRST, f"log end offsets {ends}, expected {FIRST}"
    ctx["topic"] = True
    info(f"topic {env.topic}: leaders {seen['leaders']}, log ends {ends}")


def s3_group_commits():
    need("topic", "2")
    c = Consumer(conf(group_id=env.group, enable_auto_commit=False, auto_offset_reset="earliest",
                      session_timeout_ms=10000, heartbeat_interval_ms=1000, fetch_wait_max_ms=100))
    c.subscribe([env.topic])
    ctx["consumer"] = c  # kept open (a Stable group) until the end; closed in main()
    highest = consume_until(c, FIRST_COMMIT)
    ctx["committed"] = commit_and_read_back(c, dict(FIRST_COMMIT))
    info(f"group {env.group} read up to {highest}, committed {ctx['committed']}")


def s4_zookeeper():
    zdir = os.path.join(env.work, "zookeeper")
    os.makedirs(os.path.join(zdir, "data"), exist_ok=True)
    cfg = os.path.join(zdir, "zoo.cfg")
    with open(cfg, "w") as f:
        f.write("\n".join([
            "tickTime=500", "initLimit=10", "syncLimit=5",
            f"dataDir={os.path.join(zdir, 'data')}",
            f"clientPort={env.zk_port}", "clientPortAddress=127.0.0.1",
            "admin.enableServer=false",  # no Jetty admin server (it would listen on 8080)
            "4lw.commands.whitelist=srvr",
            "maxClientCnxns=60", ""]))
    env.zk = Proc("ZooKeeper", ["java", "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                                "-Dzookeeper.jmx.log4j.disable=true", "-cp", ZK_CLASSPATH,
                                "org.apache.zookeeper.server.ZooKeeperServerMain", cfg],
                  os.path.join(env.work, "zookeeper.log"), env.pidfile, cwd=zdir)
    env.zk.start()

    def ok():
        if env.zk.exited():
            raise AssertionError(f"{env.zk.exited()}: {env.zk.log_tail()}")
        return zk_serving(env.zk_port)

    wait_for(f"ZooKeeper on 127.0.0.1:{env.zk_port} serving (srvr: Mode: standalone)", 30, ok,
             lambda: env.zk.log_tail())
    ctx["zk"] = True


BURROW_TOML = """\
[general]
pidfile="{bdir}/burrow.pid"

[logging]
level="{level}"

[zookeeper]
servers=["127.0.0.1:{zk_port}"]
timeout=6
root-path="/burrow-{run}"

[client-profile.weir]
client-id="burrow-compat"
kafka-version="{kafka_version}"

[cluster.{cluster}]
class-name="kafka"
servers=[{servers}]
client-profile="weir"
topic-refresh=2
offset-refresh=1

[consumer.{cluster}]
class-name="kafka"
cluster="{cluster}"
servers=[{servers}]
client-profile="weir"
start-latest=false

[httpserver.default]
address="127.0.0.1:{http_port}"

[storage.default]
class-name="inmemory"
workers=4
intervals=5
expire-group=604800
min-distance=1

[evaluator.default]
class-name="caching"
expire-cache=1
"""


def offsets_topic_ready(timeout=30):
    """Waits until weir's __consumer_offsets is listed, every partition with a leader, and
    each partition answers ListOffsets at its leader (the client's get_watermark_offsets):
    what Burrow's consumer module needs when it starts - one partition that fails there
    (sarama's ConsumePartition) and Burrow exits. Returns (partitions, records in them)."""
    seen = {}
    c = Consumer(conf(group_id=wc.unique("burrow-offsets-wm")))
    try:
        def ready():
            md = metadata()
            t = md.topics.get(OFFSETS_TOPIC) if md else None
            if t is None or t.error is not None or not t.partitions:
                seen["metadata"] = "not listed" if t is None else str(t.error or "no partitions")
                return False
            leaderless = sorted(p.id for p in t.partitions.values() if p.leader not in env.nodes)
            seen["metadata"] = f"{len(t.partitions)} partitions, without a leader: {leaderless}"
            if leaderless:
                return False
            marks = {}
            for p in t.partitions:
                try:
                    marks[p] = c.get_watermark_offsets(TopicPartition(OFFSETS_TOPIC, p), timeout=5)
                except Exception as e:  # noqa: BLE001 - not answering yet: polled again
                    seen["watermarks"] = f"partition {p}: {e}"
                    return False
            seen["result"] = (len(marks), sum(high - low for low, high in marks.values()))
            return True

        wait_for(f"{OFFSETS_TOPIC} listed with every partition led and answering ListOffsets", timeout,
                 ready, lambda: f"last seen {seen}", step=0.5)
    finally:
        c.close()
    return seen["result"]


def offsets_records():
    """For a failure's detail: how many records weir's __consumer_offsets holds (the client's
    watermarks), or why that is unknown."""
    md = metadata()
    t = md.topics.get(OFFSETS_TOPIC) if md else None
    if t is None or t.error is not None:
        return f"the client's metadata lists no {OFFSETS_TOPIC} ({t.error if t else 'absent'})"
    c = Consumer(conf(group_id=wc.unique("burrow-offsets-wm")))
    try:
        marks = {p: c.get_watermark_offsets(TopicPartition(OFFSETS_TOPIC, p), timeout=5) for p in t.partitions}
    except Exception as e:  # noqa: BLE001 - a detail for a failure only
        return f"{OFFSETS_TOPIC}'s watermarks unknown ({e})"
    finally:
        c.close()
    used = {p: h - lo for p, (lo, h) in sorted(marks.items()) if h > lo}
    return f"weir's {OFFSETS_TOPIC} holds {sum(used.values())} records (by partition {used})"


def s5_offsets_topic():
    need("committed", "3")  # the group's FindCoordinator makes weir create the topic
    t0 = time.monotonic()
    partitions, records = offsets_topic_ready()
    assert records > 0, f"{OFFSETS_TOPIC} holds no records after the group's commit"
    info(f"weir's {OFFSETS_TOPIC}: {partitions} partitions, {records} records, every partition answering "
         f"{time.monotonic() - t0:.1f}s after the check began")
    ctx["offsets_partitions"] = partitions


def s6_burrow_starts():
    need("zk", "4")
    need("topic", "2")
    # Started even when 5 failed: what Burrow makes of weir then is worth seeing (it exits if
    # it cannot read every partition of __consumer_offsets).
    partitions = ctx.get("offsets_partitions")
    bdir = os.path.join(env.work, "burrow")
    os.makedirs(bdir, exist_ok=True)
    servers = ", ".join(f'"127.0.0.1:{n.port}"' for n in env.nodes.values())
    with open(os.path.join(bdir, "burrow.toml"), "w") as f:
        f.write(BURROW_TOML.format(bdir=bdir, level="debug" if DEBUG else "info", zk_port=env.zk_port,
                                   run=f"{env.mode}-{RUN_ID}", kafka_version=KAFKA_VERSION,
                                   cluster=env.cluster, servers=servers, http_port=env.http_port))
    # Burrow reads BURROW_* variables as settings (viper's AutomaticEnv): none from outside.
    environ = {k: v for k, v in os.environ.items() if not k.upper().startswith("BURROW_")}
    env.burrow = Proc("Burrow", [BURROW_BIN, "-config-dir", bdir], os.path.join(env.work, "burrow.log"),
                      env.pidfile, cwd=bdir, environ=environ)
    env.burrow.start()
    seen = {}

    def listed():
        burrow_alive()
        seen["clusters"] = http_get("/v3/kafka")
        code, body = seen["clusters"]
        return code == 200 and isinstance(body, dict) and body.get("clusters") == [env.cluster]

    wait_for(f"Burrow's /v3/kafka listing exactly [{env.cluster}]", 30, listed,
             lambda: f"last seen {seen}; {burrow_diagnosis()}")
    ctx["burrow"] = True

    def readers():
        burrow_alive()
        seen["started"] = [e.get("count") for e in burrow_log()
                           if e.get("msg") == "starting consumers" and e.get("topic") == OFFSETS_TOPIC]
        return bool(seen["started"])

    wait_for(f"Burrow's consumer module starting its readers of {OFFSETS_TOPIC}", 30, readers,
             lambda: f"{burrow_diagnosis()}; {env.burrow.log_tail(3)}")
    assert partitions is not None, (f"Burrow started readers on {seen['started'][-1]} partitions of "
                                    f"{OFFSETS_TOPIC}, a topic not ready for the client (scenario 5)")
    assert seen["started"][-1] == partitions, (f"Burrow started readers on {seen['started'][-1]} partitions "
                                               f"of {OFFSETS_TOPIC}; the client's metadata lists {partitions}")
    # (A reader that cannot start makes Burrow exit: every later scenario checks it still runs.)
    info(f"Burrow 1.2.1 up (HTTP 127.0.0.1:{env.http_port}), reading {partitions} partitions of {OFFSETS_TOPIC}")


def s7_topic_offsets():
    need("burrow", "6")
    c = need("consumer", "3")
    ends = log_ends(c)
    seen = {}

    def shown():
        burrow_alive()
        code, body = http_get(f"/v3/kafka/{env.cluster}/topic")
        seen["topics"] = (code, body.get("topics") if isinstance(body, dict) else body)
        if code != 200 or env.topic not in (seen["topics"][1] or []):
            return False
        code, body = http_get(f"/v3/kafka/{env.cluster}/topic/{env.topic}")
        seen["offsets"] = (code, body.get("offsets") if isinstance(body, dict) else body)
        return code == 200 and seen["offsets"][1] == [ends[p] for p in range(PARTITIONS)]

    wait_for(f"Burrow listing {env.topic} with partition offsets {[ends[p] for p in range(PARTITIONS)]}",
             BURROW_WAIT_S, shown, lambda: f"last seen (HTTP status, body) {seen}")


def s8_group_listed():
    need("burrow", "6")
    need("committed", "3")
    seen = {}

    def listed():
        burrow_alive()
        code, body = http_get(f"/v3/kafka/{env.cluster}/consumer")
        seen["consumers"] = (code, body.get("consumers") if isinstance(body, dict) else body)
        return code == 200 and env.group in (seen["consumers"][1] or [])

    wait_for(f"Burrow's consumer list containing {env.group}", BURROW_WAIT_S, listed,
             lambda: f"last seen (HTTP status, consumers) {seen['consumers']}; {burrow_diagnosis()}; "
                     f"{offsets_records()}",
             step=0.5)
    ctx["listed"] = True


def s9_offsets():
    need("listed", "8")
    check_detail(need("committed", "3"), "the first commit")


def s10_lag():
    need("listed", "8")
    ends, lag = check_lag(need("committed", "3"), "the first commit")
    info(f"Burrow: offsets {ctx['committed']}, lag {lag} (log ends {ends}), total {sum(lag.values())}")


def s11_follows():
    need("listed", "8")
    c = need("consumer", "3")
    produce(MORE, {p: FIRST[p] for p in MORE})
    new_ends = {p: FIRST[p] + MORE[p] for p in range(PARTITIONS)}
    consume_until(c, SECOND_COMMIT, timeout=20)
    committed = commit_and_read_back(c, dict(SECOND_COMMIT))
    seen = {}

    def topic_follows():
        burrow_alive()
        code, body = http_get(f"/v3/kafka/{env.cluster}/topic/{env.topic}")
        seen["offsets"] = (code, body.get("offsets") if isinstance(body, dict) else body)
        return code == 200 and seen["offsets"][1] == [new_ends[p] for p in range(PARTITIONS)]

    wait_for(f"Burrow's topic offsets moving to {[new_ends[p] for p in range(PARTITIONS)]}", BURROW_WAIT_S,
             topic_follows, lambda: f"last seen (HTTP status, body) {seen}")
    check_detail(committed, "the second commit")
    ends, lag = check_lag(committed, "the second commit")
    assert ends == new_ends, f"log end offsets {ends}, expected {new_ends}"
    info(f"Burrow followed: offsets {committed}, lag {lag}, total {sum(lag.values())}")


def s12_alive():
    started = [p for p in env.procs() if p.proc is not None]
    assert started, "nothing was started"
    dead = [f"{p.exited()}: {p.log_tail(2)}" for p in started if not p.alive()]
    assert not dead, "; ".join(dead)


def register(mode):
    one = "1 weir node" if mode == "single" else "3 weir nodes (one cluster)"
    s = suite.scenario
    s(f"{mode} 1 weir starts: metadata lists {one}")(s1_weir_starts)
    s(f"{mode} 2 a {PARTITIONS}-partition topic is created; messages produced (acks=all) to chosen "
      "partitions are acknowledged at offsets 0..n-1")(s2_topic)
    s(f"{mode} 3 a confluent-kafka group consumes part of every partition and commits synchronously; "
      "committed() reads the offsets back")(s3_group_commits)
    s(f"{mode} 4 ZooKeeper (Burrow's coordination store) runs standalone on 127.0.0.1 and serves (srvr)")(
        s4_zookeeper)
    s(f"{mode} 5 weir's {OFFSETS_TOPIC} is listed, holds records, and every partition answers "
      "ListOffsets at its leader")(s5_offsets_topic)
    s(f"{mode} 6 Burrow 1.2.1 starts: /v3/kafka lists its cluster; its consumer module reads every "
      f"partition of {OFFSETS_TOPIC}", timeout=80)(s6_burrow_starts)
    s(f"{mode} 7 Burrow lists the topic (/topic) with per-partition offsets equal to the log end offsets "
      "the client reads")(s7_topic_offsets)
    s(f"{mode} 8 Burrow's consumer list (/consumer) contains the group (read from {OFFSETS_TOPIC})")(
        s8_group_listed)
    s(f"{mode} 9 Burrow's /consumer/<group> shows, per partition, the offset committed() reads and "
      "current-lag = log end - committed")(s9_offsets)
    s(f"{mode} 10 Burrow's /consumer/<group>/lag shows, per partition, current_lag = log end - committed "
      "(client's get_watermark_offsets, committed()) and end.offset = committed; totallag = their sum")(s10_lag)
    s(f"{mode} 11 Burrow follows: after more messages and a second synchronous commit its topic offsets, "
      "the group's offsets and its lag (per partition and total) move to the new values",
      timeout=100)(s11_follows)
    s(f"{mode} 12 every process started (weir, ZooKeeper, Burrow) is still running")(s12_alive)


def main():
    global env
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["single", "cluster"], required=True)
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
    env = Env(args.mode, args.weir, args.work, args.pidfile)
    register(args.mode)
    try:
        rc = suite.run_all()
    finally:
        c = ctx.get("consumer")
        if c is not None:
            try:
                c.close()
            except Exception as e:  # noqa: BLE001 - cleanup goes on
                print(f"closing the consumer: {e}", file=sys.stderr)
        env.stop_all()
    wc.exit_now(rc)


if __name__ == "__main__":
    main()
