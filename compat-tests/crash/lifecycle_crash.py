"""kill -9 crash tests for weir's log lifecycle (the log cleaner and retention), with a real
client (confluent-kafka / librdkafka).

The broker runs as a child process with its retention check every 100 ms and the cleaner's
backoff at 50 ms. A producer (acks=all, idempotent) writes continuously from a background
thread while the main thread SIGKILLs the broker and restarts it on the same port and data
dir. Kills are timed on the partition directory (inotify): on a cleaner's `*.log.cleaned`,
`*.swap` or `*.deleted` file appearing, on a retention deletion's index / log rename or
unlink, or right after a client saw the log start offset advance; when the awaited event
does not come within a few seconds, after a short random delay instead.

Scenarios (one PASS/FAIL line each; every failed check is listed in the FAIL detail):

* `cleaner survives kill -9`: a compacted topic with 50 keys. After every restart, and
  at the end once the cleaner has compacted the log, the whole log is read: offsets strictly
  increase, every acknowledged record read sits at its acknowledged offset, and for every key
  the latest acknowledged value (as of the kill / the end) is still readable (or, after a
  kill, superseded by a later record of the key). At the end the last record of every key is
  exactly its latest acknowledged (offset, value), also after a clean stop and start, and no
  `*.cleaned` / `*.swap` / `*.deleted` file is left.
* `retention survives kill -9`: a delete topic with retention.bytes=64 KiB. The log start
  offset (low watermark) never goes backward, neither across a restart nor compared with a
  value a client saw just before the kill; after every restart and at the end every offset
  from the low to the high watermark is read exactly once with the value acknowledged for it;
  `*.deleted` files left by a kill are gone after the restart.
"""

import argparse
import collections
import ctypes
import os
import random
import select
import struct
import sys
import threading
import time
import traceback

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import weir_compat as wc  # noqa: E402

report = wc.reporter("crash")

OVERRIDES = ["--override", "log.retention.check.interval.ms=100",
             "--override", "log.cleaner.backoff.ms=50"]
LEFTOVER_SUFFIXES = (".cleaned", ".swap", ".deleted")
NKEYS = 50


def log(msg):
    sys.stderr.write(f"[lifecycle_crash {time.strftime('%H:%M:%S')}] {msg}\n")
    sys.stderr.flush()


def leftovers(d, suffixes=LEFTOVER_SUFFIXES):
    try:
        return sorted(n for n in os.listdir(d) if n.endswith(suffixes))
    except FileNotFoundError:
        return []


