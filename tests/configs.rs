#![allow(clippy::unwrap_used)]
//! Topic configs at run time: DescribeConfigs sources, IncrementalAlterConfigs (SET, DELETE,
//! APPEND, SUBTRACT) and AlterConfigs, validation, persistence and live effect.

mod common;

use common::{batch, create_topic_with, produce, start, Client};
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::{
    alter_configs_request, incremental_alter_configs_request, AlterConfigsRequest,
    DescribeConfigsRequest, IncrementalAlterConfigsRequest,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;

const TOPIC: i8 = 2;
const BROKER: i8 = 4;
const SET: i8 = 0;
const DELETE: i8 = 1;
const APPEND: i8 = 2;
const SUBTRACT: i8 = 3;

/// (config name, operation, value).
type Op<'a> = (&'a str, i8, Option<&'a str>);

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

async fn incremental(
    c: &mut Client,
    resource_type: i8,
    name: &str,
    ops: &[Op<'_>],
    validate_only: bool,
    version: i16,
) -> (i16, String) {
    use incremental_alter_configs_request::{AlterConfigsResource, AlterableConfig};
    let configs = ops
        .iter()
        .map(|(n, op, v)| {
            AlterableConfig::default()
                .with_name(s(n))
                .with_config_operation(*op)
                .with_value(v.map(s))
        })
        .collect();
    let req = IncrementalAlterConfigsRequest::default()
        .with_validate_only(validate_only)
        .with_resources(vec![AlterConfigsResource::default()
            .with_resource_type(resource_type)
            .with_resource_name(s(name))
            .with_configs(configs)]);
    let resp = c.send(&req, version).await;
    let r = &resp.responses[0];
    let msg = r.error_message.as_ref().map(|m| m.to_string());
    (r.error_code, msg.unwrap_or_default())
}

/// (value, source) of one topic config.
async fn describe(c: &mut Client, topic: &str, name: &str) -> (String, i8) {
    let req = DescribeConfigsRequest::default()
        .with_include_synonyms(true)
        .with_resources(vec![DescribeConfigsResource::default()
            .with_resource_type(TOPIC)
            .with_resource_name(s(topic))
            .with_configuration_keys(Some(vec![s(name)]))]);
    let resp = c.send(&req, 4).await;
    let r = &resp.results[0];
    assert_eq!(r.error_code, 0, "{:?}", r.error_message);
    let e = &r.configs[0];
    (e.value.as_ref().unwrap().to_string(), e.config_source)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_changes_validate_persist_and_apply_live() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    assert_eq!(create_topic_with(&mut c, "conf", &[]).await.0, 0);
    assert_eq!(
        describe(&mut c, "conf", "retention.ms").await,
        ("604800000".to_string(), 5)
    );
    assert_eq!(
        describe(&mut c, "conf", "min.cleanable.dirty.ratio").await,
        ("0.5".to_string(), 5)
    );

    // Live effect: a smaller max.message.bytes refuses a batch at once.
    let big = [b'x'; 500];
    let ok = incremental(
        &mut c,
        TOPIC,
        "conf",
        &[("max.message.bytes", SET, Some("200"))],
        false,
        1,
    );
    assert_eq!(ok.await, (0, String::new()));
    let (err, _) = produce(&mut c, "conf", 0, batch(&[&big], Compression::None), 9).await;
    assert_eq!(err, 10, "MESSAGE_TOO_LARGE");
    assert_eq!(
        describe(&mut c, "conf", "max.message.bytes").await,
        ("200".to_string(), 1)
    );

    // Lists: APPEND to the value in force, SUBTRACT from it.
    let append = [("cleanup.policy", APPEND, Some("compact"))];
    assert_eq!(
        incremental(&mut c, TOPIC, "conf", &append, false, 0)
            .await
            .0,
        0
    );
    assert_eq!(
        describe(&mut c, "conf", "cleanup.policy").await.0,
        "compact,delete"
    );
    let subtract = [("cleanup.policy", SUBTRACT, Some("delete"))];
    assert_eq!(
        incremental(&mut c, TOPIC, "conf", &subtract, false, 1)
            .await
            .0,
        0
    );
    assert_eq!(
        describe(&mut c, "conf", "cleanup.policy").await.0,
        "compact"
    );

    // Refusals name what is wrong and change nothing.
    let cases: [(&[Op<'_>], i16, &str); 6] = [
        (&[("retention.ms", SET, Some("abc"))], 40, "abc"),
        (&[("no.such.config", SET, Some("1"))], 40, "no.such.config"),
        (&[("retention.ms", APPEND, Some("1"))], 40, "retention.ms"),
        (&[("cleanup.policy", SET, Some("bogus"))], 40, "bogus"),
        (&[("min.cleanable.dirty.ratio", SET, Some("2"))], 40, "2"),
        (
            &[
                ("retention.ms", SET, Some("1")),
                ("retention.ms", DELETE, None),
            ],
            42,
            "duplicate",
        ),
    ];
    for (ops, code, needle) in cases {
        let (err, msg) = incremental(&mut c, TOPIC, "conf", ops, false, 1).await;
        assert_eq!(err, code, "{ops:?}: {msg}");
        assert!(msg.contains(needle), "{ops:?}: {msg}");
    }
    assert_eq!(
        describe(&mut c, "conf", "retention.ms").await.0,
        "604800000"
    );
    let (err, _) = incremental(
        &mut c,
        TOPIC,
        "missing",
        &[("retention.ms", SET, Some("1"))],
        false,
        1,
    )
    .await;
    assert_eq!(err, 3, "UNKNOWN_TOPIC_OR_PARTITION");
    let (err, _) = incremental(
        &mut c,
        BROKER,
        "1",
        &[("num.partitions", SET, Some("1"))],
        false,
        1,
    )
    .await;
    assert_eq!(err, 42, "num.partitions is static");

    // validate_only checks without changing.
    let set = [("retention.ms", SET, Some("1000"))];
    assert_eq!(incremental(&mut c, TOPIC, "conf", &set, true, 1).await.0, 0);
    assert_eq!(
        describe(&mut c, "conf", "retention.ms").await.0,
        "604800000"
    );
    assert_eq!(
        incremental(&mut c, TOPIC, "conf", &set, false, 1).await.0,
        0
    );
    broker.shutdown().await;

    // Persisted: after a restart the overrides are in force, and still live.
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    assert_eq!(
        describe(&mut c, "conf", "retention.ms").await,
        ("1000".to_string(), 1)
    );
    let (err, _) = produce(&mut c, "conf", 0, batch(&[&big], Compression::None), 9).await;
    assert_eq!(err, 10);
    // DELETE falls back to the default.
    let del = [("max.message.bytes", DELETE, None)];
    assert_eq!(
        incremental(&mut c, TOPIC, "conf", &del, false, 1).await.0,
        0
    );
    assert_eq!(
        describe(&mut c, "conf", "max.message.bytes").await,
        ("1048588".to_string(), 5)
    );
    let (err, _) = produce(&mut c, "conf", 0, batch(&[&big], Compression::None), 9).await;
    assert_eq!(err, 0);
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alter_configs_replaces_the_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    let configs = [("retention.ms", "1000"), ("segment.bytes", "100000")];
    assert_eq!(create_topic_with(&mut c, "whole", &configs).await.0, 0);
    let (err, msg) = create_topic_with(&mut c, "badconf", &[("retention.ms", "soon")]).await;
    assert_eq!(err, 40);
    assert!(msg.unwrap().contains("soon"));
    use alter_configs_request::{AlterConfigsResource, AlterableConfig};
    for v in 0..=2 {
        let ratio = format!("0.{}", v + 1);
        let req = AlterConfigsRequest::default().with_resources(vec![
            AlterConfigsResource::default()
                .with_resource_type(TOPIC)
                .with_resource_name(s("whole"))
                .with_configs(vec![AlterableConfig::default()
                    .with_name(s("min.cleanable.dirty.ratio"))
                    .with_value(Some(s(&ratio)))]),
            AlterConfigsResource::default()
                .with_resource_type(TOPIC)
                .with_resource_name(s("whole"))
                .with_configs(vec![AlterableConfig::default()
                    .with_name(s("retention.bytes"))
                    .with_value(Some(s("-7")))]),
        ]);
        let resp = c.send(&req, v).await;
        assert_eq!(resp.responses[0].error_code, 0, "v{v}");
        assert_eq!(resp.responses[1].error_code, 40, "v{v}: -7 is invalid");
        assert_eq!(
            describe(&mut c, "whole", "min.cleanable.dirty.ratio").await,
            (ratio, 1)
        );
        // The earlier overrides are gone: replaced, not merged.
        assert_eq!(
            describe(&mut c, "whole", "retention.ms").await,
            ("604800000".to_string(), 5)
        );
    }
    broker.shutdown().await;
}

/// The broker-level topic defaults change at run time as Kafka's `kafka-configs.sh
/// --entity-type brokers [--entity-default | --entity-name N] --alter` sets them: kept in the
/// cluster metadata (a restart keeps them), layered default < broker's own < topic override,
/// and in force on the live partitions at once; static settings are refused in Kafka's words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_broker_defaults_apply_live_and_persist() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    assert_eq!(create_topic_with(&mut c, "inherits", &[]).await.0, 0);
    assert_eq!(
        create_topic_with(&mut c, "own", &[("max.message.bytes", "100000")])
            .await
            .0,
        0
    );
    let big = batch(&[&[7u8; 4000]], Compression::None);
    assert_eq!(produce(&mut c, "inherits", 0, big.clone(), 9).await.0, 0);

    // The cluster-wide default: message.max.bytes 1000.
    let set = [("message.max.bytes", SET, Some("1000"))];
    assert_eq!(
        incremental(&mut c, BROKER, "", &set, false, 1).await,
        (0, String::new())
    );
    // In force on the live partition (once this broker has applied the change).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while produce(&mut c, "inherits", 0, big.clone(), 9).await.0 != 10 {
        assert!(
            std::time::Instant::now() < deadline,
            "the dynamic default never applied"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The topic's own override still wins.
    assert_eq!(produce(&mut c, "own", 0, big.clone(), 9).await.0, 0);
    // DescribeConfigs: the topic inherits it from the dynamic default, and says so.
    assert_eq!(
        describe(&mut c, "inherits", "max.message.bytes").await,
        ("1000".to_string(), 3) // DYNAMIC_DEFAULT_BROKER_CONFIG
    );

    // This broker's own value beats the default.
    let set = [("message.max.bytes", SET, Some("50000"))];
    assert_eq!(incremental(&mut c, BROKER, "1", &set, false, 1).await.0, 0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while produce(&mut c, "inherits", 0, big.clone(), 9).await.0 != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the broker's own value never applied"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        describe(&mut c, "inherits", "max.message.bytes").await,
        ("50000".to_string(), 2) // DYNAMIC_BROKER_CONFIG
    );

    // Static settings and bad values: INVALID_REQUEST, in Kafka's words.
    let (code, msg) = incremental(
        &mut c,
        BROKER,
        "1",
        &[("log.dirs", SET, Some("/x"))],
        false,
        1,
    )
    .await;
    assert_eq!(
        (code, msg.as_str()),
        (42, "Cannot update these configs dynamically: Set(log.dirs)")
    );
    let (code, msg) = incremental(
        &mut c,
        BROKER,
        "",
        &[("log.retention.ms", SET, Some("abc"))],
        false,
        1,
    )
    .await;
    assert_eq!(code, 42);
    assert!(
        msg.starts_with("Invalid value abc for configuration log.retention.ms"),
        "{msg}"
    );
    broker.shutdown().await;

    // Kept in the cluster metadata: after a restart, still in force.
    let broker = start(dir.path()).await;
    let mut c = Client::connect(&broker).await;
    assert_eq!(
        describe(&mut c, "inherits", "max.message.bytes").await,
        ("50000".to_string(), 2)
    );
    let huge = batch(&[&[7u8; 60000]], Compression::None);
    assert_eq!(produce(&mut c, "inherits", 0, huge, 9).await.0, 10);
    broker.shutdown().await;
}
