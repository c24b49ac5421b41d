#!/usr/bin/env bash
# SASL with stock clients against weir: confluent-kafka (librdkafka), kafka-python and the
# Java client, with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 over a SASL_PLAINTEXT listener
# next to a PLAINTEXT one (see test_security.py and WeirSecurity.java).
# Usage: compat-tests/security/run.sh   (uses target/release/weir or $WEIR_BIN)
export CLIENT_NAME=security
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../lib.sh"

# 1. Install (idempotent): confluent-kafka and kafka-python 3.0.x in the shared venv, the
#    Java client's jars (shared with compat-tests/java).
PY="$(confluent_kafka_python)" || exit 2
kafka_python_python >/dev/null || exit 2
install_kafka_jars || { echo "security: could not install kafka-clients jars"; exit 2; }
CLASSES="$WORK_DIR/classes"
mkdir -p "$CLASSES"
javac -nowarn -cp "$KAFKA_JARS_DIR/libs/*" -d "$CLASSES" "$HERE/WeirSecurity.java" || { echo "security: javac failed"; exit 2; }

# 2. Broker: PLAINTEXT and SASL_PLAINTEXT listeners; PLAIN users from the listener's JAAS
#    line, SCRAM users from sasl.scram.bootstrap.
BROKER_PORT="$(free_port)"
SASL_PORT="$(free_port)"
while [ "$SASL_PORT" = "$BROKER_PORT" ]; do SASL_PORT="$(free_port)"; done
mkdir -p "$WORK_DIR/data"
JAAS='org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";'
"$WEIR_BIN" --data-dir "$WORK_DIR/data" \
    --override "listeners=PLAINTEXT://127.0.0.1:$BROKER_PORT,SASL_PLAINTEXT://127.0.0.1:$SASL_PORT" \
    --override "listener.name.sasl_plaintext.plain.sasl.jaas.config=$JAAS" \
    --override "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512" \
    --override "sasl.scram.bootstrap=SCRAM-SHA-512=[name=admin,password=admin-secret];SCRAM-SHA-256=[name=bob,password=bob-secret]" \
    --override "http.listeners=" \
    >>"$WORK_DIR/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_port "$BROKER_PORT" && wait_for_port "$SASL_PORT" \
    || { echo "broker did not start; log:"; tail -50 "$WORK_DIR/broker.log"; exit 2; }
export PLAIN_BOOTSTRAP="127.0.0.1:$BROKER_PORT" SASL_BOOTSTRAP="127.0.0.1:$SASL_PORT"

# 3. Scenarios.
run_scenarios timeout -k 10 330 "$PY" "$HERE/test_security.py"
run_scenarios timeout -k 5 240 java -Xmx512m -cp "$CLASSES:$KAFKA_JARS_DIR/libs/*" WeirSecurity "$SASL_BOOTSTRAP"

# 4. The broker logged each refused authentication.
if grep -q "authentication failed" "$WORK_DIR/broker.log"; then
    pass "failed authentications are logged"
else
    fail "failed authentications are logged" "no 'authentication failed' line in the broker log"
fi
finish
