//! SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677), the server's side, as Kafka's
//! `ScramSaslServer` runs it: two round trips, no channel binding, Kafka's extensions
//! (`tokenauth=true`) read after the nonce.
//!
//! Credentials are stored salted, never as passwords: for a password P, a random salt S and
//! i iterations, `SaltedPassword = PBKDF2-HMAC-H(P, S, i)`, `StoredKey = H(HMAC(SaltedPassword,
//! "Client Key"))`, `ServerKey = HMAC(SaltedPassword, "Server Key")`. The server keeps
//! (S, i, StoredKey, ServerKey): enough to check a client's proof and sign its answer, not
//! enough to log in as the user.
//!
//! Messages (RFC 5802 section 7), as bytes on the wire inside SaslAuthenticate:
//! - client-first: `n,[a=authzid],n=user,r=cnonce[,ext=value...]` (`y,` accepted too: the
//!   client could bind but thinks the server cannot; `p=` refused: no channel binding here);
//! - server-first: `r=cnonce+snonce,s=base64(salt),i=iterations`;
//! - client-final: `c=base64(gs2-header),r=cnonce+snonce[,ext...],p=base64(ClientProof)`;
//! - server-final: `v=base64(ServerSignature)`.
//!
//! `ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage)`, where AuthMessage is
//! `client-first-bare + "," + server-first + "," + client-final-without-proof`; the server
//! recovers ClientKey, checks `H(ClientKey) == StoredKey` in constant time, and answers with
//! `ServerSignature = HMAC(ServerKey, AuthMessage)`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

/// The two SCRAM mechanisms Kafka serves.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum ScramMechanism {
    Sha256,
    Sha512,
}

/// Kafka's bounds on a credential's iterations (`ScramMechanism.minIterations` and
/// `ScramFormatter`'s maximum).
pub const MIN_ITERATIONS: u32 = 4096;
pub const MAX_ITERATIONS: u32 = 16384;

impl ScramMechanism {
    pub const ALL: [ScramMechanism; 2] = [ScramMechanism::Sha256, ScramMechanism::Sha512];

    /// The SASL name (`SCRAM-SHA-256`).
    pub fn name(self) -> &'static str {
        match self {
            ScramMechanism::Sha256 => "SCRAM-SHA-256",
            ScramMechanism::Sha512 => "SCRAM-SHA-512",
        }
    }

    pub fn from_name(name: &str) -> Option<ScramMechanism> {
        ScramMechanism::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The mechanism's number in DescribeUserScramCredentials / AlterUserScramCredentials.
    pub fn code(self) -> i8 {
        match self {
            ScramMechanism::Sha256 => 1,
            ScramMechanism::Sha512 => 2,
        }
    }

    pub fn from_code(code: i8) -> Option<ScramMechanism> {
        ScramMechanism::ALL.into_iter().find(|m| m.code() == code)
    }

    pub(crate) fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        match self {
            ScramMechanism::Sha256 => {
                let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
            ScramMechanism::Sha512 => {
                let mut m = <Hmac<Sha512> as Mac>::new_from_slice(key).expect("any key length");
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
        }
    }

    pub(crate) fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            ScramMechanism::Sha256 => Sha256::digest(data).to_vec(),
            ScramMechanism::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    /// `Hi(password, salt, i)`: PBKDF2 with this mechanism's HMAC.
    pub fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        match self {
            ScramMechanism::Sha256 => {
                let mut out = [0u8; 32];
                pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out);
                out.to_vec()
            }
            ScramMechanism::Sha512 => {
                let mut out = [0u8; 64];
                pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, iterations, &mut out);
                out.to_vec()
            }
        }
    }
}

/// What the server stores for one user and mechanism (in the cluster metadata: the salt
/// and keys, never the password).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScramCredential {
    pub mechanism: ScramMechanism,
    pub salt: Vec<u8>,
    pub stored_key: Vec<u8>,
    pub server_key: Vec<u8>,
    pub iterations: u32,
}

impl ScramCredential {
    /// The credential for `password` with `salt`.
    pub fn from_password(
        mechanism: ScramMechanism,
        password: &[u8],
        salt: Vec<u8>,
        iterations: u32,
    ) -> ScramCredential {
        let salted = mechanism.salted_password(password, &salt, iterations);
        ScramCredential::from_salted_password(mechanism, salt, &salted, iterations)
    }

