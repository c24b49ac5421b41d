//! Kafka's legacy message formats, magic 0 (Kafka 0.8-0.9) and magic 1 (0.10), which old
//! clients still produce: parsed and checked here, then converted into one RecordBatch v2 so
//! that everything after (the log, fetch by new clients, retention, compaction, replication)
//! sees one format. Pure: no I/O.
//!
//! A message set is a sequence of entries, big-endian:
//!
//! ```text
//! offset        int64   (the producer's: ignored, the log assigns offsets)
//! message_size  int32   bytes of the message that follows
//! message:
//!   crc         uint32  CRC-32 (IEEE) of everything after this field
//!   magic       int8    0 or 1
//!   attributes  int8    bits 0-2 codec (0 none, 1 gzip, 2 snappy, 3 lz4), bit 3 (magic 1)
//!                       LogAppendTime
//!   timestamp   int64   magic 1 only
//!   key         bytes   int32 length (-1: null), then the bytes
//!   value       bytes   likewise
//! ```
//!
//! A compressed message is a *wrapper*: its value is a compressed message set of
//! uncompressed inner messages of the same magic (inner offsets are 0..n-1 for magic 1, and
//! anything for magic 0; both are ignored). Snappy comes in the xerial framing old clients
//! use; lz4 is the frame format, and magic 0's frames carry the wrong header checksum of
//! KAFKA-3160 (computed over the magic number too), accepted as Kafka accepts it.
//!
//! Every length and CRC is checked before anything is trusted; nothing here allocates more
//! than the input's size times a bounded decompression limit.

use super::batch::{ATTR_POS, CRC_POS, HEADER_LEN, LOG_OVERHEAD};
use super::compression::{self, GZIP, LZ4, NONE, SNAPPY};
use super::record::encode_record;

/// The smallest message: crc, magic, attributes, key length, value length.
const MIN_MESSAGE_V0: usize = 4 + 1 + 1 + 4 + 4;
const CODEC_MASK: i8 = 0x07;
const LOG_APPEND_TIME_BIT: i8 = 0x08;
/// No timestamp (magic 0).
pub const NO_TIMESTAMP: i64 = -1;

/// Why a message set was refused (CORRUPT_MESSAGE, or INVALID_RECORD for a well-formed set
/// that breaks a rule).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetError {
    #[error("message set truncated at byte {0}")]
    Truncated(usize),
    #[error("message size {size} at byte {at} is invalid")]
    BadSize { at: usize, size: i32 },
    #[error("CRC mismatch at byte {at}: stored {stored:#010x}, computed {computed:#010x}")]
    BadCrc {
        at: usize,
        stored: u32,
        computed: u32,
    },
    #[error("message at byte {at} has magic {magic}, expected {expected}")]
    BadMagic { at: usize, magic: i8, expected: i8 },
    #[error("unknown compression codec {0} for magic 0/1 messages")]
    BadCodec(i8),
    #[error("a compressed message inside a compressed message")]
    Nested,
    #[error("compressed message set could not be read: {0}")]
    Decompress(String),
    #[error("empty message set")]
    Empty,
}

impl SetError {
    /// The Kafka error code for this refusal.
    pub fn code(&self) -> i16 {
        use crate::protocol::error_code as ec;
        match self {
            SetError::BadCodec(_) | SetError::Nested | SetError::Empty => ec::INVALID_RECORD,
            _ => ec::CORRUPT_MESSAGE,
        }
    }
}

/// One message of a set, after unwrapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyRecord {
    /// [`NO_TIMESTAMP`] for magic 0.
    pub timestamp: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
}

/// A parsed set: its magic, the codec of its wrapper(s) (NONE if uncompressed), whether a
/// snappy wrapper used the xerial framing, and the messages in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSet {
    pub magic: i8,
    pub codec: i16,
    pub xerial: bool,
    pub log_append_time: bool,
    pub records: Vec<LegacyRecord>,
}

