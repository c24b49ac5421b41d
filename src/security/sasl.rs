//! One connection's SASL authentication, as Kafka's `SaslServerAuthenticator` runs it, as a
//! pure state machine that the connection drives:
//!
//! ```text
//!   Start --ApiVersions--> Start
//!   Start --SaslHandshake(m)--> Handshaken(m)            (v0: raw tokens follow, v1: SaslAuthenticate)
//!   Handshaken(PLAIN) --token--> Authenticated(User:name) | Failed
//!   Handshaken(SCRAM) --client-first--> Scram --client-final--> Authenticated | Failed
//!   Failed: the error is answered, then the connection is closed
//!   Authenticated --SaslHandshake(same m)--> Handshaken(m) ...  (re-authentication, KIP-368)
//! ```
//!
//! Re-authentication (`connections.max.reauth.ms` > 0): a successful SaslAuthenticate tells
//! the client its session's lifetime; before it ends the client authenticates again on the
//! same connection with the same mechanism, and must come out as the same principal (else the
//! exchange fails and the connection closes). Once the session has expired, any request but a
//! SaslHandshake closes the connection, as Kafka's broker does (clients that cannot
//! re-authenticate, v0, are thus disconnected and reconnect).
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
    /// On success with re-authentication on: how long the session lasts (ms); else 0.
    pub session_lifetime_ms: i64,
}

impl TokenAnswer {
    fn ok(token: Vec<u8>, complete: bool) -> TokenAnswer {
        TokenAnswer {
            error_code: 0,
            error_message: None,
            token,
            complete,
            session_lifetime_ms: 0,
        }
    }

    fn illegal(message: &str) -> TokenAnswer {
        TokenAnswer {
            error_code: ILLEGAL_SASL_STATE,
            error_message: Some(message.to_string()),
            token: Vec::new(),
            complete: true,
            session_lifetime_ms: 0,
        }
    }

    fn failed(message: String) -> TokenAnswer {
        TokenAnswer {
            error_code: SASL_AUTHENTICATION_FAILED,
            error_message: Some(message),
            token: Vec::new(),
            complete: true,
            session_lifetime_ms: 0,
        }
    }
}

/// What the first authentication established: a re-authentication keeps both.
#[derive(Debug, Clone)]
struct Established {
    mechanism: Mechanism,
    principal: String,
    /// When the session ends (re-authentication on), ms since the epoch.
    expires_at_ms: Option<i64>,
}

/// One connection's authentication.
#[derive(Debug)]
pub struct SaslSession {
    enabled: Vec<Mechanism>,
    state: State,
    /// `connections.max.reauth.ms` (0: sessions never expire, no re-authentication).
    reauth_ms: i64,
    established: Option<Established>,
    /// The mechanism of the exchange in progress.
    mechanism: Option<Mechanism>,
}

impl SaslSession {
    /// A session on a SASL listener with `enabled` mechanisms (`sasl.enabled.mechanisms`).
    pub fn new(enabled: Vec<Mechanism>) -> SaslSession {
        SaslSession {
            enabled,
            state: State::Start,
            reauth_ms: 0,
            established: None,
            mechanism: None,
        }
    }

    /// With sessions that last `ms` and are renewed by re-authenticating (0: off).
    pub fn with_reauth(mut self, ms: i64) -> SaslSession {
        self.reauth_ms = ms.max(0);
        self
    }

    /// Whether a SaslHandshake now starts a re-authentication.
    pub fn reauthenticates(&self) -> bool {
        self.reauth_ms > 0 && matches!(self.state, State::Authenticated { .. })
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
        self.gate_at(api_key, 0)
    }

    /// [`Self::gate`] at `now_ms`: also closes an expired session on anything but the
    /// SaslHandshake that renews it.
    pub fn gate_at(&self, api_key: i16, now_ms: i64) -> Gate {
        let expired = self
            .established
            .as_ref()
            .and_then(|e| e.expires_at_ms)
            .is_some_and(|at| now_ms >= at);
        if expired && matches!(self.state, State::Authenticated { .. }) && api_key != SASL_HANDSHAKE
        {
            return Gate::Close;
        }
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
        let reauth = self.reauthenticates();
        if reauth
            && self
                .established
                .as_ref()
                .is_some_and(|e| e.mechanism.name() != mechanism)
        {
            // Kafka: the mechanism may not change on re-authentication.
            self.state = State::Failed;
            return HandshakeAnswer {
                error_code: ILLEGAL_SASL_STATE,
                mechanisms,
            };
        }
        if !matches!(self.state, State::Start) && !reauth {
            self.state = State::Failed;
            return HandshakeAnswer {
                error_code: ILLEGAL_SASL_STATE,
                mechanisms,
            };
        }
        match Mechanism::from_name(mechanism).filter(|m| self.enabled.contains(m)) {
            Some(m) => {
                self.mechanism = Some(m);
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
        self.authenticate_at(token, users, 0)
    }

    /// [`Self::authenticate`] at `now_ms`: a completed exchange starts (or renews) the
    /// session; a re-authentication must end as the same principal.
    pub fn authenticate_at(
        &mut self,
        token: &[u8],
        users: &dyn UserStore,
        now_ms: i64,
    ) -> TokenAnswer {
        let mut answer = self.exchange(token, users);
        if let State::Authenticated { principal } = &self.state {
            if answer.complete && answer.error_code == 0 {
                if let Some(e) = &self.established {
                    if e.principal != *principal {
                        let message = format!(
                            "Cannot change principals during re-authentication from {}: {}",
                            e.principal, principal
                        );
                        self.state = State::Failed;
                        return TokenAnswer::failed(message);
                    }
                }
                let expires_at_ms = (self.reauth_ms > 0).then(|| now_ms + self.reauth_ms);
                self.established = Some(Established {
                    mechanism: self.mechanism.unwrap_or(Mechanism::Plain),
                    principal: principal.clone(),
                    expires_at_ms,
                });
                answer.session_lifetime_ms = self.reauth_ms;
            }
        }
        answer
    }

    fn exchange(&mut self, token: &[u8], users: &dyn UserStore) -> TokenAnswer {
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
                // A token without a new SaslHandshake first is an illegal state.
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
