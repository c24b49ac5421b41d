#!/usr/bin/env bash
# Operations tests: weir's Prometheus /metrics page (http.listeners) checked against what the
# stock confluent-kafka client (librdkafka 2.16) sees over the Kafka protocol, parsed with the
# real Prometheus text parser (prometheus-client's text_string_to_metric_families).
# Usage: compat-tests/operations/run.sh   (uses target/release/weir or $WEIR_BIN)
export CLIENT_NAME=operations
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../lib.sh"

# 1. Install (idempotent): confluent-kafka 2.16.x, then prometheus-client, both into the shared
#    venv.
PY="$(confluent_kafka_python)" || exit 2
venv_install 'from prometheus_client.parser import text_string_to_metric_families' \
    'prometheus-client>=0.20,<1' >/dev/null || exit 2
"$PY" -c 'import confluent_kafka as c, importlib.metadata as m; print("confluent-kafka", c.version(), "librdkafka", c.libversion()[0], "prometheus-client", m.version("prometheus-client"))'

# 2. Broker, with its HTTP listener on a free loopback port (never the default 9644).
#    group.initial.rebalance.delay.ms=0: each group forms at once (3 s saved per group).
HTTP_PORT="$(free_port)"
start_broker --override "http.listeners=127.0.0.1:$HTTP_PORT" --override group.initial.rebalance.delay.ms=0
wait_for_port "$HTTP_PORT" || { echo "http listener did not start; log:"; tail -50 "$WORK_DIR/broker.log"; exit 2; }
export WEIR_METRICS_URL="http://127.0.0.1:$HTTP_PORT"

# 3. Scenarios: one PASS/FAIL line each; the program's watchdog and time budget bound it,
#    `timeout` is the last resort.
run_scenarios timeout -k 10 120 "$PY" "$HERE/test_metrics.py"

# 4. Tally.
finish
