//! Authentication settings, by Kafka's names:
//!
//! - `sasl.enabled.mechanisms`: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (all three unless set;
//!   GSSAPI and OAUTHBEARER are refused, weir does not serve them).
//! - `listener.name.<listener>.plain.sasl.jaas.config` (Kafka's broker-side form), or
//!   `sasl.jaas.config` for every listener: PlainLoginModule's `user_<name>="<password>"`
//!   options are the PLAIN users.
//! - `sasl.scram.bootstrap` (weir's own name): the first SCRAM credentials, in
//!   `kafka-storage.sh format --add-scram` syntax; salted when read, written to the cluster
//!   metadata by the active controller for users that have no credential of that mechanism.
//! - `inter.broker.listener.name`: the listener other brokers fetch from.
//! - `authorizer.class.name`: empty (no authorizer: everything is allowed and the ACL APIs
//!   answer SECURITY_DISABLED) or one of [`AUTHORIZER_CLASSES`]: Kafka's own two class names,
//!   so `server.properties` files carry over, and weir's; anything else is refused at start.
//! - `super.users` (`User:a;User:b`) and `allow.everyone.if.no.acl.found` (false unless set),
//!   as Kafka's authorizers read them.
//! - the listener settings themselves, kept raw ([`ListenerSettings`]) and resolved in
//!   [`super::listeners`].

use std::collections::BTreeMap;

use super::listeners::{Listener, ListenerSettings};
use super::tls::TlsSettings;
use super::{invalid, ConfigError};
use crate::security::plain::{parse_jaas, parse_scram_bootstrap, BootstrapCredential};
use crate::security::sasl::Mechanism;
use crate::security::scram::ScramMechanism;

/// The `authorizer.class.name` values that turn ACL enforcement on.
pub const AUTHORIZER_CLASSES: [&str; 3] = [
    "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    "kafka.security.authorizer.AclAuthorizer",
    "weir.Authorizer",
];

#[derive(Debug, Clone)]
pub struct SecurityConfig {
    pub listener_settings: ListenerSettings,
    /// `inter.broker.listener.name` (upper-case).
    pub inter_broker_listener: Option<String>,
    pub sasl_enabled_mechanisms: Vec<Mechanism>,
    /// PLAIN users (name to password) by upper-case listener name; "" holds
    /// `sasl.jaas.config`'s, which serve every listener without its own.
    pub plain_users: BTreeMap<String, BTreeMap<String, String>>,
    /// `sasl.scram.bootstrap`, salted.
    pub scram_bootstrap: Vec<BootstrapCredential>,
    /// `ssl.*` and `listener.name.<l>.ssl.*`.
    pub tls: TlsSettings,
    /// `sasl.mechanism.inter.broker.protocol` (Kafka's default, GSSAPI, is not served: PLAIN
    /// unless set).
    pub inter_broker_mechanism: Mechanism,
    /// This broker's own login (the JAAS line's `username` and `password`), by upper-case
    /// listener ("" for `sasl.jaas.config`) and mechanism: what it sends when it connects
    /// to another broker's SASL listener.
    pub logins: BTreeMap<(String, Mechanism), (String, String)>,
    /// `connections.max.reauth.ms`: how long an authenticated SASL session lasts before the
    /// client must re-authenticate (KIP-368); 0 (the default): forever.
    pub connections_max_reauth_ms: i64,
    /// `authorizer.class.name`: whether ACLs are enforced.
    pub authorizer: bool,
    /// `super.users`: principals (`User:name`) every check allows.
    pub super_users: Vec<String>,
    /// `allow.everyone.if.no.acl.found`.
    pub allow_everyone_if_no_acl_found: bool,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            listener_settings: ListenerSettings::default(),
            inter_broker_listener: None,
            sasl_enabled_mechanisms: vec![
                Mechanism::Plain,
                Mechanism::Scram(ScramMechanism::Sha256),
                Mechanism::Scram(ScramMechanism::Sha512),
            ],
            plain_users: BTreeMap::new(),
            scram_bootstrap: Vec::new(),
            tls: TlsSettings::default(),
            inter_broker_mechanism: Mechanism::Plain,
            logins: BTreeMap::new(),
            connections_max_reauth_ms: 0,
            authorizer: false,
            super_users: Vec::new(),
            allow_everyone_if_no_acl_found: false,
        }
    }
}

