//! The `weir` binary: flags / `WEIR_*` environment / optional TOML file -> Config, logging,
//! start the broker, wait for SIGINT or SIGTERM, shut down gracefully. `weir` alone (or with
//! broker flags) and `weir serve` run the broker; the other subcommands are the admin and
//! console client of [`weir::cli`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand};
use weir::{Broker, Config};

/// A Kafka-wire-compatible message broker, and a client for any Kafka cluster.
///
/// Without a command (or with `serve`), runs the broker with the flags below.
#[derive(Debug, Parser)]
#[command(name = "weir", version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(flatten)]
    serve: Args,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the broker (what `weir` alone does).
    Serve(Args),
    #[command(flatten)]
    Client(weir::cli::Command),
}

/// The broker's flags.
#[derive(Debug, Clone, clap::Args)]
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
    /// Optional config file of settings by their Kafka names: Kafka's `server.properties`
    /// format, or TOML for a `.toml` file.
    #[arg(long, env = "WEIR_CONFIG")]
    config: Option<PathBuf>,
    /// Print the effective settings and where each came from (default, file, environment,
    /// flag), then exit.
    #[arg(long)]
    print_config: bool,
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
    "http.console.read.only",
    "http.console.lag.sample.ms",
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

/// The name a setting is reported under (its synonyms set the same value).
fn canonical(name: &str) -> &str {
    match name {
        "log.retention.hours" | "log.retention.minutes" => "log.retention.ms",
        "log.roll.hours" => "log.roll.ms",
        "broker.id" => "node.id",
        "log.dir" | "data.dir" => "log.dirs",
        other => other,
    }
}

/// The effective config, with the source of every setting not at its default.
fn build_config(args: &Args) -> anyhow::Result<(Config, BTreeMap<String, String>)> {
    let mut config = Config::default();
    let mut sources = BTreeMap::new();
    if let Some(path) = &args.config {
        let applied = config
            .apply_file(path)
            .with_context(|| format!("config file {}", path.display()))?;
        for name in applied.set {
            sources.insert(
                canonical(&name).to_string(),
                format!("file {}", path.display()),
            );
        }
        if !applied.ignored.is_empty() {
            tracing::warn!(
                file = %path.display(),
                settings = applied.ignored.join(", "),
                "ignoring Kafka settings weir has no use for (see docs/operations.md)"
            );
        }
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
            sources.insert(canonical(name).to_string(), format!("env {var}"));
        }
    }
    let mut flag = |config: &mut Config, name: &str, value: &str, how: &str| {
        sources.insert(canonical(name).to_string(), how.to_string());
        config.set(name, value)
    };
    if let Some(l) = &args.listeners {
        flag(&mut config, "listeners", l, "flag --listeners")?;
    }
    if let Some(a) = &args.advertised_listeners {
        flag(
            &mut config,
            "advertised.listeners",
            a,
            "flag --advertised-listeners",
        )?;
    }
    if let Some(d) = &args.data_dir {
        let d = d.display().to_string();
        flag(&mut config, "log.dirs", &d, "flag --data-dir")?;
    }
    if let Some(n) = args.node_id {
        flag(&mut config, "node.id", &n.to_string(), "flag --node-id")?;
    }
    for o in &args.overrides {
        let (k, v) = o
            .split_once('=')
            .with_context(|| format!("--override {o}: expected NAME=VALUE"))?;
        flag(&mut config, k.trim(), v.trim(), "flag --override")?;
    }
    Ok((config, sources))
}

/// `--print-config`: every broker-level setting, its value and its source, aligned.
fn print_config(config: &Config, sources: &BTreeMap<String, String>) {
    let entries = config.broker_entries();
    let width = entries.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let vwidth = entries
        .iter()
        .map(|(_, v)| v.len())
        .max()
        .unwrap_or(0)
        .min(60);
    for (name, value) in entries {
        let source = sources
            .get(canonical(&name))
            .map_or("default", String::as_str);
        println!("{name:width$}  {value:vwidth$}  {source}");
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let args = match cli.command {
        None => cli.serve,
        Some(Command::Serve(args)) => args,
        Some(Command::Client(command)) => return weir::cli::run(command, Cli::command),
    };
    match serve(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:?}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: &Args) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,openraft=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let (config, sources) = build_config(args)?;
    if args.print_config {
        print_config(&config, &sources);
        return Ok(());
    }
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
