//! Tests of the transaction bookkeeping: tables of producer state events (data batches,
//! markers, high watermark moves) against the expected last stable offset and aborted
//! entries; then a partition's appends, reads, recovery (torn and missing `.txnindex`),
//! truncation, retention and cleaning with transactions.

use super::batch::{self, BatchHeader, ControlMarker, ATTR_POS, CRC_POS};
use super::partition::{LogError, Partition, TopicPartition};
use super::producer_state::{ProducerError, ProducerStateTable, SequenceCheck};
use super::segment::file_name;
use super::txn_index::{self, AbortedTxn, ENTRY_LEN};
use crate::config::LogConfig;

/// A header for the pure tables: `count` records at `offset` from `pid` (epoch 0).
fn header(pid: i64, offset: i64, count: i32, txn: bool, control: bool, seq: i32) -> BatchHeader {
    BatchHeader {
        base_offset: offset,
        batch_length: 0,
        partition_leader_epoch: 0,
        magic: 2,
        crc: 0,
        attributes: if txn { 0x10 } else { 0 } | if control { 0x20 } else { 0 },
        last_offset_delta: count - 1,
        base_timestamp: 0,
        max_timestamp: 0,
        producer_id: pid,
        producer_epoch: 0,
        base_sequence: seq,
        record_count: count,
    }
}

#[derive(Clone, Copy)]
enum Ev {
    /// A data batch: producer, offset, record count, transactional.
    Data(i64, i64, i32, bool),
    Commit(i64, i64),
    Abort(i64, i64),
    Hw(i64),
}

fn apply(t: &mut ProducerStateTable, hw: &mut i64, ev: Ev) -> Option<AbortedTxn> {
    let marker = |pid, off, commit| {
        let h = header(pid, off, 1, true, true, -1);
        let m = ControlMarker {
            commit,
            coordinator_epoch: 0,
        };
        (h, m)
    };
    match ev {
        Ev::Data(pid, off, n, txn) => t.record(&header(pid, off, n, txn, false, -1), None),
        Ev::Commit(pid, off) => {
            let (h, m) = marker(pid, off, true);
            t.record(&h, Some(m))
        }
        Ev::Abort(pid, off) => {
            let (h, m) = marker(pid, off, false);
            t.record(&h, Some(m))
        }
        Ev::Hw(new) => {
            *hw = new;
            t.on_high_watermark(new);
            None
        }
    }
}

