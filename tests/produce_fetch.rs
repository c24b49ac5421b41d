#![allow(clippy::unwrap_used)]
//! Produce and fetch round trips, long polling, and ApiVersions against an in-process broker.

mod common;

use std::time::{Duration, Instant};

use common::{
    batch, batch_with_producer, create_topic, fetch_request, produce, records, start, topic_name,
    Client,
};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::records::Compression;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_then_fetch_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    create_topic(&mut c, "orders", 2).await;

    let (err, base) = produce(
        &mut c,
        "orders",
        1,
        batch(&[b"a", b"b", b"c"], Compression::None),
        9,
    )
    .await;
    assert_eq!((err, base), (0, 0));
    let (err, base) = produce(&mut c, "orders", 1, batch(&[b"d"], Compression::Gzip), 3).await;
    assert_eq!((err, base), (0, 3));
    let (err, base) = produce(&mut c, "orders", 1, batch(&[b"e"], Compression::Lz4), 11).await;
    assert_eq!((err, base), (0, 4));
    let (err, base) = produce(&mut c, "orders", 1, batch(&[b"f"], Compression::Snappy), 7).await;
    assert_eq!((err, base), (0, 5));

    for version in [4i16, 11, 12] {
        let resp = c.send(&fetch_request("orders", 1, 0, 0), version).await;
        let p = &resp.responses[0].partitions[0];
        assert_eq!(p.error_code, 0);
        assert_eq!(p.high_watermark, 6);
        let got = records(p.records.clone().unwrap());
        let values: Vec<&[u8]> = got.iter().map(|(_, v)| &v[..]).collect();
        assert_eq!(values, vec![&b"a"[..], b"b", b"c", b"d", b"e", b"f"]);
        assert_eq!(
            got.iter().map(|(o, _)| *o).collect::<Vec<_>>(),
            (0..6).collect::<Vec<_>>()
        );
    }
    // From the middle of a batch: the whole batch holding the offset comes back.
    let resp = c.send(&fetch_request("orders", 1, 4, 0), 12).await;
    let got = records(resp.responses[0].partitions[0].records.clone().unwrap());
    assert_eq!(got.first().unwrap().0, 4);
    // Past the end: OFFSET_OUT_OF_RANGE.
    let resp = c.send(&fetch_request("orders", 1, 7, 0), 12).await;
    assert_eq!(resp.responses[0].partitions[0].error_code, 1);
    // Unknown partition / topic.
    let resp = c.send(&fetch_request("orders", 5, 0, 0), 12).await;
    assert_eq!(resp.responses[0].partitions[0].error_code, 3);
    let (err, _) = produce(&mut c, "nope", 0, batch(&[b"x"], Compression::None), 9).await;
    assert_eq!(err, 3);
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_errors_per_partition() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    create_topic(&mut c, "t", 1).await;
    // Bad CRC: CORRUPT_MESSAGE.
    let mut bad = batch(&[b"x"], Compression::None).to_vec();
    let last = bad.len() - 1;
    bad[last] ^= 0x55;
    assert_eq!(produce(&mut c, "t", 0, bad.into(), 9).await.0, 2);
    // An old message set (Produce v0) whose CRC lies: CORRUPT_MESSAGE.
    let mut set = Vec::new();
    weir::log::message_set::encode_message(&mut set, 0, 0, 0, -1, None, Some(b"x"));
    let last = set.len() - 1;
    set[last] ^= 0x55;
    assert_eq!(produce(&mut c, "t", 0, set.into(), 0).await.0, 2);
    // Too large for max.message.bytes: MESSAGE_TOO_LARGE.
    let big = vec![7u8; 2 * 1024 * 1024];
    assert_eq!(
        produce(&mut c, "t", 0, batch(&[&big], Compression::None), 9)
            .await
            .0,
        10
    );
    // Invalid topic name.
    assert_eq!(
        produce(&mut c, "bad name", 0, batch(&[b"x"], Compression::None), 9)
            .await
            .0,
        17
    );
    // Nothing was appended by the refused requests.
    let resp = c.send(&fetch_request("t", 0, 0, 0), 12).await;
    assert_eq!(resp.responses[0].partitions[0].high_watermark, 0);

    // acks=0: no answer either way; a failure closes the connection (the producer notices
    // and refreshes its metadata, as with Kafka), a success keeps it.
    let acks0 = |topic: &str, partition: i32| {
        ProduceRequest::default()
            .with_acks(0)
            .with_timeout_ms(5000)
            .with_topic_data(vec![TopicProduceData::default()
                .with_name(topic_name(topic))
                .with_partition_data(vec![PartitionProduceData::default()
                    .with_index(partition)
                    .with_records(Some(batch(&[b"x"], Compression::None)))])])
    };
    c.send_only(&acks0("t", 0), 9).await;
    let resp = c.send(&fetch_request("t", 0, 0, 0), 12).await;
    assert_eq!(
        resp.responses[0].partitions[0].high_watermark, 1,
        "kept open"
    );
    c.send_only(&acks0("t", 7), 9).await;
    assert!(
        c.is_closed().await,
        "an unknown partition closes an acks=0 producer"
    );
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_producer_sequences() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    create_topic(&mut c, "idem", 1).await;
    let init = c
        .send(
            &InitProducerIdRequest::default().with_transaction_timeout_ms(60_000),
            4,
        )
        .await;
    assert_eq!(init.error_code, 0);
    let pid = init.producer_id.0;
    let b0 = batch_with_producer(&[b"1", b"2"], Compression::None, pid, 0, 0);
    assert_eq!(produce(&mut c, "idem", 0, b0.clone(), 9).await, (0, 0));
    // A retry of the same batch: success with the original offset, nothing appended.
    assert_eq!(produce(&mut c, "idem", 0, b0, 9).await, (0, 0));
    // A gap in sequence: OUT_OF_ORDER_SEQUENCE_NUMBER.
    let gap = batch_with_producer(&[b"3"], Compression::None, pid, 0, 5);
    assert_eq!(produce(&mut c, "idem", 0, gap, 9).await.0, 45);
    let next = batch_with_producer(&[b"3"], Compression::None, pid, 0, 2);
    assert_eq!(produce(&mut c, "idem", 0, next, 9).await, (0, 2));
    // A stale epoch after a newer one: INVALID_PRODUCER_EPOCH.
    let newer = batch_with_producer(&[b"4"], Compression::None, pid, 1, 0);
    assert_eq!(produce(&mut c, "idem", 0, newer, 9).await, (0, 3));
    let stale = batch_with_producer(&[b"5"], Compression::None, pid, 0, 3);
    assert_eq!(produce(&mut c, "idem", 0, stale, 9).await.0, 47);
    broker.shutdown().await;

    // Producer state is rebuilt from the log: the retry is still recognised after restart.
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    let again = batch_with_producer(&[b"4"], Compression::None, pid, 1, 0);
    assert_eq!(produce(&mut c, "idem", 0, again, 9).await, (0, 3));
    let init2 = c
        .send(
            &InitProducerIdRequest::default().with_transaction_timeout_ms(60_000),
            4,
        )
        .await;
    assert!(init2.producer_id.0 > pid, "producer ids are never reused");
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_poll_is_woken_by_an_append() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    create_topic(&mut c, "poll", 1).await;
    let mut waiter = Client::connect(&broker).await;
    // An empty fetch with max_wait 0 answers at once.
    let resp = waiter.send(&fetch_request("poll", 0, 0, 0), 12).await;
    assert_eq!(
        resp.responses[0].partitions[0]
            .records
            .as_ref()
            .map(|r| r.len()),
        Some(0)
    );

    let started = Instant::now();
    waiter
        .send_only(&fetch_request("poll", 0, 0, 30_000), 12)
        .await;
    // The fetch is parked; the producer's append must wake it long before 30 s.
    let (err, _) = produce(&mut c, "poll", 0, batch(&[b"wake"], Compression::None), 9).await;
    assert_eq!(err, 0);
    let resp = tokio::time::timeout(Duration::from_secs(20), waiter.receive::<FetchRequest>(12))
        .await
        .expect("the long poll returns after the append, not at its 30 s timeout");
    let got = records(resp.responses[0].partitions[0].records.clone().unwrap());
    assert_eq!(&got[0].1[..], b"wake");
    assert!(started.elapsed() < Duration::from_secs(20));
    broker.shutdown().await;
}