/// A cursor that never reads past its end.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SetError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or(SetError::Truncated(self.pos))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn i8(&mut self) -> Result<i8, SetError> {
        Ok(self.take(1)?[0] as i8)
    }

    fn i32(&mut self) -> Result<i32, SetError> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i64(&mut self) -> Result<i64, SetError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(i64::from_be_bytes(a))
    }

    fn bytes(&mut self) -> Result<Option<&'a [u8]>, SetError> {
        let at = self.pos;
        match self.i32()? {
            -1 => Ok(None),
            n if n >= 0 => self.take(n as usize).map(Some),
            n => Err(SetError::BadSize { at, size: n }),
        }
    }
}

/// One message as read: (magic, attributes, timestamp, key, value).
type Message<'a> = (i8, i8, i64, Option<&'a [u8]>, Option<&'a [u8]>);

/// Reads the entries of `data`, checking sizes and CRCs; `base` offsets error positions.
fn entries(data: &[u8], base: usize) -> Result<Vec<Message<'_>>, SetError> {
    let mut c = Cursor { buf: data, pos: 0 };
    let mut out = Vec::new();
    while c.pos < data.len() {
        let at = base + c.pos;
        c.take(8)?; // the producer's offset
        let size = c.i32()?;
        if size < MIN_MESSAGE_V0 as i32 {
            return Err(SetError::BadSize { at, size });
        }
        let body = c.take(size as usize)?;
        let stored = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
        let computed = crc32fast::hash(&body[4..]);
        if stored != computed {
            return Err(SetError::BadCrc {
                at,
                stored,
                computed,
            });
        }
        let mut m = Cursor { buf: body, pos: 4 };
        let magic = m.i8()?;
        let attributes = m.i8()?;
        let timestamp = match magic {
            0 => NO_TIMESTAMP,
            1 => m.i64()?,
            _ => {
                return Err(SetError::BadMagic {
                    at,
                    magic,
                    expected: 1,
                })
            }
        };
        let key = m.bytes()?;
        let value = m.bytes()?;
        if m.pos != body.len() {
            return Err(SetError::BadSize { at, size });
        }
        out.push((magic, attributes, timestamp, key, value));
    }
    Ok(out)
}

/// Parses and checks a produced message set, unwrapping compressed messages (at most
/// `limit` bytes each once decompressed). Every message must have the same magic.
pub fn parse(data: &[u8], limit: usize) -> Result<MessageSet, SetError> {
    let outer = entries(data, 0)?;
    let Some(&(magic, ..)) = outer.first() else {
        return Err(SetError::Empty);
    };
    let mut set = MessageSet {
        magic,
        codec: NONE,
        xerial: false,
        log_append_time: false,
        records: Vec::with_capacity(outer.len()),
    };
    for (i, (m, attributes, timestamp, key, value)) in outer.into_iter().enumerate() {
        if m != magic {
            return Err(SetError::BadMagic {
                at: i,
                magic: m,
                expected: magic,
            });
        }
        set.log_append_time |= magic == 1 && attributes & LOG_APPEND_TIME_BIT != 0;
        let codec = attributes & CODEC_MASK;
        if codec == 0 {
            set.records.push(LegacyRecord {
                timestamp,
                key: key.map(<[u8]>::to_vec),
                value: value.map(<[u8]>::to_vec),
            });
            continue;
        }
        let codec = match codec {
            1 => GZIP,
            2 => SNAPPY,
            3 => LZ4,
            other => return Err(SetError::BadCodec(other)),
        };
        let compressed = value.unwrap_or_default();
        let inner = decompress(codec, magic, compressed, limit)?;
        set.codec = codec;
        set.xerial |= codec == SNAPPY && compression::is_xerial(compressed);
        for (im, iattributes, itimestamp, ikey, ivalue) in entries(&inner, 0)? {
            if im != magic {
                return Err(SetError::BadMagic {
                    at: i,
                    magic: im,
                    expected: magic,
                });
            }
            if iattributes & CODEC_MASK != 0 {
                return Err(SetError::Nested);
            }
            set.records.push(LegacyRecord {
                // A LogAppendTime wrapper's timestamp stands for all its messages.
                timestamp: if attributes & LOG_APPEND_TIME_BIT != 0 {
                    timestamp
                } else {
                    itimestamp
                },
                key: ikey.map(<[u8]>::to_vec),
                value: ivalue.map(<[u8]>::to_vec),
            });
        }
    }
    Ok(set)
}

