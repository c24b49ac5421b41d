//! SCRAM's client side (RFC 5802), what a broker runs to authenticate to another broker's
//! SASL listener: client-first `n,,n=<saslname>,r=<nonce>`; from the server-first message
//! (`r=<nonce+server nonce>,s=<salt>,i=<iterations>`, the nonce must extend ours and the
//! iterations lie in [4096, 16384]) the client-final `c=biws,r=...,p=<proof>`; and the
//! server-final `v=<signature>` checked in constant time, so a server that does not know the
//! credential is not believed.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use subtle::ConstantTimeEq;

use super::scram::{ScramMechanism, MAX_ITERATIONS, MIN_ITERATIONS};

/// One exchange, from the client's side.
pub struct ScramClient {
    mechanism: ScramMechanism,
    password: String,
    nonce: String,
    first_bare: String,
    /// The server signature expected in server-final, once client-final is made.
    expected: Option<Vec<u8>>,
}

impl ScramClient {
    /// Starts an exchange for `user` with a client nonce of its own.
    pub fn new(mechanism: ScramMechanism, user: &str, password: &str, nonce: String) -> Self {
        let name = user.replace('=', "=3D").replace(',', "=2C");
        ScramClient {
            mechanism,
            password: password.to_string(),
            first_bare: format!("n={name},r={nonce}"),
            nonce,
            expected: None,
        }
    }

    /// The client-first message.
    pub fn client_first(&self) -> Vec<u8> {
        format!("n,,{}", self.first_bare).into_bytes()
    }

    /// The client-final message for the server-first one.
    pub fn client_final(&mut self, server_first: &[u8]) -> Result<Vec<u8>, String> {
        let text = std::str::from_utf8(server_first).map_err(|_| "server-first is not UTF-8")?;
        let mut nonce = None;
        let mut salt = None;
        let mut iterations = None;
        for attr in text.split(',') {
            match attr.split_once('=') {
                Some(("r", v)) => nonce = Some(v),
                Some(("s", v)) => salt = Some(B64.decode(v).map_err(|_| "bad salt")?),
                Some(("i", v)) => iterations = v.parse::<u32>().ok(),
                Some(("e", v)) => return Err(format!("the server refused: {v}")),
                _ => {}
            }
        }
        let (Some(nonce), Some(salt), Some(iterations)) = (nonce, salt, iterations) else {
            return Err(format!("server-first without r, s or i: {text}"));
        };
        if !nonce.starts_with(&self.nonce) || nonce.len() == self.nonce.len() {
            return Err("the server's nonce does not extend ours".into());
        }
        if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&iterations) {
            return Err(format!("{iterations} iterations refused"));
        }
        let m = self.mechanism;
        let salted = m.salted_password(self.password.as_bytes(), &salt, iterations);
        let client_key = m.hmac(&salted, b"Client Key");
        let stored_key = m.hash(&client_key);
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{text},{without_proof}", self.first_bare);
        let signature = m.hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&signature)
            .map(|(a, b)| a ^ b)
            .collect();
        let server_key = m.hmac(&salted, b"Server Key");
        self.expected = Some(m.hmac(&server_key, auth_message.as_bytes()));
        Ok(format!("{without_proof},p={}", B64.encode(proof)).into_bytes())
    }

    /// Checks the server-final message.
    pub fn server_final(&self, msg: &[u8]) -> Result<(), String> {
        let expected = self
            .expected
            .as_ref()
            .ok_or("server-final before client-final")?;
        let text = std::str::from_utf8(msg).map_err(|_| "server-final is not UTF-8")?;
        if let Some(e) = text.strip_prefix("e=") {
            return Err(format!("the server refused: {e}"));
        }
        let v = text
            .strip_prefix("v=")
            .and_then(|v| B64.decode(v).ok())
            .ok_or_else(|| format!("bad server-final: {text}"))?;
        if bool::from(v.ct_eq(expected)) {
            Ok(())
        } else {
            Err("the server's signature is wrong: it does not know the credential".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::scram::{ScramCredential, ScramServer};

    /// RFC 7677's SCRAM-SHA-256 example, from the client's side.
    #[test]
    fn rfc7677_example() {
        let mut c = ScramClient::new(
            ScramMechanism::Sha256,
            "user",
            "pencil",
            "rOprNGfwEbeRWgbNEkqO".into(),
        );
        assert_eq!(c.client_first(), b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let fin = c
            .client_final(
                b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            )
            .unwrap();
        assert_eq!(
            String::from_utf8(fin).unwrap(),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        c.server_final(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .unwrap();
        assert!(c
            .server_final(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G5=")
            .is_err());
    }

    /// The client against weir's own server, both mechanisms, right and wrong passwords.
    #[test]
    fn against_the_server() {
        for m in [ScramMechanism::Sha256, ScramMechanism::Sha512] {
            for (password, ok) in [("secret", true), ("secreT", false)] {
                let cred = ScramCredential::from_password(m, b"secret", b"salt".to_vec(), 4096);
                let mut s = ScramServer::new(m, "snonce".into());
                let mut c = ScramClient::new(m, "a,b=c", password, "cnonce".into());
                let (first, parsed) = s
                    .client_first(&c.client_first(), |_| Some(cred.clone()))
                    .unwrap();
                assert_eq!(parsed.user, "a,b=c");
                let fin = c.client_final(&first).unwrap();
                match s.client_final(&fin) {
                    Ok(v) => {
                        assert!(ok);
                        c.server_final(&v).unwrap();
                    }
                    Err(_) => assert!(!ok),
                }
            }
        }
        let mut c = ScramClient::new(ScramMechanism::Sha256, "u", "p", "abc".into());
        assert!(
            c.client_final(b"r=xyz,s=c2FsdA==,i=4096").is_err(),
            "nonce not ours"
        );
        assert!(
            c.client_final(b"r=abcd,s=c2FsdA==,i=10").is_err(),
            "too few iterations"
        );
        assert!(c.client_final(b"e=unknown-user").is_err());
    }
}
