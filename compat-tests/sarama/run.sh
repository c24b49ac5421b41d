#!/usr/bin/env bash
# Compatibility tests with the stock Go client sarama 1.22.1 (Debian's package).
#
#   compat-tests/sarama/run.sh            install (idempotent), build, start weir, run main.go
#                                         (consumer-group scenarios in groups.go)
#   WEIR_COMPAT_DEBUG=1 .../run.sh        also print sarama's own log (to stderr)
#
# sarama is built offline in GOPATH mode from /usr/share/gocode; the binary and Go's build
# cache go to build/ (ignored by git).
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../lib.sh"

apt_install golang-go golang-github-shopify-sarama-dev || { echo "sarama: apt install failed"; exit 2; }

BIN="$HERE/build/sarama-compat"
stale=0
for src in "$HERE"/*.go; do [ "$src" -nt "$BIN" ] && stale=1; done
if [ ! -x "$BIN" ] || [ "$stale" = 1 ]; then
    mkdir -p "$HERE/build/gocache" "$HERE/gopath"
    (cd "$HERE" && GO111MODULE=off GOFLAGS= GOPATH="/usr/share/gocode:$HERE/gopath" \
        GOCACHE="$HERE/build/gocache" CGO_CFLAGS="-O2 -g -Wno-deprecated-declarations" go build -o "$BIN" .) || { echo "sarama: go build failed"; exit 2; }
fi

# No initial group rebalance delay here: a second member's join then rebalances a group whose
# first member already holds every partition. (The Java suite keeps Kafka's 3 s default.)
start_broker --override group.initial.rebalance.delay.ms=0
# The program bounds every scenario at 60 s; `timeout` is the last resort.
run_scenarios timeout -k 5 300 "$BIN" "$BOOTSTRAP"
finish
