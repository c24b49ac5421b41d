//! One measured run of each kind: produce as fast as the client goes, consume from the
//! beginning, and paced end-to-end latency; each with the broker's and the client's CPU.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use rdkafka::message::Message;
use rdkafka::producer::Producer;
use rdkafka::Offset;
use serde::Serialize;

use crate::clients::{await_topic, send_one, Client, Env, Flavor};
use crate::procfs::cpu_secs;
use crate::{GIB, MIB};

#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Run {
    pub(crate) records: u64,
    pub(crate) bytes: u64,
    pub(crate) secs: f64,
    pub(crate) records_per_s: f64,
    pub(crate) mib_per_s: f64,
    pub(crate) client_cpu_s: f64,
    pub(crate) client_cpu_s_per_gib: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) broker_cpu_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) broker_cpu_s_per_gib: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) broker_to_client_cpu: Option<f64>,
    /// cluster mode: the controller-only node's CPU, not in `broker_cpu_s`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) controller_cpu_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) controller_cpu_s_per_gib: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) p50_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) p99_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) p999_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_ms: Option<f64>,
}

pub(crate) struct CpuMark {
    pub(crate) t: Instant,
    pub(crate) client: f64,
    pub(crate) broker: Option<f64>,
    pub(crate) controller: Option<f64>,
}

pub(crate) fn mark(env: &Env) -> CpuMark {
    CpuMark {
        t: Instant::now(),
        client: cpu_secs("self").unwrap_or(0.0),
        broker: env.brokers_cpu(),
        controller: env.controller_pid.as_deref().and_then(cpu_secs),
    }
}

pub(crate) fn finish(env: &Env, m: CpuMark, records: u64, bytes: u64) -> Run {
    let secs = m.t.elapsed().as_secs_f64();
    let client = cpu_secs("self").unwrap_or(0.0) - m.client;
    let broker = match (m.broker, env.brokers_cpu()) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let controller = match (
        m.controller,
        env.controller_pid.as_deref().and_then(cpu_secs),
    ) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let gib = bytes as f64 / GIB;
    Run {
        records,
        bytes,
        secs,
        records_per_s: records as f64 / secs,
        mib_per_s: bytes as f64 / MIB / secs,
        client_cpu_s: client,
        client_cpu_s_per_gib: client / gib,
        broker_cpu_s: broker,
        broker_cpu_s_per_gib: broker.map(|b| b / gib),
        broker_to_client_cpu: broker.map(|b| if client > 0.0 { b / client } else { f64::NAN }),
        controller_cpu_s: controller,
        controller_cpu_s_per_gib: controller.map(|c| c / gib),
        ..Run::default()
    }
}

/// How much a produce or consume run moves.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Limit {
    /// exactly this many records
    Records(u64),
    /// as many as fit in this time (consume: or until `records` have been read)
    Secs(f64, u64),
}

