//! Config files: Kafka's `server.properties` format and TOML, by Kafka's setting names.
//!
//! A `.toml` file is TOML; any other file is read as Java properties, as Kafka reads
//! `server.properties` (`java.util.Properties.load`):
//!
//! - a line whose first non-blank character is `#` or `!` is a comment; blank lines are
//!   skipped;
//! - the key ends at the first unescaped `=`, `:` or blank; blanks around the separator are
//!   dropped, and the value runs to the end of the line;
//! - a line ending in an odd number of backslashes continues on the next one (whose leading
//!   blanks are dropped);
//! - escapes: `\t`, `\n`, `\r`, `\f`, `\uXXXX`, and `\` before any other character is that
//!   character (`\=`, `\:`, `\#`, `\\`).
//!
//! Settings that Kafka has and weir has no use for (its thread pools, socket buffers, the
//! transaction log until transactions land, ...) are listed in [`KAFKA_ONLY`]: a file may
//! carry them, and each is reported once at start and ignored. Any other name weir does not
//! know is an error, so a misspelt setting never goes unnoticed.

use std::path::Path;

use super::{Config, ConfigError};

/// Kafka settings weir accepts in a file and ignores (reported at start). See
/// docs/operations.md for why each is not needed.
pub const KAFKA_ONLY: &[&str] = &[
    "background.threads",
    "controller.quorum.bootstrap.servers",
    "controller.quorum.election.timeout.ms",
    "controller.quorum.fetch.timeout.ms",
    "delete.topic.enable",
    "group.coordinator.rebalance.protocols",
    "log.cleaner.threads",
    "log.flush.scheduler.interval.ms",
    "metadata.log.dir",
    "num.io.threads",
    "num.network.threads",
    "num.recovery.threads.per.data.dir",
    "num.replica.alter.log.dirs.threads",
    "num.replica.fetchers",
    "queued.max.requests",
    "share.coordinator.state.topic.min.isr",
    "share.coordinator.state.topic.replication.factor",
    "socket.receive.buffer.bytes",
    "socket.send.buffer.bytes",
    "transaction.state.log.min.isr",
    "transaction.state.log.replication.factor",
    "zookeeper.connect",
    "zookeeper.connection.timeout.ms",
];

/// Parses Java properties text into (key, value) pairs, in file order.
pub fn parse_properties(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(first) = lines.next() {
        let trimmed = first.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('!') {
            continue;
        }
        // Join continuation lines: a line ending in an odd number of backslashes.
        let mut logical = String::from(trimmed);
        while ends_in_odd_backslashes(&logical) {
            logical.pop();
            match lines.next() {
                Some(next) => logical.push_str(next.trim_start()),
                None => break,
            }
        }
        out.push(split_entry(&logical));
    }
    out
}

fn ends_in_odd_backslashes(s: &str) -> bool {
    s.chars().rev().take_while(|&c| c == '\\').count() % 2 == 1
}

/// Splits one logical line into its unescaped key and value.
fn split_entry(line: &str) -> (String, String) {
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    let mut key_end = chars.len();
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '=' | ':' | ' ' | '\t' | '\x0c' => {
                key_end = i;
                break;
            }
            _ => i += 1,
        }
    }
    let key: String = chars[..key_end.min(chars.len())].iter().collect();
    let mut j = key_end;
    while j < chars.len() && matches!(chars[j], ' ' | '\t' | '\x0c') {
        j += 1;
    }
    if j < chars.len() && matches!(chars[j], '=' | ':') {
        j += 1;
        while j < chars.len() && matches!(chars[j], ' ' | '\t' | '\x0c') {
            j += 1;
        }
    }
    let value: String = chars[j.min(chars.len())..].iter().collect();
    (unescape(&key), unescape(&value))
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\x0c'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) if hex.len() == 4 => out.push(ch),
                    _ => {
                        out.push_str("\\u");
                        out.push_str(&hex);
                    }
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// What applying a file did: the settings it set, and the Kafka-only ones it ignored.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    pub set: Vec<String>,
    pub ignored: Vec<String>,
}

