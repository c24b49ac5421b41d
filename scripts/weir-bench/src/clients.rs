//! The librdkafka clients: the admin client that creates and deletes each scenario's topic,
//! producers that count their delivery reports, and assigned consumers; each either a
//! modern client or a legacy one that speaks Kafka 0.9.0's protocol (magic-0 message sets).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use serde::Serialize;

use crate::cluster::{await_replicated, BROKERS, MIN_ISR};
use crate::procfs::cpu_secs;

#[derive(Default)]
pub(crate) struct DeliveryCounts {
    pub(crate) ok: AtomicU64,
    pub(crate) err: AtomicU64,
    pub(crate) last_err: Mutex<Option<String>>,
}

/// Which protocol a client speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub(crate) enum Client {
    /// librdkafka as it comes: ApiVersions, then the newest versions both sides know
    /// (Produce and Fetch with RecordBatch v2)
    #[serde(rename = "modern")]
    Modern,
    /// librdkafka without ApiVersions, assuming a Kafka 0.9.0 broker ([`LEGACY_CONFIG`]):
    /// Produce v1 with magic-0 message sets, Fetch v1 (magic 0 back), ListOffsets v0. A
    /// fallback of 0.10.0 or later turns ApiVersions back on (and so RecordBatch v2), so
    /// librdkafka cannot be made to speak magic 1.
    #[serde(rename = "legacy-0.9.0")]
    Legacy,
}

/// The settings that make librdkafka a Kafka 0.9.0 client ([`Client::Legacy`]).
pub(crate) const LEGACY_CONFIG: [(&str, &str); 2] = [
    ("api.version.request", "false"),
    ("broker.version.fallback", "0.9.0"),
];

/// What a scenario's clients speak and how its producers compress.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Flavor {
    pub(crate) client: Client,
    /// librdkafka's `compression.type`
    pub(crate) compression: &'static str,
}

impl Flavor {
    pub(crate) const MODERN: Flavor = Flavor {
        client: Client::Modern,
        compression: "none",
    };
}

/// Applies the legacy settings (for [`Client::Legacy`]), then every client's (`-X`), then
/// the user's for this kind of client, and tells whether librdkafka's log lines should be
/// printed: only when the user set `debug` (without a logger the rdkafka crate drops them,
/// and that is what every run wants otherwise).
fn configure(
    cfg: &mut ClientConfig,
    client: Client,
    all: &[(String, String)],
    user: &[(String, String)],
) -> bool {
    if client == Client::Legacy {
        for (k, v) in LEGACY_CONFIG {
            cfg.set(k, v);
        }
    }
    for (k, v) in all.iter().chain(user) {
        cfg.set(k, v);
    }
    let print = all.iter().chain(user).any(|(k, _)| k == "debug");
    if print {
        // The crate derives librdkafka's log level from the `log` crate's, off here.
        cfg.set_log_level(RDKafkaLogLevel::Debug);
    }
    print
}

fn print_log(level: RDKafkaLogLevel, fac: &str, line: &str) {
    eprintln!("librdkafka {level:?} {fac}: {line}");
}

pub(crate) struct BenchCtx {
    counts: Arc<DeliveryCounts>,
    print_log: bool,
}

impl ClientContext for BenchCtx {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, line: &str) {
        if self.print_log {
            print_log(level, fac, line);
        }
    }
}

impl ProducerContext for BenchCtx {
    type DeliveryOpaque = ();
    fn delivery(&self, r: &DeliveryResult<'_>, _: ()) {
        match r {
            Ok(_) => {
                self.counts.ok.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, _)) => {
                self.counts.err.fetch_add(1, Ordering::Relaxed);
                *self.counts.last_err.lock().unwrap() = Some(e.to_string());
            }
        }
    }
}

pub(crate) type Prod = BaseProducer<BenchCtx>;

/// A consumer's context: librdkafka's log lines go to stderr when `debug` is set.
pub(crate) struct ConsCtx {
    print_log: bool,
}

impl ClientContext for ConsCtx {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, line: &str) {
        if self.print_log {
            print_log(level, fac, line);
        }
    }
}

impl ConsumerContext for ConsCtx {}

pub(crate) type Cons = BaseConsumer<ConsCtx>;

pub(crate) struct Env {
    pub(crate) bootstrap: String,
    /// the brokers whose /proc gives broker costs (summed over them); may be empty
    pub(crate) broker_pids: Vec<String>,
    /// cluster mode: a controller-only node, measured apart from the brokers
    pub(crate) controller_pid: Option<String>,
    /// cluster mode: topics get `cluster::BROKERS` replicas and `min.insync.replicas` 2
    pub(crate) cluster: bool,
    pub(crate) admin: AdminClient<DefaultClientContext>,
    pub(crate) topic_seq: AtomicU64,
    pub(crate) producer_config: Vec<(String, String)>,
    pub(crate) consumer_config: Vec<(String, String)>,
    /// `-X`: every client's (before `producer_config` / `consumer_config`)
    pub(crate) client_config: Vec<(String, String)>,
}

