//! Tests of the replication API of a partition's log (`replica.rs`, the high watermark,
//! bounded reads, the high watermark checkpoint).

use std::path::Path;

use super::batch::{self, tests::make_batch, BatchHeader};
use super::epochs::{LeaderEpochCache, CHECKPOINT_FILE};
use super::producer_state::ProducerError;
use super::{LogError, LogManager, Partition, TopicPartition};
use crate::config::LogConfig;

fn config(segment_bytes: u64) -> LogConfig {
    let mut c = LogConfig::default();
    c.set_topic("segment.bytes", &segment_bytes.to_string())
        .unwrap();
    c
}

fn open(dir: &Path, segment_bytes: u64) -> Partition {
    let tp = TopicPartition::new("t", 0);
    let now = crate::log::now_ms();
    Partition::open(tp, dir.into(), config(segment_bytes), now, None).unwrap()
}

/// A leader append of `count` records at `epoch`, optionally idempotent; returns its base.
fn append(p: &Partition, count: i32, epoch: i32, producer: Option<(i64, i16, i32)>) -> i64 {
    let raw = make_batch(0, count, producer);
    let h = batch::validate(&raw).unwrap();
    p.append(&raw, &h, crate::log::now_ms(), epoch)
        .unwrap()
        .base_offset
}

/// Every stored byte from `from` to the log end.
fn all_bytes(p: &Partition, from: i64) -> Vec<u8> {
    let end = p.offsets().unwrap().log_end;
    let mut out = Vec::new();
    let mut next = from;
    while next < end {
        let read = p.read(next, usize::MAX, true, i64::MAX).unwrap();
        let Some((_, last)) = batch::split_batches(read.records.clone()).unwrap().pop() else {
            break;
        };
        out.extend_from_slice(&read.records);
        next = last.last_offset() + 1;
    }
    out
}

fn headers(bytes: &[u8]) -> Vec<BatchHeader> {
    batch::split_batches(bytes::Bytes::copy_from_slice(bytes))
        .unwrap()
        .into_iter()
        .map(|(_, h)| h)
        .collect()
}

/// A leader log of 10 batches of 3 records: epochs 1 (offsets 0..12), 2 (12..21), 4 (21..30).
fn leader(dir: &Path, segment_bytes: u64) -> Partition {
    let p = open(dir, segment_bytes);
    for i in 0..10 {
        let epoch = match i {
            0..4 => 1,
            4..7 => 2,
            _ => 4,
        };
        append(&p, 3, epoch, None);
    }
    p
}

#[test]
fn the_leader_stamps_epochs_and_the_cache_follows() {
    let dir = tempfile::tempdir().unwrap();
    let p = leader(dir.path(), 1 << 20);
    let hs = headers(&all_bytes(&p, 0));
    let epochs: Vec<i32> = hs.iter().map(|h| h.partition_leader_epoch).collect();
    assert_eq!(epochs, [1, 1, 1, 1, 2, 2, 2, 4, 4, 4]);
    assert_eq!(p.epoch_entries().unwrap(), [(1, 0), (2, 12), (4, 21)]);
    assert_eq!(p.latest_epoch().unwrap(), Some(4));
    assert_eq!(p.end_offset_for_epoch(2).unwrap(), (2, 21));
    assert_eq!(p.end_offset_for_epoch(3).unwrap(), (2, 21));
    assert_eq!(p.end_offset_for_epoch(4).unwrap(), (4, 30));
    // An older epoch (a caller that does not know it) changes nothing.
    append(&p, 1, 0, None);
    assert_eq!(p.epoch_entries().unwrap(), [(1, 0), (2, 12), (4, 21)]);
    // Becoming leader at epoch 6 starts it at the log end.
    p.assign_leader_epoch(6).unwrap();
    assert_eq!(p.end_offset_for_epoch(4).unwrap(), (4, 31));
    let text = std::fs::read_to_string(dir.path().join(CHECKPOINT_FILE)).unwrap();
    assert_eq!(text, "0\n4\n1 0\n2 12\n4 21\n6 31\n");
}

