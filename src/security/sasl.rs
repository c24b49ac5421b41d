//! One connection's SASL authentication, as Kafka's `SaslServerAuthenticator` runs it, as a
//! pure state machine that the connection drives:
//!
//! ```text
//!   Start --ApiVersions--> Start
//!   Start --SaslHandshake(m)--> Handshaken(m)            (v0: raw tokens follow, v1: SaslAuthenticate)
//!   Handshaken(PLAIN) --token--> Authenticated(User:name) | Failed
//!   Handshaken(SCRAM) --client-first--> Scram --client-final--> Authenticated | Failed
//!   Failed: the error is answered, then the connection is closed
//! ```
//!
//! Any other request before authentication completes is an illegal state: Kafka closes the
//! connection without an answer, and so does weir ([`Gate::Close`]). Error codes are Kafka's:
//! UNSUPPORTED_SASL_MECHANISM (33), ILLEGAL_SASL_STATE (34), SASL_AUTHENTICATION_FAILED (58).

use super::plain::{parse_plain, password_matches};
use super::scram::{server_nonce, ScramCredential, ScramMechanism, ScramServer};

pub const UNSUPPORTED_SASL_MECHANISM: i16 = 33;
pub const ILLEGAL_SASL_STATE: i16 = 34;
pub const SASL_AUTHENTICATION_FAILED: i16 = 58;

/// Kafka's API keys that are served before authentication.
pub const API_VERSIONS: i16 = 18;
pub const SASL_HANDSHAKE: i16 = 17;
pub const SASL_AUTHENTICATE: i16 = 36;

/// Where credentials come from: PLAIN passwords (JAAS `user_<name>`) and SCRAM credentials.
pub trait UserStore {
    fn plain_password(&self, user: &str) -> Option<String>;
    fn scram(&self, user: &str, mechanism: ScramMechanism) -> Option<ScramCredential>;
}

/// A SASL mechanism weir serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mechanism {
    Plain,
    Scram(ScramMechanism),
}

impl Mechanism {
    pub fn from_name(name: &str) -> Option<Mechanism> {
        if name == "PLAIN" {
            Some(Mechanism::Plain)
        } else {
            ScramMechanism::from_name(name).map(Mechanism::Scram)
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Scram(m) => m.name(),
        }
    }
}

#[derive(Debug)]
enum State {
    Start,
    Handshaken { mechanism: Mechanism, raw: bool },
    Scram { server: Box<ScramServer>, raw: bool },
    Authenticated { principal: String },
    Failed,
}

/// What to do with a request that arrived in the current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Serve it.
    Serve,
    /// Close the connection without an answer.
    Close,
}

/// The answer to SaslHandshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeAnswer {
    pub error_code: i16,
    /// The enabled mechanisms (always listed, as Kafka does).
    pub mechanisms: Vec<String>,
}

/// The answer to one authentication token (SaslAuthenticate or a v0 raw token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenAnswer {
    pub error_code: i16,
    pub error_message: Option<String>,
    /// The server's token (empty for PLAIN and on failure).
    pub token: Vec<u8>,
    /// Authentication completed with this exchange (successfully or not).
    pub complete: bool,
}

impl TokenAnswer {
    fn ok(token: Vec<u8>, complete: bool) -> TokenAnswer {
        TokenAnswer {
            error_code: 0,
            error_message: None,
            token,
            complete,
        }
    }

    fn illegal(message: &str) -> TokenAnswer {
        TokenAnswer {
            error_code: ILLEGAL_SASL_STATE,
            error_message: Some(message.to_string()),
            token: Vec::new(),
            complete: true,
        }
    }

    fn failed(message: String) -> TokenAnswer {
        TokenAnswer {
            error_code: SASL_AUTHENTICATION_FAILED,
            error_message: Some(message),
            token: Vec::new(),
            complete: true,
        }
    }
}

/// One connection's authentication.
#[derive(Debug)]
pub struct SaslSession {
    enabled: Vec<Mechanism>,
    state: State,
}

impl SaslSession {
    /// A session on a SASL listener with `enabled` mechanisms (`sasl.enabled.mechanisms`).
    pub fn new(enabled: Vec<Mechanism>) -> SaslSession {
        SaslSession {
            enabled,
            state: State::Start,
        }
    }

    /// The authenticated principal (`User:name`).
    pub fn principal(&self) -> Option<&str> {
        match &self.state {
            State::Authenticated { principal } => Some(principal),
            _ => None,
        }
    }

