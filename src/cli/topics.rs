//! `weir topics list | describe | create | alter | delete`.

use clap::Subcommand;
use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::create_topics_response::CreatableTopicResult;
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::{CreatePartitionsRequest, CreateTopicsRequest, DeleteTopicsRequest};
use serde_json::json;

use super::client::{name, topic_name, Client, MetadataInfo, PartitionInfo};
use super::configs::{alter_configs, RESOURCE_TOPIC};
use super::output::{self, Table};
use super::{key_value, CliError, ClientArgs};

const TIMEOUT_MS: i32 = 30_000;

#[derive(Debug, Subcommand)]
pub enum TopicsCommand {
    /// List topics with their partition count and replication factor. Sends Metadata (all
    /// topics).
    List {
        /// Leave out internal topics (__consumer_offsets).
        #[arg(long)]
        exclude_internal: bool,
    },
    /// Show each partition's leader, replicas, ISR and log start/end offsets. Sends Metadata,
    /// then ListOffsets (earliest and latest) to each partition's leader.
    Describe {
        /// Topics to describe (all when none is given).
        topics: Vec<String>,
        /// Leave out internal topics when describing all.
        #[arg(long)]
        exclude_internal: bool,
    },
    /// Create a topic. Sends CreateTopics.
    Create {
        topic: String,
        /// Partitions (the broker's num.partitions when not given).
        #[arg(long)]
        partitions: Option<i32>,
        /// Replication factor (the broker's default.replication.factor when not given).
        #[arg(long)]
        replication_factor: Option<i16>,
        /// A topic config, e.g. --config cleanup.policy=compact (repeatable).
        #[arg(long = "config", value_name = "NAME=VALUE")]
        configs: Vec<String>,
        /// Succeed quietly when the topic exists already.
        #[arg(long)]
        if_not_exists: bool,
    },
    /// Add partitions (CreatePartitions) or change configs (IncrementalAlterConfigs).
    Alter {
        topic: String,
        /// The new total number of partitions (only ever more).
        #[arg(long)]
        partitions: Option<i32>,
        /// Set a topic config (repeatable).
        #[arg(long = "config", value_name = "NAME=VALUE")]
        configs: Vec<String>,
        /// Remove a topic config override, back to the broker default (repeatable).
        #[arg(long = "delete-config", value_name = "NAME")]
        delete_configs: Vec<String>,
    },
    /// Delete topics. Sends DeleteTopics.
    Delete {
        #[arg(required = true)]
        topics: Vec<String>,
    },
}

pub async fn run(args: &ClientArgs, cmd: TopicsCommand) -> Result<(), CliError> {
    // Usage errors before connecting.
    if let TopicsCommand::Alter {
        partitions: None,
        configs,
        delete_configs,
        ..
    } = &cmd
    {
        if configs.is_empty() && delete_configs.is_empty() {
            return Err(CliError::Usage(
                "topics alter: give --partitions, --config or --delete-config".to_string(),
            ));
        }
    }
    let configs_given = match &cmd {
        TopicsCommand::Create { configs, .. } | TopicsCommand::Alter { configs, .. } => configs
            .iter()
            .map(|c| key_value(c, "--config"))
            .collect::<Result<Vec<_>, _>>()?,
        _ => Vec::new(),
    };
    let mut client = Client::connect(&args.bootstrap_server).await?;
    match cmd {
        TopicsCommand::List { exclude_internal } => {
            list(&mut client, args.json, exclude_internal).await
        }
        TopicsCommand::Describe {
            topics,
            exclude_internal,
        } => describe(&mut client, args.json, topics, exclude_internal).await,
        TopicsCommand::Create {
            topic,
            partitions,
            replication_factor,
            if_not_exists,
            ..
        } => {
            create(
                &mut client,
                args.json,
                &topic,
                partitions.unwrap_or(-1),
                replication_factor.unwrap_or(-1),
                &configs_given,
                if_not_exists,
            )
            .await
        }
        TopicsCommand::Alter {
            topic,
            partitions,
            delete_configs,
            ..
        } => {
            alter(
                &mut client,
                args.json,
                &topic,
                partitions,
                &configs_given,
                &delete_configs,
            )
            .await
        }
        TopicsCommand::Delete { topics } => delete(&mut client, args.json, &topics).await,
    }
}

/// Fails with the first topic-level error (UNKNOWN_TOPIC_OR_PARTITION for a missing one).
fn check_topics(meta: &MetadataInfo) -> Result<(), CliError> {
    for t in &meta.topics {
        super::check(t.error, format!("topic '{}'", t.name), None)?;
    }
    Ok(())
}

