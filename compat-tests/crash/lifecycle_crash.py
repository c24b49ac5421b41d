"""kill -9 crash tests for weir's log lifecycle (the log cleaner and retention), with a real
client (confluent-kafka / librdkafka).

The broker runs as a child process with its retention check every 100 ms and the cleaner's
backoff at 50 ms. A producer (acks=all, idempotent) writes continuously from a background
thread while the main thread SIGKILLs the broker and restarts it on the same port and data
dir. Kills are timed on the partition directory (inotify): on a cleaner's `*.log.cleaned`,
`*.swap` or `*.deleted` file appearing, on a retention deletion's index / log rename or
unlink, or right after a client saw the log start offset advance; when the awaited event
does not come within a few seconds, after a short random delay instead.

After each restart the producer pauses until every record sent is acknowledged (the
idempotent producer retries what the kill cut off), the log is read and checked, and
producing resumes.

Scenarios (one PASS/FAIL line each; every failed check is listed in the FAIL detail):

* `cleaner survives kill -9`: a compacted topic (lz4) with 50 keys: 45 written at random,
  5 "cold" ones once every 5000 records, so that their latest records sit in old segments
  the cleaner keeps rewriting. A kill that left a committed `*.swap` is followed by a
  second kill of the restart as soon as its recovery starts completing that swap. After
  every restart, at the end once the cleaner has compacted the log (at most 2 records per
  key), and again after a clean stop and start, the whole log is read: offsets strictly
  increase, every record read was acknowledged at exactly the offset it is read at, and the
  last record of every key is its latest acknowledged (offset, value). Files a kill left
  (`*.cleaned`, `*.swap`, `*.deleted`) are gone after the restart, and none is left after
  the clean restart.
* `retention survives kill -9`: a delete topic with retention.bytes=64 KiB. The log start
  offset (low watermark) never goes backward, neither across a restart nor compared with a
  value a client saw just before the kill; after every restart and at the end every offset
  from the low to the high watermark is read exactly once with the value acknowledged for
  it (less offsets retention deletes while the read is behind it); `*.deleted` files left by a kill are gone after the restart.
"""

import argparse
import collections
import ctypes
import faulthandler
import os
import random
import select
import struct
import subprocess
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
NKEYS = 50  # keys of the compacted topic, COLD_KEYS of them rarely written
COLD_KEYS, COLD_EVERY = 5, 5000


def log(msg):
    sys.stderr.write(f"[lifecycle_crash {time.strftime('%H:%M:%S')}] {msg}\n")
    sys.stderr.flush()


def leftovers(d, suffixes=LEFTOVER_SUFFIXES):
    try:
        return sorted(n for n in os.listdir(d) if n.endswith(suffixes))
    except FileNotFoundError:
        return []


# ---------------------------------------------------------------- watchdog
class Watchdog:
    """Turns a scenario that blocks past its budget (e.g. a client call that never returns)
    into a FAIL line: dumps every thread's stack to stderr, SIGKILLs the scenario's broker
    (our child) and exits."""

    def __init__(self):
        self.lock = threading.Lock()
        self.scenario, self.deadline, self.broker = None, None, None
        threading.Thread(target=self._run, daemon=True).start()

    def arm(self, scenario, budget, broker):
        with self.lock:
            self.scenario, self.deadline, self.broker = scenario, time.monotonic() + budget, broker

    def disarm(self):
        with self.lock:
            self.deadline = None

    def _run(self):
        while True:
            time.sleep(0.5)
            with self.lock:
                if self.deadline is None or time.monotonic() < self.deadline:
                    continue
                faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
                report(False, self.scenario, "hung: no verdict within its time budget (stacks on stderr)")
                try:
                    if self.broker.proc and self.broker.proc.poll() is None:
                        self.broker.proc.kill()
                except Exception:  # noqa: BLE001
                    pass
                wc.exit_now(1)


