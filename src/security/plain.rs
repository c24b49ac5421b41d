//! SASL/PLAIN (RFC 4616) and the settings that name users: Kafka's JAAS lines and weir's
//! `sasl.scram.bootstrap`.
//!
//! - A PLAIN token is `[authzid] NUL authcid NUL password` (UTF-8). Kafka checks the password
//!   against `user_<name>="<password>"` options of the listener's
//!   `...plain.sasl.jaas.config` (`PlainLoginModule required username=... password=...
//!   user_alice="alice-secret";`); so does weir.
//! - `sasl.scram.bootstrap` takes `kafka-storage.sh format --add-scram` entries joined by
//!   `;`: `SCRAM-SHA-512=[name=admin,password=admin-secret]`, or with `iterations=`, `salt=`
//!   (base64) and `saltedpassword=` (base64) instead of a password; values may be quoted.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use subtle::ConstantTimeEq;

use super::scram::{random_bytes, ScramCredential, ScramMechanism, MAX_ITERATIONS, MIN_ITERATIONS};

/// A PLAIN token, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainToken {
    pub authzid: String,
    pub user: String,
    pub password: String,
}

/// Parses a PLAIN token with Kafka's messages for what is wrong.
pub fn parse_plain(token: &[u8]) -> Result<PlainToken, String> {
    let text = std::str::from_utf8(token).map_err(|_| "Invalid SASL/PLAIN response: not UTF-8")?;
    let parts: Vec<&str> = text.split('\0').collect();
    let [authzid, user, password] = parts[..] else {
        return Err(
            "Invalid SASL/PLAIN response: expected 3 tokens, got ".to_string()
                + &parts.len().to_string(),
        );
    };
    if user.is_empty() {
        return Err("Authentication failed: username not specified".to_string());
    }
    if password.is_empty() {
        return Err("Authentication failed: password not specified".to_string());
    }
    if !authzid.is_empty() && authzid != user {
        return Err(
            "Authentication failed: Client requested an authorization id that is different from username"
                .to_string(),
        );
    }
    Ok(PlainToken {
        authzid: authzid.to_string(),
        user: user.to_string(),
        password: password.to_string(),
    })
}

/// Whether `given` is `expected`, in constant time for equal lengths.
pub fn password_matches(expected: &str, given: &str) -> bool {
    expected.len() == given.len() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// A JAAS configuration line: the login module and its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jaas {
    pub module: String,
    pub options: BTreeMap<String, String>,
}

impl Jaas {
    /// The `user_<name>` passwords (PlainLoginModule's users).
    pub fn plain_users(&self) -> BTreeMap<String, String> {
        self.options
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("user_")?.to_string(), v.clone())))
            .collect()
    }
}

/// Parses `Module required|requisite|sufficient|optional key=value ... ;` (values quoted with
/// `"`, in which `\"` and `\\` escape).
pub fn parse_jaas(line: &str) -> Result<Jaas, String> {
    let mut it = line.trim().chars().peekable();
    let skip_space = |it: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        while it.peek().is_some_and(|c| c.is_whitespace()) {
            it.next();
        }
    };
    let word = |it: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        let mut w = String::new();
        while let Some(&c) = it.peek() {
            if c.is_whitespace() || c == '=' || c == ';' {
                break;
            }
            w.push(c);
            it.next();
        }
        w
    };
    let module = word(&mut it);
    if module.is_empty() {
        return Err("JAAS config: no login module".to_string());
    }
    skip_space(&mut it);
    let flag = word(&mut it);
    if !matches!(
        flag.as_str(),
        "required" | "requisite" | "sufficient" | "optional"
    ) {
        return Err(format!("JAAS config: invalid control flag '{flag}'"));
    }
    let mut options = BTreeMap::new();
    loop {
        skip_space(&mut it);
        match it.peek() {
            None => return Err("JAAS config: the line must end with ';'".to_string()),
            Some(';') => {
                it.next();
                if it.any(|c| !c.is_whitespace()) {
                    return Err("JAAS config: only one login module is allowed".to_string());
                }
                break;
            }
            _ => {}
        }
        let key = word(&mut it);
        if it.next() != Some('=') || key.is_empty() {
            return Err(format!("JAAS config: expected key=value near '{key}'"));
        }
        let value = if it.peek() == Some(&'"') {
            it.next();
            let mut value = String::new();
            loop {
                match it.next() {
                    None => return Err("JAAS config: unterminated quoted value".to_string()),
                    Some('"') => break,
                    Some('\\') => value.push(it.next().ok_or("JAAS config: dangling escape")?),
                    Some(c) => value.push(c),
                }
            }
            value
        } else {
            word(&mut it)
        };
        options.insert(key, value);
    }
    Ok(Jaas { module, options })
}

