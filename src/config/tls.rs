//! TLS settings, by Kafka's names, for every listener (`ssl.<name>`) or one
//! (`listener.name.<listener>.ssl.<name>`, which wins for that listener):
//!
//! - `ssl.keystore.type`: PEM (the only type weir reads; JKS and PKCS12 are refused with the
//!   command that converts them).
//! - `ssl.keystore.location`: one PEM file holding the private key (PKCS#8, PKCS#1 or SEC1,
//!   unencrypted) and its certificate chain, leaf first; or `ssl.keystore.key` and
//!   `ssl.keystore.certificate.chain` holding the PEM text inline.
//! - `ssl.truststore.type` (PEM), `ssl.truststore.location` (a PEM file of CA certificates)
//!   or `ssl.truststore.certificates` (inline): whom client certificates, and the other
//!   brokers' certificates, must chain to.
//! - `ssl.client.auth`: `required`, `requested` or `none` (the default).
//! - `ssl.enabled.protocols`: TLSv1.2 and/or TLSv1.3 (both by default).
//! - `ssl.endpoint.identification.algorithm`: `https` (the default: a broker connecting to
//!   another checks that the certificate names the host it dialled) or empty.
//! - `ssl.key.password` and the store passwords: taken and unused (PEM keys are read
//!   unencrypted; an encrypted one is refused when read).
//! - `ssl.principal.mapping.rules`: DEFAULT only (the principal is the certificate's
//!   subject in RFC 2253 form, `User:CN=...,O=...`).
//!
//! Settings are kept as given and resolved per listener when the broker starts, so their
//! order does not matter.

use std::collections::BTreeMap;

use super::{invalid, ConfigError};

/// The names this module takes (after `ssl.`).
const NAMES: &[&str] = &[
    "keystore.type",
    "keystore.location",
    "keystore.key",
    "keystore.certificate.chain",
    "key.password",
    "keystore.password",
    "truststore.type",
    "truststore.location",
    "truststore.certificates",
    "truststore.password",
    "client.auth",
    "enabled.protocols",
    "protocol",
    "cipher.suites",
    "endpoint.identification.algorithm",
    "principal.mapping.rules",
];

/// Whether client certificates are asked for (`ssl.client.auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    None,
    Requested,
    Required,
}

/// Where PEM text comes from: a file, or the setting's own value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pem {
    File(String),
    Inline(String),
}

/// The TLS settings of one listener (or of this broker as a client of another).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SslSettings {
    /// The key and the certificate chain: one file holding both, or the two inline values.
    pub keystore: Option<(Pem, Option<Pem>)>,
    pub truststore: Option<Pem>,
    pub client_auth: ClientAuth,
    pub tls12: bool,
    pub tls13: bool,
    /// Check the server certificate's names against the host dialled (client side).
    pub verify_hostname: bool,
}

/// Every `ssl.*` setting given, raw, by listener ("" for the ones without a listener).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    raw: BTreeMap<String, BTreeMap<String, String>>,
}

