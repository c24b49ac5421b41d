#![allow(clippy::unwrap_used)]
//! Bad input for the security layer, as a table: each row is what one hostile or broken
//! client sends on the SASL listener, and what it must get (an answer with Kafka's code, then
//! a close; or a close alone). Every row runs beside an authenticated client that keeps
//! working and after which a new client still logs in: no row harms anyone else, and the
//! broker stays up. (TLS rows, the handshake never finished, a record of garbage or larger
//! than TLS allows and plain text on a TLS port, are in tests/tls.rs.)

mod common;

use bytes::Bytes;
use common::{start_with, Client};
use kafka_protocol::messages::{MetadataRequest, SaslAuthenticateRequest, SaslHandshakeRequest};
use kafka_protocol::protocol::StrBytes;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use weir::BrokerHandle;

const JAAS: &str = r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret";"#;

/// What a row sends after connecting.
enum Send {
    /// SaslHandshake for the mechanism, then SaslAuthenticate v2 with these tokens in turn.
    Tokens(&'static str, Vec<Vec<u8>>),
    /// SaslAuthenticate without a handshake.
    AuthenticateFirst(Vec<u8>),
    /// SaslHandshake v0 for PLAIN, then these raw bytes (v0's size-prefixed tokens).
    RawAfterV0(Vec<u8>),
    /// These bytes as they are.
    Bytes(Vec<u8>),
}

/// What the row's client must see.
#[derive(Debug, PartialEq)]
enum Then {
    /// The last SaslAuthenticate answered with this code, then the connection closed.
    Answered(i16),
    /// Closed without an answer to the last thing sent.
    Closed,
}

fn rows() -> Vec<(&'static str, Send, Then)> {
    let big = |n: usize| vec![b'a'; n];
    vec![
        (
            "PLAIN token cut short (no password)",
            Send::Tokens("PLAIN", vec![b"\0admin".to_vec()]),
            Then::Answered(58),
        ),
        (
            "PLAIN token empty",
            Send::Tokens("PLAIN", vec![vec![]]),
            Then::Answered(58),
        ),
        (
            "PLAIN token of 1 MiB",
            Send::Tokens(
                "PLAIN",
                vec![[b"\0admin\0".to_vec(), big(1 << 20)].concat()],
            ),
            Then::Answered(58),
        ),
        (
            "PLAIN token that is not UTF-8",
            Send::Tokens("PLAIN", vec![vec![0, 0xff, 0xfe, 0, 0xc3]]),
            Then::Answered(58),
        ),
        (
            "SCRAM client-first cut short",
            Send::Tokens("SCRAM-SHA-256", vec![b"n,,n=".to_vec()]),
            Then::Answered(58),
        ),
        (
            "SCRAM client-first with a user name of 256 KiB",
            Send::Tokens(
                "SCRAM-SHA-256",
                vec![[b"n,,n=".to_vec(), big(256 << 10), b",r=abc".to_vec()].concat()],
            ),
            Then::Answered(58),
        ),
        (
            "SCRAM client-final first",
            Send::Tokens("SCRAM-SHA-256", vec![b"c=biws,r=abc,p=AAAA".to_vec()]),
            Then::Answered(58),
        ),
        (
            "SCRAM channel binding asked for",
            Send::Tokens(
                "SCRAM-SHA-256",
                vec![b"p=tls-unique,,n=admin,r=abc".to_vec()],
            ),
            Then::Answered(58),
        ),
        (
            // Kafka's SaslServerAuthenticator: an unexpected request during the handshake
            // is an illegal state, and the connection closes unanswered.
            "SaslAuthenticate before any handshake",
            Send::AuthenticateFirst(b"\0admin\0admin-secret".to_vec()),
            Then::Closed,
        ),
        (
            "v0 raw token whose size is cut short",
            Send::RawAfterV0(vec![0, 0, 0, 100, 0, b'a', b'd']),
            Then::Closed,
        ),
        (
            "v0 raw token of a negative size",
            Send::RawAfterV0(vec![0xff, 0xff, 0xff, 0xf0]),
            Then::Closed,
        ),
        (
            "v0 raw token larger than socket.request.max.bytes",
            Send::RawAfterV0(vec![0x7f, 0xff, 0xff, 0xff]),
            Then::Closed,
        ),
        (
            "a frame announcing 2 GiB before authenticating",
            Send::Bytes(vec![0x7f, 0xff, 0xff, 0xff, 0, 0x11]),
            Then::Closed,
        ),
        (
            "a request header cut short before authenticating",
            Send::Bytes(vec![0, 0, 0, 3, 0, 0x11, 0]),
            Then::Closed,
        ),
    ]
}

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
        c.set(
            "sasl.scram.bootstrap",
            "SCRAM-SHA-256=[name=admin,password=admin-secret]",
        )
        .unwrap();
        c.set("socket.request.max.bytes", "4194304").unwrap();
    })
    .await
}

