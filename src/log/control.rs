//! Transaction control batches (KIP-98), as Kafka's `EndTransactionMarker` and
//! `ControlRecordType` define them, and the coordinator's transactional data batches.
//!
//! A marker is a RecordBatch v2 with attributes transactional (0x10) | control (0x20), the
//! producer id and epoch of the transaction, base sequence -1, and exactly one record:
//!
//! ```text
//! key   (4 bytes)  version i16 = 0, type i16 (0 ABORT, 1 COMMIT; others are not markers)
//! value (6 bytes)  version i16 = 0, coordinator_epoch i32
//! ```
//!
//! All integers big-endian. Parsing is bounded by the batch's own bytes and never panics;
//! only uncompressed control batches are read (Kafka writes markers uncompressed).

use super::batch::{encode_with, BatchHeader, CONTROL_BIT, TRANSACTIONAL_BIT};
use super::compression;
use super::record::parse_records;

/// The content of a transaction marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlMarker {
    /// COMMIT (true) or ABORT (false).
    pub commit: bool,
    pub coordinator_epoch: i32,
}

const ABORT: i16 = 0;
const COMMIT: i16 = 1;

/// A complete marker batch at base offset 0 with a valid CRC-32C (module docs), its one
/// record stamped `timestamp`.
pub fn encode_control(
    producer_id: i64,
    producer_epoch: i16,
    commit: bool,
    coordinator_epoch: i32,
    timestamp: i64,
) -> Vec<u8> {
    let mut key = Vec::with_capacity(4);
    key.extend_from_slice(&0i16.to_be_bytes());
    key.extend_from_slice(&(if commit { COMMIT } else { ABORT }).to_be_bytes());
    let mut value = Vec::with_capacity(6);
    value.extend_from_slice(&0i16.to_be_bytes());
    value.extend_from_slice(&coordinator_epoch.to_be_bytes());
    encode_with(
        &[(key, Some(value))],
        timestamp,
        TRANSACTIONAL_BIT | CONTROL_BIT,
        producer_id,
        producer_epoch,
    )
}

/// An uncompressed transactional data batch of key/value records (a tombstone when the
/// value is `None`) from `producer_id`/`producer_epoch`, base sequence -1 (no sequence: the
/// group coordinator's TxnOffsetCommit writes; the log checks only their epoch).
pub fn encode_txn_batch(
    records: &[(Vec<u8>, Option<Vec<u8>>)],
    timestamp: i64,
    producer_id: i64,
    producer_epoch: i16,
) -> Vec<u8> {
    encode_with(
        records,
        timestamp,
        TRANSACTIONAL_BIT,
        producer_id,
        producer_epoch,
    )
}

