#![allow(clippy::unwrap_used)]
//! The `weir` binary: settings from flags and WEIR_* variables, graceful SIGTERM (exit 0,
//! data kept), and the persistent cluster id across restarts.

mod common;

use std::net::TcpStream;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(port: u16, dir: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["--listeners", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir)
        .args(["--override", "auto.create.topics.enable=true"])
        .env("WEIR_NUM_PARTITIONS", "3")
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap()
}

fn wait_listening(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "broker did not start listening");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn sigterm(child: &mut Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    child.wait().unwrap()
}

async fn metadata(port: u16) -> MetadataResponse {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let mut c = common::Client::from_stream(stream);
    let req = MetadataRequest::default()
        .with_topics(Some(vec![
            kafka_protocol::messages::metadata_request::MetadataRequestTopic::default()
                .with_name(Some(TopicName(StrBytes::from_static_str("auto")))),
        ]))
        .with_allow_auto_topic_creation(true);
    c.send(&req, 12).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_sigterm_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = spawn(port, dir.path());
    wait_listening(port);
    let first = metadata(port).await;
    assert_eq!(
        first.topics[0].partitions.len(),
        3,
        "num.partitions from WEIR_NUM_PARTITIONS: {:?}",
        first.topics[0].error_code
    );
    assert_eq!(
        first.brokers[0].port,
        i32::from(port),
        "advertises the address it listens on"
    );
    let cluster = first.cluster_id.clone().unwrap();
    let status = sigterm(&mut child);
    assert_eq!(status.code(), Some(0), "SIGTERM is a graceful shutdown");

    let mut child = spawn(port, dir.path());
    wait_listening(port);
    let again = metadata(port).await;
    assert_eq!(
        again.cluster_id.unwrap(),
        cluster,
        "the cluster id persists"
    );
    assert_eq!(
        again.topics[0].topic_id, first.topics[0].topic_id,
        "topic ids persist"
    );
    assert_eq!(sigterm(&mut child).code(), Some(0));
}
