//! Fuzz target `record_batch`: arbitrary bytes as the `records` of a Produce request.
//!
//! Proves that the produce-path batch checks never panic and agree with each other:
//! - `log::batch::split_batches` either refuses the bytes or splits them into whole batches
//!   that cover them exactly, each accepted by `log::batch::validate` with the header
//!   `BatchHeader::parse` reads;
//! - `validate` and `BatchHeader::parse` on the input taken as one batch never panic, and
//!   an accepted batch is exactly `total_len()` bytes of magic 2 with a known codec;
//! - for every accepted batch, the cleaner's views of it never panic either:
//!   `log::compression::decompress` of its records section never returns more than its
//!   limit, and `log::record::parse_records` on the (decompressed) records returns
//!   exactly `record_count` records that tile the bytes, or an error.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use weir::log::batch::{self, BatchHeader, HEADER_LEN};
use weir::log::{compression, record};

/// The decompression bound: small, so that bombs are refused rather than allocated.
const LIMIT: usize = 256 * 1024;

fuzz_target!(init: weir_fuzz::init(), |data: &[u8]| {
    // The whole input as one batch.
    let parsed = BatchHeader::parse(data);
    if let Ok(h) = batch::validate(data) {
        assert_eq!(Ok(h), parsed);
        check_batch(data, &h);
    }

    // The whole input as a Produce records field.
    if let Ok(batches) = batch::split_batches(Bytes::copy_from_slice(data)) {
        let mut at = 0;
        for (bytes, h) in &batches {
            assert_eq!(&data[at..at + bytes.len()], &bytes[..]);
            assert_eq!(Ok(*h), BatchHeader::parse(bytes));
            assert_eq!(h.total_len(), bytes.len());
            at += bytes.len();
            check_batch(bytes, h);
        }
        assert_eq!(at, data.len(), "the batches cover the records exactly");
    }
});

/// The checks on one batch that `validate` accepted.
fn check_batch(bytes: &[u8], h: &BatchHeader) {
    assert_eq!(h.total_len(), bytes.len());
    assert_eq!(h.magic, 2);
    assert!((0..=4).contains(&h.codec()));
    assert!(h.record_count >= 1);
    // What offset assignment rewrites keeps the batch valid.
    let head = batch::assigned_header(bytes, 1_000, 3, Some(42));
    let mut assigned = head.to_vec();
    assigned.extend_from_slice(&bytes[HEADER_LEN..]);
    let a = batch::validate(&assigned).expect("an assigned batch stays valid");
    assert_eq!((a.base_offset, a.max_timestamp), (1_000, 42));

    let payload = &bytes[HEADER_LEN..];
    let records = match compression::decompress(h.codec(), payload, LIMIT) {
        Ok(out) => {
            assert!(out.len() <= LIMIT, "decompress keeps to its limit");
            out
        }
        Err(_) => return,
    };
    if let Ok(views) = record::parse_records(&records, h.record_count) {
        assert_eq!(views.len(), h.record_count as usize);
        let total: usize = views.iter().map(|r| r.raw.len()).sum();
        assert_eq!(total, records.len(), "the records tile their section");
    }
    let _ = batch::first_record_at_or_after(bytes, h, h.base_timestamp);
}
