//! Fuzz target `index`: arbitrary bytes as a sealed segment's `.index` and `.timeindex`
//! files, beside its `.log`, then the segment opened (`log::segment::Segment::open`, as a
//! restart opens every segment but the active one) and searched.
//!
//! Input: `index_len: u32 BE`, `timeindex_len: u32 BE`, then that many bytes of `.index`,
//! that many of `.timeindex`, and the rest as the `.log`, named after its first batch's base
//! offset (when the rest is empty: a small valid segment built here, 40 batches of varied
//! sizes and timestamps at offset 1000). Lengths past the end of the input take what is there.
//!
//! Proves that opening never panics whatever the index files hold (a damaged index is
//! rebuilt from the log), and that every lookup answers within the segment: the positions
//! `position_floor` and `position_for_timestamp` give are below the segment's size (or 0),
//! and a read from such a position starts at a batch boundary, with the segment's first batch
//! that holds the offset sought (or the next offset present).

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use weir::log::batch::{self, BatchHeader, HEADER_LEN};
use weir::log::segment::{file_name, read_mapped, Segment};

const BASE: i64 = 1_000;
/// Lookups per input, at most.
const MAX_LOOKUPS: usize = 64;

fuzz_target!(init: weir_fuzz::init(), |data: &[u8]| {
    let (index, time_index, log) = split(data);
    let log = if log.is_empty() { built_in_log() } else { log };
    // The segment is named after its first batch, as Kafka names a segment it rolls.
    let base = match log.get(..8) {
        Some(b) => i64::from_be_bytes(b.try_into().expect("8 bytes")).clamp(0, i64::MAX / 2),
        None => 0,
    };
    let tmp = tempfile::tempdir().expect("a temp dir");
    let dir = tmp.path();
    std::fs::write(dir.join(file_name(base, "log")), log).expect("the .log");
    std::fs::write(dir.join(file_name(base, "index")), index).expect("the .index");
    std::fs::write(dir.join(file_name(base, "timeindex")), time_index).expect("the .timeindex");
    let Ok((mut seg, _report)) = Segment::open(dir, base, 4096, 256, false, 0, |_, _| {}) else {
        return;
    };
    let size = seg.size;
    assert!(size as usize <= log.len());
    let batches = headers(&log[..size as usize]);

    // Offsets to look up: around the segment's ends and around the index's own keys (reads
    // only ever ask a segment for offsets at or past its base).
    let mut offsets = vec![
        base - 1,
        base,
        base + 1,
        seg.next_offset - 1,
        seg.next_offset,
    ];
    for e in index.chunks_exact(8).take(MAX_LOOKUPS / 2) {
        let rel = i64::from(u32::from_be_bytes([e[0], e[1], e[2], e[3]]));
        offsets.extend([base + rel - 1, base + rel, base + rel + 1]);
    }
    let map = seg.map_covering(0).ok().flatten();
    for offset in offsets {
        let pos = seg.position_floor(offset);
        assert!(
            pos == 0 || pos < size,
            "position {pos} outside a {size}-byte segment"
        );
        if let (Some(map), true) = (&map, (base..seg.next_offset).contains(&offset)) {
            let got = read_mapped(map, pos, size, offset, usize::MAX, true);
            check_read(&got, offset, &batches);
        }
    }
    let mut timestamps = vec![i64::MIN, -1, 0, 1_700_000_000_000, i64::MAX];
    for e in time_index.chunks_exact(12).take(MAX_LOOKUPS / 2) {
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&e[..8]);
        let ts = i64::from_be_bytes(ts);
        timestamps.extend([ts.saturating_sub(1), ts, ts.saturating_add(1)]);
    }
    for ts in timestamps {
        let pos = seg.position_for_timestamp(ts);
        assert!(
            pos == 0 || pos < size,
            "position {pos} outside a {size}-byte segment"
        );
    }
});