impl SecurityConfig {
    /// Applies one setting; false when the name is not an authentication setting.
    pub fn set(&mut self, name: &str, value: &str) -> Result<bool, ConfigError> {
        if self.tls.set(name, value)? {
            return Ok(true);
        }
        match name {
            "inter.broker.listener.name" => {
                self.inter_broker_listener = Some(value.trim().to_ascii_uppercase())
            }
            "sasl.enabled.mechanisms" => {
                let mut v = Vec::new();
                for m in value.split(',').map(str::trim).filter(|m| !m.is_empty()) {
                    let mechanism = Mechanism::from_name(m).ok_or_else(|| {
                        invalid(
                            name,
                            value,
                            &format!("{m}: weir serves PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512"),
                        )
                    })?;
                    if !v.contains(&mechanism) {
                        v.push(mechanism);
                    }
                }
                self.sasl_enabled_mechanisms = v;
            }
            "sasl.jaas.config" => self.set_jaas("", None, name, value)?,
            "connections.max.reauth.ms" => {
                self.connections_max_reauth_ms = value
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|v| *v >= 0)
                    .ok_or_else(|| invalid(name, value, "a number of milliseconds, 0 or more"))?
            }
            "sasl.mechanism.inter.broker.protocol" => {
                self.inter_broker_mechanism =
                    Mechanism::from_name(value.trim()).ok_or_else(|| {
                        invalid(
                        name,
                        value,
                        "weir's brokers authenticate with PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
                    )
                    })?
            }
            "authorizer.class.name" => {
                let class = value.trim();
                if !class.is_empty() && !AUTHORIZER_CLASSES.contains(&class) {
                    return Err(invalid(
                        name,
                        value,
                        &format!(
                            "unknown authorizer; weir serves ACLs as {}",
                            AUTHORIZER_CLASSES.join(", ")
                        ),
                    ));
                }
                self.authorizer = !class.is_empty();
            }
            "super.users" => {
                let mut users = Vec::new();
                for u in value.split(';').map(str::trim).filter(|u| !u.is_empty()) {
                    match u.split_once(':') {
                        Some((kind, user)) if !kind.is_empty() && !user.is_empty() => {
                            users.push(u.to_string())
                        }
                        _ => {
                            return Err(invalid(
                                name,
                                value,
                                &format!("{u}: a principal is <type>:<name>, as User:admin"),
                            ))
                        }
                    }
                }
                self.super_users = users;
            }
            "allow.everyone.if.no.acl.found" => {
                self.allow_everyone_if_no_acl_found = super::parse_bool(name, value.trim())?
            }
            "sasl.scram.bootstrap" => {
                self.scram_bootstrap =
                    parse_scram_bootstrap(value).map_err(|e| invalid(name, "(hidden)", &e))?
            }
            _ => {
                // listener.name.<listener>.<mechanism>.sasl.jaas.config
                let Some(rest) = name.strip_prefix("listener.name.") else {
                    return Ok(false);
                };
                let Some(rest) = rest.strip_suffix(".sasl.jaas.config") else {
                    return Ok(false);
                };
                let Some((listener, mechanism)) = rest.split_once('.') else {
                    return Ok(false);
                };
                // PLAIN's line names the users and this broker's login; SCRAM's, the login
                // only (SCRAM users are in the cluster metadata).
                let Some(mechanism) = Mechanism::from_name(&mechanism.to_ascii_uppercase()) else {
                    return Ok(false);
                };
                self.set_jaas(&listener.to_ascii_uppercase(), Some(mechanism), name, value)?;
            }
        }
        Ok(true)
    }

    /// A JAAS line for `listener`, of `mechanism`'s (None: `sasl.jaas.config`, whose module
    /// tells: PlainLoginModule or ScramLoginModule).
    fn set_jaas(
        &mut self,
        listener: &str,
        mechanism: Option<Mechanism>,
        name: &str,
        value: &str,
    ) -> Result<(), ConfigError> {
        let jaas = parse_jaas(value).map_err(|e| invalid(name, "(hidden)", &e))?;
        let plain = match mechanism {
            Some(m) => m == Mechanism::Plain,
            None => jaas.module.ends_with("PlainLoginModule"),
        };
        if plain {
            self.plain_users
                .insert(listener.to_string(), jaas.plain_users());
        }
        if let (Some(user), Some(password)) =
            (jaas.options.get("username"), jaas.options.get("password"))
        {
            let mechanisms = match mechanism {
                Some(m) => vec![m],
                None if plain => vec![Mechanism::Plain],
                None => vec![
                    Mechanism::Scram(ScramMechanism::Sha256),
                    Mechanism::Scram(ScramMechanism::Sha512),
                ],
            };
            for m in mechanisms {
                self.logins
                    .insert((listener.to_string(), m), (user.clone(), password.clone()));
            }
        }
        Ok(())
    }

    /// This broker's login on `listener` with `mechanism`.
    pub fn login(&self, listener: &str, mechanism: Mechanism) -> Option<&(String, String)> {
        self.logins
            .get(&(listener.to_string(), mechanism))
            .or_else(|| self.logins.get(&(String::new(), mechanism)))
    }

    /// The PLAIN users of `listener`.
    pub fn plain_users_of(&self, listener: &str) -> Option<&BTreeMap<String, String>> {
        self.plain_users
            .get(listener)
            .or_else(|| self.plain_users.get(""))
    }

    /// What only the whole configuration can tell; `inter` is the inter-broker listener
    /// ([`super::Config::inter_broker_listener`]).
    pub fn check(
        &self,
        listeners: &[Listener],
        inter: &Listener,
        multi_node: bool,
    ) -> Result<(), ConfigError> {
        if let Some(n) = &self.inter_broker_listener {
            if !listeners.iter().any(|l| &l.name == n) {
                return Err(invalid(
                    "inter.broker.listener.name",
                    n,
                    "no listener has this name",
                ));
            }
        }
        if listeners.iter().any(|l| l.protocol.sasl()) && self.sasl_enabled_mechanisms.is_empty() {
            return Err(invalid(
                "sasl.enabled.mechanisms",
                "",
                "a SASL listener needs at least one mechanism",
            ));
        }
        for l in listeners.iter().filter(|l| l.protocol.tls()) {
            self.tls
                .for_listener(&l.name)
                .map_err(|e| invalid("listeners", &l.name, &e))?;
        }
        if multi_node && inter.protocol.sasl() {
            let m = self.inter_broker_mechanism;
            if !self.sasl_enabled_mechanisms.contains(&m) {
                return Err(invalid(
                    "sasl.mechanism.inter.broker.protocol",
                    m.name(),
                    "not in sasl.enabled.mechanisms",
                ));
            }
            if self.login(&inter.name, m).is_none() {
                return Err(invalid(
                    "inter.broker.listener.name",
                    &inter.name,
                    &format!(
                        "brokers authenticate to each other on this listener: give its {} JAAS \
                         line a username and password (listener.name.{}.{}.sasl.jaas.config)",
                        m.name(),
                        inter.name.to_ascii_lowercase(),
                        m.name().to_ascii_lowercase()
                    ),
                ));
            }
        }
        if multi_node && inter.protocol.tls() {
            let s = self
                .tls
                .for_listener(&inter.name)
                .map_err(|e| invalid("listeners", &inter.name, &e))?;
            if s.truststore.is_none() {
                return Err(invalid(
                    "inter.broker.listener.name",
                    &inter.name,
                    "brokers reach each other over TLS on this listener: give it a truststore \
                     (ssl.truststore.location) to check their certificates",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafkas_settings_apply() {
        let mut s = SecurityConfig::default();
        assert!(s
            .set(
                "listener.name.sasl_plaintext.plain.sasl.jaas.config",
                r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="a" user_admin="a" user_alice="alice-secret";"#,
            )
            .unwrap());
        assert!(s
            .set("sasl.enabled.mechanisms", "PLAIN,SCRAM-SHA-512")
            .unwrap());
        assert!(s
            .set(
                "sasl.scram.bootstrap",
                "SCRAM-SHA-512=[name=admin,password=admin-secret]"
            )
            .unwrap());
        assert!(!s.set("log.retention.ms", "1").unwrap());
        let users = s.plain_users_of("SASL_PLAINTEXT").unwrap();
        assert_eq!(users.get("alice").map(String::as_str), Some("alice-secret"));
        assert!(s.plain_users_of("OTHER").is_none());
        assert_eq!(
            s.sasl_enabled_mechanisms,
            [Mechanism::Plain, Mechanism::Scram(ScramMechanism::Sha512)]
        );
        assert_eq!(s.scram_bootstrap[0].user, "admin");
        assert!(s.set("sasl.enabled.mechanisms", "GSSAPI").is_err());
    }

    #[test]
    fn authorizer_settings() {
        let mut s = SecurityConfig::default();
        assert!(!s.authorizer && !s.allow_everyone_if_no_acl_found);
        for class in AUTHORIZER_CLASSES {
            s.authorizer = false;
            assert!(s.set("authorizer.class.name", class).unwrap());
            assert!(s.authorizer, "{class}");
        }
        assert!(s.set("authorizer.class.name", "").unwrap());
        assert!(!s.authorizer, "empty turns it off");
        let e = s
            .set("authorizer.class.name", "com.example.MyAuthorizer")
            .unwrap_err();
        assert!(e.to_string().contains("unknown authorizer"), "{e}");
        assert!(s.set("super.users", "User:admin; User:ops").unwrap());
        assert_eq!(s.super_users, ["User:admin", "User:ops"]);
        assert!(s.set("super.users", "admin").is_err());
        assert!(s.set("allow.everyone.if.no.acl.found", "TRUE").unwrap());
        assert!(s.allow_everyone_if_no_acl_found);
        assert!(s.set("allow.everyone.if.no.acl.found", "yes").is_err());
    }
}
