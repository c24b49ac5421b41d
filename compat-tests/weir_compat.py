"""Shared scaffolding for the Python compat-test programs (confluent-kafka, kafka-python,
aiokafka, crash). It imports no Kafka client. A program one folder down loads it with

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import weir_compat as wc

Every verdict is one line on stdout, the format lib.sh's run_scenarios counts:

    PASS <client>: <scenario>
    FAIL <client>: <scenario> -- <detail>

Two ways to produce them: a `Suite` of registered scenarios (a watchdog turns a scenario that
blocks past its timeout into FAIL lines and exits; a run budget skips what is left once it is
used up), or `reporter(client)` for programs that run their own flow and judge each step.
"""
import asyncio
import logging
import os
import re
import socket
import subprocess
import signal
import sys
import threading
import time
import traceback
import uuid

# ---------------------------------------------------------------- environment and names
RUN_ID = uuid.uuid4().hex[:8]


def bootstrap():
    """The broker address run.sh's start_broker exports (host:port)."""
    return os.environ["BOOTSTRAP"]


def setup_logging():
    """The client's own log on stderr: DEBUG with COMPAT_DEBUG set, else WARNING."""
    logging.basicConfig(level=logging.DEBUG if os.environ.get("COMPAT_DEBUG") else logging.WARNING,
                        stream=sys.stderr)


def topic_namer(prefix):
    """tag -> `<prefix>-<tag>-<RUN_ID>`: names unique to this run."""
    return lambda tag: f"{prefix}-{tag}-{RUN_ID}"


