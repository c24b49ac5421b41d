use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha512};

use super::*;
use crate::security::scram::random_bytes;

#[derive(Default)]
struct Users {
    plain: BTreeMap<String, String>,
    scram: BTreeMap<(String, ScramMechanism), ScramCredential>,
}

impl UserStore for Users {
    fn plain_password(&self, user: &str) -> Option<String> {
        self.plain.get(user).cloned()
    }
    fn scram(&self, user: &str, m: ScramMechanism) -> Option<ScramCredential> {
        self.scram.get(&(user.to_string(), m)).cloned()
    }
}

fn users() -> Users {
    let mut u = Users::default();
    u.plain.insert("alice".into(), "alice-secret".into());
    u.scram.insert(
        ("bob".into(), ScramMechanism::Sha512),
        ScramCredential::from_password(
            ScramMechanism::Sha512,
            b"bob-secret",
            random_bytes(16),
            4096,
        ),
    );
    u
}

fn session() -> SaslSession {
    SaslSession::new(vec![
        Mechanism::Plain,
        Mechanism::Scram(ScramMechanism::Sha512),
    ])
}

const METADATA: i16 = 3;
const PRODUCE: i16 = 0;

#[test]
fn plain_over_sasl_authenticate() {
    let u = users();
    let mut s = session();
    assert_eq!(s.gate(API_VERSIONS), Gate::Serve);
    assert_eq!(
        s.gate(METADATA),
        Gate::Close,
        "nothing else before authentication"
    );
    assert_eq!(
        s.gate(SASL_AUTHENTICATE),
        Gate::Close,
        "no token before the handshake"
    );
    let h = s.handshake("PLAIN", 1);
    assert_eq!(h.error_code, 0);
    assert_eq!(h.mechanisms, vec!["PLAIN", "SCRAM-SHA-512"]);
    assert!(!s.expects_raw_token());
    assert_eq!(s.gate(SASL_AUTHENTICATE), Gate::Serve);
    assert_eq!(s.gate(PRODUCE), Gate::Close);
    let a = s.authenticate(b"\0alice\0alice-secret", &u);
    assert_eq!((a.error_code, a.complete), (0, true));
    assert_eq!(s.principal(), Some("User:alice"));
    assert_eq!(s.gate(PRODUCE), Gate::Serve);
    // Once authenticated, Kafka's request handler answers a second handshake with
    // ILLEGAL_SASL_STATE rather than closing.
    assert_eq!(s.gate(SASL_HANDSHAKE), Gate::Serve);
}

#[test]
fn failures_answer_kafkas_errors_then_close() {
    let u = users();
    #[rustfmt::skip]
    let cases: Vec<(&str, &[u8], i16, &str)> = vec![
        ("PLAIN", b"\0alice\0wrong", SASL_AUTHENTICATION_FAILED, "Invalid username or password"),
        ("PLAIN", b"\0mallory\0x", SASL_AUTHENTICATION_FAILED, "Invalid username or password"),
        ("PLAIN", b"garbage", SASL_AUTHENTICATION_FAILED, "expected 3 tokens"),
        ("SCRAM-SHA-512", b"n,,n=nobody,r=abc", SASL_AUTHENTICATION_FAILED,
         "invalid credentials with SASL mechanism SCRAM-SHA-512"),
        ("SCRAM-SHA-512", b"\xff", SASL_AUTHENTICATION_FAILED, "Invalid SCRAM client first message"),
    ];
    for (mech, token, code, message) in cases {
        let mut s = session();
        assert_eq!(s.handshake(mech, 1).error_code, 0);
        let a = s.authenticate(token, &u);
        assert_eq!(a.error_code, code, "{mech} {token:?}");
        assert!(
            a.error_message.as_deref().unwrap().contains(message),
            "{:?}",
            a.error_message
        );
        assert!(a.complete);
        assert_eq!(s.principal(), None);
        for key in [API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE, METADATA] {
            assert_eq!(s.gate(key), Gate::Close, "a failed session closes");
        }
    }
    // A mechanism not enabled (or unknown), and a second handshake.
    let mut s = session();
    let h = s.handshake("SCRAM-SHA-256", 1);
    assert_eq!(h.error_code, UNSUPPORTED_SASL_MECHANISM);
    assert_eq!(h.mechanisms.len(), 2);
    assert_eq!(s.gate(SASL_AUTHENTICATE), Gate::Close);
    let mut s = session();
    s.handshake("PLAIN", 1);
    assert_eq!(s.handshake("PLAIN", 1).error_code, ILLEGAL_SASL_STATE);
    // A token without a handshake.
    let mut s = session();
    assert_eq!(
        s.authenticate(b"\0alice\0alice-secret", &u).error_code,
        ILLEGAL_SASL_STATE
    );
}