/// The marker in a whole control batch `raw_batch` (header `h`): `None` when the batch is
/// not a control batch, is compressed, holds no record, or its first record is not an
/// ABORT or COMMIT marker (e.g. KRaft's control records) or is malformed.
pub fn parse_control(raw_batch: &[u8], h: &BatchHeader) -> Option<ControlMarker> {
    if !h.is_control() || h.codec() != compression::NONE || h.record_count < 1 {
        return None;
    }
    let body = raw_batch.get(super::batch::HEADER_LEN..h.total_len().min(raw_batch.len()))?;
    // Only the first record matters; a lying count cannot make this allocate much (the
    // records are bounded by `body`).
    let records = parse_records(body, h.record_count).ok()?;
    let first = records.first()?;
    let key = first.key?;
    if key.len() < 4 {
        return None;
    }
    let version = i16::from_be_bytes([key[0], key[1]]);
    let kind = i16::from_be_bytes([key[2], key[3]]);
    if version < 0 || !(kind == ABORT || kind == COMMIT) {
        return None;
    }
    let value = first.value?;
    if value.len() < 6 || i16::from_be_bytes([value[0], value[1]]) < 0 {
        return None;
    }
    Some(ControlMarker {
        commit: kind == COMMIT,
        coordinator_epoch: i32::from_be_bytes([value[2], value[3], value[4], value[5]]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::batch::{self, ATTR_POS, CRC_POS, HEADER_LEN};

    #[test]
    fn markers_round_trip() {
        for (commit, epoch) in [(true, 7), (false, 0), (false, i32::MAX)] {
            let raw = encode_control(42, 3, commit, epoch, 1_000);
            let h = batch::validate(&raw).expect("a valid batch");
            assert_eq!(h.attributes, 0x30);
            assert_eq!((h.producer_id, h.producer_epoch), (42, 3));
            assert_eq!((h.base_sequence, h.record_count, h.base_offset), (-1, 1, 0));
            assert_eq!(h.max_timestamp, 1_000);
            assert_eq!(
                parse_control(&raw, &h),
                Some(ControlMarker {
                    commit,
                    coordinator_epoch: epoch
                })
            );
        }
    }

    /// Bytes of Kafka's own COMMIT marker record (key 0,1; value 0, epoch 5) as the Java
    /// client's `EndTransactionMarker` writes it.
    #[test]
    fn kafka_layout() {
        let raw = encode_control(1, 0, true, 5, 0);
        let records = &raw[HEADER_LEN..];
        // length 16, attrs 0, ts delta 0, offset delta 0, key len 4, key, value len 6,
        // value, 0 headers (varints zigzag-encoded).
        assert_eq!(
            records,
            [32, 0, 0, 0, 8, 0, 0, 0, 1, 12, 0, 0, 0, 0, 0, 5, 0]
        );
    }

    #[test]
    fn transactional_batches_carry_the_producer() {
        let raw = encode_txn_batch(&[(b"k".to_vec(), Some(b"v".to_vec()))], 5, 9, 2);
        let h = batch::validate(&raw).unwrap();
        assert!(h.is_transactional() && !h.is_control());
        assert_eq!(
            (h.producer_id, h.producer_epoch, h.base_sequence),
            (9, 2, -1)
        );
        assert_eq!(parse_control(&raw, &h), None);
    }

    fn reseal(b: &mut [u8]) {
        let crc = crc32c::crc32c(&b[ATTR_POS..]);
        b[CRC_POS..CRC_POS + 4].copy_from_slice(&crc.to_be_bytes());
    }

    /// Garbage, cut batches and other control types are not markers, and never panic.
    #[test]
    fn non_markers() {
        let raw = encode_control(1, 0, false, 1, 0);
        let h = BatchHeader::parse(&raw).unwrap();
        for cut in 0..raw.len() {
            assert_eq!(parse_control(&raw[..cut], &h), None, "cut at {cut}");
        }
        // KRaft's LEADER_CHANGE (type 2) is a control record but no marker.
        let mut other = raw.clone();
        let type_pos = HEADER_LEN + 8;
        other[type_pos] = 2;
        reseal(&mut other);
        assert_eq!(
            parse_control(&other, &BatchHeader::parse(&other).unwrap()),
            None
        );
        // A negative key version.
        let mut bad = raw.clone();
        bad[HEADER_LEN + 5] = 0xff;
        assert_eq!(
            parse_control(&bad, &BatchHeader::parse(&bad).unwrap()),
            None
        );
        // Random bytes after a control header.
        let mut junk = raw[..HEADER_LEN].to_vec();
        junk.extend((0..200u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
        let mut jh = BatchHeader::parse(&junk).unwrap();
        jh.batch_length = (junk.len() - batch::LOG_OVERHEAD) as i32;
        jh.record_count = i32::MAX;
        let _ = parse_control(&junk, &jh);
        // A data batch is no marker.
        let data = batch::encode_batch(&[(b"k".to_vec(), None)], 0);
        assert_eq!(parse_control(&data, &batch::validate(&data).unwrap()), None);
    }
}
