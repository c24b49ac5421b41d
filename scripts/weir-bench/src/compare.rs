//! `weir-bench --compare A.json B.json`: two reports' scenarios side by side, the medians of
//! each and B/A. `scripts/bench --tls-compare` uses it for plaintext against TLS.

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::output::{fmt, fmt_rate};

struct Report {
    label: String,
    v: Value,
}

impl Report {
    fn load(path: &str, label: String) -> Result<Report> {
        let s = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
        let v: Value = serde_json::from_str(&s).with_context(|| format!("parsing {path}"))?;
        Ok(Report { label, v })
    }

    fn scenarios(&self) -> Vec<&Value> {
        self.v["scenarios"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    }

    fn scenario(&self, name: &str) -> Option<&Value> {
        self.scenarios()
            .into_iter()
            .find(|s| s["name"].as_str() == Some(name))
    }

    fn broker(&self, key: &str) -> Option<f64> {
        self.v["broker"][key].as_f64()
    }
}

fn median(s: Option<&Value>, key: &str) -> Option<f64> {
    s.and_then(|s| s["median"][key].as_f64())
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if a > 0.0 && a.is_finite() && b.is_finite() => format!("{:.2}", b / a),
        _ => "-".into(),
    }
}

/// A Markdown table, the first column left-aligned and the others right-aligned.
fn table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut w: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.len());
        }
    }
    let line = |cells: &[String]| -> String {
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
    out += "|";
    for (i, wi) in w.iter().enumerate() {
        out += &if i == 0 {
            format!("{}|", "-".repeat(wi + 2))
        } else {
            format!("{}:|", "-".repeat(wi + 1))
        };
    }
    out += "\n";
    for r in rows {
        out += &line(r);
    }
    out
}

pub(crate) fn main(args: &[String]) -> Result<()> {
    let mut files = Vec::new();
    let mut labels = vec!["A".to_string(), "B".to_string()];
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--compare-labels" => {
                let v = it.next().context("--compare-labels needs A,B")?;
                labels = v.split(',').map(str::to_string).collect();
                if labels.len() != 2 {
                    bail!("--compare-labels needs two labels, A,B");
                }
            }
            f => files.push(f.to_string()),
        }
    }
    if files.len() != 2 {
        bail!("usage: weir-bench --compare A.json B.json [--compare-labels A,B]");
    }
    let a = Report::load(&files[0], labels[0].clone())?;
    let b = Report::load(&files[1], labels[1].clone())?;
    let (la, lb) = (&a.label, &b.label);
    let vs = format!("{lb}/{la}");

    // Throughput rows (produce, consume), then latency rows, in A's order.
    let th_header: Vec<String> = vec![
        "scenario".into(),
        format!("MiB/s {la}"),
        format!("MiB/s {lb}"),
        vs.clone(),
        format!("records/s {la}"),
        format!("records/s {lb}"),
        format!("broker CPU s/GiB {la}"),
        format!("broker CPU s/GiB {lb}"),
        vs.clone(),
        format!("client CPU s/GiB {la}"),
        format!("client CPU s/GiB {lb}"),
    ];
    let lat_header: Vec<String> = vec![
        "scenario".into(),
        format!("p50 ms {la}"),
        format!("p50 ms {lb}"),
        format!("p99 ms {la}"),
        format!("p99 ms {lb}"),
        format!("p99.9 ms {la}"),
        format!("p99.9 ms {lb}"),
        format!("broker CPU s/GiB {la}"),
        format!("broker CPU s/GiB {lb}"),
    ];
    let mut th = Vec::new();
    let mut lat = Vec::new();
    for sa in a.scenarios() {
        let Some(name) = sa["name"].as_str() else {
            continue;
        };
        let sb = b.scenario(name);
        let sa = Some(sa);
        let g = |s: Option<&Value>, k: &str| median(s, k);
        if sa.is_some_and(|s| s["kind"].as_str() == Some("latency")) {
            lat.push(vec![
                name.to_string(),
                fmt(g(sa, "p50_ms"), 2),
                fmt(g(sb, "p50_ms"), 2),
                fmt(g(sa, "p99_ms"), 2),
                fmt(g(sb, "p99_ms"), 2),
                fmt(g(sa, "p999_ms"), 2),
                fmt(g(sb, "p999_ms"), 2),
                fmt(g(sa, "broker_cpu_s_per_gib"), 1),
                fmt(g(sb, "broker_cpu_s_per_gib"), 1),
            ]);
        } else {
            th.push(vec![
                name.to_string(),
                fmt(g(sa, "mib_per_s"), 1),
                fmt(g(sb, "mib_per_s"), 1),
                ratio(g(sa, "mib_per_s"), g(sb, "mib_per_s")),
                fmt_rate(g(sa, "records_per_s")),
                fmt_rate(g(sb, "records_per_s")),
                fmt(g(sa, "broker_cpu_s_per_gib"), 2),
                fmt(g(sb, "broker_cpu_s_per_gib"), 2),
                ratio(g(sa, "broker_cpu_s_per_gib"), g(sb, "broker_cpu_s_per_gib")),
                fmt(g(sa, "client_cpu_s_per_gib"), 2),
                fmt(g(sb, "client_cpu_s_per_gib"), 2),
            ]);
        }
    }
    let missing: Vec<&str> = b
        .scenarios()
        .into_iter()
        .filter_map(|s| s["name"].as_str())
        .filter(|n| a.scenario(n).is_none())
        .collect();

    println!("{la}: {}", files[0]);
    println!("{lb}: {}", files[1]);
    println!();
    if !th.is_empty() {
        print!("{}", table(&th_header, &th));
        println!();
    }
    if !lat.is_empty() {
        print!("{}", table(&lat_header, &lat));
        println!();
    }
    if !missing.is_empty() {
        println!("only in {lb}: {}", missing.join(", "));
    }
    let facts = [
        (
            "broker start to first ApiVersions answer, ms",
            "startup_to_api_versions_ms_median",
            1.0,
            1,
        ),
        ("broker idle RSS, MiB", "idle_rss_kib", 1.0 / 1024.0, 1),
        (
            "broker RSS at the end, MiB",
            "final_rss_kib",
            1.0 / 1024.0,
            1,
        ),
        ("broker CPU over the whole run, s", "total_cpu_s", 1.0, 1),
    ];
    for (what, key, scale, prec) in facts {
        let (x, y) = (
            a.broker(key).map(|v| v * scale),
            b.broker(key).map(|v| v * scale),
        );
        if x.is_some() || y.is_some() {
            println!("{what}: {la} {}, {lb} {}", fmt(x, prec), fmt(y, prec));
        }
    }
    Ok(())
}
