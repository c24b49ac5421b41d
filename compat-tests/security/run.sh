#!/usr/bin/env bash
# SASL and TLS with stock clients against weir: confluent-kafka (librdkafka), kafka-python,
# the Java client, kcat and kafkajs.
# - SASL_PLAINTEXT: PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 (test_security.py,
#   WeirSecurity.java);
# - SSL (ssl.client.auth=requested), with and without a client certificate; MTLS, an SSL
#   listener with ssl.client.auth=required; SASL_SSL with PLAIN and SCRAM (test_security.py,
#   WeirSecurity.java, tls_kcat.sh, tls_kafkajs.js), certificates from certs.sh;
# - a PLAINTEXT listener next to them;
# - re-authentication (WeirReauth.java, a second broker with connections.max.reauth.ms);
# - client quotas (WeirQuotas.java): the Java Admin sets and describes them as
#   kafka-configs.sh does; a producer and a consumer under a byte-rate quota are held near it
#   while unthrottled ones run at full speed, over PLAINTEXT; a user's quota over SASL.
# Usage: compat-tests/security/run.sh   (uses target/release/weir or $WEIR_BIN)
export CLIENT_NAME=security
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../lib.sh"

# 1. Install (idempotent): confluent-kafka and kafka-python 3.0.x in the shared venv, the
#    Java client's jars (shared with compat-tests/java), kcat (apt) and kafkajs 2.2.4 (the
#    kafkajs suite's node_modules, compat-tests/kafkajs/node_modules).
PY="$(confluent_kafka_python)" || exit 2
kafka_python_python >/dev/null || exit 2
install_kafka_jars || { echo "security: could not install kafka-clients jars"; exit 2; }
apt_install kcat openssl || { echo "security: could not install kcat"; exit 2; }
KAFKAJS_DIR="$COMPAT_DIR/kafkajs"
kafkajs_version() { (cd "$KAFKAJS_DIR" && node -p 'require("./node_modules/kafkajs/package.json").version' 2>/dev/null); }
if [ "$(kafkajs_version)" != "2.2.4" ]; then
    # Serialised with other suites installing there at the same time.
    (
        flock -w 600 9 || exit 1
        [ "$(kafkajs_version)" = "2.2.4" ] || (cd "$KAFKAJS_DIR" && retry 3 npm ci --no-audit --no-fund --loglevel=error)
    ) 9>/tmp/.weir-compat-kafkajs-npm.lock || { echo "security: npm ci (kafkajs) failed"; exit 2; }
fi
export KAFKAJS_MODULE="$KAFKAJS_DIR/node_modules/kafkajs"
CLASSES="$WORK_DIR/classes"
mkdir -p "$CLASSES"
javac -nowarn -cp "$KAFKA_JARS_DIR/libs/*" -d "$CLASSES" "$HERE/WeirSecurity.java" "$HERE/WeirQuotas.java" "$HERE/WeirReauth.java" || { echo "security: javac failed"; exit 2; }

# 2. Certificates (certs.sh: a CA, the broker's certificate for IP:127.0.0.1 and
#    DNS:localhost, a client certificate CN=alice-client,O=Weir, and a second CA with a client
#    certificate of its own that nothing trusts).
TLS_DIR="$WORK_DIR/tls"
"$HERE/certs.sh" "$TLS_DIR" || { echo "security: certificate generation failed"; exit 2; }
export TLS_CA="$TLS_DIR/ca.pem" TLS_OTHER_CA="$TLS_DIR/other-ca.pem" \
    TLS_CLIENT_CERT="$TLS_DIR/client.pem" TLS_CLIENT_KEY="$TLS_DIR/client.key" \
    TLS_CLIENT_KEYSTORE="$TLS_DIR/client-keystore.pem" \
    TLS_CLIENT_KEYSTORE_PASSWORD="$(cat "$TLS_DIR/client-keystore.password")" \
    TLS_OTHER_CLIENT_CERT="$TLS_DIR/other-client.pem" TLS_OTHER_CLIENT_KEY="$TLS_DIR/other-client.key"

# 3. Broker: listeners PLAINTEXT (health check), SASL_PLAINTEXT, SSL (client certificate
#    requested), SASL_SSL and MTLS (SSL with the client certificate required). PLAIN users
#    from each SASL listener's JAAS line, SCRAM users from sasl.scram.bootstrap; the keystore
#    and truststore broker-wide, ssl.client.auth per listener.
PORTS=()
while [ ${#PORTS[@]} -lt 5 ]; do
    p="$(free_port)"
    case " ${PORTS[*]} " in *" $p "*) ;; *) PORTS+=("$p") ;; esac
