#![allow(clippy::unwrap_used)]
//! Array counts no body could hold (kafka-protocol reserves `Vec::with_capacity(count)` as
//! it decodes, which would abort the whole broker) close only their own connection.

mod common;

use bytes::BufMut;
use common::{start, Client};
use kafka_protocol::messages::*;

fn frame(header_and_body: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.put_i32(header_and_body.len() as i32);
    f.extend_from_slice(header_and_body);
    f
}

/// A request header: v1 (null client id) or, for flexible versions, v2 (plus no tags).
fn header(key: i16, version: i16, flexible: bool) -> Vec<u8> {
    let mut h = Vec::new();
    h.put_i16(key);
    h.put_i16(version);
    h.put_i32(1);
    h.put_i16(-1);
    if flexible {
        h.put_u8(0);
    }
    h
}

/// The UNSIGNED_VARINT 0xffffffff: a compact array of 4294967294 elements.
const HUGE_VARINT: [u8; 5] = [0xff, 0xff, 0xff, 0xff, 0x0f];

/// A second, fresh connection is answered.
async fn answered(broker: &weir::BrokerHandle) {
    let mut c = Client::connect(broker).await;
    let resp = c.send(&ApiVersionsRequest::default(), 3).await;
    assert_eq!(resp.error_code, 0);
    assert!(!resp.api_keys.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn impossible_array_counts_close_only_their_connection() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let mut good = Client::connect(&broker).await;
    good.send(&ApiVersionsRequest::default(), 0).await;

    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            // The 19 bytes that used to abort the broker: size 15, Metadata v0, correlation 1,
            // client id "a", topic count 0x7fffffff.
            "Metadata v0, topic count 0x7fffffff",
            vec![
                0, 0, 0, 15, 0, 3, 0, 0, 0, 0, 0, 1, 0, 1, b'a', 0x7f, 0xff, 0xff, 0xff,
            ],
        ),
        ("Metadata v12, compact topic count 0xffffffff", {
            let mut b = header(3, 12, true);
            b.extend_from_slice(&HUGE_VARINT);
            frame(&b)
        }),
        ("CreateTopics v5, compact topic count 0xffffffff", {
            let mut b = header(19, 5, true);
            b.extend_from_slice(&HUGE_VARINT);
            b.put_i32(1000);
            b.put_u8(0);
            b.put_u8(0);
            frame(&b)
        }),
        (
            "CreateTopics v7, one topic with a configs count of 0xffffffff",
            {
                let mut b = header(19, 7, true);
                b.put_u8(2); // one topic
                b.put_u8(2); // name "t"
                b.put_u8(b't');
                b.put_i32(1);
                b.put_i16(1);
                b.put_u8(1); // no assignments
                b.extend_from_slice(&HUGE_VARINT);
                frame(&b)
            },
        ),
        (
            "Produce v3, one topic with a partition count of 0x7fffffff",
            {
                let mut b = header(0, 3, false);
                b.put_i16(-1); // transactional id
                b.put_i16(1); // acks
                b.put_i32(1000);
                b.put_i32(1); // one topic
                b.put_i16(1);
                b.put_u8(b't');
                b.put_i32(i32::MAX);
                frame(&b)
            },
        ),
        ("OffsetFetch v9, group count 0xffffffff", {
            let mut b = header(9, 9, true);
            b.extend_from_slice(&HUGE_VARINT);
            frame(&b)
        }),
    ];
    for (what, bytes) in cases {
        let mut bad = Client::connect(&broker).await;
        bad.write_raw(&bytes).await;
        assert!(bad.is_closed().await, "{what}: connection closed");
        answered(&broker).await;
        good.send(&ApiVersionsRequest::default(), 0).await;
    }
    broker.shutdown().await;
}
