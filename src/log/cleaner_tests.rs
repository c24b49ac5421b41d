//! Tests of the log cleaner: swap-file names, a pass keeping the latest value per key,
//! interrupted passes recovering whole, tombstone expiry and producers' last batches.

use super::*;
use crate::config::LogConfig;
use crate::log::partition::TopicPartition;
use crate::log::record::encode_record;

#[test]
fn swap_names_round_trip() {
    assert_eq!(parse_swap_name(&swap_name(0, 1234)), Some((0, 1234)));
    assert_eq!(parse_swap_name("00000000000000000000.log.swap"), None);
    assert_eq!(parse_swap_name("1-2.swap"), None);
}

/// An uncompressed batch of (key, value) records stamped `ts`, from producer `pid`.
fn keyed(recs: &[(&str, Option<&str>)], ts: i64, producer: Option<(i64, i32)>) -> Vec<u8> {
    let mut body = Vec::new();
    for (i, (k, v)) in recs.iter().enumerate() {
        encode_record(
            &mut body,
            0,
            i as i32,
            Some(k.as_bytes()),
            v.map(str::as_bytes),
            &[],
        );
    }
    let (pid, seq) = producer.unwrap_or((-1, -1));
    let mut b = Vec::new();
    b.extend_from_slice(&0i64.to_be_bytes());
    b.extend_from_slice(&((HEADER_LEN - batch::LOG_OVERHEAD + body.len()) as i32).to_be_bytes());
    b.extend_from_slice(&0i32.to_be_bytes());
    b.push(2);
    b.extend_from_slice(&0u32.to_be_bytes());
    b.extend_from_slice(&0i16.to_be_bytes());
    b.extend_from_slice(&(recs.len() as i32 - 1).to_be_bytes());
    b.extend_from_slice(&ts.to_be_bytes());
    b.extend_from_slice(&ts.to_be_bytes());
    b.extend_from_slice(&pid.to_be_bytes());
    b.extend_from_slice(&(if pid >= 0 { 0i16 } else { -1 }).to_be_bytes());
    b.extend_from_slice(&seq.to_be_bytes());
    b.extend_from_slice(&(recs.len() as i32).to_be_bytes());
    b.extend_from_slice(&body);
    let crc = crc32c::crc32c(&b[21..]);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
    b
}

fn config() -> LogConfig {
    let mut c = LogConfig::default();
    c.set_topic("cleanup.policy", "compact").unwrap();
    c.set_topic("segment.bytes", "300").unwrap();
    c.set_topic("min.cleanable.dirty.ratio", "0.01").unwrap();
    c
}

fn open(dir: &Path) -> Partition {
    Partition::open(
        TopicPartition::new("t", 0),
        dir.to_path_buf(),
        config(),
        0,
        Some(i64::MAX),
    )
    .unwrap()
}

/// Appends as a single node does: committed at once (the high watermark follows).
fn append(p: &Partition, raw: &[u8]) -> Result<i64, LogError> {
    let h = batch::validate(raw).unwrap();
    let base = p.append(raw, &h, crate::log::now_ms(), 0)?.base_offset;
    p.advance_high_watermark(i64::MAX)?;
    Ok(base)
}

/// Every (offset, key, null value) in the log, read batch by batch from `from`.
fn contents(p: &Partition) -> Vec<(i64, String, bool)> {
    let mut out = Vec::new();
    let o = p.offsets().unwrap();
    let (mut next, end) = (o.log_start, o.log_end);
    while next < end {
        let read = p.read(next, usize::MAX, true, end).unwrap();
        if read.records.is_empty() {
            break;
        }
        for (raw, h) in batches(&read.records) {
            let recs = records_of(raw, &h).unwrap();
            for r in parse_records(&recs, h.record_count).unwrap() {
                let key = String::from_utf8(r.key.unwrap().to_vec()).unwrap();
                let offset = h.base_offset + i64::from(r.offset_delta);
                if offset >= next {
                    out.push((offset, key, r.null_value));
                }
            }
            next = next.max(h.last_offset() + 1);
        }
    }
    out
}

fn run(p: &Partition) -> CleanReport {
    let limits = CleanerLimits { max_keys: 1000 };
    p.clean(crate::log::now_ms(), limits, &|| false)
        .unwrap()
        .unwrap()
}

fn fill(p: &Partition) {
    for i in 0..30 {
        let v = format!("value-{i}");
        append(
            p,
            &keyed(&[(&format!("k{}", i % 3), Some(&v))], 1_000, None),
        )
        .unwrap();
    }
}