    /// After a SaslHandshake v0 the client sends raw tokens (a size and the bytes, no
    /// request header) until authentication completes.
    pub fn expects_raw_token(&self) -> bool {
        matches!(
            self.state,
            State::Handshaken { raw: true, .. } | State::Scram { raw: true, .. }
        )
    }

    /// Whether a request with `api_key` may be served now.
    pub fn gate(&self, api_key: i16) -> Gate {
        match (&self.state, api_key) {
            // A second SaslHandshake or SaslAuthenticate goes on to the request handler,
            // which answers ILLEGAL_SASL_STATE, as Kafka's does.
            (State::Authenticated { .. }, _) => Gate::Serve,
            (State::Start, API_VERSIONS | SASL_HANDSHAKE) => Gate::Serve,
            (
                State::Handshaken { raw: false, .. } | State::Scram { raw: false, .. },
                SASL_AUTHENTICATE,
            ) => Gate::Serve,
            _ => Gate::Close,
        }
    }

    /// SaslHandshake for `mechanism` at `version`.
    pub fn handshake(&mut self, mechanism: &str, version: i16) -> HandshakeAnswer {
        let mechanisms = self.enabled.iter().map(|m| m.name().to_string()).collect();
        if !matches!(self.state, State::Start) {
            self.state = State::Failed;
            return HandshakeAnswer {
                error_code: ILLEGAL_SASL_STATE,
                mechanisms,
            };
        }
        match Mechanism::from_name(mechanism).filter(|m| self.enabled.contains(m)) {
            Some(m) => {
                self.state = State::Handshaken {
                    mechanism: m,
                    raw: version == 0,
                };
                HandshakeAnswer {
                    error_code: 0,
                    mechanisms,
                }
            }
            None => {
                self.state = State::Failed;
                HandshakeAnswer {
                    error_code: UNSUPPORTED_SASL_MECHANISM,
                    mechanisms,
                }
            }
        }
    }

    /// One authentication token from the client.
    pub fn authenticate(&mut self, token: &[u8], users: &dyn UserStore) -> TokenAnswer {
        match std::mem::replace(&mut self.state, State::Failed) {
            State::Handshaken {
                mechanism: Mechanism::Plain,
                ..
            } => {
                let invalid = "Authentication failed: Invalid username or password";
                match parse_plain(token) {
                    Ok(t) => match users.plain_password(&t.user) {
                        Some(expected) if password_matches(&expected, &t.password) => {
                            self.state = State::Authenticated {
                                principal: format!("User:{}", t.user),
                            };
                            TokenAnswer::ok(Vec::new(), true)
                        }
                        _ => TokenAnswer::failed(invalid.to_string()),
                    },
                    Err(e) => TokenAnswer::failed(e),
                }
            }
            State::Handshaken {
                mechanism: Mechanism::Scram(m),
                raw,
            } => {
                let mut server = ScramServer::new(m, server_nonce());
                match server.client_first(token, |user| users.scram(user, m)) {
                    Ok((answer, _)) => {
                        self.state = State::Scram {
                            server: Box::new(server),
                            raw,
                        };
                        TokenAnswer::ok(answer, false)
                    }
                    Err(e) => TokenAnswer::failed(scram_failure(m, &e.message)),
                }
            }
            State::Scram { mut server, .. } => match server.client_final(token) {
                Ok(answer) => {
                    // The user was named in the client-first message, checked since.
                    let principal = format!("User:{}", server.user().unwrap_or_default());
                    self.state = State::Authenticated { principal };
                    TokenAnswer::ok(answer, true)
                }
                Err(e) => TokenAnswer::failed(scram_failure(server.mechanism(), &e.message)),
            },
            State::Authenticated { principal } => {
                // Re-authentication is not offered: a second exchange is an illegal state.
                self.state = State::Authenticated { principal };
                TokenAnswer::illegal("Unexpected SASL token: already authenticated")
            }
            State::Start | State::Failed => {
                TokenAnswer::illegal("Unexpected SaslAuthenticate request: no SaslHandshake")
            }
        }
    }
}

/// Kafka's message for a failed SCRAM exchange: invalid credentials say so generically (no
/// hint whether the user exists), malformed messages say what was wrong.
fn scram_failure(m: ScramMechanism, detail: &str) -> String {
    if detail.contains("credentials") {
        format!(
            "Authentication failed during authentication due to invalid credentials with SASL mechanism {}",
            m.name()
        )
    } else {
        format!("Authentication failed: {detail}")
    }
}

#[cfg(test)]
#[path = "sasl_tests.rs"]
mod tests;