#[test]
fn a_follower_stores_the_leaders_bytes_unchanged() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let leader = leader(a.path(), 1 << 20);
    let bytes = all_bytes(&leader, 0);
    // Segments roll on the follower too (about three batches per segment).
    let follower = open(b.path(), 250);
    // A trailing partial batch is ignored.
    let (first, rest) = bytes.split_at(bytes.len() / 2 + 7);
    let cut = headers(&bytes)
        .iter()
        .scan(0, |pos, h| {
            *pos += h.total_len();
            Some(*pos)
        })
        .take_while(|&end| end <= first.len())
        .last()
        .unwrap();
    assert_eq!(follower.append_replicated(first).unwrap(), 15);
    assert_eq!(follower.append_replicated(&bytes[cut..]).unwrap(), 30);
    assert!(rest.len() < bytes.len());
    assert_eq!(all_bytes(&follower, 0), bytes, "byte for byte");
    assert!(follower.log.lock().unwrap().segments.len() > 2, "rolled");
    assert_eq!(
        follower.epoch_entries().unwrap(),
        [(1, 0), (2, 12), (4, 21)]
    );
    assert_eq!(follower.append_replicated(&[]).unwrap(), 30, "empty: no-op");
    // The follower's high watermark is only what it is told, clamped.
    assert_eq!(follower.high_watermark(), 0);
    assert_eq!(follower.set_high_watermark(99).unwrap(), 30);
    assert_eq!(follower.set_high_watermark(12).unwrap(), 12);
}

#[test]
fn a_follower_refuses_batches_that_do_not_follow() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let leader = leader(a.path(), 1 << 20);
    let bytes = all_bytes(&leader, 0);
    let follower = open(b.path(), 1 << 20);
    let batch_len = headers(&bytes)[0].total_len();
    follower.append_replicated(&bytes[..2 * batch_len]).unwrap();
    // Starts below the log end (the batch at 3 again, then the one at 6).
    let again = &bytes[batch_len..3 * batch_len];
    match follower.append_replicated(again) {
        Err(LogError::OffsetMismatch { expected, got }) => assert_eq!((expected, got), (6, 3)),
        other => panic!("{other:?}"),
    }
    // The second batch does not follow the first: nothing of either is written.
    let mut twisted = bytes[2 * batch_len..3 * batch_len].to_vec();
    twisted.extend_from_slice(&bytes[batch_len..2 * batch_len]);
    assert!(matches!(
        follower.append_replicated(&twisted),
        Err(LogError::OffsetMismatch {
            expected: 9,
            got: 3
        })
    ));
    // A damaged batch is refused whole.
    let mut damaged = bytes[2 * batch_len..3 * batch_len].to_vec();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    assert!(matches!(
        follower.append_replicated(&damaged),
        Err(LogError::Corrupt(_))
    ));
    assert_eq!(
        all_bytes(&follower, 0),
        &bytes[..2 * batch_len],
        "unchanged"
    );
    // A gap (a compacted leader) is fine.
    assert_eq!(
        follower.append_replicated(&bytes[5 * batch_len..]).unwrap(),
        30
    );
    assert_eq!(
        follower
            .read(6, usize::MAX, false, 30)
            .unwrap()
            .records
            .len(),
        5 * batch_len
    );
}

#[test]
fn truncation_cuts_whole_batches_and_appends_continue() {
    let dir = tempfile::tempdir().unwrap();
    // About three batches per segment: offsets 0..9, 9..18, 18..27, 27..30.
    let p = leader(dir.path(), 250);
    p.set_high_watermark(30).unwrap();
    let segments = || p.log.lock().unwrap().segments.len();
    assert_eq!(segments(), 4);
    // Inside a batch of the active segment: the whole batch goes.
    assert_eq!(p.truncate_to(29).unwrap(), 27);
    assert_eq!(p.offsets().unwrap().high_watermark, 27, "clamped");
    assert_eq!(p.truncate_to(27).unwrap(), 27, "at the end: no-op");
    // Across segments, at a batch boundary in the middle of one.
    assert_eq!(p.truncate_to(12).unwrap(), 12);
    assert_eq!(segments(), 2);
    assert_eq!(
        p.epoch_entries().unwrap(),
        [(1, 0)],
        "epoch 2 started at 12"
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".log") || n.contains(".deleted") || n.contains(".cleaned"))
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    // Appends continue at the new end, with a new epoch.
    assert_eq!(append(&p, 2, 7, None), 12);
    assert_eq!(p.epoch_entries().unwrap(), [(1, 0), (7, 12)]);
    let hs = headers(&all_bytes(&p, 0));
    let bases: Vec<i64> = hs.iter().map(|h| h.base_offset).collect();
    assert_eq!(bases, [0, 3, 6, 9, 12]);
    // Reopening finds the same log and epochs.
    drop(p);
    let p = open(dir.path(), 250);
    assert_eq!(p.offsets().unwrap().log_end, 14);
    assert_eq!(p.epoch_entries().unwrap(), [(1, 0), (7, 12)]);
    assert_eq!(headers(&all_bytes(&p, 0)), hs);
    // Down to the first segment's base: an empty log there.
    assert_eq!(p.truncate_to(0).unwrap(), 0);
    assert_eq!(p.epoch_entries().unwrap(), []);
    assert_eq!(append(&p, 1, 8, None), 0);
}