WATCHDOG = None


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
    until finish(); collects delivery reports: acked {value: (key, offset)}, failures.
    pause() stops producing and waits for every delivery report, so that a read afterwards
    sees a log nothing is in flight to; resume() goes on."""

    def __init__(self, bootstrap, topic, make, rate, extra_conf=None):
        conf = {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 5,
            "message.timeout.ms": 30000,
            "reconnect.backoff.ms": 20,
            "reconnect.backoff.max.ms": 200,
            "log.connection.close": False,
            "error_cb": self._on_error,
        }
        conf.update(extra_conf or {})
        self.producer = Producer(conf)
        self.topic, self.make, self.rate = topic, make, rate
        self.acked = {}
        self.failures = []
        self.errors = []  # client errors reported by librdkafka (fatal ones end producing)
        self.sent = 0
        self.error = None
        self._stop = threading.Event()
        self._running = threading.Event()  # cleared: paused
        self._idle = threading.Event()  # set while paused (or ended)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _on_delivery(self, err, msg):
        # No lock: a callback holding one deadlocked flush() after a fatal producer error;
        # single dict / list operations are atomic under the GIL.
        if err is not None:
            self.failures.append((msg.value().decode(), str(err)))
        else:
            k = msg.key().decode() if msg.key() is not None else None
            self.acked[msg.value().decode()] = (k, msg.offset())

    def _on_error(self, err):
        if err.fatal() or len(self.errors) < 20:
            self.errors.append(f"{'FATAL ' if err.fatal() else ''}{err}")

    def fatal(self):
        return [e for e in self.errors if e.startswith("FATAL")]

    def _run(self):
        try:
            t0, base = time.monotonic(), 0
            while not self._stop.is_set():
                if not self._running.is_set():
                    self._idle.set()
                    self._running.wait()
                    self._idle.clear()
                    t0, base = time.monotonic(), self.sent
                due = base + int((time.monotonic() - t0) * self.rate)
                while self.sent < due and self._running.is_set() and not self._stop.is_set():
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
        finally:
            self._idle.set()

    def start(self):
        self._running.set()
        self._thread.start()

    def pause(self, timeout):
        """Stops producing; waits for every delivery report. Returns how many are missing."""
        self._running.clear()
        self._idle.wait(30)
        return self.producer.flush(timeout)

    def resume(self):
        self._running.set()

    def snapshot(self):
        while True:
            try:
                return dict(self.acked)
            except RuntimeError:  # changed size during the copy (a callback in the feeder)
                continue

    def finish(self, timeout):
        """Stops producing for good; waits for every delivery report. Returns how many are
        missing."""
        self._stop.set()
        self._running.set()
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
        "log.connection.close": False,
    })


Read = collections.namedtuple("Read", "lo lo_after hi recs")


def read_log(bootstrap, topic, timeout=60):
    """Reads partition 0 from its log start until caught up (a partition EOF) at or past
    the high watermark taken first. Returns Read(lo, lo_after, hi, recs): the low watermark
    before and after the read, the offset the read ended at and the records [(offset, key,
    value)]. Reading on to the end matters while a producer appends: the cleaner may drop a
    record below the first high watermark for a newer one of its key above it. (Retention
    may move the log start during the read; the reader then resumes at the new start.)"""
    c = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": wc.unique("lifecycle-read"),
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": True,
        "check.crcs": True,
        "fetch.max.bytes": 8 * 1024 * 1024,
        "log.connection.close": False,
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
                            hi = m.offset()
                            break
                        continue
                    raise RuntimeError(f"consume error: {m.error()}")
                k = m.key().decode() if m.key() is not None else None
                recs.append((m.offset(), k, m.value().decode() if m.value() is not None else None))
        lo_after, _ = watermarks(c, topic)
        return Read(lo, lo_after, hi, recs)
    finally:
        c.close()


# ---------------------------------------------------------------- a scenario's broker
class Harness:
    def __init__(self, args, scenario, name, topic, topic_config):
        self.args = args
        self.topic = topic
        data = os.path.join(args.work, f"lifecycle-{name}-data")
        self.broker = wc.Broker(args.weir, data, os.path.join(args.work, "broker.log"), extra_args=OVERRIDES)
        self.pdir = os.path.join(data, f"{topic}-0")
        self.topic_config = topic_config
        self.problems = []
        self.kill_log = []
        self.recovery_kills = 0
        WATCHDOG.arm(scenario, args.scenario_budget, self.broker)

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

    def kill_and_restart(self, landed, feeder, recovery_kill=None):
        """SIGKILL; note the files the kill left behind; restart and wait until the broker
        serves (recovery done); check that those files are gone; then pause the producer
        until every record sent is acknowledged, for a read of a log nothing is in flight
        to. recovery_kill: (which leftovers, event predicate): when the kill left such
        files, the first restart is SIGKILLed again at the first recovery event matching the
        predicate. Returns (left-behind files, low watermark after the restart)."""
        self.broker.kill9()
        acked = len(feeder.snapshot())
        left = leftovers(self.pdir)
        self.kill_log.append((landed, left))
        n = len(self.kill_log)
        log(f"kill {n} ({landed}); left behind: {left or 'nothing'}; acked before the kill {acked}")
        if recovery_kill and any(f.endswith(recovery_kill[0]) for f in left):
            self.watch.drain()
            self.broker.proc = subprocess.Popen(self.broker.cmd, stdout=self.broker.log, stderr=self.broker.log)
            ev = self.watch.wait_for(recovery_kill[1], 3.0)
            self.broker.kill9()
            more = leftovers(self.pdir)
            log(f"kill {n} again during recovery ({ev or 'no recovery event in 3 s'}); left behind: {more or 'nothing'}")
            self.recovery_kills += ev is not None
            left = sorted(set(left) | set(more))
        self.broker.start()
        lo, _ = watermarks(self.probe, self.topic)
        if left and not wc.wait_until(lambda: not set(left) & set(os.listdir(self.pdir)), 5):
            self.fail(f"kill {n} ({landed}): files it left still there after the restart: "
                      f"{sorted(set(left) & set(os.listdir(self.pdir)))}")
        unflushed = feeder.pause(35)
        if unflushed:
            self.fail(f"after kill {n}: {unflushed} records still unacknowledged 35 s after the restart")
        return left, lo

    def arm(self, pred, label, timeout=4.0):
        """Waits for a directory event satisfying pred; on none, a short random delay."""
        time.sleep(random.uniform(0.3, 1.2))  # the experiment: produce a while, vary the kill point
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
        WATCHDOG.disarm()
        if self.problems:
            log(f"{scenario}: files in {self.pdir}: {sorted(os.listdir(self.pdir)) if os.path.isdir(self.pdir) else 'none'}")
        return report(not self.problems, scenario, "; ".join(p[:300] for p in self.problems[:8]))


# ---------------------------------------------------------------- scenario 1: the cleaner
def check_compacted(h, recs, acked, label):
    """Problems in a read of the compacted log while nothing is in flight. acked: {value:
    (key, offset)}. Offsets strictly increase; every record read was acknowledged at the
    offset it is read at; every key's last record is its latest acknowledged one."""
    latest = latest_per_key(acked)
    offs = [o for o, _, _ in recs]
    bad_order = [(a, b) for a, b in zip(offs, offs[1:]) if b <= a]
    if bad_order:
        h.fail(f"{label}: offsets not strictly increasing, e.g. {bad_order[:3]}")
    misplaced = [(o, k, v, acked[v]) for o, k, v in recs if v in acked and acked[v] != (k, o)]
    if misplaced:
        h.fail(f"{label}: {len(misplaced)} acknowledged records read at another offset/key than acked, "
               f"e.g. (offset, key, value, acked) {misplaced[:3]}")
    unknown = [(o, k, v) for o, k, v in recs if v not in acked]
    if unknown:
        h.fail(f"{label}: {len(unknown)} records read that were never acknowledged, e.g. {unknown[:3]}")
    last = {}
    for o, k, v in recs:
        last[k] = (o, v)
    wrong = [(k, "acked", want, "read", last.get(k)) for k, want in sorted(latest.items()) if last.get(k) != want]
    if wrong:
        h.fail(f"{label}: {len(wrong)} keys whose last record read is not their latest acknowledged one "
               f"(offset, value), e.g. {wrong[:3]}")
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
    h = Harness(args, scenario, "compact", topic, {
        "cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.01",
        "segment.bytes": "8192", "segment.ms": "200",
    })
    feeder = None
    try:
        h.setup()
        rnd = random.Random(args.seed)

        def make(i):
            # COLD_KEYS keys written once every COLD_EVERY records (their latest records sit
            # in old segments the cleaner keeps rewriting), the others at random.
            if i % COLD_EVERY < COLD_KEYS:
                k = f"cold-{i % COLD_EVERY}"
            else:
                k = f"key-{rnd.randrange(NKEYS - COLD_KEYS):02d}"
            return k.encode(), f"{k}|{i:08d}|{rnd.getrandbits(96):024x}".encode()

        feeder = Feeder(h.bootstrap, topic, make, args.rate, {"compression.type": "lz4"})
        feeder.start()
        triggers = [
            ("cleaned created", lambda kind, n: kind == "new" and n.endswith(".cleaned")),
            ("swap committed", lambda kind, n: kind == "new" and n.endswith(".swap")),
            ("old segment renamed to .deleted", lambda kind, n: kind == "new" and n.endswith(".deleted")),
        ]
        interrupted = 0
        deadline = time.monotonic() + args.kill_phase
        for k in range(args.kills):
            if time.monotonic() > deadline:
                break
            label, pred = triggers[k % len(triggers)]
            landed = h.arm(pred, label)
            # A kill after the commit point: kill the restart too, once it is completing the swap.
            left, _ = h.kill_and_restart(landed, feeder, recovery_kill=(".swap", lambda kind, n: (
                kind == "new" and n.endswith(".deleted")) or (kind == "gone" and n.endswith(".swap"))))
            interrupted += bool(left)
            check_compacted(h, read_log(h.bootstrap, topic).recs, feeder.snapshot(), f"after kill {k + 1}")
            feeder.resume()
        remaining = feeder.finish(30)
        acked, failures = feeder.snapshot(), list(feeder.failures)
        log(f"produced {feeder.sent}, acked {len(acked)}, failed {len(failures)}, unflushed {remaining}; "
            f"{interrupted} of {args.kills} kills left cleaner files behind; "
            f"{h.recovery_kills} restarts killed while completing a swap")
        if len(h.kill_log) < args.kills:
            h.fail(f"only {len(h.kill_log)} kills in {args.kill_phase:.0f} s")
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
        check_compacted(h, state["recs"], acked, "at the end")
        h.final_clean_restart()
        recs = read_log(h.bootstrap, topic).recs
        check_compacted(h, recs, acked, "after a clean restart")
        if len(recs) > 2 * NKEYS:
            h.fail(f"after a clean restart {len(recs)} records for {len(latest)} keys")
    except Exception as e:  # noqa: BLE001 - a crash of the scenario is its failure
        traceback.print_exc(file=sys.stderr)
        if feeder is not None and feeder.fatal():
            h.fail(f"the producer failed fatally: {feeder.fatal()[0]}")
        cause = f" (caused by {e.__cause__!r})" if e.__cause__ is not None else ""
        h.fail(f"scenario did not complete: {e!r}{cause}")
    finally:
        if feeder is not None:
            feeder._stop.set()
        h.close()
    return h.verdict(scenario)


