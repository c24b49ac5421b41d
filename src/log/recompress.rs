//! Broker-side recompression, as Kafka's `LogValidator` does it: a topic whose
//! `compression.type` is a codec (not `producer`) stores every batch with that codec, so a
//! batch that arrives with another one is decompressed and compressed again before it is
//! appended. Only the records section and three header fields change:
//!
//! ```text
//! attributes      bits 0-2 := the topic's codec (timestamp type, transactional, control kept)
//! batch_length    61 - 12 + the new records section
//! crc             CRC-32C over bytes 21..end, recomputed
//! ```
//!
//! Offsets, timestamps, the producer id, epoch and base sequence, and the record count are
//! kept, so idempotence and transactions see the same batch. Every record is parsed on the
//! way (a section that does not hold exactly `record_count` records is CORRUPT_MESSAGE), as
//! Kafka validates each record when it recompresses. Control batches are never compressed and
//! are left alone. The leader does this once; followers copy the leader's bytes.

use super::batch::{BatchHeader, ATTR_POS, CRC_POS, HEADER_LEN, LOG_OVERHEAD};
use super::compression;
use super::record::{parse_records, MAX_DECOMPRESSED_BATCH};

const CODEC_MASK: i16 = 0x07;

/// The codec and level `h` must be recompressed to under `target` (a topic's
/// [`crate::config::LogConfig::recompression`]), or None when it is stored as it came.
pub fn needed(h: &BatchHeader, target: Option<(i16, i32)>) -> Option<(i16, i32)> {
    let (codec, level) = target?;
    (!h.is_control() && h.codec() != codec).then_some((codec, level))
}

