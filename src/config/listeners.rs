//! Kafka's named listeners: `listeners`, `advertised.listeners`,
//! `listener.security.protocol.map`, `inter.broker.listener.name` and
//! `controller.listener.names`, resolved together (they may be set in any order).
//!
//! A listener entry is `NAME://host:port`; `host` empty binds every address. An entry without
//! a name (`host:port`, weir's shorthand) is the PLAINTEXT listener. Each name maps to a
//! security protocol through `listener.security.protocol.map`, whose default maps the four
//! protocol names (and CONTROLLER) to themselves, as Kafka's does. Names are case-insensitive
//! and kept upper-case.

use std::collections::BTreeMap;
use std::net::SocketAddr;

/// Kafka's security protocols, with their wire ids (`SecurityProtocol.id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecurityProtocol {
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

impl SecurityProtocol {
    pub fn from_name(name: &str) -> Option<SecurityProtocol> {
        Some(match name.to_ascii_uppercase().as_str() {
            "PLAINTEXT" => SecurityProtocol::Plaintext,
            "SSL" => SecurityProtocol::Ssl,
            "SASL_PLAINTEXT" => SecurityProtocol::SaslPlaintext,
            "SASL_SSL" => SecurityProtocol::SaslSsl,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "PLAINTEXT",
            SecurityProtocol::Ssl => "SSL",
            SecurityProtocol::SaslPlaintext => "SASL_PLAINTEXT",
            SecurityProtocol::SaslSsl => "SASL_SSL",
        }
    }

    /// Kafka's id (Metadata v0's endpoints and DescribeCluster carry none; UpdateMetadata does).
    pub fn id(self) -> i16 {
        match self {
            SecurityProtocol::Plaintext => 0,
            SecurityProtocol::Ssl => 1,
            SecurityProtocol::SaslPlaintext => 2,
            SecurityProtocol::SaslSsl => 3,
        }
    }

    /// Whether connections authenticate with SASL first.
    pub fn sasl(self) -> bool {
        matches!(
            self,
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl
        )
    }

    /// Whether connections are TLS.
    pub fn tls(self) -> bool {
        matches!(self, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl)
    }
}

/// One client listener, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// Upper-case name (`PLAINTEXT`, `SASL_SSL`, `INTERNAL`...).
    pub name: String,
    pub protocol: SecurityProtocol,
    /// Where to bind. Port 0 (tests) binds any free port, recorded here once bound.
    pub addr: SocketAddr,
    /// `advertised.listeners`' entry of the same name: what clients are told.
    pub advertised: Option<(String, u16)>,
}

impl Listener {
    /// A PLAINTEXT listener at `addr`.
    pub fn plaintext(addr: SocketAddr) -> Listener {
        Listener {
            name: "PLAINTEXT".to_string(),
            protocol: SecurityProtocol::Plaintext,
            addr,
            advertised: None,
        }
    }

    /// The host and port clients are told (the bound address unless advertised).
    pub fn advertised(&self) -> (String, u16) {
        self.advertised
            .clone()
            .unwrap_or_else(|| (self.addr.ip().to_string(), self.addr.port()))
    }
}

/// The raw listener settings, kept so that they resolve whatever order they were set in.
#[derive(Debug, Clone, Default)]
pub struct ListenerSettings {
    pub listeners: Option<String>,
    pub advertised: Option<String>,
    pub protocol_map: Option<String>,
}

impl ListenerSettings {
    /// The raw value of setting `name`, if it is one of these.
    pub fn slot(&mut self, name: &str) -> Option<&mut Option<String>> {
        match name {
            "listeners" => Some(&mut self.listeners),
            "advertised.listeners" => Some(&mut self.advertised),
            "listener.security.protocol.map" => Some(&mut self.protocol_map),
            _ => None,
        }
    }
}

/// Why the listener settings do not resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// A value that is wrong whatever else is set: refused when it is set.
    Invalid(String),
    /// Settings that do not fit together (a listener name the protocol map lacks, an
    /// advertised name no listener has): the setting that mends it may come later, so only
    /// starting the broker refuses it.
    Mismatch(String),
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResolveError::Invalid(e) | ResolveError::Mismatch(e) => f.write_str(e),
        }
    }
}

impl From<String> for ResolveError {
    fn from(e: String) -> ResolveError {
        ResolveError::Invalid(e)
    }
}

/// What the settings resolve to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Client listeners, in the order given (the default ones if only a controller
    /// listener is named).
    pub listeners: Vec<Listener>,
    /// The controller listener's address, if `listeners` names one.
    pub controller: Option<SocketAddr>,
    /// The controller listener's name when its protocol is SSL (its `listener.name.<l>.ssl.*`
    /// settings apply); None for PLAINTEXT.
    pub controller_tls: Option<String>,
}

