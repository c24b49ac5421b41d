//! Magic 0/1 message sets: byte layouts, every codec, every lie refused, conversion to v2.

use super::*;
use crate::log::batch::validate;
use crate::log::record::{parse_records, records_of};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn rec(ts: i64, key: Option<&str>, value: Option<&str>) -> LegacyRecord {
    LegacyRecord {
        timestamp: ts,
        key: key.map(|k| k.as_bytes().to_vec()),
        value: value.map(|v| v.as_bytes().to_vec()),
    }
}

/// A set of uncompressed messages.
fn plain(magic: i8, records: &[LegacyRecord]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, r) in records.iter().enumerate() {
        encode_message(
            &mut out,
            i as i64,
            magic,
            0,
            r.timestamp,
            r.key.as_deref(),
            r.value.as_deref(),
        );
    }
    out
}

/// A set of one wrapper message holding `records` compressed with `codec`.
fn wrapped(magic: i8, codec: i16, xerial: bool, records: &[LegacyRecord]) -> Vec<u8> {
    let inner = plain(magic, records);
    let compressed = compression::compress(codec, &inner, xerial).unwrap();
    let mut out = Vec::new();
    let ts = records.last().map_or(-1, |r| r.timestamp);
    encode_message(
        &mut out,
        records.len() as i64 - 1,
        magic,
        codec as i8,
        ts,
        None,
        Some(&compressed),
    );
    out
}

#[test]
fn messages_are_laid_out_as_kafka_defines_them() {
    // Magic 0: offset 0, size 20, crc, magic 0, attributes 0, key "k", value "v".
    let mut m0 = Vec::new();
    encode_message(&mut m0, 0, 0, 0, -1, Some(b"k"), Some(b"v"));
    let body = hex("00 00 00000001 6b 00000001 76");
    let mut want = hex("0000000000000000 00000010");
    want.extend_from_slice(&crc32fast::hash(&body).to_be_bytes());
    want.extend_from_slice(&body);
    assert_eq!(m0, want);
    // Magic 1: a timestamp after the attributes, a null key.
    let mut m1 = Vec::new();
    encode_message(&mut m1, 5, 1, 0, 1000, None, Some(b"v"));
    let body = hex("01 00 00000000000003e8 ffffffff 00000001 76");
    let mut want = hex("0000000000000005 00000017");
    want.extend_from_slice(&crc32fast::hash(&body).to_be_bytes());
    want.extend_from_slice(&body);
    assert_eq!(m1, want);
    // CRC-32 (IEEE) check value.
    assert_eq!(crc32fast::hash(b"123456789"), 0xcbf4_3926);
}

#[test]
fn every_codec_and_both_magics_parse() {
    let records = vec![
        rec(1_000, Some("a"), Some("one")),
        rec(1_005, None, Some("two")),
        rec(999, Some("c"), None),
    ];
    for magic in [0i8, 1] {
        let expected: Vec<LegacyRecord> = records
            .iter()
            .map(|r| LegacyRecord {
                timestamp: if magic == 0 {
                    NO_TIMESTAMP
                } else {
                    r.timestamp
                },
                ..r.clone()
            })
            .collect();
        let set = parse(&plain(magic, &records), 1 << 20).unwrap();
        assert_eq!((set.magic, set.codec), (magic, NONE));
        assert_eq!(set.records, expected, "magic {magic} uncompressed");
        for (codec, xerial) in [(GZIP, false), (SNAPPY, true), (SNAPPY, false), (LZ4, false)] {
            let set = parse(&wrapped(magic, codec, xerial, &records), 1 << 20).unwrap();
            assert_eq!((set.magic, set.codec, set.xerial), (magic, codec, xerial));
            assert_eq!(set.records, expected, "magic {magic} codec {codec}");
        }
    }
}