/// Each case: events with the last stable offset expected after each, and the aborted
/// entries (producer, first, last, lso) produced in order.
#[test]
fn last_stable_offset_and_aborted_entries_table() {
    use Ev::*;
    type Case = (&'static str, Vec<(Ev, i64)>, Vec<(i64, i64, i64, i64)>);
    let cases: Vec<Case> = vec![
        (
            "no transactions: the high watermark",
            vec![
                (Data(-1, 0, 3, false), 0),
                (Hw(3), 3),
                (Data(7, 3, 1, false), 3),
            ],
            vec![],
        ),
        (
            "a commit is stable once its marker is below the high watermark",
            vec![
                (Data(1, 0, 2, true), 0),
                (Hw(2), 0),
                (Commit(1, 2), 0),
                (Hw(3), 3),
            ],
            vec![],
        ),
        (
            "an open transaction of another producer holds the LSO and the entry's LSO",
            vec![
                (Data(1, 0, 1, true), 0),
                (Data(2, 1, 1, true), 0),
                (Abort(1, 2), 0),
                (Hw(3), 1),
                (Commit(2, 3), 1),
                (Hw(4), 4),
            ],
            vec![(1, 0, 2, 1)],
        ),
        (
            "a marker without an open transaction closes nothing",
            vec![(Abort(5, 0), 0), (Hw(1), 1), (Commit(5, 1), 1), (Hw(2), 2)],
            vec![],
        ),
        (
            "later batches of an open transaction keep its first offset",
            vec![
                (Data(1, 0, 1, true), 0),
                (Data(1, 1, 2, true), 0),
                (Hw(3), 0),
                (Abort(1, 3), 0),
                (Hw(4), 4),
                (Data(1, 4, 1, true), 4),
                (Hw(5), 4),
            ],
            vec![(1, 0, 3, 4)],
        ),
        (
            "the earliest of several open transactions",
            vec![
                (Data(2, 0, 1, false), 0),
                (Data(3, 1, 1, true), 0),
                (Data(4, 2, 1, true), 0),
                (Hw(3), 1),
                (Abort(3, 3), 1),
                (Hw(4), 2),
                (Abort(4, 4), 2),
                (Hw(5), 5),
            ],
            vec![(3, 1, 3, 2), (4, 2, 4, 5)],
        ),
        (
            "the high watermark below a closed transaction's marker keeps it unstable",
            vec![
                (Data(1, 0, 1, true), 0),
                (Commit(1, 1), 0),
                (Data(2, 2, 1, false), 0),
                (Hw(1), 0),
                (Hw(2), 2),
                (Hw(3), 3),
            ],
            vec![],
        ),
    ];
    for (name, events, want_aborted) in cases {
        let mut t = ProducerStateTable::default();
        let mut hw = 0;
        let mut aborted = Vec::new();
        for (i, (ev, lso)) in events.into_iter().enumerate() {
            aborted.extend(apply(&mut t, &mut hw, ev));
            assert_eq!(t.last_stable_offset(hw), lso, "{name}: after event {i}");
        }
        let got: Vec<_> = aborted
            .iter()
            .map(|a| {
                (
                    a.producer_id,
                    a.first_offset,
                    a.last_offset,
                    a.last_stable_offset,
                )
            })
            .collect();
        assert_eq!(got, want_aborted, "{name}");
    }
}

#[test]
fn checks_of_transactional_batches_and_markers() {
    let mut t = ProducerStateTable::default();
    let mut data = header(9, 0, 2, true, false, 0);
    data.producer_epoch = 3;
    t.record(&data, None);
    let marker = |epoch: i16, coordinator_epoch| {
        let mut h = header(9, 5, 1, true, true, -1);
        h.producer_epoch = epoch;
        (
            h,
            ControlMarker {
                commit: true,
                coordinator_epoch,
            },
        )
    };
    // A non-transactional batch while the transaction is open.
    let mut plain = header(9, -1, 1, false, false, 2);
    plain.producer_epoch = 3;
    assert_eq!(
        t.check(&plain),
        Err(ProducerError::InvalidTxnState { producer_id: 9 })
    );
    // An older producer epoch: data (even without a sequence) and markers.
    let mut old = header(9, -1, 1, true, false, -1);
    old.producer_epoch = 2;
    assert!(matches!(
        t.check(&old),
        Err(ProducerError::InvalidEpoch { got: 2, current: 3 })
    ));
    let (h, m) = marker(2, 0);
    assert!(matches!(
        t.check_marker(&h, &m),
        Err(ProducerError::InvalidEpoch { .. })
    ));
    // Base sequence -1 (the coordinator's writes) skips the sequence checks.
    let mut coordinator = header(9, -1, 1, true, false, -1);
    coordinator.producer_epoch = 3;
    assert_eq!(t.check(&coordinator), Ok(SequenceCheck::Append));
    // A marker records its coordinator epoch; an older one is fenced afterwards.
    let (h, m) = marker(3, 4);
    assert_eq!(t.check_marker(&h, &m), Ok(()));
    assert_eq!(t.record(&h, Some(m)), None, "a commit adds no entry");
    let (h, m) = marker(3, 3);
    assert_eq!(
        t.check_marker(&h, &m),
        Err(ProducerError::CoordinatorFenced { got: 3, current: 4 })
    );
    let view = t.views()[0];
    assert_eq!(
        (
            view.producer_id,
            view.producer_epoch,
            view.coordinator_epoch
        ),
        (9, 3, 4)
    );
    assert_eq!((view.last_sequence, view.current_txn_start_offset), (1, -1));
    // Closed: a non-transactional batch is fine again.
    assert_eq!(t.check(&plain), Ok(SequenceCheck::Append));
}

// ---- a partition ----

fn open(dir: &std::path::Path, config: LogConfig) -> Partition {
    Partition::open(
        TopicPartition::new("t", 0),
        dir.to_path_buf(),
        config,
        crate::log::now_ms(),
        None,
    )
    .unwrap()
}

/// A transactional data batch of `n` records from `pid` (epoch 0) at sequence `seq`.
fn txn_data(pid: i64, seq: i32, n: usize, key: &str) -> Vec<u8> {
    let records: Vec<_> = (0..n)
        .map(|i| (format!("{key}{i}").into_bytes(), Some(b"v".to_vec())))
        .collect();
    let mut b = batch::encode_txn_batch(&records, crate::log::now_ms(), pid, 0);
    b[53..57].copy_from_slice(&seq.to_be_bytes());
    let crc = crc32c::crc32c(&b[ATTR_POS..]);
    b[CRC_POS..CRC_POS + 4].copy_from_slice(&crc.to_be_bytes());
    b
}

fn append(p: &Partition, raw: &[u8]) -> Result<i64, LogError> {
    let h = batch::validate(raw).unwrap();
    p.append(raw, &h, crate::log::now_ms(), 0)
        .map(|i| i.base_offset)
}

fn marker(pid: i64, commit: bool) -> Vec<u8> {
    batch::encode_control(pid, 0, commit, 1, crate::log::now_ms())
}

fn end(p: &Partition) -> i64 {
    p.offsets().unwrap().log_end
}

/// Appends: producer 1 aborts [0, 2], producer 2 commits [1, 3]... see the offsets below.
fn scenario(p: &Partition) {
    assert_eq!(append(p, &txn_data(1, 0, 2, "a")).unwrap(), 0); // 0-1
    assert_eq!(append(p, &txn_data(2, 0, 1, "b")).unwrap(), 2); // 2
    assert_eq!(append(p, &marker(1, false)).unwrap(), 3); // abort 1: [0, 3]
    assert_eq!(
        append(p, &batch::encode_batch(&[(b"x".to_vec(), None)], 0)).unwrap(),
        4
    );
    assert_eq!(append(p, &marker(2, true)).unwrap(), 5); // commit 2: [2, 5]
    assert_eq!(append(p, &txn_data(3, 0, 1, "c")).unwrap(), 6); // open: 3 at 6
}

#[test]
fn a_partition_tracks_its_last_stable_offset_and_aborted_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path(), LogConfig::default());
    scenario(&p);
    assert_eq!(p.last_stable_offset(), 0, "high watermark 0");
    p.set_high_watermark(4).unwrap();
    // Producer 2's transaction (from 2) is open at the high watermark... and closed above it.
    assert_eq!(p.last_stable_offset(), 2);
    p.set_high_watermark(7).unwrap();
    assert_eq!(p.last_stable_offset(), 6, "producer 3 is open from 6");
    let read = p.read(0, 1 << 20, true, 6).unwrap();
    assert_eq!(read.last_stable_offset, 6);
    assert_eq!(crate::log::end_of_batches(&read.records), Some(6));
    assert_eq!(p.aborted_transactions(0, 6).unwrap(), [(1, 0)]);
    assert_eq!(p.aborted_transactions(4, 6).unwrap(), [], "ends before 4");
    assert_eq!(
        p.aborted_transactions(0, 0).unwrap(),
        [],
        "starts at 0, not below"
    );
    assert_eq!(p.open_transactions(), [(3, 6)]);
    let views = p.producer_states().unwrap();
    assert_eq!(views.len(), 3);
    assert_eq!(views[0].current_txn_start_offset, -1);
    assert_eq!(views[0].coordinator_epoch, 1);
    assert_eq!(views[2].current_txn_start_offset, 6);
    // The entry is on disk in Kafka's layout.
    let bytes = std::fs::read(dir.path().join(file_name(0, "txnindex"))).unwrap();
    assert_eq!(bytes.len(), ENTRY_LEN);
    let entry = txn_index::decode_all(&bytes)[0];
    assert_eq!(
        (entry.producer_id, entry.first_offset, entry.last_offset),
        (1, 0, 3)
    );
    assert_eq!(entry.last_stable_offset, 2, "producer 2 was open from 2");
    // A client control batch that is no marker is refused by the log.
    let mut junk = marker(1, true);
    let key_type = batch::HEADER_LEN + 8;
    junk[key_type] = 9;
    let crc = crc32c::crc32c(&junk[ATTR_POS..]);
    junk[CRC_POS..CRC_POS + 4].copy_from_slice(&crc.to_be_bytes());
    assert!(matches!(append(&p, &junk), Err(LogError::InvalidRecord(_))));
    // Markers are fenced by older coordinator epochs.
    let stale = batch::encode_control(3, 0, true, 0, 0);
    // Producer 3 never saw a marker: any coordinator epoch is accepted.
    assert!(append(&p, &stale).is_ok());
    let staler = batch::encode_control(3, 0, true, -5, 0);
    assert!(matches!(
        append(&p, &staler),
        Err(LogError::Producer(ProducerError::CoordinatorFenced { .. }))
    ));
}

