//! The scenario list, and one scenario run: its topic, a warm-up, the measured runs and
//! their medians.

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Serialize;

use crate::clients::{Client, Env, Flavor};
use crate::measure::{consume, latency, produce, Limit, Run};
use crate::procfs::{reset_peak_rss, status_kib, AnonSampler};
use crate::{Opts, GIB, MIB};

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    Produce,
    Consume,
    Latency,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Scenario {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) record_bytes: usize,
    pub(crate) acks: Option<i32>,
    pub(crate) partitions: i32,
    pub(crate) clients: usize,
    /// what the measured clients speak: `modern`, or `legacy-0.9.0` (magic-0 message sets;
    /// a consume scenario's topic is still filled by modern producers)
    pub(crate) client: Client,
    /// the producers' `compression.type` (the consume fill's too)
    pub(crate) compression: &'static str,
}

impl Scenario {
    fn flavor(&self) -> Flavor {
        Flavor {
            client: self.client,
            compression: self.compression,
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Outcome {
    #[serde(flatten)]
    pub(crate) scenario: Scenario,
    /// medians of each figure over the measured runs
    pub(crate) median: BTreeMap<&'static str, f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) broker_peak_rss_kib: Option<u64>,
    /// peak anonymous RSS (heap, stacks) sampled every 20 ms during the scenario; in
    /// cluster mode the largest of the brokers' peaks
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) broker_peak_anon_kib: Option<u64>,
    /// cluster mode: each broker's peak RSS and peak anonymous RSS, in broker order
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) brokers_peak_rss_kib: Vec<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) brokers_peak_anon_kib: Vec<u64>,
    /// cluster mode: the controller-only node's peak anonymous RSS
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) controller_peak_anon_kib: Option<u64>,
    pub(crate) warmup: Option<Run>,
    pub(crate) runs: Vec<Run>,
    /// why the scenario failed; it then has no runs
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

impl Outcome {
    pub(crate) fn failed(scenario: &Scenario, error: String) -> Outcome {
        Outcome {
            scenario: scenario.clone(),
            median: BTreeMap::new(),
            broker_peak_rss_kib: None,
            broker_peak_anon_kib: None,
            brokers_peak_rss_kib: Vec::new(),
            brokers_peak_anon_kib: Vec::new(),
            controller_peak_anon_kib: None,
            warmup: None,
            runs: Vec::new(),
            error: Some(error),
        }
    }
}

pub(crate) fn size_label(size: usize) -> String {
    if size.is_multiple_of(1024) {
        format!("{}KiB", size / 1024)
    } else {
        format!("{size}B")
    }
}

/// The name's prefix for a variant: `legacy-magic0` (a legacy client), `lz4`.
fn variant(client: Client, compression: &str) -> String {
    let mut s = String::new();
    if client == Client::Legacy {
        s += "legacy-magic0 ";
    }
    if compression != "none" {
        s += compression;
        s += " ";
    }
    s
}

fn produce_row(size: usize, acks: i32, partitions: i32, clients: usize, f: Flavor) -> Scenario {
    Scenario {
        name: format!(
            "produce {}{} acks={acks} p={partitions} producers={clients}",
            variant(f.client, f.compression),
            size_label(size)
        ),
        kind: Kind::Produce,
        record_bytes: size,
        acks: Some(acks),
        partitions,
        clients,
        client: f.client,
        compression: f.compression,
    }
}

fn consume_row(size: usize, partitions: i32, f: Flavor) -> Scenario {
    Scenario {
        name: format!(
            "consume {}{} p={partitions}",
            variant(f.client, f.compression),
            size_label(size)
        ),
        kind: Kind::Consume,
        record_bytes: size,
        acks: None,
        partitions,
        clients: 1,
        client: f.client,
        compression: f.compression,
    }
}

/// The variants measured beside a plain row (1 partition, one client, acks=1): a legacy
/// client (magic 0) of the same size, and for 1 KiB an lz4 pair, modern and legacy, so the
/// cost of converting compressed message sets shows against compressed batches.
fn variants(size: usize) -> Vec<Flavor> {
    let legacy = |compression| Flavor {
        client: Client::Legacy,
        compression,
    };
    let mut v = vec![legacy("none")];
    if size == 1024 {
        v.push(Flavor {
            client: Client::Modern,
            compression: "lz4",
        });
        v.push(legacy("lz4"));
    }
    v
}

