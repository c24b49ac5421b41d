#!/usr/bin/env python3
"""Drives the stock kafka-python and confluent-kafka admin clients through the APIs the compat
suites do not reach (CreatePartitions, OffsetDelete) and a few more at the versions these
clients pick, so that `capture.py` records their requests too.

    BOOTSTRAP=127.0.0.1:PORT compat-tests/.venv/bin/python fuzz/capture_admin.py

PORT is the capture proxy's (see capture.py). Prints one line per step; a failed step is
reported and the rest go on (the requests were captured either way).
"""
import os
import sys
import uuid

from confluent_kafka import Consumer, Producer, TopicPartition as CTopicPartition
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewPartitions as KNewPartitions

BOOTSTRAP = os.environ["BOOTSTRAP"]
RUN = uuid.uuid4().hex[:8]


def step(name, fn):
    try:
        fn()
        print(f"ok   {name}")
    except Exception as e:  # noqa: BLE001 - every step is best effort
        print(f"fail {name}: {type(e).__name__}: {e}")


def confluent():
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    topic = f"cap-ck-{RUN}"
    group = f"cap-ck-g-{RUN}"

    def create():
        for f in admin.create_topics([NewTopic(topic, 1, 1)]).values():
            f.result(15)

    def grow():
        for f in admin.create_partitions([NewPartitions(topic, 3)]).values():
            f.result(15)

    def produce_consume_commit():
        p = Producer({"bootstrap.servers": BOOTSTRAP})
        for i in range(3):
            p.produce(topic, value=b"v%d" % i, key=b"k", partition=i)
        p.flush(15)
        c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": group,
                      "auto.offset.reset": "earliest", "enable.auto.commit": False})
        c.assign([CTopicPartition(topic, i, 0) for i in range(3)])
        got = 0
        for _ in range(50):
            m = c.poll(0.3)
            if m is not None and not m.error():
                got += 1
            if got == 3:
                break
        c.commit(offsets=[CTopicPartition(topic, i, 1) for i in range(3)], asynchronous=False)
        c.close()

    step("confluent-kafka: CreateTopics", create)
    step("confluent-kafka: CreatePartitions", grow)
    step("confluent-kafka: produce, consume, commit", produce_consume_commit)
    return topic, group


def kafka_python(ck_topic, ck_group):
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=15000)
    topic = f"cap-kp-{RUN}"
    group = f"cap-kp-g-{RUN}"

    def create():
        from kafka.admin import NewTopic as KNewTopic
        admin.create_topics([KNewTopic(topic, 1, 1)])

    def grow():
        admin.create_partitions({topic: KNewPartitions(total_count=2)})
        admin.create_partitions({topic: KNewPartitions(total_count=3)}, validate_only=True)

    def commit_then_delete_offsets():
        c = KafkaConsumer(bootstrap_servers=BOOTSTRAP, group_id=group, enable_auto_commit=False)
        tps = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
        c.assign(tps)
        from kafka.structs import OffsetAndMetadata
        c.commit({tp: OffsetAndMetadata(0, "", -1) for tp in tps})
        c.close()
        admin.delete_group_offsets(group, [TopicPartition(topic, 1)])
        admin.delete_group_offsets(ck_group, [TopicPartition(ck_topic, 0)])

    step("kafka-python: CreateTopics", create)
    step("kafka-python: CreatePartitions", grow)
    step("kafka-python: OffsetCommit, OffsetDelete", commit_then_delete_offsets)
    step("kafka-python: DescribeConfigs", lambda: admin.describe_configs(
        [__import__("kafka.admin", fromlist=["ConfigResource"]).ConfigResource("TOPIC", topic)]))
    step("kafka-python: DeleteTopics", lambda: admin.delete_topics([topic, ck_topic]))
    admin.close()


def main():
    topic, group = confluent()
    kafka_python(topic, group)
    return 0


if __name__ == "__main__":
    sys.exit(main())