/// One user's SCRAM credential from `sasl.scram.bootstrap`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapCredential {
    pub user: String,
    pub credential: ScramCredential,
}

/// Parses `sasl.scram.bootstrap` (see the module's doc); passwords are salted here with a
/// fresh salt, so the result never holds a password.
pub fn parse_scram_bootstrap(value: &str) -> Result<Vec<BootstrapCredential>, String> {
    let mut out = Vec::new();
    for entry in value.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let (mech, body) = entry
            .split_once('=')
            .ok_or_else(|| format!("'{entry}': expected MECHANISM=[name=...,password=...]"))?;
        let mechanism = ScramMechanism::from_name(mech.trim())
            .ok_or_else(|| format!("'{mech}': not SCRAM-SHA-256 or SCRAM-SHA-512"))?;
        let body = body
            .trim()
            .strip_prefix('[')
            .and_then(|b| b.strip_suffix(']'))
            .ok_or_else(|| format!("'{entry}': the settings go in [...]"))?;
        let mut fields = BTreeMap::new();
        for kv in body.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| format!("'{kv}': expected key=value"))?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            fields.insert(k.trim().to_string(), v.to_string());
        }
        let user = fields
            .remove("name")
            .filter(|n| !n.is_empty())
            .ok_or_else(|| format!("'{entry}': no name"))?;
        let iterations = match fields.remove("iterations") {
            None => MIN_ITERATIONS,
            Some(i) => i
                .parse::<u32>()
                .ok()
                .filter(|i| (MIN_ITERATIONS..=MAX_ITERATIONS).contains(i))
                .ok_or_else(|| {
                    format!("'{entry}': iterations must be {MIN_ITERATIONS}..={MAX_ITERATIONS}")
                })?,
        };
        let salt = match fields.remove("salt") {
            None => random_bytes(32),
            Some(s) => B64
                .decode(s)
                .map_err(|_| format!("'{entry}': salt is not base64"))?,
        };
        let credential = match (fields.remove("password"), fields.remove("saltedpassword")) {
            (Some(p), None) => {
                ScramCredential::from_password(mechanism, p.as_bytes(), salt, iterations)
            }
            (None, Some(sp)) => {
                let sp = B64
                    .decode(sp)
                    .map_err(|_| format!("'{entry}': saltedpassword is not base64"))?;
                ScramCredential::from_salted_password(mechanism, salt, &sp, iterations)
            }
            _ => return Err(format!("'{entry}': give password or saltedpassword (one)")),
        };
        if let Some(k) = fields.keys().next() {
            return Err(format!("'{entry}': unknown setting '{k}'"));
        }
        out.push(BootstrapCredential { user, credential });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_tokens() {
        let t = parse_plain(b"\0alice\0secret").unwrap();
        assert_eq!((t.user.as_str(), t.password.as_str()), ("alice", "secret"));
        assert!(parse_plain(b"alice\0alice\0secret").is_ok());
        #[rustfmt::skip]
        let bad: &[(&[u8], &str)] = &[
            (b"", "expected 3 tokens"),
            (b"alice\0secret", "expected 3 tokens"),
            (b"\0\0secret", "username not specified"),
            (b"\0alice\0", "password not specified"),
            (b"bob\0alice\0secret", "different from username"),
            (b"\0alice\0se\0cret", "expected 3 tokens"),
            (b"\0\xff\0x", "not UTF-8"),
        ];
        for (token, want) in bad {
            let e = parse_plain(token).unwrap_err();
            assert!(e.contains(want), "{token:?}: {e}");
        }
        assert!(password_matches("secret", "secret"));
        assert!(!password_matches("secret", "secreT"));
        assert!(!password_matches("secret", "secret2"));
    }

    #[test]
    fn jaas_lines_as_kafka_writes_them() {
        let j = parse_jaas(
            r#"org.apache.kafka.common.security.plain.PlainLoginModule required
               username="admin" password="admin-secret"
               user_admin="admin-secret" user_alice="al\"ice";"#,
        )
        .unwrap();
        assert_eq!(
            j.module,
            "org.apache.kafka.common.security.plain.PlainLoginModule"
        );
        assert_eq!(j.options["username"], "admin");
        let users = j.plain_users();
        assert_eq!(users.len(), 2);
        assert_eq!(users["alice"], "al\"ice");
        let j = parse_jaas("M  required\n\tkey=v ;").unwrap();
        assert_eq!(j.options["key"], "v");
        let j = parse_jaas("M required;").unwrap();
        assert!(j.options.is_empty());
        for bad in [
            "",
            "M",
            "M maybe;",
            "M required a=1",
            "M required a=\"1;",
            "M required =1;",
            "M required a=1; N required;",
        ] {
            assert!(parse_jaas(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scram_bootstrap_entries() {
        let creds = parse_scram_bootstrap(
            "SCRAM-SHA-512=[name=admin,password=admin-secret]; \
             SCRAM-SHA-256=[name=bob,password=\"x,y\"]",
        );
        // A quoted comma is not supported by the simple split: refused, not misread.
        assert!(creds.is_err());
        let creds = parse_scram_bootstrap(
            "SCRAM-SHA-512=[name=admin,password=admin-secret];SCRAM-SHA-256=[name=bob,iterations=8192,password=\"pw\"]",
        )
        .unwrap();
        assert_eq!(creds.len(), 2);
        assert_eq!(creds[0].user, "admin");
        assert_eq!(creds[0].credential.mechanism, ScramMechanism::Sha512);
        assert_eq!(creds[0].credential.iterations, 4096);
        assert_eq!(creds[1].credential.iterations, 8192);
        let salt = B64.encode(b"salty");
        let expected =
            ScramCredential::from_password(ScramMechanism::Sha256, b"pw", b"salty".to_vec(), 4096);
        let sp = B64.encode(ScramMechanism::Sha256.salted_password(b"pw", b"salty", 4096));
        let by_password = parse_scram_bootstrap(&format!(
            "SCRAM-SHA-256=[name=u,salt=\"{salt}\",password=pw]"
        ))
        .unwrap();
        let by_salted = parse_scram_bootstrap(&format!(
            "SCRAM-SHA-256=[name=u,salt={salt},saltedpassword={sp}]"
        ))
        .unwrap();
        assert_eq!(by_password[0].credential, expected);
        assert_eq!(by_salted[0].credential, expected);
        for bad in [
            "SCRAM-SHA-1=[name=a,password=b]",
            "SCRAM-SHA-256=name=a,password=b",
            "SCRAM-SHA-256=[password=b]",
            "SCRAM-SHA-256=[name=a]",
            "SCRAM-SHA-256=[name=a,password=b,saltedpassword=c]",
            "SCRAM-SHA-256=[name=a,password=b,iterations=10]",
            "SCRAM-SHA-256=[name=a,password=b,salt=!!]",
            "SCRAM-SHA-256=[name=a,password=b,colour=red]",
        ] {
            assert!(parse_scram_bootstrap(bad).is_err(), "{bad}");
        }
        assert!(parse_scram_bootstrap("").unwrap().is_empty());
    }
}