def unique(name):
    """`<name>-<8 random hex digits>`, fresh on every call."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


# ---------------------------------------------------------------- result lines
def emit(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def one_line(s):
    return " ".join(str(s).split())[:600]


def result_line(ok, client, scenario, detail=None):
    """`PASS <client>: <scenario>`, or `FAIL <client>: <scenario>[ -- detail]`."""
    line = f"{'PASS' if ok else 'FAIL'} {client}: {scenario}"
    return line if ok or detail is None else f"{line} -- {detail}"


def reporter(client):
    """report(ok, scenario, detail=""): prints the verdict line (the detail only on a FAIL
    and only when it is non-empty) and returns ok."""
    def report(ok, scenario, detail=""):
        emit(result_line(ok, client, scenario, str(detail) if detail else None))
        return ok
    return report


# ---------------------------------------------------------------- scenario suite
ctx = {}  # what a scenario hands on to later ones


def need(key, scenario_name):
    if key not in ctx:
        raise AssertionError(f"depends on scenario '{scenario_name}', which failed")
    return ctx[key]


def _failure_detail(e):
    """The FAIL detail for an exception a scenario raised (its traceback goes to stderr)."""
    traceback.print_exc(file=sys.stderr)
    if isinstance(e, AssertionError):
        return str(e) or "assertion failed"
    return f"{type(e).__name__}: {e}"


class Suite:
    """Scenarios run in registration order, one PASS/FAIL line each.

    client, scenario_timeout and total_budget are defaults: CLIENT_NAME, SCENARIO_TIMEOUT and
    TOTAL_BUDGET in the environment override them. hang_grace: seconds the watchdog waits past
    a scenario's timeout (for async suites, where asyncio.wait_for handles the usual case and
    the watchdog is only the backstop for a blocked event loop).
    """

    def __init__(self, client, scenario_timeout, total_budget, hang_grace=0):
        self.client = os.environ.get("CLIENT_NAME", client)
        self.scenario_timeout = float(os.environ.get("SCENARIO_TIMEOUT", scenario_timeout))
        self.total_budget = float(os.environ.get("TOTAL_BUDGET", total_budget))
        self.hang_grace = hang_grace
        self._scenarios = []  # (name, fn, timeout)
        self._lock = threading.Lock()
        self._idx, self._deadline = -1, None
        self._failed, self._end = 0, None

    def scenario(self, name, timeout=None):
        """Decorator: registers fn (a coroutine function for run_all_async) as a scenario."""
        def deco(fn):
            self._scenarios.append((name, fn, timeout or self.scenario_timeout))
            return fn
        return deco

    def _emit(self, ok, name, detail=None):
        emit(result_line(ok, self.client, name, detail))

    def _watchdog(self, done):
        # A client call that blocks past the scenario's budget becomes a FAIL line (and every
        # scenario after it too), then the program exits: never a hung test run.
        while not done.wait(0.5):
            with self._lock:
                i, dl = self._idx, self._deadline
                if dl is None or time.monotonic() <= dl + self.hang_grace:
                    continue
                name, _, t = self._scenarios[i]
                self._emit(False, name, f"hung: no result after {t:.0f}s")
                for n, _, _ in self._scenarios[i + 1:]:
                    self._emit(False, n, "not run: an earlier scenario hung")
                os._exit(1)

    def _start(self):
        done = threading.Event()
        threading.Thread(target=self._watchdog, args=(done,), daemon=True).start()
        self._failed, self._end = 0, time.monotonic() + self.total_budget
        return done

    def _begin(self, i):
        """Arms the watchdog for scenario i; False (after a FAIL line) once the budget is up."""
        name, _, t = self._scenarios[i]
        if time.monotonic() > self._end:
            self._failed += 1
            self._emit(False, name, f"not run: the run's {self.total_budget:.0f}s budget is used up")
            return False
        with self._lock:
            self._idx, self._deadline = i, time.monotonic() + t
        return True

    def _finish(self, i, detail):
        """Disarms the watchdog and reports scenario i: passed when detail is None."""
        with self._lock:
            self._deadline = None
            if detail is not None:
                self._failed += 1
            self._emit(detail is None, self._scenarios[i][0], None if detail is None else one_line(detail))

    def _rc(self, done):
        done.set()
        return 1 if self._failed else 0

    def run_all(self):
        """Runs the (plain function) scenarios; returns the exit code (1 on any FAIL)."""
        done = self._start()
        for i, (_, fn, _) in enumerate(self._scenarios):
            if self._begin(i):
                try:
                    fn()
                    detail = None
                except Exception as e:  # noqa: BLE001 - any client error is a failed scenario
                    detail = _failure_detail(e)
                self._finish(i, detail)
        return self._rc(done)

    async def run_all_async(self):
        """run_all for coroutine scenarios, each bounded by asyncio.wait_for(its timeout)."""
        done = self._start()
        for i, (_, fn, t) in enumerate(self._scenarios):
            if self._begin(i):
                try:
                    await asyncio.wait_for(fn(), timeout=t)
                    detail = None
                except asyncio.TimeoutError:
                    traceback.print_exc(file=sys.stderr)
                    detail = f"timed out after {t:.0f}s"
                except Exception as e:  # noqa: BLE001 - any client error is a failed scenario
                    detail = _failure_detail(e)
                self._finish(i, detail)
        return self._rc(done)


def exit_now(rc):
    """Flushes and exits at once, skipping client teardown at interpreter exit."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)


# ---------------------------------------------------------------- waiting
def wait_until(cond, timeout, step=0.1):
    """Polls cond() every `step` seconds until it is true or `timeout` passed; the result of
    a last check at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


async def wait_until_async(cond, timeout, step=0.1):
    """wait_until that sleeps with asyncio.sleep (cond itself is a plain function)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        await asyncio.sleep(step)
    return cond()


# ---------------------------------------------------------------- client plumbing
def lazy(factory):
    """A function returning factory()'s result, made on the first call (e.g. one admin client)."""
    made = []

    def get():
        if not made:
            made.append(factory())
        return made[0]
    return get


async def started(client, fn):
    """Starts an aiokafka-style client, returns await fn(client), then closes it."""
    await client.start()
    try:
        return await fn(client)
    finally:
        await client.close()