# ---------------------------------------------------------------- scenario 2: retention
def check_retained(h, r, acked_by_offset, label):
    """Problems in a Read r of the retention topic. acked_by_offset: {offset: value}
    acknowledged. The read must start at the log start offset, or (when retention moved the
    start during the read) somewhere between the start before and after the read, and then
    hold every offset up to the high watermark exactly once (less those retention deleted
    during the read, below the start after it), each acknowledged offset with its value;
    nothing is in flight, so every record read was acknowledged."""
    offs = [o for o, _, _ in r.recs]
    first = offs[0] if offs else r.hi
    if not r.lo <= first <= max(r.lo, r.lo_after):
        h.fail(f"{label}: the read began at offset {first}, but the log start was {r.lo} before the read "
               f"and {r.lo_after} after it (high watermark {r.hi})")
    # A reader that falls behind a retention pass gets OFFSET_OUT_OF_RANGE and resumes at the
    # new log start (auto.offset.reset=earliest), as from Kafka: offsets retention deleted
    # during the read (below the log start after it) may be skipped. Every other offset up
    # to the high watermark must be read exactly once, in order.
    missing = sorted(set(range(first, r.hi)) - set(offs))
    lost = [o for o in missing if o >= r.lo_after]
    in_order = all(a < b for a, b in zip(offs, offs[1:]))
    if lost or not in_order or (offs and offs[-1] >= r.hi):
        dup = len(offs) - len(set(offs))
        h.fail(f"{label}: offsets read are not {first}..{r.hi - 1} in order (less what retention "
               f"deleted below {r.lo_after} during the read): read {len(offs)} (last {offs[-1:]}), "
               f"missing {len(lost)} at or above the log start e.g. {lost[:5]}, duplicates {dup}, "
               f"in order {in_order}")
    elif missing:
        log(f"{label}: retention moved the log start to {r.lo_after} during the read; "
            f"{len(missing)} offsets it deleted were skipped ({missing[0]}..{missing[-1]})")
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
    unacked = [(o, v) for o, _, v in r.recs if o not in by_offset]
    if unacked:
        h.fail(f"{label}: {len(unacked)} records read that were never acknowledged, e.g. {unacked[:3]}")


