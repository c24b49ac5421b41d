#![allow(clippy::unwrap_used)]
//! The console's JSON API (`/api/v1`, docs/console-api.md) on the HTTP listener, checked
//! against what the Kafka protocol says: topics created and deleted through it are seen by a
//! Kafka client, the message browser shows what was produced (keys, headers, timestamps,
//! paging), group lag is the high watermark minus the commit, and read-only mode refuses
//! every change.

mod common;

use std::net::SocketAddr;

use common::{
    batch, coordinator_ready, create_topic, eventually, http, keyed_batch, produce, start_with,
    topic_name, Client, TestRecord,
};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::{GroupId, MetadataRequest, OffsetCommitRequest};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get_json(addr: SocketAddr, path: &str) -> (u16, Value) {
    let (code, _, body) = http(addr, "GET", path, None).await;
    (code, serde_json::from_str(&body).unwrap())
}

/// The topic's partition count as Metadata tells a Kafka client (None: no such topic).
async fn partitions_seen(c: &mut Client, topic: &str) -> Option<usize> {
    let req = MetadataRequest::default()
        .with_allow_auto_topic_creation(false)
        .with_topics(Some(vec![
            MetadataRequestTopic::default().with_name(Some(topic_name(topic)))
        ]));
    let resp = c.send(&req, 12).await;
    let t = &resp.topics[0];
    (t.error_code == 0).then_some(t.partitions.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_messages_and_groups_through_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start_with(dir.path(), |c| {
        c.http_listener = Some("127.0.0.1:0".parse().unwrap());
        c.http_console_lag_sample_ms = 100;
    })
    .await;
    let web = broker.http_addr.unwrap();
    let mut c = Client::connect(&broker).await;

    let (code, console) = get_json(web, "/api/v1/console").await;
    assert_eq!(code, 200);
    assert_eq!(console["read_only"], false);
    assert_eq!(console["bootstrap"], broker.local_addr.to_string());

    // Create through the API; a Kafka client sees it.
    let new =
        json!({ "name": "orders", "partitions": 3, "configs": { "retention.ms": "3600000" } });
    let (code, _, body) = http(web, "POST", "/api/v1/topics", Some(&new)).await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(partitions_seen(&mut c, "orders").await, Some(3));
    let (code, _, body) = http(web, "POST", "/api/v1/topics", Some(&new)).await;
    assert_eq!(code, 409);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["code"],
        "TOPIC_ALREADY_EXISTS"
    );
    let bad = json!({ "name": "bad", "partitions": 0 });
    let (code, _, _) = http(web, "POST", "/api/v1/topics", Some(&bad)).await;
    assert_eq!(code, 400);
    let (_, configs) = get_json(web, "/api/v1/topics/orders/configs").await;
    let retention = configs["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "retention.ms")
        .unwrap();
    assert_eq!(retention["value"], "3600000");
    assert_eq!(retention["source"], "DYNAMIC_TOPIC_CONFIG");

    // A form posted from elsewhere (not JSON) is refused before anything happens.
    let mut s = tokio::net::TcpStream::connect(web).await.unwrap();
    let form = "name=evil";
    s.write_all(
        format!(
            "POST /api/v1/topics HTTP/1.1\r\nHost: {web}\r\nConnection: close\r\nContent-Type: \
             application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            form.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.unwrap();
    assert!(raw.starts_with("HTTP/1.1 415"), "{raw}");
    assert_eq!(partitions_seen(&mut c, "evil").await, None);

    // The list pages and searches.
    create_topic(&mut c, "other", 1).await;
    let (_, list) = get_json(web, "/api/v1/topics?q=ORD").await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["topics"][0]["name"], "orders");
    assert_eq!(list["topics"][0]["partitions"], 3);
    let (_, list) = get_json(web, "/api/v1/topics?offset=1&limit=1").await;
    assert_eq!(list["total"], 2);
    assert_eq!(list["topics"][0]["name"], "other");

    // Records with keys and headers, read back page by page.
    let recs: Vec<(String, String)> = (0..30)
        .map(|i| (format!("k{i}"), format!("{{\"n\":{i}}}")))
        .collect();
    let test_records: Vec<TestRecord<'_>> = recs
        .iter()
        .map(|(k, v)| TestRecord {
            key: Some(k.as_bytes()),
            value: Some(v.as_bytes()),
            header: Some(("trace", b"t-1")),
        })
        .collect();
    let b = keyed_batch(&test_records, Compression::Lz4, 1_700_000_000_000);
    assert_eq!(produce(&mut c, "orders", 1, b, 9).await.0, 0);
    let (_, described) = get_json(web, "/api/v1/topics/orders?offset=1&limit=1").await;
    assert_eq!(described["total"], 3);
    let p = &described["partitions"][0];
    assert_eq!(p["partition"], 1);
    assert_eq!(
        (p["log_start_offset"].clone(), p["log_end_offset"].clone()),
        (json!(0), json!(30))
    );
    assert_eq!(p["messages"], 30);

    let (code, page) = get_json(
        web,
        "/api/v1/topics/orders/messages?partition=1&offset=10&limit=5",
    )
    .await;
    assert_eq!(code, 200);
    let offsets: Vec<i64> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["offset"].as_i64().unwrap())
        .collect();
    assert_eq!(offsets, vec![10, 11, 12, 13, 14]);
    assert_eq!(
        (page["next_offset"].clone(), page["prev_offset"].clone()),
        (json!(15), json!(5))
    );
    let m = &page["messages"][0];
    assert_eq!(m["key"]["text"], "k10");
    assert_eq!(m["value"]["text"], "{\"n\":10}");
    assert_eq!(m["value"]["json"], true);
    assert_eq!(m["headers"][0]["key"], "trace");
    assert_eq!(m["headers"][0]["value"]["text"], "t-1");
    assert_eq!(m["timestamp"], 1_700_000_000_000i64);
    // Newest first page: the last `limit` records.
    let (_, page) = get_json(web, "/api/v1/topics/orders/messages?partition=1&limit=4").await;
    assert_eq!(page["offset"], 26);
    assert_eq!(page["messages"].as_array().unwrap().len(), 4);
    assert_eq!(page["next_offset"], 30);
    // By timestamp: every record is at the same time, so the first.
    let (_, page) = get_json(
        web,
        "/api/v1/topics/orders/messages?partition=1&timestamp=1700000000000&limit=2",
    )
    .await;
    assert_eq!(page["offset"], 0);
    assert_eq!(page["prev_offset"], Value::Null);
    let (code, _) = get_json(web, "/api/v1/topics/orders/messages?partition=7").await;
    assert_eq!(code, 404);

    // A group that committed 5 of partition 0's 12 records and 1 of partition 2's 1.
    for _ in 0..4 {
        let b = batch(&[b"a", b"b", b"c"], Compression::None);
        assert_eq!(produce(&mut c, "orders", 0, b, 9).await.0, 0);
    }
    let b = batch(&[b"x"], Compression::None);
    assert_eq!(produce(&mut c, "orders", 2, b, 9).await.0, 0);
    coordinator_ready(&mut c, "billing").await;
    let commit = OffsetCommitRequest::default()
        .with_group_id(GroupId(StrBytes::from_static_str("billing")))
        .with_generation_id_or_member_epoch(-1)
        .with_topics(vec![OffsetCommitRequestTopic::default()
            .with_name(topic_name("orders"))
            .with_partitions(vec![
                OffsetCommitRequestPartition::default()
                    .with_partition_index(0)
                    .with_committed_offset(5),
                OffsetCommitRequestPartition::default()
                    .with_partition_index(2)
                    .with_committed_offset(1),
            ])]);
    assert_eq!(
        c.send(&commit, 8).await.topics[0].partitions[0].error_code,
        0
    );
    let (code, group) = get_json(web, "/api/v1/groups/billing").await;
    assert_eq!(code, 200, "{group}");
    assert_eq!(group["state"], "Empty");
    assert_eq!(group["total_lag"], 7);
    let lags: Vec<(i64, i64)> = group["offsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["partition"].as_i64().unwrap(), o["lag"].as_i64().unwrap()))
        .collect();
    assert_eq!(lags, vec![(0, 7), (2, 0)]);
    // The sampler follows the group.
    eventually("the sampler measures the group's lag", || async {
        let (_, list) = get_json(web, "/api/v1/groups?q=bill").await;
        list["total"] == 1
            && list["groups"][0]["total_lag"] == 7
            && !list["groups"][0]["lag_history"]
                .as_array()
                .unwrap()
                .is_empty()
    })
    .await;
    let (code, _) = get_json(web, "/api/v1/groups/nobody").await;
    assert_eq!(code, 404);
    let (code, _, _) = http(web, "DELETE", "/api/v1/groups/billing", None).await;
    assert_eq!(code, 200);
    let (code, _) = get_json(web, "/api/v1/groups/billing").await;
    assert_eq!(code, 404);

    // Delete through the API; the Kafka client no longer sees it.
    let (code, _, _) = http(web, "DELETE", "/api/v1/topics/orders", None).await;
    assert_eq!(code, 200);
    assert_eq!(partitions_seen(&mut c, "orders").await, None);
    let (code, _, _) = http(web, "DELETE", "/api/v1/topics/orders", None).await;
    assert_eq!(code, 404);

    // The cluster page's numbers.
    let (_, cluster) = get_json(web, "/api/v1/cluster").await;
    assert_eq!(cluster["brokers"][0]["id"], 1);
    assert_eq!(cluster["controller_id"], 1);
    assert_eq!(cluster["offline_partitions"], 0);
    let (code, _) = get_json(web, "/api/v1/brokers/1/configs").await;
    assert_eq!(code, 200);
    let (code, _) = get_json(web, "/api/v1/brokers/9/configs").await;
    assert_eq!(code, 404);
    let (code, _) = get_json(web, "/api/v1/nothing").await;
    assert_eq!(code, 404);
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_refuses_every_change_and_the_page_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start_with(dir.path(), |c| {
        c.http_listener = Some("127.0.0.1:0".parse().unwrap());
        c.http_console_read_only = true;
    })
    .await;
    let web = broker.http_addr.unwrap();
    let mut c = Client::connect(&broker).await;
    create_topic(&mut c, "kept", 1).await;
    let (_, console) = get_json(web, "/api/v1/console").await;
    assert_eq!(console["read_only"], true);
    let new = json!({ "name": "fresh" });
    let (code, _, body) = http(web, "POST", "/api/v1/topics", Some(&new)).await;
    assert_eq!(code, 403);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["code"],
        "READ_ONLY"
    );
    let change = json!({ "set": { "retention.ms": "1" } });
    let (code, _, _) = http(web, "PATCH", "/api/v1/topics/kept/configs", Some(&change)).await;
    assert_eq!(code, 403);
    let (code, _, _) = http(web, "DELETE", "/api/v1/topics/kept", None).await;
    assert_eq!(code, 403);
    let (code, _, _) = http(web, "DELETE", "/api/v1/groups/any", None).await;
    assert_eq!(code, 403);
    assert_eq!(partitions_seen(&mut c, "kept").await, Some(1));
    assert_eq!(partitions_seen(&mut c, "fresh").await, None);
    let (code, _) = get_json(web, "/api/v1/topics").await;
    assert_eq!(code, 200);

    // The page and its assets, with a policy that allows only this origin.
    let (code, head, body) = http(web, "GET", "/", None).await;
    assert_eq!(code, 200);
    let head = head.to_ascii_lowercase();
    assert!(head.contains("content-type: text/html"), "{head}");
    assert!(head.contains("content-security-policy: default-src 'none'; script-src 'self'"));
    assert!(body.contains("/assets/app.js"), "the page loads its script");
    let (code, head, _) = http(web, "GET", "/assets/app.js", None).await;
    assert_eq!(code, 200);
    assert!(head
        .to_ascii_lowercase()
        .contains("content-type: text/javascript"));
    broker.shutdown().await;
}
