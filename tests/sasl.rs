#![allow(clippy::unwrap_used)]
//! Named listeners and SASL at the protocol level: a PLAINTEXT and a SASL_PLAINTEXT listener
//! on one broker; requests before authentication close the connection; a wrong password is
//! answered SASL_AUTHENTICATION_FAILED and the connection closed; an unknown mechanism gets
//! UNSUPPORTED_SASL_MECHANISM with the enabled ones; the v0 raw-token exchange; Metadata
//! names each broker by the endpoint of the listener the request came in on. (Real clients
//! over SASL, PLAIN and SCRAM, are in compat-tests/security.)

mod common;

use bytes::Bytes;
use common::{start_with, Client};
use kafka_protocol::messages::{MetadataRequest, SaslAuthenticateRequest, SaslHandshakeRequest};
use kafka_protocol::protocol::StrBytes;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use weir::BrokerHandle;

const JAAS: &str = r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";"#;

async fn broker(dir: &std::path::Path) -> BrokerHandle {
    start_with(dir, |c| {
        c.set(
            "listeners",
            "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
        )
        .unwrap();
        c.set("listener.name.sasl_plaintext.plain.sasl.jaas.config", JAAS)
            .unwrap();
        c.set("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-256")
            .unwrap();
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

async fn connect(h: &BrokerHandle, name: &str) -> Client {
    Client::from_stream(TcpStream::connect(addr_of(h, name)).await.unwrap())
}

fn handshake(mechanism: &'static str) -> SaslHandshakeRequest {
    SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str(mechanism))
}

fn plain(user: &str, password: &str) -> SaslAuthenticateRequest {
    SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from(format!("\0{user}\0{password}")))
}

fn metadata() -> MetadataRequest {
    MetadataRequest::default().with_topics(None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_listener_authenticates_before_serving() {
    let dir = tempfile::tempdir().unwrap();
    let h = broker(dir.path()).await;
    let sasl_port = addr_of(&h, "SASL_PLAINTEXT").port();
    let plain_port = addr_of(&h, "PLAINTEXT").port();

    // PLAINTEXT: served at once, brokers named by their PLAINTEXT endpoint; a handshake
    // there is an illegal state.
    let mut c = connect(&h, "PLAINTEXT").await;
    let m = c.send(&metadata(), 12).await;
    assert_eq!(m.brokers[0].port, i32::from(plain_port));
    assert_eq!(c.send(&handshake("PLAIN"), 1).await.error_code, 34);

    // SASL_PLAINTEXT: anything but ApiVersions and the exchange closes the connection.
    let mut c = connect(&h, "SASL_PLAINTEXT").await;
    c.send_only(&metadata(), 12).await;
    assert!(c.is_closed().await, "unauthenticated Metadata closes");

    // An unknown mechanism: UNSUPPORTED_SASL_MECHANISM, the enabled ones, then closed.
    let mut c = connect(&h, "SASL_PLAINTEXT").await;
    let r = c.send(&handshake("GSSAPI"), 1).await;
    assert_eq!(r.error_code, 33);
    let names: Vec<_> = r.mechanisms.iter().map(|m| m.to_string()).collect();
    assert_eq!(names, ["PLAIN", "SCRAM-SHA-256"]);
    assert!(c.is_closed().await);

    // A wrong password: SASL_AUTHENTICATION_FAILED with Kafka's message, then closed.
    let mut c = connect(&h, "SASL_PLAINTEXT").await;
    assert_eq!(c.send(&handshake("PLAIN"), 1).await.error_code, 0);
    let r = c.send(&plain("alice", "wrong"), 2).await;
    assert_eq!(r.error_code, 58);
    assert_eq!(
        r.error_message.unwrap().as_str(),
        "Authentication failed: Invalid username or password"
    );
    assert!(c.is_closed().await);

    // SCRAM for a user without credentials fails the same way.
    let mut c = connect(&h, "SASL_PLAINTEXT").await;
    assert_eq!(c.send(&handshake("SCRAM-SHA-256"), 1).await.error_code, 0);
    let first = SaslAuthenticateRequest::default()
        .with_auth_bytes(Bytes::from_static(b"n,,n=nobody,r=abcdef"));
    assert_eq!(c.send(&first, 2).await.error_code, 58);
    assert!(c.is_closed().await);

    // The right password: served, and Metadata names the SASL_PLAINTEXT endpoint.
    let mut c = connect(&h, "SASL_PLAINTEXT").await;
    assert_eq!(c.send(&handshake("PLAIN"), 1).await.error_code, 0);
    let r = c.send(&plain("alice", "alice-secret"), 2).await;
    assert_eq!((r.error_code, r.session_lifetime_ms), (0, 0));
    let m = c.send(&metadata(), 12).await;
    assert_eq!(m.brokers[0].port, i32::from(sasl_port));
    // A second handshake once authenticated: Kafka's ILLEGAL_SASL_STATE answer.
    assert_eq!(c.send(&handshake("PLAIN"), 1).await.error_code, 34);
    assert_eq!(c.send(&metadata(), 1).await.brokers.len(), 1);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_v0_is_followed_by_raw_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let h = broker(dir.path()).await;
    for (password, ok) in [("admin-secret", true), ("admin-secreT", false)] {
        let mut c = connect(&h, "SASL_PLAINTEXT").await;
        assert_eq!(c.send(&handshake("PLAIN"), 0).await.error_code, 0);
        let token = format!("\0admin\0{password}");
        let mut frame = (token.len() as i32).to_be_bytes().to_vec();
        frame.extend_from_slice(token.as_bytes());
        c.stream.write_all(&frame).await.unwrap();
        if ok {
            let answer = c.read_frame().await.expect("the raw answer");
            assert!(answer.is_empty(), "PLAIN's server token is empty");
            assert_eq!(c.send(&metadata(), 0).await.brokers.len(), 1);
        } else {
            assert!(c.read_frame().await.is_none(), "a raw failure closes");
        }
    }
    h.shutdown().await;
}

/// Delegation tokens are not served (no `delegation.token.secret.key`): Kafka's answers,
/// DELEGATION_TOKEN_REQUEST_NOT_ALLOWED on a PLAINTEXT listener, DELEGATION_TOKEN_AUTH_DISABLED
/// once authenticated on a SASL one, so `kafka-delegation-tokens.sh` says which.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delegation_token_requests_get_kafkas_answers() {
    use kafka_protocol::messages::{
        CreateDelegationTokenRequest, DescribeDelegationTokenRequest, ExpireDelegationTokenRequest,
        RenewDelegationTokenRequest,
    };
    let dir = tempfile::tempdir().unwrap();
    let h = broker(dir.path()).await;
    let mut unauthenticated = connect(&h, "PLAINTEXT").await;
    let mut sasl = connect(&h, "SASL_PLAINTEXT").await;
    assert_eq!(sasl.send(&handshake("PLAIN"), 1).await.error_code, 0);
    assert_eq!(
        sasl.send(&plain("alice", "alice-secret"), 2)
            .await
            .error_code,
        0
    );
    for (c, want) in [(&mut unauthenticated, 64), (&mut sasl, 61)] {
        let create = CreateDelegationTokenRequest::default().with_max_lifetime_ms(-1);
        assert_eq!(c.send(&create, 3).await.error_code, want);
        let describe = DescribeDelegationTokenRequest::default().with_owners(None);
        assert_eq!(c.send(&describe, 3).await.error_code, want);
        let renew = RenewDelegationTokenRequest::default().with_hmac(Bytes::from_static(b"x"));
        assert_eq!(c.send(&renew, 2).await.error_code, want);
        let expire = ExpireDelegationTokenRequest::default().with_hmac(Bytes::from_static(b"x"));
        assert_eq!(c.send(&expire, 2).await.error_code, want);
    }
    h.shutdown().await;
}

/// KIP-368 with `connections.max.reauth.ms=800`: SaslAuthenticate answers the lifetime;
/// re-authenticating on the same connection renews the session; a session left to expire
/// closes the connection at its next request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_renewed_by_reauthentication_or_closed() {
    let dir = tempfile::tempdir().unwrap();
    let h = start_with(dir.path(), |c| {
        c.set("listeners", "SASL_PLAINTEXT://127.0.0.1:0").unwrap();
        c.set("listener.name.sasl_plaintext.plain.sasl.jaas.config", JAAS)
            .unwrap();
        c.set("connections.max.reauth.ms", "800").unwrap();
    })
    .await;
    let mut c = connect(&h, "SASL_PLAINTEXT").await;
    let login = async |c: &mut Client| {
        assert_eq!(c.send(&handshake("PLAIN"), 1).await.error_code, 0);
        let r = c.send(&plain("alice", "alice-secret"), 2).await;
        assert_eq!((r.error_code, r.session_lifetime_ms), (0, 800));
    };
    login(&mut c).await;
    let started = std::time::Instant::now();
    // Re-authenticate three times over ~1.5 lifetimes, serving requests in between.
    for _ in 0..3 {
        assert_eq!(c.send(&metadata(), 12).await.brokers.len(), 1);
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        login(&mut c).await;
    }
    assert!(started.elapsed() >= std::time::Duration::from_millis(1200));
    assert_eq!(c.send(&metadata(), 12).await.brokers.len(), 1);
    // Left to expire: the next request closes the connection.
    tokio::time::sleep(std::time::Duration::from_millis(900)).await;
    c.send_only(&metadata(), 12).await;
    assert!(
        c.read_frame().await.is_none(),
        "an expired session is closed"
    );
    h.shutdown().await;
}