fn decompress(codec: i16, magic: i8, data: &[u8], limit: usize) -> Result<Vec<u8>, SetError> {
    let fixed;
    let data = if codec == LZ4 && magic == 0 {
        fixed = fix_lz4_header_checksum(data);
        fixed.as_deref().unwrap_or(data)
    } else {
        data
    };
    compression::decompress(codec, data, limit).map_err(|e| SetError::Decompress(e.to_string()))
}

/// Magic 0's lz4 frames (KAFKA-3160) carry a header checksum computed over the magic number
/// and the descriptor instead of the descriptor alone: returns the frame with the correct
/// checksum when the stored one is that wrong one, else None (used as it is).
fn fix_lz4_header_checksum(frame: &[u8]) -> Option<Vec<u8>> {
    const MAGIC: [u8; 4] = [0x04, 0x22, 0x4d, 0x18];
    if frame.len() < 7 || frame[..4] != MAGIC {
        return None;
    }
    let flg = frame[4];
    let mut hc_at = 6;
    if flg & 0x08 != 0 {
        hc_at += 8; // content size
    }
    if flg & 0x01 != 0 {
        hc_at += 4; // dictionary id
    }
    let stored = *frame.get(hc_at)?;
    let right = (xxh32(&frame[4..hc_at], 0) >> 8) as u8;
    let broken = (xxh32(&frame[..hc_at], 0) >> 8) as u8;
    if stored == right || stored != broken {
        return None;
    }
    let mut fixed = frame.to_vec();
    fixed[hc_at] = right;
    Some(fixed)
}

/// xxHash32, for lz4 frame header checksums (a few bytes: the simple loop is enough).
pub fn xxh32(data: &[u8], seed: u32) -> u32 {
    const P1: u32 = 2_654_435_761;
    const P2: u32 = 2_246_822_519;
    const P3: u32 = 3_266_489_917;
    const P4: u32 = 668_265_263;
    const P5: u32 = 374_761_393;
    let word = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let round = |acc: u32, lane: u32| {
        acc.wrapping_add(lane.wrapping_mul(P2))
            .rotate_left(13)
            .wrapping_mul(P1)
    };
    let mut rest = data;
    let mut h = if data.len() >= 16 {
        let mut v = [
            seed.wrapping_add(P1).wrapping_add(P2),
            seed.wrapping_add(P2),
            seed,
            seed.wrapping_sub(P1),
        ];
        while rest.len() >= 16 {
            for (i, lane) in v.iter_mut().enumerate() {
                *lane = round(*lane, word(&rest[i * 4..]));
            }
            rest = &rest[16..];
        }
        v[0].rotate_left(1)
            .wrapping_add(v[1].rotate_left(7))
            .wrapping_add(v[2].rotate_left(12))
            .wrapping_add(v[3].rotate_left(18))
    } else {
        seed.wrapping_add(P5)
    };
    h = h.wrapping_add(data.len() as u32);
    while rest.len() >= 4 {
        h = h
            .wrapping_add(word(rest).wrapping_mul(P3))
            .rotate_left(17)
            .wrapping_mul(P4);
        rest = &rest[4..];
    }
    for &b in rest {
        h = h
            .wrapping_add(u32::from(b).wrapping_mul(P5))
            .rotate_left(11)
            .wrapping_mul(P1);
    }
    h ^= h >> 15;
    h = h.wrapping_mul(P2);
    h ^= h >> 13;
    h = h.wrapping_mul(P3);
    h ^ (h >> 16)
}

