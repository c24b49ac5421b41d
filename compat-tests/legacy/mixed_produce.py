#!/usr/bin/env python3
"""The new-client half of the legacy suite's mixed scenario: confluent-kafka (librdkafka 2.x,
idempotent producer, Produce v3+ with RecordBatch v2) writes messages with headers and explicit
timestamps to a 3-partition topic: partition 0 uncompressed, partition 1 lz4, partition 2 zstd
(one producer per codec). The old sarama consumers (legacy-compat mixed-read) read them back.

Usage: mixed_produce.py TOPIC OUT.tsv      (BOOTSTRAP in the environment)
Prints one PASS/FAIL line; on success writes one TSV line per message to OUT.tsv:
partition, offset, codec, timestamp (ms), key, value, header count.
COMPAT_DEBUG=protocol,msg turns on librdkafka's debug log (stderr).
"""
import os
import sys
import time

from confluent_kafka import Producer, version
from confluent_kafka.admin import AdminClient, NewTopic

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import weir_compat as wc  # noqa: E402

BOOT = wc.bootstrap()
DEBUG = os.environ.get("COMPAT_DEBUG", "")
report = wc.reporter(os.environ.get("CLIENT_NAME", "legacy"))
CODECS = ["none", "lz4", "zstd"]  # partition i gets CODECS[i]
PER_PARTITION = 20


def headers(part, i):
    return [("trace", f"t-{part}-{i}".encode()), ("empty", b"")]


def conf(**extra):
    c = {"bootstrap.servers": BOOT, "broker.address.family": "v4", "socket.timeout.ms": 10000}
    if DEBUG:
        c["debug"] = DEBUG
    c.update(extra)
    return c


def create_topic(topic):
    admin = AdminClient(conf())
    fut = admin.create_topics([NewTopic(topic, num_partitions=len(CODECS), replication_factor=1)],
                              operation_timeout=10, request_timeout=15)[topic]
    fut.result(timeout=20)

    def listed():
        t = admin.list_topics(topic=topic, timeout=5).topics.get(topic)
        return t is not None and t.error is None and len(t.partitions) == len(CODECS)
    assert wc.wait_until(listed, 10), f"topic {topic} not listed with {len(CODECS)} partitions 10 s after CreateTopics"


def produce(topic):
    base = int(time.time() * 1000) - 3_600_000
    rows, errors = [], []
    for part, codec in enumerate(CODECS):
        p = Producer(conf(**{"compression.type": codec, "enable.idempotence": True, "acks": "all",
                             "linger.ms": 20, "message.timeout.ms": 15000}))

        def on_delivery(err, msg, codec=codec):
            if err is not None:
                errors.append(f"{codec}: {err}")
            else:
                rows.append((msg.partition(), msg.offset(), codec, msg.timestamp()[1],
                             msg.key().decode(), msg.value().decode(), len(headers(0, 0))))
        for i in range(PER_PARTITION):
            p.produce(topic, partition=part, key=f"ck-key-{part}-{i:02d}",
                      value=f"confluent-kafka {codec} message {i:02d} {wc.RUN_ID} " + "repeat " * (i % 9),
                      headers=headers(part, i),
                      timestamp=base + part * 1000 + i, on_delivery=on_delivery)
        left = p.flush(20)
        assert left == 0, f"{codec}: {left} messages not delivered within 20 s (errors: {errors[:3]})"
    assert not errors, f"{len(errors)} deliveries failed, e.g. {errors[:3]}"
    rows.sort()
    for part in range(len(CODECS)):
        offs = [r[1] for r in rows if r[0] == part]
        assert offs == list(range(PER_PARTITION)), f"partition {part}: acknowledged at offsets {offs}"
    return rows


def main():
    topic, out = sys.argv[1], sys.argv[2]
    v = version()
    name = (f"confluent-kafka {v if isinstance(v, str) else v[0]} (idempotent, acks=all) writes {PER_PARTITION} messages with 2 headers "
            f"and explicit timestamps to each of 3 partitions: uncompressed, lz4, zstd (RecordBatch v2): "
            f"acknowledged at offsets 0..{PER_PARTITION - 1}")
    try:
        create_topic(topic)
        rows = produce(topic)
    except AssertionError as e:
        report(False, name, wc.one_line(e))
        return 1
    except Exception as e:  # noqa: BLE001 - any client error fails the scenario
        report(False, name, wc.one_line(f"{type(e).__name__}: {e}"))
        return 1
    with open(out, "w") as f:
        for r in rows:
            f.write("\t".join(str(c) for c in r) + "\n")
    report(True, name)
    return 0


if __name__ == "__main__":
    wc.exit_now(main())
