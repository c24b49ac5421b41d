//! What one connection knows about its client: the listener it came in on, its address, and
//! its principal, which SASL sets once authentication completes (`User:ANONYMOUS` on
//! listeners without SASL, as Kafka names it).
//!
//! Invariant: on a SASL listener no request other than ApiVersions, SaslHandshake and
//! SaslAuthenticate is served before [`Session::sasl`] is authenticated (see
//! [`crate::security::sasl::SaslSession::gate`]), so `principal` is never ANONYMOUS there.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::broker::Broker;
use crate::config::Listener;
use crate::security::sasl::{SaslSession, UserStore};
use crate::security::scram::{ScramCredential, ScramMechanism};

/// The principal of a connection that did not authenticate.
pub const ANONYMOUS: &str = "User:ANONYMOUS";

pub struct Session {
    pub listener: Arc<str>,
    pub client_host: Arc<str>,
    pub principal: Arc<str>,
    /// The authentication in progress or done, on a SASL listener.
    pub sasl: Option<SaslSession>,
    /// Set when the response being written must be the connection's last (a failed
    /// authentication is answered, then the connection is closed).
    pub close_after_response: bool,
}

impl Session {
    /// A new connection from `peer` on `listener`.
    pub fn new(broker: &Broker, listener: &Listener, peer: SocketAddr) -> Session {
        Session {
            listener: Arc::from(listener.name.as_str()),
            client_host: Arc::from(format!("/{}", peer.ip())),
            principal: Arc::from(ANONYMOUS),
            sasl: listener.protocol.sasl().then(|| {
                SaslSession::new(broker.config.security.sasl_enabled_mechanisms.clone())
                    .with_reauth(broker.config.security.connections_max_reauth_ms)
            }),
            close_after_response: false,
        }
    }

    /// A connection on a PLAINTEXT listener named PLAINTEXT (in-process callers and fuzzing).
    pub fn plaintext(client_host: Arc<str>) -> Session {
        Session {
            listener: Arc::from("PLAINTEXT"),
            client_host,
            principal: Arc::from(ANONYMOUS),
            sasl: None,
            close_after_response: false,
        }
    }

    /// Whether requests wait for authentication (a SASL listener, not yet authenticated, or
    /// re-authenticating).
    pub fn authenticating(&self) -> bool {
        self.sasl.as_ref().is_some_and(|s| s.principal().is_none())
    }

    /// Whether a SaslHandshake now goes to the session (it starts a re-authentication).
    pub fn reauthenticates(&self) -> bool {
        self.sasl.as_ref().is_some_and(|s| s.reauthenticates())
    }

    /// On a TLS listener without SASL, the client certificate's principal (`User:<subject>`)
    /// if it sent one; ANONYMOUS otherwise. SASL's principal, on SASL_SSL, replaces it.
    pub fn set_certificate_principal(&mut self, principal: Option<String>) {
        if self.sasl.is_none() {
            if let Some(p) = principal {
                self.principal = Arc::from(p);
            }
        }
    }

    /// Takes the principal SASL authenticated, if it did.
    pub fn update_principal(&mut self) {
        if let Some(p) = self.sasl.as_ref().and_then(|s| s.principal()) {
            if *self.principal != *p {
                self.principal = Arc::from(p);
            }
        }
    }
}

/// The users a connection on `listener` may authenticate as: PLAIN passwords from the
/// listener's JAAS settings, SCRAM credentials from the cluster metadata.
pub struct Users<'a> {
    pub broker: &'a Broker,
    pub listener: &'a str,
}

impl UserStore for Users<'_> {
    fn plain_password(&self, user: &str) -> Option<String> {
        self.broker
            .config
            .security
            .plain_users_of(self.listener)?
            .get(user)
            .cloned()
    }

    fn scram(&self, user: &str, mechanism: ScramMechanism) -> Option<ScramCredential> {
        self.broker.cluster.scram_credential(user, mechanism)
    }
}