    /// The credential from an already salted password (what AlterUserScramCredentials and
    /// `kafka-storage.sh --add-scram ... saltedpassword=` carry).
    pub fn from_salted_password(
        mechanism: ScramMechanism,
        salt: Vec<u8>,
        salted_password: &[u8],
        iterations: u32,
    ) -> ScramCredential {
        let client_key = mechanism.hmac(salted_password, b"Client Key");
        ScramCredential {
            mechanism,
            salt,
            stored_key: mechanism.hash(&client_key),
            server_key: mechanism.hmac(salted_password, b"Server Key"),
            iterations,
        }
    }
}

/// Why an exchange failed. `message` is what Kafka says in SaslAuthenticate's error
/// message; every failure is SASL_AUTHENTICATION_FAILED on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScramError {
    pub message: String,
}

fn fail(message: impl Into<String>) -> ScramError {
    ScramError {
        message: message.into(),
    }
}

/// The client-first message, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFirst {
    /// `n,,` or `y,,` or with an authzid: the header the client-final's `c=` must repeat.
    pub gs2_header: String,
    pub authzid: Option<String>,
    pub user: String,
    pub nonce: String,
    /// Kafka's extensions after the nonce (`tokenauth=true`).
    pub extensions: Vec<(String, String)>,
    /// Everything after the gs2 header (part of the AuthMessage).
    pub bare: String,
}