#[test]
fn magic_0_lz4_with_kafka_3160s_header_checksum_is_accepted() {
    let records = vec![rec(-1, Some("k"), Some("v"))];
    let inner = plain(0, &records);
    let mut frame = compression::compress(LZ4, &inner, false).unwrap();
    // Rewrite the header checksum the way Kafka 0.8-0.9 computed it: over magic + descriptor.
    let flg = frame[4];
    let mut hc_at = 6;
    if flg & 0x08 != 0 {
        hc_at += 8;
    }
    frame[hc_at] = (xxh32(&frame[..hc_at], 0) >> 8) as u8;
    let mut set = Vec::new();
    encode_message(&mut set, 0, 0, LZ4 as i8, -1, None, Some(&frame));
    assert_eq!(parse(&set, 1 << 20).unwrap().records, records);
    // The same broken checksum in a magic 1 message is corrupt, as Kafka sees it.
    let mut set1 = Vec::new();
    encode_message(&mut set1, 0, 1, LZ4 as i8, 5, None, Some(&frame));
    assert!(matches!(
        parse(&set1, 1 << 20),
        Err(SetError::Decompress(_))
    ));
}

#[test]
fn xxh32_matches_the_reference() {
    assert_eq!(xxh32(b"", 0), 0x02cc_5d05);
    assert_eq!(xxh32(b"a", 0), 0x550d_7456);
    assert_eq!(xxh32(b"abc", 0), 0x32d1_53ff);
    assert_eq!(
        xxh32(b"Nobody inspects the spammish repetition", 0),
        0xe229_3b2f
    );
}

#[test]
fn every_lie_is_refused() {
    let good = plain(1, &[rec(1, Some("k"), Some("v")), rec(2, None, Some("w"))]);
    assert!(parse(&good, 1 << 20).is_ok());
    // Truncated anywhere but between the two messages.
    let first = 12 + i32::from_be_bytes([good[8], good[9], good[10], good[11]]) as usize;
    for cut in (1..good.len()).filter(|c| *c != first) {
        assert!(parse(&good[..cut], 1 << 20).is_err(), "cut at {cut}");
    }
    assert_eq!(parse(&good[..first], 1 << 20).unwrap().records.len(), 1);
    assert_eq!(parse(&[], 1 << 20), Err(SetError::Empty));
    // Any flipped bit but in a producer's offset (ignored) breaks a size or a CRC.
    for at in (8..good.len()).filter(|a| !(first..first + 8).contains(a)) {
        let mut bad = good.clone();
        bad[at] ^= 0x40;
        assert!(parse(&bad, 1 << 20).is_err(), "flip at {at}");
    }
    // A message size that lies (too small, negative, past the end).
    for size in [0i32, 5, -1, i32::MAX] {
        let mut bad = good.clone();
        bad[8..12].copy_from_slice(&size.to_be_bytes());
        assert!(parse(&bad, 1 << 20).is_err(), "size {size}");
    }
    // A key length that lies, with a valid CRC.
    let mut lying = Vec::new();
    encode_message(&mut lying, 0, 1, 0, 1, Some(b"k"), Some(b"v"));
    let key_len_at = 12 + 4 + 2 + 8;
    lying[key_len_at..key_len_at + 4].copy_from_slice(&100i32.to_be_bytes());
    let crc = crc32fast::hash(&lying[16..]);
    lying[12..16].copy_from_slice(&crc.to_be_bytes());
    assert!(parse(&lying, 1 << 20).is_err());
    // Mixed magics.
    let mut mixed = plain(0, &[rec(-1, None, Some("a"))]);
    mixed.extend(plain(1, &[rec(1, None, Some("b"))]));
    assert!(matches!(
        parse(&mixed, 1 << 20),
        Err(SetError::BadMagic { .. })
    ));
    // Magic 2 in a legacy set, an unknown codec, a wrapper inside a wrapper.
    let mut m2 = Vec::new();
    encode_message(&mut m2, 0, 1, 0, 1, None, Some(b"v"));
    m2[16] = 2;
    let crc = crc32fast::hash(&m2[16..]);
    m2[12..16].copy_from_slice(&crc.to_be_bytes());
    assert!(matches!(
        parse(&m2, 1 << 20),
        Err(SetError::BadMagic { .. })
    ));
    let mut codec5 = Vec::new();
    encode_message(&mut codec5, 0, 1, 5, 1, None, Some(b"v"));
    assert_eq!(parse(&codec5, 1 << 20), Err(SetError::BadCodec(5)));
    let inner = wrapped(1, GZIP, false, &[rec(1, None, Some("v"))]);
    let outer_value = compression::compress(GZIP, &inner, false).unwrap();
    let mut nested = Vec::new();
    encode_message(&mut nested, 0, 1, GZIP as i8, 1, None, Some(&outer_value));
    assert_eq!(parse(&nested, 1 << 20), Err(SetError::Nested));
    // Garbage where compressed data should be; a bomb beyond the limit.
    let mut garbage = Vec::new();
    encode_message(&mut garbage, 0, 1, GZIP as i8, 1, None, Some(b"not gzip"));
    assert!(matches!(
        parse(&garbage, 1 << 20),
        Err(SetError::Decompress(_))
    ));
    let big = vec![rec(1, None, Some(&"x".repeat(100_000)))];
    assert!(matches!(
        parse(&wrapped(1, GZIP, false, &big), 10_000),
        Err(SetError::Decompress(_))
    ));
    // Codes: corrupt data is CORRUPT_MESSAGE, a broken rule INVALID_RECORD.
    assert_eq!(SetError::Truncated(0).code(), 2);
    assert_eq!(SetError::Nested.code(), 87);
}