# ---------------------------------------------------------------- directory events
class DirWatch:
    """Events in one directory: ("new", name) for a file created or renamed into it,
    ("gone", name) for one removed or renamed away. inotify where available (reacts within
    microseconds); otherwise directory listings compared every millisecond."""
    IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200

    def __init__(self, path):
        self.path = path
        self.fd = None
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
            if fd < 0:
                raise OSError(ctypes.get_errno(), "inotify_init1")
            mask = self.IN_MOVED_FROM | self.IN_MOVED_TO | self.IN_CREATE | self.IN_DELETE
            if libc.inotify_add_watch(fd, path.encode(), mask) < 0:
                os.close(fd)
                raise OSError(ctypes.get_errno(), "inotify_add_watch")
            self.fd = fd
        except (OSError, AttributeError) as e:
            log(f"inotify unavailable ({e}); polling {path}")
            self.snapshot = set(os.listdir(path))

    def _events(self, timeout):
        if self.fd is None:
            deadline = time.monotonic() + timeout
            while True:
                now = set(os.listdir(self.path))
                evs = [("new", n) for n in now - self.snapshot] + [("gone", n) for n in self.snapshot - now]
                self.snapshot = now
                if evs or time.monotonic() >= deadline:
                    return evs
                time.sleep(0.001)
        r, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        if not r:
            return []
        try:
            data = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return []
        evs, i = [], 0
        while i + 16 <= len(data):
            _, mask, _, ln = struct.unpack_from("iIII", data, i)
            name = data[i + 16:i + 16 + ln].split(b"\0", 1)[0].decode(errors="replace")
            i += 16 + ln
            if mask & (self.IN_CREATE | self.IN_MOVED_TO):
                evs.append(("new", name))
            elif mask & (self.IN_DELETE | self.IN_MOVED_FROM):
                evs.append(("gone", name))
        return evs

    def drain(self):
        while self._events(0):
            pass

    def wait_for(self, pred, timeout):
        """The first (kind, name) event satisfying pred within timeout, else None."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            for ev in self._events(min(left, 0.2)):
                if pred(*ev):
                    return ev

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


# ---------------------------------------------------------------- producing
class Feeder:
    """Produces make(i) = (key, value) records at about `rate` per second from a thread
    until finish(); collects delivery reports: acked {value: (key, offset)}, failures."""

    def __init__(self, bootstrap, topic, make, rate, extra_conf=None):
        conf = {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 5,
            "message.timeout.ms": 90000,
            "reconnect.backoff.ms": 20,
            "reconnect.backoff.max.ms": 200,
        }
        conf.update(extra_conf or {})
        self.producer = Producer(conf)
        self.topic, self.make, self.rate = topic, make, rate
        self.lock = threading.Lock()
        self.acked = {}
        self.failures = []
        self.sent = 0
        self.error = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _on_delivery(self, err, msg):
        with self.lock:
            if err is not None:
                self.failures.append((msg.value().decode(), str(err)))
            else:
                k = msg.key().decode() if msg.key() is not None else None
                self.acked[msg.value().decode()] = (k, msg.offset())

    def _run(self):
        try:
            t0 = time.monotonic()
            while not self._stop.is_set():
                due = int((time.monotonic() - t0) * self.rate)
                while self.sent < due and not self._stop.is_set():
                    key, value = self.make(self.sent)
                    try:
                        self.producer.produce(self.topic, key=key, value=value, on_delivery=self._on_delivery)
                    except BufferError:
                        break
                    self.sent += 1
                self.producer.poll(0.005)
        except Exception as e:  # noqa: BLE001 - surfaces as a failed check
            self.error = repr(e)
            traceback.print_exc(file=sys.stderr)

    def start(self):
        self._thread.start()

    def snapshot(self):
        with self.lock:
            return dict(self.acked)

    def finish(self, timeout):
        """Stops producing; waits for every delivery report. Returns how many are missing."""
        self._stop.set()
        self._thread.join(30)
        return self.producer.flush(timeout)


# ---------------------------------------------------------------- reading
def watermarks(consumer, topic, timeout=30):
    """(low, high) of partition 0, retried while the broker is (re)starting."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            lo, hi = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=5, cached=False)
            if lo >= 0 and hi >= 0:
                return lo, hi
            err = f"watermarks {lo},{hi}"
        except KafkaException as e:
            err = str(e)
        if time.monotonic() > deadline:
            raise RuntimeError(f"no watermarks for {topic}: {err}")
        time.sleep(0.05)


def probe_consumer(bootstrap):
    return Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": wc.unique("lifecycle-probe"),
        "enable.auto.commit": False,
        "reconnect.backoff.ms": 20,
        "reconnect.backoff.max.ms": 200,
    })


Read = collections.namedtuple("Read", "lo lo_after hi recs")


def read_log(bootstrap, topic, timeout=60):
    """Reads partition 0 from its log start up to the high watermark taken first. Returns
    Read(lo, lo_after, hi, recs): the low watermark before and after the read, the high
    watermark and the records [(offset, key, value)]. (Retention may move the log start
    during the read; the reader then resumes at the new start.)"""
    c = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": wc.unique("lifecycle-read"),
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": True,
        "check.crcs": True,
        "fetch.max.bytes": 8 * 1024 * 1024,
    })
    try:
        lo, hi = watermarks(c, topic)
        recs = []
        if hi > lo:
            c.assign([TopicPartition(topic, 0, lo)])
            deadline = time.monotonic() + timeout
            while True:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"read of {topic} did not reach offset {hi} in {timeout}s "
                                       f"(got {len(recs)})")
                m = c.poll(0.5)
                if m is None:
                    continue
                if m.error():
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        if m.offset() >= hi:
                            break
                        continue
                    raise RuntimeError(f"consume error: {m.error()}")
                k = m.key().decode() if m.key() is not None else None
                recs.append((m.offset(), k, m.value().decode() if m.value() is not None else None))
                if m.offset() >= hi - 1:
                    break
        lo_after, _ = watermarks(c, topic)
        return Read(lo, lo_after, hi, recs)
    finally:
        c.close()


