//! `weir configs describe | alter`: topic and broker configs.

use clap::{Args, Subcommand};
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::incremental_alter_configs_request::{
    AlterConfigsResource, AlterableConfig,
};
use kafka_protocol::messages::{DescribeConfigsRequest, IncrementalAlterConfigsRequest};
use serde_json::json;

use super::client::{name, Client, Conn};
use super::output::{self, Table};
use super::{key_value, CliError, ClientArgs};

/// Kafka's ConfigResource types.
pub const RESOURCE_TOPIC: i8 = 2;
pub const RESOURCE_BROKER: i8 = 4;

/// Which configs: a topic's or a broker's.
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct Resource {
    /// A topic's configs.
    #[arg(long)]
    pub topic: Option<String>,
    /// A broker's configs, by node id (sent to that broker).
    #[arg(long)]
    pub broker: Option<i32>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigsCommand {
    /// Every config of a topic or broker: value, source, read-only, sensitive. Sends
    /// DescribeConfigs (to the broker itself for --broker).
    Describe {
        #[command(flatten)]
        resource: Resource,
    },
    /// Set and remove configs. Sends IncrementalAlterConfigs (SET and DELETE operations).
    Alter {
        #[command(flatten)]
        resource: Resource,
        /// Set a config (repeatable).
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
        /// Remove a config override (repeatable).
        #[arg(long = "delete", value_name = "NAME")]
        delete: Vec<String>,
    },
}

pub async fn run(args: &ClientArgs, cmd: ConfigsCommand) -> Result<(), CliError> {
    match cmd {
        ConfigsCommand::Describe { resource } => {
            let mut client = Client::connect(&args.bootstrap_server).await?;
            describe(&mut client, args.json, &resource).await
        }
        ConfigsCommand::Alter {
            resource,
            set,
            delete,
        } => {
            if set.is_empty() && delete.is_empty() {
                return Err(CliError::Usage(
                    "configs alter: give --set or --delete".to_string(),
                ));
            }
            let set = set
                .iter()
                .map(|s| key_value(s, "--set"))
                .collect::<Result<Vec<_>, _>>()?;
            let mut client = Client::connect(&args.bootstrap_server).await?;
            let (kind, res_name, conn) = target(&mut client, &resource).await?;
            alter_configs(conn, kind, &res_name, &set, &delete).await?;
            if args.json {
                let set: serde_json::Map<String, serde_json::Value> = set
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone().into()))
                    .collect();
                output::json(&json!({
                    "resource_type": kind_name(kind),
                    "resource_name": res_name,
                    "set": set,
                    "deleted": delete,
                }));
            } else {
                output::emit(&format!(
                    "Updated the configs of {} {res_name}.\n",
                    kind_name(kind)
                ));
            }
            Ok(())
        }
    }
}

fn kind_name(kind: i8) -> &'static str {
    if kind == RESOURCE_TOPIC {
        "topic"
    } else {
        "broker"
    }
}

/// The resource's type and name, and the connection to send to: any broker for a topic,
/// the broker itself for a broker.
async fn target<'a>(
    client: &'a mut Client,
    resource: &Resource,
) -> Result<(i8, String, &'a mut Conn), CliError> {
    match (&resource.topic, resource.broker) {
        (Some(t), _) => Ok((RESOURCE_TOPIC, t.clone(), client.any())),
        (None, Some(b)) => Ok((RESOURCE_BROKER, b.to_string(), client.broker(b).await?)),
        (None, None) => Err(CliError::Usage("give --topic or --broker".to_string())),
    }
}

/// DescribeConfigs for every config of one resource.
pub fn describe_request(kind: i8, resource: &str) -> DescribeConfigsRequest {
    DescribeConfigsRequest::default().with_resources(vec![DescribeConfigsResource::default()
        .with_resource_type(kind)
        .with_resource_name(name(resource))
        .with_configuration_keys(None)])
}

/// Kafka's names of DescribeConfigs sources.
fn source_name(source: i8) -> &'static str {
    match source {
        1 => "DYNAMIC_TOPIC_CONFIG",
        2 => "DYNAMIC_BROKER_CONFIG",
        3 => "DYNAMIC_DEFAULT_BROKER_CONFIG",
        4 => "STATIC_BROKER_CONFIG",
        5 => "DEFAULT_CONFIG",
        6 => "DYNAMIC_BROKER_LOGGER_CONFIG",
        7 => "CLIENT_METRICS_CONFIG",
        8 => "GROUP_CONFIG",
        _ => "UNKNOWN",
    }
}

/// One config as DescribeConfigs tells it.
pub struct ConfigEntry {
    pub name: String,
    pub value: Option<String>,
    pub source: &'static str,
    pub read_only: bool,
    pub sensitive: bool,
}