#[test]
fn conversion_to_v2_keeps_keys_values_timestamps_and_codec() {
    let records = vec![
        rec(1_000, Some("a"), Some("one")),
        rec(1_005, None, Some("two")),
        rec(999, Some("c"), None),
    ];
    for magic in [0i8, 1] {
        for (codec, xerial) in [(NONE, false), (GZIP, false), (SNAPPY, true), (LZ4, false)] {
            let data = if codec == NONE {
                plain(magic, &records)
            } else {
                wrapped(magic, codec, xerial, &records)
            };
            let set = parse(&data, 1 << 20).unwrap();
            let raw = to_batch(&set).unwrap();
            let h = validate(&raw).expect("a valid v2 batch");
            assert_eq!(h.codec(), codec);
            assert_eq!((h.record_count, h.last_offset_delta), (3, 2));
            assert_eq!(h.producer_id, -1);
            let body = records_of(&raw, &h).unwrap();
            let views = parse_records(&body, 3).unwrap();
            for (i, (v, r)) in views.iter().zip(&set.records).enumerate() {
                assert_eq!(v.offset_delta, i as i32);
                assert_eq!(v.key, r.key.as_deref());
                assert_eq!(v.value, r.value.as_deref());
                assert_eq!(h.base_timestamp + v.timestamp_delta, r.timestamp);
            }
            if magic == 0 {
                assert_eq!((h.base_timestamp, h.max_timestamp), (-1, -1));
            } else {
                assert_eq!((h.base_timestamp, h.max_timestamp), (1_000, 1_005));
            }
        }
    }
}

/// A v2 batch of `records` (timestamps from 1_000) at `base`, compressed with `codec`.
fn v2_batch(base: i64, codec: i16, records: &[(Option<&str>, Option<&str>)]) -> Vec<u8> {
    let set = MessageSet {
        magic: 1,
        codec,
        xerial: false,
        log_append_time: false,
        records: records
            .iter()
            .enumerate()
            .map(|(i, (k, v))| rec(1_000 + i as i64, *k, *v))
            .collect(),
    };
    let mut raw = to_batch(&set).unwrap();
    raw[..8].copy_from_slice(&base.to_be_bytes());
    raw
}