/// Kafka's default `listener.security.protocol.map`.
pub fn default_protocol_map() -> BTreeMap<String, SecurityProtocol> {
    [
        ("PLAINTEXT", SecurityProtocol::Plaintext),
        ("SSL", SecurityProtocol::Ssl),
        ("SASL_PLAINTEXT", SecurityProtocol::SaslPlaintext),
        ("SASL_SSL", SecurityProtocol::SaslSsl),
        ("CONTROLLER", SecurityProtocol::Plaintext),
    ]
    .into_iter()
    .map(|(n, p)| (n.to_string(), p))
    .collect()
}

/// Parses `listener.security.protocol.map` (`NAME:PROTOCOL,...`).
pub fn parse_protocol_map(value: &str) -> Result<BTreeMap<String, SecurityProtocol>, String> {
    let mut map = BTreeMap::new();
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (name, protocol) = entry
            .split_once(':')
            .ok_or_else(|| format!("`{entry}`: expected NAME:PROTOCOL"))?;
        let protocol = SecurityProtocol::from_name(protocol.trim())
            .ok_or_else(|| format!("`{entry}`: unknown security protocol"))?;
        if map
            .insert(name.trim().to_ascii_uppercase(), protocol)
            .is_some()
        {
            return Err(format!("`{name}` is mapped twice"));
        }
    }
    Ok(map)
}

/// Splits `NAME://host:port` (or `host:port`, the PLAINTEXT listener) into an upper-case
/// name and the address part.
fn split_entry(entry: &str) -> (String, &str) {
    match entry.split_once("://") {
        Some((name, addr)) => (name.trim().to_ascii_uppercase(), addr),
        None => ("PLAINTEXT".to_string(), entry),
    }
}

/// A bind address: `:9092` and `0.0.0.0:9092` bind every address, `localhost` is 127.0.0.1.
pub fn parse_bind(addr: &str) -> Result<SocketAddr, String> {
    let addr = if addr.starts_with(':') {
        format!("0.0.0.0{addr}")
    } else {
        addr.replace("localhost:", "127.0.0.1:")
    };
    addr.parse()
        .map_err(|_| format!("`{addr}`: expected ip:port"))
}

