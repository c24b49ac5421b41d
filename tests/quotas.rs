#![allow(clippy::unwrap_used)]
//! Client quotas at the protocol level: AlterClientQuotas and DescribeClientQuotas round-trip
//! (filters, removal, Kafka's INVALID_REQUEST answers) and survive a restart; a producer over
//! its `producer_byte_rate` gets `throttle_time_ms` and its connection reads nothing more for
//! that long, while a client of another id on the same broker is never throttled; a consumer
//! over its `consumer_byte_rate` gets a fetch without records and the throttle. (A real
//! producer held near 1 MB/s beside an unthrottled one: compat-tests/security.)

mod common;

use std::time::{Duration, Instant};

use common::*;
use kafka_protocol::messages::alter_client_quotas_request::{EntityData, EntryData, OpData};
use kafka_protocol::messages::describe_client_quotas_request::ComponentData;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;

fn entry(entity: &[(&str, Option<&str>)], ops: &[(&str, Option<f64>)]) -> EntryData {
    EntryData::default()
        .with_entity(
            entity
                .iter()
                .map(|(t, n)| {
                    EntityData::default()
                        .with_entity_type(StrBytes::from_string(t.to_string()))
                        .with_entity_name(n.map(|n| StrBytes::from_string(n.to_string())))
                })
                .collect(),
        )
        .with_ops(
            ops.iter()
                .map(|(k, v)| {
                    OpData::default()
                        .with_key(StrBytes::from_string(k.to_string()))
                        .with_value(v.unwrap_or(0.0))
                        .with_remove(v.is_none())
                })
                .collect(),
        )
}

async fn alter(c: &mut Client, entries: Vec<EntryData>) -> Vec<i16> {
    let r = c
        .send(
            &AlterClientQuotasRequest::default().with_entries(entries),
            1,
        )
        .await;
    r.entries.iter().map(|e| e.error_code).collect()
}

/// (entity as "type=name" pairs, key, value) of every quota DescribeClientQuotas lists.
async fn describe(
    c: &mut Client,
    components: &[(&str, i8, Option<&str>)],
    strict: bool,
) -> Vec<(String, String, f64)> {
    let req = DescribeClientQuotasRequest::default()
        .with_components(
            components
                .iter()
                .map(|(t, m, n)| {
                    ComponentData::default()
                        .with_entity_type(StrBytes::from_string(t.to_string()))
                        .with_match_type(*m)
                        .with_match(n.map(|n| StrBytes::from_string(n.to_string())))
                })
                .collect(),
        )
        .with_strict(strict);
    let r = c.send(&req, 1).await;
    assert_eq!(r.error_code, 0, "{:?}", r.error_message);
    let mut out = Vec::new();
    for e in r.entries.unwrap_or_default() {
        let entity: Vec<String> = e
            .entity
            .iter()
            .map(|d| {
                format!(
                    "{}={}",
                    d.entity_type,
                    d.entity_name.as_deref().unwrap_or("<default>")
                )
            })
            .collect();
        for v in e.values {
            out.push((entity.join(","), v.key.to_string(), v.value));
        }
    }
    out.sort_by(|a, b| a.partial_cmp(b).unwrap());
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotas_round_trip_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let mut c = Client::connect(&h).await;
    let codes = alter(
        &mut c,
        vec![
            entry(
                &[("user", Some("alice"))],
                &[("producer_byte_rate", Some(1024.0))],
            ),
            entry(
                &[("user", Some("alice")), ("client-id", Some("app"))],
                &[
                    ("consumer_byte_rate", Some(2048.0)),
                    ("request_percentage", Some(12.5)),
                ],
            ),
            entry(
                &[("client-id", None)],
                &[("producer_byte_rate", Some(4096.0))],
            ),
            // Refused, each alone: unknown key, 0, a fractional byte rate, an ip entity,
            // an empty entity, a key twice.
            entry(&[("user", Some("bob"))], &[("bogus", Some(1.0))]),
            entry(
                &[("user", Some("bob"))],
                &[("producer_byte_rate", Some(0.0))],
            ),
            entry(
                &[("user", Some("bob"))],
                &[("producer_byte_rate", Some(1.5))],
            ),
            entry(
                &[("ip", Some("127.0.0.1"))],
                &[("connection_creation_rate", Some(5.0))],
            ),
            entry(&[], &[("producer_byte_rate", Some(5.0))]),
            entry(
                &[("user", Some("bob"))],
                &[
                    ("producer_byte_rate", Some(5.0)),
                    ("producer_byte_rate", None),
                ],
            ),
        ],
    )
    .await;
    assert_eq!(codes, [0, 0, 0, 42, 42, 42, 42, 42, 42]);
    let all = vec![
        (
            "client-id=<default>".to_string(),
            "producer_byte_rate".to_string(),
            4096.0,
        ),
        ("user=alice".into(), "producer_byte_rate".into(), 1024.0),
        (
            "user=alice,client-id=app".into(),
            "consumer_byte_rate".into(),
            2048.0,
        ),
        (
            "user=alice,client-id=app".into(),
            "request_percentage".into(),
            12.5,
        ),
    ];
    assert_eq!(describe(&mut c, &[], false).await, all);
    assert_eq!(
        describe(&mut c, &[("user", 0, Some("alice"))], true).await,
        all[1..2]
    );
    assert_eq!(
        describe(&mut c, &[("client-id", 1, None)], false).await,
        all[..1]
    );
    assert_eq!(
        describe(&mut c, &[("user", 2, None)], false).await,
        all[1..]
    );
    // validate_only writes nothing.
    let r = c
        .send(
            &AlterClientQuotasRequest::default()
                .with_entries(vec![entry(
                    &[("user", Some("carol"))],
                    &[("producer_byte_rate", Some(1.0))],
                )])
                .with_validate_only(true),
            1,
        )
        .await;
    assert_eq!(r.entries[0].error_code, 0);
    assert_eq!(describe(&mut c, &[], false).await, all);
    // A removal; then a restart keeps the rest.
    let codes = alter(
        &mut c,
        vec![entry(
            &[("client-id", None)],
            &[("producer_byte_rate", None)],
        )],
    )
    .await;
    assert_eq!(codes, [0]);
    drop(c);
    h.shutdown().await;
    let h = start(dir.path()).await;
    let mut c = Client::connect(&h).await;
    assert_eq!(describe(&mut c, &[], false).await, all[1..]);
    h.shutdown().await;
}

