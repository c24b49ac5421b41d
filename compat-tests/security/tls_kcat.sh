#!/usr/bin/env bash
# TLS with the stock kcat (Debian's 1.7.1, librdkafka 2.0.2) against weir: over SSL (server
# certificate only; with a client certificate on the listener that requires one) and over
# SASL_SSL with PLAIN, kcat -P writes lines that kcat -C -e reads back identical; SCRAM is
# refused for librdkafka 2.0.2's known nonce bug (see below); a kcat trusting another CA
# fails the handshake. librdkafka's
# ssl.endpoint.identification.algorithm stays at its default (https): the broker certificate's
# IP SAN must name 127.0.0.1.
#
# Run by run.sh, which exports SSL_BOOTSTRAP, SASL_SSL_BOOTSTRAP, MTLS_BOOTSTRAP and the TLS_*
# paths. Prints one "PASS security: NAME" or "FAIL security: NAME -- detail" line per scenario;
# exits 1 on any failure.
set -u
CLIENT=${CLIENT_NAME:-security}
T="$(mktemp -d "${TMPDIR:-/tmp}/weir-compat-security-kcat.XXXXXX")"
trap 'rm -rf "$T"' EXIT
RID="$(python3 -c 'import uuid; print(uuid.uuid4().hex[:8])')"
FAILED=0
DETAIL=""

verdict() {
    if [ "$1" -eq 0 ]; then echo "PASS $CLIENT: $2"; else FAILED=$((FAILED + 1)); echo "FAIL $CLIENT: $2 -- $DETAIL"; fi
}
errtail() { grep -v '^%7' "$T/$1.err" 2>/dev/null | tail -n 2 | tr -s '\n\t' '  ' | cut -c1-300; }

# kc NAME BOOTSTRAP ARGS...: one bounded kcat run; stdout to $T/NAME.out, stderr to $T/NAME.err.
kc() {
    local name=$1 boot=$2; shift 2
    timeout -k 5 30 kcat -b "$boot" -X broker.address.family=v4 "$@" >"$T/$name.out" 2>"$T/$name.err"
}

# round_trip NAME BOOTSTRAP ARGS...: kcat -P the lines, kcat -C -e them back, compare.
round_trip() {
    local name=$1 boot=$2; shift 2
    local topic="sec-kcat-$name-$RID"
    kc "$name-p" "$boot" "$@" -P -t "$topic" -p 0 -X message.timeout.ms=15000 <"$T/lines.txt" \
        || { DETAIL="kcat -P exited $?: $(errtail "$name-p")"; return 1; }
    kc "$name-c" "$boot" "$@" -C -q -t "$topic" -p 0 -o beginning -e \
        || { DETAIL="kcat -C exited $?: $(errtail "$name-c")"; return 1; }
    cmp -s "$T/lines.txt" "$T/$name-c.out" \
        || { DETAIL="read back $(wc -l <"$T/$name-c.out") of $(wc -l <"$T/lines.txt") lines, or different ones"; return 1; }
}

for i in $(seq 1 200); do echo "kcat tls line $i $RID: the quick brown fox, äöü €"; done >"$T/lines.txt"

SSL=(-X security.protocol=SSL -X "ssl.ca.location=$TLS_CA")
CERT=(-X "ssl.certificate.location=$TLS_CLIENT_CERT" -X "ssl.key.location=$TLS_CLIENT_KEY")

round_trip ssl "$SSL_BOOTSTRAP" "${SSL[@]}"
verdict $? "kcat SSL: -P 200 lines, -C -e reads them back identical"

round_trip mtls "$MTLS_BOOTSTRAP" "${SSL[@]}" "${CERT[@]}"
verdict $? "kcat SSL, ssl.client.auth=required: with a client certificate -P, -C -e identical"

round_trip sasl-ssl-plain "$SASL_SSL_BOOTSTRAP" -X security.protocol=SASL_SSL \
    -X "ssl.ca.location=$TLS_CA" -X sasl.mechanisms=PLAIN \
    -X sasl.username=alice -X sasl.password=alice-secret
verdict $? "kcat SASL_SSL PLAIN: -P 200 lines, -C -e reads them back identical"

# SCRAM: librdkafka before 2.6.1 (this kcat has 2.0.2) sends its client nonce twice in the
# client-final message (r=<client nonce><client nonce><server nonce>; confluentinc/librdkafka
# #4895). RFC 5802 and Kafka 4.x (KAFKA-13464's strict check) refuse it, and so does weir;
# confluent-kafka 2.16 covers SCRAM over SASL_SSL for librdkafka. Asserted here: the refusal
# names the nonce, i.e. TLS and the SCRAM exchange up to the proof worked.
scram_old_librdkafka() {
    if kc sasl-ssl-scram "$SASL_SSL_BOOTSTRAP" -X security.protocol=SASL_SSL \
        -X "ssl.ca.location=$TLS_CA" -X sasl.mechanisms=SCRAM-SHA-512 \
        -X sasl.username=admin -X sasl.password=admin-secret -L -m 5; then
        DETAIL="kcat -L succeeded: did librdkafka change? $(kcat -V | grep -o 'librdkafka [0-9.]*')"; return 1
    fi
    grep -q "Invalid client nonce" "$T/sasl-ssl-scram.err" \
        || { DETAIL="not refused for its nonce: $(errtail sasl-ssl-scram)"; return 1; }
}
scram_old_librdkafka
verdict $? "kcat SASL_SSL SCRAM-SHA-512: librdkafka 2.0.2's repeated client nonce is refused, as Kafka 4.x refuses it"

# Another CA: the metadata request cannot be made; kcat -L fails, naming the failed verification.
wrong_ca() {
    if kc wrong-ca "$SSL_BOOTSTRAP" -X security.protocol=SSL -X "ssl.ca.location=$TLS_OTHER_CA" \
        -L -m 5; then
        DETAIL="kcat -L succeeded: $(head -c 200 "$T/wrong-ca.out")"; return 1
    fi
    # librdkafka words it "SSL handshake failed: ...certificate verify failed", or, when it
    # folds repeated errors, without the prefix.
    grep -q "certificate verify failed" "$T/wrong-ca.err" \
        || { DETAIL="no 'certificate verify failed' in: $(errtail wrong-ca)"; return 1; }
}
wrong_ca
verdict $? "kcat SSL: trusting another CA, -L fails with 'certificate verify failed'"

[ "$FAILED" -eq 0 ]
