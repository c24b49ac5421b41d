//! Support for the CLI tests: broker processes of the built binary, running `weir` commands
//! as subprocesses, and polling against a deadline.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common;

pub const BIN: &str = env!("CARGO_BIN_EXE_weir");

/// A broker process (the built binary) on a free loopback port; killed when dropped.
pub struct Broker {
    child: Child,
    pub addr: String,
    _dir: tempfile::TempDir,
}

impl Broker {
    /// `weir --listeners ... --data-dir ...` (the top-level flags), or `weir serve ...`.
    pub fn start(serve_subcommand: bool) -> Broker {
        let dir = tempfile::tempdir().unwrap();
        let port = common::free_port();
        let addr = format!("127.0.0.1:{port}");
        let mut cmd = Command::new(BIN);
        if serve_subcommand {
            cmd.arg("serve");
        }
        let child = cmd
            .args(["--listeners", &addr, "--data-dir"])
            .arg(dir.path())
            .args(["--override", "http.listeners="])
            .args(["--override", "offsets.topic.num.partitions=3"])
            .args(["--override", "group.initial.rebalance.delay.ms=0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let broker = Broker {
            child,
            addr,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(&broker.addr).is_err() {
            assert!(Instant::now() < deadline, "broker never listened");
            std::thread::sleep(Duration::from_millis(20));
        }
        broker
    }

    pub fn port(&self) -> i64 {
        self.addr.rsplit(':').next().unwrap().parse().unwrap()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a command did.
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn ok(self) -> Out {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

/// Runs `weir ARGS` (with stdin), without a bootstrap server.
pub fn run_raw(args: &[&str], stdin: &str) -> Out {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `weir ARGS --bootstrap-server BROKER`.
pub fn weir(b: &Broker, args: &[&str]) -> Out {
    weir_in(b, args, "")
}

pub fn weir_in(b: &Broker, args: &[&str], stdin: &str) -> Out {
    let mut all = args.to_vec();
    all.extend(["--bootstrap-server", &b.addr]);
    run_raw(&all, stdin)
}

/// Polls `cond` until it holds, failing with `what` after 30 s.
pub fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Creates a topic and waits until every partition has a leader.
pub fn create_topic(b: &Broker, topic: &str, partitions: &str) {
    weir(
        b,
        &[
            "topics",
            "create",
            topic,
            "--partitions",
            partitions,
            "--replication-factor",
            "1",
        ],
    )
    .ok();
    eventually("the topic's partitions have leaders", || {
        let out = weir(b, &["topics", "describe", topic, "--json"]);
        out.code == 0
            && out.json()["topics"][0]["partitions"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["leader"].as_i64() == Some(1))
    });
}
