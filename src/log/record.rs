//! Records inside a (decompressed) RecordBatch v2 records section, parsed as views.
//!
//! Each record, as Kafka defines it (varints are zigzag-encoded, as in protobuf):
//!
//! ```text
//! length          varint   bytes after this field
//! attributes      int8     unused, 0
//! timestampDelta  varlong  from the batch's base_timestamp
//! offsetDelta     varint   from the batch's base_offset
//! keyLength       varint   -1 for a null key
//! key             bytes
//! valueLength     varint   -1 for a null value (a tombstone)
//! value           bytes
//! headerCount     varint
//! headers         [keyLength varint, key, valueLength varint, value] x headerCount
//! ```
//!
//! Every length and count is checked against the bytes actually present before it is used;
//! nothing is allocated from a length read off the wire.

use std::borrow::Cow;

use super::batch::{BatchHeader, HEADER_LEN};
use super::compression;

/// The most one batch's records may decompress to (in the cleaner, or to find a record by
/// timestamp); a larger batch is kept whole / answered by its header alone.
pub const MAX_DECOMPRESSED_BATCH: usize = 64 * 1024 * 1024;

/// The records section of a whole batch `raw` with header `h`: borrowed when uncompressed,
/// else decompressed up to [`MAX_DECOMPRESSED_BATCH`]. `None` if it cannot be decompressed.
pub fn records_of<'a>(raw: &'a [u8], h: &BatchHeader) -> Option<Cow<'a, [u8]>> {
    let records = raw.get(HEADER_LEN..)?;
    if h.codec() == compression::NONE {
        return Some(Cow::Borrowed(records));
    }
    compression::decompress(h.codec(), records, MAX_DECOMPRESSED_BATCH)
        .ok()
        .map(Cow::Owned)
}

/// Why a records section could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("records section truncated or malformed at byte {0}")]
    Malformed(usize),
    #[error("batch declares {declared} records but holds {found}")]
    CountMismatch { declared: i32, found: usize },
}

/// One record: its raw bytes (length prefix included) and the fields the cleaner needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordView<'a> {
    pub raw: &'a [u8],
    pub timestamp_delta: i64,
    pub offset_delta: i32,
    pub key: Option<&'a [u8]>,
    /// Whether the value is null: a tombstone.
    pub null_value: bool,
    /// The value (`None`: null).
    pub value: Option<&'a [u8]>,
}

/// A cursor over a byte slice that never reads past its end.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn varlong(&mut self) -> Result<i64, RecordError> {
        let mut value: u64 = 0;
        for shift in (0..70).step_by(7) {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or(RecordError::Malformed(self.pos))?;
            self.pos += 1;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(((value >> 1) as i64) ^ -((value & 1) as i64));
            }
        }
        Err(RecordError::Malformed(self.pos))
    }

    fn varint(&mut self) -> Result<i32, RecordError> {
        let at = self.pos;
        i32::try_from(self.varlong()?).map_err(|_| RecordError::Malformed(at))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], RecordError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or(RecordError::Malformed(self.pos))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// A nullable byte string: varint length (-1 = null), then the bytes.
    fn nullable(&mut self) -> Result<Option<&'a [u8]>, RecordError> {
        let at = self.pos;
        match self.varint()? {
            -1 => Ok(None),
            n if n >= 0 => self.take(n as usize).map(Some),
            _ => Err(RecordError::Malformed(at)),
        }
    }
}

/// Parses every record of a records section, which must hold exactly `count` of them.
pub fn parse_records(data: &[u8], count: i32) -> Result<Vec<RecordView<'_>>, RecordError> {
    // A record is at least 7 bytes, so a lying count cannot make this allocate much.
    let mut out = Vec::with_capacity((count.max(0) as usize).min(data.len() / 7 + 1));
    let mut c = Cursor { buf: data, pos: 0 };
    while c.pos < data.len() {
        let start = c.pos;
        let len = c.varint()?;
        if len < 0 {
            return Err(RecordError::Malformed(start));
        }
        let body = c.take(len as usize)?;
        let raw = &data[start..c.pos];
        let mut r = Cursor { buf: body, pos: 0 };
        r.take(1)?; // attributes
        let timestamp_delta = r.varlong()?;
        let offset_delta = r.varint()?;
        let key = r.nullable()?;
        let value = r.nullable()?;
        let headers = r.varint()?;
        if headers < 0 {
            return Err(RecordError::Malformed(start));
        }
        for _ in 0..headers {
            let at = r.pos;
            if r.nullable()?.is_none() {
                return Err(RecordError::Malformed(start + at));
            }
            r.nullable()?;
        }
        if r.pos != body.len() {
            return Err(RecordError::Malformed(start + r.pos));
        }
        out.push(RecordView {
            raw,
            timestamp_delta,
            offset_delta,
            key,
            null_value: value.is_none(),
            value,
        });
    }
    if out.len() != count.max(0) as usize {
        return Err(RecordError::CountMismatch {
            declared: count,
            found: out.len(),
        });
    }
    Ok(out)
}

