//! A view of a RecordBatch (magic 2) header, validated without decoding any record.
//!
//! Byte layout (big-endian), as Kafka defines it:
//!
//! ```text
//! offset  size  field
//!      0     8  base_offset
//!      8     4  batch_length           bytes after this field (the whole batch is 12 + batch_length)
//!     12     4  partition_leader_epoch
//!     16     1  magic                  must be 2
//!     17     4  crc                    CRC-32C of bytes 21..end
//!     21     2  attributes             bits 0-2 codec, 3 timestamp type, 4 transactional, 5 control
//!     23     4  last_offset_delta
//!     27     8  base_timestamp
//!     35     8  max_timestamp
//!     43     8  producer_id
//!     51     2  producer_epoch
//!     53     4  base_sequence
//!     57     4  record_count
//!     61        records...
//! ```
//!
//! Only `base_offset` and `partition_leader_epoch` lie outside the CRC, so assigning offsets
//! never touches the checksum. Setting LogAppendTime rewrites attributes and max_timestamp and
//! therefore recomputes the CRC.

#[cfg(test)]
use bytes::BytesMut;
use bytes::{Buf, BufMut, Bytes};

pub use super::control::{encode_control, encode_txn_batch, parse_control, ControlMarker};

pub const HEADER_LEN: usize = 61;
/// Offset of the `batch_length` field; the bytes before it plus the field itself.
pub const LOG_OVERHEAD: usize = 12;
#[cfg(test)]
const MAGIC_POS: usize = 16;
pub(crate) const CRC_POS: usize = 17;
pub(crate) const ATTR_POS: usize = 21;
const MAX_TS_POS: usize = 35;
#[cfg(test)]
const RECORD_COUNT_POS: usize = 57;
/// The smallest possible encoded record: length, attributes, timestamp delta, offset delta,
/// key length, value length, header count, one byte each.
const MIN_RECORD_LEN: usize = 7;
const TIMESTAMP_TYPE_BIT: i16 = 1 << 3;
/// Attribute bit 4: the batch belongs to a transaction.
pub const TRANSACTIONAL_BIT: i16 = 1 << 4;
/// Attribute bit 5: the batch holds control records (transaction markers).
pub const CONTROL_BIT: i16 = 1 << 5;
const CODEC_MASK: i16 = 0x07;

/// Why a batch was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("batch shorter than its header or its declared length")]
    Truncated,
    #[error("batch length {0} is invalid")]
    BadLength(i64),
    #[error("unsupported magic {0}")]
    BadMagic(i8),
    #[error("CRC mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    BadCrc { stored: u32, computed: u32 },
    #[error("record count {count} does not fit the batch or its offset delta {delta}")]
    BadCount { count: i32, delta: i32 },
    #[error("unknown compression codec {0}")]
    BadCodec(i16),
}

/// A record batch header read from a byte slice. Copies the fixed fields out; the caller keeps
/// the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    pub base_offset: i64,
    pub batch_length: i32,
    /// The epoch of the leader that appended the batch (bytes 12..16, outside the CRC).
    pub partition_leader_epoch: i32,
    pub magic: i8,
    pub crc: u32,
    pub attributes: i16,
    pub last_offset_delta: i32,
    pub base_timestamp: i64,
    pub max_timestamp: i64,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    pub record_count: i32,
}

impl BatchHeader {
    /// Reads the header at the start of `buf` (at least [`HEADER_LEN`] bytes), checking nothing
    /// beyond the length of `buf`.
    pub fn parse(buf: &[u8]) -> Result<BatchHeader, BatchError> {
        if buf.len() < HEADER_LEN {
            return Err(BatchError::Truncated);
        }
        let mut b = &buf[..HEADER_LEN];
        Ok(BatchHeader {
            base_offset: b.get_i64(),
            batch_length: b.get_i32(),
            partition_leader_epoch: b.get_i32(),
            magic: b.get_i8(),
            crc: b.get_u32(),
            attributes: b.get_i16(),
            last_offset_delta: b.get_i32(),
            base_timestamp: b.get_i64(),
            max_timestamp: b.get_i64(),
            producer_id: b.get_i64(),
            producer_epoch: b.get_i16(),
            base_sequence: b.get_i32(),
            record_count: b.get_i32(),
        })
    }