/// A replica that led in an epoch without appending anything holds that epoch at its log
/// end; the new leader does not have it. Truncating to the log end drops it (as Kafka's
/// `truncateTo` does), or the follower would name it and be told it diverges forever.
#[test]
fn truncation_at_the_end_drops_an_empty_last_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path(), 1 << 20);
    append(&p, 3, 0, None);
    p.assign_leader_epoch(1).unwrap();
    assert_eq!(p.epoch_entries().unwrap(), [(0, 0), (1, 3)]);
    assert_eq!(p.truncate_to(3).unwrap(), 3);
    assert_eq!(p.epoch_entries().unwrap(), [(0, 0)]);
    assert_eq!(p.latest_epoch().unwrap(), Some(0));
    let reopened_dir = dir.path().to_path_buf();
    drop(p);
    let p = open(&reopened_dir, 1 << 20);
    assert_eq!(p.epoch_entries().unwrap(), [(0, 0)], "persisted");
}

#[test]
fn truncation_rebuilds_producer_state() {
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path(), 1 << 20);
    for seq in [0, 3, 6] {
        append(&p, 3, 0, Some((42, 0, seq)));
    }
    assert_eq!(p.truncate_to(6).unwrap(), 6);
    // The batch at sequence 6 was truncated away: it is accepted (and written) again.
    assert_eq!(append(&p, 3, 0, Some((42, 0, 6))), 6);
    // Sequence 3 is still in the log: a duplicate, answered with its offset.
    assert_eq!(append(&p, 3, 0, Some((42, 0, 3))), 3);
    assert_eq!(p.offsets().unwrap().log_end, 9);
    let raw = make_batch(0, 1, Some((42, 0, 20)));
    let h = batch::validate(&raw).unwrap();
    assert!(matches!(
        p.append(&raw, &h, crate::log::now_ms(), 0),
        Err(LogError::Producer(ProducerError::OutOfOrder { .. }))
    ));
}

#[test]
fn reset_starts_an_empty_log_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let p = leader(dir.path(), 250);
    append(&p, 1, 4, Some((5, 0, 0)));
    p.reset_to(1000).unwrap();
    let o = p.offsets().unwrap();
    assert_eq!(
        (o.log_start, o.high_watermark, o.log_end),
        (1000, 1000, 1000)
    );
    assert_eq!(p.epoch_entries().unwrap(), []);
    assert_eq!(p.log.lock().unwrap().segments.len(), 1);
    assert!(p.log.lock().unwrap().producers.is_empty());
    assert!(matches!(
        p.read(999, 100, true, i64::MAX),
        Err(LogError::OffsetOutOfRange { .. })
    ));
    assert_eq!(append(&p, 2, 9, None), 1000);
    drop(p);
    let p = open(dir.path(), 250);
    let o = p.offsets().unwrap();
    assert_eq!((o.log_start, o.log_end), (1000, 1002));
    assert_eq!(p.epoch_entries().unwrap(), [(9, 1000)]);
    // A reset to the current base offset reuses the name.
    p.reset_to(1000).unwrap();
    assert_eq!(p.offsets().unwrap().log_end, 1000);
    assert_eq!(append(&p, 1, 9, None), 1000);
}

#[test]
fn reads_stop_before_max_offset() {
    let dir = tempfile::tempdir().unwrap();
    let p = leader(dir.path(), 1 << 20);
    let batch_len = headers(&all_bytes(&p, 0))[0].total_len();
    let len = |offset, max| p.read(offset, usize::MAX, true, max).unwrap().records.len();
    assert_eq!(len(0, 30), 10 * batch_len, "at the log end: everything");
    assert_eq!(len(0, 1000), 10 * batch_len, "above it");
    assert_eq!(len(0, 7), 3 * batch_len, "below: batches starting below it");
    assert_eq!(len(0, 6), 2 * batch_len);
    assert_eq!(len(4, 6), batch_len);
    assert_eq!(len(6, 6), 0, "at max_offset: nothing");
    let read = p.read(3, usize::MAX, true, 9).unwrap();
    let (file, pos) = read.file.clone().unwrap();
    let mut on_disk = vec![0u8; read.records.len()];
    std::os::unix::fs::FileExt::read_exact_at(&*file, &mut on_disk, pos).unwrap();
    assert_eq!(on_disk, &read.records[..], "the file slice is cut too");
    assert!(p.read(6, usize::MAX, true, 6).unwrap().file.is_none());
    assert!(matches!(
        p.read(31, usize::MAX, true, 100),
        Err(LogError::OffsetOutOfRange { .. })
    ));
}

