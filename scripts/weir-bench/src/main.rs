//! weir-bench: drives a Kafka-protocol broker with librdkafka (through the `rdkafka` crate)
//! and measures throughput, latency and the broker's own costs from /proc.
//!
//! Run it through `scripts/bench`, which builds this tool and (unless `--bootstrap` is
//! given) builds weir and passes `--broker-bin`. With `--cluster` it measures a three-broker
//! cluster (its own weir cluster, or any through `--bootstrap`). See docs/benchmarks.md.

mod broker;
mod clients;
mod cluster;
mod compare;
mod measure;
mod nodes;
mod output;
mod procfs;
mod scenarios;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;

use crate::clients::Env;
use crate::cluster::await_brokers;
use crate::nodes::{empty_facts, idle, start};
use crate::output::{fmt, fmt_rate, host_facts, table, Report};
use crate::procfs::status_kib;
use crate::scenarios::{run_scenario, scenarios, Outcome, Scenario};

pub(crate) const MIB: f64 = 1024.0 * 1024.0;
pub(crate) const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

const USAGE: &str = "\
weir-bench: benchmark a Kafka-protocol broker with librdkafka

usage: scripts/bench [options]
  --bootstrap HOST:PORT  benchmark a running broker (default: start weir from --broker-bin)
  --broker-bin PATH      broker binary to start (scripts/bench passes target/release/weir)
  --broker-pid PID       with --bootstrap: read this process's /proc for broker costs
                         (repeatable: costs are summed over the brokers given)
  --cluster              three brokers, topics with replication factor 3 and
                         min.insync.replicas 2, the cluster scenarios (rf=3); with
                         --broker-bin, start a weir cluster: a controller-only node and
                         three broker-only nodes on free 127.0.0.1 ports
  --controller-pid PID   with --cluster --bootstrap: a controller-only node, measured apart
  --quick                smoke test: tiny volumes, no warm-up, one run each (seconds)
  --runs N               measured runs per scenario, median reported (default 5)
  --secs S               seconds per measured produce or consume run (default 3)
  --consume-mib N        MiB written first per consume scenario (then topped up so a
                         read lasts --secs; default 256)
  --latency-rate R       records/s for the latency scenarios (default 50000; 1000
                         with --cluster)
  --latency-secs S       seconds per latency run (default 5)
  --startup-runs N       broker starts timed to the first ApiVersions answer (default 5)
  --only TEXT            run only scenarios whose name contains TEXT (repeatable)
  --out PATH             JSON output (default: a file in the temp dir, printed at the end)
  --label TEXT           free text stored in the JSON (e.g. the broker's git revision)
  -X K=V                 librdkafka setting for every client (producers, consumers, the
                         admin client), after the tool's own; repeatable, like kcat's -X
                         (e.g. -X security.protocol=ssl -X ssl.ca.location=ca.pem)
  --broker-tls PEM       with --broker-bin: start weir with one SSL listener whose keystore
                         is PEM (unencrypted key + certificate chain); the clients need
                         -X security.protocol=ssl (and ssl.ca.location)
  --producer-config K=V  librdkafka producer setting, after the tool's own (repeatable)
  --consumer-config K=V  librdkafka consumer setting, after the tool's own (repeatable)
  --compare A.json B.json [--compare-labels A,B]
                         print two reports' scenarios side by side (medians, B/A), no run

scripts/bench only:
  --tls                  the started weir serves one SSL listener: a CA and a broker
                         certificate (IP:127.0.0.1) made with openssl in a temp dir, and
                         -X security.protocol=ssl -X ssl.ca.location=CA for the clients
  --tls-compare          plaintext, then --tls, same options, back to back, each on a fresh
                         broker, then --compare of the two (without --only: a subset);
                         --out STEM writes STEM-plaintext.json and STEM-tls.json
  --broker-bin PATH      also: start this binary and build no weir
";

#[derive(Clone, Debug)]
pub(crate) struct Opts {
    pub(crate) bootstrap: Option<String>,
    pub(crate) broker_bin: Option<PathBuf>,
    pub(crate) broker_pids: Vec<i32>,
    pub(crate) controller_pid: Option<i32>,
    pub(crate) cluster: bool,
    pub(crate) quick: bool,
    pub(crate) runs: usize,
    pub(crate) secs: f64,
    pub(crate) consume_mib: f64,
    pub(crate) latency_rate: f64,
    pub(crate) latency_secs: f64,
    pub(crate) startup_runs: usize,
    pub(crate) only: Vec<String>,
    pub(crate) out: Option<PathBuf>,
    pub(crate) label: Option<String>,
    pub(crate) producer_config: Vec<(String, String)>,
    pub(crate) consumer_config: Vec<(String, String)>,
    /// `-X`: every client's
    pub(crate) client_config: Vec<(String, String)>,
    pub(crate) broker_tls: Option<PathBuf>,
}

impl Opts {
    /// Whether the clients speak TLS (`-X security.protocol=ssl` or `sasl_ssl`); the
    /// readiness probe then does too.
    pub(crate) fn client_tls(&self) -> bool {
        self.client_config
            .iter()
            .rev()
            .find(|(k, _)| k == "security.protocol")
            .is_some_and(|(_, v)| {
                v.eq_ignore_ascii_case("ssl") || v.eq_ignore_ascii_case("sasl_ssl")
            })
    }
}

fn kv(s: &str) -> Result<(String, String)> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| anyhow!("expected name=value, got {s}"))?;
    Ok((k.to_string(), v.to_string()))
}