/// As on Kafka, a partition named twice in one Fetch is fetched once, where it was first
/// named, from the offset it was named with last; consecutive partitions of one topic share
/// one topic entry of the response.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_collapses_a_partition_named_twice() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    create_topic(&mut c, "dup", 2).await;
    for v in [&b"a"[..], b"b", b"c"] {
        produce(&mut c, "dup", 0, batch(&[v], Compression::None), 9).await;
    }
    produce(&mut c, "dup", 1, batch(&[b"z"], Compression::None), 9).await;

    let mut req = fetch_request("dup", 0, 0, 0);
    let mut second = req.topics[0].clone();
    req.topics[0]
        .partitions
        .push(second.partitions[0].clone().with_partition(1));
    second.partitions[0].fetch_offset = 2;
    req.topics.push(second);
    for version in [4i16, 12] {
        let resp = c.send(&req, version).await;
        assert_eq!(resp.responses.len(), 1, "one topic entry (v{version})");
        let parts = &resp.responses[0].partitions;
        let order: Vec<i32> = parts.iter().map(|p| p.partition_index).collect();
        assert_eq!(
            order,
            [0, 1],
            "each partition once, first-named order (v{version})"
        );
        let first = records(parts[0].records.clone().unwrap());
        assert_eq!(first.first().map(|r| r.0), Some(2), "the last-named offset");
        assert_eq!(records(parts[1].records.clone().unwrap()).len(), 1);
    }
    // Past 16 entries duplicates are found another way: partition 1 named 20 times.
    let one = req.topics[0].partitions[1].clone();
    let mut many = fetch_request("dup", 0, 2, 0);
    many.topics[0].partitions = std::iter::repeat_n(one, 20)
        .chain(many.topics[0].partitions.clone())
        .collect();
    let resp = c.send(&many, 12).await;
    let order: Vec<i32> = resp.responses[0]
        .partitions
        .iter()
        .map(|p| p.partition_index)
        .collect();
    assert_eq!(order, [1, 0]);
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_versions_and_kip_511_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    for v in 0..=4 {
        let resp = c.send(&ApiVersionsRequest::default(), v).await;
        assert_eq!(resp.error_code, 0);
        let produce = resp.api_keys.iter().find(|k| k.api_key == 0).unwrap();
        assert_eq!((produce.min_version, produce.max_version), (0, 13));
        // KIP-584 features from v3: metadata.version 3.3-IV3..4.1-IV1, finalized 4.1-IV1,
        // and nothing whose levels weir does not serve (transaction.version, group.version).
        if v >= 3 {
            let supported: Vec<_> = resp
                .supported_features
                .iter()
                .map(|f| (f.name.to_string(), f.min_version, f.max_version))
                .collect();
            assert_eq!(supported, [("metadata.version".to_string(), 7, 27)]);
            let finalized: Vec<_> = resp
                .finalized_features
                .iter()
                .map(|f| (f.name.to_string(), f.max_version_level))
                .collect();
            assert_eq!(finalized, [("metadata.version".to_string(), 27)]);
        } else {
            assert!(resp.supported_features.is_empty());
        }
    }
    // ApiVersions v9 (unknown): error 35 and the ranges, in the v0 layout with a v0 header.
    let mut raw = bytes::BytesMut::new();
    use bytes::BufMut;
    raw.put_i32(2 + 2 + 4 + 2);
    raw.put_i16(18);
    raw.put_i16(9);
    raw.put_i32(77);
    raw.put_i16(-1);
    c.write_raw(&raw).await;
    let mut frame = c.read_frame().await.unwrap();
    use bytes::Buf;
    assert_eq!(frame.get_i32(), 77);
    let resp = <ApiVersionsResponse as kafka_protocol::protocol::Decodable>::decode(&mut frame, 0)
        .unwrap();
    assert_eq!(resp.error_code, 35);
    assert!(resp
        .api_keys
        .iter()
        .any(|k| k.api_key == 18 && k.max_version == 4));
    broker.shutdown().await;
}