    /// The total size of the batch on the wire and on disk.
    pub fn total_len(&self) -> usize {
        LOG_OVERHEAD + self.batch_length.max(0) as usize
    }

    /// `base_offset + last_offset_delta`, saturating at `i64::MAX`: a header read from a
    /// client or a damaged file may carry any base offset, and no arithmetic on it may panic.
    pub fn last_offset(&self) -> i64 {
        self.base_offset
            .saturating_add(i64::from(self.last_offset_delta))
    }

    pub fn is_control(&self) -> bool {
        self.attributes & CONTROL_BIT != 0
    }

    /// Part of a transaction (attribute bit 4): a transactional producer's data, or a marker.
    pub fn is_transactional(&self) -> bool {
        self.attributes & 0x10 != 0
    }

    pub fn codec(&self) -> i16 {
        self.attributes & CODEC_MASK
    }

    pub fn has_producer_id(&self) -> bool {
        self.producer_id >= 0
    }

    /// The sequence number of the last record, wrapping at `i32::MAX` as Kafka does.
    pub fn last_sequence(&self) -> i32 {
        if self.base_sequence < 0 {
            return -1;
        }
        let last = i64::from(self.base_sequence) + i64::from(self.last_offset_delta);
        (last % (i64::from(i32::MAX) + 1)) as i32
    }
}

/// Reads just the `batch_length` field at the start of `buf` and returns the whole batch size,
/// or `None` if fewer than [`LOG_OVERHEAD`] bytes are present or the length is impossible.
pub fn peek_total_len(buf: &[u8]) -> Option<usize> {
    if buf.len() < LOG_OVERHEAD {
        return None;
    }
    let len = i32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]);
    if (len as i64) < (HEADER_LEN - LOG_OVERHEAD) as i64 {
        return None;
    }
    Some(LOG_OVERHEAD + len as usize)
}

/// Fully validates one batch occupying exactly `buf`: length, magic, CRC-32C, codec, and that
/// the record count fits both the offset delta and the bytes present.
pub fn validate(buf: &[u8]) -> Result<BatchHeader, BatchError> {
    let h = BatchHeader::parse(buf)?;
    if (h.batch_length as i64) < (HEADER_LEN - LOG_OVERHEAD) as i64 {
        return Err(BatchError::BadLength(h.batch_length as i64));
    }
    if h.total_len() != buf.len() {
        return Err(BatchError::Truncated);
    }
    if h.magic != 2 {
        return Err(BatchError::BadMagic(h.magic));
    }
    let computed = crc32c::crc32c(&buf[ATTR_POS..]);
    if computed != h.crc {
        return Err(BatchError::BadCrc {
            stored: h.crc,
            computed,
        });
    }
    if h.codec() > 4 {
        return Err(BatchError::BadCodec(h.codec()));
    }
    let payload = buf.len() - HEADER_LEN;
    let count_ok = h.record_count >= 1
        && h.last_offset_delta >= 0
        && h.last_offset_delta >= h.record_count - 1
        // Uncompressed records are at least MIN_RECORD_LEN bytes each; a compressed payload
        // can hold more, but never an empty one.
        && (h.codec() != 0 || (h.record_count as usize).saturating_mul(MIN_RECORD_LEN) <= payload)
        && payload > 0;
    if !(count_ok || h.is_control() && h.record_count >= 1) {
        return Err(BatchError::BadCount {
            count: h.record_count,
            delta: h.last_offset_delta,
        });
    }
    Ok(h)
}

/// [`validate`] for a batch read from a log (recovery, a follower's append of the leader's
/// bytes): also accepts the empty batches the log cleaner leaves (no record, no payload, a
/// valid CRC), which a client may not send.
pub fn validate_stored(buf: &[u8]) -> Result<BatchHeader, BatchError> {
    match validate(buf) {
        Err(BatchError::BadCount { count: 0, delta }) if delta >= 0 && buf.len() == HEADER_LEN => {
            BatchHeader::parse(buf)
        }
        other => other,
    }
}

