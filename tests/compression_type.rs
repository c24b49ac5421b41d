#![allow(clippy::unwrap_used)]
//! `compression.type` (topic and broker level): `producer` stores batches as sent; a codec
//! makes the leader recompress every batch of another codec, keeping records, offsets,
//! timestamps and the producer's id and sequence (so idempotence still recognises a retry).

mod common;

use bytes::{Buf, Bytes};
use common::{
    batch_with_producer, create_topic_with, fetch_request, produce, records, start, start_with,
    Client,
};
use kafka_protocol::messages::InitProducerIdRequest;
use kafka_protocol::records::Compression;

/// The codec of every batch in fetched bytes (attributes bits 0-2).
fn codecs(mut bytes: Bytes) -> Vec<i16> {
    let mut out = Vec::new();
    while bytes.remaining() >= 61 {
        let len = i32::from_be_bytes(bytes[8..12].try_into().unwrap()) as usize;
        out.push(i16::from_be_bytes([bytes[21], bytes[22]]) & 7);
        bytes.advance(12 + len);
    }
    out
}

async fn stored(c: &mut Client, topic: &str) -> (Vec<i16>, Vec<(i64, Bytes)>) {
    let resp = c.send(&fetch_request(topic, 0, 0, 0), 12).await;
    let p = &resp.responses[0].partitions[0];
    assert_eq!(p.error_code, 0);
    let raw = p.records.clone().unwrap_or_default();
    (codecs(raw.clone()), records(raw))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_store_batches_with_their_codec() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    for (topic, configs) in [
        ("asis", vec![]),
        (
            "zstd",
            vec![
                ("compression.type", "zstd"),
                ("compression.zstd.level", "10"),
            ],
        ),
        ("plain", vec![("compression.type", "uncompressed")]),
        ("gz", vec![("compression.type", "gzip")]),
    ] {
        assert_eq!(
            create_topic_with(&mut c, topic, &configs).await.0,
            0,
            "{topic}"
        );
    }
    let (code, msg) = create_topic_with(&mut c, "bad", &[("compression.type", "brotli")]).await;
    assert_eq!(code, 40, "INVALID_CONFIG");
    assert!(msg.unwrap().contains("brotli"));
    assert_eq!(
        create_topic_with(&mut c, "bad", &[("compression.gzip.level", "10")])
            .await
            .0,
        40
    );

    let pid = c
        .send(
            &InitProducerIdRequest::default().with_transaction_timeout_ms(60_000),
            4,
        )
        .await
        .producer_id
        .0;
    let values: [&[u8]; 3] = [b"one", b"two", &[b'x'; 5000]];
    let cases = [
        ("asis", Compression::Snappy, 2),
        ("zstd", Compression::Lz4, 4),
        ("zstd", Compression::None, 4),
        ("zstd", Compression::Zstd, 4),
        ("plain", Compression::Gzip, 0),
        ("gz", Compression::Snappy, 1),
    ];
    for (i, (topic, sent, want)) in cases.into_iter().enumerate() {
        let seq = 3 * i as i32;
        let b = batch_with_producer(&values, sent, pid, 0, seq);
        let (code, base) = produce(&mut c, topic, 0, b.clone(), 9).await;
        assert_eq!(code, 0, "{topic} {sent:?}");
        // The retry of the same batch is recognised by its (recompressed) sequence.
        assert_eq!(
            produce(&mut c, topic, 0, b, 9).await,
            (0, base),
            "{topic}: a retry"
        );
        let (codecs, got) = stored(&mut c, topic).await;
        assert_eq!(*codecs.last().unwrap(), want, "{topic} {sent:?}");
        let tail: Vec<_> = got[got.len() - 3..].to_vec();
        let want_records: Vec<(i64, Bytes)> = values
            .iter()
            .enumerate()
            .map(|(j, v)| (base + j as i64, Bytes::copy_from_slice(v)))
            .collect();
        assert_eq!(tail, want_records, "{topic} {sent:?}");
    }
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broker_default_applies_to_topics_without_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start_with(dir.path(), |c| {
        c.set("compression.type", "lz4").unwrap();
    })
    .await;
    let mut c = Client::connect(&broker).await;
    assert_eq!(create_topic_with(&mut c, "inherits", &[]).await.0, 0);
    assert_eq!(
        create_topic_with(&mut c, "own", &[("compression.type", "producer")])
            .await
            .0,
        0
    );
    for topic in ["inherits", "own"] {
        let b = batch_with_producer(&[b"a", b"b"], Compression::Gzip, -1, -1, -1);
        assert_eq!(produce(&mut c, topic, 0, b, 9).await, (0, 0));
    }
    assert_eq!(stored(&mut c, "inherits").await.0, [3]);
    assert_eq!(stored(&mut c, "own").await.0, [1]);
    broker.shutdown().await;
}
