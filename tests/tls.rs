#![allow(clippy::unwrap_used)]
//! TLS listeners at the protocol level, with certificates made by the test (rcgen) and
//! rustls as the client: produce and fetch over SSL (records large enough to leave the
//! segment files through rustls); `ssl.client.auth=required` refuses a client without a
//! certificate and one whose certificate another CA signed; SASL over TLS (SASL_SSL); a
//! certificate subject read as Kafka names the principal; and bad input: bytes that are not
//! TLS, a handshake never finished, a handshake cut off, each closing that connection only;
//! and the certificate's principal deciding ACLs.
//! (Stock clients over SSL and SASL_SSL are in compat-tests/security.)

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::pki::Pki;
use common::{create_topic, fetch_all, produce_value, start_with, Client};
use kafka_protocol::messages::{
    ApiVersionsRequest, MetadataRequest, SaslAuthenticateRequest, SaslHandshakeRequest,
};
use kafka_protocol::protocol::StrBytes;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use weir::BrokerHandle;

const JAAS: &str = r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret";"#;

/// A broker with SSL and SASL_SSL listeners; the SSL one asks for client certificates as
/// `client_auth` says. The keystore is one PEM file of key and chain, as Kafka's
/// `ssl.keystore.location` names it.
async fn broker(dir: &std::path::Path, pki: &Pki, client_auth: &str) -> BrokerHandle {
    let (cert, key) = pki.issue("broker");
    let keystore = dir.join("broker.pem");
    std::fs::write(&keystore, format!("{key}{cert}")).unwrap();
    let truststore = dir.join("ca.pem");
    std::fs::write(&truststore, &pki.ca_pem).unwrap();
    let data = dir.join("data");
    start_with(&data, |c| {
        c.set(
            "listeners",
            "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0",
        )
        .unwrap();
        c.set("ssl.keystore.type", "PEM").unwrap();
        c.set("ssl.keystore.location", keystore.to_str().unwrap())
            .unwrap();
        c.set("ssl.truststore.location", truststore.to_str().unwrap())
            .unwrap();
        c.set("listener.name.ssl.ssl.client.auth", client_auth)
            .unwrap();
        c.set("listener.name.sasl_ssl.plain.sasl.jaas.config", JAAS)
            .unwrap();
        c.set("socket.request.read.timeout.ms", "1000").unwrap();
    })
    .await
}

fn addr_of(h: &BrokerHandle, name: &str) -> std::net::SocketAddr {
    h.broker
        .config
        .listeners
        .iter()
        .find(|l| l.name == name)
        .unwrap()
        .addr
}

/// A rustls client trusting `ca_pem`, presenting `identity` if given.
fn connector(ca_pem: &str, identity: Option<&(String, String)>) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let b = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match identity {
        Some((cert, key)) => b
            .with_client_auth_cert(
                CertificateDer::pem_slice_iter(cert.as_bytes())
                    .map(Result::unwrap)
                    .collect(),
                PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
            )
            .unwrap(),
        None => b.with_no_client_auth(),
    };
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

async fn tls_client(
    h: &BrokerHandle,
    listener: &str,
    ca_pem: &str,
    identity: Option<&(String, String)>,
) -> std::io::Result<Client> {
    let tcp = TcpStream::connect(addr_of(h, listener)).await?;
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let tls = connector(ca_pem, identity).connect(name, tcp).await?;
    Ok(Client::from_stream(tls))
}