fn parse_args() -> Result<Opts> {
    let mut o = Opts {
        bootstrap: None,
        broker_bin: None,
        broker_pids: Vec::new(),
        controller_pid: None,
        cluster: false,
        quick: false,
        runs: 5,
        secs: 3.0,
        consume_mib: 256.0,
        latency_rate: 50_000.0,
        latency_secs: 5.0,
        startup_runs: 5,
        only: Vec::new(),
        out: None,
        label: None,
        producer_config: Vec::new(),
        consumer_config: Vec::new(),
        client_config: Vec::new(),
        broker_tls: None,
    };
    let mut explicit = std::collections::HashSet::new();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        // kcat's spelling: `-X key=value`, or `-Xkey=value`
        if let Some(rest) = a.strip_prefix("-X") {
            let v = if rest.is_empty() {
                it.next().ok_or_else(|| anyhow!("-X needs key=value"))?
            } else {
                rest.to_string()
            };
            o.client_config.push(kv(&v)?);
            continue;
        }
        let (key, inline) = match a.split_once('=').filter(|_| a.starts_with("--")) {
            Some((k, v)) if k.starts_with("--") => (k.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut val = |name: &str| -> Result<String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => it.next().ok_or_else(|| anyhow!("{name} needs a value")),
            }
        };
        explicit.insert(key.clone());
        match key.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            "--bootstrap" => o.bootstrap = Some(val(&key)?),
            "--broker-bin" => o.broker_bin = Some(PathBuf::from(val(&key)?)),
            "--broker-pid" => o.broker_pids.push(val(&key)?.parse()?),
            "--controller-pid" => o.controller_pid = Some(val(&key)?.parse()?),
            "--cluster" => o.cluster = true,
            "--quick" => o.quick = true,
            "--runs" => o.runs = val(&key)?.parse()?,
            "--secs" => o.secs = val(&key)?.parse()?,
            "--consume-mib" => o.consume_mib = val(&key)?.parse()?,
            "--latency-rate" => o.latency_rate = val(&key)?.parse()?,
            "--latency-secs" => o.latency_secs = val(&key)?.parse()?,
            "--startup-runs" => o.startup_runs = val(&key)?.parse()?,
            "--only" => o.only.push(val(&key)?),
            "--out" => o.out = Some(PathBuf::from(val(&key)?)),
            "--label" => o.label = Some(val(&key)?),
            "--producer-config" => o.producer_config.push(kv(&val(&key)?)?),
            "--consumer-config" => o.consumer_config.push(kv(&val(&key)?)?),
            "--broker-tls" => o.broker_tls = Some(PathBuf::from(val(&key)?)),
            _ => bail!("unknown argument {a}\n\n{USAGE}"),
        }
    }
    if o.cluster && !explicit.contains("--latency-rate") {
        // Records go one at a time (linger.ms=0) and each acks=all request waits for the
        // followers; on the two-core development machine neither weir's cluster nor Kafka's
        // (four JVMs) kept up with 5,000/s, and latency measured behind a growing queue is the
        // queue's. See docs/benchmarks.md, "Cluster mode".
        o.latency_rate = 1_000.0;
    }
    if o.quick {
        // Tiny volumes, one run each: a smoke test that finishes in seconds.
        if !explicit.contains("--runs") {
            o.runs = 1;
        }
        if !explicit.contains("--consume-mib") {
            o.consume_mib = 2.0;
        }
        if !explicit.contains("--latency-rate") {
            o.latency_rate = if o.cluster { 1_000.0 } else { 5_000.0 };
        }
        if !explicit.contains("--latency-secs") {
            o.latency_secs = 1.0;
        }
        if !explicit.contains("--startup-runs") {
            o.startup_runs = 1;
        }
    }
    if o.runs == 0 {
        bail!("--runs must be at least 1");
    }
    if o.bootstrap.is_some() && o.broker_bin.is_some() {
        bail!("give --bootstrap or --broker-bin, not both");
    }
    if o.controller_pid.is_some() && !o.cluster {
        bail!("--controller-pid needs --cluster");
    }
    if o.broker_tls.is_some() {
        if o.broker_bin.is_none() || o.cluster {
            bail!("--broker-tls needs --broker-bin (one broker started here; not --cluster)");
        }
        if !o.client_tls() {
            bail!("--broker-tls: give the clients -X security.protocol=ssl (and -X ssl.ca.location=CA.pem)");
        }
    }
    if o.bootstrap.is_none() && o.broker_bin.is_none() {
        bail!("give --bootstrap HOST:PORT or --broker-bin PATH (scripts/bench does this)");
    }
    Ok(o)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let res = if args.first().map(String::as_str) == Some("--compare") {
        compare::main(&args[1..])
    } else {
        real_main()
    };
    if let Err(e) = res {
        eprintln!("weir-bench: {e:#}");
        std::process::exit(1);
    }
}

