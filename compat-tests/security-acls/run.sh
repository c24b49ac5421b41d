#!/usr/bin/env bash
# ACLs and SCRAM credentials with stock clients against weir: a broker with a
# SASL_PLAINTEXT listener, authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
# and super.users=User:admin. The Java Admin (kafka-clients 4.1.1) does what kafka-acls.sh and
# kafka-configs.sh --entity-type users send (WeirAcls.java); confluent-kafka is then refused
# and allowed as the ACLs say (test_acls.py).
# Usage: compat-tests/security-acls/run.sh   (uses target/release/weir or $WEIR_BIN)
export CLIENT_NAME=security-acls
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../lib.sh"

# 1. Install (idempotent): confluent-kafka in the shared venv, the Java client's jars.
PY="$(confluent_kafka_python)" || exit 2
install_kafka_jars || { echo "security-acls: could not install kafka-clients jars"; exit 2; }
CLASSES="$WORK_DIR/classes"
mkdir -p "$CLASSES"
javac -nowarn -cp "$KAFKA_JARS_DIR/libs/*" -d "$CLASSES" "$HERE/WeirAcls.java" || { echo "security-acls: javac failed"; exit 2; }

# 2. Broker: a PLAINTEXT listener (health check only) and a SASL_PLAINTEXT one; PLAIN users
#    alice and bob, the SCRAM-SHA-512 super user admin; the authorizer on.
BROKER_PORT="$(free_port)"
SASL_PORT="$(free_port)"
while [ "$SASL_PORT" = "$BROKER_PORT" ]; do SASL_PORT="$(free_port)"; done
mkdir -p "$WORK_DIR/data"
JAAS='org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_alice="alice-secret" user_bob="bob-secret";'
"$WEIR_BIN" --data-dir "$WORK_DIR/data" \
    --override "listeners=PLAINTEXT://127.0.0.1:$BROKER_PORT,SASL_PLAINTEXT://127.0.0.1:$SASL_PORT" \
    --override "listener.name.sasl_plaintext.plain.sasl.jaas.config=$JAAS" \
    --override "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512" \
    --override "sasl.scram.bootstrap=SCRAM-SHA-512=[name=admin,password=admin-secret]" \
    --override "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer" \
    --override "super.users=User:admin" \
    --override "http.listeners=" \
    >>"$WORK_DIR/broker.log" 2>&1 &
BROKER_PID=$!
wait_for_port "$BROKER_PORT" && wait_for_port "$SASL_PORT" \
    || { echo "broker did not start; log:"; tail -50 "$WORK_DIR/broker.log"; exit 2; }
export SASL_BOOTSTRAP="127.0.0.1:$SASL_PORT"

# 3. Scenarios: the Java Admin first (it creates the topics and leaves the ACLs), then
#    confluent-kafka.
run_scenarios timeout -k 5 240 java -Xmx512m -cp "$CLASSES:$KAFKA_JARS_DIR/libs/*" WeirAcls "$SASL_BOOTSTRAP"
run_scenarios timeout -k 10 270 "$PY" "$HERE/test_acls.py"

# 4. A broker without an authorizer (its own PID, stopped here): the Admin's ACL calls get
#    SECURITY_DISABLED, which kafka-acls.sh reports as security being disabled.
OPEN_PORT="$(free_port)"
mkdir -p "$WORK_DIR/open"
"$WEIR_BIN" --data-dir "$WORK_DIR/open" --override "listeners=PLAINTEXT://127.0.0.1:$OPEN_PORT" \
    --override "http.listeners=" >>"$WORK_DIR/open.log" 2>&1 &
OPEN_PID=$!
trap 'kill -TERM "$OPEN_PID" 2>/dev/null; cleanup' EXIT
if wait_for_port "$OPEN_PORT"; then
    run_scenarios timeout -k 5 90 java -Xmx256m -cp "$CLASSES:$KAFKA_JARS_DIR/libs/*" WeirAcls --disabled "127.0.0.1:$OPEN_PORT"
else
    fail "a broker without an authorizer starts" "$(tail -3 "$WORK_DIR/open.log")"
fi
kill -TERM "$OPEN_PID" 2>/dev/null; wait "$OPEN_PID" 2>/dev/null

# 5. An unknown authorizer class is refused at start, naming the setting.
if "$WEIR_BIN" --data-dir "$WORK_DIR/refused" --override "listeners=PLAINTEXT://127.0.0.1:0" \
        --override "authorizer.class.name=com.example.Nope" --override "http.listeners=" \
        >"$WORK_DIR/refused.log" 2>&1; then
    fail "an unknown authorizer.class.name is refused at start" "the broker started"
elif grep -q "authorizer.class.name" "$WORK_DIR/refused.log"; then
    pass "an unknown authorizer.class.name is refused at start"
else
    fail "an unknown authorizer.class.name is refused at start" "$(tail -3 "$WORK_DIR/refused.log")"
fi
finish