/// Converts a parsed set into one RecordBatch v2 (base offset 0, assigned by the log), its
/// records compressed with the set's codec (snappy in the set's framing), no producer id,
/// no headers. Magic 0 messages keep no timestamp (-1), as Kafka converts them.
pub fn to_batch(set: &MessageSet) -> Result<Vec<u8>, SetError> {
    let base_ts = set.records.first().map_or(NO_TIMESTAMP, |r| r.timestamp);
    let max_ts = set
        .records
        .iter()
        .map(|r| r.timestamp)
        .max()
        .unwrap_or(NO_TIMESTAMP);
    // Each record: its fields plus at most ~30 bytes of varints and attributes.
    let size: usize = set
        .records
        .iter()
        .map(|r| 30 + r.key.as_ref().map_or(0, Vec::len) + r.value.as_ref().map_or(0, Vec::len))
        .sum();
    let mut body = Vec::with_capacity(size);
    for (i, r) in set.records.iter().enumerate() {
        encode_record(
            &mut body,
            r.timestamp.wrapping_sub(base_ts),
            i as i32,
            r.key.as_deref(),
            r.value.as_deref(),
            &[],
        );
    }
    let records = compression::compress(set.codec, &body, set.xerial)
        .map_err(|e| SetError::Decompress(e.to_string()))?;
    let count = set.records.len() as i32;
    let mut attributes = set.codec;
    if set.log_append_time {
        attributes |= 1 << 3;
    }
    let mut b = Vec::with_capacity(HEADER_LEN + records.len());
    b.extend_from_slice(&0i64.to_be_bytes());
    b.extend_from_slice(&((HEADER_LEN - LOG_OVERHEAD + records.len()) as i32).to_be_bytes());
    b.extend_from_slice(&(-1i32).to_be_bytes());
    b.push(2);
    b.extend_from_slice(&0u32.to_be_bytes());
    b.extend_from_slice(&attributes.to_be_bytes());
    b.extend_from_slice(&(count - 1).to_be_bytes());
    b.extend_from_slice(&base_ts.to_be_bytes());
    b.extend_from_slice(&max_ts.to_be_bytes());
    b.extend_from_slice(&(-1i64).to_be_bytes());
    b.extend_from_slice(&(-1i16).to_be_bytes());
    b.extend_from_slice(&(-1i32).to_be_bytes());
    b.extend_from_slice(&count.to_be_bytes());
    b.extend_from_slice(&records);
    let crc = crc32c::crc32c(&b[ATTR_POS..]);
    b[CRC_POS..CRC_POS + 4].copy_from_slice(&crc.to_be_bytes());
    Ok(b)
}

/// One record on its way down: (offset, timestamp, key, value).
type Converted<'a> = (i64, i64, Option<&'a [u8]>, Option<&'a [u8]>);

/// Why fetched batches could not be converted for an old client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DownError {
    /// zstd data, which no old format can carry (UNSUPPORTED_COMPRESSION_TYPE).
    #[error("zstd batches cannot be sent in magic 0/1 message sets")]
    Zstd,
}