/// A `saslname`: `=2C` is `,` and `=3D` is `=`; any other `=` is an error.
fn decode_saslname(s: &str) -> Result<String, ScramError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('=') {
        out.push_str(&rest[..i]);
        match rest.get(i..i + 3) {
            Some("=2C") => out.push(','),
            Some("=3D") => out.push('='),
            _ => return Err(fail("Invalid username encoding")),
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `key=value` attributes separated by commas, each key one letter or an extension name.
fn attributes(s: &str) -> Result<Vec<(&str, &str)>, ScramError> {
    s.split(',')
        .map(|a| {
            a.split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| fail(format!("Invalid SCRAM attribute '{a}'")))
        })
        .collect()
}

/// Parses a client-first message.
pub fn parse_client_first(msg: &[u8]) -> Result<ClientFirst, ScramError> {
    let msg = std::str::from_utf8(msg).map_err(|_| fail("Invalid SCRAM client first message"))?;
    let invalid = || fail("Invalid SCRAM client first message");
    let (flag, rest) = msg.split_once(',').ok_or_else(invalid)?;
    match flag {
        "n" | "y" => {}
        f if f.starts_with("p=") => return Err(fail("Channel binding is not supported")),
        _ => return Err(invalid()),
    }
    let (authz, bare) = rest.split_once(',').ok_or_else(invalid)?;
    let authzid = match authz {
        "" => None,
        a => Some(decode_saslname(a.strip_prefix("a=").ok_or_else(invalid)?)?),
    };
    let attrs = attributes(bare)?;
    let mut it = attrs.into_iter();
    let user = match it.next() {
        Some(("n", u)) if !u.is_empty() => decode_saslname(u)?,
        Some(("m", _)) => return Err(fail("Mandatory extensions are not supported")),
        _ => return Err(invalid()),
    };
    let nonce = match it.next() {
        Some(("r", n)) if !n.is_empty() && n.bytes().all(|b| (0x21..=0x7e).contains(&b)) => {
            n.to_string()
        }
        _ => return Err(invalid()),
    };
    let extensions = it.map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Ok(ClientFirst {
        gs2_header: format!("{flag},{authz},"),
        authzid,
        user,
        nonce,
        extensions,
        bare: bare.to_string(),
    })
}

/// Where an exchange stands.
#[derive(Debug)]
enum State {
    First,
    Final(Box<Pending>),
    Done,
}

/// What the client-final message is checked against.
#[derive(Debug)]
struct Pending {
    first: ClientFirst,
    credential: ScramCredential,
    server_first: String,
    nonce: String,
}

/// One SCRAM exchange, server side.
#[derive(Debug)]
pub struct ScramServer {
    mechanism: ScramMechanism,
    server_nonce: String,
    state: State,
    /// The user the client-first message named, once a credential was found for it.
    user: Option<String>,
}

impl ScramServer {
    /// A new exchange; `server_nonce` is random and printable, without commas.
    pub fn new(mechanism: ScramMechanism, server_nonce: String) -> ScramServer {
        ScramServer {
            mechanism,
            server_nonce,
            state: State::First,
            user: None,
        }
    }

    pub fn mechanism(&self) -> ScramMechanism {
        self.mechanism
    }

    /// The user being authenticated (after a client-first message naming a known user).
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The client-first message: the server-first answer, with the user's credential found
    /// by `lookup`. A user without a credential for this mechanism fails here, as in Kafka.
    pub fn client_first(
        &mut self,
        msg: &[u8],
        lookup: impl FnOnce(&str) -> Option<ScramCredential>,
    ) -> Result<(Vec<u8>, ClientFirst), ScramError> {
        if !matches!(self.state, State::First) {
            return Err(fail("Unexpected SCRAM client first message"));
        }
        self.state = State::Done;
        let first = parse_client_first(msg)?;
        if first.authzid.as_ref().is_some_and(|a| *a != first.user) {
            return Err(fail(
                "Authentication failed: Client requested an authorization id that is different from username",
            ));
        }
        let credential = lookup(&first.user)
            .filter(|c| c.mechanism == self.mechanism)
            .ok_or_else(|| fail("Authentication failed: Invalid user credentials"))?;
        let nonce = format!("{}{}", first.nonce, self.server_nonce);
        let server_first = format!(
            "r={nonce},s={},i={}",
            B64.encode(&credential.salt),
            credential.iterations
        );
        let answer = server_first.clone().into_bytes();
        self.user = Some(first.user.clone());
        self.state = State::Final(Box::new(Pending {
            first: first.clone(),
            credential,
            server_first,
            nonce,
        }));
        Ok((answer, first))
    }

    /// The client-final message: checks the proof; the server-final answer on success.
    pub fn client_final(&mut self, msg: &[u8]) -> Result<Vec<u8>, ScramError> {
        let State::Final(pending) = std::mem::replace(&mut self.state, State::Done) else {
            return Err(fail("Unexpected SCRAM client final message"));
        };
        let Pending {
            first,
            credential,
            server_first,
            nonce,
        } = *pending;
        let invalid = || fail("Invalid SCRAM client final message");
        let msg = std::str::from_utf8(msg).map_err(|_| invalid())?;
        let (without_proof, proof) = msg.rsplit_once(",p=").ok_or_else(invalid)?;
        let attrs = attributes(without_proof)?;
        let mut it = attrs.into_iter();
        let binding = match it.next() {
            Some(("c", c)) => B64.decode(c).map_err(|_| invalid())?,
            _ => return Err(invalid()),
        };
        if binding != first.gs2_header.as_bytes() {
            return Err(fail(
                "Invalid channel binding in SCRAM client final message",
            ));
        }
        match it.next() {
            Some(("r", r)) if r == nonce => {}
            _ => return Err(fail("Invalid client nonce in the final client message.")),
        }
        let proof = B64.decode(proof).map_err(|_| invalid())?;
        let m = self.mechanism;
        let auth_message = format!("{},{server_first},{without_proof}", first.bare);
        let signature = m.hmac(&credential.stored_key, auth_message.as_bytes());
        if proof.len() != signature.len() {
            return Err(fail("Invalid client credentials"));
        }
        let client_key: Vec<u8> = proof.iter().zip(&signature).map(|(a, b)| a ^ b).collect();
        if !bool::from(m.hash(&client_key).ct_eq(&credential.stored_key)) {
            return Err(fail("Invalid client credentials"));
        }
        let server_signature = m.hmac(&credential.server_key, auth_message.as_bytes());
        Ok(format!("v={}", B64.encode(server_signature)).into_bytes())
    }
}

/// Random bytes from the operating system's generator.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut out = vec![0; n];
    getrandom::fill(&mut out).expect("the operating system's random generator");
    out
}

/// A printable server nonce (base64 of 24 random bytes: no commas).
pub fn server_nonce() -> String {
    B64.encode(random_bytes(24))
}

#[cfg(test)]
#[path = "scram_tests.rs"]
mod tests;
