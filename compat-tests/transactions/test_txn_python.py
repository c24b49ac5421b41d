#!/usr/bin/env python3
"""Transactions (KIP-98) with the stock Python clients: confluent-kafka (librdkafka 2.16) and
kafka-python 3.0 (which has had transactional producers since 2.1: transactional_id,
init_transactions, begin_transaction, send_offsets_to_transaction, commit_transaction,
abort_transaction, and isolation_level on the consumer).

Usage: test_txn_python.py --client confluent-kafka|kafka-python [--rf N] [--label L]
       (BOOTSTRAP from the environment; run.sh also runs confluent-kafka on the cluster, RF 3)

One scenario per client (one PASS/FAIL line):
  A consumer of an input topic (1 partition, 10 records, a group id, assign()) supplies the
  offsets; a transactional producer runs 10 transactions, each writing 2 records to each of the
  3 partitions of an output topic plus send_offsets_to_transaction(in-0 -> i+1, the consumer's
  group metadata), committed for even i and aborted for odd i (flushed first, so the aborted
  records do reach the log). After a commit the group's committed offset becomes i+1 (awaited);
  after an abort it stays. Then a read_committed consumer reads exactly the committed records,
  in order per partition, and a read_uncommitted one reads all of them in order.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import weir_compat as wc  # noqa: E402

N_TXN, PER_PART, PARTS = 10, 2, 3


def wait_for(what, timeout, cond, state=lambda: ""):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {timeout}s {state()}")
        time.sleep(0.1)


class Confluent:
    name = "confluent-kafka"

    def __init__(self, bootstrap):
        import confluent_kafka as ck
        from confluent_kafka.admin import AdminClient, NewTopic
        self.ck, self.bs = ck, bootstrap
        self.admin = AdminClient({"bootstrap.servers": bootstrap, "broker.address.family": "v4"})
        self.NewTopic = NewTopic

    def create_topic(self, topic, parts, rf):
        fs = self.admin.create_topics([self.NewTopic(topic, num_partitions=parts, replication_factor=rf)])
        fs[topic].result(30)

    def plain_produce(self, topic, values):
        p = self.ck.Producer({"bootstrap.servers": self.bs, "broker.address.family": "v4", "acks": "all"})
        for v in values:
            p.produce(topic, value=v.encode(), partition=0)
        assert p.flush(30) == 0, "plain producer did not deliver everything"

    def group_consumer(self, group, topic):
        c = self.ck.Consumer({"bootstrap.servers": self.bs, "broker.address.family": "v4", "group.id": group,
                              "enable.auto.commit": False, "auto.offset.reset": "earliest",
                              "isolation.level": "read_committed"})
        c.assign([self.ck.TopicPartition(topic, 0, self.ck.OFFSET_BEGINNING)])
        return c

    def group_metadata(self, consumer):
        return consumer.consumer_group_metadata()

    def committed(self, consumer, topic):
        r = consumer.committed([self.ck.TopicPartition(topic, 0)], timeout=10)
        return r[0].offset

    def txn_producer(self, txn_id):
        p = self.ck.Producer({"bootstrap.servers": self.bs, "broker.address.family": "v4",
                              "transactional.id": txn_id, "transaction.timeout.ms": 60000, "linger.ms": 5})
        p.init_transactions(30)
        return p

    def begin(self, p):
        p.begin_transaction()

    def send(self, p, topic, part, value):
        p.produce(topic, value=value.encode(), partition=part)

    def send_offsets(self, p, topic, offset, meta):
        p.send_offsets_to_transaction([self.ck.TopicPartition(topic, 0, offset)], meta, 30)

    def commit(self, p):
        p.commit_transaction(30)

    def abort(self, p):
        assert p.flush(30) == 0, "records of the transaction to abort not delivered"
        p.abort_transaction(30)

    def close_producer(self, p):
        p.flush(10)

    def read_all(self, topic, parts, committed, timeout=30):
        """{partition: [values]} from the start to the log end, read with the isolation level."""
        ck = self.ck
        c = ck.Consumer({"bootstrap.servers": self.bs, "broker.address.family": "v4", "group.id": wc.unique("txn-read"),
                         "enable.auto.commit": False, "isolation.level": "read_committed" if committed else "read_uncommitted"})
        try:
            tps = [ck.TopicPartition(topic, p, ck.OFFSET_BEGINNING) for p in range(parts)]
            end = {p: c.get_watermark_offsets(ck.TopicPartition(topic, p), timeout=10)[1] for p in range(parts)}
            c.assign(tps)
            out = {p: [] for p in range(parts)}
            deadline = time.monotonic() + timeout
            while True:
                pos = {tp.partition: tp.offset for tp in c.position([ck.TopicPartition(topic, p) for p in range(parts)])}
                if all(pos[p] >= end[p] for p in range(parts)):
                    return out
                if time.monotonic() > deadline:
                    raise AssertionError(f"{'read_committed' if committed else 'read_uncommitted'} consumer did not reach "
                                         f"the log end {end}: positions {pos}")
                for m in c.consume(100, 0.2):
                    if m.error():
                        raise AssertionError(f"consume error {m.error()}")
                    out[m.partition()].append(m.value().decode())
        finally:
            c.close()


class KafkaPython:
    name = "kafka-python"

    def __init__(self, bootstrap):
        import kafka
        from kafka.admin import KafkaAdminClient, NewTopic
        self.k, self.bs = kafka, bootstrap
        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        self.NewTopic = NewTopic

    def create_topic(self, topic, parts, rf):
        self.admin.create_topics([self.NewTopic(topic, parts, rf)])
        wait_for(f"topic {topic} in metadata", 30,
                 lambda: len(self.admin.describe_topics([topic])[0].get("partitions") or []) == parts)

    def plain_produce(self, topic, values):
        p = self.k.KafkaProducer(bootstrap_servers=self.bs, acks="all")
        fs = [p.send(topic, value=v.encode(), partition=0) for v in values]
        for f in fs:
            f.get(30)
        p.close(10)

    def group_consumer(self, group, topic):
        c = self.k.KafkaConsumer(bootstrap_servers=self.bs, group_id=group, enable_auto_commit=False,
                                 auto_offset_reset="earliest", isolation_level="read_committed")
        c.assign([self.k.TopicPartition(topic, 0)])
        return c

    def group_metadata(self, consumer):
        return consumer.group_metadata()

    def committed(self, consumer, topic):
        o = consumer.committed(self.k.TopicPartition(topic, 0))
        return -1 if o is None else o

    def txn_producer(self, txn_id):
        p = self.k.KafkaProducer(bootstrap_servers=self.bs, transactional_id=txn_id, transaction_timeout_ms=60000,
                                 linger_ms=5)
        p.init_transactions()
        return p

    def begin(self, p):
        p.begin_transaction()

    def send(self, p, topic, part, value):
        p.send(topic, value=value.encode(), partition=part)

    def send_offsets(self, p, topic, offset, meta):
        from kafka.structs import OffsetAndMetadata
        p.send_offsets_to_transaction({self.k.TopicPartition(topic, 0): OffsetAndMetadata(offset, "", -1)}, meta)

    def commit(self, p):
        p.commit_transaction()

    def abort(self, p):
        p.flush(30)
        p.abort_transaction()

    def close_producer(self, p):
        p.close(10)

    def read_all(self, topic, parts, committed, timeout=30):
        k = self.k
        c = k.KafkaConsumer(bootstrap_servers=self.bs, enable_auto_commit=False, auto_offset_reset="earliest",
                            isolation_level="read_committed" if committed else "read_uncommitted")
        try:
            tps = [k.TopicPartition(topic, p) for p in range(parts)]
            c.assign(tps)
            c.seek_to_beginning(*tps)
            end = c.end_offsets(tps)
            out = {p: [] for p in range(parts)}
            deadline = time.monotonic() + timeout
            while True:
                pos = {tp.partition: c.position(tp) for tp in tps}
                if all(pos[tp.partition] >= end[tp] for tp in tps):
                    return out
                if time.monotonic() > deadline:
                    raise AssertionError(f"{'read_committed' if committed else 'read_uncommitted'} consumer did not reach "
                                         f"{end}: positions {pos}")
                for tp, msgs in c.poll(200).items():
                    for m in msgs:
                        out[tp.partition].append(m.value.decode())
        finally:
            c.close()


def run(client, rf):
    run_id = wc.RUN_ID
    out, inp = f"txn-py-out-{client.name}-{run_id}", f"txn-py-in-{client.name}-{run_id}"
    group, txn_id = f"txn-py-group-{client.name}-{run_id}", f"txn-py-{client.name}-{run_id}"
    client.create_topic(out, PARTS, rf)
    client.create_topic(inp, 1, rf)
    client.plain_produce(inp, [f"in-{i}" for i in range(N_TXN)])
    consumer = client.group_consumer(group, inp)
    meta = client.group_metadata(consumer)
    committed = {p: [] for p in range(PARTS)}
    everything = {p: [] for p in range(PARTS)}
    expect = -1
    prod = client.txn_producer(txn_id)
    try:
        for i in range(N_TXN):
            commit = i % 2 == 0
            client.begin(prod)
            for p in range(PARTS):
                for r in range(PER_PART):
                    v = f"t{i}-p{p}-r{r}"
                    client.send(prod, out, p, v)
                    everything[p].append(v)
                    if commit:
                        committed[p].append(v)
            client.send_offsets(prod, inp, i + 1, meta)
            if commit:
                client.commit(prod)
                expect = i + 1
                seen = [None]

                def cond():
                    seen[0] = client.committed(consumer, inp)
                    return seen[0] == expect
                wait_for(f"committed offset {expect} after the commit of transaction {i}", 15, cond,
                         lambda: f"(committed offset {seen[0]})")
            else:
                client.abort(prod)
                got = client.committed(consumer, inp)
                assert got == expect, (f"committed offset after the abort of transaction {i}: {got}, expected {expect} "
                                       "(an aborted transaction's offsets must not count)")
    finally:
        client.close_producer(prod)
        consumer.close()
    rc = client.read_all(out, PARTS, True)
    ru = client.read_all(out, PARTS, False)
    for p in range(PARTS):
        assert rc[p] == committed[p], f"read_committed partition {p}: {rc[p]}, expected {committed[p]}"
        assert ru[p] == everything[p], f"read_uncommitted partition {p}: {ru[p]}, expected {everything[p]}"
    return f"{sum(len(v) for v in rc.values())} committed of {sum(len(v) for v in ru.values())} records"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--client", required=True, choices=["confluent-kafka", "kafka-python"])
    ap.add_argument("--rf", type=int, default=1, help="replication factor of the topics")
    ap.add_argument("--label", default="", help="prefix of the scenario name (e.g. cluster)")
    a = ap.parse_args()
    wc.setup_logging()
    report = wc.reporter(os.environ.get("CLIENT_NAME", "transactions"))
    name = (f"{a.label + ' ' if a.label else ''}{a.client}: {N_TXN} transactions alternately committed/aborted with send_offsets_to_transaction, "
            "read_committed/read_uncommitted")
    bootstrap = wc.bootstrap()
    t0 = time.monotonic()
    try:
        client = Confluent(bootstrap) if a.client == "confluent-kafka" else KafkaPython(bootstrap)
        note = run(client, a.rf)
        report(True, f"{name} ({note}, {time.monotonic() - t0:.1f}s)")
        rc = 0
    except Exception as e:  # noqa: BLE001 - every failure becomes the FAIL line
        import traceback
        traceback.print_exc()
        report(False, name, f"{type(e).__name__}: {e}")
        rc = 1
    sys.stdout.flush()
    os._exit(rc)


if __name__ == "__main__":
    main()