/// Whether a request gets an answer (a refused client certificate shows, under TLS 1.3, as
/// an alert on the client's first read rather than in its handshake).
async fn answers(c: &mut Client) -> bool {
    c.send_only(&ApiVersionsRequest::default(), 0).await;
    let mut size = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(10), c.stream.read_exact(&mut size))
        .await
        .is_ok_and(|r| r.is_ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_and_fetch_over_ssl() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new("weir test CA");
    let h = broker(dir.path(), &pki, "none").await;
    let mut c = tls_client(&h, "SSL", &pki.ca_pem, None).await.unwrap();
    create_topic(&mut c, "secure", 1).await;
    let big = vec![b'x'; 600_000];
    let mut sent = Vec::new();
    for i in 0..20u8 {
        let value = if i % 5 == 0 {
            big.clone()
        } else {
            vec![i; 100]
        };
        produce_value(&mut c, "secure", &value).await;
        sent.push(Bytes::from(value));
    }
    let got: Vec<Bytes> = fetch_all(&mut c, "secure")
        .await
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    assert_eq!(got, sent, "every record comes back whole over TLS");
    // Metadata over SSL names the SSL endpoint.
    let m = c
        .send(&MetadataRequest::default().with_topics(None), 12)
        .await;
    assert_eq!(m.brokers[0].port, i32::from(addr_of(&h, "SSL").port()));
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_client_certificates_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new("weir test CA");
    let h = broker(dir.path(), &pki, "required").await;
    let alice = pki.issue("alice");
    let mut c = tls_client(&h, "SSL", &pki.ca_pem, Some(&alice))
        .await
        .unwrap();
    assert!(
        answers(&mut c).await,
        "a certificate the CA signed is served"
    );

    let refused = match tls_client(&h, "SSL", &pki.ca_pem, None).await {
        Err(_) => true,
        Ok(mut c) => !answers(&mut c).await,
    };
    assert!(refused, "no certificate: refused");

    let other = Pki::new("another CA").issue("mallory");
    let refused = match tls_client(&h, "SSL", &pki.ca_pem, Some(&other)).await {
        Err(_) => true,
        Ok(mut c) => !answers(&mut c).await,
    };
    assert!(refused, "a certificate from another CA: refused");

    // The client that was served still is.
    assert!(answers(&mut c).await);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new("weir test CA");
    let h = broker(dir.path(), &pki, "none").await;
    let mut c = tls_client(&h, "SASL_SSL", &pki.ca_pem, None).await.unwrap();
    let hs = SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str("PLAIN"));
    assert_eq!(c.send(&hs, 1).await.error_code, 0);
    let auth = SaslAuthenticateRequest::default()
        .with_auth_bytes(Bytes::from_static(b"\0admin\0admin-secret"));
    assert_eq!(c.send(&auth, 2).await.error_code, 0);
    let m = c
        .send(&MetadataRequest::default().with_topics(None), 12)
        .await;
    assert_eq!(m.brokers[0].port, i32::from(addr_of(&h, "SASL_SSL").port()));

    // Without authenticating first, a request closes the connection.
    let mut c = tls_client(&h, "SASL_SSL", &pki.ca_pem, None).await.unwrap();
    c.send_only(&MetadataRequest::default().with_topics(None), 12)
        .await;
    assert!(c.read_frame().await.is_none());
    h.shutdown().await;
}

/// The principal of a certificate OpenSSL made (`-subj "/C=US/ST=Some State/O=Weir,
/// Inc./OU=ops+UID=alice7/CN=alice/emailAddress=alice@example.com"`), as Java's
/// `X500Principal.getName()` writes it: RDNs last to first, a multi-valued RDN in its encoded
/// order, the comma escaped, the e-mail attribute (no RFC 2253 keyword) as OID=#DER.
#[test]
fn a_certificate_subject_is_the_principal() {
    let pem = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/subject.pem"
    ))
    .unwrap();
    let der = CertificateDer::from_pem_slice(&pem).unwrap();
    assert_eq!(
        weir::security::tls::principal_of(&der).as_deref(),
        Some(
            "User:1.2.840.113549.1.9.1=#1611616c696365406578616d706c652e636f6d,CN=alice,\
             OU=ops+UID=alice7,O=Weir\\, Inc.,ST=Some State,C=US"
        )
    );
}

/// Whether the broker closes `s` within 5 s (after an alert, if it sends one).
async fn closes(s: &mut (impl tokio::io::AsyncRead + Unpin)) -> bool {
    let mut b = [0u8; 256];
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut b)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tls_input_closes_only_its_connection() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new("weir test CA");
    let h = broker(dir.path(), &pki, "none").await;
    let mut good = tls_client(&h, "SSL", &pki.ca_pem, None).await.unwrap();
    assert!(answers(&mut good).await);

    // A Kafka request in plain text on the TLS port: not a TLS record; closed.
    let mut plain = Client::from_stream(TcpStream::connect(addr_of(&h, "SSL")).await.unwrap());
    plain.send_only(&ApiVersionsRequest::default(), 0).await;
    assert!(
        closes(&mut plain.stream).await,
        "plain text on a TLS port is closed"
    );

    // A TLS record header announcing a handshake message, then garbage.
    let mut garbage = TcpStream::connect(addr_of(&h, "SSL")).await.unwrap();
    let mut record = vec![0x16, 0x03, 0x01, 0x01, 0x00];
    record.extend((0..256).map(|i| (i * 7) as u8));
    garbage.write_all(&record).await.unwrap();
    assert!(
        closes(&mut garbage).await,
        "a garbage TLS record is answered and closed"
    );

    // A record larger than TLS allows (2^14 + 2048): refused.
    let mut huge = TcpStream::connect(addr_of(&h, "SSL")).await.unwrap();
    huge.write_all(&[0x16, 0x03, 0x03, 0xff, 0xff])
        .await
        .unwrap();
    assert!(
        closes(&mut huge).await,
        "an oversized TLS record is refused"
    );

    // A client that connects and never finishes its handshake (half a ClientHello): closed
    // after socket.request.read.timeout.ms (1 s here), not before.
    let started = Instant::now();
    let mut stalled = TcpStream::connect(addr_of(&h, "SSL")).await.unwrap();
    stalled
        .write_all(&[0x16, 0x03, 0x01, 0x00, 0x80, 0x01])
        .await
        .unwrap();
    assert!(
        closes(&mut stalled).await,
        "the stalled handshake is closed"
    );
    assert!(started.elapsed() >= Duration::from_millis(900));

    // The good connection never noticed.
    assert!(answers(&mut good).await);
    h.shutdown().await;
}

