//! Transaction batches (control markers and coordinator-written transactional batches).
//! Stand-in until the partition log's transaction support lands.

use bytes::BufMut;

use super::batch::{BatchHeader, HEADER_LEN, LOG_OVERHEAD};

const CRC_POS: usize = 17;
const ATTR_POS: usize = 21;

/// An end-transaction marker read from a control batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlMarker {
    pub commit: bool,
    pub coordinator_epoch: i32,
}

fn batch_of(
    body: &[u8],
    count: i32,
    attributes: i16,
    ts: i64,
    producer_id: i64,
    producer_epoch: i16,
) -> Vec<u8> {
    let mut b = Vec::with_capacity(HEADER_LEN + body.len());
    b.put_i64(0);
    b.put_i32((HEADER_LEN - LOG_OVERHEAD + body.len()) as i32);
    b.put_i32(-1);
    b.put_i8(2);
    b.put_u32(0);
    b.put_i16(attributes);
    b.put_i32(count - 1);
    b.put_i64(ts);
    b.put_i64(ts);
    b.put_i64(producer_id);
    b.put_i16(producer_epoch);
    b.put_i32(-1);
    b.put_i32(count);
    b.extend_from_slice(body);
    let crc = crc32c::crc32c(&b[ATTR_POS..]);
    b[CRC_POS..CRC_POS + 4].copy_from_slice(&crc.to_be_bytes());
    b
}

pub fn encode_control(
    producer_id: i64,
    producer_epoch: i16,
    commit: bool,
    coordinator_epoch: i32,
    timestamp: i64,
) -> Vec<u8> {
    let key = [0u8, 0, 0, u8::from(commit)];
    let mut value = vec![0u8, 0];
    value.extend(coordinator_epoch.to_be_bytes());
    let mut body = Vec::new();
    super::record::encode_record(&mut body, 0, 0, Some(&key), Some(&value), &[]);
    batch_of(&body, 1, 0x30, timestamp, producer_id, producer_epoch)
}

pub fn encode_txn_batch(
    records: &[(Vec<u8>, Option<Vec<u8>>)],
    timestamp: i64,
    producer_id: i64,
    producer_epoch: i16,
) -> Vec<u8> {
    let mut body = Vec::new();
    for (i, (key, value)) in records.iter().enumerate() {
        super::record::encode_record(&mut body, 0, i as i32, Some(key), value.as_deref(), &[]);
    }
    batch_of(
        &body,
        records.len() as i32,
        0x10,
        timestamp,
        producer_id,
        producer_epoch,
    )
}

pub fn parse_control(raw_batch: &[u8], h: &BatchHeader) -> Option<ControlMarker> {
    if !h.is_control() {
        return None;
    }
    let views = super::record::parse_records(raw_batch.get(HEADER_LEN..)?, h.record_count).ok()?;
    let v = views.first()?;
    let key = v.key?;
    if key.len() < 4 || key[0..2] != [0, 0] {
        return None;
    }
    let commit = match key[3] {
        0 if key[2] == 0 => false,
        1 if key[2] == 0 => true,
        _ => return None,
    };
    let value = v.value?;
    let coordinator_epoch = i32::from_be_bytes(value.get(2..6)?.try_into().ok()?);
    Some(ControlMarker {
        commit,
        coordinator_epoch,
    })
}
