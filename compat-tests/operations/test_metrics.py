"""weir's Prometheus metrics (/metrics on http.listeners) against the Kafka protocol.

Every expectation comes from the stock confluent-kafka client (librdkafka): its delivery
reports and its own request counters (librdkafka statistics, `brokers[].req`), ListOffsets
latest (AdminClient.list_offsets) and OffsetFetch (AdminClient.list_consumer_group_offsets).
Every page is parsed with the real Prometheus parser (prometheus_client.parser
.text_string_to_metric_families). Prints one `PASS operations: ...` / `FAIL operations: ...
-- detail` line per scenario. Every wait is a poll against a deadline.

Environment: BOOTSTRAP (Kafka listener) and WEIR_METRICS_URL (http://127.0.0.1:PORT), set by
run.sh.
"""
import json
import math
import os
import sys
import time
import urllib.error
import urllib.request

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import weir_compat as wc  # noqa: E402

suite = wc.Suite("operations", scenario_timeout=30, total_budget=55)
scenario, ctx, need = suite.scenario, wc.ctx, wc.need
BOOTSTRAP = wc.bootstrap()
METRICS_URL = os.environ["WEIR_METRICS_URL"]
TOPIC = wc.unique("ops-lag")
PARTITIONS = 3
# Messages produced per partition, and where the lagging group stops (its committed offsets).
PRODUCED = {0: 40, 1: 25, 2: 60}
LAGGING_AT = {0: 15, 1: 5, 2: 42}
LAGGING_GROUP = wc.unique("ops-lagging")
CAUGHT_UP_GROUP = wc.unique("ops-caught-up")
admin = wc.lazy(lambda: AdminClient({"bootstrap.servers": BOOTSTRAP}))