/// A restart keeps open transactions open and rebuilds a torn or missing `.txnindex`.
#[test]
fn recovery_rebuilds_transactions_and_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file_name(0, "txnindex"));
    {
        let p = open(dir.path(), LogConfig::default());
        scenario(&p);
        p.close().unwrap();
    }
    let good = std::fs::read(&path).unwrap();
    let check = |what: &str| {
        let p = open(dir.path(), LogConfig::default());
        assert_eq!(p.open_transactions(), [(3, 6)], "{what}");
        p.set_high_watermark(end(&p)).unwrap();
        assert_eq!(p.last_stable_offset(), 6, "{what}");
        assert_eq!(p.aborted_transactions(0, 7).unwrap(), [(1, 0)], "{what}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            good,
            "{what}: file rewritten"
        );
        // The open transaction can still be closed after the restart.
        append(&p, &marker(3, false)).unwrap();
        p.set_high_watermark(end(&p)).unwrap();
        assert_eq!(p.last_stable_offset(), end(&p), "{what}");
        assert_eq!(p.aborted_transactions(0, 100).unwrap(), [(1, 0), (3, 6)]);
        p.truncate_to(7).unwrap();
        assert_eq!(
            p.open_transactions(),
            [(3, 6)],
            "{what}: truncation reopens it"
        );
    };
    check("clean restart");
    // Torn: a partial entry appended.
    let mut torn = good.clone();
    torn.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 2]);
    std::fs::write(&path, &torn).unwrap();
    check("torn index");
    std::fs::remove_file(&path).unwrap();
    check("missing index");
    // Stale: an entry the log does not show.
    let mut stale = good.clone();
    stale.extend_from_slice(
        &AbortedTxn {
            producer_id: 77,
            first_offset: 1,
            last_offset: 2,
            last_stable_offset: 3,
        }
        .encode(),
    );
    std::fs::write(&path, &stale).unwrap();
    check("stale index");
}