done
BROKER_PORT=${PORTS[0]} SASL_PORT=${PORTS[1]} SSL_PORT=${PORTS[2]} SASL_SSL_PORT=${PORTS[3]} MTLS_PORT=${PORTS[4]}
mkdir -p "$WORK_DIR/data"
JAAS='org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";'
"$WEIR_BIN" --data-dir "$WORK_DIR/data" \
    --override "listeners=PLAINTEXT://127.0.0.1:$BROKER_PORT,SASL_PLAINTEXT://127.0.0.1:$SASL_PORT,SSL://127.0.0.1:$SSL_PORT,SASL_SSL://127.0.0.1:$SASL_SSL_PORT,MTLS://127.0.0.1:$MTLS_PORT" \
    --override "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,MTLS:SSL" \
    --override "inter.broker.listener.name=PLAINTEXT" \
    --override "listener.name.sasl_plaintext.plain.sasl.jaas.config=$JAAS" \
    --override "listener.name.sasl_ssl.plain.sasl.jaas.config=$JAAS" \
    --override "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512" \
    --override "sasl.scram.bootstrap=SCRAM-SHA-512=[name=admin,password=admin-secret];SCRAM-SHA-256=[name=bob,password=bob-secret]" \
    --override "ssl.keystore.type=PEM" \
    --override "ssl.keystore.location=$TLS_DIR/broker-keystore.pem" \
    --override "ssl.truststore.type=PEM" \
    --override "ssl.truststore.location=$TLS_CA" \
    --override "listener.name.ssl.ssl.client.auth=requested" \
    --override "listener.name.mtls.ssl.client.auth=required" \
    --override "http.listeners=" \
    >>"$WORK_DIR/broker.log" 2>&1 &
BROKER_PID=$!
for p in "${PORTS[@]}"; do
    wait_for_port "$p" || { echo "broker did not start; log:"; tail -50 "$WORK_DIR/broker.log"; exit 2; }
done
export PLAIN_BOOTSTRAP="127.0.0.1:$BROKER_PORT" SASL_BOOTSTRAP="127.0.0.1:$SASL_PORT" \
    SSL_BOOTSTRAP="127.0.0.1:$SSL_PORT" SASL_SSL_BOOTSTRAP="127.0.0.1:$SASL_SSL_PORT" \
    MTLS_BOOTSTRAP="127.0.0.1:$MTLS_PORT"

# 4. Scenarios.
run_scenarios timeout -k 10 330 "$PY" "$HERE/test_security.py"
run_scenarios timeout -k 5 240 java -Xmx512m -cp "$CLASSES:$KAFKA_JARS_DIR/libs/*" WeirSecurity "$SASL_BOOTSTRAP"
# Quotas (about a minute: two 19 s rate measurements); leaves quotas on the client ids
# throttled and slow-consumer, which nothing after it uses.
run_scenarios timeout -k 5 180 java -Xmx512m -cp "$CLASSES:$KAFKA_JARS_DIR/libs/*" WeirQuotas "$PLAIN_BOOTSTRAP" "$SASL_BOOTSTRAP"
run_scenarios timeout -k 5 120 "$HERE/tls_kcat.sh"
run_scenarios timeout -k 5 120 node "$HERE/tls_kafkajs.js"

# Re-authentication (KIP-368): a second broker whose sessions last 2 s
# (connections.max.reauth.ms); the Java client renews them while it produces
# (WeirReauth.java). Stopped by its PID right after, and on any exit.
REAUTH_PORT="$(free_port)"
while case " ${PORTS[*]} " in *" $REAUTH_PORT "*) true ;; *) false ;; esac; do REAUTH_PORT="$(free_port)"; done
mkdir -p "$WORK_DIR/reauth-data"
"$WEIR_BIN" --data-dir "$WORK_DIR/reauth-data" \
    --override "listeners=SASL_PLAINTEXT://127.0.0.1:$REAUTH_PORT" \
    --override "listener.name.sasl_plaintext.plain.sasl.jaas.config=$JAAS" \
    --override "sasl.scram.bootstrap=SCRAM-SHA-512=[name=admin,password=admin-secret]" \
    --override "connections.max.reauth.ms=2000" \
    --override "http.listeners=" \
    >>"$WORK_DIR/reauth-broker.log" 2>&1 &
REAUTH_PID=$!
trap 'kill "$REAUTH_PID" 2>/dev/null; cleanup' EXIT
if wait_for_port "$REAUTH_PORT"; then
    run_scenarios timeout -k 5 120 java -Xmx512m -cp "$CLASSES:$KAFKA_JARS_DIR/libs/*" WeirReauth "127.0.0.1:$REAUTH_PORT"
else
    fail "the re-authentication broker starts" "$(tail -5 "$WORK_DIR/reauth-broker.log")"
fi
kill "$REAUTH_PID" 2>/dev/null; wait "$REAUTH_PID" 2>/dev/null

# 5. The broker logged each refused authentication, and why it refused TLS clients.
if grep -q "authentication failed" "$WORK_DIR/broker.log"; then
    pass "failed authentications are logged"
else
    fail "failed authentications are logged" "no 'authentication failed' line in the broker log"
fi
# The broker's own reasons for the refused TLS clients (ANSI colours stripped): no
# certificate where one is required, an untrusted one where one is requested.
PLAIN_LOG="$WORK_DIR/broker.plain.log"
sed 's/\x1b\[[0-9;]*m//g' "$WORK_DIR/broker.log" >"$PLAIN_LOG"
if grep -q "TLS handshake failed.*listener=MTLS.*peer sent no certificates" "$PLAIN_LOG"; then
    pass "the MTLS listener logged refusing a client without a certificate"
else
    fail "the MTLS listener logged refusing a client without a certificate" "no such 'TLS handshake failed' line"
fi
if grep -q "TLS handshake failed.*listener=SSL.*invalid peer certificate" "$PLAIN_LOG"; then
    pass "the SSL listener logged refusing a client certificate of an untrusted CA"
else
    fail "the SSL listener logged refusing a client certificate of an untrusted CA" "no such 'TLS handshake failed' line"
fi
finish