#[test]
fn a_pass_keeps_the_latest_per_key_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path());
    fill(&p);
    let report = run(&p);
    assert!(
        report.records_removed > 0 && report.segments_out > 0,
        "{report:?}"
    );
    let after = contents(&p);
    // The active segment is untouched; in the cleaned part each key appears once.
    for k in ["k0", "k1", "k2"] {
        let last = after.iter().rfind(|r| r.1 == k).unwrap().0;
        assert!(last >= 27, "{k}: its latest write (offset {last}) survives");
    }
    assert!(after.len() < 30);
    let o = p.offsets().unwrap();
    assert_eq!((o.log_start, o.log_end), (0, 30));
    let state = p.log.lock().unwrap().cleaner;
    assert!(state.first_dirty > 0, "{state:?}");
    drop(p);
    let p = open(dir.path());
    assert_eq!(contents(&p), after, "the cleaned log reopens as it was");
    assert_eq!(p.log.lock().unwrap().cleaner, state, "its progress too");
    let limits = CleanerLimits { max_keys: 1000 };
    let again = p.clean(crate::log::now_ms(), limits, &|| false).unwrap();
    assert_eq!(again, None, "nothing is dirty after the restart: no pass");
    assert!(std::fs::read_dir(dir.path()).unwrap().all(|e| {
        let n = e.unwrap().file_name().to_string_lossy().to_string();
        !n.ends_with(".cleaned") && !n.ends_with(".swap") && !n.ends_with(".deleted")
    }));
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn interrupted_passes_recover_whole() {
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path());
    fill(&p);
    p.close().unwrap();
    let before = contents(&p);
    drop(p);
    let bases = {
        let mut b = segment::list_bases(dir.path()).unwrap();
        b.sort_unstable();
        b
    };
    assert!(bases.len() >= 4, "{bases:?}");

    // Crash before the commit point: the `.cleaned` file is discarded.
    let a = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), a.path());
    std::fs::write(
        a.path().join(format!("{}.cleaned", file_name(0, "log"))),
        b"partial",
    )
    .unwrap();
    assert_eq!(contents(&open(a.path())), before);
    assert!(!a
        .path()
        .join(format!("{}.cleaned", file_name(0, "log")))
        .exists());

    // Crash after the commit point, with the second old segment already gone: the swap
    // (here the first two segments, unchanged) replaces both.
    let b = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), b.path());
    let mut swap = std::fs::read(b.path().join(file_name(bases[0], "log"))).unwrap();
    swap.extend(std::fs::read(b.path().join(file_name(bases[1], "log"))).unwrap());
    std::fs::write(b.path().join(swap_name(bases[0], bases[2])), &swap).unwrap();
    for f in segment::segment_files(bases[1]) {
        // A segment without aborted transactions has no `.txnindex`.
        if b.path().join(&f).exists() {
            std::fs::rename(b.path().join(&f), b.path().join(format!("{f}.deleted"))).unwrap();
        }
    }
    let p = open(b.path());
    assert_eq!(contents(&p), before);
    let mut now = segment::list_bases(b.path()).unwrap();
    now.sort_unstable();
    assert_eq!(now[..], [&bases[..1], &bases[2..]].concat()[..]);
    assert!(!b.path().join(swap_name(bases[0], bases[2])).exists());
}

#[test]
fn tombstones_expire_and_a_producers_last_batch_stays() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.set_topic("delete.retention.ms", "500").unwrap();
    let p = Partition::open(
        TopicPartition::new("t", 0),
        dir.path().to_path_buf(),
        cfg,
        0,
        None,
    )
    .unwrap();
    let now = crate::log::now_ms();
    // An idempotent producer's only batch, superseded later by a plain producer.
    append(&p, &keyed(&[("a", Some("from-7"))], now, Some((7, 0)))).unwrap();
    append(&p, &keyed(&[("b", Some("x")), ("c", Some("y"))], now, None)).unwrap();
    // A tombstone for b that is old enough to go, and one for c that is not.
    append(&p, &keyed(&[("b", None)], now - 10_000, None)).unwrap();
    append(&p, &keyed(&[("c", None)], now, None)).unwrap();
    for i in 0..8 {
        append(&p, &keyed(&[("a", Some(&format!("plain-{i}")))], now, None)).unwrap();
    }
    run(&p);
    let got = contents(&p);
    assert!(
        !got.iter().any(|r| r.1 == "b"),
        "b's tombstone expired: {got:?}"
    );
    assert!(
        got.iter().any(|r| r.1 == "c" && r.2),
        "c's tombstone is kept: {got:?}"
    );
    drop(p);
    // The producer's batch is now empty but still there: its next sequence is accepted
    // after a restart, and a retry of the old batch is a duplicate.
    let p = open(dir.path());
    let first = p.read(0, usize::MAX, true, i64::MAX).unwrap();
    let (_, h) = batches(&first.records).next().unwrap();
    assert_eq!((h.base_offset, h.producer_id, h.record_count), (0, 7, 0));
    assert_eq!(
        append(&p, &keyed(&[("a", Some("retry"))], now, Some((7, 0)))).unwrap(),
        0
    );
    assert!(append(&p, &keyed(&[("a", Some("next"))], now, Some((7, 1)))).is_ok());
}