impl TlsSettings {
    /// Takes `name` if it is a TLS setting (false otherwise). Values are checked here as far
    /// as they can be alone; files are read when the broker starts.
    pub fn set(&mut self, name: &str, value: &str) -> Result<bool, ConfigError> {
        let (listener, key) = match name.strip_prefix("ssl.") {
            Some(key) => (String::new(), key),
            None => {
                let Some(rest) = name.strip_prefix("listener.name.") else {
                    return Ok(false);
                };
                let Some((listener, key)) = rest.split_once(".ssl.") else {
                    return Ok(false);
                };
                (listener.to_ascii_uppercase(), key)
            }
        };
        if !NAMES.contains(&key) {
            return Ok(false);
        }
        let shown = if key.contains("password") || key == "keystore.key" {
            "(hidden)"
        } else {
            value
        };
        let v = value.trim();
        match key {
            "keystore.type" | "truststore.type" if !v.eq_ignore_ascii_case("PEM") => {
                return Err(invalid(
                    name,
                    shown,
                    "weir reads PEM stores only (ssl.*.type=PEM); convert a PKCS12 or JKS \
                     store with `openssl pkcs12 -in store.p12 -nodes -out store.pem`",
                ))
            }
            "client.auth" => {
                parse_client_auth(v)
                    .ok_or_else(|| invalid(name, shown, "one of required, requested, none"))?;
            }
            "enabled.protocols" => {
                parse_protocols(v).map_err(|e| invalid(name, shown, &e))?;
            }
            "protocol"
                if !matches!(
                    v.to_ascii_uppercase().as_str(),
                    "TLS" | "TLSV1.2" | "TLSV1.3"
                ) =>
            {
                return Err(invalid(name, shown, "TLS, TLSv1.2 or TLSv1.3"));
            }
            "endpoint.identification.algorithm"
                if !(v.is_empty() || v.eq_ignore_ascii_case("https")) =>
            {
                return Err(invalid(name, shown, "https or empty"));
            }
            "principal.mapping.rules" if !v.eq_ignore_ascii_case("DEFAULT") => {
                return Err(invalid(
                    name,
                    shown,
                    "weir applies DEFAULT only (the certificate's subject, RFC 2253)",
                ));
            }
            _ => {}
        }
        self.raw
            .entry(listener)
            .or_default()
            .insert(key.to_string(), value.to_string());
        Ok(true)
    }

    fn get(&self, listener: &str, key: &str) -> Option<&str> {
        self.raw
            .get(listener)
            .and_then(|m| m.get(key))
            .or_else(|| self.raw.get("").and_then(|m| m.get(key)))
            .map(String::as_str)
    }

    /// Whether the listener (or, with "", the broker as a whole) has any TLS setting.
    pub fn has_any(&self, listener: &str) -> bool {
        self.raw.get(listener).is_some_and(|m| !m.is_empty())
            || self.raw.get("").is_some_and(|m| !m.is_empty())
    }

    /// The settings of `listener` (upper-case; "" for the broker-wide ones).
    pub fn for_listener(&self, listener: &str) -> Result<SslSettings, String> {
        let get = |k: &str| self.get(listener, k).filter(|v| !v.trim().is_empty());
        let keystore = match (
            get("keystore.location"),
            get("keystore.key"),
            get("keystore.certificate.chain"),
        ) {
            (Some(file), None, None) => Some((Pem::File(file.trim().to_string()), None)),
            (None, Some(key), Some(chain)) => Some((
                Pem::Inline(key.to_string()),
                Some(Pem::Inline(chain.to_string())),
            )),
            (None, None, None) => None,
            (None, Some(_), None) | (None, None, Some(_)) => {
                return Err(
                    "ssl.keystore.key and ssl.keystore.certificate.chain go together".into(),
                )
            }
            (Some(_), _, _) => {
                return Err(
                    "give ssl.keystore.location or the inline ssl.keystore.key and \
                     ssl.keystore.certificate.chain, not both"
                        .into(),
                )
            }
        };
        let truststore = match (get("truststore.location"), get("truststore.certificates")) {
            (Some(file), None) => Some(Pem::File(file.trim().to_string())),
            (None, Some(pem)) => Some(Pem::Inline(pem.to_string())),
            (None, None) => None,
            (Some(_), Some(_)) => {
                return Err(
                    "give ssl.truststore.location or ssl.truststore.certificates, \
                     not both"
                        .into(),
                )
            }
        };
        let client_auth = get("client.auth")
            .and_then(|v| parse_client_auth(v.trim()))
            .unwrap_or(ClientAuth::None);
        let (tls12, tls13) = match get("enabled.protocols") {
            Some(v) => parse_protocols(v)?,
            None => (true, true),
        };
        let verify_hostname = !self
            .get(listener, "endpoint.identification.algorithm")
            .is_some_and(|v| v.trim().is_empty());
        Ok(SslSettings {
            keystore,
            truststore,
            client_auth,
            tls12,
            tls13,
            verify_hostname,
        })
    }
}

fn parse_client_auth(v: &str) -> Option<ClientAuth> {
    Some(match v.to_ascii_lowercase().as_str() {
        "required" => ClientAuth::Required,
        "requested" => ClientAuth::Requested,
        "none" | "" => ClientAuth::None,
        _ => return None,
    })
}