pub(crate) fn scenarios(cluster: bool) -> Vec<Scenario> {
    if cluster {
        return cluster_scenarios();
    }
    let mut v = Vec::new();
    for size in [100usize, 1024] {
        for partitions in [1, 3] {
            for acks in [1, -1] {
                for clients in [1usize, 4] {
                    v.push(produce_row(size, acks, partitions, clients, Flavor::MODERN));
                    if (partitions, acks, clients) == (1, 1, 1) {
                        for f in variants(size) {
                            v.push(produce_row(size, acks, partitions, clients, f));
                        }
                    }
                }
            }
        }
    }
    for size in [100usize, 1024] {
        for partitions in [1, 3] {
            v.push(consume_row(size, partitions, Flavor::MODERN));
            if partitions == 1 {
                for f in variants(size) {
                    v.push(consume_row(size, partitions, f));
                }
            }
        }
    }
    for acks in [1, -1] {
        v.push(Scenario {
            name: format!("latency 100B acks={acks} p=1"),
            kind: Kind::Latency,
            record_bytes: 100,
            acks: Some(acks),
            partitions: 1,
            clients: 1,
            client: Client::Modern,
            compression: "none",
        });
    }
    v
}

/// Cluster mode: every topic has 3 replicas and min.insync.replicas 2 (the names say
/// `rf=3`); 3 partitions spread the leaders over the three brokers.
fn cluster_scenarios() -> Vec<Scenario> {
    let mut v = Vec::new();
    for size in [100usize, 1024] {
        for acks in [1, -1] {
            v.push(Scenario {
                name: format!(
                    "produce {} acks={acks} p=3 producers=1 rf=3",
                    size_label(size)
                ),
                kind: Kind::Produce,
                record_bytes: size,
                acks: Some(acks),
                partitions: 3,
                clients: 1,
                client: Client::Modern,
                compression: "none",
            });
        }
    }
    for size in [100usize, 1024] {
        v.push(Scenario {
            name: format!("consume {} p=3 rf=3", size_label(size)),
            kind: Kind::Consume,
            record_bytes: size,
            acks: None,
            partitions: 3,
            clients: 1,
            client: Client::Modern,
            compression: "none",
        });
    }
    for acks in [-1, 1] {
        v.push(Scenario {
            name: format!("latency 100B acks={acks} p=1 rf=3"),
            kind: Kind::Latency,
            record_bytes: 100,
            acks: Some(acks),
            partitions: 1,
            clients: 1,
            client: Client::Modern,
            compression: "none",
        });
    }
    v
}

pub(crate) fn median(mut xs: Vec<f64>) -> f64 {
    xs.retain(|x| x.is_finite());
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

pub(crate) fn medians(runs: &[Run]) -> BTreeMap<&'static str, f64> {
    let mut m = BTreeMap::new();
    let mut put = |k: &'static str, f: &dyn Fn(&Run) -> Option<f64>| {
        let xs: Vec<f64> = runs.iter().filter_map(f).collect();
        if !xs.is_empty() {
            m.insert(k, median(xs));
        }
    };
    put("records_per_s", &|r| Some(r.records_per_s));
    put("mib_per_s", &|r| Some(r.mib_per_s));
    put("secs", &|r| Some(r.secs));
    put("client_cpu_s_per_gib", &|r| Some(r.client_cpu_s_per_gib));
    put("broker_cpu_s_per_gib", &|r| r.broker_cpu_s_per_gib);
    put("broker_to_client_cpu", &|r| r.broker_to_client_cpu);
    put("controller_cpu_s_per_gib", &|r| r.controller_cpu_s_per_gib);
    put("p50_ms", &|r| r.p50_ms);
    put("p99_ms", &|r| r.p99_ms);
    put("p999_ms", &|r| r.p999_ms);
    m
}