/// Splits a produce payload into the batches it holds, validating each.
pub fn split_batches(mut records: Bytes) -> Result<Vec<(Bytes, BatchHeader)>, BatchError> {
    let mut out = Vec::with_capacity(1);
    while !records.is_empty() {
        let len = peek_total_len(&records).ok_or(BatchError::Truncated)?;
        if len > records.len() {
            return Err(BatchError::Truncated);
        }
        let batch = records.split_to(len);
        let h = validate(&batch)?;
        out.push((batch, h));
    }
    Ok(out)
}

/// The offset and timestamp of the first record in `batch` (a whole stored batch with header
/// `h`) whose timestamp is >= `ts`. With LogAppendTime every record carries the batch's max
/// timestamp. If the records cannot be decoded (or would decompress beyond
/// [`MAX_DECOMPRESSED_BATCH`](super::record::MAX_DECOMPRESSED_BATCH)), the batch's base offset
/// and max timestamp.
pub fn first_record_at_or_after(batch: &[u8], h: &BatchHeader, ts: i64) -> (i64, i64) {
    let fallback = (h.base_offset, h.max_timestamp);
    if h.attributes & TIMESTAMP_TYPE_BIT != 0 {
        return fallback;
    }
    let Some(records) = super::record::records_of(batch, h) else {
        return fallback;
    };
    let Ok(views) = super::record::parse_records(&records, h.record_count) else {
        return fallback;
    };
    views
        .iter()
        .map(|r| {
            (
                h.base_offset.saturating_add(i64::from(r.offset_delta)),
                h.base_timestamp.saturating_add(r.timestamp_delta),
            )
        })
        .find(|(_, t)| *t >= ts)
        .unwrap_or(fallback)
}

/// The header a validated batch gets in the log: `base_offset` and `leader_epoch` (the
/// appending leader's epoch, bytes 12..16) set, and, when `log_append_time` is given, the LogAppendTime attribute and max_timestamp with
/// the CRC recomputed over the new header tail and the untouched records. Only these 61 bytes
/// are rewritten; the records (`batch[HEADER_LEN..]`) go to the log as the client sent them.
pub fn assigned_header(
    batch: &[u8],
    base_offset: i64,
    leader_epoch: i32,
    log_append_time: Option<i64>,
) -> [u8; HEADER_LEN] {
    let mut head = [0u8; HEADER_LEN];
    head.copy_from_slice(&batch[..HEADER_LEN]);
    head[..8].copy_from_slice(&base_offset.to_be_bytes());
    head[12..16].copy_from_slice(&leader_epoch.to_be_bytes());
    if let Some(ts) = log_append_time {
        let attrs = i16::from_be_bytes([head[ATTR_POS], head[ATTR_POS + 1]]) | TIMESTAMP_TYPE_BIT;
        head[ATTR_POS..ATTR_POS + 2].copy_from_slice(&attrs.to_be_bytes());
        head[MAX_TS_POS..MAX_TS_POS + 8].copy_from_slice(&ts.to_be_bytes());
        let crc = crc32c::crc32c_append(crc32c::crc32c(&head[ATTR_POS..]), &batch[HEADER_LEN..]);
        head[CRC_POS..CRC_POS + 4].copy_from_slice(&crc.to_be_bytes());
    }
    head
}

/// Encodes an uncompressed batch of key/value records (`None`: a null value, a tombstone)
/// with every timestamp `now_ms`, no producer id, base offset 0 (the log assigns it): what
/// the broker itself appends, e.g. to `__consumer_offsets`. The records are encoded with
/// [`super::record::encode_record`] and the CRC-32C covers bytes 21 to the end.
pub fn encode_batch(records: &[(Vec<u8>, Option<Vec<u8>>)], now_ms: i64) -> Vec<u8> {
    encode_with(records, now_ms, 0, -1, -1)
}