/// Truncation below an ABORT marker removes its entry and reopens its transaction; a reset
/// clears everything; retention removes a segment's `.txnindex` with it.
#[test]
fn truncation_reset_and_retention() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = LogConfig::default();
    config.set_topic("segment.bytes", "150").unwrap();
    config.set_topic("retention.bytes", "1").unwrap();
    let p = open(dir.path(), config);
    scenario(&p);
    let first_index = dir.path().join(file_name(0, "txnindex"));
    let abort_segment = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with(".txnindex"))
        .expect("the abort's segment has an index");
    assert!(p.aborted_transactions(0, 10).unwrap() == [(1, 0)]);
    p.truncate_to(3).unwrap();
    assert_eq!(p.aborted_transactions(0, 10).unwrap(), []);
    assert_eq!(p.open_transactions(), [(1, 0), (2, 2)]);
    assert!(!dir.path().join(&abort_segment).exists());
    append(&p, &marker(1, false)).unwrap();
    append(&p, &marker(2, false)).unwrap();
    p.set_high_watermark(end(&p)).unwrap();
    assert_eq!(p.aborted_transactions(0, 10).unwrap(), [(1, 0), (2, 2)]);
    assert_eq!(p.last_stable_offset(), end(&p));
    // Retention: everything but the active segment goes, indexes too.
    for _ in 0..3 {
        append(&p, &batch::encode_batch(&[(b"pad".to_vec(), None)], 0)).unwrap();
    }
    p.set_high_watermark(end(&p)).unwrap();
    p.apply_retention(crate::log::now_ms()).unwrap();
    let start = p.offsets().unwrap().log_start;
    assert!(start > 4, "log start {start}");
    assert_eq!(p.aborted_transactions(start, end(&p)).unwrap(), []);
    let left = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".txnindex"))
        .count();
    assert_eq!(left, 0);
    assert!(!first_index.exists());
    // A reset forgets every transaction.
    append(&p, &txn_data(5, 0, 1, "r")).unwrap();
    p.reset_to(100).unwrap();
    assert_eq!(p.open_transactions(), []);
    assert_eq!(p.last_stable_offset(), 100);
}

