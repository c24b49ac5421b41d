//! weir-bench: drives a Kafka-protocol broker with librdkafka (through the `rdkafka` crate)
//! and measures throughput, latency and the broker's own costs from /proc.
//!
//! Run it through `scripts/bench`, which builds this tool and (unless `--bootstrap` is
//! given) builds weir and passes `--broker-bin`. See docs/benchmarks.md.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use serde::Serialize;

const MIB: f64 = 1024.0 * 1024.0;
const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

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
struct Opts {
    bootstrap: Option<String>,
    broker_bin: Option<PathBuf>,
    broker_pid: Option<i32>,
    quick: bool,
    runs: usize,
    secs: f64,
    consume_mib: f64,
    latency_rate: f64,
    latency_secs: f64,
    startup_runs: usize,
    only: Vec<String>,
    out: Option<PathBuf>,
    label: Option<String>,
    producer_config: Vec<(String, String)>,
    consumer_config: Vec<(String, String)>,
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

// ---------------------------------------------------------------------------------------
// /proc

fn clk_tck() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// user + system CPU seconds of a process (all threads), from /proc/<pid>/stat.
fn cpu_secs(pid: &str) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // after the command: field 3 (state) is f[0]; utime is field 14, stime field 15.
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / clk_tck())
}

/// A `Vm*:` line of /proc/<pid>/status, in KiB.
fn status_kib(pid: &str, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Samples the broker's anonymous resident memory (`RssAnon`: heap and stacks, not the
/// file pages of its memory-mapped segments, which are reclaimable page cache) every 20 ms
/// until stopped; `stop()` returns the peak in KiB.
struct AnonSampler {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: std::thread::JoinHandle<Option<u64>>,
}

impl AnonSampler {
    fn start(pid: &str) -> AnonSampler {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let pid = pid.to_string();
        let handle = std::thread::spawn(move || {
            let mut peak: Option<u64> = None;
            loop {
                if let Some(k) = status_kib(&pid, "RssAnon:") {
                    peak = Some(peak.map_or(k, |p| p.max(k)));
                }
                if flag.load(std::sync::atomic::Ordering::Relaxed) {
                    return peak;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        AnonSampler { stop, handle }
    }

    fn stop(self) -> Option<u64> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.handle.join().ok().flatten()
    }
}

/// Resets VmHWM to the current RSS (Linux >= 4.0), so the peak is per scenario.
fn reset_peak_rss(pid: &str) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

// ---------------------------------------------------------------------------------------
// Starting and stopping weir

struct Broker {
    child: Child,
    dir: PathBuf,
    log: PathBuf,
}

impl Broker {
    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// SIGTERM by PID, wait up to 10 s, then SIGKILL by PID.
    fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        // SAFETY: kill(2) on the PID of our own, not yet reaped child.
        unsafe { libc::kill(self.pid(), libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        eprintln!(
            "weir (pid {}) ignored SIGTERM for 10 s; killing it",
            self.pid()
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn log_tail(&self) -> String {
        let s = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

fn temp_dir(tag: &str) -> Result<PathBuf> {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("weir-bench-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d)?;
    Ok(d)
}

/// Starts the broker on a free 127.0.0.1 port with an empty data dir and returns it with
/// the time from spawn to the first answered ApiVersions request.
fn start_broker(bin: &Path) -> Result<(Broker, String, Duration)> {
    let dir = temp_dir("broker")?;
    let data = dir.join("data");
    let log = dir.join("weir.log");
    let port = free_port()?;
    let addr = format!("127.0.0.1:{port}");
    let logf = std::fs::File::create(&log)?;
    let mut cmd = Command::new(bin);
    cmd.arg("--listeners")
        .arg(&addr)
        .arg("--data-dir")
        .arg(&data)
        .stdin(Stdio::null())
        .stdout(logf.try_clone()?)
        .stderr(logf);
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe; it makes the kernel stop the broker if this
        // process dies without running its destructors.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
    }
    let t0 = Instant::now();
    let child = cmd
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let mut broker = Broker { child, dir, log };
    let deadline = t0 + Duration::from_secs(20);
    loop {
        if api_versions(&addr).is_ok() {
            return Ok((broker, addr, t0.elapsed()));
        }
        if let Ok(Some(st)) = broker.child.try_wait() {
            bail!(
                "weir exited ({st}) before answering:\n{}",
                broker.log_tail()
            );
        }
        if Instant::now() > deadline {
            let tail = broker.log_tail();
            broker.stop();
            bail!("weir did not answer ApiVersions within 20 s:\n{tail}");
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// One raw ApiVersions v0 round trip.
fn api_versions(addr: &str) -> Result<()> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    s.set_nodelay(true)?;
    let client = b"weir-bench";
    let mut body = Vec::new();
    body.extend_from_slice(&18i16.to_be_bytes()); // api key: ApiVersions
    body.extend_from_slice(&0i16.to_be_bytes()); // version 0
    body.extend_from_slice(&7i32.to_be_bytes()); // correlation id
    body.extend_from_slice(&(client.len() as i16).to_be_bytes());
    body.extend_from_slice(client);
    let mut req = (body.len() as i32).to_be_bytes().to_vec();
    req.extend_from_slice(&body);
    s.write_all(&req)?;
    let mut len = [0u8; 4];
    s.read_exact(&mut len)?;
    let n = i32::from_be_bytes(len);
    if !(6..1 << 20).contains(&n) {
        bail!("bad ApiVersions response length {n}");
    }
    let mut resp = vec![0u8; n as usize];
    s.read_exact(&mut resp)?;
    if resp[..4] != 7i32.to_be_bytes() || resp[4..6] != 0i16.to_be_bytes() {
        bail!("unexpected ApiVersions response");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Clients

#[derive(Default)]
struct DeliveryCounts {
    ok: AtomicU64,
    err: AtomicU64,
    last_err: Mutex<Option<String>>,
}

struct BenchCtx(Arc<DeliveryCounts>);

impl ClientContext for BenchCtx {}

impl ProducerContext for BenchCtx {
    type DeliveryOpaque = ();
    fn delivery(&self, r: &DeliveryResult<'_>, _: ()) {
        match r {
            Ok(_) => {
                self.0.ok.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, _)) => {
                self.0.err.fetch_add(1, Ordering::Relaxed);
                *self.0.last_err.lock().unwrap() = Some(e.to_string());
            }
        }
    }
}

type Prod = BaseProducer<BenchCtx>;

struct Env {
    bootstrap: String,
    broker_pid: Option<String>,
    admin: AdminClient<DefaultClientContext>,
    topic_seq: AtomicU64,
    producer_config: Vec<(String, String)>,
    consumer_config: Vec<(String, String)>,
}

impl Env {
    fn new_topic(&self, stem: &str, partitions: i32) -> Result<String> {
        let n = self.topic_seq.fetch_add(1, Ordering::Relaxed);
        let name = format!("bench-{stem}-{}-{n}", std::process::id());
        let nt = NewTopic::new(&name, partitions, TopicReplication::Fixed(1));
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let res = futures_executor::block_on(self.admin.create_topics([&nt], &opts))?;
        for r in res {
            if let Err((t, code)) = r {
                bail!("creating topic {t}: {code}");
            }
        }
        Ok(name)
    }

    fn delete_topic(&self, name: &str) {
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        match futures_executor::block_on(self.admin.delete_topics(&[name], &opts)) {
            Ok(rs) => {
                for r in rs {
                    if let Err((t, code)) = r {
                        eprintln!("warning: deleting topic {t}: {code}");
                    }
                }
            }
            Err(e) => eprintln!("warning: deleting topic {name}: {e}"),
        }
    }

    fn producer(&self, acks: i32, linger_ms: u32) -> Result<(Prod, Arc<DeliveryCounts>)> {
        let counts = Arc::new(DeliveryCounts::default());
        let mut cfg = ClientConfig::new();
        cfg.set("bootstrap.servers", &self.bootstrap)
            .set("client.id", "weir-bench")
            .set("acks", acks.to_string())
            .set("linger.ms", linger_ms.to_string())
            .set("compression.type", "none")
            .set("enable.idempotence", "false")
            .set("message.timeout.ms", "60000");
        for (k, v) in &self.producer_config {
            cfg.set(k, v);
        }
        let p: Prod = cfg.create_with_context(BenchCtx(counts.clone()))?;
        Ok((p, counts))
    }

    fn consumer(&self, topic: &str, partitions: i32, offset: Offset) -> Result<BaseConsumer> {
        let mut cfg = ClientConfig::new();
        cfg.set("bootstrap.servers", &self.bootstrap)
            .set("client.id", "weir-bench")
            .set("group.id", "weir-bench")
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "false")
            .set("auto.offset.reset", "earliest")
            // librdkafka waits this long (default 1000 ms) before fetching again once its
            // local queue is over queued.min.messages; a client-bound consumer would sit idle.
            .set("fetch.queue.backoff.ms", "10");
        for (k, v) in &self.consumer_config {
            cfg.set(k, v);
        }
        let c: BaseConsumer = cfg.create()?;
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition_offset(topic, p, offset)?;
        }
        c.assign(&tpl)?;
        Ok(c)
    }
}

/// Waits until the topic's metadata lists every partition with a leader.
fn await_topic(p: &Prod, topic: &str, partitions: i32) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(md) = p
            .client()
            .fetch_metadata(Some(topic), Duration::from_secs(5))
        {
            if let Some(t) = md.topics().iter().find(|t| t.name() == topic) {
                if t.error().is_none()
                    && t.partitions().len() == partitions as usize
                    && t.partitions().iter().all(|p| p.leader() >= 0)
                {
                    return Ok(());
                }
            }
        }
        if Instant::now() > deadline {
            bail!("topic {topic} not ready after 15 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn send_one(p: &Prod, topic: &str, payload: &[u8]) -> Result<()> {
    let mut rec = BaseRecord::<(), [u8]>::to(topic).payload(payload);
    loop {
        match p.send(rec) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                rec = r;
                p.poll(Duration::from_millis(1));
            }
            Err((e, _)) => return Err(e.into()),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Measurements

#[derive(Clone, Debug, Default, Serialize)]
struct Run {
    records: u64,
    bytes: u64,
    secs: f64,
    records_per_s: f64,
    mib_per_s: f64,
    client_cpu_s: f64,
    client_cpu_s_per_gib: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    broker_cpu_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    broker_cpu_s_per_gib: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    broker_to_client_cpu: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p50_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p99_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p999_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_ms: Option<f64>,
}

struct CpuMark {
    t: Instant,
    client: f64,
    broker: Option<f64>,
}

fn mark(env: &Env) -> CpuMark {
    CpuMark {
        t: Instant::now(),
        client: cpu_secs("self").unwrap_or(0.0),
        broker: env.broker_pid.as_deref().and_then(cpu_secs),
    }
}

fn finish(env: &Env, m: CpuMark, records: u64, bytes: u64) -> Run {
    let secs = m.t.elapsed().as_secs_f64();
    let client = cpu_secs("self").unwrap_or(0.0) - m.client;
    let broker = match (m.broker, env.broker_pid.as_deref().and_then(cpu_secs)) {
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
        ..Run::default()
    }
}

/// How much a produce or consume run moves.
#[derive(Clone, Copy, Debug)]
enum Limit {
    /// exactly this many records
    Records(u64),
    /// as many as fit in this time (consume: or until `records` have been read)
    Secs(f64, u64),
}

/// `producers` producer instances (one thread each) send records of `size` bytes to `topic`;
/// timed from the first send until every delivery report is in. With `Limit::Secs` each
/// producer stops sending at the deadline, and the flush that follows is timed too.
fn produce(
    env: &Env,
    topic: &str,
    partitions: i32,
    size: usize,
    acks: i32,
    producers: usize,
    limit: Limit,
) -> Result<Run> {
    let mut ps = Vec::new();
    for _ in 0..producers {
        let (p, c) = env.producer(acks, 5)?;
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
    Ok(run)
}

/// One consumer reads every partition from the beginning: `Records(n)` reads n records,
/// `Secs(t, n)` reads for t seconds or until n records, whichever comes first.
fn consume(env: &Env, topic: &str, partitions: i32, limit: Limit) -> Result<Run> {
    let (records, deadline) = match limit {
        Limit::Records(n) => (n, None),
        Limit::Secs(t, n) => (n, Some(Instant::now() + Duration::from_secs_f64(t))),
    };
    let m = mark(env);
    let c = env.consumer(topic, partitions, Offset::Beginning)?;
    let (mut n, mut bytes) = (0u64, 0u64);
    let mut last_progress = Instant::now();
    while n < records {
        match c.poll(Duration::from_millis(100)) {
            Some(Ok(msg)) => {
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

fn percentile(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1e6
}

/// A paced producer (linger.ms=0) sends `rate` records/s for `secs`; each record carries
/// the monotonic time of its send call; one consumer in this process receives them.
fn latency(env: &Env, topic: &str, size: usize, acks: i32, rate: f64, secs: f64) -> Result<Run> {
    let epoch = Instant::now();
    let (p, counts) = env.producer(acks, 0)?;
    await_topic(&p, topic, 1)?;
    let c = env.consumer(topic, 1, Offset::Beginning)?;
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

// ---------------------------------------------------------------------------------------
// Scenarios

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Produce,
    Consume,
    Latency,
}

#[derive(Clone, Debug, Serialize)]
struct Scenario {
    name: String,
    kind: Kind,
    record_bytes: usize,
    acks: Option<i32>,
    partitions: i32,
    clients: usize,
}

#[derive(Debug, Serialize)]
struct Outcome {
    #[serde(flatten)]
    scenario: Scenario,
    /// medians of each figure over the measured runs
    median: BTreeMap<&'static str, f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    broker_peak_rss_kib: Option<u64>,
    /// peak anonymous RSS (heap, stacks) sampled every 20 ms during the scenario
    #[serde(skip_serializing_if = "Option::is_none")]
    broker_peak_anon_kib: Option<u64>,
    warmup: Option<Run>,
    runs: Vec<Run>,
}

fn size_label(size: usize) -> String {
    if size.is_multiple_of(1024) {
        format!("{}KiB", size / 1024)
    } else {
        format!("{size}B")
    }
}

fn scenarios() -> Vec<Scenario> {
    let mut v = Vec::new();
    for size in [100usize, 1024] {
        for partitions in [1, 3] {
            for acks in [1, -1] {
                for clients in [1usize, 4] {
                    v.push(Scenario {
                        name: format!(
                            "produce {} acks={acks} p={partitions} producers={clients}",
                            size_label(size)
                        ),
                        kind: Kind::Produce,
                        record_bytes: size,
                        acks: Some(acks),
                        partitions,
                        clients,
                    });
                }
            }
        }
    }
    for size in [100usize, 1024] {
        for partitions in [1, 3] {
            v.push(Scenario {
                name: format!("consume {} p={partitions}", size_label(size)),
                kind: Kind::Consume,
                record_bytes: size,
                acks: None,
                partitions,
                clients: 1,
            });
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
        });
    }
    v
}

fn median(mut xs: Vec<f64>) -> f64 {
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

fn medians(runs: &[Run]) -> BTreeMap<&'static str, f64> {
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
    put("p50_ms", &|r| r.p50_ms);
    put("p99_ms", &|r| r.p99_ms);
    put("p999_ms", &|r| r.p999_ms);
    m
}

fn run_scenario(env: &Env, o: &Opts, sc: &Scenario) -> Result<Outcome> {
    let peak_ok = env
        .broker_pid
        .as_deref()
        .map(reset_peak_rss)
        .unwrap_or(false);
    let anon = env.broker_pid.as_deref().map(AnonSampler::start);
    let mut warmup = None;
    let mut runs = Vec::new();
    match sc.kind {
        Kind::Produce => {
            let acks = sc.acks.unwrap_or(1);
            let limit = if o.quick {
                Limit::Records((2.0 * MIB / sc.record_bytes as f64) as u64)
            } else {
                // A one-second warm-up run on its own topic.
                let topic = env.new_topic("warmup", sc.partitions)?;
                warmup = Some(produce(
                    env,
                    &topic,
                    sc.partitions,
                    sc.record_bytes,
                    acks,
                    sc.clients,
                    Limit::Secs(1.0, 0),
                )?);
                env.delete_topic(&topic);
                Limit::Secs(o.secs, 0)
            };
            for _ in 0..o.runs {
                let topic = env.new_topic("produce", sc.partitions)?;
                runs.push(produce(
                    env,
                    &topic,
                    sc.partitions,
                    sc.record_bytes,
                    acks,
                    sc.clients,
                    limit,
                )?);
                env.delete_topic(&topic);
            }
        }
        Kind::Consume => {
            // Fill a topic with --consume-mib (4 producers, acks=1; not measured) and read it
            // all once as warm-up. Unless --quick, top it up to three times what that rate reads
            // in --secs (at most 4 GiB), then read it from the beginning --runs times, each
            // for --secs (or to the end).
            let mut records = (o.consume_mib * MIB / sc.record_bytes as f64) as u64;
            let topic = env.new_topic("consume", sc.partitions)?;
            produce(
                env,
                &topic,
                sc.partitions,
                sc.record_bytes,
                1,
                4,
                Limit::Records(records),
            )?;
            let limit = if o.quick {
                Limit::Records(records)
            } else {
                let w = consume(env, &topic, sc.partitions, Limit::Records(records))?;
                let cap = (4.0 * GIB / sc.record_bytes as f64) as u64;
                let target = ((3.0 * w.records_per_s * o.secs) as u64).min(cap);
                if target > records {
                    produce(
                        env,
                        &topic,
                        sc.partitions,
                        sc.record_bytes,
                        1,
                        4,
                        Limit::Records(target - records),
                    )?;
                    records = target;
                }
                warmup = Some(w);
                Limit::Secs(o.secs, records)
            };
            if let Some(p) = env.broker_pid.as_deref() {
                reset_peak_rss(p);
            }
            for _ in 0..o.runs {
                runs.push(consume(env, &topic, sc.partitions, limit)?);
            }
            env.delete_topic(&topic);
        }
        Kind::Latency => {
            let acks = sc.acks.unwrap_or(1);
            if !o.quick {
                let topic = env.new_topic("latency", 1)?;
                warmup = Some(latency(
                    env,
                    &topic,
                    sc.record_bytes,
                    acks,
                    o.latency_rate,
                    (o.latency_secs / 2.0).max(1.0),
                )?);
                env.delete_topic(&topic);
            }
            for _ in 0..o.runs {
                let topic = env.new_topic("latency", 1)?;
                runs.push(latency(
                    env,
                    &topic,
                    sc.record_bytes,
                    acks,
                    o.latency_rate,
                    o.latency_secs,
                )?);
                env.delete_topic(&topic);
            }
        }
    }
    let broker_peak_rss_kib = if peak_ok {
        env.broker_pid
            .as_deref()
            .and_then(|p| status_kib(p, "VmHWM:"))
    } else {
        None
    };
    let broker_peak_anon_kib = anon.and_then(AnonSampler::stop);
    Ok(Outcome {
        scenario: sc.clone(),
        median: medians(&runs),
        broker_peak_rss_kib,
        broker_peak_anon_kib,
        warmup,
        runs,
    })
}

// ---------------------------------------------------------------------------------------
// Output

fn fmt(x: Option<f64>, prec: usize) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v:.prec$}"),
        _ => "-".into(),
    }
}

fn fmt_rate(x: Option<f64>) -> String {
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

const HEADER: [&str; 12] = [
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

fn row(o: &Outcome) -> Vec<String> {
    let g = |k: &str| o.median.get(k).copied();
    vec![
        o.scenario.name.clone(),
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

/// A Markdown table (readable as plain text too).
fn table(outcomes: &[Outcome]) -> String {
    let rows: Vec<Vec<String>> = outcomes.iter().map(row).collect();
    let mut w: Vec<usize> = HEADER.iter().map(|h| h.len()).collect();
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
    let mut out = line(HEADER.iter().map(|s| s.to_string()).collect());
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
struct BrokerFacts {
    started_by_bench: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<i32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    startup_to_api_versions_ms: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    startup_to_api_versions_ms_median: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    idle_rss_kib: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    idle_cpu_s_per_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    final_rss_kib: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_cpu_s: Option<f64>,
}

#[derive(Serialize)]
struct Report {
    tool: &'static str,
    label: Option<String>,
    bootstrap: String,
    quick: bool,
    runs: usize,
    secs_per_run: f64,
    consume_mib: f64,
    latency_rate: f64,
    latency_secs: f64,
    host: BTreeMap<&'static str, String>,
    client_config: BTreeMap<&'static str, &'static str>,
    producer_config_overrides: Vec<(String, String)>,
    consumer_config_overrides: Vec<(String, String)>,
    broker: BrokerFacts,
    scenarios: Vec<Outcome>,
}

fn host_facts() -> BTreeMap<&'static str, String> {
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
    let mut outcomes = Vec::new();
    for (i, sc) in chosen.iter().enumerate() {
        let t = Instant::now();
        eprint!("[{}/{}] {} ... ", i + 1, chosen.len(), sc.name);
        let out = run_scenario(&env, &o, sc).with_context(|| format!("scenario {}", sc.name));
        let out = match out {
            Ok(x) => x,
            Err(e) => {
                if let Some(b) = &broker {
                    eprintln!("\nbroker log tail:\n{}", b.log_tail());
                }
                return Err(e);
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
    Ok(())
}