# ---------------------------------------------------------------- /metrics
def http_get(path):
    """(status, content type, body) of GET METRICS_URL + path."""
    try:
        with urllib.request.urlopen(METRICS_URL + path, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode(errors="replace")


class Page:
    """One scrape of /metrics, parsed by prometheus_client's text parser (which raises on
    anything that is not valid text format 0.0.4)."""

    def __init__(self):
        status, ctype, body = http_get("/metrics")
        assert status == 200, f"GET /metrics answered {status}: {body[:200]}"
        self.content_type, self.text = ctype, body
        self.families = list(text_string_to_metric_families(body))
        self.samples = [s for f in self.families for s in f.samples]

    def series(self, name, **labels):
        """[(labels, value)] of the samples named `name` whose labels include `labels`."""
        want = {k: str(v) for k, v in labels.items()}
        return [(s.labels, s.value) for s in self.samples
                if s.name == name and all(s.labels.get(k) == v for k, v in want.items())]

    def value(self, name, **labels):
        """The one sample named `name` with exactly these labels, else None."""
        want = {k: str(v) for k, v in labels.items()}
        found = [s.value for s in self.samples if s.name == name and s.labels == want]
        assert len(found) <= 1, f"{name}{want} appears {len(found)} times"
        return found[0] if found else None

    def sum(self, name, **labels):
        return sum(v for _, v in self.series(name, **labels))


def poll_page(check, timeout):
    """Scrapes until check(page) returns None (no mismatch) or `timeout` passes; returns
    (page, last mismatch or None)."""
    deadline = time.monotonic() + timeout
    while True:
        page = Page()
        problem = check(page)
        if problem is None or time.monotonic() >= deadline:
            return page, problem
        time.sleep(0.1)


def as_int(v):
    return None if v is None else int(v) if float(v).is_integer() else v


# ---------------------------------------------------------------- the Kafka side
def produce(counts, tag):
    """Produces counts[p] messages to partition p with acks=all; returns (delivered per
    partition, librdkafka's statistics once every message was sent). Fails on any delivery
    error."""
    stats = []
    delivered, errors = {p: 0 for p in counts}, []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(str(err))
        else:
            delivered[msg.partition()] += 1

    p = Producer({"bootstrap.servers": BOOTSTRAP, "acks": "all", "linger.ms": 5,
                  "enable.idempotence": False, "statistics.interval.ms": 100,
                  "stats_cb": lambda s: stats.append(json.loads(s))})
    for part, n in counts.items():
        for i in range(n):
            p.produce(TOPIC, value=f"{tag}-{part}-{i}".encode(), partition=part, on_delivery=on_delivery)
    assert p.flush(20) == 0, "flush left messages undelivered"
    assert not errors, f"delivery errors: {errors[:3]}"
    total = sum(counts.values())
    # The statistics that count every message sent (they are emitted every 100 ms).
    ok = wc.wait_until(lambda: (p.poll(0.05) or True) and stats and stats[-1].get("txmsgs", 0) >= total, 10)
    assert ok, f"no librdkafka statistics counting {total} sent messages"
    p.flush(5)
    return delivered, stats[-1]


def client_requests(stats, api):
    """Requests of `api` librdkafka sent, over all its broker connections; and its retries."""
    brokers = stats.get("brokers", {}).values()
    return (sum(b.get("req", {}).get(api, 0) for b in brokers),
            sum(b.get("txretries", 0) for b in brokers))


def high_watermarks():
    """ListOffsets latest (read_uncommitted: the high watermark) per partition of TOPIC."""
    futs = admin().list_offsets({TopicPartition(TOPIC, p): OffsetSpec.latest() for p in range(PARTITIONS)},
                                request_timeout=10)
    return {tp.partition: f.result(10).offset for tp, f in futs.items()}


def committed_offsets(group):
    """OffsetFetch for every partition of TOPIC (a negative offset: none committed)."""
    req = ConsumerGroupTopicPartitions(group, [TopicPartition(TOPIC, p) for p in range(PARTITIONS)])
    res = admin().list_consumer_group_offsets([req], request_timeout=10)[group].result(10)
    for tp in res.topic_partitions:
        assert tp.error is None, f"OffsetFetch {group} p{tp.partition}: {tp.error}"
    return {tp.partition: tp.offset for tp in res.topic_partitions}


class GroupConsumer:
    """A subscribed group consumer (no auto commit), polled from the scenario's thread."""

    def __init__(self, group):
        self.group = group
        self.assigned = None
        self.consumer = Consumer({
            "bootstrap.servers": BOOTSTRAP, "group.id": group, "enable.auto.commit": False,
            "auto.offset.reset": "earliest", "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 500, "fetch.wait.max.ms": 100,
        })
        self.consumer.subscribe([TOPIC], on_assign=self._on_assign)
        self.pending = []  # messages read while waiting for the assignment
        self.closed = False

    def _on_assign(self, consumer, partitions):
        self.assigned = sorted(p.partition for p in partitions)

    def poll(self):
        if self.pending:
            return self.pending.pop(0)
        return self._read()

    def _read(self):
        msg = self.consumer.poll(0.1)
        if msg is None:
            return None
        if msg.error():
            assert msg.error().code() == KafkaError._PARTITION_EOF, f"consume error: {msg.error()}"
            return None
        return msg

    def wait_assigned(self, timeout=15):
        deadline = time.monotonic() + timeout
        while self.assigned is None and time.monotonic() < deadline:
            msg = self._read()
            if msg is not None:
                self.pending.append(msg)
        ok = self.assigned is not None
        assert ok, f"{self.group}: no assignment within {timeout}s"
        assert self.assigned == list(range(PARTITIONS)), f"{self.group} assigned {self.assigned}"

    def close(self):
        if not self.closed:
            self.closed = True
            self.consumer.close()


# ---------------------------------------------------------------- checks on a page
def group_view(page, group):
    members = page.value("weir_group_members", group=group)
    states = sorted(l["state"] for l, v in page.series("weir_group_state", group=group) if v == 1)
    return as_int(members), states


def lag_mismatches(page, group, hw, committed):
    """Per partition: weir_group_lag == hw - committed, weir_group_committed_offset ==
    committed, weir_partition_high_watermark == hw; the differences, as text."""
    bad = []
    for p in range(PARTITIONS):
        want_lag = max(hw[p] - committed[p], 0)
        got = {
            "weir_group_lag": as_int(page.value("weir_group_lag", group=group, topic=TOPIC, partition=p)),
            "weir_group_committed_offset": as_int(page.value("weir_group_committed_offset", group=group,
                                                             topic=TOPIC, partition=p)),
            "weir_partition_high_watermark": as_int(page.value("weir_partition_high_watermark",
                                                               topic=TOPIC, partition=p)),
        }
        want = {"weir_group_lag": want_lag, "weir_group_committed_offset": committed[p],
                "weir_partition_high_watermark": hw[p]}
        for name in want:
            if got[name] != want[name]:
                bad.append(f"p{p} {name}: expected {want[name]}, got {got[name]}")
    return bad


# ---------------------------------------------------------------- scenarios
@scenario("/metrics answers text/plain; version=0.0.4, parses; / is the console; an unknown path is 404")
def http_basics():
    page = Page()  # raises on a parse error
    media, *params = [x.strip() for x in page.content_type.split(";")]
    params = dict(x.split("=", 1) for x in params if "=" in x)
    assert media == "text/plain" and params.get("version") == "0.0.4", \
        f"Content-Type {page.content_type!r}"
    for name in ("weir_node_id", "weir_uptime_seconds", "weir_connections"):
        assert page.series(name), f"no {name} sample"
    for path in ("/nope", "/metrics/x", "/assets/nope.js", "/api/v1/nope"):
        status, _, _ = http_get(path)
        assert status == 404, f"GET {path} answered {status}, expected 404"
    status, ctype, body = http_get("/")
    assert status == 200 and ctype.startswith("text/html") and "/assets/app.js" in body, \
        f"GET / answered {status} {ctype!r}, expected the console's page"


@scenario("produce: weir_topic_messages_in_total equals the messages acked, Produce requests counted")
def produce_counts():
    res = admin().create_topics([NewTopic(TOPIC, num_partitions=PARTITIONS, replication_factor=1)],
                                request_timeout=10)
    res[TOPIC].result(15)
    before = Page().sum("weir_requests_total", api="Produce")
    delivered, stats = produce(PRODUCED, "first")
    assert delivered == PRODUCED, f"delivered per partition {delivered}, expected {PRODUCED}"
    sent, retries = client_requests(stats, "Produce")
    total = sum(PRODUCED.values())

    def check(page):
        got_msgs = as_int(page.value("weir_topic_messages_in_total", topic=TOPIC))
        got_reqs = page.sum("weir_requests_total", api="Produce") - before
        bad = []
        if got_msgs != total:
            bad.append(f"weir_topic_messages_in_total{{topic={TOPIC}}}: expected {total} (delivery reports), "
                       f"got {got_msgs} (client retries {retries})")
        if not (got_reqs >= sent >= 1):
            bad.append(f"weir_requests_total{{api=Produce}} grew by {got_reqs}, client sent {sent} Produce requests")
        return "; ".join(bad) or None

    page, problem = poll_page(check, 5)
    assert problem is None, problem
    ctx["produce_requests"] = sent


@scenario("group metrics: Stable with 1 member while consuming, Empty with 0 after close")
def membership():
    need("produce_requests", "produce")
    c = GroupConsumer(LAGGING_GROUP)
    problems = []
    try:
        c.wait_assigned()
        _, problem = poll_page(lambda pg: None if group_view(pg, LAGGING_GROUP) == (1, ["Stable"])
                               else f"while assigned: members/states {group_view(pg, LAGGING_GROUP)}, "
                                    f"expected (1, ['Stable'])", 10)
        if problem:
            problems.append(problem)
        # Read each partition up to LAGGING_AT[p], commit exactly there, then stop reading it.
        done = set()
        deadline = time.monotonic() + 15
        while len(done) < PARTITIONS and time.monotonic() < deadline:
            msg = c.poll()
            if msg is None or msg.partition() in done:
                continue
            p = msg.partition()
            if msg.offset() + 1 >= LAGGING_AT[p]:
                tp = TopicPartition(TOPIC, p, LAGGING_AT[p])
                c.consumer.commit(offsets=[tp], asynchronous=False)
                c.consumer.pause([TopicPartition(TOPIC, p)])
                done.add(p)
        assert done == set(range(PARTITIONS)), f"committed only partitions {sorted(done)} within 15s"
        ctx["lagging_committed"] = True
        _, problem = poll_page(lambda pg: None if group_view(pg, LAGGING_GROUP) == (1, ["Stable"])
                               else f"after commits: members/states {group_view(pg, LAGGING_GROUP)}", 5)
        if problem:
            problems.append(problem)
    finally:
        c.close()
    _, problem = poll_page(lambda pg: None if group_view(pg, LAGGING_GROUP) == (0, ["Empty"])
                           else f"after close: members/states {group_view(pg, LAGGING_GROUP)}, "
                                f"expected (0, ['Empty'])", 10)
    if problem:
        problems.append(problem)
    assert not problems, "; ".join(problems)


@scenario("lagging group: weir_group_lag == ListOffsets latest - OffsetFetch, committed and high watermark match, every partition")
def lagging_group():
    need("lagging_committed", "group metrics")
    hw = high_watermarks()
    committed = committed_offsets(LAGGING_GROUP)
    # The protocol's own view must be what the clients did, or the comparison proves nothing.
    assert hw == PRODUCED, f"ListOffsets latest {hw}, produced {PRODUCED}"
    assert committed == LAGGING_AT, f"OffsetFetch {committed}, committed {LAGGING_AT}"
    page, problem = poll_page(lambda pg: "; ".join(lag_mismatches(pg, LAGGING_GROUP, hw, committed)) or None, 5)
    assert problem is None, f"{problem} (expected lag = ListOffsets latest {hw} - OffsetFetch {committed})"
    lags = {p: hw[p] - committed[p] for p in range(PARTITIONS)}
    assert len(set(lags.values())) == PARTITIONS and min(lags.values()) > 0, f"lags {lags} not distinct/positive"


@scenario("caught-up group: weir_group_lag is 0 on every partition, committed == high watermark")
def caught_up_group():
    need("lagging_committed", "group metrics")
    c = GroupConsumer(CAUGHT_UP_GROUP)
    total = sum(PRODUCED.values())
    try:
        c.wait_assigned()
        seen = set()
        deadline = time.monotonic() + 15
        while len(seen) < total and time.monotonic() < deadline:
            msg = c.poll()
            if msg is not None:
                seen.add((msg.partition(), msg.offset()))
        assert len(seen) == total, f"consumed {len(seen)} of {total}"
        c.consumer.commit(asynchronous=False)
    finally:
        c.close()
    hw = high_watermarks()
    committed = committed_offsets(CAUGHT_UP_GROUP)
    assert committed == hw, f"OffsetFetch {committed}, ListOffsets latest {hw}"
    page, problem = poll_page(lambda pg: "; ".join(lag_mismatches(pg, CAUGHT_UP_GROUP, hw, committed)) or None, 5)
    assert problem is None, problem
    lags = {p: as_int(page.value("weir_group_lag", group=CAUGHT_UP_GROUP, topic=TOPIC, partition=p))
            for p in range(PARTITIONS)}
    assert lags == {p: 0 for p in range(PARTITIONS)}, f"weir_group_lag {lags}"


def histogram_problems(page):
    """weir_request_duration_seconds per (api, version): buckets cumulative, ending with
    le="+Inf" == _count == weir_requests_total of the same labels."""
    bad = []
    totals = {(l["api"], l["version"]): v for l, v in page.series("weir_requests_total")}
    counts = {(l["api"], l["version"]): v for l, v in page.series("weir_request_duration_seconds_count")}
    if set(totals) != set(counts):
        bad.append(f"label sets differ: requests_total only {sorted(set(totals) - set(counts))}, "
                   f"duration_count only {sorted(set(counts) - set(totals))}")
    for key in sorted(set(totals) & set(counts)):
        api, version = key
        if totals[key] != counts[key]:
            bad.append(f"{api} v{version}: weir_requests_total {totals[key]} != duration_seconds_count {counts[key]}")
        buckets = sorted(((float(l["le"]), v) for l, v in
                          page.series("weir_request_duration_seconds_bucket", api=api, version=version)),
                         key=lambda b: b[0])
        if not buckets or not math.isinf(buckets[-1][0]):
            bad.append(f"{api} v{version}: no le=\"+Inf\" bucket")
            continue
        if any(a[1] > b[1] for a, b in zip(buckets, buckets[1:])):
            bad.append(f"{api} v{version}: buckets not cumulative {[v for _, v in buckets]}")
        if buckets[-1][1] != counts[key]:
            bad.append(f"{api} v{version}: +Inf bucket {buckets[-1][1]} != count {counts[key]}")
        s = page.value("weir_request_duration_seconds_sum", api=api, version=version)
        if s is None or s < 0:
            bad.append(f"{api} v{version}: duration_seconds_sum {s}")
    return bad


@scenario("request counters: Produce grows with another produce; duration histogram count == requests_total, buckets cumulative to +Inf")
def request_counters():
    need("produce_requests", "produce")
    before = Page()
    more = {0: 7, 1: 3, 2: 11}
    delivered, stats = produce(more, "second")
    assert delivered == more, f"delivered per partition {delivered}, expected {more}"
    sent, retries = client_requests(stats, "Produce")
    total = sum(PRODUCED.values()) + sum(more.values())
    base = before.sum("weir_requests_total", api="Produce")

    def check(page):
        bad = []
        grew = page.sum("weir_requests_total", api="Produce") - base
        if not (grew >= sent >= 1):
            bad.append(f"weir_requests_total{{api=Produce}} grew by {grew}, client sent {sent} Produce requests")
        got = as_int(page.value("weir_topic_messages_in_total", topic=TOPIC))
        if got != total:
            bad.append(f"weir_topic_messages_in_total: expected {total}, got {got} (client retries {retries})")
        # No client is open now, so the counters are at rest: the histogram must agree exactly.
        bad += histogram_problems(page)
        return "; ".join(bad) or None

    page, problem = poll_page(check, 5)
    assert problem is None, problem
    for api in ("Produce", "Fetch", "OffsetCommit", "OffsetFetch", "ListOffsets", "JoinGroup", "SyncGroup"):
        assert page.sum("weir_requests_total", api=api) >= 1, f"no {api} requests counted"


if __name__ == "__main__":
    wc.setup_logging()
    wc.exit_now(suite.run_all())  # os._exit: skips librdkafka handle teardown at interpreter exit