# ---------------------------------------------------------------- a scenario's broker
class Harness:
    def __init__(self, args, name, topic, topic_config):
        self.args = args
        self.topic = topic
        data = os.path.join(args.work, f"lifecycle-{name}-data")
        self.broker = wc.Broker(args.weir, data, os.path.join(args.work, "broker.log"), extra_args=OVERRIDES)
        self.pdir = os.path.join(data, f"{topic}-0")
        self.topic_config = topic_config
        self.problems = []
        self.kill_log = []

    def setup(self):
        self.broker.start()
        self.bootstrap = self.broker.bootstrap
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        admin.create_topics([NewTopic(self.topic, num_partitions=1, replication_factor=1,
                                      config=self.topic_config)])[self.topic].result(30)
        if not wc.wait_until(lambda: os.path.isdir(self.pdir), 10, 0.02):
            raise RuntimeError(f"partition dir {self.pdir} not created")
        self.watch = DirWatch(self.pdir)
        self.probe = probe_consumer(self.bootstrap)

    def fail(self, msg):
        log(f"PROBLEM: {msg}")
        self.problems.append(msg)

    def kill_and_restart(self, landed, feeder):
        """SIGKILL; snapshot the acks received so far and note the files the kill left
        behind; restart and wait until the broker serves (recovery done); check that those
        files are gone. Returns (acks before the kill, left-behind files, low watermark)."""
        self.broker.kill9()
        snap = feeder.snapshot()
        left = leftovers(self.pdir)
        self.kill_log.append((landed, left))
        n = len(self.kill_log)
        log(f"kill {n} ({landed}); left behind: {left or 'nothing'}; acked so far {len(snap)}")
        self.broker.start()
        lo, _ = watermarks(self.probe, self.topic)
        if left and not wc.wait_until(lambda: not set(left) & set(os.listdir(self.pdir)), 5):
            self.fail(f"kill {n} ({landed}): files it left still there after the restart: "
                      f"{sorted(set(left) & set(os.listdir(self.pdir)))}")
        return snap, left, lo

    def arm(self, pred, label, timeout=4.0):
        """Waits for a directory event satisfying pred; on none, a short random delay."""
        time.sleep(random.uniform(0.0, 0.4))  # the experiment: vary the kill point
        self.watch.drain()
        ev = self.watch.wait_for(pred, timeout)
        if ev is None:
            time.sleep(random.uniform(0.02, 0.3))
            return f"{label}: no event in {timeout}s, random delay"
        return f"{label}: {ev[0]} {ev[1]}"

    def final_clean_restart(self):
        self.broker.stop()
        self.broker.start()
        watermarks(self.probe, self.topic)
        if not wc.wait_until(lambda: not leftovers(self.pdir), 5):
            self.fail(f"after a clean stop and start, files left in {self.pdir}: {leftovers(self.pdir)}")

    def close(self):
        try:
            self.probe.close()
        except Exception:  # noqa: BLE001
            pass
        if getattr(self, "watch", None):
            self.watch.close()
        self.broker.stop()

    def verdict(self, scenario):
        if self.problems:
            log(f"{scenario}: files in {self.pdir}: {sorted(os.listdir(self.pdir)) if os.path.isdir(self.pdir) else 'none'}")
        return report(not self.problems, scenario, "; ".join(p[:300] for p in self.problems[:8]))


