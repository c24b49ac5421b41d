//! The brokers under test: one weir started here, a weir cluster started here, or brokers
//! that run already (`--bootstrap`, with their PIDs from `--broker-pid`); and the facts
//! measured before the scenarios (start time, idle memory and CPU).

use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use crate::broker::{api_versions, start_broker, Broker};
use crate::cluster::{start_cluster, Cluster};
use crate::output::BrokerFacts;
use crate::procfs::{cpu_secs, status_kib};
use crate::scenarios::median;
use crate::Opts;

pub(crate) enum Nodes {
    External {
        pids: Vec<i32>,
        controller: Option<i32>,
    },
    Single(Broker),
    Cluster(Cluster),
}

impl Nodes {
    pub(crate) fn broker_pids(&self) -> Vec<i32> {
        match self {
            Nodes::External { pids, .. } => pids.clone(),
            Nodes::Single(b) => vec![b.pid()],
            Nodes::Cluster(c) => c.brokers.iter().map(Broker::pid).collect(),
        }
    }

    pub(crate) fn controller_pid(&self) -> Option<i32> {
        match self {
            Nodes::External { controller, .. } => *controller,
            Nodes::Single(_) => None,
            Nodes::Cluster(c) => Some(c.controller.pid()),
        }
    }

    /// The last lines of each started node's log (nothing for external brokers).
    pub(crate) fn log_tails(&self) -> Option<String> {
        match self {
            Nodes::External { .. } => None,
            Nodes::Single(b) => Some(b.log_tail()),
            Nodes::Cluster(c) => Some(c.log_tails()),
        }
    }

    /// Whether a node started here has exited.
    pub(crate) fn has_exited(&mut self) -> bool {
        match self {
            Nodes::External { .. } => false,
            Nodes::Single(b) => b.has_exited(),
            Nodes::Cluster(c) => c.has_exited(),
        }
    }

    /// Stops what was started here, by PID.
    pub(crate) fn stop(&mut self) {
        match self {
            Nodes::External { .. } => {}
            Nodes::Single(b) => b.stop(),
            Nodes::Cluster(c) => c.stop(),
        }
    }
}

pub(crate) fn empty_facts(o: &Opts) -> BrokerFacts {
    BrokerFacts {
        started_by_bench: o.bootstrap.is_none(),
        pid: None,
        pids: Vec::new(),
        controller_pid: None,
        startup_to_api_versions_ms: Vec::new(),
        startup_to_api_versions_ms_median: None,
        cluster_start_ms: None,
        idle_rss_kib: None,
        idle_rss_kib_each: Vec::new(),
        controller_idle_rss_kib: None,
        idle_cpu_s_per_s: None,
        final_rss_kib: None,
        final_rss_kib_each: Vec::new(),
        total_cpu_s: None,
    }
}

/// Starts weir (one broker or a cluster) unless aimed at running brokers; returns the
/// nodes and the bootstrap list. A single weir is first started `--startup-runs - 1` times
/// on empty data dirs to time its start. A cluster's start is timed by the caller, up to
/// Metadata listing every broker.
pub(crate) fn start(o: &Opts, facts: &mut BrokerFacts) -> Result<(Nodes, String)> {
    if let Some(b) = &o.bootstrap {
        // Fail fast (librdkafka would retry for a minute) if nothing answers there.
        let first = b.split(',').next().unwrap_or("").trim();
        let deadline = Instant::now() + Duration::from_secs(5);
        while let Err(e) = api_versions(first, o.client_tls()) {
            if Instant::now() > deadline {
                bail!("no ApiVersions answer from {first}: {e:#}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let nodes = Nodes::External {
            pids: o.broker_pids.clone(),
            controller: o.controller_pid,
        };
        return Ok((nodes, b.clone()));
    }
    let bin = o.broker_bin.clone().unwrap();
    if o.cluster {
        let c = start_cluster(&bin)?;
        eprintln!(
            "weir cluster: controller pid {} (data in {}), brokers {} (pids {:?})",
            c.controller.pid(),
            c.controller.dir.display(),
            c.bootstrap,
            c.brokers.iter().map(Broker::pid).collect::<Vec<_>>()
        );
        let boot = c.bootstrap.clone();
        return Ok((Nodes::Cluster(c), boot));
    }
    let mut times = Vec::new();
    for _ in 1..o.startup_runs.max(1) {
        let (mut b, _, t) = start_broker(&bin, o.broker_tls.as_deref())?;
        times.push(t.as_secs_f64() * 1e3);
        b.stop();
    }
    let (b, addr, t) = start_broker(&bin, o.broker_tls.as_deref())?;
    times.push(t.as_secs_f64() * 1e3);
    eprintln!(
        "weir pid {} on {}{addr}, data in {}",
        b.pid(),
        if o.broker_tls.is_some() { "SSL://" } else { "" },
        b.dir.display()
    );
    facts.startup_to_api_versions_ms_median = Some(median(times.clone()));
    facts.startup_to_api_versions_ms = times;
    Ok((Nodes::Single(b), addr))
}

/// Idle figures of brokers started here: RSS one second after they answer (the largest
/// broker's, and each), then CPU over 3 s (1 s with --quick; /proc counts in 10 ms ticks),
/// summed over the brokers.
pub(crate) fn idle(o: &Opts, nodes: &Nodes, facts: &mut BrokerFacts) {
    let pids: Vec<String> = nodes.broker_pids().iter().map(|p| p.to_string()).collect();
    std::thread::sleep(Duration::from_secs(1));
    let rss: Option<Vec<u64>> = pids.iter().map(|p| status_kib(p, "VmRSS:")).collect();
    if let Some(rss) = rss {
        facts.idle_rss_kib = rss.iter().copied().max();
        if rss.len() > 1 {
            facts.idle_rss_kib_each = rss;
        }
    }
    facts.controller_idle_rss_kib = nodes
        .controller_pid()
        .and_then(|p| status_kib(&p.to_string(), "VmRSS:"));
    let sum = || -> Option<f64> { pids.iter().map(|p| cpu_secs(p)).sum() };
    let c0 = sum();
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(if o.quick { 1 } else { 3 }));
    if let (Some(a), Some(b)) = (c0, sum()) {
        facts.idle_cpu_s_per_s = Some((b - a) / t0.elapsed().as_secs_f64());
    }
}