/// `raw`, a validated batch with header `h`, with its records compressed with `codec` at
/// `level` instead. Errors name what is wrong with the records (CORRUPT_MESSAGE).
pub fn recompress(raw: &[u8], h: &BatchHeader, codec: i16, level: i32) -> Result<Vec<u8>, String> {
    let section = raw
        .get(HEADER_LEN..)
        .ok_or("batch shorter than its header")?;
    let records = compression::decompress(h.codec(), section, MAX_DECOMPRESSED_BATCH)
        .map_err(|e| format!("cannot decompress the batch: {e}"))?;
    match parse_records(&records, h.record_count) {
        Ok(views) if views.len() == h.record_count.max(0) as usize => {}
        Ok(views) => {
            return Err(format!(
                "the batch declares {} records but holds {}",
                h.record_count,
                views.len()
            ))
        }
        Err(e) => return Err(e.to_string()),
    }
    let body = if codec == compression::NONE {
        records
    } else {
        compression::compress_at(codec, &records, true, Some(level))
            .map_err(|e| format!("cannot compress the batch: {e}"))?
    };
    let length = i32::try_from(HEADER_LEN - LOG_OVERHEAD + body.len())
        .map_err(|_| "the recompressed batch is too large".to_string())?;
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(&raw[..HEADER_LEN]);
    out[8..12].copy_from_slice(&length.to_be_bytes());
    let attributes = (h.attributes & !CODEC_MASK) | codec;
    out[ATTR_POS..ATTR_POS + 2].copy_from_slice(&attributes.to_be_bytes());
    out.extend_from_slice(&body);
    let crc = crc32c::crc32c(&out[ATTR_POS..]);
    out[CRC_POS..CRC_POS + 4].copy_from_slice(&crc.to_be_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use bytes::Bytes;
    use kafka_protocol::records::{
        Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions,
        TimestampType,
    };

    use super::*;
    use crate::log::batch::validate;

    const CODECS: [(Compression, i16); 5] = [
        (Compression::None, 0),
        (Compression::Gzip, 1),
        (Compression::Snappy, 2),
        (Compression::Lz4, 3),
        (Compression::Zstd, 4),
    ];

    /// An idempotent batch of `n` records with keys, values, headers and timestamps.
    fn batch(n: i64, compression: Compression) -> Vec<u8> {
        let records: Vec<Record> = (0..n)
            .map(|i| Record {
                transactional: false,
                control: false,
                partition_leader_epoch: 0,
                producer_id: 77,
                producer_epoch: 3,
                timestamp_type: TimestampType::Creation,
                offset: i,
                sequence: 10 + i as i32,
                timestamp: 1_700_000_000_000 + i,
                key: (i % 2 == 0).then(|| Bytes::from(format!("key-{i}"))),
                value: (i != 3).then(|| Bytes::from(format!("value-{i}-").repeat(20))),
                headers: [("h".into(), Some(Bytes::from(vec![i as u8])))].into(),
            })
            .collect();
        let mut buf = bytes::BytesMut::new();
        RecordBatchEncoder::encode(
            &mut buf,
            &records,
            &RecordEncodeOptions {
                version: 2,
                compression,
            },
        )
        .unwrap();
        buf.to_vec()
    }

    fn decoded(raw: &[u8]) -> Vec<Record> {
        let mut b = Bytes::copy_from_slice(raw);
        RecordBatchDecoder::decode(&mut b).unwrap().records
    }

    /// Every codec to every other: a valid batch of the new codec with the same records,
    /// producer fields, sequence and timestamps.
    #[test]
    fn every_codec_to_every_other() {
        for (from, _) in CODECS {
            let raw = batch(7, from);
            let h = validate(&raw).unwrap();
            for (_, to) in CODECS {
                let level = if to == 4 { 19 } else { 1 };
                let out = recompress(&raw, &h, to, level).unwrap();
                let nh = validate(&out).expect("a valid batch");
                assert_eq!(nh.codec(), to);
                assert_eq!(
                    (nh.producer_id, nh.producer_epoch, nh.base_sequence),
                    (77, 3, 10)
                );
                assert_eq!(
                    (
                        nh.record_count,
                        nh.last_offset_delta,
                        nh.base_timestamp,
                        nh.max_timestamp
                    ),
                    (
                        h.record_count,
                        h.last_offset_delta,
                        h.base_timestamp,
                        h.max_timestamp
                    )
                );
                assert_eq!(nh.attributes & !CODEC_MASK, h.attributes & !CODEC_MASK);
                // The records themselves are untouched.
                let section = |b: &[u8], codec| {
                    compression::decompress(codec, &b[HEADER_LEN..], MAX_DECOMPRESSED_BATCH)
                        .unwrap()
                };
                assert_eq!(section(&out, to), section(&raw, h.codec()));
                // Snappy is written in the xerial framing, as Kafka's broker writes it, which
                // this decoder does not read (clients do).
                if to != compression::SNAPPY {
                    assert_eq!(decoded(&out), decoded(&raw), "{from:?} -> {to}");
                }
            }
        }
    }

    #[test]
    fn only_other_codecs_and_never_control_batches() {
        let raw = batch(2, Compression::Lz4);
        let h = validate(&raw).unwrap();
        assert_eq!(needed(&h, None), None, "producer");
        assert_eq!(needed(&h, Some((3, 9))), None, "already lz4");
        assert_eq!(needed(&h, Some((4, 3))), Some((4, 3)));
        let mut control = h;
        control.attributes |= 1 << 5;
        assert_eq!(needed(&control, Some((4, 3))), None);
    }

    #[test]
    fn lying_records_are_refused() {
        // Uncompressed, count says 3 but the section holds 2 records.
        let mut raw = batch(2, Compression::None);
        raw[57..61].copy_from_slice(&3i32.to_be_bytes());
        raw[23..27].copy_from_slice(&2i32.to_be_bytes());
        let crc = crc32c::crc32c(&raw[ATTR_POS..]);
        raw[CRC_POS..CRC_POS + 4].copy_from_slice(&crc.to_be_bytes());
        let h = validate(&raw).unwrap();
        let e = recompress(&raw, &h, 4, 3).unwrap_err();
        assert!(e.contains("declares 3 records but holds 2"), "{e}");
        // gzip whose compressed bytes are garbage.
        let mut raw = batch(2, Compression::Gzip);
        let n = raw.len();
        raw[n - 12..n - 4].fill(0xAA);
        let crc = crc32c::crc32c(&raw[ATTR_POS..]);
        raw[CRC_POS..CRC_POS + 4].copy_from_slice(&crc.to_be_bytes());
        let h = validate(&raw).unwrap();
        assert!(recompress(&raw, &h, 0, 0).is_err());
    }
}
