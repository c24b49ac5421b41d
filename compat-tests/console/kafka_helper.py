"""The stock-client side of the console test: confluent-kafka (librdkafka) doing what the
browser test needs done or checked over the Kafka protocol. test.js runs it per step:

    python kafka_helper.py COMMAND ARGS...        (BOOTSTRAP=host:port in the environment)

and reads one JSON object from its last stdout line. Exit 0 with the answer, or exit 1 with
{"error": "..."}. Every wait polls against a deadline.

Commands:
    wait-topic TOPIC PARTITIONS SECONDS   until the topic is in the metadata with that many partitions
    wait-gone TOPIC SECONDS               until the topic is no longer in the metadata
    create TOPIC PARTITIONS SECONDS       CreateTopics (replication 1), waits for the metadata and
                                          for the first and last 100 partitions to answer ListOffsets
    create-many PREFIX COUNT              COUNT topics PREFIX-000.. of 1 partition, in one CreateTopics
    produce TOPIC T0_MS                   25 filler records (timestamps before T0), then 3 records at
                                          T0, T0+60 s, T0+120 s; the last has a key, a JSON value and
                                          two headers; one partition
    backlog TOPIC GROUP PARTITIONS N M    N records round the partitions; a consumer of GROUP
                                          (subscribe) reads M of them, commits exactly those (every
                                          partition gets a commit), closes
    wait-group-gone GROUP SECONDS         until ListGroups no longer shows the group
"""
import json
import os
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

BOOTSTRAP = os.environ["BOOTSTRAP"]
# What the message-browser scenario checks the page against.
RICH_KEY = "order-42"
RICH_VALUE = '{"amount":12,"currency":"EUR","items":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}],"note":"<b>not html</b>"}'
RICH_HEADERS = [("trace", "abc123"), ("source", "console-test")]


def admin():
    return AdminClient({"bootstrap.servers": BOOTSTRAP})


def topic_partitions(a, topic):
    """The topic's partition count in the cluster metadata (all topics: no auto-creation), or None."""
    md = a.list_topics(timeout=10)
    t = md.topics.get(topic)
    if t is None or t.error is not None:
        return None
    return len(t.partitions)


def poll(check, seconds, step=0.2):
    """check() until it returns something truthy or `seconds` pass; returns its last value."""
    deadline = time.monotonic() + seconds
    while True:
        v = check()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


def wait_topic(topic, partitions, seconds):
    a, start = admin(), time.monotonic()
    seen = {}

    def check():
        seen["n"] = topic_partitions(a, topic)
        return seen["n"] == partitions
    ok = poll(check, seconds)
    return {"ok": bool(ok), "partitions": seen.get("n"), "seconds": round(time.monotonic() - start, 2)}


def wait_gone(topic, seconds):
    a = admin()
    ok = poll(lambda: topic_partitions(a, topic) is None, seconds)
    return {"ok": bool(ok)}


def create(topics, seconds):
    """CreateTopics for [(name, partitions)]; waits for every answer and the metadata."""
    a, start = admin(), time.monotonic()
    futures = a.create_topics([NewTopic(n, p, 1) for n, p in topics],
                              request_timeout=seconds, operation_timeout=seconds)
    for name, f in futures.items():
        try:
            f.result(timeout=seconds)
        except KafkaException as e:
            # A big topic: "committed but not yet applied" in time; the waits below see it through.
            if e.args[0].code() != KafkaError.REQUEST_TIMED_OUT:
                raise
    created = time.monotonic() - start
    want = dict(topics)
    deadline = start + seconds
    while True:
        md = a.list_topics(timeout=10).topics
        missing = [n for n, p in want.items() if n not in md or md[n].error is not None or len(md[n].partitions) != p]
        if not missing:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(missing)} topics not in the metadata in time, e.g. {missing[0]}")
        time.sleep(0.2)
    # Every partition the test reads (the first and last hundred) answers ListOffsets.
    c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": "console-helper-probe"})
    try:
        for name, p in topics:
            for part in sorted({0, min(99, p - 1), max(0, p - 100), p - 1}):
                while True:
                    try:
                        c.get_watermark_offsets(TopicPartition(name, part), timeout=5)
                        break
                    except KafkaException:
                        if time.monotonic() > deadline:
                            raise RuntimeError(f"{name}[{part}] has no leader that answers in time")
                        time.sleep(0.2)
    finally:
        c.close()
    return {"ok": True, "create_seconds": round(created, 2), "seconds": round(time.monotonic() - start, 2)}