/// (base offset, last offset) of every batch in a segment's trusted bytes, read from their
/// headers as a restart reads a sealed segment.
fn headers(log: &[u8]) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(total) = batch::peek_total_len(&log[pos..]) {
        let Ok(h) = BatchHeader::parse(&log[pos..]) else {
            break;
        };
        let last = h.base_offset.saturating_add(i64::from(h.last_offset_delta));
        out.push((h.base_offset, last));
        pos += total;
    }
    out
}

/// Splits the input into (`.index`, `.timeindex`, `.log`).
fn split(data: &[u8]) -> (&[u8], &[u8], &[u8]) {
    let len = |at: usize| {
        data.get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .unwrap_or(0)
    };
    let (a, b) = (len(0), len(4));
    let rest = data.get(8..).unwrap_or(&[]);
    let (index, rest) = rest.split_at(a.min(rest.len()));
    let (time_index, log) = rest.split_at(b.min(rest.len()));
    (index, time_index, log)
}

/// A read from an index position: whole batches, starting with the segment's first batch
/// that holds `offset` or a later one (offsets may have gaps).
fn check_read(got: &[u8], offset: i64, batches: &[(i64, i64)]) {
    let expected = batches.iter().find(|(_, last)| *last >= offset);
    let Some(total) = batch::peek_total_len(got) else {
        assert!(got.is_empty(), "a read returns whole batches");
        assert!(
            expected.is_none(),
            "a batch holding offset {offset} was not read"
        );
        return;
    };
    assert!(total <= got.len(), "a read returns whole batches");
    let h = BatchHeader::parse(got).expect("a whole header");
    let last = h.base_offset.saturating_add(i64::from(h.last_offset_delta));
    assert_eq!(
        Some(&(h.base_offset, last)),
        expected,
        "the read of offset {offset} starts at the batch holding it"
    );
}

/// 40 valid batches (1 to 40 minimal records each, timestamps rising unevenly) at offset
/// [`BASE`], as a restart would find a sealed segment.
fn built_in_log() -> &'static [u8] {
    static LOG: OnceLock<Vec<u8>> = OnceLock::new();
    LOG.get_or_init(|| {
        let mut log = Vec::new();
        let mut offset = BASE;
        for i in 0..40i32 {
            let count = i % 7 + 1 + (i / 10) * 5;
            let ts = 1_700_000_000_000 + i64::from(i * i * 13);
            log.extend_from_slice(&make_batch(offset, count, ts));
            offset += i64::from(count);
        }
        log
    })
}

/// One uncompressed batch of `count` minimal records (null key and value).
fn make_batch(base_offset: i64, count: i32, ts: i64) -> Vec<u8> {
    let mut records = Vec::new();
    for i in 0..count {
        // length 6 (zigzag 12), attributes, timestamp delta, offset delta i, key -1,
        // value -1, no headers.
        records.extend_from_slice(&[12, 0, 0, (i << 1) as u8, 1, 1, 0]);
    }
    let mut b = Vec::with_capacity(HEADER_LEN + records.len());
    b.extend_from_slice(&base_offset.to_be_bytes());
    b.extend_from_slice(&((HEADER_LEN - 12 + records.len()) as i32).to_be_bytes());
    b.extend_from_slice(&0i32.to_be_bytes());
    b.push(2);
    b.extend_from_slice(&[0; 4]); // CRC, below
    b.extend_from_slice(&0i16.to_be_bytes());
    b.extend_from_slice(&(count - 1).to_be_bytes());
    b.extend_from_slice(&ts.to_be_bytes());
    b.extend_from_slice(&(ts + i64::from(count)).to_be_bytes());
    b.extend_from_slice(&(-1i64).to_be_bytes());
    b.extend_from_slice(&(-1i16).to_be_bytes());
    b.extend_from_slice(&(-1i32).to_be_bytes());
    b.extend_from_slice(&count.to_be_bytes());
    b.extend_from_slice(&records);
    let crc = crc32c::crc32c(&b[21..]);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
    b
}