/// An uncompressed batch of key/value records as [`encode_batch`] makes, with the given
/// `attributes` and producer id and epoch, base sequence -1 and base offset 0.
pub(super) fn encode_with(
    records: &[(Vec<u8>, Option<Vec<u8>>)],
    now_ms: i64,
    attributes: i16,
    producer_id: i64,
    producer_epoch: i16,
) -> Vec<u8> {
    let mut body = Vec::new();
    for (i, (key, value)) in records.iter().enumerate() {
        super::record::encode_record(&mut body, 0, i as i32, Some(key), value.as_deref(), &[]);
    }
    let count = records.len() as i32;
    let mut b = Vec::with_capacity(HEADER_LEN + body.len());
    b.put_i64(0);
    b.put_i32((HEADER_LEN - LOG_OVERHEAD + body.len()) as i32);
    b.put_i32(-1);
    b.put_i8(2);
    b.put_u32(0);
    b.put_i16(attributes);
    b.put_i32(count - 1);
    b.put_i64(now_ms);
    b.put_i64(now_ms);
    b.put_i64(producer_id);
    b.put_i16(producer_epoch);
    b.put_i32(-1);
    b.put_i32(count);
    b.extend_from_slice(&body);
    let crc = crc32c::crc32c(&b[ATTR_POS..]);
    b[CRC_POS..CRC_POS + 4].copy_from_slice(&crc.to_be_bytes());
    b
}