def scenario_retention(args):
    scenario = "retention survives kill -9"
    topic = wc.unique("lifecycle-retention")
    h = Harness(args, scenario, "retention", topic, {
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
        deadline = time.monotonic() + args.kill_phase
        for k in range(args.kills):
            if time.monotonic() > deadline:
                break
            label, pred = triggers[k % len(triggers)]
            note_low(f"before kill {k + 1}", watermarks(h.probe, topic)[0])
            if pred is None:
                time.sleep(random.uniform(0.3, 1.2))  # the experiment: produce a while
                seen = low_advanced()
                if seen is not None:
                    note_low(f"seen just before kill {k + 1}", seen)
                    landed = f"{label}: {seen}"
                else:
                    time.sleep(random.uniform(0.02, 0.3))
                    landed = f"{label}: no advance in 4s, random delay"
            else:
                landed = h.arm(pred, label)
            _, lo = h.kill_and_restart(landed, feeder)
            note_low(f"after restart {k + 1}", lo)
            r = read_log(h.bootstrap, topic)
            note_low(f"read after restart {k + 1}", r.lo)
            note_low(f"after the read after restart {k + 1}", r.lo_after)
            check_retained(h, r, {o: v for v, (_, o) in feeder.snapshot().items()}, f"after kill {k + 1}")
            feeder.resume()
        remaining = feeder.finish(30)
        acked, failures = feeder.snapshot(), list(feeder.failures)
        log(f"produced {feeder.sent}, acked {len(acked)}, failed {len(failures)}, unflushed {remaining}; "
            f"lows {lows}")
        if len(h.kill_log) < args.kills:
            h.fail(f"only {len(h.kill_log)} kills in {args.kill_phase:.0f} s")
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
        check_retained(h, r, by_offset, "at the end")
        h.final_clean_restart()
        lo3, hi3 = watermarks(h.probe, topic)
        note_low("after a clean restart", lo3)
        if hi3 != r.hi:
            h.fail(f"high watermark {r.hi} before a clean restart, {hi3} after")
    except Exception as e:  # noqa: BLE001 - a crash of the scenario is its failure
        traceback.print_exc(file=sys.stderr)
        if feeder is not None and feeder.fatal():
            h.fail(f"the producer failed fatally: {feeder.fatal()[0]}")
        cause = f" (caused by {e.__cause__!r})" if e.__cause__ is not None else ""
        h.fail(f"scenario did not complete: {e!r}{cause}")
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
    ap.add_argument("--kill-phase", type=float, default=45, help="seconds a scenario may spend killing")
    ap.add_argument("--scenario-budget", type=float, default=100,
                    help="seconds after which a scenario counts as hung")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--only", choices=["cleaner", "retention"], default=None)
    args = ap.parse_args()
    if args.seed is None:
        args.seed = random.randrange(1 << 30)
    random.seed(args.seed)
    log(f"seed {args.seed}")
    global WATCHDOG
    WATCHDOG = Watchdog()
    ok = True
    if args.only in (None, "cleaner"):
        ok &= scenario_cleaner(args)
    if args.only in (None, "retention"):
        ok &= scenario_retention(args)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