#[test]
fn down_conversion_round_trips_every_codec_and_magic() {
    // Any batch without headers converts down and back to the same records (a sweep over
    // sizes, codecs, null keys and values, both magics).
    for n in 1..=7usize {
        let owned: Vec<(Option<String>, Option<String>)> = (0..n)
            .map(|i| {
                let key = (i % 3 != 0).then(|| format!("key-{i}"));
                let value = (i % 4 != 1).then(|| format!("value-{i}-{}", "x".repeat(i * 13)));
                (key, value)
            })
            .collect();
        let records: Vec<(Option<&str>, Option<&str>)> = owned
            .iter()
            .map(|(k, v)| (k.as_deref(), v.as_deref()))
            .collect();
        for codec in [NONE, GZIP, SNAPPY, LZ4] {
            let raw = v2_batch(100, codec, &records);
            for magic in [0i8, 1] {
                let set = down_convert(&raw, magic, 0, 1 << 20).unwrap();
                // Offsets: absolute on every plain message and magic-0 inner message; the
                // wrapper carries the last one.
                let back = parse(&set, 1 << 20).unwrap();
                assert_eq!((back.magic, back.codec), (magic, codec));
                let want: Vec<LegacyRecord> = records
                    .iter()
                    .enumerate()
                    .map(|(i, (k, v))| LegacyRecord {
                        timestamp: if magic == 0 {
                            NO_TIMESTAMP
                        } else {
                            1_000 + i as i64
                        },
                        key: k.map(|k| k.as_bytes().to_vec()),
                        value: v.map(|v| v.as_bytes().to_vec()),
                    })
                    .collect();
                assert_eq!(back.records, want, "n {n} codec {codec} magic {magic}");
                let first_offset = i64::from_be_bytes(set[..8].try_into().unwrap());
                let expected = if codec == NONE {
                    100
                } else {
                    100 + n as i64 - 1
                };
                assert_eq!(first_offset, expected, "entry offset, codec {codec}");
                // And back up: the same records in a v2 batch.
                let up = to_batch(&back).unwrap();
                let h = crate::log::batch::validate(&up).unwrap();
                assert_eq!(h.record_count, n as i32);
            }
        }
    }
}

#[test]
fn down_conversion_skips_what_old_clients_must_not_see() {
    let a = v2_batch(0, NONE, &[(Some("a"), Some("0")), (Some("a"), Some("1"))]);
    let b = v2_batch(2, GZIP, &[(None, Some("2")), (None, Some("3"))]);
    let mut data = a.clone();
    data.extend_from_slice(&b);
    // Below the fetch offset: skipped, also inside a batch.
    let set = parse(&down_convert(&data, 1, 1, 1 << 20).unwrap(), 1 << 20).unwrap();
    let values: Vec<_> = set
        .records
        .iter()
        .map(|r| r.value.clone().unwrap())
        .collect();
    assert_eq!(values, [b"1".to_vec(), b"2".to_vec(), b"3".to_vec()]);
    // max_bytes: whole batches only, but always the first.
    let first_only = down_convert(&data, 1, 0, 10).unwrap();
    assert_eq!(parse(&first_only, 1 << 20).unwrap().records.len(), 2);
    // A control batch (attribute bit 5) is skipped.
    let mut control = v2_batch(4, NONE, &[(Some("ctl"), Some("x"))]);
    control[22] |= 1 << 5;
    let crc = crc32c::crc32c(&control[ATTR_POS..]);
    control[CRC_POS..CRC_POS + 4].copy_from_slice(&crc.to_be_bytes());
    let set = parse(
        &down_convert(&control, 1, 0, 1 << 20).unwrap_or_default(),
        1 << 20,
    );
    assert_eq!(set, Err(SetError::Empty));
    // zstd: refused when it comes first, else the conversion stops before it.
    let zstd = v2_batch(4, compression::ZSTD, &[(None, Some("z"))]);
    assert_eq!(down_convert(&zstd, 1, 0, 1 << 20), Err(DownError::Zstd));
    let mut mixed = a.clone();
    mixed.extend_from_slice(&zstd);
    let set = parse(&down_convert(&mixed, 0, 0, 1 << 20).unwrap(), 1 << 20).unwrap();
    assert_eq!(set.records.len(), 2);
}

