#!/usr/bin/env bash
# Development aid (never used by run.sh): a reference Apache Kafka 4.1.1 from kafka-ref
# (/work/shared/kafka-ref, installed at ~/kafka-ref), with the broker settings of
# kafka-ref.properties.extra appended to its template, on ports and data dirs of its own.
#
#   dev-kafka.sh single-start    one node on 127.0.0.1:29392 (data /tmp/kref-txn/single)
#   dev-kafka.sh cluster-start   three nodes 127.0.0.1:29402,29404,29406 (data /tmp/kref-txn/cluster),
#                                replicated defaults (transaction state RF 3, min ISR 2)
#   dev-kafka.sh single-stop | cluster-stop
#   dev-kafka.sh env             the variables that point run.sh at them (eval "$(dev-kafka.sh env)")
# The ports are below Linux's ephemeral range (32768-60999): a client reconnecting to a killed
# node's port in that range can be given that very port as its local port and connect to itself
# (TCP simultaneous open), and the restarted node then fails with "Address already in use".
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
L="${KREF_HOME:-$HOME/kafka-ref}/loopback"
TPL=/tmp/kref-txn/server.properties.template
mkdir -p /tmp/kref-txn
{ cat "$L/server.properties.template"; grep -v '^#' "$HERE/kafka-ref.properties.extra"; } >"$TPL"
case "${1:-}" in
  single-start) KREF_TEMPLATE=$TPL KREF_FRESH=1 KREF_PORT=29392 KREF_CPORT=29393 KREF_DATA=/tmp/kref-txn/single "$L/start-broker.sh" ;;
  single-stop) KREF_DATA=/tmp/kref-txn/single "$L/stop-broker.sh" ;;
  cluster-start) KREF_TEMPLATE=$TPL KREF_FRESH=1 KREF_RF_DEFAULTS=1 KREF_BASE_PORT=29402 KREF_DATA=/tmp/kref-txn/cluster "$L/start-cluster.sh" ;;
  cluster-stop) KREF_DATA=/tmp/kref-txn/cluster "$L/stop-cluster.sh" ;;
  env)
    cat <<EOV
export TXN_BOOTSTRAP=127.0.0.1:29392
export TXN_CLUSTER_BOOTSTRAP=127.0.0.1:29402,127.0.0.1:29404,127.0.0.1:29406
export TXN_CLUSTER_PID_CMD='cat /tmp/kref-txn/cluster/n{id}/broker.pid'
export TXN_CLUSTER_RESTART_CMD='KREF_DATA=/tmp/kref-txn/cluster $L/restart-node.sh {id}'
EOV
    ;;
  *) sed -n 2,12p "$0"; exit 2 ;;
esac