/// With an authorizer, an SSL client is its certificate's subject: alice's certificate may
/// Describe one topic, so Metadata over her connection lists that topic and not the other;
/// bob's certificate, with no ACL, sees neither.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_certificate_subject_is_the_principal_acls_see() {
    use kafka_protocol::messages::create_acls_request::AclCreation;
    use kafka_protocol::messages::CreateAclsRequest;
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new("weir test CA");
    let (cert, key) = pki.issue("broker");
    let keystore = dir.path().join("broker.pem");
    std::fs::write(&keystore, format!("{key}{cert}")).unwrap();
    let truststore = dir.path().join("ca.pem");
    std::fs::write(&truststore, &pki.ca_pem).unwrap();
    let h = start_with(&dir.path().join("data"), |c| {
        c.set("listeners", "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0")
            .unwrap();
        c.set("ssl.keystore.location", keystore.to_str().unwrap())
            .unwrap();
        c.set("ssl.truststore.location", truststore.to_str().unwrap())
            .unwrap();
        c.set("ssl.client.auth", "requested").unwrap();
        c.set(
            "authorizer.class.name",
            "kafka.security.authorizer.AclAuthorizer",
        )
        .unwrap();
        // The PLAINTEXT listener's clients are ANONYMOUS: the test's admin.
        c.set("super.users", "User:ANONYMOUS").unwrap();
    })
    .await;
    let mut admin = Client::connect(&h).await;
    create_topic(&mut admin, "alices", 1).await;
    create_topic(&mut admin, "others", 1).await;
    // alice's principal as her certificate names her (its RFC 2253 form is checked against
    // OpenSSL in a_certificate_subject_is_the_principal).
    let alice = pki.issue("alice");
    let der = CertificateDer::from_pem_slice(alice.0.as_bytes()).unwrap();
    let principal = weir::security::tls::principal_of(&der).unwrap();
    assert!(principal.contains("CN=alice"), "{principal}");
    let allow = AclCreation::default()
        .with_resource_type(2) // TOPIC
        .with_resource_name(StrBytes::from_static_str("alices"))
        .with_resource_pattern_type(3) // LITERAL
        .with_principal(StrBytes::from_string(principal))
        .with_host(StrBytes::from_static_str("*"))
        .with_operation(8) // DESCRIBE
        .with_permission_type(3); // ALLOW
    let r = admin
        .send(&CreateAclsRequest::default().with_creations(vec![allow]), 3)
        .await;
    assert_eq!(r.results[0].error_code, 0);

    let topics = |m: kafka_protocol::messages::MetadataResponse| -> Vec<String> {
        m.topics
            .iter()
            .filter_map(|t| t.name.as_ref().map(|n| n.to_string()))
            .collect()
    };
    let all = MetadataRequest::default().with_topics(None);
    let mut c = tls_client(&h, "SSL", &pki.ca_pem, Some(&alice))
        .await
        .unwrap();
    // The ACL reaches the image through the quorum: wait until alice sees her topic.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let seen = topics(c.send(&all, 12).await);
        if seen == ["alices"] {
            break;
        }
        assert!(seen.is_empty(), "alice sees only her topic: {seen:?}");
        assert!(Instant::now() < deadline, "the ACL never applied");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // bob's certificate names another principal, with no ACL: he sees nothing.
    let bob = pki.issue("bob");
    let mut c = tls_client(&h, "SSL", &pki.ca_pem, Some(&bob))
        .await
        .unwrap();
    assert!(topics(c.send(&all, 12).await).is_empty());
    h.shutdown().await;
}
