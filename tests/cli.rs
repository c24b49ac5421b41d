#![allow(clippy::unwrap_used)]
//! The admin and console client (`weir topics|groups|configs|produce|consume|cluster|
//! completions`), run as a subprocess of the built binary against brokers started from the
//! same binary on free loopback ports: tables hold the values, `--json` is checked field by
//! field, and exit codes are 0 (ok), 1 (a Kafka error) and 2 (usage).

mod common;
#[path = "cli/support.rs"]
mod support;
// The group tests.
#[path = "cli/groups.rs"]
mod groups;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use support::{create_topic, eventually, run_raw, weir, weir_in, Broker};

#[test]
fn topics_lifecycle() {
    let b = Broker::start(false);
    let out = weir(
        &b,
        &[
            "topics",
            "create",
            "orders",
            "--partitions",
            "3",
            "--replication-factor",
            "1",
            "--config",
            "retention.ms=123456",
            "--json",
        ],
    )
    .ok();
    let created = out.json();
    assert_eq!(created["name"], "orders");
    assert_eq!(created["created"], true);
    assert_eq!(created["partitions"], 3);
    assert_eq!(created["replication_factor"], 1);

    // An existing topic: exit 1 with Kafka's error name; --if-not-exists makes it fine.
    let again = weir(&b, &["topics", "create", "orders"]);
    assert_eq!(again.code, 1);
    assert!(
        again.stderr.contains("TOPIC_ALREADY_EXISTS"),
        "{}",
        again.stderr
    );
    weir(&b, &["topics", "create", "orders", "--if-not-exists"]).ok();

    // list: table and JSON.
    let table = weir(&b, &["topics", "list"]).ok().stdout;
    let row = table.lines().find(|l| l.starts_with("orders ")).unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&cells[..3], &["orders", "3", "1"]);
    let listed = weir(&b, &["topics", "list", "--json"]).ok().json();
    let orders = listed["topics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "orders")
        .unwrap();
    assert_eq!(orders["partitions"], 3);
    assert_eq!(orders["replication_factor"], 1);
    assert_eq!(orders["internal"], false);
    assert_eq!(orders["topic_id"].as_str().unwrap().len(), 36);

    // describe after producing 5 records to partition 1.
    weir_in(
        &b,
        &["produce", "orders", "--partition", "1"],
        "a\nb\nc\nd\ne\n",
    )
    .ok();
    let described = weir(&b, &["topics", "describe", "orders", "--json"])
        .ok()
        .json();
    let t = &described["topics"][0];
    assert_eq!(t["name"], "orders");
    assert_eq!(t["topic_id"], orders["topic_id"]);
    let parts = t["partitions"].as_array().unwrap();
    assert_eq!(parts.len(), 3);
    for (i, p) in parts.iter().enumerate() {
        assert_eq!(p["partition"], i as i64);
        assert_eq!(p["leader"], 1);
        assert_eq!(p["replicas"], serde_json::json!([1]));
        assert_eq!(p["isr"], serde_json::json!([1]));
        assert_eq!(p["log_start_offset"], 0);
        assert_eq!(p["log_end_offset"], if i == 1 { 5 } else { 0 });
        assert_eq!(p["error"], Value::Null);
    }
    let table = weir(&b, &["topics", "describe", "orders"]).ok().stdout;
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "TOPIC",
            "PARTITION",
            "LEADER",
            "REPLICAS",
            "ISR",
            "LOG-START-OFFSET",
            "LOG-END-OFFSET"
        ]
    );
    let row: Vec<&str> = table.lines().nth(2).unwrap().split_whitespace().collect();
    assert_eq!(row, ["orders", "1", "1", "1", "1", "0", "5"]);

    // alter: more partitions (CreatePartitions), configs (IncrementalAlterConfigs).
    weir(
        &b,
        &[
            "topics",
            "alter",
            "orders",
            "--partitions",
            "5",
            "--config",
            "cleanup.policy=compact",
        ],
    )
    .ok();
    eventually("5 partitions", || {
        let d = weir(&b, &["topics", "describe", "orders", "--json"]).json();
        d["topics"][0]["partitions"].as_array().unwrap().len() == 5
    });
    let config = |name: &str| -> Value {
        let d = weir(&b, &["configs", "describe", "--topic", "orders", "--json"])
            .ok()
            .json();
        d["configs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(config("cleanup.policy")["value"], "compact");
    assert_eq!(config("cleanup.policy")["source"], "DYNAMIC_TOPIC_CONFIG");
    assert_eq!(config("retention.ms")["value"], "123456");
    weir(
        &b,
        &[
            "topics",
            "alter",
            "orders",
            "--delete-config",
            "cleanup.policy",
        ],
    )
    .ok();
    assert_eq!(config("cleanup.policy")["value"], "delete");
    assert_eq!(config("cleanup.policy")["source"], "DEFAULT_CONFIG");
    // Fewer partitions is Kafka's INVALID_PARTITIONS.
    let fewer = weir(&b, &["topics", "alter", "orders", "--partitions", "2"]);
    assert_eq!(fewer.code, 1);
    assert!(
        fewer.stderr.contains("INVALID_PARTITIONS"),
        "{}",
        fewer.stderr
    );

    // delete, then the topic is missing: exit 1, UNKNOWN_TOPIC_OR_PARTITION.
    let deleted = weir(&b, &["topics", "delete", "orders", "--json"])
        .ok()
        .json();
    assert_eq!(deleted["topics"][0]["name"], "orders");
    assert_eq!(deleted["topics"][0]["error"], Value::Null);
    eventually("the topic is gone", || {
        weir(&b, &["topics", "describe", "orders"]).code == 1
    });
    let missing = weir(&b, &["topics", "describe", "orders"]);
    assert!(
        missing.stderr.contains("UNKNOWN_TOPIC_OR_PARTITION"),
        "{}",
        missing.stderr
    );
    let gone = weir(&b, &["topics", "delete", "orders"]);
    assert_eq!(gone.code, 1);
    assert!(
        gone.stdout.contains("UNKNOWN_TOPIC_OR_PARTITION"),
        "{}",
        gone.stdout
    );
}

#[test]
fn produce_and_consume() {
    let b = Broker::start(false);
    create_topic(&b, "events", "4");

    // Keys go where Kafka's default partitioner (murmur2) puts them.
    let lines: String = (0..20).map(|i| format!("key-{i}|value-{i}\n")).collect();
    let produced = weir_in(
        &b,
        &[
            "produce",
            "events",
            "--key-separator",
            "|",
            "--header",
            "source=cli",
            "--json",
        ],
        &lines,
    )
    .ok()
    .json();
    assert_eq!(produced["produced"], 20);
    assert_eq!(produced["failed"], 0);
    let mut expected = [0i64; 4];
    for i in 0..20 {
        let p = weir::cli::produce::partition_for_key(format!("key-{i}").as_bytes(), 4);
        expected[p as usize] += 1;
    }
    for p in produced["partitions"].as_array().unwrap() {
        let n = expected[p["partition"].as_i64().unwrap() as usize];
        assert_eq!(p["records"], n);
        assert_eq!(p["first_offset"], 0);
        assert_eq!(p["last_offset"], n - 1);
    }

    let consumed = weir(
        &b,
        &[
            "consume",
            "events",
            "--offset",
            "earliest",
            "--max-messages",
            "20",
            "--json",
        ],
    )
    .ok();
    let records: Vec<Value> = consumed
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 20);
    assert!(consumed.stderr.contains("Processed a total of 20 messages"));
    for r in &records {
        let key = r["key"].as_str().unwrap();
        let i: i64 = key.strip_prefix("key-").unwrap().parse().unwrap();
        assert_eq!(r["value"], format!("value-{i}"));
        assert_eq!(r["topic"], "events");
        assert_eq!(
            r["partition"],
            weir::cli::produce::partition_for_key(key.as_bytes(), 4)
        );
        assert_eq!(r["headers"]["source"], "cli");
        assert!(r["offset"].as_i64().unwrap() >= 0);
        assert!(r["timestamp"].as_i64().unwrap() > 1_600_000_000_000);
    }

    // Keyless records go round-robin; one partition from an offset, as text.
    create_topic(&b, "plain", "2");
    weir_in(&b, &["produce", "plain"], "a\nb\nc\nd\n").ok();
    let p0 = weir(
        &b,
        &[
            "consume",
            "plain",
            "--partition",
            "0",
            "--offset",
            "1",
            "--max-messages",
            "1",
            "--timeout-ms",
            "20000",
            "--print-offset",
            "--print-key",
            "--print-headers",
        ],
    )
    .ok();
    assert_eq!(p0.stdout, "Partition:0\tOffset:1\tNO_HEADERS\tnull\tc\n");
    let hex = weir(
        &b,
        &[
            "consume",
            "plain",
            "--partition",
            "1",
            "--from-beginning",
            "--max-messages",
            "2",
            "--format",
            "hex",
        ],
    )
    .ok();
    assert_eq!(hex.stdout, "62\n64\n");

    // A line without the key separator fails (exit 1); the others are written.
    let partial = weir_in(
        &b,
        &["produce", "plain", "--key-separator", ":", "--json"],
        "k:v\nnokey\n",
    );
    assert_eq!(partial.code, 1);
    assert_eq!(partial.json()["produced"], 1);
    assert_eq!(partial.json()["failed"], 1);
    assert!(partial.stderr.contains("line 2"), "{}", partial.stderr);

    // A missing topic: exit 1 for both.
    let nope = weir_in(&b, &["produce", "nope"], "x\n");
    assert_eq!(nope.code, 1);
    assert!(
        nope.stderr.contains("UNKNOWN_TOPIC_OR_PARTITION"),
        "{}",
        nope.stderr
    );
    assert_eq!(
        weir(&b, &["consume", "nope", "--timeout-ms", "100"]).code,
        1
    );
}

