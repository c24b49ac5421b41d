//! Kafka's `__transaction_state` records: what a transaction coordinator appends at every
//! state change of a transactional id, byte for byte as Kafka writes them, so that Kafka's
//! tools (`kafka-console-consumer --formatter TransactionLogMessageFormatter`,
//! `kafka-dump-log --transaction-log-decoder`) read weir's and weir reads Kafka's. Pure.
//!
//! Key, version 0 (never flexible): `transactionalId` string (int16 length).
//!
//! Value, version 0 (what weir writes; Kafka writes it until `transaction.version` 1):
//! `producerId` int64, `producerEpoch` int16, `transactionTimeoutMs` int32,
//! `transactionStatus` int8 (the [`TxnState`] id), `transactionPartitions` nullable int32-count
//! array (null when Empty) of { `topic` string, `partitionIds` int32-count array of int32 },
//! `transactionLastUpdateTimestampMs` int64, `transactionStartTimestampMs` int64.
//!
//! Version 1 is the flexible form of the same fields: compact strings and arrays (unsigned
//! varint length + 1, 0: null), a tagged-field section ending each partitions entry and the
//! value, whose tags are 0 `previousProducerId` int64, 1 `nextProducerId` int64 and 2
//! `clientTransactionVersion` int16. Read, never written.
//!
//! A null value (a tombstone) removes an expired transactional id.

use std::collections::BTreeSet;

use bytes::BufMut;

use super::state::TxnState;
use crate::group::records::{
    done, for_tagged, get_i16, get_i32, get_i64, get_len, get_str, get_string, need, put_str,
    RecordError,
};

pub const KEY_VERSION: i16 = 0;
pub const VALUE_VERSION: i16 = 0;

pub fn encode_key(transactional_id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + 2 + transactional_id.len());
    out.put_i16(KEY_VERSION);
    put_str(&mut out, transactional_id);
    out
}

/// The transactional id of a key; `OtherKey` for a version this coordinator does not know
/// (skipped on load, as Kafka's `UnknownKey`).
pub fn decode_key(mut b: &[u8]) -> Result<String, RecordError> {
    let version = get_i16(&mut b)?;
    if version != KEY_VERSION {
        return Err(RecordError::OtherKey(version));
    }
    let id = get_str(&mut b)?;
    done(b)?;
    Ok(id)
}

/// One transactional id's stored state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnValue {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub timeout_ms: i32,
    pub state: TxnState,
    pub partitions: BTreeSet<(String, i32)>,
    pub last_update_ms: i64,
    pub start_ms: i64,
    /// Tag 0 of version 1; -1 when absent.
    pub previous_producer_id: i64,
}

