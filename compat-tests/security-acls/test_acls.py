#!/usr/bin/env python3
"""ACL enforcement with confluent-kafka (librdkafka) against weir with
authorizer.class.name=...StandardAuthorizer and super.users=User:admin, over SASL_PLAINTEXT
(PLAIN users alice and bob). WeirAcls.java ran first and left these ACLs: bob may Write, Read
and Describe the topic acl-orders and Read the group acl-ok; alice has none; acl-secret has
none at all.

Needs SASL_BOOTSTRAP (host:port) in the environment. One PASS/FAIL line per scenario.
"""
import os
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import weir_compat as wc  # noqa: E402

SASL_BOOT = os.environ["SASL_BOOTSTRAP"]
suite = wc.Suite("security-acls", scenario_timeout=60, total_budget=240)
scenario = suite.scenario


def conf(user, password, **extra):
    c = {"bootstrap.servers": SASL_BOOT, "security.protocol": "SASL_PLAINTEXT",
         "sasl.mechanism": "PLAIN", "sasl.username": user, "sasl.password": password,
         "broker.address.family": "v4", "socket.timeout.ms": 10000}
    c.update(extra)
    return c


def produce_one(user, password, topic):
    """The delivery report's error (None when delivered)."""
    p = Producer(conf(user, password, **{"message.timeout.ms": 15000}))
    result = []
    p.produce(topic, b"v", on_delivery=lambda e, m: result.append(e))
    left = p.flush(30)
    assert left == 0 and result, "no delivery report"
    return result[0]


@scenario("a principal without Write gets TOPIC_AUTHORIZATION_FAILED")
def refused_without_write():
    e = produce_one("alice", "alice-secret", "acl-orders")
    assert e is not None and e.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, f"got {e!r}"


@scenario("a principal with Write produces")
def allowed_with_write():
    e = produce_one("bob", "bob-secret", "acl-orders")
    assert e is None, f"got {e!r}"


@scenario("Metadata (list_topics) hides a topic the principal may not Describe")
def metadata_hides():
    p = Producer(conf("bob", "bob-secret"))
    topics = set(p.list_topics(timeout=10).topics)
    assert "acl-orders" in topics, f"listed {topics}"
    assert "acl-secret" not in topics, f"acl-secret listed: {topics}"
    # Asked by name, the answer is TOPIC_AUTHORIZATION_FAILED.
    md = p.list_topics("acl-secret", timeout=10)
    err = md.topics["acl-secret"].error
    assert err is not None and err.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, f"got {err!r}"


def consume_error(group):
    """The first error a subscribed consumer of `group` sees, or the first message."""
    c = Consumer(conf("bob", "bob-secret", **{"group.id": group, "auto.offset.reset": "earliest",
                                              "enable.auto.commit": False}))
    c.subscribe(["acl-orders"])
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            m = c.poll(1)
            if m is None:
                continue
            return m.error(), m
        return None, None
    finally:
        c.close()


@scenario("a consumer without Read on its group gets GROUP_AUTHORIZATION_FAILED")
def group_refused():
    err, _ = consume_error("acl-denied")
    assert err is not None and err.code() == KafkaError.GROUP_AUTHORIZATION_FAILED, f"got {err!r}"


@scenario("a consumer with Read on its group and topic reads what was produced")
def group_allowed():
    err, m = consume_error("acl-ok")
    assert err is None and m is not None and m.value() == b"v", f"got {err!r}"


if __name__ == "__main__":
    wc.exit_now(suite.run_all())
