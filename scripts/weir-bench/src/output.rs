//! The report: the Markdown table printed at the end, and the JSON written beside it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::procfs::status_kib;
use crate::scenarios::Outcome;

pub(crate) fn fmt(x: Option<f64>, prec: usize) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v:.prec$}"),
        _ => "-".into(),
    }
}

pub(crate) fn fmt_rate(x: Option<f64>) -> String {
    match x {
        Some(v) if v.is_finite() => {
            // thousands separators
            let s = format!("{:.0}", v);
            let mut out = String::new();
            for (i, ch) in s.chars().enumerate() {
                if i > 0 && (s.len() - i) % 3 == 0 {
                    out.push(',');
                }
                out.push(ch);
            }
            out
        }
        _ => "-".into(),
    }
}

pub(crate) const HEADER: [&str; 12] = [
    "scenario",
    "records/s",
    "MiB/s",
    "p50 ms",
    "p99 ms",
    "p99.9 ms",
    "broker CPU s/GiB",
    "client CPU s/GiB",
    "broker/client CPU",
    "broker peak RSS MiB",
    "broker peak anon MiB",
    "runs",
];

pub(crate) fn row(o: &Outcome) -> Vec<String> {
    let g = |k: &str| o.median.get(k).copied();
    let name = match o.error {
        Some(_) => format!("{} (failed)", o.scenario.name),
        None => o.scenario.name.clone(),
    };
    vec![
        name,
        fmt_rate(g("records_per_s")),
        fmt(g("mib_per_s"), 1),
        fmt(g("p50_ms"), 2),
        fmt(g("p99_ms"), 2),
        fmt(g("p999_ms"), 2),
        fmt(g("broker_cpu_s_per_gib"), 2),
        fmt(g("client_cpu_s_per_gib"), 2),
        fmt(g("broker_to_client_cpu"), 2),
        fmt(o.broker_peak_rss_kib.map(|k| k as f64 / 1024.0), 1),
        fmt(o.broker_peak_anon_kib.map(|k| k as f64 / 1024.0), 1),
        o.runs.len().to_string(),
    ]
}

/// A Markdown table (readable as plain text too). In cluster mode broker figures are the
/// brokers' (CPU summed, memory the largest broker's) and a column gives the controller's CPU.
pub(crate) fn table(outcomes: &[Outcome]) -> String {
    let mut header: Vec<String> = HEADER.iter().map(|s| s.to_string()).collect();
    let mut rows: Vec<Vec<String>> = outcomes.iter().map(row).collect();
    let ctl = |o: &Outcome| o.median.get("controller_cpu_s_per_gib").copied();
    if outcomes.iter().any(|o| ctl(o).is_some()) {
        // after "broker CPU s/GiB"
        header.insert(7, "controller CPU s/GiB".into());
        for (r, o) in rows.iter_mut().zip(outcomes) {
            r.insert(7, fmt(ctl(o), 2));
        }
    }
    let mut w: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.len());
        }
    }
    let line = |cells: Vec<String>| -> String {
        let mut s = String::from("|");
        for (i, c) in cells.iter().enumerate() {
            if i == 0 {
                s += &format!(" {:<w$} |", c, w = w[i]);
            } else {
                s += &format!(" {:>w$} |", c, w = w[i]);
            }
        }
        s + "\n"
    };
    let mut out = line(header);
    let mut sep = String::from("|");
    for (i, wi) in w.iter().enumerate() {
        sep += &if i == 0 {
            format!("{}|", "-".repeat(wi + 2))
        } else {
            format!("{}:|", "-".repeat(wi + 1))
        };
    }
    out += &sep;
    out += "\n";
    for r in rows {
        out += &line(r);
    }
    out
}

#[derive(Serialize)]
pub(crate) struct BrokerFacts {
    pub(crate) started_by_bench: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pid: Option<i32>,
    /// cluster mode, or several --broker-pid: every broker measured
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) pids: Vec<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) controller_pid: Option<i32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) startup_to_api_versions_ms: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) startup_to_api_versions_ms_median: Option<f64>,
    /// cluster started here: from the controller's spawn until Metadata lists every broker
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cluster_start_ms: Option<f64>,
    /// the largest broker's, in cluster mode
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) idle_rss_kib: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) idle_rss_kib_each: Vec<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) controller_idle_rss_kib: Option<u64>,
    /// summed over the brokers, in cluster mode
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) idle_cpu_s_per_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) final_rss_kib: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) final_rss_kib_each: Vec<u64>,
    /// summed over the brokers
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) total_cpu_s: Option<f64>,
}

#[derive(Serialize)]
pub(crate) struct Report {
    pub(crate) tool: &'static str,
    pub(crate) label: Option<String>,
    pub(crate) bootstrap: String,
    pub(crate) quick: bool,
    /// three brokers, replication factor 3, min.insync.replicas 2
    pub(crate) cluster: bool,
    pub(crate) runs: usize,
    pub(crate) secs_per_run: f64,
    pub(crate) consume_mib: f64,
    pub(crate) latency_rate: f64,
    pub(crate) latency_secs: f64,
    pub(crate) host: BTreeMap<&'static str, String>,
    pub(crate) client_config: BTreeMap<String, String>,
    /// the broker started here had one SSL listener (`--broker-tls`)
    pub(crate) broker_tls: bool,
    pub(crate) producer_config_overrides: Vec<(String, String)>,
    pub(crate) consumer_config_overrides: Vec<(String, String)>,
    pub(crate) broker: BrokerFacts,
    pub(crate) scenarios: Vec<Outcome>,
}

pub(crate) fn host_facts() -> BTreeMap<&'static str, String> {
    let mut h = BTreeMap::new();
    h.insert(
        "cpus",
        std::thread::available_parallelism()
            .map(|n| n.to_string())
            .unwrap_or_default(),
    );
    if let Ok(s) = std::fs::read_to_string("/proc/cpuinfo") {
        if let Some(l) = s.lines().find(|l| l.starts_with("model name")) {
            h.insert(
                "cpu_model",
                l.split(':').nth(1).unwrap_or("").trim().to_string(),
            );
        }
    }
    if let Ok(s) = std::fs::read_to_string("/proc/sys/kernel/osrelease") {
        h.insert("kernel", s.trim().to_string());
    }
    if let Some(k) = status_kib("self", "VmRSS:").and(std::fs::read_to_string("/proc/meminfo").ok())
    {
        if let Some(l) = k.lines().next() {
            h.insert(
                "mem_total",
                l.split(':').nth(1).unwrap_or("").trim().to_string(),
            );
        }
    }
    let (_, v) = rdkafka::util::get_rdkafka_version();
    h.insert("librdkafka", v);
    h
}