/// A follower's append of the leader's bytes builds the same state.
#[test]
fn followers_replay_the_leaders_transactions() {
    let leader_dir = tempfile::tempdir().unwrap();
    let leader = open(leader_dir.path(), LogConfig::default());
    scenario(&leader);
    let all = leader.read(0, 1 << 20, true, i64::MAX).unwrap().records;
    let dir = tempfile::tempdir().unwrap();
    let follower = open(dir.path(), LogConfig::default());
    follower.append_replicated(&all).unwrap();
    follower.set_high_watermark(7).unwrap();
    assert_eq!(follower.open_transactions(), [(3, 6)]);
    assert_eq!(follower.last_stable_offset(), 6);
    assert_eq!(follower.aborted_transactions(0, 7).unwrap(), [(1, 0)]);
    assert!(dir.path().join(file_name(0, "txnindex")).exists());
}

/// Every record of the log: (offset, key, in a control batch).
fn all_records(p: &Partition) -> Vec<(i64, Vec<u8>, bool)> {
    let mut out = Vec::new();
    let mut at = p.offsets().unwrap().log_start;
    while at < end(p) {
        let read = p.read(at, 1 << 20, true, i64::MAX).unwrap();
        let Some(next) = crate::log::end_of_batches(&read.records) else {
            break;
        };
        let data = &read.records[..];
        let mut pos = 0;
        while let Some(len) = data.get(pos..).and_then(batch::peek_total_len) {
            // The cleaner's empty batches fail `validate` (no record): headers only.
            let raw = &data[pos..pos + len];
            pos += len;
            let h = BatchHeader::parse(raw).unwrap();
            let records = crate::log::record::records_of(raw, &h).unwrap();
            for r in crate::log::record::parse_records(&records, h.record_count).unwrap() {
                let offset = h.base_offset + i64::from(r.offset_delta);
                if offset >= at {
                    out.push((offset, r.key.unwrap_or_default().to_vec(), h.is_control()));
                }
            }
        }
        at = next;
    }
    out
}