impl Env {
    fn new_topic(&self, stem: &str, partitions: i32) -> Result<String> {
        let n = self.topic_seq.fetch_add(1, Ordering::Relaxed);
        let name = format!("bench-{stem}-{}-{n}", std::process::id());
        let rf = if self.cluster { BROKERS as i32 } else { 1 };
        let mut nt = NewTopic::new(&name, partitions, TopicReplication::Fixed(rf));
        if self.cluster {
            nt = nt.set("min.insync.replicas", MIN_ISR);
        }
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let res = futures_executor::block_on(self.admin.create_topics([&nt], &opts))?;
        for r in res {
            if let Err((t, code)) = r {
                bail!("creating topic {t}: {code}");
            }
        }
        if self.cluster {
            await_replicated(self.admin.inner(), &name, partitions, BROKERS)?;
        }
        Ok(name)
    }

    /// Runs `f` on a new topic of `partitions` (named after `stem`), which is deleted
    /// afterwards, also when `f` fails.
    pub(crate) fn on_new_topic<T>(
        &self,
        stem: &str,
        partitions: i32,
        f: impl FnOnce(&str) -> Result<T>,
    ) -> Result<T> {
        let topic = self.new_topic(stem, partitions)?;
        let out = f(&topic);
        self.delete_topic(&topic);
        out
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
        self.settle();
    }

    /// Waits (up to 10 s) until the brokers are idle: not one CPU tick (10 ms) charged to
    /// them over 50 ms. A broker may finish a deletion in the background (Kafka and weir both
    /// do), and freeing gigabytes of page cache must not be charged to the next measured run.
    /// Without a broker PID, returns at once.
    fn settle(&self) {
        if self.broker_pids.is_empty() {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let Some(c0) = self.brokers_cpu() else { return };
            std::thread::sleep(Duration::from_millis(50));
            let Some(c1) = self.brokers_cpu() else { return };
            if c1 - c0 < 0.005 {
                return;
            }
        }
    }

    /// CPU seconds of every broker process, summed; None without PIDs or if one is gone.
    pub(crate) fn brokers_cpu(&self) -> Option<f64> {
        if self.broker_pids.is_empty() {
            return None;
        }
        self.broker_pids.iter().map(|p| cpu_secs(p)).sum()
    }

    /// The sum of the partitions' high watermarks (asked with the modern admin client): on a
    /// new topic, the number of records the broker holds.
    pub(crate) fn end_offsets(&self, topic: &str, partitions: i32) -> Result<i64> {
        let mut sum = 0;
        for p in 0..partitions {
            let (_, high) =
                self.admin
                    .inner()
                    .fetch_watermarks(topic, p, Duration::from_secs(10))?;
            sum += high;
        }
        Ok(sum)
    }

    pub(crate) fn producer(
        &self,
        acks: i32,
        linger_ms: u32,
        flavor: Flavor,
    ) -> Result<(Prod, Arc<DeliveryCounts>)> {
        let counts = Arc::new(DeliveryCounts::default());
        let mut cfg = ClientConfig::new();
        cfg.set("bootstrap.servers", &self.bootstrap)
            .set("client.id", "weir-bench")
            .set("acks", acks.to_string())
            .set("linger.ms", linger_ms.to_string())
            .set("compression.type", flavor.compression)
            .set("enable.idempotence", "false")
            .set("message.timeout.ms", "60000");
        let print_log = configure(
            &mut cfg,
            flavor.client,
            &self.client_config,
            &self.producer_config,
        );
        let ctx = BenchCtx {
            counts: counts.clone(),
            print_log,
        };
        let p: Prod = cfg.create_with_context(ctx)?;
        Ok((p, counts))
    }

    pub(crate) fn consumer(
        &self,
        topic: &str,
        partitions: i32,
        offset: Offset,
        client: Client,
    ) -> Result<Cons> {
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
        let print_log = configure(&mut cfg, client, &self.client_config, &self.consumer_config);
        let c: Cons = cfg.create_with_context(ConsCtx { print_log })?;
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition_offset(topic, p, offset)?;
        }
        c.assign(&tpl)?;
        Ok(c)
    }
}

/// Waits until the topic's metadata lists every partition with a leader.
pub(crate) fn await_topic(p: &Prod, topic: &str, partitions: i32) -> Result<()> {
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

pub(crate) fn send_one(p: &Prod, topic: &str, payload: &[u8]) -> Result<()> {
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