# ---------------------------------------------------------------- scenario 1: the cleaner
def check_compacted(h, recs, acked, latest, label, exact):
    """Problems in a read of the compacted log. acked: {value: (key, offset)}; latest:
    {key: (offset, value)}, the latest acknowledged record per key. exact: the log's last
    record of each key must be exactly latest[key] (nothing was produced after it);
    otherwise it may also be a later record of the key."""
    offs = [o for o, _, _ in recs]
    bad_order = [(a, b) for a, b in zip(offs, offs[1:]) if b <= a]
    if bad_order:
        h.fail(f"{label}: offsets not strictly increasing, e.g. {bad_order[:3]}")
    misplaced = [(o, k, v, acked[v]) for o, k, v in recs if v in acked and acked[v] != (k, o)]
    if misplaced:
        h.fail(f"{label}: {len(misplaced)} acknowledged records read at another offset/key than acked, "
               f"e.g. (offset, key, value, acked) {misplaced[:3]}")
    last = {}
    for o, k, v in recs:
        last[k] = (o, v)
    wrong = []
    for k, (ao, av) in sorted(latest.items()):
        got = last.get(k)
        if got == (ao, av):
            continue
        if not exact and got is not None and got[0] > ao:
            continue  # superseded by a later record of the key
        wrong.append((k, "acked", (ao, av), "read", got))
    if wrong:
        h.fail(f"{label}: {len(wrong)} keys whose latest acknowledged record is not what the log holds, "
               f"e.g. {wrong[:3]}")
    if exact:
        unknown = [(o, k, v) for o, k, v in recs if v not in acked]
        if unknown:
            h.fail(f"{label}: {len(unknown)} records read that were never acknowledged, e.g. {unknown[:3]}")
        extra = sorted(set(last) - set(latest))
        if extra:
            h.fail(f"{label}: keys read that were never acknowledged: {extra[:5]}")


def latest_per_key(acked):
    latest = {}
    for v, (k, o) in acked.items():
        if k not in latest or o > latest[k][0]:
            latest[k] = (o, v)
    return latest


def scenario_cleaner(args):
    scenario = "cleaner survives kill -9"
    topic = wc.unique("lifecycle-compact")
    h = Harness(args, "compact", topic, {
        "cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.01",
        "segment.bytes": "8192", "segment.ms": "200",
    })
    feeder = None
    try:
        h.setup()
        rnd = random.Random(args.seed)

        def make(i):
            k = f"key-{rnd.randrange(NKEYS):02d}"
            return k.encode(), f"{k}|{i:08d}|{rnd.getrandbits(96):024x}".encode()

        feeder = Feeder(h.bootstrap, topic, make, args.rate, {"compression.type": "lz4"})
        feeder.start()
        triggers = [
            ("cleaned created", lambda kind, n: kind == "new" and n.endswith(".cleaned")),
            ("swap committed", lambda kind, n: kind == "new" and n.endswith(".swap")),
            ("old segment renamed to .deleted", lambda kind, n: kind == "new" and n.endswith(".deleted")),
        ]
        interrupted = 0
        for k in range(args.kills):
            label, pred = triggers[k % len(triggers)]
            landed = h.arm(pred, label)
            snap, left, _ = h.kill_and_restart(landed, feeder)
            interrupted += bool(left)
            recs = read_log(h.bootstrap, topic).recs
            check_compacted(h, recs, snap, latest_per_key(snap), f"after kill {k + 1}", exact=False)
        remaining = feeder.finish(60)
        acked, failures = feeder.snapshot(), list(feeder.failures)
        log(f"produced {feeder.sent}, acked {len(acked)}, failed {len(failures)}, unflushed {remaining}; "
            f"{interrupted} of {args.kills} kills left cleaner files behind")
        if len(h.kill_log) < args.kills:
            h.fail(f"only {len(h.kill_log)} kills")
        if feeder.error or remaining or failures or len(acked) != feeder.sent:
            h.fail(f"not every record acknowledged: sent={feeder.sent} acked={len(acked)} unflushed={remaining} "
                   f"failures={len(failures)} e.g. {failures[:2]} producer error={feeder.error}")
        latest = latest_per_key(acked)

        # The cleaner compacts the rest (the active segment rolls after segment.ms).
        state = {}

        def compacted():
            state["recs"] = read_log(h.bootstrap, topic).recs
            return len(state["recs"]) <= 2 * NKEYS
        if not wc.wait_until(compacted, 30, 0.2):
            h.fail(f"the cleaner did not compact the log: {len(state['recs'])} records remain "
                   f"for {len(latest)} keys")
        check_compacted(h, state["recs"], acked, latest, "at the end", exact=True)
        h.final_clean_restart()
        recs = read_log(h.bootstrap, topic).recs
        check_compacted(h, recs, acked, latest, "after a clean restart", exact=True)
        if len(recs) > 2 * NKEYS:
            h.fail(f"after a clean restart {len(recs)} records for {len(latest)} keys")
    except Exception as e:  # noqa: BLE001 - a crash of the scenario is its failure
        traceback.print_exc(file=sys.stderr)
        h.fail(f"scenario did not complete: {e!r}")
    finally:
        if feeder is not None:
            feeder._stop.set()
        h.close()
    return h.verdict(scenario)