# Group-consumer settings in the keyword names kafka-python and aiokafka share.
GROUP_CONF = dict(session_timeout_ms=10000, heartbeat_interval_ms=500, fetch_max_wait_ms=100,
                  auto_offset_reset="earliest")


def tally(keys):
    """{key: how often it occurs}, in first-seen order (e.g. records per TopicPartition)."""
    counts = {}
    for k in keys:
        counts[k] = counts.get(k, 0) + 1
    return counts


def fmt_offsets(offsets):
    """{TopicPartition: offset} as a sorted [(partition, offset)] for messages."""
    return sorted((tp.partition, o) for tp, o in offsets.items())


def check_resumed(got, values, counts):
    """Asserts that a group consumer resuming from committed offsets read exactly `values`:
    no already committed message (value `first-...`) again, and each partition's first record
    at its committed offset. got: kafka-python / aiokafka records; counts: {TopicPartition:
    committed offset}."""
    vals = [r.value.decode() for r in got]
    old = [v for v in vals if v.startswith("first-")]
    assert not old, f"re-read {len(old)} already committed messages, e.g. {old[:3]}"
    assert sorted(vals) == sorted(values), f"consumed {len(vals)} of {len(values)} new messages"
    firsts = {}
    for r in got:
        firsts.setdefault(r.partition, r.offset)
    want = {tp.partition: n for tp, n in counts.items()}
    assert firsts == want, f"first offsets read {firsts}, committed were {want}"


# ---------------------------------------------------------------- a broker of our own
def free_port(low=10000, high=30000):
    """A free 127.0.0.1 port below Linux's ephemeral range (32768-60999).

    Clients and brokers take ephemeral ports for their outgoing connections, so a port from
    that range can be taken while the node that used it is down, and its restart on the same
    port would fail. The docker suite, which runs beside the others, draws from 30000-32767.
    """
    import random
    for _ in range(2000):
        port = random.randrange(low, high)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port below the ephemeral range")


class NodeProcess:
    """One weir node of a cluster test: its command, started again the same way after a kill;
    its stdout and stderr, and a `==== time what` line per event, appended to log_path; each
    PID appended to pidfile (run.sh stops whatever is left, by PID)."""

    def __init__(self, cmd, log_path, pidfile):
        self.cmd, self.log_path, self.pidfile = cmd, log_path, pidfile
        self.proc = None

    def mark(self, what):
        with open(self.log_path, "ab") as log:
            log.write(f"==== {time.strftime('%H:%M:%S')} {what}\n".encode())

    def start(self):
        """Starts the process; does not wait for it."""
        self.mark(f"start: {' '.join(self.cmd)}")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        with open(self.pidfile, "a") as f:
            f.write(f"{self.proc.pid}\n")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n=3):
        """The last n lines of the node's log, without colour codes, on one line."""
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
        except OSError:
            return ""
        lines = [re.sub(r"\x1b\[[0-9;]*m", "", ln).strip() for ln in lines if ln.strip()]
        return " | ".join(lines[-n:])


class Broker:
    """weir as a child process on 127.0.0.1 (a free port unless given), for programs that
    restart or kill the broker. Its stdout and stderr are appended to log_path. extra_args:
    more weir arguments, e.g. ["--override", "log.retention.check.interval.ms=200"]."""

    def __init__(self, weir, data_dir, log_path, port=None, extra_args=None):
        self.port = port or free_port()
        self.cmd = [weir, "--listeners", f"127.0.0.1:{self.port}", "--data-dir", data_dir]
        self.cmd += list(extra_args or [])
        self.log = open(log_path, "ab")
        self.proc = None

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    def start(self, timeout=30):
        """Starts weir and waits until its port accepts connections."""
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            with socket.socket() as s:
                s.settimeout(0.2)
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("broker did not start")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self):
        """SIGTERM, then SIGKILL if it is still running 30 s later."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
