#!/usr/bin/env bash
# Compatibility tests with the stock Go client sarama 1.22.1 (Debian's package).
#
#   compat-tests/sarama/run.sh            install (idempotent), build, start weir, run main.go
#   WEIR_COMPAT_DEBUG=1 .../run.sh        also print sarama's own log (to stderr)
#
# sarama is built offline in GOPATH mode from /usr/share/gocode; the binary and Go's build
# cache go to build/ (ignored by git).
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/../lib.sh"

apt_install golang-go golang-github-shopify-sarama-dev || { echo "sarama: apt install failed"; exit 2; }

BIN="$HERE/build/sarama-compat"
if [ ! -x "$BIN" ] || [ "$HERE/main.go" -nt "$BIN" ]; then
    mkdir -p "$HERE/build/gocache" "$HERE/gopath"
    (cd "$HERE" && GO111MODULE=off GOFLAGS= GOPATH="/usr/share/gocode:$HERE/gopath" \
        GOCACHE="$HERE/build/gocache" CGO_CFLAGS="-O2 -g -Wno-deprecated-declarations" go build -o "$BIN" .) || { echo "sarama: go build failed"; exit 2; }
fi

start_broker
# The program bounds every scenario at 60 s; `timeout` is the last resort.
run_scenarios timeout -k 5 300 "$BIN" "$BOOTSTRAP"
finish
