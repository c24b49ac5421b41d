//! Tests of the partition log's reads.

use super::*;
use crate::log::batch::tests::make_batch;

/// A read names the file and position its records came from, in sealed and active
/// segments alike, so they can be sent from the file instead of the map.
#[test]
fn reads_name_the_file_bytes_they_return() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = LogConfig::default();
    config.set_topic("segment.bytes", "400").unwrap();
    let p = Partition::open(
        TopicPartition::new("t", 0),
        dir.path().into(),
        config,
        0,
        None,
    )
    .unwrap();
    for _ in 0..20 {
        let raw = make_batch(0, 5, None);
        let h = batch::validate(&raw).unwrap();
        p.append(&raw, &h, crate::log::now_ms(), 0).unwrap();
    }
    assert!(p.log.lock().unwrap().segments.len() > 2, "several segments");
    for offset in [0, 3, 42, 97] {
        let read = p.read(offset, 250, true, 100).unwrap();
        assert!(!read.records.is_empty(), "offset {offset}");
        let (file, pos) = read.file.expect("records come with their file");
        let mut on_disk = vec![0u8; read.records.len()];
        file.read_exact_at(&mut on_disk, pos).unwrap();
        assert_eq!(on_disk, &read.records[..], "offset {offset}");
    }
    let end = p.read(100, 250, true, 100).unwrap();
    assert!(end.records.is_empty() && end.file.is_none());
}