/// A seeded xorshift generator, so the property test below is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn bytes(&mut self, max: u64) -> Vec<u8> {
        let len = self.below(max + 1) as usize;
        // Half of them compressible.
        if self.below(2) == 0 {
            vec![b'a' + self.below(3) as u8; len]
        } else {
            (0..len).map(|_| self.next() as u8).collect()
        }
    }
}

/// The property: any v2 batch without headers, written by an independent encoder
/// (kafka-protocol's) with any codec an old format carries, converts down to magic 0 and 1
/// and back up to a v2 batch holding the same records: keys, values (null or not, empty or
/// not), offsets, and at magic 1 the timestamps.
#[test]
fn any_headerless_batch_converts_down_and_back_to_the_same_records() {
    use bytes::Bytes;
    use kafka_protocol::records::{
        Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
    };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for case in 0..300 {
        let n = 1 + rng.below(20) as i64;
        let base_ts = 1_600_000_000_000 + rng.below(1 << 30) as i64;
        let records: Vec<Record> = (0..n)
            .map(|i| Record {
                transactional: false,
                control: false,
                partition_leader_epoch: 0,
                producer_id: -1,
                producer_epoch: -1,
                timestamp_type: TimestampType::Creation,
                offset: i,
                // The encoder puts records in one batch while offset - sequence is constant.
                sequence: i as i32 - 1,
                timestamp: base_ts + rng.below(100_000) as i64,
                key: (rng.below(3) != 0).then(|| Bytes::from(rng.bytes(40))),
                value: (rng.below(5) != 0).then(|| Bytes::from(rng.bytes(600))),
                headers: Default::default(),
            })
            .collect();
        let (compression, codec) = [
            (Compression::None, NONE),
            (Compression::Gzip, GZIP),
            (Compression::Snappy, SNAPPY),
            (Compression::Lz4, LZ4),
        ][rng.below(4) as usize];
        let mut buf = bytes::BytesMut::new();
        let options = RecordEncodeOptions {
            version: 2,
            compression,
        };
        RecordBatchEncoder::encode(&mut buf, records.iter(), &options).unwrap();
        let base = rng.below(1 << 40) as i64;
        let mut raw = buf.to_vec();
        raw[..8].copy_from_slice(&base.to_be_bytes());
        for magic in [0i8, 1] {
            let what = format!("case {case}: {n} records, codec {codec}, magic {magic}");
            let set = down_convert(&raw, magic, base, 1 << 24).expect(&what);
            let back = parse(&set, 1 << 24).expect(&what);
            assert_eq!((back.magic, back.codec), (magic, codec), "{what}");
            let up = to_batch(&back).expect(&what);
            let h = validate(&up).expect(&what);
            assert_eq!(h.record_count as i64, n, "{what}");
            let body = records_of(&up, &h).expect(&what);
            let views = parse_records(&body, h.record_count).expect(&what);
            for (i, (v, r)) in views.iter().zip(&records).enumerate() {
                assert_eq!(v.offset_delta as usize, i, "{what}");
                assert_eq!(v.key, r.key.as_deref(), "{what}: key {i}");
                assert_eq!(v.value, r.value.as_deref(), "{what}: value {i}");
                if magic == 1 {
                    assert_eq!(h.base_timestamp + v.timestamp_delta, r.timestamp, "{what}");
                }
            }
            // Offsets: each plain message (or the wrapper, at the last one) keeps its own.
            let first = i64::from_be_bytes(set[..8].try_into().unwrap());
            let want = if codec == NONE { base } else { base + n - 1 };
            assert_eq!(first, want, "{what}");
        }
    }
}