fn real_main() -> Result<()> {
    let o = parse_args()?;
    let started = Instant::now();
    let mut facts = empty_facts(&o);

    // Start weir (unless aimed at running brokers), then wait for a cluster's brokers.
    let (mut nodes, bootstrap) = start(&o, &mut facts)?;
    let mut admin_cfg = ClientConfig::new();
    admin_cfg.set("bootstrap.servers", &bootstrap);
    for (k, v) in &o.client_config {
        admin_cfg.set(k, v);
    }
    let admin: AdminClient<DefaultClientContext> = admin_cfg.create()?;
    if o.cluster {
        let n = match await_brokers(admin.inner(), 60) {
            Ok(n) => n,
            Err(e) => {
                if let Some(t) = nodes.log_tails() {
                    eprintln!("{t}");
                }
                return Err(e);
            }
        };
        if o.bootstrap.is_none() {
            facts.cluster_start_ms = Some(started.elapsed().as_secs_f64() * 1e3);
        }
        eprintln!("Metadata lists {n} brokers");
    }
    let pids = nodes.broker_pids();
    facts.pid = pids.first().copied().filter(|_| pids.len() == 1);
    if pids.len() > 1 {
        facts.pids = pids.clone();
    }
    facts.controller_pid = nodes.controller_pid();
    if o.bootstrap.is_none() {
        idle(&o, &nodes, &mut facts);
    }
    let env = Env {
        bootstrap: bootstrap.clone(),
        broker_pids: pids.iter().map(|p| p.to_string()).collect(),
        controller_pid: facts.controller_pid.map(|p| p.to_string()),
        cluster: o.cluster,
        admin,
        topic_seq: AtomicU64::new(0),
        producer_config: o.producer_config.clone(),
        consumer_config: o.consumer_config.clone(),
        client_config: o.client_config.clone(),
    };

    let all = scenarios(o.cluster);
    let chosen: Vec<Scenario> = all
        .into_iter()
        .filter(|s| o.only.is_empty() || o.only.iter().any(|t| s.name.contains(t.as_str())))
        .collect();
    if chosen.is_empty() {
        bail!("no scenario matches --only {:?}", o.only);
    }
    // A failed scenario (a broker that refuses a topic, say) is reported and the run goes
    // on, so one gap does not cost a whole comparison; the exit status still says so.
    let mut outcomes = Vec::new();
    let mut failed = 0;
    for (i, sc) in chosen.iter().enumerate() {
        let t = Instant::now();
        eprint!("[{}/{}] {} ... ", i + 1, chosen.len(), sc.name);
        let out = match run_scenario(&env, &o, sc) {
            Ok(x) => x,
            Err(e) => {
                eprintln!("failed: {e:#}");
                failed += 1;
                outcomes.push(Outcome::failed(sc, format!("{e:#}")));
                if let Some(t) = nodes.log_tails() {
                    eprintln!("broker log tail:\n{t}");
                }
                if nodes.has_exited() {
                    eprintln!("weir-bench: a broker has exited; stopping");
                    break;
                }
                continue;
            }
        };
        let g = |k: &str| out.median.get(k).copied();
        eprintln!(
            "{} rec/s, {} MiB/s, broker/client CPU {} ({:.1}s)",
            fmt_rate(g("records_per_s")),
            fmt(g("mib_per_s"), 1),
            fmt(g("broker_to_client_cpu"), 2),
            t.elapsed().as_secs_f64()
        );
        outcomes.push(out);
    }

    let rss: Option<Vec<u64>> = env
        .broker_pids
        .iter()
        .map(|p| status_kib(p, "VmRSS:"))
        .collect();
    if let Some(rss) = rss.filter(|r| !r.is_empty()) {
        facts.final_rss_kib = rss.iter().copied().max();
        if rss.len() > 1 {
            facts.final_rss_kib_each = rss;
        }
    }
    facts.total_cpu_s = env.brokers_cpu();
    drop(env);

    let tbl = table(&outcomes);
    println!();
    print!("{tbl}");
    println!();
    if let Some(m) = facts.startup_to_api_versions_ms_median {
        println!(
            "broker start to first ApiVersions answer: {m:.1} ms (median of {}; empty data dir)",
            facts.startup_to_api_versions_ms.len()
        );
    }
    if let Some(m) = facts.cluster_start_ms {
        println!("cluster start (controller spawned to Metadata listing every broker): {m:.0} ms");
    }
    let mib = |k: u64| format!("{:.1}", k as f64 / 1024.0);
    if let Some(k) = facts.idle_rss_kib {
        match facts.idle_rss_kib_each.len() {
            0 | 1 => println!("broker idle RSS: {} MiB", mib(k)),
            _ => {
                let each: Vec<String> = facts.idle_rss_kib_each.iter().map(|&k| mib(k)).collect();
                println!("broker idle RSS: {} MiB (each broker)", each.join(" / "));
            }
        }
    }
    if let Some(k) = facts.controller_idle_rss_kib {
        println!("controller idle RSS: {} MiB", mib(k));
    }
    if let Some(c) = facts.idle_cpu_s_per_s {
        let all = if pids.len() > 1 { " (all brokers)" } else { "" };
        println!("broker idle CPU: {:.2}% of a core{all}", c * 100.0);
    }
    if pids.is_empty() {
        println!("(no --broker-pid: broker CPU and RSS not measured)");
    }
    if o.cluster {
        println!(
            "cluster mode: broker CPU is summed over the {} brokers and excludes the \
             controller-only node ({}); peak memory is the largest broker's",
            pids.len(),
            if facts.controller_pid.is_some() {
                "its own column"
            } else {
                "not measured"
            }
        );
    }

    let report = Report {
        tool: "weir-bench",
        label: o.label.clone(),
        bootstrap,
        quick: o.quick,
        cluster: o.cluster,
        runs: o.runs,
        secs_per_run: o.secs,
        consume_mib: o.consume_mib,
        latency_rate: o.latency_rate,
        latency_secs: o.latency_secs,
        host: host_facts(),
        client_config: {
            let mut m: BTreeMap<String, String> = [
                ("produce linger.ms", "5 (0 in latency scenarios)"),
                ("consume fetch.queue.backoff.ms", "10"),
                ("compression.type", "none (lz4 in the lz4 rows)"),
                (
                    "legacy-magic0 rows",
                    "api.version.request=false, broker.version.fallback=0.9.0 \
                     (Produce v1 / Fetch v1, magic-0 message sets)",
                ),
                ("enable.idempotence", "false"),
                ("other", "librdkafka defaults"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            // -X settings: every client's, applied after the tool's own
            for (k, v) in &o.client_config {
                m.insert(format!("-X {k}"), v.clone());
            }
            m
        },
        broker_tls: o.broker_tls.is_some(),
        producer_config_overrides: o.producer_config.clone(),
        consumer_config_overrides: o.consumer_config.clone(),
        broker: facts,
        scenarios: outcomes,
    };
    let out = match &o.out {
        Some(p) => p.clone(),
        None => std::env::temp_dir().join(format!("weir-bench-{}.json", std::process::id())),
    };
    std::fs::write(&out, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("writing {}", out.display()))?;
    nodes.stop();
    println!(
        "total {:.0} s; JSON written to {}",
        started.elapsed().as_secs_f64(),
        out.display()
    );
    if failed > 0 {
        bail!("{failed} of {} scenarios failed", chosen.len());
    }
    Ok(())
}