# ---------------------------------------------------------------- scenario 2: retention
def check_retained(h, r, acked_by_offset, label, exact):
    """Problems in a Read r of the retention topic. acked_by_offset: {offset: value}
    acknowledged. The read must start at the log start offset, or (when retention moved the
    start during the read) somewhere between the start before and after the read, and then
    hold every offset up to the high watermark exactly once, each acknowledged offset with
    its value. exact: every record read must have been acknowledged (none in flight)."""
    offs = [o for o, _, _ in r.recs]
    first = offs[0] if offs else r.hi
    if not r.lo <= first <= max(r.lo, r.lo_after):
        h.fail(f"{label}: the read began at offset {first}, but the log start was {r.lo} before the read "
               f"and {r.lo_after} after it (high watermark {r.hi})")
    if offs != list(range(first, r.hi)):
        missing = sorted(set(range(first, r.hi)) - set(offs))
        dup = len(offs) - len(set(offs))
        h.fail(f"{label}: offsets read are not exactly {first}..{r.hi - 1}: read {len(offs)} "
               f"(last {offs[-1:]}), missing {len(missing)} e.g. {missing[:5]}, duplicates {dup}")
    by_offset = {o: v for o, v in acked_by_offset.items() if o >= first}
    wrong = [(o, v, by_offset[o]) for o, _, v in r.recs if o in by_offset and by_offset[o] != v]
    if wrong:
        h.fail(f"{label}: {len(wrong)} offsets hold another value than acknowledged, e.g. "
               f"(offset, read, acked) {wrong[:3]}")
    vals = [v for _, _, v in r.recs]
    if len(vals) != len(set(vals)):
        h.fail(f"{label}: {len(vals) - len(set(vals))} values read more than once")
    beyond = sorted(o for o in by_offset if o >= r.hi)
    if beyond:
        h.fail(f"{label}: {len(beyond)} acknowledged offsets at or past the high watermark {r.hi}, "
               f"e.g. {beyond[:3]}")
    if exact:
        unacked = [(o, v) for o, _, v in r.recs if o not in by_offset]
        if unacked:
            h.fail(f"{label}: {len(unacked)} records read that were never acknowledged, e.g. {unacked[:3]}")