/// `producers` producer instances (one thread each) of `flavor` send records of `size` bytes
/// to `topic`; timed from the first send until every delivery report is in. With
/// `Limit::Secs` each producer stops sending at the deadline, and the flush that follows is
/// timed too. Afterwards (not timed) the topic's high watermarks must add up to the records
/// sent so far plus `before` (the records already in it).
#[allow(clippy::too_many_arguments)]
pub(crate) fn produce(
    env: &Env,
    topic: &str,
    partitions: i32,
    size: usize,
    acks: i32,
    producers: usize,
    flavor: Flavor,
    before: u64,
    limit: Limit,
) -> Result<Run> {
    let mut ps = Vec::new();
    for _ in 0..producers {
        let (p, c) = env.producer(acks, 5, flavor)?;
        await_topic(&p, topic, partitions)?;
        ps.push((p, c));
    }
    let payload: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
    let barrier = Barrier::new(producers + 1);
    let (quota, secs) = match limit {
        Limit::Records(n) => (n, None),
        Limit::Secs(t, _) => (u64::MAX, Some(Duration::from_secs_f64(t))),
    };
    let per: Vec<u64> = (0..producers as u64)
        .map(|i| match quota {
            u64::MAX => u64::MAX,
            n => n / producers as u64 + u64::from(i < n % producers as u64),
        })
        .collect();
    let (m, sent) = std::thread::scope(|s| -> Result<(CpuMark, u64)> {
        let mut hs = Vec::new();
        for (i, (p, _)) in ps.iter().enumerate() {
            let (barrier, payload, n) = (&barrier, &payload, per[i]);
            hs.push(s.spawn(move || -> Result<u64> {
                barrier.wait();
                let deadline = secs.map(|d| Instant::now() + d);
                let mut j = 0u64;
                while j < n {
                    send_one(p, topic, payload)?;
                    j += 1;
                    if j.is_multiple_of(1024) {
                        p.poll(Duration::ZERO);
                        if deadline.is_some_and(|d| Instant::now() >= d) {
                            break;
                        }
                    }
                }
                p.flush(Duration::from_secs(120))?;
                Ok(j)
            }));
        }
        let m = mark(env);
        barrier.wait();
        let mut sent = 0;
        for h in hs {
            sent += h
                .join()
                .map_err(|_| anyhow!("producer thread panicked"))??;
        }
        Ok((m, sent))
    })?;
    let run = finish(env, m, sent, sent * size as u64);
    for (_, c) in &ps {
        if c.err.load(Ordering::Relaxed) > 0 {
            bail!(
                "{} deliveries failed: {:?}",
                c.err.load(Ordering::Relaxed),
                c.last_err.lock().unwrap()
            );
        }
    }
    let ok: u64 = ps.iter().map(|(_, c)| c.ok.load(Ordering::Relaxed)).sum();
    if ok != sent {
        bail!("{ok} of {sent} records acknowledged");
    }
    // Every acknowledged record must have its offset (a converted message set too). In a
    // cluster an acks=1 record is counted only once the followers have it: wait (10 s).
    let want = (before + sent) as i64;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let end = env.end_offsets(topic, partitions)?;
        if end == want {
            break;
        }
        if end > want || Instant::now() > deadline {
            bail!("the broker holds {end} records after {want} were sent to {topic}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(run)
}

/// One consumer (a `client`) reads every partition of a new topic from the beginning:
/// `Records(n)` reads n records, `Secs(t, n)` reads for t seconds or until n records,
/// whichever comes first. Each partition's records must come with offsets 0, 1, 2, ...: none
/// missing, none twice (an old client's down-converted message sets included).
pub(crate) fn consume(
    env: &Env,
    topic: &str,
    partitions: i32,
    client: Client,
    limit: Limit,
) -> Result<Run> {
    let (records, deadline) = match limit {
        Limit::Records(n) => (n, None),
        Limit::Secs(t, n) => (n, Some(Instant::now() + Duration::from_secs_f64(t))),
    };
    let m = mark(env);
    let c = env.consumer(topic, partitions, Offset::Beginning, client)?;
    let (mut n, mut bytes) = (0u64, 0u64);
    let mut next = vec![0i64; partitions as usize];
    let mut last_progress = Instant::now();
    while n < records {
        match c.poll(Duration::from_millis(100)) {
            Some(Ok(msg)) => {
                let (p, off) = (msg.partition(), msg.offset());
                match next.get_mut(p as usize) {
                    Some(want) if *want == off => *want += 1,
                    Some(want) => bail!("consume: partition {p}: offset {off}, expected {want}"),
                    None => bail!("consume: a record from partition {p}"),
                }
                n += 1;
                bytes += msg.payload_len() as u64;
                if n.is_multiple_of(1024) {
                    let now = Instant::now();
                    last_progress = now;
                    if deadline.is_some_and(|d| now >= d) {
                        break;
                    }
                }
            }
            Some(Err(e)) => bail!("consume: {e}"),
            None => {
                if last_progress.elapsed() > Duration::from_secs(30) {
                    bail!("consume: stuck at {n} of {records} records");
                }
            }
        }
    }
    let run = finish(env, m, n, bytes);
    drop(c);
    Ok(run)
}

pub(crate) fn percentile(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1e6
}

/// A paced producer (linger.ms=0) sends `rate` records/s for `secs`; each record carries
/// the monotonic time of its send call; one consumer in this process receives them.
pub(crate) fn latency(
    env: &Env,
    topic: &str,
    size: usize,
    acks: i32,
    rate: f64,
    secs: f64,
) -> Result<Run> {
    let epoch = Instant::now();
    let (p, counts) = env.producer(acks, 0, Flavor::MODERN)?;
    await_topic(&p, topic, 1)?;
    let c = env.consumer(topic, 1, Offset::Beginning, Client::Modern)?;
    // Let the consumer connect and start fetching before the clock runs.
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(500) {
        if let Some(r) = c.poll(Duration::from_millis(50)) {
            r?;
            bail!("latency topic {topic} is not empty");
        }
    }
    let total = (rate * secs).round() as u64;
    let sent = AtomicU64::new(0);
    let done = AtomicBool::new(false);
    let m = mark(env);
    let mut lat: Vec<u64> = Vec::with_capacity(total as usize);
    let size = size.max(8);
    std::thread::scope(|s| -> Result<()> {
        let prod = s.spawn(|| -> Result<()> {
            let mut payload = vec![0u8; size];
            let start = Instant::now();
            let interval_ns = 1e9 / rate;
            for i in 0..total {
                let due = start + Duration::from_nanos((i as f64 * interval_ns) as u64);
                // Sleep until the record is due; no spinning, which would steal a core
                // from the broker (and rd_kafka_poll's timeout is whole milliseconds).
                // Oversleeping only makes the next few records due at once; each is
                // stamped when actually sent.
                let now = Instant::now();
                if now < due {
                    std::thread::sleep(due - now);
                }
                let ts = epoch.elapsed().as_nanos() as u64;
                payload[..8].copy_from_slice(&ts.to_le_bytes());
                send_one(&p, topic, &payload)?;
                sent.fetch_add(1, Ordering::Relaxed);
                if i.is_multiple_of(64) {
                    p.poll(Duration::ZERO);
                }
            }
            p.flush(Duration::from_secs(60))?;
            done.store(true, Ordering::Release);
            Ok(())
        });
        let mut last_progress = Instant::now();
        loop {
            if done.load(Ordering::Acquire) && lat.len() as u64 >= sent.load(Ordering::Relaxed) {
                break;
            }
            if prod.is_finished() && !done.load(Ordering::Acquire) {
                break; // the producer failed; its error is reported below
            }
            match c.poll(Duration::from_millis(100)) {
                Some(Ok(msg)) => {
                    let now = epoch.elapsed().as_nanos() as u64;
                    let pl = msg.payload().unwrap_or_default();
                    if pl.len() >= 8 {
                        let ts = u64::from_le_bytes(pl[..8].try_into().unwrap());
                        lat.push(now.saturating_sub(ts));
                    }
                    last_progress = Instant::now();
                }
                Some(Err(e)) => bail!("latency consumer: {e}"),
                None => {
                    if last_progress.elapsed() > Duration::from_secs(30) {
                        bail!("latency consumer stuck at {} records", lat.len());
                    }
                }
            }
        }
        prod.join()
            .map_err(|_| anyhow!("producer thread panicked"))??;
        Ok(())
    })?;
    if counts.err.load(Ordering::Relaxed) > 0 {
        bail!(
            "latency: deliveries failed: {:?}",
            counts.last_err.lock().unwrap()
        );
    }
    let n = lat.len() as u64;
    let mut run = finish(env, m, n, n * size as u64);
    lat.sort_unstable();
    run.p50_ms = Some(percentile(&lat, 0.50));
    run.p99_ms = Some(percentile(&lat, 0.99));
    run.p999_ms = Some(percentile(&lat, 0.999));
    run.max_ms = lat.last().map(|&x| x as f64 / 1e6);
    Ok(run)
}
