//! `weir topics|groups|configs|produce|consume|cluster|completions`: an admin and console
//! client in the broker's binary that speaks the Kafka protocol to any broker, weir or
//! Apache Kafka, through `--bootstrap-server HOST:PORT`.
//!
//! - [`client`]: connections, version negotiation (ApiVersions), routing to partition leaders
//!   and group coordinators.
//! - [`topics`], [`groups`], [`configs`], [`produce`], [`consume`], [`cluster`]: one file per
//!   command group; each command's doc comment says which requests it sends.
//! - [`output`]: aligned tables, `--json`, Kafka error names.
//! - [`completions`]: shell completion scripts generated from the clap definitions below.
//!
//! Exit codes: 0 success, 1 a Kafka error (its name and message are printed) or a broker
//! that cannot be reached, 2 a usage error.

use std::fmt;
use std::process::ExitCode;

use clap::{Args, Subcommand};

pub mod client;
pub mod cluster;
pub mod completions;
pub mod configs;
pub mod consume;
pub mod groups;
pub mod output;
pub mod produce;
pub mod topics;

/// Where to connect and how to print, accepted before or after a subcommand's own flags.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// A broker to bootstrap from (comma-separated for several): weir or Apache Kafka.
    #[arg(
        long,
        global = true,
        value_name = "HOST:PORT",
        default_value = "127.0.0.1:9092",
        env = "WEIR_BOOTSTRAP_SERVER"
    )]
    pub bootstrap_server: String,
    /// Machine-readable output: one JSON document on stdout (JSON Lines for `consume`).
    #[arg(long, global = true)]
    pub json: bool,
}

/// The client commands (the broker itself is `weir` or `weir serve`).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List, describe, create, alter and delete topics.
    Topics {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: topics::TopicsCommand,
    },
    /// List, describe (with lag), reset the offsets of, and delete consumer groups.
    Groups {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: groups::GroupsCommand,
    },
    /// Describe and alter topic and broker configs.
    Configs {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: configs::ConfigsCommand,
    },
    /// Produce the lines of stdin as records (acks=all).
    Produce {
        #[command(flatten)]
        client: ClientArgs,
        #[command(flatten)]
        args: produce::ProduceArgs,
    },
    /// Print the records of a topic.
    Consume {
        #[command(flatten)]
        client: ClientArgs,
        #[command(flatten)]
        args: consume::ConsumeArgs,
    },
    /// Show the brokers, the controller and the cluster id.
    Cluster {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Print a shell completion script (e.g. `weir completions bash > /etc/bash_completion.d/weir`).
    Completions {
        #[arg(value_enum)]
        shell: completions::Shell,
    },
}

/// Why a command failed, and so its exit code.
#[derive(Debug)]
pub enum CliError {
    /// Bad usage the argument parser could not see (exit 2).
    Usage(String),
    /// A Kafka error code from the broker (exit 1).
    Kafka {
        code: i16,
        context: String,
        message: Option<String>,
    },
    /// A refusal or a partial failure, already reported item by item (exit 1).
    Failed(String),
    /// The broker could not be reached or answered something unreadable (exit 1).
    Io(String),
}

impl CliError {
    pub fn kafka(code: i16, context: impl Into<String>, message: Option<String>) -> CliError {
        CliError::Kafka {
            code,
            context: context.into(),
            message: message.filter(|m| !m.is_empty()),
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(m) | CliError::Failed(m) | CliError::Io(m) => f.write_str(m),
            CliError::Kafka {
                code,
                context,
                message,
            } => {
                write!(f, "{context}: {}", output::error_name(*code))?;
                match message {
                    Some(m) => write!(f, ": {m}"),
                    None => Ok(()),
                }
            }
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> CliError {
        CliError::Io(e.to_string())
    }
}

/// `Ok(())` for error code 0, else the Kafka error with its context.
pub fn check(
    code: i16,
    context: impl Into<String>,
    message: Option<String>,
) -> Result<(), CliError> {
    if code == 0 {
        Ok(())
    } else {
        Err(CliError::kafka(code, context, message))
    }
}

/// `NAME=VALUE` (for `--config`, `--set`, `--header`), a usage error otherwise.
pub fn key_value(s: &str, flag: &str) -> Result<(String, String), CliError> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(CliError::Usage(format!("{flag} {s}: expected NAME=VALUE"))),
    }
}

/// Runs a client command: its output on stdout, errors on stderr, and the exit code.
/// `command` builds the whole clap definition, for `completions`.
pub fn run(cmd: Command, command: fn() -> clap::Command) -> ExitCode {
    let result = match cmd {
        Command::Completions { shell } => {
            output::emit(&completions::script(shell, command()));
            Ok(())
        }
        other => match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(dispatch(other)),
            Err(e) => Err(CliError::Io(format!("cannot start the runtime: {e}"))),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let CliError::Usage(m) = &e {
                eprintln!("error: {m}\n\nFor more information, try '--help'.");
            } else {
                eprintln!("error: {e}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}

async fn dispatch(cmd: Command) -> Result<(), CliError> {
    match cmd {
        Command::Topics { client, command } => topics::run(&client, command).await,
        Command::Groups { client, command } => groups::run(&client, command).await,
        Command::Configs { client, command } => configs::run(&client, command).await,
        Command::Produce { client, args } => produce::run(&client, args).await,
        Command::Consume { client, args } => consume::run(&client, args).await,
        Command::Cluster { client } => cluster::run(&client).await,
        Command::Completions { .. } => Ok(()),
    }
}