/// Every config of one resource (DescribeConfigs on `conn`), sorted by name.
pub async fn describe_entries(
    conn: &mut Conn,
    kind: i8,
    res_name: &str,
) -> Result<Vec<ConfigEntry>, CliError> {
    let (resp, v) = conn.send(|_| describe_request(kind, res_name)).await?;
    let r = resp
        .results
        .first()
        .ok_or_else(|| CliError::Io("DescribeConfigs: empty answer".to_string()))?;
    super::check(
        r.error_code,
        format!("describing {} {res_name}", kind_name(kind)),
        r.error_message.as_ref().map(|m| m.to_string()),
    )?;
    let mut configs: Vec<ConfigEntry> = r
        .configs
        .iter()
        .map(|c| ConfigEntry {
            name: c.name.to_string(),
            value: c.value.as_ref().map(|v| v.to_string()),
            // v0 has only is_default.
            source: match (v, c.is_default) {
                (0, true) => "DEFAULT_CONFIG",
                (0, false) => "UNKNOWN",
                _ => source_name(c.config_source),
            },
            read_only: c.read_only,
            sensitive: c.is_sensitive,
        })
        .collect();
    configs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(configs)
}

/// The `--json` document of a resource's configs (and the console's answer).
pub fn entries_json(kind: i8, res_name: &str, configs: &[ConfigEntry]) -> serde_json::Value {
    let items: Vec<_> = configs
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "value": c.value,
                "source": c.source,
                "read_only": c.read_only,
                "sensitive": c.sensitive,
            })
        })
        .collect();
    json!({
        "resource_type": kind_name(kind),
        "resource_name": res_name,
        "configs": items,
    })
}

async fn describe(client: &mut Client, json: bool, resource: &Resource) -> Result<(), CliError> {
    let (kind, res_name, conn) = target(client, resource).await?;
    let configs = describe_entries(conn, kind, &res_name).await?;
    if json {
        output::json(&entries_json(kind, &res_name, &configs));
        return Ok(());
    }
    let mut table = Table::new(&["NAME", "VALUE", "SOURCE", "READ-ONLY", "SENSITIVE"]);
    for c in configs {
        let value = match (&c.value, c.sensitive) {
            (_, true) => "(sensitive)".to_string(),
            (Some(v), false) => v.clone(),
            (None, false) => "null".to_string(),
        };
        table.row(vec![
            c.name.clone(),
            value,
            c.source.to_string(),
            c.read_only.to_string(),
            c.sensitive.to_string(),
        ]);
    }
    table.print();
    Ok(())
}

/// IncrementalAlterConfigs for one resource: SET (0) each of `set`, DELETE (1) each of
/// `delete`. Fails with the resource's error.
pub async fn alter_configs(
    conn: &mut Conn,
    kind: i8,
    resource: &str,
    set: &[(String, String)],
    delete: &[String],
) -> Result<(), CliError> {
    let (resp, _) = conn
        .send(|_| alter_request(kind, resource, set, delete))
        .await?;
    let r = resp
        .responses
        .first()
        .ok_or_else(|| CliError::Io("IncrementalAlterConfigs: empty answer".to_string()))?;
    super::check(
        r.error_code,
        format!("altering the configs of {} {resource}", kind_name(kind)),
        r.error_message.as_ref().map(|m| m.to_string()),
    )
}

pub fn alter_request(
    kind: i8,
    resource: &str,
    set: &[(String, String)],
    delete: &[String],
) -> IncrementalAlterConfigsRequest {
    let configs = set
        .iter()
        .map(|(k, v)| {
            AlterableConfig::default()
                .with_name(name(k))
                .with_config_operation(0)
                .with_value(Some(name(v)))
        })
        .chain(delete.iter().map(|k| {
            AlterableConfig::default()
                .with_name(name(k))
                .with_config_operation(1)
                .with_value(None)
        }))
        .collect();
    IncrementalAlterConfigsRequest::default().with_resources(vec![AlterConfigsResource::default()
        .with_resource_type(kind)
        .with_resource_name(name(resource))
        .with_configs(configs)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::protocol::{Encodable, Message};

    #[test]
    fn requests_encode_at_every_version() {
        for v in DescribeConfigsRequest::VERSIONS.min..=DescribeConfigsRequest::VERSIONS.max {
            describe_request(RESOURCE_TOPIC, "t")
                .encode(&mut bytes::BytesMut::new(), v)
                .unwrap();
        }
        let set = vec![("retention.ms".to_string(), "1000".to_string())];
        let delete = vec!["segment.bytes".to_string()];
        for v in IncrementalAlterConfigsRequest::VERSIONS.min
            ..=IncrementalAlterConfigsRequest::VERSIONS.max
        {
            alter_request(RESOURCE_BROKER, "1", &set, &delete)
                .encode(&mut bytes::BytesMut::new(), v)
                .unwrap();
        }
    }
}
