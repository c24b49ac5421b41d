"""kill -9 crash test for weir with a real client (confluent-kafka / librdkafka).

The broker runs as a child process. A producer (acks=all, idempotent) sends N messages to a
3-partition topic; each time another N/(kills+1) messages have been acknowledged, the broker
is SIGKILLed and restarted on the same port and data dir. Afterwards every partition is read
from offset 0 and checked: offsets are contiguous from 0 (no gaps), every acknowledged
message is at exactly its acknowledged (partition, offset), and no value appears twice.
Prints one PASS/FAIL line per check.
"""

import argparse
import os
import sys
import threading
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import weir_compat as wc  # noqa: E402

report = wc.reporter("crash")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weir", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--kills", type=int, default=5)
    args = ap.parse_args()

    broker = wc.Broker(args.weir, os.path.join(args.work, "crash-data"), os.path.join(args.work, "broker.log"))
    broker.start()
    bootstrap = broker.bootstrap
    topic = "crash-test"
    try:
        admin = AdminClient({"bootstrap.servers": bootstrap})
        admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])[topic].result(30)

        acked = {}  # value -> (partition, offset)
        failures = []
        lock = threading.Lock()
        acked_count = [0]

        def on_delivery(err, msg):
            with lock:
                if err is not None:
                    failures.append(str(err))
                else:
                    acked[msg.value().decode()] = (msg.partition(), msg.offset())
                    acked_count[0] += 1

        producer = Producer({
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 5,
            "message.timeout.ms": 180000,
            "reconnect.backoff.ms": 20,
            "reconnect.backoff.max.ms": 200,
        })
        step = args.messages // (args.kills + 1)
        kills = 0
        deadline = time.monotonic() + 600
        for i in range(args.messages):
            value = f"m{i:07d}"
            while True:
                try:
                    producer.produce(topic, value=value.encode(), key=str(i % 97).encode(), on_delivery=on_delivery)
                    break
                except BufferError:
                    producer.poll(0.05)
            producer.poll(0)
            if kills < args.kills and acked_count[0] >= step * (kills + 1):
                broker.kill9()
                kills += 1
                broker.start()
            if time.monotonic() > deadline:
                break
        # Kills still owed (if acks lagged behind sends): wait for the acks, then kill.
        while kills < args.kills and time.monotonic() < deadline:
            producer.poll(0.1)
            if acked_count[0] >= step * (kills + 1) or acked_count[0] + len(failures) >= args.messages:
                broker.kill9()
                kills += 1
                broker.start()
        remaining = producer.flush(240)

        report(kills >= args.kills, f"broker killed with SIGKILL and restarted {kills} times")
        report(remaining == 0 and not failures and len(acked) == args.messages,
               f"all {args.messages} messages acknowledged",
               f"acked={len(acked)} unflushed={remaining} failures={len(failures)} first={failures[:3]}")

        # Read everything back.
        consumer = Consumer({
            "bootstrap.servers": bootstrap,
            "group.id": "crash-verify",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "fetch.max.bytes": 8 * 1024 * 1024,
        })
        ends = {}
        for p in range(3):
            lo, hi = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
            ends[p] = hi
        consumer.assign([TopicPartition(topic, p, 0) for p in range(3)])
        seen = {p: [] for p in range(3)}
        total_end = sum(ends.values())
        got = 0
        deadline = time.monotonic() + 240
        while got < total_end and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            if msg.error():
                report(False, "consume", str(msg.error()))
                break
            seen[msg.partition()].append((msg.offset(), msg.value().decode()))
            got += 1
        consumer.close()

        gaps = [p for p in range(3) if [o for o, _ in seen[p]] != list(range(ends[p]))]
        report(not gaps, "offsets contiguous from 0 in every partition (no gaps)",
               f"partitions with gaps: {gaps}; ends={ends}; read={ {p: len(seen[p]) for p in seen} }")
        where = {}
        dupes = 0
        for p in range(3):
            for o, v in seen[p]:
                if v in where:
                    dupes += 1
                where[v] = (p, o)
        report(dupes == 0, "no message stored twice", f"{dupes} duplicates")
        wrong = [(v, pos, where.get(v)) for v, pos in acked.items() if where.get(v) != pos]
        report(not wrong, "every acknowledged message read back at its acknowledged offset",
               f"{len(wrong)} mismatches, e.g. {wrong[:3]}")
    finally:
        broker.stop()


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a crash of the test itself is a failure, with its reason
        report(False, "crash test ran to completion", repr(e))
        sys.exit(1)
