"""Disk full, with a real client (confluent-kafka / librdkafka).

The broker's data dir is a small tmpfs (mounted by this program; it needs root). The topic
rolls a segment every 64 KiB, so a full disk hits both appends and segment creation.

Scenario `disk full: storage error, reads go on, writes resume`:
1. 2,000 records of 1 KiB are produced (acks=all) and acknowledged, and read back (which
   also creates __consumer_offsets: the reader is a group consumer).
2. A filler file takes every byte left on the tmpfs. Producing then fails: within a few
   records (what fits in pages the log already holds), every produce gets
   KAFKA_STORAGE_ERROR; 20 more in a row all get it too. The broker process stays up.
3. While the disk is full, a consumer reads back every acknowledged record, exactly, at
   its acknowledged offset, and Metadata is answered.
4. The filler is removed: 1,000 more records are acknowledged, at offsets that continue the
   log with no gap.
5. kill -9 and restart: the whole log reads back as exactly the acknowledged records, one
   per offset from 0, none of the refused ones, values intact.
"""

import argparse
import errno
import os
import subprocess
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import weir_compat as wc  # noqa: E402

report = wc.reporter("crash")
SCENARIO = "disk full: storage error, reads go on, writes resume"
TMPFS_SIZE = "24m"
VALUE = 1024


def value(i):
    return (b"%08d" % i) * (VALUE // 8)


def produce_one(p, topic, v):
    """Produces one record and waits for its delivery report: (error code or 0, offset)."""
    out = []
    p.produce(topic, v, partition=0,
              on_delivery=lambda err, msg: out.append((err.code() if err else 0,
                                                       -1 if err else msg.offset())))
    p.flush(30)
    if not out:
        raise RuntimeError("no delivery report within 30 s")
    return out[0]


def fill(path):
    """Writes `path` until the file system has no byte left."""
    with open(path, "wb", buffering=0) as f:
        for chunk in (1 << 20, 1 << 12, 1):
            while True:
                try:
                    f.write(b"\0" * chunk)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break


def read_all(bootstrap, topic, end):
    """Every record of partition 0 from offset 0 up to `end`: [(offset, value)]."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": wc.unique("full-reader"),
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    c.assign([TopicPartition(topic, 0, 0)])
    got = []
    deadline = time.monotonic() + 60
    while (not got or got[-1][0] < end - 1) and time.monotonic() < deadline:
        m = c.poll(1.0)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                continue
            raise RuntimeError(f"consume error {m.error()}")
        got.append((m.offset(), m.value()))
    c.close()
    return got


def check_log(got, acked, what):
    problems = []
    if [o for o, _ in got] != list(range(len(acked))):
        offsets = [o for o, _ in got]
        shown = offsets if len(offsets) <= 10 else offsets[:5] + ["..."] + offsets[-5:]
        problems.append(f"{what}: {len(offsets)} offsets {shown}, expected 0..{len(acked) - 1}")
    bad = [o for (o, v) in got if o < len(acked) and acked[o] != v]
    if bad:
        problems.append(f"{what}: {len(bad)} values differ, first at offset {bad[0]}")
    return problems


def run(weir, work):
    mnt = os.path.join(work, "full")
    os.makedirs(mnt, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", mnt],
                   check=True)
    broker = wc.Broker(weir, os.path.join(mnt, "data"), os.path.join(work, "full-broker.log"))
    filler = os.path.join(mnt, "filler")
    problems = []
    try:
        broker.start()
        topic = wc.unique("full")
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.create_topics([NewTopic(topic, 1, 1, config={"segment.bytes": "65536"})])[topic] \
            .result(30)
        p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all",
                      "linger.ms": 0, "retries": 0, "message.timeout.ms": 10000})
        acked = []  # acked[offset] = value

        def produce_acked(i):
            code, off = produce_one(p, topic, value(i))
            if code != 0 or off != len(acked):
                raise RuntimeError(f"record {i}: error {code}, offset {off}, "
                                   f"expected offset {len(acked)}")
            acked.append(value(i))

        for i in range(2000):
            produce_acked(i)
        # Read back once before the disk fills. The reader is a group consumer (librdkafka
        # needs a group.id), so its FindCoordinator creates __consumer_offsets: a metadata
        # change, which must not wait for a full disk (a metadata log that cannot be written
        # stops the node's quorum member, as a failed metadata log dir stops a Kafka node).
        problems += check_log(read_all(broker.bootstrap, topic, len(acked)), acked,
                              "read before full")

        fill(filler)
        first_error, accepted_while_full = None, 0
        for i in range(2000, 2200):
            code, off = produce_one(p, topic, value(i))
            if code == 0:
                if off != len(acked):
                    problems.append(f"acked at offset {off}, expected {len(acked)}")
                acked.append(value(i))
                accepted_while_full += 1
                continue
            first_error = code
            break
        if first_error != KafkaError.KAFKA_STORAGE_ERROR:
            problems.append(f"full disk: first error {first_error} after "
                            f"{accepted_while_full} more acks, expected KAFKA_STORAGE_ERROR")
        refused = [produce_one(p, topic, value(10_000 + i))[0] for i in range(20)]
        if any(c != KafkaError.KAFKA_STORAGE_ERROR for c in refused):
            problems.append(f"full disk: 20 more produces answered {refused}")
        if broker.proc.poll() is not None:
            problems.append("broker exited on a full disk")
        problems += check_log(read_all(broker.bootstrap, topic, len(acked)), acked,
                              "read while full")
        md = admin.list_topics(topic, timeout=10)
        if md.topics[topic].error is not None:
            problems.append(f"metadata while full: {md.topics[topic].error}")

        os.remove(filler)
        for i in range(3000, 4000):
            produce_acked(i)

        broker.kill9()
        broker.start()
        problems += check_log(read_all(broker.bootstrap, topic, len(acked)), acked,
                              "after kill -9")
        report(not problems, SCENARIO,
               "; ".join(problems) + f" (acked {len(acked)}, {accepted_while_full} of them "
                                     "into pages already held)")
    except Exception as e:  # noqa: BLE001
        report(False, SCENARIO, f"{type(e).__name__}: {e}; {'; '.join(problems)}")
    finally:
        broker.stop()
        subprocess.run(["umount", "-l", mnt], check=False)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--weir", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    run(a.weir, a.work)
