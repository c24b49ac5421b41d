//! Fuzz target `segment_recovery`: arbitrary bytes as a segment's `.log` file, then the
//! partition opened as at a restart (`log::Partition::open`).
//!
//! Input: one mode byte, then the file's bytes. Mode bit 0 clear: the file is the only,
//! hence active, segment `00000000000000000000.log`, which recovery verifies batch by batch
//! (CRC included), as after a crash. Bit 0 set: the file is a sealed segment, followed by an
//! empty active one at a base offset past it, which a restart trusts (headers only).
//!
//! Proves that opening never panics, whatever the file holds, and for the active segment
//! that recovery leaves a valid prefix: the file is cut to the last whole valid batch (the
//! same prefix an independent walk of the input finds), the log end offset follows the last
//! batch kept, and every batch read back from the log start to the high watermark passes
//! `validate_stored` (a client's `validate`, or an empty batch the log cleaner leaves). For a sealed segment: reads of every offset and every timestamp lookup stay
//! within the file and never panic.

#![no_main]

use std::path::Path;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use weir::config::LogConfig;
use weir::log::batch::{self, HEADER_LEN};
use weir::log::segment::file_name;
use weir::log::{Partition, TopicPartition};

/// Base offset of the empty active segment after a sealed one.
const NEXT_BASE: i64 = 1 << 40;

fuzz_target!(init: weir_fuzz::init(), |data: &[u8]| {
    let Some((&mode, log)) = data.split_first() else {
        return;
    };
    let sealed = mode & 1 == 1;
    let tmp = tempfile::tempdir().expect("a temp dir");
    let dir = tmp.path().join("fuzz-0");
    std::fs::create_dir_all(&dir).expect("the partition dir");
    std::fs::write(dir.join(file_name(0, "log")), log).expect("the .log is written");
    if sealed {
        std::fs::write(dir.join(file_name(NEXT_BASE, "log")), b"").expect("an empty .log");
    }
    let config = LogConfig {
        segment_bytes: 1 << 20,
        segment_index_bytes: 4096,
        index_interval_bytes: 256,
        ..LogConfig::default()
    };
    let partition = match Partition::open(TopicPartition::new("fuzz", 0), dir.clone(), config, 0, Some(i64::MAX)) {
        Ok(p) => p,
        Err(_) => return, // refused (an I/O error): nothing was served
    };
    if sealed {
        read_everything(&partition, log.len());
    } else {
        check_recovered(&partition, &dir, log);
    }
});

/// The length of the valid prefix of an active segment at base offset 0, and its log end
/// offset, found independently of the recovery code: whole batches that `validate_stored`, with
/// offsets that only grow and fit the segment.
fn valid_prefix(log: &[u8]) -> (usize, i64) {
    let (mut pos, mut next) = (0usize, 0i64);
    while let Some(total) = batch::peek_total_len(&log[pos..]) {
        let Some(bytes) = log.get(pos..pos.saturating_add(total)) else {
            break;
        };
        let Ok(h) = batch::validate_stored(bytes) else {
            break;
        };
        if h.base_offset < next {
            break;
        }
        // A batch must fit the segment: relative offsets are u32 in the indexes, and the
        // offset after it must exist.
        let last = h.base_offset.checked_add(i64::from(h.last_offset_delta));
        let Some(last) = last.filter(|l| *l < i64::MAX && *l <= i64::from(u32::MAX)) else {
            break;
        };
        next = last + 1;
        pos += total;
    }
    (pos, next)
}

fn check_recovered(partition: &Partition, dir: &Path, log: &[u8]) {
    let (valid, end) = valid_prefix(log);
    let on_disk = std::fs::metadata(dir.join(file_name(0, "log")))
        .expect("the .log is still there")
        .len();
    assert_eq!(
        on_disk as usize, valid,
        "the .log is cut to its valid prefix"
    );
    let o = partition.offsets().expect("a recovered partition serves");
    let (start, hw) = (o.log_start, o.log_end);
    assert_eq!(
        o.high_watermark, hw,
        "a checkpoint past the end is held to it"
    );
    assert_eq!(start, 0);
    assert_eq!(hw, end, "the log end offset follows the last whole batch");

    // Every batch from the start to the high watermark reads back and validates, and
    // together they are exactly the valid prefix.
    let mut offset = start;
    let mut read = Vec::new();
    while offset < hw {
        let info = partition
            .read(offset, 1 << 20, true, hw)
            .expect("a recovered offset reads");
        assert_eq!(info.high_watermark, hw);
        if info.records.is_empty() {
            break;
        }
        let batches = split_stored(&info.records);
        let Some((_, last)) = batches.last() else {
            break;
        };
        for (_, h) in &batches {
            assert!(
                h.last_offset() >= offset,
                "no batch wholly before the offset"
            );
        }
        offset = last.last_offset() + 1;
        read.extend_from_slice(&info.records);
    }
    assert_eq!(&read[..], &log[..valid], "the log reads back as written");
    if valid > 0 {
        let _ = partition.offset_for_timestamp(i64::MIN);
        let _ = partition.max_timestamp();
    }
}

/// A sealed segment is trusted: reads must stay within the file and not panic.
fn read_everything(partition: &Partition, file_len: usize) {
    let Ok(o) = partition.offsets() else {
        return;
    };
    let (start, hw) = (o.log_start, o.log_end);
    for offset in [
        start,
        start.saturating_add(1),
        hw / 2,
        hw.saturating_sub(1),
        hw,
    ] {
        if let Ok(info) = partition.read(offset, 1 << 20, true, hw) {
            assert!(info.records.len() <= file_len);
            if let Some(h) = batch::peek_total_len(&info.records) {
                assert!(h >= HEADER_LEN);
            }
            let _ = Bytes::len(&info.records);
        }
    }
    for ts in [i64::MIN, -1, 0, 1_700_000_000_000, i64::MAX] {
        let _ = partition.offset_for_timestamp(ts);
    }
    let _ = partition.max_timestamp();
}

/// Whole stored batches of `records`, each passing `validate_stored`.
fn split_stored(records: &[u8]) -> Vec<(usize, batch::BatchHeader)> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < records.len() {
        let total = batch::peek_total_len(&records[pos..]).expect("a whole batch header");
        let bytes = records
            .get(pos..pos.saturating_add(total))
            .expect("a whole batch");
        let h = batch::validate_stored(bytes).expect("a stored batch validates");
        out.push((pos, h));
        pos += total;
    }
    out
}
