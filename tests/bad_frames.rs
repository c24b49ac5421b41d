#![allow(clippy::unwrap_used)]
//! Broken frames close only their own connection; a second connection keeps working.

mod common;

use bytes::BufMut;
use common::{start, Client};
use kafka_protocol::messages::*;

/// A healthy second client still gets answers.
async fn healthy(c: &mut Client) {
    let resp = c
        .send(&MetadataRequest::default().with_topics(None), 12)
        .await;
    assert_eq!(resp.brokers.len(), 1);
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.put_i32(body.len() as i32);
    f.extend_from_slice(body);
    f
}

fn header(key: i16, version: i16) -> Vec<u8> {
    let mut h = Vec::new();
    h.put_i16(key);
    h.put_i16(version);
    h.put_i32(1);
    h.put_i16(-1);
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_close_only_their_connection() {
    let dir = tempfile::tempdir().unwrap();
    let broker = start(dir.path()).await;
    let mut good = Client::connect(&broker).await;
    healthy(&mut good).await;

    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("size 0", 0i32.to_be_bytes().to_vec()),
        ("size -1", (-1i32).to_be_bytes().to_vec()),
        ("huge size", (i32::MAX).to_be_bytes().to_vec()),
        (
            "just over socket.request.max.bytes",
            (100 * 1024 * 1024 + 1i32).to_be_bytes().to_vec(),
        ),
        ("header shorter than 8 bytes", frame(&[0, 3, 0])),
        ("unknown api key", frame(&header(999, 0))),
        ("api key not served", frame(&header(57, 0))),
        ("unsupported metadata version", frame(&header(3, 99))),
        ("negative version", frame(&header(3, -1))),
        ("unsupported fetch version", frame(&header(1, 3))),
        (
            "truncated metadata body",
            frame(&{
                let mut b = header(3, 1);
                b.put_i32(5); // five topics follow... but none do
                b
            }),
        ),
        (
            "bad client id length",
            frame(&{
                let mut b = header(3, 1);
                b.truncate(8);
                b.put_i16(40);
                b
            }),
        ),
    ];
    for (what, bytes) in cases {
        let mut bad = Client::connect(&broker).await;
        bad.write_raw(&bytes).await;
        assert!(bad.is_closed().await, "{what}: connection closed");
        healthy(&mut good).await;
    }
    // A frame announced but cut short: the broker waits for the rest; closing the socket
    // must not disturb anyone.
    let mut cut = Client::connect(&broker).await;
    let mut partial = Vec::new();
    partial.put_i32(100);
    partial.extend_from_slice(&header(3, 1));
    cut.write_raw(&partial).await;
    drop(cut);
    healthy(&mut good).await;
    broker.shutdown().await;
}