pub(crate) fn run_scenario(env: &Env, o: &Opts, sc: &Scenario) -> Result<Outcome> {
    let peak_ok = !env.broker_pids.is_empty() && env.broker_pids.iter().all(|p| reset_peak_rss(p));
    let anon: Vec<AnonSampler> = env
        .broker_pids
        .iter()
        .map(|p| AnonSampler::start(p))
        .collect();
    let controller_anon = env.controller_pid.as_deref().map(AnonSampler::start);
    let mut warmup = None;
    let mut runs = Vec::new();
    match sc.kind {
        Kind::Produce => {
            let acks = sc.acks.unwrap_or(1);
            let run = |stem: &str, limit: Limit| {
                env.on_new_topic(stem, sc.partitions, |topic| {
                    let (size, clients, f) = (sc.record_bytes, sc.clients, sc.flavor());
                    produce(env, topic, sc.partitions, size, acks, clients, f, 0, limit)
                })
            };
            let limit = if o.quick {
                Limit::Records((2.0 * MIB / sc.record_bytes as f64) as u64)
            } else {
                // A one-second warm-up run on its own topic.
                warmup = Some(run("warmup", Limit::Secs(1.0, 0))?);
                Limit::Secs(o.secs, 0)
            };
            for _ in 0..o.runs {
                runs.push(run("produce", limit)?);
            }
        }
        Kind::Consume => {
            // Fill a topic with --consume-mib (4 modern producers, acks=1, the scenario's
            // compression; not measured) and read it all once as warm-up. Unless --quick, top
            // it up to three times what that rate reads in --secs (at most 4 GiB), then read it
            // from the beginning --runs times, each for --secs (or to the end). A legacy
            // consumer thus reads RecordBatch v2 as a modern producer wrote it, and the broker
            // down-converts it.
            let (client, filler) = (
                sc.client,
                Flavor {
                    client: Client::Modern,
                    compression: sc.compression,
                },
            );
            env.on_new_topic("consume", sc.partitions, |topic| {
                let fill = |before: u64, records: u64| {
                    let limit = Limit::Records(records);
                    let (p, size) = (sc.partitions, sc.record_bytes);
                    produce(env, topic, p, size, 1, 4, filler, before, limit)
                };
                let mut records = (o.consume_mib * MIB / sc.record_bytes as f64) as u64;
                fill(0, records)?;
                let limit = if o.quick {
                    Limit::Records(records)
                } else {
                    let w = consume(env, topic, sc.partitions, client, Limit::Records(records))?;
                    // In cluster mode every byte is written three times: at most 2 GiB.
                    let cap_gib = if env.cluster { 2.0 } else { 4.0 };
                    let cap = (cap_gib * GIB / sc.record_bytes as f64) as u64;
                    let target = ((3.0 * w.records_per_s * o.secs) as u64).min(cap);
                    if target > records {
                        fill(records, target - records)?;
                        records = target;
                    }
                    warmup = Some(w);
                    Limit::Secs(o.secs, records)
                };
                for p in &env.broker_pids {
                    reset_peak_rss(p);
                }
                for _ in 0..o.runs {
                    runs.push(consume(env, topic, sc.partitions, client, limit)?);
                }
                Ok(())
            })?;
        }
        Kind::Latency => {
            let acks = sc.acks.unwrap_or(1);
            let run = |secs: f64| {
                env.on_new_topic("latency", 1, |topic| {
                    latency(env, topic, sc.record_bytes, acks, o.latency_rate, secs)
                })
            };
            if !o.quick {
                warmup = Some(run((o.latency_secs / 2.0).max(1.0))?);
            }
            for _ in 0..o.runs {
                runs.push(run(o.latency_secs)?);
            }
        }
    }
    let rss: Vec<u64> = if peak_ok {
        let each: Option<Vec<u64>> = env
            .broker_pids
            .iter()
            .map(|p| status_kib(p, "VmHWM:"))
            .collect();
        each.unwrap_or_default()
    } else {
        Vec::new()
    };
    let anon: Option<Vec<u64>> = anon.into_iter().map(AnonSampler::stop).collect();
    let anon = anon.unwrap_or_default();
    let controller_peak_anon_kib = controller_anon.and_then(AnonSampler::stop);
    let many = env.broker_pids.len() > 1;
    Ok(Outcome {
        scenario: sc.clone(),
        median: medians(&runs),
        broker_peak_rss_kib: rss.iter().copied().max(),
        broker_peak_anon_kib: anon.iter().copied().max(),
        brokers_peak_rss_kib: if many { rss } else { Vec::new() },
        brokers_peak_anon_kib: if many { anon } else { Vec::new() },
        controller_peak_anon_kib,
        warmup,
        runs,
        error: None,
    })
}