def produce_records(topic, records):
    """records: [dict(value=, key=, headers=, partition=, timestamp=)]; acks=all; returns their
    (partition, offset) in order."""
    done, errors = [None] * len(records), []

    def report(i):
        def cb(err, msg):
            if err is not None:
                errors.append(str(err))
            else:
                done[i] = (msg.partition(), msg.offset())
        return cb
    p = Producer({"bootstrap.servers": BOOTSTRAP, "acks": "all", "linger.ms": 5, "enable.idempotence": False})
    for i, r in enumerate(records):
        kw = {k: v for k, v in r.items() if v is not None}
        p.produce(topic, on_delivery=report(i), **kw)
    if p.flush(30) != 0:
        raise RuntimeError("flush left records undelivered")
    if errors:
        raise RuntimeError(f"delivery errors: {errors[:3]}")
    return done


def produce(topic, t0):
    create([(topic, 1)], 30)
    recs = [dict(value=f"filler-{i}".encode(), key=f"f{i}".encode(), timestamp=t0 - 100_000 + i * 1000) for i in range(25)]
    recs.append(dict(value=b"first of three", key=b"a", timestamp=t0))
    recs.append(dict(value=b"second of three", key=b"b", timestamp=t0 + 60_000))
    recs.append(dict(value=RICH_VALUE.encode(), key=RICH_KEY.encode(), timestamp=t0 + 120_000,
                     headers=[(k, v.encode()) for k, v in RICH_HEADERS]))
    done = produce_records(topic, recs)
    return {"partition": done[-1][0], "offsets": [o for _, o in done], "key": RICH_KEY, "value": RICH_VALUE,
            "headers": RICH_HEADERS, "t0": t0}


def backlog(topic, group, partitions, n, m):
    create([(topic, partitions)], 30)
    recs = [dict(value=json.dumps({"n": i, "kind": "backlog", "ok": i % 2 == 0}).encode(), key=f"k{i}".encode(),
                 partition=i % partitions, headers=[("seq", str(i).encode())]) for i in range(n)]
    produce_records(topic, recs)
    c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": group, "auto.offset.reset": "earliest",
                  "enable.auto.commit": False, "enable.auto.offset.store": False,
                  "session.timeout.ms": 10000})
    try:
        c.subscribe([topic])
        last, consumed, deadline = {}, 0, time.monotonic() + 40
        while consumed < m and time.monotonic() < deadline:
            msg = c.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                raise KafkaException(msg.error())
            last[msg.partition()] = msg.offset()
            consumed += 1
        if consumed < m:
            raise RuntimeError(f"consumed only {consumed} of {m} records in 40 s")
        offsets = [TopicPartition(topic, p, last[p] + 1 if p in last else 0) for p in range(partitions)]
        c.commit(offsets=offsets, asynchronous=False)
        committed = {tp.partition: tp.offset for tp in c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)}
    finally:
        c.close()
    produced = {p: len(range(p, n, partitions)) for p in range(partitions)}
    lags = {p: produced[p] - committed[p] for p in range(partitions)}
    return {"produced": n, "consumed": m, "lag": sum(lags.values()), "lags": lags, "committed": committed}


def wait_group_gone(group, seconds):
    a = admin()

    def gone():
        r = a.list_consumer_groups(request_timeout=10).result(timeout=15)
        return group not in {g.group_id for g in r.valid}
    return {"ok": bool(poll(gone, seconds, 0.5))}


def main(argv):
    cmd, args = argv[0], argv[1:]
    if cmd == "wait-topic":
        return wait_topic(args[0], int(args[1]), float(args[2]))
    if cmd == "wait-gone":
        return wait_gone(args[0], float(args[1]))
    if cmd == "create":
        return create([(args[0], int(args[1]))], float(args[2]))
    if cmd == "create-many":
        return create([(f"{args[0]}-{i:03d}", 1) for i in range(int(args[1]))], 120)
    if cmd == "produce":
        return produce(args[0], int(args[1]))
    if cmd == "backlog":
        return backlog(args[0], args[1], int(args[2]), int(args[3]), int(args[4]))
    if cmd == "wait-group-gone":
        return wait_group_gone(args[0], float(args[1]))
    raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    try:
        print(json.dumps(main(sys.argv[1:])), flush=True)
    except Exception as e:  # noqa: BLE001 - every failure becomes the JSON answer
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}), flush=True)
        sys.exit(1)