async fn list(client: &mut Client, json: bool, exclude_internal: bool) -> Result<(), CliError> {
    let mut meta = client.metadata(None).await?;
    meta.topics.retain(|t| !(exclude_internal && t.internal));
    meta.topics.sort_by(|a, b| a.name.cmp(&b.name));
    if json {
        let topics: Vec<_> = meta
            .topics
            .iter()
            .map(|t| {
                json!({
                    "name": t.name,
                    "topic_id": t.id.to_string(),
                    "partitions": t.partitions.len(),
                    "replication_factor": t.partitions.first().map_or(0, |p| p.replicas.len()),
                    "internal": t.internal,
                })
            })
            .collect();
        output::json(&json!({ "topics": topics }));
        return Ok(());
    }
    let mut table = Table::new(&["TOPIC", "PARTITIONS", "REPLICATION-FACTOR", "TOPIC-ID"]);
    for t in &meta.topics {
        table.row(vec![
            t.name.clone(),
            t.partitions.len().to_string(),
            t.partitions
                .first()
                .map_or(0, |p| p.replicas.len())
                .to_string(),
            t.id.to_string(),
        ]);
    }
    table.print();
    Ok(())
}

async fn describe(
    client: &mut Client,
    json: bool,
    topics: Vec<String>,
    exclude_internal: bool,
) -> Result<(), CliError> {
    let all = topics.is_empty();
    let mut meta = client
        .metadata(if all { None } else { Some(&topics) })
        .await?;
    check_topics(&meta)?;
    if all {
        meta.topics.retain(|t| !(exclude_internal && t.internal));
        meta.topics.sort_by(|a, b| a.name.cmp(&b.name));
    }
    let partitions: Vec<(String, i32)> = meta
        .topics
        .iter()
        .flat_map(|t| t.partitions.iter().map(|p| (t.name.clone(), p.partition)))
        .collect();
    let starts = client.list_offsets(&meta, &partitions, -2).await?;
    let ends = client.list_offsets(&meta, &partitions, -1).await?;
    let get = |m: &std::collections::BTreeMap<(String, i32), Result<i64, i16>>, t: &str, p: i32| {
        m.get(&(t.to_string(), p)).and_then(|r| r.ok())
    };
    if json {
        let topics: Vec<_> = meta
            .topics
            .iter()
            .map(|t| {
                let parts: Vec<_> = t
                    .partitions
                    .iter()
                    .map(|p| {
                        partition_json(
                            p,
                            get(&starts, &t.name, p.partition),
                            get(&ends, &t.name, p.partition),
                        )
                    })
                    .collect();
                json!({
                    "name": t.name,
                    "topic_id": t.id.to_string(),
                    "internal": t.internal,
                    "partitions": parts,
                })
            })
            .collect();
        output::json(&json!({ "topics": topics }));
        return Ok(());
    }
    let mut table = Table::new(&[
        "TOPIC",
        "PARTITION",
        "LEADER",
        "REPLICAS",
        "ISR",
        "LOG-START-OFFSET",
        "LOG-END-OFFSET",
    ]);
    for t in &meta.topics {
        for p in &t.partitions {
            table.row(vec![
                t.name.clone(),
                p.partition.to_string(),
                if p.leader >= 0 {
                    p.leader.to_string()
                } else {
                    "none".to_string()
                },
                output::ids(&p.replicas),
                output::ids(&p.isr),
                output::offset(get(&starts, &t.name, p.partition)),
                output::offset(get(&ends, &t.name, p.partition)),
            ]);
        }
    }
    table.print();
    Ok(())
}

/// CreateTopics for one topic (-1: the broker's default partitions or replication factor):
/// the topic's result, error code included.
pub async fn create_topic(
    client: &mut Client,
    topic: &str,
    partitions: i32,
    replication_factor: i16,
    configs: &[(String, String)],
) -> Result<CreatableTopicResult, CliError> {
    let (resp, _) = client
        .any()
        .send(|_| {
            CreateTopicsRequest::default()
                .with_timeout_ms(TIMEOUT_MS)
                .with_topics(vec![CreatableTopic::default()
                    .with_name(topic_name(topic))
                    .with_num_partitions(partitions)
                    .with_replication_factor(replication_factor)
                    .with_configs(
                        configs
                            .iter()
                            .map(|(k, v)| {
                                CreatableTopicConfig::default()
                                    .with_name(name(k))
                                    .with_value(Some(name(v)))
                            })
                            .collect(),
                    )])
        })
        .await?;
    resp.topics
        .into_iter()
        .next()
        .ok_or_else(|| CliError::Io("CreateTopics: empty answer".to_string()))
}

/// A partition in `topics describe --json` (and the console's topic page): Metadata's view
/// and its log start and end offsets (the high watermark), with the records between them.
pub fn partition_json(
    p: &PartitionInfo,
    start: Option<i64>,
    end: Option<i64>,
) -> serde_json::Value {
    json!({
        "partition": p.partition,
        "leader": p.leader,
        "leader_epoch": p.leader_epoch,
        "replicas": p.replicas,
        "isr": p.isr,
        "offline": p.offline,
        "log_start_offset": output::offset_json(start),
        "log_end_offset": output::offset_json(end),
        "messages": start.zip(end).map(|(s, e)| (e - s).max(0)),
        "error": output::error_json(p.error),
    })
}