/// Resolves the listener settings. `controller_names` is `controller.listener.names`.
pub fn resolve(
    settings: &ListenerSettings,
    controller_names: &[String],
    default: &[Listener],
) -> Result<Resolved, ResolveError> {
    let map = match &settings.protocol_map {
        Some(v) => parse_protocol_map(v)?,
        None => default_protocol_map(),
    };
    let is_controller = |name: &str| {
        controller_names
            .iter()
            .any(|c| c.eq_ignore_ascii_case(name))
    };
    let mut listeners = Vec::new();
    let mut controller = None;
    let mut controller_tls = None;
    match &settings.listeners {
        None => listeners = default.to_vec(),
        Some(value) => {
            for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                let (name, addr) = split_entry(entry);
                let addr = parse_bind(addr)?;
                if is_controller(&name) {
                    controller = Some(addr);
                    match map
                        .get(&name)
                        .copied()
                        .unwrap_or(SecurityProtocol::Plaintext)
                    {
                        SecurityProtocol::Plaintext => {}
                        SecurityProtocol::Ssl => controller_tls = Some(name.clone()),
                        other => {
                            return Err(format!(
                                "the controller listener `{name}` is {}: weir's controller \
                                 listener is PLAINTEXT or SSL (mutual TLS)",
                                other.name()
                            )
                            .into())
                        }
                    }
                    continue;
                }
                let protocol = *map.get(&name).ok_or_else(|| {
                    ResolveError::Mismatch(format!(
                        "listener `{name}` is not in listener.security.protocol.map"
                    ))
                })?;
                if listeners.iter().any(|l: &Listener| l.name == name) {
                    return Err(format!("listener `{name}` is named twice").into());
                }
                if listeners
                    .iter()
                    .any(|l: &Listener| l.addr == addr && addr.port() != 0)
                {
                    return Err(format!("two listeners bind {addr}").into());
                }
                listeners.push(Listener {
                    name,
                    protocol,
                    addr,
                    advertised: None,
                });
            }
        }
    }
    if listeners.is_empty() {
        // A controller-only node: weir binds a client listener on every node anyway.
        listeners = default.to_vec();
    }
    if let Some(value) = &settings.advertised {
        for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (name, addr) = split_entry(entry);
            if is_controller(&name) {
                continue;
            }
            let (host, port) = addr
                .rsplit_once(':')
                .ok_or_else(|| format!("`{entry}`: expected host:port"))?;
            let port: u16 = port.parse().map_err(|_| format!("`{entry}`: bad port"))?;
            // weir's shorthand: an unnamed entry advertises the first listener.
            let target = if entry.contains("://") {
                listeners.iter_mut().find(|l| l.name == name)
            } else {
                listeners.first_mut()
            };
            let target = target.ok_or_else(|| {
                ResolveError::Mismatch(format!("advertised listener `{name}` is not in listeners"))
            })?;
            target.advertised = Some((host.to_string(), port));
        }
    }
    Ok(Resolved {
        listeners,
        controller,
        controller_tls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(l: &str, a: Option<&str>, m: Option<&str>) -> ListenerSettings {
        ListenerSettings {
            listeners: Some(l.to_string()),
            advertised: a.map(str::to_string),
            protocol_map: m.map(str::to_string),
        }
    }

    fn controller() -> Vec<String> {
        vec!["CONTROLLER".to_string()]
    }

    #[test]
    fn kafkas_listener_settings_resolve() {
        let r = resolve(
            &settings(
                "PLAINTEXT://:9092,SASL_SSL://127.0.0.1:9093,CONTROLLER://127.0.0.1:9094",
                Some("PLAINTEXT://broker1:9092,SASL_SSL://broker1.example:9093"),
                None,
            ),
            &controller(),
            &[],
        )
        .unwrap();
        assert_eq!(r.controller, Some("127.0.0.1:9094".parse().unwrap()));
        assert_eq!(r.listeners.len(), 2);
        assert_eq!(r.listeners[0].name, "PLAINTEXT");
        assert_eq!(r.listeners[0].addr, "0.0.0.0:9092".parse().unwrap());
        assert_eq!(r.listeners[0].advertised(), ("broker1".to_string(), 9092));
        assert_eq!(r.listeners[1].protocol, SecurityProtocol::SaslSsl);
        assert_eq!(
            r.listeners[1].advertised(),
            ("broker1.example".to_string(), 9093)
        );
    }

    #[test]
    fn custom_names_map_to_protocols() {
        let r = resolve(
            &settings(
                "internal://127.0.0.1:9092,EXTERNAL://127.0.0.1:9093",
                None,
                Some("INTERNAL:PLAINTEXT,EXTERNAL:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT"),
            ),
            &controller(),
            &[],
        )
        .unwrap();
        let names: Vec<_> = r
            .listeners
            .iter()
            .map(|l| (l.name.as_str(), l.protocol))
            .collect();
        assert_eq!(
            names,
            [
                ("INTERNAL", SecurityProtocol::Plaintext),
                ("EXTERNAL", SecurityProtocol::SaslPlaintext)
            ]
        );
        assert_eq!(r.listeners[0].advertised(), ("127.0.0.1".to_string(), 9092));
    }

    #[test]
    fn shorthand_and_defaults() {
        let r = resolve(
            &settings("127.0.0.1:9092", Some("host:1"), None),
            &controller(),
            &[],
        )
        .unwrap();
        assert_eq!(r.listeners[0].name, "PLAINTEXT");
        assert_eq!(r.listeners[0].advertised(), ("host".to_string(), 1));
        let default = [Listener::plaintext("127.0.0.1:9092".parse().unwrap())];
        let r = resolve(&ListenerSettings::default(), &controller(), &default).unwrap();
        assert_eq!(r.listeners, default);
    }

    #[test]
    fn what_later_settings_may_mend_is_a_mismatch() {
        let c = controller();
        for (l, a, m) in [
            ("FOO://127.0.0.1:1", None, None),
            ("PLAINTEXT://127.0.0.1:1", Some("SSL://h:1"), None),
        ] {
            assert!(
                matches!(
                    resolve(&settings(l, a, m), &c, &[]),
                    Err(ResolveError::Mismatch(_))
                ),
                "{l} {a:?} {m:?}"
            );
        }
    }

    #[test]
    fn inconsistent_settings_are_refused() {
        let c = controller();
        for (l, a, m) in [
            ("FOO://127.0.0.1:1", None, None),
            (
                "PLAINTEXT://127.0.0.1:1,PLAINTEXT://127.0.0.1:2",
                None,
                None,
            ),
            ("PLAINTEXT://127.0.0.1:1,SSL://127.0.0.1:1", None, None),
            ("PLAINTEXT://127.0.0.1:1", Some("SSL://h:1"), None),
            ("PLAINTEXT://127.0.0.1:1", Some("PLAINTEXT://h"), None),
            ("PLAINTEXT://nowhere:1", None, None),
            ("PLAINTEXT://127.0.0.1:1", None, Some("PLAINTEXT:TLS")),
            ("PLAINTEXT://127.0.0.1:1", None, Some("PLAINTEXT")),
        ] {
            assert!(
                resolve(&settings(l, a, m), &c, &[]).is_err(),
                "{l} {a:?} {m:?}"
            );
        }
    }
}
