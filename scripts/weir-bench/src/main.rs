//! weir-bench: drives a Kafka-protocol broker with librdkafka (through the `rdkafka` crate)
//! and measures throughput, latency and the broker's own costs from /proc.
//!
//! Run it through `scripts/bench`, which builds this tool and (unless `--bootstrap` is
//! given) builds weir and passes `--broker-bin`. See docs/benchmarks.md.

mod broker;
mod clients;
mod measure;
mod output;
mod procfs;
mod scenarios;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;

use crate::broker::{api_versions, start_broker};
use crate::clients::Env;
use crate::output::{fmt, fmt_rate, host_facts, table, BrokerFacts, Report};
use crate::procfs::{cpu_secs, status_kib};
use crate::scenarios::{median, run_scenario, scenarios, Outcome, Scenario};

pub(crate) const MIB: f64 = 1024.0 * 1024.0;
pub(crate) const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

const USAGE: &str = "\
weir-bench: benchmark a Kafka-protocol broker with librdkafka

usage: scripts/bench [options]
  --bootstrap HOST:PORT  benchmark a running broker (default: start weir from --broker-bin)
  --broker-bin PATH      broker binary to start (scripts/bench passes target/release/weir)
  --broker-pid PID       with --bootstrap: read this process's /proc for broker costs
  --quick                smoke test: tiny volumes, no warm-up, one run each (seconds)
  --runs N               measured runs per scenario, median reported (default 5)
  --secs S               seconds per measured produce or consume run (default 3)
  --consume-mib N        MiB written first per consume scenario (then topped up so a
                         read lasts --secs; default 256)
  --latency-rate R       records/s for the latency scenarios (default 50000)
  --latency-secs S       seconds per latency run (default 5)
  --startup-runs N       broker starts timed to the first ApiVersions answer (default 5)
  --only TEXT            run only scenarios whose name contains TEXT (repeatable)
  --out PATH             JSON output (default: a file in the temp dir, printed at the end)
  --label TEXT           free text stored in the JSON (e.g. the broker's git revision)
  --producer-config K=V  librdkafka producer setting, after the tool's own (repeatable)
  --consumer-config K=V  librdkafka consumer setting, after the tool's own (repeatable)
";

#[derive(Clone, Debug)]
pub(crate) struct Opts {
    pub(crate) bootstrap: Option<String>,
    pub(crate) broker_bin: Option<PathBuf>,
    pub(crate) broker_pid: Option<i32>,
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
        broker_pid: None,
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
    };
    let mut explicit = std::collections::HashSet::new();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
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
            "--broker-pid" => o.broker_pid = Some(val(&key)?.parse()?),
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
            _ => bail!("unknown argument {a}\n\n{USAGE}"),
        }
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
            o.latency_rate = 5_000.0;
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
    if o.bootstrap.is_none() && o.broker_bin.is_none() {
        bail!("give --bootstrap HOST:PORT or --broker-bin PATH (scripts/bench does this)");
    }
    Ok(o)
}

fn main() {
    if let Err(e) = real_main() {
        eprintln!("weir-bench: {e:#}");
        std::process::exit(1);
    }
}

fn real_main() -> Result<()> {
    let o = parse_args()?;
    let started = Instant::now();
    let mut facts = BrokerFacts {
        started_by_bench: o.bootstrap.is_none(),
        pid: None,
        startup_to_api_versions_ms: Vec::new(),
        startup_to_api_versions_ms_median: None,
        idle_rss_kib: None,
        idle_cpu_s_per_s: None,
        final_rss_kib: None,
        total_cpu_s: None,
    };

    // Start weir (unless aimed at a running broker): first a few timed starts on empty data
    // dirs, then the instance that serves the benchmark.
    let mut broker = None;
    let bootstrap = match &o.bootstrap {
        Some(b) => {
            // Fail fast (librdkafka would retry for a minute) if nothing answers there.
            let first = b.split(',').next().unwrap_or("").trim();
            let deadline = Instant::now() + Duration::from_secs(5);
            while let Err(e) = api_versions(first) {
                if Instant::now() > deadline {
                    bail!("no ApiVersions answer from {first}: {e:#}");
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            facts.pid = o.broker_pid;
            b.clone()
        }
        None => {
            let bin = o.broker_bin.clone().unwrap();
            let mut times = Vec::new();
            for _ in 1..o.startup_runs.max(1) {
                let (mut b, _, t) = start_broker(&bin)?;
                times.push(t.as_secs_f64() * 1e3);
                b.stop();
            }
            let (b, addr, t) = start_broker(&bin)?;
            times.push(t.as_secs_f64() * 1e3);
            let pid = b.pid();
            eprintln!("weir pid {pid} on {addr}, data in {}", b.dir.display());
            let p = pid.to_string();
            // Idle: RSS one second after the first answer, then idle CPU over 3 s (1 s
            // with --quick; /proc counts in 10 ms ticks).
            std::thread::sleep(Duration::from_secs(1));
            facts.idle_rss_kib = status_kib(&p, "VmRSS:");
            let c0 = cpu_secs(&p);
            let t0 = Instant::now();
            std::thread::sleep(Duration::from_secs(if o.quick { 1 } else { 3 }));
            if let (Some(a), Some(b2)) = (c0, cpu_secs(&p)) {
                facts.idle_cpu_s_per_s = Some((b2 - a) / t0.elapsed().as_secs_f64());
            }
            facts.startup_to_api_versions_ms_median = Some(median(times.clone()));
            facts.startup_to_api_versions_ms = times;
            facts.pid = Some(pid);
            broker = Some(b);
            addr
        }
    };

    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()?;
    let env = Env {
        bootstrap: bootstrap.clone(),
        broker_pid: facts.pid.map(|p| p.to_string()),
        admin,
        topic_seq: AtomicU64::new(0),
        producer_config: o.producer_config.clone(),
        consumer_config: o.consumer_config.clone(),
    };

    let all = scenarios();
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
                if let Some(b) = &mut broker {
                    eprintln!("broker log tail:\n{}", b.log_tail());
                    if b.has_exited() {
                        eprintln!("weir-bench: the broker has exited; stopping");
                        break;
                    }
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

    if let Some(p) = env.broker_pid.as_deref() {
        facts.final_rss_kib = status_kib(p, "VmRSS:");
        facts.total_cpu_s = cpu_secs(p);
    }
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
    if let Some(k) = facts.idle_rss_kib {
        println!("broker idle RSS: {:.1} MiB", k as f64 / 1024.0);
    }
    if let Some(c) = facts.idle_cpu_s_per_s {
        println!("broker idle CPU: {:.2}% of a core", c * 100.0);
    }
    if facts.pid.is_none() {
        println!("(no --broker-pid: broker CPU and RSS not measured)");
    }

    let report = Report {
        tool: "weir-bench",
        label: o.label.clone(),
        bootstrap,
        quick: o.quick,
        runs: o.runs,
        secs_per_run: o.secs,
        consume_mib: o.consume_mib,
        latency_rate: o.latency_rate,
        latency_secs: o.latency_secs,
        host: host_facts(),
        client_config: BTreeMap::from([
            ("produce linger.ms", "5 (0 in latency scenarios)"),
            ("consume fetch.queue.backoff.ms", "10"),
            ("compression.type", "none"),
            ("enable.idempotence", "false"),
            ("other", "librdkafka defaults"),
        ]),
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
    if let Some(mut b) = broker {
        b.stop();
    }
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