#[test]
fn high_watermarks_are_checkpointed_by_the_manager() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogManager::new(dir.path().into());
    let a = logs
        .open(TopicPartition::new("a", 0), LogConfig::default())
        .unwrap();
    let b = logs
        .open(TopicPartition::new("b", 1), LogConfig::default())
        .unwrap();
    for _ in 0..4 {
        append(&a, 5, 0, None);
        append(&b, 5, 0, None);
    }
    a.set_high_watermark(15).unwrap();
    b.set_high_watermark(20).unwrap();
    logs.close_all();
    let text = std::fs::read_to_string(dir.path().join(super::HIGH_WATERMARK_FILE)).unwrap();
    assert_eq!(text, "0\n2\na 0 15\nb 1 20\n");
    drop((a, b, logs));
    // Reopened: the checkpoint is the starting high watermark, clamped to the log.
    let text = "0\n2\na 0 15\nb 1 500\n";
    std::fs::write(dir.path().join(super::HIGH_WATERMARK_FILE), text).unwrap();
    let logs = LogManager::new(dir.path().into());
    let open = |t| {
        logs.open(
            TopicPartition::new(t, i32::from(t == "b")),
            LogConfig::default(),
        )
        .unwrap()
    };
    assert_eq!(open("a").high_watermark(), 15);
    assert_eq!(open("b").high_watermark(), 20, "clamped to the log end");
    logs.delete_topic("b").unwrap();
    logs.checkpoint_high_watermarks().unwrap();
    let text = std::fs::read_to_string(dir.path().join(super::HIGH_WATERMARK_FILE)).unwrap();
    assert_eq!(text, "0\n1\na 0 15\n", "deleted topics drop out");
    // A malformed checkpoint counts as empty: the log start.
    std::fs::write(
        dir.path().join(super::HIGH_WATERMARK_FILE),
        "0\n2\na 0 15\n",
    )
    .unwrap();
    let logs = LogManager::new(dir.path().into());
    let a = logs
        .open(TopicPartition::new("a", 0), LogConfig::default())
        .unwrap();
    assert_eq!(a.high_watermark(), 0);
}

#[test]
fn retention_and_log_start_stay_below_the_high_watermark() {
    let dir = tempfile::tempdir().unwrap();
    let p = leader(dir.path(), 250);
    let mut c = config(250);
    c.set_topic("retention.bytes", "1").unwrap();
    p.set_config(c);
    let segments = || p.log.lock().unwrap().segments.len();
    p.apply_retention(crate::log::now_ms()).unwrap();
    assert_eq!(segments(), 4, "nothing is committed: nothing expires");
    p.set_high_watermark(20).unwrap();
    let report = p.apply_retention(crate::log::now_ms()).unwrap();
    assert_eq!(
        report.segments, 2,
        "only segments wholly below 20 (next bases 9, 18)"
    );
    assert_eq!(report.log_start_offset, 18);
    assert_eq!(p.epoch_entries().unwrap(), [(2, 18), (4, 21)]);
    // The log start follows a leader's, up to the high watermark.
    assert_eq!(p.advance_log_start(25).unwrap(), 20);
    assert_eq!(p.epoch_entries().unwrap(), [(2, 20), (4, 21)]);
    assert!(matches!(
        p.delete_records(21),
        Err(LogError::OffsetOutOfRange { .. })
    ));
    // A damaged epoch checkpoint is rebuilt from the batch headers at open.
    drop(p);
    std::fs::write(dir.path().join(CHECKPOINT_FILE), "garbage").unwrap();
    let p = open(dir.path(), 250);
    assert_eq!(p.epoch_entries().unwrap(), [(2, 20), (4, 21)]);
    assert_eq!(
        LeaderEpochCache::load(dir.path())
            .unwrap()
            .unwrap()
            .entries(),
        [(2, 20), (4, 21)]
    );
}