/// A compacted log with 300-byte segments, cleaned as soon as anything is dirty.
fn compacted_small_segments() -> LogConfig {
    let mut config = LogConfig::default();
    config.set_topic("cleanup.policy", "compact").unwrap();
    config.set_topic("segment.bytes", "300").unwrap();
    config
        .set_topic("min.cleanable.dirty.ratio", "0.01")
        .unwrap();
    config
}

/// The cleaner removes an aborted transaction's records whatever their keys (without
/// letting them hide an earlier committed value), keeps every marker and the committed
/// data, never touches what lies past the last stable offset, and leaves the `.txnindex`
/// consistent, at once and after a restart.
#[test]
fn the_cleaner_removes_aborted_data_and_stops_at_the_last_stable_offset() {
    let dir = tempfile::tempdir().unwrap();
    let config = compacted_small_segments();
    let p = open(dir.path(), config.clone());
    let plain = |k: &str| batch::encode_batch(&[(k.as_bytes().to_vec(), Some(b"v".to_vec()))], 0);
    assert_eq!(append(&p, &plain("k0")).unwrap(), 0);
    assert_eq!(append(&p, &txn_data(1, 0, 1, "k")).unwrap(), 1); // key k0, aborted
    assert_eq!(append(&p, &marker(1, false)).unwrap(), 2);
    assert_eq!(append(&p, &txn_data(2, 0, 1, "c")).unwrap(), 3);
    assert_eq!(append(&p, &marker(2, true)).unwrap(), 4);
    for i in 0..8 {
        append(&p, &plain(&format!("p{i}"))).unwrap();
    }
    let open_at = append(&p, &txn_data(3, 0, 1, "k")).unwrap(); // key k0, open
    for i in 0..8 {
        append(&p, &plain(&format!("q{i}"))).unwrap();
    }
    p.set_high_watermark(end(&p)).unwrap();
    assert_eq!(p.last_stable_offset(), open_at);
    let before = all_records(&p);
    let limits = super::cleaner::CleanerLimits { max_keys: 1000 };
    let report = p.clean(crate::log::now_ms(), limits, &|| false).unwrap();
    assert!(report.is_some_and(|r| r.records_removed >= 1), "{report:?}");
    let check = |p: &Partition, what: &str| {
        let after = all_records(p);
        let offsets: Vec<i64> = after.iter().map(|r| r.0).collect();
        assert!(offsets.contains(&0), "{what}: the committed k0 stays");
        assert!(!offsets.contains(&1), "{what}: the aborted k0 goes");
        assert!(
            offsets.contains(&2) && offsets.contains(&4),
            "{what}: markers stay"
        );
        assert!(offsets.contains(&3), "{what}: committed data stays");
        let tail: Vec<_> = before.iter().filter(|r| r.0 >= open_at).cloned().collect();
        let after_tail: Vec<_> = after.iter().filter(|r| r.0 >= open_at).cloned().collect();
        assert_eq!(after_tail, tail, "{what}: nothing past the LSO is cleaned");
        assert_eq!(
            p.aborted_transactions(0, end(p)).unwrap(),
            [(1, 1)],
            "{what}"
        );
        assert_eq!(p.open_transactions(), [(3, open_at)], "{what}");
    };
    check(&p, "cleaned");
    // Producer 1's aborted batch stays as an empty batch (its last sequence): a follower
    // takes it, and so does a recovery that checks every batch.
    let follower_dir = tempfile::tempdir().unwrap();
    let follower = open(follower_dir.path(), LogConfig::default());
    let mut at = 0;
    while at < end(&p) {
        let read = p.read(at, 1 << 20, true, i64::MAX).unwrap();
        at = follower.append_replicated(&read.records).unwrap();
    }
    follower.set_high_watermark(end(&follower)).unwrap();
    check(&follower, "replicated");
    drop(p);
    std::fs::remove_file(dir.path().join(super::durability::RECOVERY_POINT_FILE)).unwrap();
    let p = open(dir.path(), config);
    p.set_high_watermark(end(&p)).unwrap();
    check(&p, "reopened, every segment checked");
}