#[test]
fn configs_and_cluster() {
    let b = Broker::start(true); // `weir serve ...`
    create_topic(&b, "c", "1");
    weir(
        &b,
        &[
            "configs",
            "alter",
            "--topic",
            "c",
            "--set",
            "retention.ms=60000",
            "--set",
            "segment.ms=600000",
        ],
    )
    .ok();
    let d = weir(&b, &["configs", "describe", "--topic", "c", "--json"])
        .ok()
        .json();
    assert_eq!(d["resource_type"], "topic");
    assert_eq!(d["resource_name"], "c");
    let find = |d: &Value, n: &str| {
        d["configs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == n)
            .cloned()
            .unwrap()
    };
    let retention = find(&d, "retention.ms");
    assert_eq!(retention["value"], "60000");
    assert_eq!(retention["source"], "DYNAMIC_TOPIC_CONFIG");
    assert_eq!(retention["read_only"], false);
    assert_eq!(retention["sensitive"], false);
    weir(
        &b,
        &[
            "configs",
            "alter",
            "--topic",
            "c",
            "--delete",
            "retention.ms",
        ],
    )
    .ok();
    let d = weir(&b, &["configs", "describe", "--topic", "c", "--json"])
        .ok()
        .json();
    assert_eq!(find(&d, "retention.ms")["source"], "DEFAULT_CONFIG");
    assert_eq!(find(&d, "segment.ms")["value"], "600000");
    let table = weir(&b, &["configs", "describe", "--topic", "c"])
        .ok()
        .stdout;
    let row = table
        .lines()
        .find(|l| l.starts_with("segment.ms "))
        .unwrap();
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>(),
        [
            "segment.ms",
            "600000",
            "DYNAMIC_TOPIC_CONFIG",
            "false",
            "false"
        ]
    );
    // A broker's configs, from that broker.
    let broker = weir(&b, &["configs", "describe", "--broker", "1", "--json"])
        .ok()
        .json();
    assert_eq!(broker["resource_type"], "broker");
    assert_eq!(find(&broker, "node.id")["value"], "1");
    // A bad value is the broker's INVALID_CONFIG (exit 1).
    let bad = weir(
        &b,
        &[
            "configs",
            "alter",
            "--topic",
            "c",
            "--set",
            "retention.ms=soon",
        ],
    );
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("INVALID_CONFIG"), "{}", bad.stderr);
    // A missing topic.
    let missing = weir(&b, &["configs", "describe", "--topic", "nope"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("UNKNOWN_TOPIC_OR_PARTITION"),
        "{}",
        missing.stderr
    );

    let cluster = weir(&b, &["cluster", "--json"]).ok().json();
    assert!(!cluster["cluster_id"].as_str().unwrap().is_empty());
    assert_eq!(cluster["controller_id"], 1);
    assert_eq!(cluster["brokers"][0]["id"], 1);
    assert_eq!(cluster["brokers"][0]["host"], "127.0.0.1");
    assert_eq!(cluster["brokers"][0]["port"], b.port());
    assert_eq!(cluster["brokers"][0]["rack"], Value::Null);
    let text = weir(&b, &["cluster"]).ok().stdout;
    assert!(
        text.contains(cluster["cluster_id"].as_str().unwrap()),
        "{text}"
    );
    assert!(text.contains(&b.addr), "{text}");
}

