//! The `weir` binary: flags / `WEIR_*` environment / optional TOML file -> Config, logging,
//! start the broker, wait for SIGINT or SIGTERM, shut down gracefully.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use weir::{Broker, Config};

/// A Kafka-wire-compatible message broker.
#[derive(Debug, Parser)]
#[command(name = "weir", version, about)]
struct Args {
    /// Address to listen on (Kafka's `listeners`), e.g. 127.0.0.1:9092.
    #[arg(long, env = "WEIR_LISTENERS")]
    listeners: Option<String>,
    /// host:port given to clients (Kafka's `advertised.listeners`); defaults to the listener.
    #[arg(long, env = "WEIR_ADVERTISED_LISTENERS")]
    advertised_listeners: Option<String>,
    /// Data directory (Kafka's `log.dirs`); created if missing. Default: ./data
    #[arg(long, env = "WEIR_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// This broker's node id (Kafka's `node.id`). Default: 1
    #[arg(long, env = "WEIR_NODE_ID")]
    node_id: Option<i32>,
    /// Optional TOML file of settings by their Kafka names.
    #[arg(long, env = "WEIR_CONFIG")]
    config: Option<PathBuf>,
    /// A Kafka-named setting, e.g. `--override log.segment.bytes=1048576` (repeatable).
    /// Environment variables `WEIR_<NAME>` (dots as underscores, e.g. WEIR_NUM_PARTITIONS)
    /// set the same names.
    #[arg(long = "override", value_name = "NAME=VALUE")]
    overrides: Vec<String>,
}

/// Broker settings read from `WEIR_<NAME>` (dots as underscores, upper case), besides the
/// broker-level names of every topic setting ([`weir::config::TOPIC_CONFIGS`]).
const ENV_SETTINGS: &[&str] = &[
    "num.partitions",
    "auto.create.topics.enable",
    "socket.request.max.bytes",
    "max.connections",
    "max.connections.per.ip",
    "connections.max.idle.ms",
    "socket.request.read.timeout.ms",
    "queued.max.request.bytes",
    "socket.sendfile",
    "log.roll.hours",
    "log.retention.minutes",
    "log.retention.hours",
    "log.retention.check.interval.ms",
    "log.cleaner.enable",
    "log.cleaner.backoff.ms",
    "log.cleaner.dedupe.buffer.size",
    "http.listeners",
    "http.metrics.max.partitions",
    "offsets.retention.minutes",
    "offsets.retention.check.interval.ms",
    "offsets.topic.num.partitions",
    "offsets.topic.replication.factor",
    "offsets.topic.segment.bytes",
    "offsets.commit.timeout.ms",
    "offsets.commit.value.version",
    "group.min.session.timeout.ms",
    "group.max.session.timeout.ms",
    "group.initial.rebalance.delay.ms",
    "process.roles",
    "controller.quorum.voters",
    "controller.listener.names",
    "broker.rack",
    "default.replication.factor",
    "broker.heartbeat.interval.ms",
    "broker.session.timeout.ms",
];

fn build_config(args: &Args) -> anyhow::Result<Config> {
    let mut config = Config::default();
    if let Some(path) = &args.config {
        config.apply_toml_file(path)?;
    }
    let topic_level = weir::config::TOPIC_CONFIGS
        .iter()
        .filter_map(|d| d.broker_name);
    for name in ENV_SETTINGS.iter().copied().chain(topic_level) {
        let var = format!("WEIR_{}", name.replace('.', "_").to_ascii_uppercase());
        if let Ok(value) = std::env::var(&var) {
            config
                .set(name, &value)
                .with_context(|| format!("from {var}"))?;
        }
    }
    if let Some(l) = &args.listeners {
        config.set("listeners", l)?;
    }
    if let Some(a) = &args.advertised_listeners {
        config.set("advertised.listeners", a)?;
    }
    if let Some(d) = &args.data_dir {
        config.data_dir = d.clone();
    }
    if let Some(n) = args.node_id {
        config.set("node.id", &n.to_string())?;
    }
    for o in &args.overrides {
        let (k, v) = o
            .split_once('=')
            .with_context(|| format!("--override {o}: expected NAME=VALUE"))?;
        config.set(k.trim(), v.trim())?;
    }
    Ok(config)
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,openraft=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = build_config(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("weir")
        .build()?;
    runtime.block_on(async move {
        use tokio::signal::unix::{signal, SignalKind};
        // Installed before starting, so a signal during recovery still shuts down cleanly.
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let handle = Broker::start(config).await?;
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::info!("shutting down");
        handle.shutdown().await;
        anyhow::Ok(())
    })
}