impl Config {
    /// Applies a config file (`.toml`: TOML; otherwise Kafka's properties format).
    pub fn apply_file(&mut self, path: &Path) -> Result<Applied, ConfigError> {
        if path.extension().is_some_and(|e| e == "toml") {
            let set = self.apply_toml_file(path)?;
            return Ok(Applied {
                set,
                ignored: Vec::new(),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::File {
            path: path.to_path_buf(),
            source,
        })?;
        self.apply_properties(&parse_properties(&text))
    }

    /// Applies parsed properties: Kafka-only names are ignored (and returned), unknown ones
    /// refused.
    pub fn apply_properties(
        &mut self,
        entries: &[(String, String)],
    ) -> Result<Applied, ConfigError> {
        let mut applied = Applied::default();
        for (k, v) in entries {
            if KAFKA_ONLY.contains(&k.as_str()) {
                applied.ignored.push(k.clone());
                continue;
            }
            self.set(k, v)?;
            applied.set.push(k.clone());
        }
        Ok(applied)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn java_properties_syntax() {
        let text = "# a comment\n\
                    ! another\n\
                    \n\
                    plain=value\n\
                    \x20\x20spaced = padded value  \n\
                    colon: yes\n\
                    blank separated\n\
                    empty=\n\
                    bare\n\
                    esc\\=aped\\:key=a\\tb\\\\c\\u00e9\n\
                    multi=one, \\\n\
                    \x20\x20\x20\x20two, \\\n\
                    three\n\
                    trailing=ends with two \\\\\n\
                    next=still separate\n\
                    url=PLAINTEXT://:9092,CONTROLLER://:9093\n";
        assert_eq!(
            parse_properties(text),
            pairs(&[
                ("plain", "value"),
                ("spaced", "padded value  "),
                ("colon", "yes"),
                ("blank", "separated"),
                ("empty", ""),
                ("bare", ""),
                ("esc=aped:key", "a\tb\\cé"),
                ("multi", "one, two, three"),
                ("trailing", "ends with two \\"),
                ("next", "still separate"),
                ("url", "PLAINTEXT://:9092,CONTROLLER://:9093"),
            ])
        );
    }

    #[test]
    fn kafkas_server_properties_start_weir() {
        // Kafka 4.1's config/server.properties, with listeners, log.dirs and
        // num.partitions adapted.
        let text = include_str!("../../tests/fixtures/kafka-4.1-server.properties")
            .replace("CONTROLLER_PORT", "19093")
            .replace("PORT", "19092")
            .replace("LOG_DIRS", "/tmp/weir-props");
        let mut c = Config::default();
        let applied = c.apply_properties(&parse_properties(&text)).unwrap();
        assert_eq!(c.num_partitions, 4);
        assert_eq!(c.listener().port(), 19092);
        assert_eq!(c.data_dir, std::path::PathBuf::from("/tmp/weir-props"));
        assert_eq!(c.log.retention_ms, 168 * 3600 * 1000);
        assert_eq!(c.advertised(), ("localhost".to_string(), 19092));
        assert_eq!(
            applied.ignored,
            [
                "controller.quorum.bootstrap.servers",
                "num.network.threads",
                "num.io.threads",
                "socket.send.buffer.bytes",
                "socket.receive.buffer.bytes",
                "num.recovery.threads.per.data.dir",
                "share.coordinator.state.topic.replication.factor",
                "share.coordinator.state.topic.min.isr",
                "transaction.state.log.replication.factor",
                "transaction.state.log.min.isr",
            ]
        );
        assert_eq!(applied.set.len(), 15);
        // A misspelt name is refused, not ignored.
        let e = c
            .apply_properties(&pairs(&[("log.retention.hour", "1")]))
            .unwrap_err();
        assert!(matches!(e, ConfigError::Unknown(n) if n == "log.retention.hour"));
    }
}