/// A batch as it will be stored: its rewritten header followed by its records (test helper).
#[cfg(test)]
pub fn assign(batch: &[u8], base_offset: i64, log_append_time: Option<i64>) -> Bytes {
    let mut out = BytesMut::with_capacity(batch.len());
    out.extend_from_slice(&assigned_header(batch, base_offset, 7, log_append_time));
    out.extend_from_slice(&batch[HEADER_LEN..]);
    out.freeze()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn an_encoded_batch_validates_and_reads_back() {
        let records = vec![
            (b"k1".to_vec(), Some(b"v1".to_vec())),
            (b"k2".to_vec(), None),
        ];
        let raw = encode_batch(&records, 1_234);
        let h = validate(&raw).expect("a valid batch");
        assert_eq!((h.record_count, h.last_offset_delta), (2, 1));
        assert_eq!((h.base_timestamp, h.max_timestamp), (1_234, 1_234));
        assert_eq!((h.producer_id, h.codec(), h.is_control()), (-1, 0, false));
        let views = crate::log::record::parse_records(&raw[HEADER_LEN..], 2).unwrap();
        let got: Vec<_> = views
            .iter()
            .map(|v| (v.key.unwrap().to_vec(), v.value.map(<[u8]>::to_vec)))
            .collect();
        assert_eq!(got, records);
        assert!(views[1].null_value, "a tombstone");
    }

    /// Builds a valid uncompressed batch of `count` minimal records (test helper).
    pub fn make_batch(base_offset: i64, count: i32, producer: Option<(i64, i16, i32)>) -> Vec<u8> {
        let mut records = Vec::new();
        for i in 0..count {
            // length=6 (zigzag 12), attrs 0, ts delta 0, offset delta i, key -1, value -1, 0 headers
            let delta = (i << 1) as u8;
            records.extend_from_slice(&[12, 0, 0, delta, 1, 1, 0]);
        }
        let (pid, epoch, seq) = producer.unwrap_or((-1, -1, -1));
        let mut b = Vec::new();
        b.put_i64(base_offset);
        b.put_i32((HEADER_LEN - LOG_OVERHEAD + records.len()) as i32);
        b.put_i32(0);
        b.put_i8(2);
        b.put_u32(0);
        b.put_i16(0);
        b.put_i32(count - 1);
        b.put_i64(1_000);
        b.put_i64(1_000 + i64::from(count));
        b.put_i64(pid);
        b.put_i16(epoch);
        b.put_i32(seq);
        b.put_i32(count);
        b.extend_from_slice(&records);
        let crc = crc32c::crc32c(&b[ATTR_POS..]);
        b[CRC_POS..CRC_POS + 4].copy_from_slice(&crc.to_be_bytes());
        b
    }

    #[test]
    fn valid_batch_parses() {
        let b = make_batch(0, 3, Some((7, 1, 10)));
        let h = validate(&b).unwrap();
        assert_eq!(h.record_count, 3);
        assert_eq!(h.last_offset_delta, 2);
        assert_eq!(h.producer_id, 7);
        assert_eq!(h.last_sequence(), 12);
        assert_eq!(h.total_len(), b.len());
    }

    #[test]
    fn crc_mismatch_is_refused() {
        let mut b = make_batch(0, 2, None);
        let last = b.len() - 1;
        b[last] ^= 0xff;
        assert!(matches!(validate(&b), Err(BatchError::BadCrc { .. })));
    }

    #[test]
    fn wrong_magic_and_lengths_are_refused() {
        let mut b = make_batch(0, 1, None);
        b[MAGIC_POS] = 1;
        assert_eq!(validate(&b), Err(BatchError::BadMagic(1)));
        let b = make_batch(0, 1, None);
        assert_eq!(validate(&b[..b.len() - 1]), Err(BatchError::Truncated));
        assert_eq!(validate(&b[..30]), Err(BatchError::Truncated));
    }

    #[test]
    fn record_count_lies_are_refused() {
        let mut b = make_batch(0, 2, None);
        b[RECORD_COUNT_POS..RECORD_COUNT_POS + 4].copy_from_slice(&1000i32.to_be_bytes());
        let crc = crc32c::crc32c(&b[ATTR_POS..]);
        b[CRC_POS..CRC_POS + 4].copy_from_slice(&crc.to_be_bytes());
        assert!(matches!(validate(&b), Err(BatchError::BadCount { .. })));
    }

    /// The cleaner's empty batches are valid in a log, not from a client.
    #[test]
    fn empty_batches_are_stored_only() {
        let mut b = make_batch(10, 3, Some((4, 0, 0)))[..HEADER_LEN].to_vec();
        b[8..12].copy_from_slice(&((HEADER_LEN - LOG_OVERHEAD) as i32).to_be_bytes());
        b[RECORD_COUNT_POS..RECORD_COUNT_POS + 4].copy_from_slice(&0i32.to_be_bytes());
        let crc = crc32c::crc32c(&b[ATTR_POS..]);
        b[CRC_POS..CRC_POS + 4].copy_from_slice(&crc.to_be_bytes());
        assert!(matches!(validate(&b), Err(BatchError::BadCount { .. })));
        let h = validate_stored(&b).unwrap();
        assert_eq!((h.record_count, h.last_offset()), (0, 12));
        let mut bad = b.clone();
        bad[60] ^= 1;
        assert!(matches!(
            validate_stored(&bad),
            Err(BatchError::BadCrc { .. })
        ));
    }

    #[test]
    fn assign_rewrites_offset_but_keeps_crc_valid() {
        let b = make_batch(0, 4, None);
        let out = assign(&b, 1234, None);
        let h = validate(&out).unwrap();
        assert_eq!(h.base_offset, 1234);
        assert_eq!(h.last_offset(), 1237);
        assert_eq!(h.partition_leader_epoch, 7, "stamped outside the CRC");
        assert_eq!(&out[MAGIC_POS..], &b[MAGIC_POS..]);
        let out = assign(&b, 5, Some(99_999));
        let h = validate(&out).unwrap();
        assert_eq!(h.max_timestamp, 99_999);
        assert_ne!(h.attributes & TIMESTAMP_TYPE_BIT, 0);
    }

    #[test]
    fn split_finds_each_batch() {
        let mut two = make_batch(0, 1, None);
        two.extend_from_slice(&make_batch(1, 2, None));
        let v = split_batches(Bytes::from(two)).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].1.record_count, 2);
        let mut torn = make_batch(0, 1, None);
        torn.extend_from_slice(&[0, 0, 0]);
        assert!(split_batches(Bytes::from(torn)).is_err());
    }

    #[test]
    fn sequence_wraps() {
        let mut b = make_batch(0, 3, Some((1, 0, i32::MAX - 1)));
        let crc = crc32c::crc32c(&b[ATTR_POS..]);
        b[CRC_POS..CRC_POS + 4].copy_from_slice(&crc.to_be_bytes());
        let h = validate(&b).unwrap();
        assert_eq!(h.last_sequence(), 0); // MAX-1, MAX, 0
    }

    /// Offsets computed from a header or a record never overflow, whatever base offset the
    /// bytes carry (the fuzzer found a record's offset delta added to a client's base offset).
    #[test]
    fn offsets_near_the_top_saturate() {
        let b = make_batch(i64::MAX - 1, 3, None);
        let h = validate(&b).unwrap();
        assert_eq!(h.last_offset(), i64::MAX);
        // No record is that late: every record's offset is computed, then the fallback.
        assert_eq!(
            first_record_at_or_after(&b, &h, i64::MAX),
            (i64::MAX - 1, h.max_timestamp)
        );
    }
}
