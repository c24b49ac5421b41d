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

/// Kafka 4.1's own config/server.properties (its KRaft single node), with listeners,
/// log.dirs and num.partitions adapted, starts weir with those settings; the Kafka-only
/// ones are reported and ignored, and `--print-config` names every setting's source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafkas_server_properties_and_print_config() {
    let dir = tempfile::tempdir().unwrap();
    let (port, controller) = (free_port(), free_port());
    let data = dir.path().join("kraft-combined-logs");
    let props = dir.path().join("server.properties");
    let text = include_str!("fixtures/kafka-4.1-server.properties")
        .replace("CONTROLLER_PORT", &controller.to_string())
        .replace("PORT", &port.to_string())
        .replace("LOG_DIRS", &data.display().to_string());
    std::fs::write(&props, text).unwrap();

    let printed = Command::new(env!("CARGO_BIN_EXE_weir"))
        .arg("--config")
        .arg(&props)
        .args(["--print-config", "--override", "http.listeners="])
        .env("WEIR_LOG_SEGMENT_BYTES", "2097152")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(printed.status.success());
    let out = String::from_utf8(printed.stdout).unwrap();
    let row = |name: &str| -> Vec<String> {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} not printed:\n{out}"));
        line.split_whitespace().map(str::to_string).collect()
    };
    let file = format!("{}", props.display());
    assert_eq!(
        row("num.partitions"),
        ["num.partitions", "4", "file", &file]
    );
    assert_eq!(
        row("log.retention.ms"),
        ["log.retention.ms", "604800000", "file", &file]
    );
    assert_eq!(
        row("log.segment.bytes"),
        [
            "log.segment.bytes",
            "2097152",
            "env",
            "WEIR_LOG_SEGMENT_BYTES"
        ]
    );
    assert_eq!(
        row("http.listeners"),
        ["http.listeners", "flag", "--override"]
    );
    assert_eq!(
        row("max.connections"),
        ["max.connections", "10000", "default"]
    );
    let warned = String::from_utf8(printed.stderr).unwrap();
    assert!(
        warned.contains("num.network.threads") && warned.contains("transaction.state.log.min.isr"),
        "{warned}"
    );

    // A misspelt setting stops the start, naming it.
    let bad = dir.path().join("bad.properties");
    std::fs::write(&bad, "log.retention.hour=1\n").unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_weir"))
        .arg("--config")
        .arg(&bad)
        .arg("--print-config")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("log.retention.hour"));

    // And the broker runs with those settings: an auto-created topic gets 4 partitions, in
    // the log.dirs given.
    let mut child = Command::new(env!("CARGO_BIN_EXE_weir"))
        .arg("--config")
        .arg(&props)
        .args(["--override", "http.listeners="])
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    wait_listening(port);
    let meta = metadata(port).await;
    assert_eq!(meta.brokers[0].host.as_str(), "localhost");
    assert_eq!(meta.brokers[0].port, i32::from(port));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let meta = metadata(port).await;
        if meta.topics[0].error_code == 0 {
            assert_eq!(meta.topics[0].partitions.len(), 4);
            break;
        }
        assert!(Instant::now() < deadline, "topic not created");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(data.join("auto-0").is_dir());
    assert!(sigterm(&mut child).success());
}
