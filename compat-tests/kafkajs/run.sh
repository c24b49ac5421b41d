#!/usr/bin/env bash
# Compatibility tests with the stock kafkajs 2.2.4 client (admin and producer).
#
#   compat-tests/kafkajs/run.sh                     install (npm ci, idempotent), start weir, run test.js
#   WEIR_COMPAT_DEBUG=1 .../run.sh                  kafkajs DEBUG log (JSON lines) as well
#   WEIR_COMPAT_GROUPS=0 .../run.sh                 skip group.js (the consumer-group scenarios)
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../lib.sh"

installed_version() { node -p 'require("./node_modules/kafkajs/package.json").version' 2>/dev/null; }
if [ "$(cd "$HERE" && installed_version)" != "2.2.4" ]; then
    (cd "$HERE" && retry 3 npm ci --no-audit --no-fund --loglevel=error) || { echo "kafkajs: npm ci failed"; exit 2; }
fi

start_broker
# test.js bounds every scenario at 60 s; `timeout` is the last resort.
run_scenarios timeout -k 5 300 node "$HERE/test.js" "$BOOTSTRAP"
if [ "${WEIR_COMPAT_GROUPS:-1}" = 1 ]; then
    run_scenarios timeout -k 5 120 node "$HERE/group.js" "$BOOTSTRAP"
fi
finish
