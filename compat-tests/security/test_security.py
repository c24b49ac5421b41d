#!/usr/bin/env python3
"""SASL with stock clients against weir: confluent-kafka (librdkafka) and kafka-python, each
with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 over a SASL_PLAINTEXT listener, and a wrong
password refused. The broker (started by run.sh) has a PLAINTEXT and a SASL_PLAINTEXT
listener; PLAIN users come from the listener's JAAS line, SCRAM users from
sasl.scram.bootstrap (stored salted in the cluster metadata).

Needs PLAIN_BOOTSTRAP and SASL_BOOTSTRAP (host:port) in the environment. One PASS/FAIL line
per scenario.
"""
import os
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
import kafka
from kafka.errors import KafkaError as PyKafkaError

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import weir_compat as wc  # noqa: E402

PLAIN_BOOT = os.environ["PLAIN_BOOTSTRAP"]
SASL_BOOT = os.environ["SASL_BOOTSTRAP"]
SASL_PORT = int(SASL_BOOT.rsplit(":", 1)[1])
suite = wc.Suite("security", scenario_timeout=60, total_budget=300)
scenario = suite.scenario
topic_name = wc.topic_namer("sec")

USERS = {
    "PLAIN": ("alice", "alice-secret"),
    "SCRAM-SHA-256": ("bob", "bob-secret"),
    "SCRAM-SHA-512": ("admin", "admin-secret"),
}


def rd_conf(mechanism, user, password, **extra):
    c = {"bootstrap.servers": SASL_BOOT, "security.protocol": "SASL_PLAINTEXT",
         "sasl.mechanism": mechanism, "sasl.username": user, "sasl.password": password,
         "broker.address.family": "v4", "socket.timeout.ms": 10000}
    c.update(extra)
    return c


def rd_round_trip(mechanism):
    user, password = USERS[mechanism]
    topic = topic_name(mechanism.lower())
    values = [f"{mechanism}-{i}".encode() for i in range(50)]
    p = Producer(rd_conf(mechanism, user, password, **{"enable.idempotence": True}))
    errors = []
    for v in values:
        p.produce(topic, v, on_delivery=lambda e, m: e and errors.append(e))
    left = p.flush(30)
    assert left == 0 and not errors, f"{left} undelivered, errors {errors[:3]}"
    # Metadata on this listener names the SASL_PLAINTEXT endpoint.
    md = p.list_topics(timeout=10)
    ports = {b.port for b in md.brokers.values()}
    assert ports == {SASL_PORT}, f"brokers advertised on {ports}, not {SASL_PORT}"
    c = Consumer(rd_conf(mechanism, user, password, **{"group.id": f"g-{topic}",
                                                      "enable.auto.commit": False}))
    c.assign([TopicPartition(topic, 0, 0)])
    got = []
    deadline = time.monotonic() + 30
    while len(got) < len(values) and time.monotonic() < deadline:
        m = c.poll(1)
        if m is None:
            continue
        if m.error():
            raise KafkaException(m.error())
        got.append(m.value())
    c.close()
    assert got == values, f"consumed {len(got)} of {len(values)}"


for mech in USERS:
    scenario(f"confluent-kafka {mech}: produce (idempotent) and consume over SASL_PLAINTEXT")(
        lambda mech=mech: rd_round_trip(mech))


@scenario("confluent-kafka: a wrong password fails authentication")
def rd_wrong_password():
    for mech, (user, _) in USERS.items():
        seen = []
        p = Producer(rd_conf(mech, user, "wrong", error_cb=lambda e: seen.append(e)))
        p.produce(topic_name("refused"), b"x")
        deadline = time.monotonic() + 20
        while not seen and time.monotonic() < deadline:
            p.poll(0.2)
        left = p.flush(0)
        assert seen, f"{mech}: no error reported"
        text = " ".join(str(e) for e in seen)
        assert "Authentication failed" in text or "SASL authentication error" in text, text
        assert left == 1, f"{mech}: the message was delivered ({left} left)"


@scenario("confluent-kafka: the PLAINTEXT listener serves without SASL, advertising itself")
def rd_plaintext_listener():
    p = Producer({"bootstrap.servers": PLAIN_BOOT, "broker.address.family": "v4"})
    md = p.list_topics(timeout=10)
    port = int(PLAIN_BOOT.rsplit(":", 1)[1])
    assert {b.port for b in md.brokers.values()} == {port}


def py_conf(mechanism, user, password):
    return dict(bootstrap_servers=SASL_BOOT, security_protocol="SASL_PLAINTEXT",
                sasl_mechanism=mechanism, sasl_plain_username=user,
                sasl_plain_password=password, request_timeout_ms=15000)


def py_round_trip(mechanism):
    user, password = USERS[mechanism]
    topic = topic_name("py-" + mechanism.lower())
    values = [f"py-{mechanism}-{i}".encode() for i in range(30)]
    p = kafka.KafkaProducer(acks="all", **py_conf(mechanism, user, password))
    for v in values:
        p.send(topic, v).get(timeout=30)
    p.close()
    c = kafka.KafkaConsumer(**py_conf(mechanism, user, password), enable_auto_commit=False,
                            consumer_timeout_ms=15000)
    tp = kafka.TopicPartition(topic, 0)
    c.assign([tp])
    c.seek(tp, 0)
    got = []
    for m in c:
        got.append(m.value)
        if len(got) == len(values):
            break
    c.close()
    assert got == values, f"consumed {len(got)} of {len(values)}"


for mech in USERS:
    scenario(f"kafka-python {mech}: produce and consume over SASL_PLAINTEXT")(
        lambda mech=mech: py_round_trip(mech))


@scenario("kafka-python: a wrong password fails authentication", timeout=120)
def py_wrong_password():
    # kafka-python retries a refused bootstrap until max_block_ms, then gives up
    # (KafkaTimeoutError "Unable to bootstrap"); the broker logs each refusal (run.sh).
    for mech, (user, _) in USERS.items():
        try:
            # api_version given: no version probe at construction, the first send bootstraps.
            p = kafka.KafkaProducer(**py_conf(mech, user, "wrong"), max_block_ms=5000,
                                    api_version=(2, 5))
        except PyKafkaError as e:
            assert type(e).__name__ in ("KafkaTimeoutError", "NoBrokersAvailable",
                                        "SaslAuthenticationFailedError"), f"{mech}: {e!r}"
            continue
        try:
            p.send(topic_name("refused"), b"x").get(timeout=15)
        except PyKafkaError:
            continue
        finally:
            p.close(timeout=1)
        raise AssertionError(f"{mech}: a wrong password produced")
    # The same client with the right password connects at once: the refusals were the
    # passwords', not an unreachable broker's.
    user, password = USERS["SCRAM-SHA-512"]
    p = kafka.KafkaProducer(**py_conf("SCRAM-SHA-512", user, password), max_block_ms=5000)
    p.close(timeout=1)


if __name__ == "__main__":
    wc.exit_now(suite.run_all())