async fn connect(h: &BrokerHandle) -> Client {
    let addr = h
        .broker
        .config
        .listeners
        .iter()
        .find(|l| l.name == "SASL_PLAINTEXT")
        .unwrap()
        .addr;
    Client::from_stream(TcpStream::connect(addr).await.unwrap())
}

fn handshake(m: &'static str) -> SaslHandshakeRequest {
    SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str(m))
}

fn token(bytes: Vec<u8>) -> SaslAuthenticateRequest {
    SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from(bytes))
}

/// A client that logs in with PLAIN and can ask for Metadata.
async fn logged_in(h: &BrokerHandle) -> Client {
    let mut c = connect(h).await;
    assert_eq!(c.send(&handshake("PLAIN"), 1).await.error_code, 0);
    let r = c.send(&token(b"\0admin\0admin-secret".to_vec()), 2).await;
    assert_eq!(r.error_code, 0);
    c
}

async fn serves(c: &mut Client) -> bool {
    c.send(&MetadataRequest::default().with_topics(None), 12)
        .await
        .brokers
        .len()
        == 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_authentication_harms_no_one_else() {
    let dir = tempfile::tempdir().unwrap();
    let h = broker(dir.path()).await;
    let mut bystander = logged_in(&h).await;
    for (what, send, then) in rows() {
        let mut c = connect(&h).await;
        let seen = match send {
            Send::Tokens(mechanism, tokens) => {
                assert_eq!(
                    c.send(&handshake(mechanism), 1).await.error_code,
                    0,
                    "{what}"
                );
                let mut code = 0;
                for t in tokens {
                    code = c.send(&token(t), 2).await.error_code;
                }
                Then::Answered(code)
            }
            Send::AuthenticateFirst(t) => {
                c.send_only(&token(t), 2).await;
                match c.read_frame().await {
                    None => Then::Closed,
                    Some(f) => panic!("{what}: answered {f:?}"),
                }
            }
            Send::RawAfterV0(bytes) => {
                assert_eq!(c.send(&handshake("PLAIN"), 0).await.error_code, 0);
                c.stream.write_all(&bytes).await.unwrap();
                let _ = c.stream.shutdown().await;
                match c.read_frame().await {
                    None => Then::Closed,
                    Some(f) => panic!("{what}: answered {f:?}"),
                }
            }
            Send::Bytes(bytes) => {
                c.stream.write_all(&bytes).await.unwrap();
                let _ = c.stream.shutdown().await;
                match c.read_frame().await {
                    None => Then::Closed,
                    Some(f) => panic!("{what}: answered {f:?}"),
                }
            }
        };
        assert_eq!(seen, then, "{what}");
        assert!(c.is_closed().await, "{what}: the connection is closed");
        assert!(
            serves(&mut bystander).await,
            "{what}: the bystander is served"
        );
        let mut next = logged_in(&h).await;
        assert!(serves(&mut next).await, "{what}: a new client logs in");
    }
    h.shutdown().await;
}
