#!/usr/bin/env bash
# Test certificates for the TLS scenarios, made with openssl; idempotent (a file already there
# is kept, so a second run changes nothing).
#
# Usage: compat-tests/security/certs.sh DIR
#
# Writes into DIR:
#   ca.pem, ca.key                    the test CA (the broker's truststore, the clients' CA)
#   broker.pem, broker.key            the broker's certificate (SAN IP:127.0.0.1, DNS:localhost)
#   broker-keystore.pem               broker.key then broker.pem: weir's ssl.keystore.location
#   client.pem, client.key            a client certificate, subject CN=alice-client,O=Weir
#                                     (RFC 2253 order), signed by the test CA
#   client-keystore.pem               the client's key (PKCS#8, encrypted with the password in
#                                     client-keystore.password) and certificate: the Java
#                                     client's PEM keystore, which takes an encrypted key only
#   client-keystore.password
#   other-ca.pem, other-ca.key        a second CA that nothing here trusts
#   other-client.pem, other-client.key  a client certificate signed by the other CA
set -eu
D=$1
mkdir -p "$D"
cd "$D"

ext() { # ext FILE LINES...: writes an extensions file
    local f=$1; shift
    printf '%s\n' "$@" >"$f"
}

ca() { # ca NAME CN
    local name=$1 cn=$2
    [ -s "$name.pem" ] && [ -s "$name.key" ] && return 0
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$name.key" 2>/dev/null
    ext "$name.cnf" '[req]' 'distinguished_name = dn' 'prompt = no' 'x509_extensions = v3_ca' \
        '[dn]' "CN = $cn" '[v3_ca]' 'basicConstraints = critical,CA:TRUE' \
        'keyUsage = critical,keyCertSign,cRLSign' 'subjectKeyIdentifier = hash'
    openssl req -x509 -new -key "$name.key" -config "$name.cnf" -days 3650 -sha256 -out "$name.pem"
}

leaf() { # leaf NAME CA SUBJECT EXT...: a key and a certificate signed by CA
    local name=$1 ca=$2 subj=$3; shift 3
    [ -s "$name.pem" ] && [ -s "$name.key" ] && return 0
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$name.key" 2>/dev/null
    openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr"
    ext "$name.ext" 'basicConstraints = critical,CA:FALSE' \
        'keyUsage = critical,digitalSignature,keyEncipherment' \
        'subjectKeyIdentifier = hash' 'authorityKeyIdentifier = keyid' "$@"
    openssl x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial \
        -days 3650 -sha256 -extfile "$name.ext" -out "$name.pem" 2>/dev/null
    rm -f "$name.csr"
}

ca ca weir-compat-ca
ca other-ca weir-compat-other-ca
leaf broker ca "/CN=localhost" 'extendedKeyUsage = serverAuth' \
    'subjectAltName = IP:127.0.0.1,DNS:localhost'
# -subj lists RDNs in DER order; RFC 2253 writes them last first: CN=alice-client,O=Weir.
leaf client ca "/O=Weir/CN=alice-client" 'extendedKeyUsage = clientAuth'
leaf other-client other-ca "/O=Weir/CN=mallory-client" 'extendedKeyUsage = clientAuth'

[ -s broker-keystore.pem ] || cat broker.key broker.pem >broker-keystore.pem
if [ ! -s client-keystore.pem ]; then
    [ -s client-keystore.password ] || echo "alice-key-secret" >client-keystore.password
    {
        # PKCS#12 PBE (3DES): Java 17's EncryptedPrivateKeyInfo, which Kafka's PEM keystore
        # decrypts with, has no SecretKeyFactory for PBES2 ("PBES2 SecretKeyFactory not
        # available"), openssl's default.
        openssl pkcs8 -topk8 -v1 PBE-SHA1-3DES -in client.key \
            -passout "file:client-keystore.password"
        cat client.pem
    } >client-keystore.pem.tmp
    mv client-keystore.pem.tmp client-keystore.pem
fi
chmod 600 ./*.key client-keystore.pem client-keystore.password broker-keystore.pem