async fn create(
    client: &mut Client,
    json: bool,
    topic: &str,
    partitions: i32,
    replication_factor: i16,
    configs: &[(String, String)],
    if_not_exists: bool,
) -> Result<(), CliError> {
    let r = create_topic(client, topic, partitions, replication_factor, configs).await?;
    let exists = r.error_code == 36 && if_not_exists;
    if !exists {
        super::check(
            r.error_code,
            format!("creating topic '{topic}'"),
            r.error_message.as_ref().map(|m| m.to_string()),
        )?;
    }
    if json {
        output::json(&json!({
            "name": topic,
            "created": !exists,
            "topic_id": (!r.topic_id.is_nil()).then(|| r.topic_id.to_string()),
            "partitions": (r.num_partitions > 0).then_some(r.num_partitions),
            "replication_factor": (r.replication_factor > 0).then_some(r.replication_factor),
        }));
    } else if exists {
        output::emit(&format!("Topic {topic} exists already.\n"));
    } else {
        output::emit(&format!("Created topic {topic}.\n"));
    }
    Ok(())
}

async fn alter(
    client: &mut Client,
    json: bool,
    topic: &str,
    partitions: Option<i32>,
    configs: &[(String, String)],
    delete_configs: &[String],
) -> Result<(), CliError> {
    let mut result = serde_json::Map::new();
    result.insert("name".into(), topic.into());
    if let Some(count) = partitions {
        let (resp, _) = client
            .any()
            .send(|_| {
                CreatePartitionsRequest::default()
                    .with_timeout_ms(TIMEOUT_MS)
                    .with_topics(vec![CreatePartitionsTopic::default()
                        .with_name(topic_name(topic))
                        .with_count(count)
                        .with_assignments(None)])
            })
            .await?;
        let r = resp
            .results
            .first()
            .ok_or_else(|| CliError::Io("CreatePartitions: empty answer".to_string()))?;
        super::check(
            r.error_code,
            format!("adding partitions to topic '{topic}'"),
            r.error_message.as_ref().map(|m| m.to_string()),
        )?;
        result.insert("partitions".into(), count.into());
        if !json {
            output::emit(&format!("Topic {topic} now has {count} partitions.\n"));
        }
    }
    if !configs.is_empty() || !delete_configs.is_empty() {
        let conn = client.any();
        alter_configs(conn, RESOURCE_TOPIC, topic, configs, delete_configs).await?;
        let set: serde_json::Map<String, serde_json::Value> = configs
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into()))
            .collect();
        result.insert("set".into(), set.into());
        result.insert("deleted".into(), delete_configs.into());
        if !json {
            output::emit(&format!("Updated the configs of topic {topic}.\n"));
        }
    }
    if json {
        output::json(&result.into());
    }
    Ok(())
}

/// DeleteTopics by name: the topic states from v6 on, the name list before.
pub fn delete_request(topics: &[String], v: i16) -> DeleteTopicsRequest {
    let req = DeleteTopicsRequest::default().with_timeout_ms(TIMEOUT_MS);
    if v >= 6 {
        req.with_topics(
            topics
                .iter()
                .map(|t| DeleteTopicState::default().with_name(Some(topic_name(t))))
                .collect(),
        )
    } else {
        req.with_topic_names(topics.iter().map(|t| topic_name(t)).collect())
    }
}

async fn delete(client: &mut Client, json: bool, topics: &[String]) -> Result<(), CliError> {
    let (resp, _) = client.any().send(|v| delete_request(topics, v)).await?;
    let mut failed = None;
    let mut table = Table::new(&["TOPIC", "RESULT"]);
    let mut items = Vec::new();
    for r in &resp.responses {
        let topic = r.name.as_ref().map(|n| n.0.to_string()).unwrap_or_default();
        let message = r.error_message.as_ref().map(|m| m.to_string());
        if r.error_code != 0 && failed.is_none() {
            failed = Some(CliError::kafka(
                r.error_code,
                format!("deleting topic '{topic}'"),
                message.clone(),
            ));
        }
        table.row(vec![
            topic.clone(),
            if r.error_code == 0 {
                "deleted".to_string()
            } else {
                output::error_name(r.error_code)
            },
        ]);
        items.push(json!({
            "name": topic,
            "error": output::error_json(r.error_code),
            "message": message,
        }));
    }
    if json {
        output::json(&json!({ "topics": items }));
    } else {
        table.print();
    }
    failed.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::protocol::{Encodable, Message};

    #[test]
    fn delete_encodes_at_every_version() {
        let topics = vec!["a".to_string()];
        for v in DeleteTopicsRequest::VERSIONS.min..=DeleteTopicsRequest::VERSIONS.max {
            delete_request(&topics, v)
                .encode(&mut bytes::BytesMut::new(), v)
                .unwrap();
        }
    }
}