/// The client's side of SCRAM-SHA-512 for `password`: (client-final, server-final).
fn scram_client(bare: &str, server_first: &str, password: &str) -> (String, String) {
    type H = Hmac<Sha512>;
    let hmac = |k: &[u8], d: &[u8]| {
        let mut m = <H as Mac>::new_from_slice(k).unwrap();
        m.update(d);
        m.finalize().into_bytes().to_vec()
    };
    let attrs: BTreeMap<&str, &str> = server_first
        .split(',')
        .map(|a| a.split_once('=').unwrap())
        .collect();
    let salt = B64.decode(attrs["s"]).unwrap();
    let salted = ScramMechanism::Sha512.salted_password(
        password.as_bytes(),
        &salt,
        attrs["i"].parse().unwrap(),
    );
    let client_key = hmac(&salted, b"Client Key");
    let stored = Sha512::digest(&client_key).to_vec();
    let without_proof = format!("c=biws,r={}", attrs["r"]);
    let auth = format!("{bare},{server_first},{without_proof}");
    let sig = hmac(&stored, auth.as_bytes());
    let proof: Vec<u8> = client_key.iter().zip(&sig).map(|(a, b)| a ^ b).collect();
    let server_sig = hmac(&hmac(&salted, b"Server Key"), auth.as_bytes());
    (
        format!("{without_proof},p={}", B64.encode(proof)),
        format!("v={}", B64.encode(server_sig)),
    )
}

#[test]
fn scram_over_raw_tokens_after_handshake_v0() {
    for (password, ok) in [("bob-secret", true), ("bob-secreT", false)] {
        let u = users();
        let mut s = session();
        assert_eq!(s.handshake("SCRAM-SHA-512", 0).error_code, 0);
        assert!(s.expects_raw_token());
        assert_eq!(
            s.gate(SASL_AUTHENTICATE),
            Gate::Close,
            "v0: raw tokens, not requests"
        );
        let bare = "n=bob,r=clientnonce";
        let first = s.authenticate(format!("n,,{bare}").as_bytes(), &u);
        assert_eq!((first.error_code, first.complete), (0, false));
        assert!(s.expects_raw_token());
        let server_first = String::from_utf8(first.token).unwrap();
        assert!(server_first.starts_with("r=clientnonce"));
        let (client_final, server_final) = scram_client(bare, &server_first, password);
        let last = s.authenticate(client_final.as_bytes(), &u);
        assert!(last.complete);
        assert!(!s.expects_raw_token());
        if ok {
            assert_eq!(last.error_code, 0);
            assert_eq!(String::from_utf8(last.token).unwrap(), server_final);
            assert_eq!(s.principal(), Some("User:bob"));
            assert_eq!(s.gate(METADATA), Gate::Serve);
        } else {
            assert_eq!(last.error_code, SASL_AUTHENTICATION_FAILED);
            assert!(last
                .error_message
                .unwrap()
                .contains("invalid credentials with SASL mechanism SCRAM-SHA-512"));
            assert_eq!(s.gate(METADATA), Gate::Close);
        }
    }
}

/// KIP-368: a session lasts `connections.max.reauth.ms`; before it ends the client
/// re-authenticates with the same mechanism as the same principal; once it has ended,
/// anything but the SaslHandshake that renews it closes the connection.
#[test]
fn sessions_expire_and_are_renewed_by_reauthentication() {
    let mut u = users();
    u.plain.insert("mallory".into(), "m".into());
    let mut s = session().with_reauth(1000);
    assert!(!s.reauthenticates());
    assert_eq!(s.handshake("PLAIN", 1).error_code, 0);
    let a = s.authenticate_at(b"\0alice\0alice-secret", &u, 10_000);
    assert_eq!((a.error_code, a.session_lifetime_ms), (0, 1000));
    let rows = [
        (METADATA, 10_500, Gate::Serve),
        (METADATA, 10_999, Gate::Serve),
        (METADATA, 11_000, Gate::Close),
        (PRODUCE, 20_000, Gate::Close),
        (SASL_HANDSHAKE, 11_000, Gate::Serve),
    ];
    for (key, now, want) in rows {
        assert_eq!(s.gate_at(key, now), want, "api {key} at {now}");
    }
    // Renewed before it ends: a new session from the new exchange.
    assert!(s.reauthenticates());
    assert_eq!(s.handshake("PLAIN", 1).error_code, 0);
    assert_eq!(s.gate_at(METADATA, 10_900), Gate::Close, "mid-exchange");
    let a = s.authenticate_at(b"\0alice\0alice-secret", &u, 10_900);
    assert_eq!((a.error_code, a.session_lifetime_ms), (0, 1000));
    assert_eq!(s.gate_at(METADATA, 11_800), Gate::Serve);
    assert_eq!(s.principal(), Some("User:alice"));

    // Another principal on re-authentication: refused.
    assert_eq!(s.handshake("PLAIN", 1).error_code, 0);
    let a = s.authenticate_at(b"\0mallory\0m", &u, 11_000);
    assert_eq!(a.error_code, SASL_AUTHENTICATION_FAILED);
    assert!(a
        .error_message
        .unwrap()
        .contains("Cannot change principals"));

    // Another mechanism on re-authentication: an illegal state.
    let mut s = session().with_reauth(1000);
    assert_eq!(s.handshake("PLAIN", 1).error_code, 0);
    assert_eq!(
        s.authenticate_at(b"\0alice\0alice-secret", &u, 0)
            .error_code,
        0
    );
    assert_eq!(
        s.handshake("SCRAM-SHA-512", 1).error_code,
        ILLEGAL_SASL_STATE
    );

    // Without re-authentication sessions never end, and a second handshake is illegal.
    let mut s = session();
    assert_eq!(s.handshake("PLAIN", 1).error_code, 0);
    let a = s.authenticate_at(b"\0alice\0alice-secret", &u, 0);
    assert_eq!((a.error_code, a.session_lifetime_ms), (0, 0));
    assert_eq!(s.gate_at(METADATA, i64::MAX), Gate::Serve);
    assert_eq!(s.handshake("PLAIN", 1).error_code, ILLEGAL_SASL_STATE);
}