/// Converts whole RecordBatch v2 bytes read from a log into a message set of `magic` (0 for
/// Fetch v0-v1, 1 for v2-v3), for clients that cannot read RecordBatch v2 (Kafka's
/// down-conversion): records below `fetch_offset` are skipped, control batches skipped,
/// headers dropped; an uncompressed batch becomes plain messages, a compressed one a wrapper
/// of the same codec (inner offsets absolute for magic 0, relative for magic 1 with the
/// wrapper at the last offset; lz4 with a correct header checksum, which every client
/// reads). Stops before the output would pass `max_bytes`, but always converts the first
/// batch (so a client can move on). A zstd batch ends the conversion: [`DownError::Zstd`]
/// if nothing was converted yet. A batch that does not parse ends it too (the log's own
/// bytes; never expected).
pub fn down_convert(
    data: &[u8],
    magic: i8,
    fetch_offset: i64,
    max_bytes: usize,
) -> Result<Vec<u8>, DownError> {
    use super::batch::BatchHeader;
    use super::record::{parse_records, records_of};
    // Old framing is a little larger than a batch's for small records; grow from there.
    let mut out = Vec::with_capacity(data.len().min(max_bytes).saturating_add(data.len() / 4));
    let mut rest = data;
    while rest.len() >= HEADER_LEN {
        let Ok(h) = BatchHeader::parse(rest) else {
            break;
        };
        let len = h.total_len();
        if len > rest.len() {
            break;
        }
        let (raw, next) = rest.split_at(len);
        rest = next;
        if h.is_control() || h.last_offset() < fetch_offset {
            continue;
        }
        let codec = h.codec();
        if codec == compression::ZSTD {
            if out.is_empty() {
                return Err(DownError::Zstd);
            }
            break;
        }
        let Some(body) = records_of(raw, &h) else {
            break;
        };
        let Ok(views) = parse_records(&body, h.record_count) else {
            break;
        };
        let log_append = h.attributes & (1 << 3) != 0;
        let attributes = if magic == 1 && log_append {
            LOG_APPEND_TIME_BIT
        } else {
            0
        };
        let messages: Vec<Converted<'_>> = views
            .iter()
            .map(|v| {
                let offset = h.base_offset + i64::from(v.offset_delta);
                let ts = if log_append {
                    h.max_timestamp
                } else {
                    h.base_timestamp + v.timestamp_delta
                };
                (offset, ts, v.key, v.value)
            })
            .filter(|(offset, ..)| *offset >= fetch_offset)
            .collect();
        let Some(&(last, ..)) = messages.last() else {
            continue;
        };
        let mut converted = Vec::new();
        if codec == NONE {
            for (offset, ts, key, value) in &messages {
                encode_message(
                    &mut converted,
                    *offset,
                    magic,
                    attributes,
                    *ts,
                    *key,
                    *value,
                );
            }
        } else {
            let mut inner = Vec::new();
            for (i, (offset, ts, key, value)) in messages.iter().enumerate() {
                let inner_offset = if magic == 0 { *offset } else { i as i64 };
                encode_message(
                    &mut inner,
                    inner_offset,
                    magic,
                    attributes,
                    *ts,
                    *key,
                    *value,
                );
            }
            let Ok(compressed) = compression::compress(codec, &inner, codec == SNAPPY) else {
                break;
            };
            let max_ts = messages.iter().map(|m| m.1).max().unwrap_or(NO_TIMESTAMP);
            encode_message(
                &mut converted,
                last,
                magic,
                attributes | codec as i8,
                max_ts,
                None,
                Some(&compressed),
            );
        }
        if !out.is_empty() && out.len() + converted.len() > max_bytes {
            break;
        }
        out.extend_from_slice(&converted);
    }
    Ok(out)
}

/// Encodes one uncompressed message (magic 0 or 1; the offset is the entry's).
pub fn encode_message(
    out: &mut Vec<u8>,
    offset: i64,
    magic: i8,
    attributes: i8,
    timestamp: i64,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
) {
    // Written in place: the CRC is patched in once the body is there (the down-conversion
    // of a fetch encodes every message).
    let field = |f: Option<&[u8]>| 4 + f.map_or(0, <[u8]>::len);
    let body_len = 2 + if magic == 1 { 8 } else { 0 } + field(key) + field(value);
    out.reserve(12 + 4 + body_len);
    out.extend_from_slice(&offset.to_be_bytes());
    out.extend_from_slice(&((body_len + 4) as i32).to_be_bytes());
    let crc_at = out.len();
    out.extend_from_slice(&[0; 4]);
    out.push(magic as u8);
    out.push(attributes as u8);
    if magic == 1 {
        out.extend_from_slice(&timestamp.to_be_bytes());
    }
    for f in [key, value] {
        match f {
            Some(b) => {
                out.extend_from_slice(&(b.len() as i32).to_be_bytes());
                out.extend_from_slice(b);
            }
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }
    let crc = crc32fast::hash(&out[crc_at + 4..]);
    out[crc_at..crc_at + 4].copy_from_slice(&crc.to_be_bytes());
}

#[cfg(test)]
#[path = "message_set_tests.rs"]
mod tests;