fn produce_request(topic: &str, value: &[u8]) -> ProduceRequest {
    ProduceRequest::default()
        .with_acks(1)
        .with_timeout_ms(5000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(topic_name(topic))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(0)
                .with_records(Some(batch(&[value], Compression::None)))])])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_producer_over_its_quota_is_throttled_and_others_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let mut admin = Client::connect(&h).await;
    create_topic(&mut admin, "q", 1).await;
    // 100 kB/s for client id "slow": ten seconds' worth is 1 MB.
    let codes = alter(
        &mut admin,
        vec![entry(
            &[("client-id", Some("slow"))],
            &[("producer_byte_rate", Some(100_000.0))],
        )],
    )
    .await;
    assert_eq!(codes, [0]);
    let mut slow = Client::connect(&h).await;
    slow.client_id = "slow";
    let mut fast = Client::connect(&h).await;
    fast.client_id = "fast";
    let value = vec![7u8; 100_000];
    // Ten seconds' worth goes unthrottled; past it, each 100 kB more is about a second of
    // throttle. Produce until one answer says at least half a second.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut unthrottled = 0;
    let throttle = loop {
        let r = slow.send(&produce_request("q", &value), 8).await;
        assert_eq!(r.responses[0].partition_responses[0].error_code, 0);
        if r.throttle_time_ms >= 500 {
            break r.throttle_time_ms;
        }
        if r.throttle_time_ms == 0 {
            unthrottled += 1;
        }
        assert!(Instant::now() < deadline, "never throttled");
    };
    assert!(
        unthrottled >= 9,
        "a first burst within the window passes: {unthrottled}"
    );
    // Kafka's formula bounds it by the ten-second window.
    assert!(throttle <= 11_000, "{throttle}");
    // The connection reads nothing for the throttle time: the next answer comes no sooner.
    let sent = Instant::now();
    let r = slow
        .send(&MetadataRequest::default().with_topics(None), 1)
        .await;
    assert_eq!(r.brokers.len(), 1);
    assert!(
        sent.elapsed() >= Duration::from_millis(throttle as u64 * 9 / 10),
        "answered after {:?}, throttle {throttle} ms",
        sent.elapsed()
    );
    // Another client id, at several times slow's rate, is never held back.
    for _ in 0..30 {
        let r = fast.send(&produce_request("q", &value), 8).await;
        assert_eq!(r.responses[0].partition_responses[0].error_code, 0);
        assert_eq!(r.throttle_time_ms, 0);
    }
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_over_its_quota_gets_no_records_and_the_throttle() {
    let dir = tempfile::tempdir().unwrap();
    let h = start(dir.path()).await;
    let mut admin = Client::connect(&h).await;
    create_topic(&mut admin, "q", 1).await;
    for _ in 0..30 {
        produce_value(&mut admin, "q", &[1u8; 100_000]).await;
    }
    let codes = alter(
        &mut admin,
        vec![entry(
            &[("client-id", Some("reader"))],
            &[("consumer_byte_rate", Some(100_000.0))],
        )],
    )
    .await;
    assert_eq!(codes, [0]);
    let mut reader = Client::connect(&h).await;
    reader.client_id = "reader";
    // Fetch from the start, one batch of 100 kB at a time, until a fetch is throttled.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut offset = 0;
    loop {
        let mut req = fetch_request("q", 0, offset, 0);
        req.max_bytes = 150_000;
        req.topics[0].partitions[0].partition_max_bytes = 150_000;
        let r = reader.send(&req, 11).await;
        if r.throttle_time_ms > 0 {
            assert!(
                r.responses.is_empty(),
                "a throttled fetch carries no records"
            );
            break;
        }
        let p = &r.responses[0].partitions[0];
        assert_eq!(p.error_code, 0);
        let got = records(p.records.clone().unwrap_or_default());
        offset = got.last().map_or(offset, |(o, _)| o + 1);
        assert!(
            Instant::now() < deadline,
            "never throttled (at offset {offset})"
        );
    }
    // The first ten seconds' worth (1 MB) went out first: nine batches of 100 kB and their
    // headers fit, the tenth would pass 1 MB.
    assert_eq!(offset, 9);
    h.shutdown().await;
}
