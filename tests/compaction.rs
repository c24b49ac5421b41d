#![allow(clippy::unwrap_used)]
//! Compaction: with every codec, the cleaner keeps the latest value per key (with its
//! headers), removes superseded records and expired tombstones, keeps offsets and the
//! codec, and a full read crosses the gaps.

mod common;

use std::collections::HashMap;

use bytes::Bytes;
use common::{
    create_topic_with, fetch_records_from, fetch_request, keyed_batch, list_offset, produce,
    start_with, Client, TestRecord,
};
use kafka_protocol::records::Compression;
use weir::log::batch::BatchHeader;

fn fast_maintenance(c: &mut weir::Config) {
    c.retention_check_interval_ms = 20;
    c.cleaner_backoff_ms = 20;
}

const KEYS: usize = 10;
const ROUNDS: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleaner_keeps_the_latest_value_per_key_with_every_codec() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start_with(dir.path(), fast_maintenance).await;
    let mut c = Client::connect(&broker).await;
    let codecs = [
        ("none", Compression::None, 0),
        ("gzip", Compression::Gzip, 1),
        ("snappy", Compression::Snappy, 2),
        ("lz4", Compression::Lz4, 3),
        ("zstd", Compression::Zstd, 4),
    ];
    for (name, codec, codec_id) in codecs {
        let topic = format!("compact-{name}");
        let configs = [
            ("cleanup.policy", "compact"),
            ("segment.bytes", "4096"),
            ("min.cleanable.dirty.ratio", "0.01"),
            ("delete.retention.ms", "100"),
        ];
        assert_eq!(create_topic_with(&mut c, &topic, &configs).await.0, 0);
        let now = weir::log::now_ms();
        let mut latest: HashMap<String, (i64, String)> = HashMap::new();
        for round in 0..ROUNDS {
            let values: Vec<(String, String)> = (0..KEYS)
                .map(|k| {
                    (
                        format!("key-{k}"),
                        format!("v{round}-{k}-{}", "z".repeat(20)),
                    )
                })
                .collect();
            let recs: Vec<TestRecord<'_>> = values
                .iter()
                .map(|(k, v)| TestRecord {
                    key: Some(k.as_bytes()),
                    value: Some(v.as_bytes()),
                    header: Some(("round", v.as_bytes())),
                })
                .collect();
            let (err, base) = produce(&mut c, &topic, 0, keyed_batch(&recs, codec, now), 9).await;
            assert_eq!(err, 0);
            for (i, (k, v)) in values.into_iter().enumerate() {
                latest.insert(k, (base + i as i64, v));
            }
        }
        // Tombstones for two keys, stamped a second ago (older than delete.retention.ms).
        let tombstones = [
            TestRecord {
                key: Some(b"key-0"),
                value: None,
                header: None,
            },
            TestRecord {
                key: Some(b"key-1"),
                value: None,
                header: None,
            },
        ];
        let (err, _) = produce(
            &mut c,
            &topic,
            0,
            keyed_batch(&tombstones, codec, now - 1000),
            9,
        )
        .await;
        assert_eq!(err, 0);
        latest.remove("key-0");
        latest.remove("key-1");
        let (_, hw) = list_offset(&mut c, &topic, -1).await;
        assert_eq!(hw as usize, KEYS * ROUNDS + 2);
        // Close the active segment too, so that everything is cleanable.
        set_config(&mut c, &topic, "segment.ms", "1").await;

        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        while fetch_records_from(&mut c, &topic, 0).await.unwrap().len() != KEYS - 2 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name}: not compacted"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let recs = fetch_records_from(&mut c, &topic, 0).await.unwrap();
        let mut prev = -1;
        for (offset, key, value, header) in &recs {
            assert!(*offset > prev, "{name}: offsets increase");
            prev = *offset;
            let key = String::from_utf8(key.clone().unwrap().to_vec()).unwrap();
            let (want_offset, want) = &latest[&key];
            assert_eq!(offset, want_offset, "{name}: {key} keeps its offset");
            assert_eq!(value.as_deref(), Some(want.as_bytes()), "{name}: {key}");
            assert_eq!(
                header.clone(),
                Some(Bytes::from(want.clone())),
                "{name}: header kept"
            );
        }
        assert_eq!(
            list_offset(&mut c, &topic, -1).await.1,
            hw,
            "{name}: HW unchanged"
        );
        // Every batch still carries the producer's codec.
        let resp = c.send(&fetch_request(&topic, 0, 0, 0), 12).await;
        let mut raw = resp.responses[0].partitions[0].records.clone().unwrap();
        while !raw.is_empty() {
            let h = BatchHeader::parse(&raw).unwrap();
            assert!(
                h.record_count == 0 || h.codec() == codec_id,
                "{name}: {h:?}"
            );
            let _ = raw.split_to(h.total_len());
        }
    }
    broker.shutdown().await;
}

async fn set_config(c: &mut Client, topic: &str, name: &str, value: &str) {
    use kafka_protocol::messages::incremental_alter_configs_request::{
        AlterConfigsResource, AlterableConfig,
    };
    use kafka_protocol::messages::IncrementalAlterConfigsRequest;
    use kafka_protocol::protocol::StrBytes;
    let req = IncrementalAlterConfigsRequest::default().with_resources(vec![
        AlterConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(StrBytes::from_string(topic.to_string()))
            .with_configs(vec![AlterableConfig::default()
                .with_name(StrBytes::from_string(name.to_string()))
                .with_config_operation(0)
                .with_value(Some(StrBytes::from_string(value.to_string())))]),
    ]);
    let resp = c.send(&req, 1).await;
    assert_eq!(resp.responses[0].error_code, 0);
}