/// `ssl.enabled.protocols`: (TLSv1.2, TLSv1.3) enabled.
fn parse_protocols(v: &str) -> Result<(bool, bool), String> {
    let (mut tls12, mut tls13) = (false, false);
    for p in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match p.to_ascii_uppercase().as_str() {
            "TLSV1.2" => tls12 = true,
            "TLSV1.3" => tls13 = true,
            _ => return Err(format!("{p}: weir serves TLSv1.2 and TLSv1.3")),
        }
    }
    if !(tls12 || tls13) {
        return Err("name TLSv1.2, TLSv1.3 or both".into());
    }
    Ok((tls12, tls13))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<TlsSettings, ConfigError> {
        let mut s = TlsSettings::default();
        for (k, v) in pairs {
            assert!(s.set(k, v)?, "{k} is a TLS setting");
        }
        Ok(s)
    }

    #[test]
    fn listener_settings_win_over_broker_wide_ones() {
        let s = settings(&[
            ("ssl.keystore.location", "/a.pem"),
            ("ssl.truststore.location", "/ca.pem"),
            ("ssl.client.auth", "requested"),
            ("listener.name.internal.ssl.keystore.location", "/b.pem"),
            ("listener.name.internal.ssl.client.auth", "required"),
        ])
        .unwrap();
        let ext = s.for_listener("SSL").unwrap();
        assert_eq!(ext.keystore, Some((Pem::File("/a.pem".into()), None)));
        assert_eq!(ext.client_auth, ClientAuth::Requested);
        let int = s.for_listener("INTERNAL").unwrap();
        assert_eq!(int.keystore, Some((Pem::File("/b.pem".into()), None)));
        assert_eq!(int.truststore, Some(Pem::File("/ca.pem".into())));
        assert_eq!(int.client_auth, ClientAuth::Required);
        assert!(int.tls12 && int.tls13 && int.verify_hostname);
    }

    #[test]
    fn inline_pem_and_protocols() {
        let s = settings(&[
            ("ssl.keystore.key", "KEY"),
            ("ssl.keystore.certificate.chain", "CHAIN"),
            ("ssl.truststore.certificates", "CA"),
            ("ssl.enabled.protocols", "TLSv1.3"),
            ("ssl.endpoint.identification.algorithm", ""),
        ])
        .unwrap();
        let l = s.for_listener("SSL").unwrap();
        assert_eq!(
            l.keystore,
            Some((Pem::Inline("KEY".into()), Some(Pem::Inline("CHAIN".into()))))
        );
        assert_eq!(l.truststore, Some(Pem::Inline("CA".into())));
        assert!(!l.tls12 && l.tls13 && !l.verify_hostname);
    }

    #[test]
    fn bad_settings_are_refused() {
        for (k, v) in [
            ("ssl.keystore.type", "JKS"),
            ("ssl.truststore.type", "PKCS12"),
            ("ssl.client.auth", "sometimes"),
            ("ssl.enabled.protocols", "TLSv1.1"),
            ("ssl.enabled.protocols", ""),
            ("ssl.principal.mapping.rules", "RULE:^CN=(.*?),.*$/$1/"),
            ("ssl.endpoint.identification.algorithm", "ldap"),
        ] {
            assert!(settings(&[(k, v)]).is_err(), "{k}={v} refused");
        }
        let half = settings(&[("ssl.keystore.key", "KEY")]).unwrap();
        assert!(half.for_listener("SSL").is_err(), "a key without its chain");
        let both = settings(&[
            ("ssl.keystore.location", "/a.pem"),
            ("ssl.keystore.key", "KEY"),
            ("ssl.keystore.certificate.chain", "C"),
        ])
        .unwrap();
        assert!(both.for_listener("SSL").is_err(), "a file and inline text");
        let mut s = TlsSettings::default();
        assert!(!s.set("log.retention.ms", "1").unwrap());
        assert!(!s.set("listener.name.x.plain.sasl.jaas.config", "").unwrap());
        assert!(!s.set("ssl.unknown.thing", "").unwrap());
        assert!(s.set("ssl.keystore.type", "pem").unwrap());
    }
}