/// The read-only commands against a second, separate broker: each answers from the broker
/// `--bootstrap-server` names.
#[test]
fn read_only_commands_on_a_second_broker() {
    let one = Broker::start(false);
    let two = Broker::start(true);
    create_topic(&one, "only-on-one", "1");
    create_topic(&two, "only-on-two", "2");
    weir_in(
        &two,
        &["produce", "only-on-two", "--partition", "1"],
        "x\ny\n",
    )
    .ok();
    weir(
        &two,
        &[
            "consume",
            "only-on-two",
            "--group",
            "g2",
            "--from-beginning",
            "--max-messages",
            "2",
        ],
    )
    .ok();

    let c1 = weir(&one, &["cluster", "--json"]).ok().json();
    let c2 = weir(&two, &["cluster", "--json"]).ok().json();
    assert_ne!(c1["cluster_id"], c2["cluster_id"]);
    assert_eq!(c2["brokers"][0]["port"], two.port());

    let names = |b: &Broker| -> Vec<String> {
        weir(b, &["topics", "list", "--json", "--exclude-internal"])
            .ok()
            .json()["topics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&one), ["only-on-one"]);
    assert_eq!(names(&two), ["only-on-two"]);
    let d = weir(&two, &["topics", "describe", "only-on-two", "--json"])
        .ok()
        .json();
    assert_eq!(d["topics"][0]["partitions"][1]["log_end_offset"], 2);
    assert_eq!(weir(&one, &["topics", "describe", "only-on-two"]).code, 1);

    let groups = weir(&two, &["groups", "list", "--json"]).ok().json();
    assert_eq!(groups["groups"][0]["group"], "g2");
    let g = weir(&two, &["groups", "describe", "g2", "--json"])
        .ok()
        .json();
    // Both partitions are committed: 0 where nothing was read, 2 after the two records.
    assert_eq!(g["offsets"][0]["partition"], 0);
    assert_eq!(g["offsets"][0]["current_offset"], 0);
    assert_eq!(g["offsets"][1]["partition"], 1);
    assert_eq!(g["offsets"][1]["current_offset"], 2);
    assert_eq!(g["offsets"][1]["lag"], 0);
    assert_eq!(weir(&one, &["groups", "describe", "g2"]).code, 1);
    let empty = weir(&one, &["groups", "list", "--json"]).ok().json();
    assert_eq!(empty["groups"], serde_json::json!([]));

    weir(&two, &["configs", "describe", "--topic", "only-on-two"]).ok();
    weir(&two, &["configs", "describe", "--broker", "1"]).ok();
    let records = weir(
        &two,
        &[
            "consume",
            "only-on-two",
            "--from-beginning",
            "--max-messages",
            "2",
        ],
    )
    .ok();
    assert_eq!(records.stdout, "x\ny\n");
}

#[test]
fn exit_codes_for_usage_and_unreachable_brokers() {
    for args in [
        &["topics", "bogus"][..],
        &["topics", "create"],
        &["topics", "alter", "t"],
        &["configs", "describe"],
        &["configs", "describe", "--topic", "t", "--broker", "1"],
        &["configs", "alter", "--topic", "t"],
        &["configs", "alter", "--topic", "t", "--set", "novalue"],
        &["groups", "reset-offsets", "g", "--topic", "t"],
        &["groups", "reset-offsets", "g", "--to-earliest"],
        &[
            "groups",
            "reset-offsets",
            "g",
            "--topic",
            "t",
            "--to-earliest",
            "--to-latest",
        ],
        &["consume", "t", "--offset", "5"],
        &["consume", "t", "--offset", "soon", "--partition", "0"],
        &["consume", "t", "--group", "g", "--partition", "0"],
        &["consume", "t", "--format", "xml"],
        &["produce", "t", "--header", "nokey"],
        &["completions", "powershell"],
        &["--listeners", "127.0.0.1:1", "topics", "list"],
    ] {
        let out = run_raw(args, "");
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("error"), "{args:?}: {}", out.stderr);
    }
    // Nothing listens there: exit 1 with the reason.
    let port = common::free_port().to_string();
    let addr = format!("127.0.0.1:{port}");
    let out = run_raw(&["topics", "list", "--bootstrap-server", &addr], "");
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("cannot connect"), "{}", out.stderr);
    // Help is not an error.
    assert_eq!(run_raw(&["topics", "--help"], "").code, 0);
    assert_eq!(run_raw(&["--help"], "").code, 0);
}

#[test]
fn completion_scripts() {
    let bash = run_raw(&["completions", "bash"], "").ok().stdout;
    assert!(bash.contains("complete -F _weir weir"));
    assert!(bash.contains("'weir groups reset-offsets') opts="));
    assert!(bash.contains("--to-earliest"));
    let zsh = run_raw(&["completions", "zsh"], "").ok().stdout;
    assert!(zsh.starts_with("#compdef weir"));
    let fish = run_raw(&["completions", "fish"], "").ok().stdout;
    assert!(
        fish.contains("complete -c weir -n 'test (__weir_path) = \"weir topics\"' -a 'describe'")
    );
    assert!(fish.contains("-l format -x -a 'text json hex'"));
    // bash itself completes from the script, where bash is installed.
    if Path::new("/bin/bash").exists() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("weir.bash");
        std::fs::write(&script, &bash).unwrap();
        let out = Command::new("/bin/bash")
            .arg("-c")
            .arg(format!(
                "source {}; COMP_WORDS=(weir topics de); COMP_CWORD=2; _weir; echo \"${{COMPREPLY[@]}}\"",
                script.display()
            ))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "describe delete"
        );
    }
}