/// A marker goes once no batch of its transaction is left (a second pass after its data
/// went), when older than `delete.retention.ms` and not its producer's last batch; its
/// `.txnindex` entry goes with it.
#[test]
fn the_cleaner_removes_markers_of_transactions_whose_data_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = compacted_small_segments();
    config.set_topic("delete.retention.ms", "1000").unwrap();
    let p = open(dir.path(), config.clone());
    let now = crate::log::now_ms();
    let old = now - 10_000;
    let plain = |k: &str| batch::encode_batch(&[(k.as_bytes().to_vec(), Some(b"v".to_vec()))], 0);
    let marker_at = |pid, commit, ts| batch::encode_control(pid, 0, commit, 1, ts);
    assert_eq!(append(&p, &txn_data(1, 0, 1, "k")).unwrap(), 0); // aborted
    assert_eq!(append(&p, &marker_at(1, false, old)).unwrap(), 1);
    assert_eq!(append(&p, &txn_data(2, 0, 1, "c")).unwrap(), 2); // committed, superseded
    assert_eq!(append(&p, &marker_at(2, true, old)).unwrap(), 3);
    assert_eq!(append(&p, &plain("c0")).unwrap(), 4);
    // Both producers go on: their old markers are not their last batches.
    assert_eq!(append(&p, &txn_data(1, 1, 1, "z")).unwrap(), 5);
    assert_eq!(append(&p, &marker_at(1, true, now)).unwrap(), 6);
    assert_eq!(append(&p, &txn_data(2, 1, 1, "y")).unwrap(), 7);
    assert_eq!(append(&p, &marker_at(2, true, old)).unwrap(), 8);
    let pad = |p: &Partition, from: usize| {
        for i in from..from + 8 {
            append(p, &plain(&format!("p{i}"))).unwrap();
        }
        p.set_high_watermark(end(p)).unwrap();
    };
    pad(&p, 0);
    let limits = super::cleaner::CleanerLimits { max_keys: 1000 };
    let offsets = |p: &Partition| all_records(p).iter().map(|r| r.0).collect::<Vec<_>>();
    // Pass 1: the data of both transactions goes, their markers stay.
    p.clean(crate::log::now_ms(), limits, &|| false).unwrap();
    let after = offsets(&p);
    assert!(!after.contains(&0) && !after.contains(&2), "{after:?}");
    assert!(after.contains(&1) && after.contains(&3), "{after:?}");
    assert_eq!(p.aborted_transactions(0, end(&p)).unwrap(), [(1, 0)]);
    // Pass 2 (new dirty data): the old markers go; the recent one and each producer's
    // last batch (8 is old but producer 2's last) stay.
    pad(&p, 8);
    p.clean(crate::log::now_ms(), limits, &|| false).unwrap();
    let check = |p: &Partition, what: &str| {
        let after = offsets(p);
        assert!(
            !after.contains(&1) && !after.contains(&3),
            "{what}: {after:?}"
        );
        for kept in [4, 5, 6, 7, 8] {
            assert!(after.contains(&kept), "{what}: {kept} in {after:?}");
        }
        assert_eq!(p.aborted_transactions(0, end(p)).unwrap(), [], "{what}");
        assert_eq!(p.open_transactions(), [], "{what}");
    };
    check(&p, "cleaned twice");
    let files: Vec<u64> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".txnindex"))
        .map(|e| e.metadata().unwrap().len())
        .collect();
    assert!(
        files.iter().all(|&len| len == 0),
        "no entry left: {files:?}"
    );
    drop(p);
    let p = open(dir.path(), config);
    p.set_high_watermark(end(&p)).unwrap();
    check(&p, "reopened");
}