def scenario_retention(args):
    scenario = "retention survives kill -9"
    topic = wc.unique("lifecycle-retention")
    h = Harness(args, "retention", topic, {
        "cleanup.policy": "delete", "retention.bytes": "65536", "segment.bytes": "8192",
    })
    feeder = None
    try:
        h.setup()
        rnd = random.Random(args.seed + 1)

        def make(i):
            return None, f"r{i:08d}|{rnd.getrandbits(256):064x}".encode()

        feeder = Feeder(h.bootstrap, topic, make, args.rate)
        feeder.start()
        lows = []  # (when, low) in the order observed

        def note_low(when, lo):
            if lows and lo < lows[-1][1]:
                h.fail(f"log start offset went backward: {lows[-1][1]} ({lows[-1][0]}) -> {lo} ({when})")
            lows.append((when, lo))

        def low_advanced(timeout=4.0):
            start = watermarks(h.probe, topic)[0]
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                lo = watermarks(h.probe, topic)[0]
                if lo > start:
                    return lo
            return None

        triggers = [
            ("client saw the log start advance", None),
            ("index renamed to .deleted", lambda kind, n: kind == "new" and n.endswith(".index.deleted")),
            ("log renamed to .deleted", lambda kind, n: kind == "new" and n.endswith(".log.deleted")),
            ("deleted file unlinked", lambda kind, n: kind == "gone" and n.endswith(".deleted")),
        ]
        for k in range(args.kills):
            label, pred = triggers[k % len(triggers)]
            note_low(f"before kill {k + 1}", watermarks(h.probe, topic)[0])
            if pred is None:
                time.sleep(random.uniform(0.0, 0.4))
                seen = low_advanced()
                if seen is not None:
                    note_low(f"seen just before kill {k + 1}", seen)
                    landed = f"{label}: {seen}"
                else:
                    time.sleep(random.uniform(0.02, 0.3))
                    landed = f"{label}: no advance in 4s, random delay"
            else:
                landed = h.arm(pred, label)
            snap, _, lo = h.kill_and_restart(landed, feeder)
            note_low(f"after restart {k + 1}", lo)
            r = read_log(h.bootstrap, topic)
            note_low(f"read after restart {k + 1}", r.lo)
            note_low(f"after the read after restart {k + 1}", r.lo_after)
            # Every offset acknowledged before the kill and still above the log start must be
            # read back with its value.
            check_retained(h, r, {o: v for v, (_, o) in snap.items()}, f"after kill {k + 1}", exact=False)
        remaining = feeder.finish(60)
        acked, failures = feeder.snapshot(), list(feeder.failures)
        log(f"produced {feeder.sent}, acked {len(acked)}, failed {len(failures)}, unflushed {remaining}; "
            f"lows {lows}")
        if len(h.kill_log) < args.kills:
            h.fail(f"only {len(h.kill_log)} kills")
        if feeder.error or remaining or failures or len(acked) != feeder.sent:
            h.fail(f"not every record acknowledged: sent={feeder.sent} acked={len(acked)} unflushed={remaining} "
                   f"failures={len(failures)} e.g. {failures[:2]} producer error={feeder.error}")
        by_offset = {o: v for v, (_, o) in acked.items()}
        if len(by_offset) != len(acked):
            h.fail(f"{len(acked) - len(by_offset)} offsets acknowledged for more than one record")
        # Retention may still trim once after the last append: read until the log start held
        # still across the read.
        for _ in range(5):
            r = read_log(h.bootstrap, topic)
            if r.lo == r.lo_after:
                break
        note_low("final read", r.lo)
        note_low("after the final read", r.lo_after)
        if r.lo <= 0:
            h.fail(f"retention never deleted a segment (log start {r.lo}, high watermark {r.hi})")
        if r.hi != len(acked):
            h.fail(f"high watermark {r.hi} after {len(acked)} acknowledged records")
        check_retained(h, r, by_offset, "at the end", exact=True)
        h.final_clean_restart()
        lo3, hi3 = watermarks(h.probe, topic)
        note_low("after a clean restart", lo3)
        if hi3 != r.hi:
            h.fail(f"high watermark {r.hi} before a clean restart, {hi3} after")
    except Exception as e:  # noqa: BLE001 - a crash of the scenario is its failure
        traceback.print_exc(file=sys.stderr)
        h.fail(f"scenario did not complete: {e!r}")
    finally:
        if feeder is not None:
            feeder._stop.set()
        h.close()
    return h.verdict(scenario)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weir", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--rate", type=int, default=3000, help="records produced per second")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--only", choices=["cleaner", "retention"], default=None)
    args = ap.parse_args()
    if args.seed is None:
        args.seed = random.randrange(1 << 30)
    random.seed(args.seed)
    log(f"seed {args.seed}")
    ok = True
    if args.only in (None, "cleaner"):
        ok &= scenario_cleaner(args)
    if args.only in (None, "retention"):
        ok &= scenario_retention(args)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
