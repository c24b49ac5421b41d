#!/usr/bin/env python3
"""SASL and TLS with stock clients against weir: confluent-kafka (librdkafka) and kafka-python.

- SASL_PLAINTEXT: PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, and a wrong password refused.
- SSL (ssl.client.auth=requested): without and with a client certificate; the MTLS listener
  (SSL, ssl.client.auth=required) serves a client with a certificate and refuses one without;
  a client trusting another CA fails the handshake and delivers nothing; a client certificate
  from an untrusted CA is refused even where certificates are only requested (kafka-python:
  librdkafka and the Java client withhold a certificate that no CA the broker names issued).
- SASL_SSL: PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, and a wrong password refused.

The broker (started by run.sh) has PLAINTEXT, SASL_PLAINTEXT, SSL, SASL_SSL and MTLS
listeners; PLAIN users come from each SASL listener's JAAS line, SCRAM users from
sasl.scram.bootstrap (stored salted in the cluster metadata). Certificates come from certs.sh.

Needs PLAIN_BOOTSTRAP, SASL_BOOTSTRAP, SSL_BOOTSTRAP, SASL_SSL_BOOTSTRAP, MTLS_BOOTSTRAP
(host:port) and the TLS_* file paths in the environment. One PASS/FAIL line per scenario.
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
SSL_BOOT = os.environ["SSL_BOOTSTRAP"]
SASL_SSL_BOOT = os.environ["SASL_SSL_BOOTSTRAP"]
MTLS_BOOT = os.environ["MTLS_BOOTSTRAP"]
CA = os.environ["TLS_CA"]
OTHER_CA = os.environ["TLS_OTHER_CA"]
CLIENT_CERT, CLIENT_KEY = os.environ["TLS_CLIENT_CERT"], os.environ["TLS_CLIENT_KEY"]
OTHER_CERT, OTHER_KEY = os.environ["TLS_OTHER_CLIENT_CERT"], os.environ["TLS_OTHER_CLIENT_KEY"]
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


def port_of(boot):
    return int(boot.rsplit(":", 1)[1])


def rd_produce_consume(conf, label, n=50):
    """An idempotent producer writes n records, a consumer with the same settings reads them
    back from offset 0; the Metadata answer names the listener the client came in on."""
    topic = topic_name(label)
    values = [f"{label}-{i}".encode() for i in range(n)]
    p = Producer({**conf, "enable.idempotence": True})
    errors = []
    for v in values:
        p.produce(topic, v, on_delivery=lambda e, m: e and errors.append(e))
    left = p.flush(30)
    assert left == 0 and not errors, f"{left} undelivered, errors {errors[:3]}"
    md = p.list_topics(timeout=10)
    ports = {b.port for b in md.brokers.values()}
    want = port_of(conf["bootstrap.servers"])
    assert ports == {want}, f"brokers advertised on {ports}, not {want}"
    c = Consumer({**conf, "group.id": f"g-{topic}", "enable.auto.commit": False})
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


def rd_round_trip(mechanism):
    user, password = USERS[mechanism]
    rd_produce_consume(rd_conf(mechanism, user, password), mechanism.lower())


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


# ---------------------------------------------------------------- TLS: confluent-kafka
def rd_tls(boot, cert=False, ca=CA, **extra):
    # ssl.endpoint.identification.algorithm is left at librdkafka's default, https: the
    # broker's certificate must name 127.0.0.1 (its IP SAN).
    c = {"bootstrap.servers": boot, "security.protocol": "SSL", "ssl.ca.location": ca,
         "broker.address.family": "v4", "socket.timeout.ms": 10000}
    if cert:
        c.update({"ssl.certificate.location": CLIENT_CERT, "ssl.key.location": CLIENT_KEY})
    c.update(extra)
    return c


def rd_sasl_ssl(mechanism, user, password, **extra):
    return {**rd_conf(mechanism, user, password, **extra), "bootstrap.servers": SASL_SSL_BOOT,
            "security.protocol": "SASL_SSL", "ssl.ca.location": CA}


def rd_refused(conf, expect, wait=20):
    """A producer with conf reports an error containing one of `expect` (client errors through
    error_cb) and delivers nothing. Returns the error text."""
    seen = []
    p = Producer({**conf, "error_cb": lambda e: seen.append(e), "message.timeout.ms": 30000})
    p.produce(topic_name("refused"), b"x")
    deadline = time.monotonic() + wait
    while not any(any(x in str(e) for x in expect) for e in seen) and time.monotonic() < deadline:
        p.poll(0.2)
    left = p.flush(0)
    text = " | ".join(str(e) for e in seen)
    assert seen, "no error reported"
    assert any(x in text for x in expect), f"expected one of {expect}, got: {text[:400]}"
    assert left == 1, f"the message was delivered ({left} left)"
    return text


@scenario("confluent-kafka SSL: produce (idempotent) and consume, server certificate only "
          "(hostname checked against the IP SAN)")
def rd_ssl():
    rd_produce_consume(rd_tls(SSL_BOOT), "ssl")


@scenario("confluent-kafka SSL: produce and consume with a client certificate (mutual TLS, "
          "ssl.client.auth=requested)")
def rd_ssl_mutual():
    rd_produce_consume(rd_tls(SSL_BOOT, cert=True), "ssl-mtls")


@scenario("confluent-kafka SSL, ssl.client.auth=required: served with a client certificate")
def rd_mtls_required():
    rd_produce_consume(rd_tls(MTLS_BOOT, cert=True), "mtls-required")


@scenario("confluent-kafka SSL, ssl.client.auth=required: refused without a client certificate")
def rd_mtls_required_no_cert():
    # TLS 1.3: librdkafka's side of the handshake completes; the broker's alert
    # certificate_required (116) arrives on the first read.
    rd_refused(rd_tls(MTLS_BOOT), ["certificate required", "SSL handshake failed"])


@scenario("confluent-kafka SSL: a client trusting another CA fails the handshake, delivers nothing")
def rd_ssl_wrong_ca():
    rd_refused(rd_tls(SSL_BOOT, ca=OTHER_CA), ["certificate verify failed"])


for mech in USERS:
    scenario(f"confluent-kafka {mech}: produce (idempotent) and consume over SASL_SSL")(
        lambda mech=mech: rd_produce_consume(rd_sasl_ssl(mech, *USERS[mech]),
                                             "sasl-ssl-" + mech.lower()))


@scenario("confluent-kafka SASL_SSL: a wrong password fails authentication, delivers nothing")
def rd_sasl_ssl_wrong_password():
    for mech, (user, _) in USERS.items():
        try:
            rd_refused(rd_sasl_ssl(mech, user, "wrong"),
                       ["Authentication failed", "SASL authentication error"])
        except AssertionError as e:
            raise AssertionError(f"{mech}: {e}") from None


def py_conf(mechanism, user, password):
    return dict(bootstrap_servers=SASL_BOOT, security_protocol="SASL_PLAINTEXT",
                sasl_mechanism=mechanism, sasl_plain_username=user,
                sasl_plain_password=password, request_timeout_ms=15000)


def py_produce_consume(conf, label, n=30):
    topic = topic_name("py-" + label)
    values = [f"py-{label}-{i}".encode() for i in range(n)]
    p = kafka.KafkaProducer(acks="all", **conf)
    for v in values:
        p.send(topic, v).get(timeout=30)
    p.close()
    c = kafka.KafkaConsumer(**conf, enable_auto_commit=False, consumer_timeout_ms=15000)
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


def py_round_trip(mechanism):
    py_produce_consume(py_conf(mechanism, *USERS[mechanism]), mechanism.lower())


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


# ---------------------------------------------------------------- TLS: kafka-python
def py_tls(boot, cert=False, **extra):
    # ssl_check_hostname=True (kafka-python's default, set here to say so): Python's ssl module
    # matches the IP address the client dialled against the certificate's IP SAN.
    c = dict(bootstrap_servers=boot, security_protocol="SSL", ssl_cafile=CA,
             ssl_check_hostname=True, request_timeout_ms=15000)
    if cert:
        c.update(ssl_certfile=CLIENT_CERT, ssl_keyfile=CLIENT_KEY)
    c.update(extra)
    return c


@scenario("kafka-python SSL: produce and consume, server certificate only (check_hostname)")
def py_ssl():
    py_produce_consume(py_tls(SSL_BOOT), "ssl")


@scenario("kafka-python SSL: produce and consume with a client certificate "
          "(ssl.client.auth=requested)")
def py_ssl_mutual():
    py_produce_consume(py_tls(SSL_BOOT, cert=True), "ssl-mtls")


@scenario("kafka-python SSL, ssl.client.auth=required: served with a client certificate")
def py_mtls_required():
    py_produce_consume(py_tls(MTLS_BOOT, cert=True), "mtls-required")


for mech in ("PLAIN", "SCRAM-SHA-512"):
    scenario(f"kafka-python {mech}: produce and consume over SASL_SSL")(
        lambda mech=mech: py_produce_consume(
            {**py_conf(mech, *USERS[mech]), "bootstrap_servers": SASL_SSL_BOOT,
             "security_protocol": "SASL_SSL", "ssl_cafile": CA, "ssl_check_hostname": True},
            "sasl-ssl-" + mech.lower()))


@scenario("kafka-python SSL: a client trusting another CA cannot bootstrap", timeout=60)
def py_ssl_wrong_ca():
    try:
        p = kafka.KafkaProducer(**py_tls(SSL_BOOT, ssl_cafile=OTHER_CA), max_block_ms=5000,
                                api_version=(2, 5))
    except PyKafkaError as e:
        assert type(e).__name__ in ("KafkaTimeoutError", "NoBrokersAvailable"), repr(e)
        return
    try:
        p.send(topic_name("refused"), b"x").get(timeout=15)
    except PyKafkaError:
        return
    finally:
        p.close(timeout=1)
    raise AssertionError("a client trusting another CA produced")


@scenario("kafka-python SSL: a client certificate from an untrusted CA is refused "
          "(ssl.client.auth=requested)", timeout=60)
def py_ssl_untrusted_client_cert():
    # Python's ssl (OpenSSL) sends the configured certificate whatever CA names the broker's
    # CertificateRequest lists. With TLS 1.3 the client's side of the handshake is over before
    # the broker checks that certificate: the refusal shows as a closed connection, the
    # bootstrap never succeeds. run.sh checks the broker's reason ("invalid peer
    # certificate") in its log.
    conf = py_tls(SSL_BOOT, ssl_certfile=OTHER_CERT, ssl_keyfile=OTHER_KEY)
    try:
        p = kafka.KafkaProducer(**conf, max_block_ms=5000, api_version=(2, 5))
    except PyKafkaError as e:
        assert type(e).__name__ in ("KafkaTimeoutError", "NoBrokersAvailable"), repr(e)
        return
    try:
        p.send(topic_name("refused"), b"x").get(timeout=15)
    except PyKafkaError:
        return
    finally:
        p.close(timeout=1)
    raise AssertionError("a client with an untrusted certificate produced")


if __name__ == "__main__":
    wc.exit_now(suite.run_all())
