//! What the client commands print: aligned tables for people, one JSON document for
//! `--json`, and Kafka's names for error codes (`UNKNOWN_TOPIC_OR_PARTITION`).

use std::io::Write;

use kafka_protocol::ResponseError;

/// Writes `text` to stdout; a closed pipe (`| head`) is not an error worth a panic.
pub fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Prints a JSON document (pretty, newline-terminated) on stdout.
pub fn json(value: &serde_json::Value) {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    emit(&format!("{text}\n"));
}

/// Kafka's name of an error code: `UNKNOWN_TOPIC_OR_PARTITION` for 3 (kafka-protocol's names,
/// converted back to Kafka's spelling), `UNKNOWN_ERROR_CODE_N` for one it does not know.
pub fn error_name(code: i16) -> String {
    match ResponseError::try_from_code(code) {
        None => "NONE".to_string(),
        Some(ResponseError::Unknown(c)) => format!("UNKNOWN_ERROR_CODE_{c}"),
        Some(e) => {
            let camel = e.to_string();
            let mut name = String::with_capacity(camel.len() + 8);
            for (i, ch) in camel.chars().enumerate() {
                if ch.is_ascii_uppercase() && i > 0 {
                    name.push('_');
                }
                name.push(ch.to_ascii_uppercase());
            }
            name
        }
    }
}

/// `null` for no error, the error's name otherwise (for JSON results).
pub fn error_json(code: i16) -> serde_json::Value {
    if code == 0 {
        serde_json::Value::Null
    } else {
        serde_json::Value::String(error_name(code))
    }
}

/// Bytes in lower-case hex, two digits each.
pub fn hex(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(2 * b.len());
    for x in b {
        s.push(char::from(DIGITS[usize::from(x >> 4)]));
        s.push(char::from(DIGITS[usize::from(x & 15)]));
    }
    s
}

/// Broker ids as `1,2,3`.
pub fn ids(ids: &[i32]) -> String {
    ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

/// An offset, or `-` when unknown (negative).
pub fn offset(o: Option<i64>) -> String {
    match o {
        Some(o) if o >= 0 => o.to_string(),
        _ => "-".to_string(),
    }
}

/// An offset for JSON: a number, or null when unknown.
pub fn offset_json(o: Option<i64>) -> serde_json::Value {
    match o {
        Some(o) if o >= 0 => o.into(),
        _ => serde_json::Value::Null,
    }
}

/// A table with a header row; columns separated by two spaces, each as wide as its widest
/// cell (the last one unpadded).
#[derive(Debug, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn render(&self) -> String {
        let columns = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate().take(columns) {
                if i + 1 == columns {
                    line.push_str(cell);
                } else {
                    let pad = widths[i] - cell.chars().count();
                    line.push_str(cell);
                    line.extend(std::iter::repeat_n(' ', pad + 2));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    pub fn print(&self) {
        emit(&self.render());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_encoding() {
        assert_eq!(hex(b"\x00\xffA"), "00ff41");
    }

    #[test]
    fn kafka_error_names() {
        assert_eq!(error_name(3), "UNKNOWN_TOPIC_OR_PARTITION");
        assert_eq!(error_name(36), "TOPIC_ALREADY_EXISTS");
        assert_eq!(error_name(17), "INVALID_TOPIC_EXCEPTION");
        assert_eq!(error_name(-1), "UNKNOWN_SERVER_ERROR");
        assert_eq!(error_name(9999), "UNKNOWN_ERROR_CODE_9999");
    }

    #[test]
    fn tables_align() {
        let mut t = Table::new(&["TOPIC", "PARTITION", "LEADER"]);
        t.row(vec!["a-long-name".into(), "0".into(), "1".into()]);
        t.row(vec!["b".into(), "10".into(), "2".into()]);
        assert_eq!(
            t.render(),
            "TOPIC        PARTITION  LEADER\n\
             a-long-name  0          1\n\
             b            10         2\n"
        );
    }
}