/// Old clients' message sets (magic 0 from Produce v0, magic 1 from v2, plain and
/// compressed) are stored as RecordBatch v2 and read back by a new client with their
/// offsets, keys, values and timestamps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_message_sets_are_stored_as_record_batches() {
    use weir::log::compression;
    use weir::log::message_set::encode_message;
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    create_topic(&mut c, "old", 1).await;
    let messages = |magic: i8, first: usize| {
        let mut set = Vec::new();
        for i in 0..3 {
            let value = format!("m{magic}-{}", first + i);
            encode_message(
                &mut set,
                0,
                magic,
                0,
                1_000 + i as i64,
                Some(b"k"),
                Some(value.as_bytes()),
            );
        }
        set
    };
    let wrap = |magic: i8, codec: i16, inner: Vec<u8>| {
        // Raw snappy, as kafka-go sends it (this test client cannot read the xerial framing).
        let compressed = compression::compress(codec, &inner, false).unwrap();
        let mut set = Vec::new();
        encode_message(
            &mut set,
            0,
            magic,
            codec as i8,
            1_000,
            None,
            Some(&compressed),
        );
        set
    };
    // Produce v0, magic 0 plain; v1, magic 0 gzip; v2, magic 1 plain; v2, magic 1 snappy.
    let sends: [(i16, Vec<u8>); 4] = [
        (0, messages(0, 0)),
        (1, wrap(0, compression::GZIP, messages(0, 3))),
        (2, messages(1, 6)),
        (2, wrap(1, compression::SNAPPY, messages(1, 9))),
    ];
    for (i, (version, set)) in sends.into_iter().enumerate() {
        let (err, offset) = produce(&mut c, "old", 0, set.into(), version).await;
        assert_eq!((err, offset), (0, 3 * i as i64), "Produce v{version}");
    }
    let got = common::fetch_records_from(&mut c, "old", 0).await.unwrap();
    let values: Vec<String> = got
        .iter()
        .map(|(_, _, v, _)| String::from_utf8(v.clone().unwrap().to_vec()).unwrap())
        .collect();
    let want: Vec<String> = (0..6)
        .map(|i| format!("m0-{i}"))
        .chain((6..12).map(|i| format!("m1-{i}")))
        .collect();
    assert_eq!(values, want);
    assert!(got
        .iter()
        .all(|(_, k, _, _)| k.as_deref() == Some(&b"k"[..])));
    assert_eq!(
        got.iter().map(|(o, ..)| *o).collect::<Vec<_>>(),
        (0..12).collect::<Vec<i64>>()
    );
    broker.shutdown().await;
}