/// Appends `v` as a zigzag varint (test and encoder helper).
pub fn put_varlong(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

/// The bytes [`put_varlong`] writes for `v`.
fn varlong_len(v: i64) -> usize {
    let z = ((v << 1) ^ (v >> 63)) as u64;
    (64 - z.leading_zeros() as usize).max(1).div_ceil(7)
}

/// The bytes a nullable field takes: its varint length and its content (-1: null).
fn field_len(field: Option<&[u8]>) -> usize {
    match field {
        Some(b) => varlong_len(b.len() as i64) + b.len(),
        None => varlong_len(-1),
    }
}

fn put_field(out: &mut Vec<u8>, field: Option<&[u8]>) {
    match field {
        Some(b) => {
            put_varlong(out, b.len() as i64);
            out.extend_from_slice(b);
        }
        None => put_varlong(out, -1),
    }
}

/// Encodes one record straight into `out`: its length is computed first, so nothing is
/// built aside and copied (the up-conversion of old message sets encodes every record).
pub fn encode_record(
    out: &mut Vec<u8>,
    timestamp_delta: i64,
    offset_delta: i32,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[(&[u8], Option<&[u8]>)],
) {
    let len = 1
        + varlong_len(timestamp_delta)
        + varlong_len(i64::from(offset_delta))
        + field_len(key)
        + field_len(value)
        + varlong_len(headers.len() as i64)
        + headers
            .iter()
            .map(|(k, v)| field_len(Some(k)) + field_len(*v))
            .sum::<usize>();
    out.reserve(varlong_len(len as i64) + len);
    put_varlong(out, len as i64);
    out.push(0); // attributes
    put_varlong(out, timestamp_delta);
    put_varlong(out, i64::from(offset_delta));
    put_field(out, key);
    put_field(out, value);
    put_varlong(out, headers.len() as i64);
    for (k, v) in headers {
        put_field(out, Some(k));
        put_field(out, *v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varlong_len_is_what_put_varlong_writes() {
        for v in [
            0i64,
            1,
            -1,
            63,
            -64,
            64,
            -65,
            8191,
            8192,
            i64::MAX,
            i64::MIN,
            300,
            -300,
        ] {
            let mut out = Vec::new();
            put_varlong(&mut out, v);
            assert_eq!(varlong_len(v), out.len(), "{v}");
        }
    }

    #[test]
    fn records_parse_and_lies_are_refused() {
        let mut data = Vec::new();
        encode_record(
            &mut data,
            5,
            0,
            Some(b"k1"),
            Some(b"v"),
            &[(b"h", Some(b"x"))],
        );
        encode_record(&mut data, -3, 1, None, None, &[]);
        encode_record(
            &mut data,
            300_000,
            2,
            Some(b""),
            Some(&[7; 200]),
            &[(b"n", None)],
        );
        let recs = parse_records(&data, 3).unwrap();
        assert_eq!(recs[0].key, Some(&b"k1"[..]));
        assert!(!recs[0].null_value);
        assert_eq!((recs[1].key, recs[1].null_value), (None, true));
        assert_eq!(recs[1].timestamp_delta, -3);
        assert_eq!(recs[2].timestamp_delta, 300_000);
        assert_eq!(recs[2].offset_delta, 2);
        assert_eq!(recs.iter().map(|r| r.raw.len()).sum::<usize>(), data.len());
        assert!(matches!(
            parse_records(&data, 4),
            Err(RecordError::CountMismatch { .. })
        ));
        for cut in 1..data.len() {
            assert!(parse_records(&data[..cut], 3).is_err(), "cut at {cut}");
        }
        // A key length claiming more bytes than there are.
        let mut bad = Vec::new();
        encode_record(&mut bad, 0, 0, Some(b"key"), Some(b"v"), &[]);
        bad[4] = 0x7e;
        assert!(parse_records(&bad, 1).is_err());
        // Varints longer than 10 bytes.
        assert!(parse_records(&[0xff; 12], 1).is_err());
    }
}