impl TxnValue {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.put_i16(VALUE_VERSION);
        out.put_i64(self.producer_id);
        out.put_i16(self.producer_epoch);
        out.put_i32(self.timeout_ms);
        out.put_i8(self.state.id());
        if self.state == TxnState::Empty {
            out.put_i32(-1);
        } else {
            let mut topics: Vec<(&str, Vec<i32>)> = Vec::new();
            for (t, p) in &self.partitions {
                match topics.last_mut() {
                    Some((last, ps)) if *last == t.as_str() => ps.push(*p),
                    _ => topics.push((t.as_str(), vec![*p])),
                }
            }
            out.put_i32(topics.len() as i32);
            for (t, ps) in topics {
                put_str(&mut out, t);
                out.put_i32(ps.len() as i32);
                for p in ps {
                    out.put_i32(p);
                }
            }
        }
        out.put_i64(self.last_update_ms);
        out.put_i64(self.start_ms);
        out
    }

    pub fn decode(mut b: &[u8]) -> Result<TxnValue, RecordError> {
        let version = get_i16(&mut b)?;
        let flexible = match version {
            0 => false,
            1 => true,
            v => {
                return Err(RecordError::UnknownVersion {
                    what: "transaction value",
                    version: v,
                })
            }
        };
        let producer_id = get_i64(&mut b)?;
        let producer_epoch = get_i16(&mut b)?;
        let timeout_ms = get_i32(&mut b)?;
        need(b, 1)?;
        let status = b[0] as i8;
        b = &b[1..];
        let state = TxnState::from_id(status).ok_or(RecordError::UnknownVersion {
            what: "transaction status",
            version: i16::from(status),
        })?;
        let mut partitions = BTreeSet::new();
        if let Some(topics) = get_len(&mut b, flexible)? {
            for _ in 0..topics {
                let topic = get_string(&mut b, flexible)?.ok_or(RecordError::BadString)?;
                let count = get_len(&mut b, flexible)?.unwrap_or(0);
                // Each id is 4 bytes: a count larger than what is left is a damaged record,
                // refused before anything is reserved for it.
                need(b, count.saturating_mul(4))?;
                for _ in 0..count {
                    partitions.insert((topic.clone(), get_i32(&mut b)?));
                }
                if flexible {
                    for_tagged(&mut b, |_, _| {})?;
                }
            }
        }
        let last_update_ms = get_i64(&mut b)?;
        let start_ms = get_i64(&mut b)?;
        let mut previous_producer_id = -1;
        if flexible {
            for_tagged(&mut b, |tag, data| {
                if tag == 0 && data.len() == 8 {
                    previous_producer_id = i64::from_be_bytes(data.try_into().unwrap_or([0; 8]));
                }
            })?;
        }
        done(b)?;
        Ok(TxnValue {
            producer_id,
            producer_epoch,
            timeout_ms,
            state,
            partitions,
            last_update_ms,
            start_ms,
            previous_producer_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(state: TxnState, partitions: &[(&str, i32)]) -> TxnValue {
        TxnValue {
            producer_id: 4000,
            producer_epoch: 3,
            timeout_ms: 60_000,
            state,
            partitions: partitions
                .iter()
                .map(|(t, p)| (t.to_string(), *p))
                .collect(),
            last_update_ms: 1_700_000_000_123,
            start_ms: 1_700_000_000_000,
            previous_producer_id: -1,
        }
    }

    #[test]
    fn key_is_kafkas_version_0() {
        let k = encode_key("tx-1");
        assert_eq!(k, [0, 0, 0, 4, b't', b'x', b'-', b'1']);
        assert_eq!(decode_key(&k).unwrap(), "tx-1");
        assert_eq!(decode_key(&[0, 1, 0, 0]), Err(RecordError::OtherKey(1)));
        assert_eq!(decode_key(&[0, 0, 0, 9, b'a']), Err(RecordError::Truncated));
    }

    #[test]
    fn value_version_0_bytes() {
        let v = value(TxnState::Ongoing, &[("a", 1), ("a", 0), ("b", 2)]);
        let bytes = v.encode();
        let mut expected = vec![0u8, 0];
        expected.extend(4000i64.to_be_bytes());
        expected.extend(3i16.to_be_bytes());
        expected.extend(60_000i32.to_be_bytes());
        expected.push(1);
        expected.extend(2i32.to_be_bytes());
        expected.extend([0, 1, b'a']);
        expected.extend(2i32.to_be_bytes());
        expected.extend(0i32.to_be_bytes());
        expected.extend(1i32.to_be_bytes());
        expected.extend([0, 1, b'b']);
        expected.extend(1i32.to_be_bytes());
        expected.extend(2i32.to_be_bytes());
        expected.extend(1_700_000_000_123i64.to_be_bytes());
        expected.extend(1_700_000_000_000i64.to_be_bytes());
        assert_eq!(bytes, expected);
        assert_eq!(TxnValue::decode(&bytes).unwrap(), v);
        // Empty is written with null partitions.
        let e = value(TxnState::Empty, &[]);
        let b = e.encode();
        assert_eq!(&b[17..21], &(-1i32).to_be_bytes());
        assert_eq!(TxnValue::decode(&b).unwrap(), e);
    }

    #[test]
    fn value_version_1_is_read_with_its_tags() {
        // Flexible: compact array of 1 topic "t" with partitions [5], tags 0 and 2.
        let mut b = vec![0u8, 1];
        b.extend(7i64.to_be_bytes());
        b.extend(1i16.to_be_bytes());
        b.extend(1000i32.to_be_bytes());
        b.push(4); // CompleteCommit
        b.push(2); // one topic
        b.extend([2, b't']);
        b.push(2); // one partition
        b.extend(5i32.to_be_bytes());
        b.push(0); // no tags in the entry
        b.extend(11i64.to_be_bytes());
        b.extend(10i64.to_be_bytes());
        b.push(2); // two tags
        b.extend([0, 8]);
        b.extend(6i64.to_be_bytes());
        b.extend([2, 2, 0, 2]);
        let v = TxnValue::decode(&b).unwrap();
        assert_eq!(v.state, TxnState::CompleteCommit);
        assert_eq!(v.previous_producer_id, 6);
        assert_eq!(v.partitions.len(), 1);
        assert_eq!((v.last_update_ms, v.start_ms), (11, 10));
    }

    #[test]
    fn damaged_values_are_errors_not_panics() {
        let v = value(TxnState::PrepareCommit, &[("topic", 0), ("topic", 1)]).encode();
        for cut in 0..v.len() {
            assert!(TxnValue::decode(&v[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad = v.clone();
        bad[16] = 9; // no such state
        assert!(TxnValue::decode(&bad).is_err());
        let mut huge = v.clone();
        huge[28..32].copy_from_slice(&i32::MAX.to_be_bytes()); // partition count
        assert!(TxnValue::decode(&huge).is_err());
        let mut trailing = v;
        trailing.push(0);
        assert_eq!(TxnValue::decode(&trailing), Err(RecordError::Trailing(1)));
    }
}
