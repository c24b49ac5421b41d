//! `weir groups list | describe | reset-offsets | delete`: consumer groups (classic protocol).

use std::collections::{BTreeMap, BTreeSet};

use bytes::Buf;
use clap::{Args, Subcommand};
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestGroup;
use kafka_protocol::messages::{
    ConsumerProtocolAssignment, DeleteGroupsRequest, DescribeGroupsRequest, ListGroupsRequest,
    OffsetCommitRequest, OffsetFetchRequest,
};
use kafka_protocol::protocol::Decodable;
use serde_json::json;

use super::client::{group_id, name, topic_name, Client};
use super::output::{self, Table};
use super::{CliError, ClientArgs};

#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// List the groups of every broker. Sends Metadata, then ListGroups to each broker.
    List,
    /// Members, assignments, and per partition the committed offset, log end offset and
    /// lag (as kafka-consumer-groups.sh --describe). Sends FindCoordinator, DescribeGroups
    /// and OffsetFetch to the coordinator, then Metadata and ListOffsets (latest) to leaders.
    Describe { group: String },
    /// Reset a group's committed offsets (a dry run unless --execute). Sends FindCoordinator,
    /// DescribeGroups (a group with members is refused, as Kafka does), OffsetFetch, Metadata
    /// and ListOffsets; with --execute, OffsetCommit (generation -1, no member).
    ResetOffsets(ResetArgs),
    /// Delete groups (they must have no members). Sends FindCoordinator and DeleteGroups to
    /// each group's coordinator.
    Delete {
        #[arg(required = true)]
        groups: Vec<String>,
    },
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["to_earliest", "to_latest", "to_offset", "shift_by"])))]
#[command(group(clap::ArgGroup::new("scope").required(true).args(["topic", "all_topics"])))]
pub struct ResetArgs {
    pub group: String,
    /// A topic, or TOPIC:P1,P2 for some of its partitions (repeatable).
    #[arg(long, value_name = "TOPIC[:PARTITIONS]")]
    pub topic: Vec<String>,
    /// Every topic the group has committed offsets for.
    #[arg(long)]
    pub all_topics: bool,
    /// To the log start offset.
    #[arg(long)]
    pub to_earliest: bool,
    /// To the log end offset.
    #[arg(long)]
    pub to_latest: bool,
    /// To this offset (kept within the log's start and end).
    #[arg(long, value_name = "N")]
    pub to_offset: Option<i64>,
    /// By N from the committed offset (negative to go back; kept within the log).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub shift_by: Option<i64>,
    /// Commit the new offsets (without it, only show them).
    #[arg(long)]
    pub execute: bool,
}

pub async fn run(args: &ClientArgs, cmd: GroupsCommand) -> Result<(), CliError> {
    let scope = match &cmd {
        GroupsCommand::ResetOffsets(r) => r
            .topic
            .iter()
            .map(|t| parse_topic(t))
            .collect::<Result<Vec<_>, _>>()?,
        _ => Vec::new(),
    };
    let mut client = Client::connect(&args.bootstrap_server).await?;
    match cmd {
        GroupsCommand::List => list(&mut client, args.json).await,
        GroupsCommand::Describe { group } => describe(&mut client, args.json, &group).await,
        GroupsCommand::ResetOffsets(r) => reset(&mut client, args.json, &r, scope).await,
        GroupsCommand::Delete { groups } => delete(&mut client, args.json, &groups).await,
    }
}

/// `TOPIC` or `TOPIC:0,1`: the topic and its chosen partitions (none: all).
fn parse_topic(s: &str) -> Result<(String, Vec<i32>), CliError> {
    match s.split_once(':') {
        None => Ok((s.to_string(), Vec::new())),
        Some((t, ps)) => {
            let parts = ps
                .split(',')
                .map(|p| p.trim().parse::<i32>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| CliError::Usage(format!("--topic {s}: expected TOPIC:0,1,...")))?;
            Ok((t.to_string(), parts))
        }
    }
}

/// Every group of every broker (ListGroups to each): name -> (state, protocol type, type).
pub async fn list_groups(
    client: &mut Client,
) -> Result<BTreeMap<String, (String, String, String)>, CliError> {
    let meta = client.metadata(Some(&[])).await?;
    let mut groups: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    for b in &meta.brokers {
        let conn = client.broker(b.id).await?;
        let (resp, _) = conn.send(|_| ListGroupsRequest::default()).await?;
        super::check(
            resp.error_code,
            format!("ListGroups to broker {}", b.id),
            None,
        )?;
        for g in resp.groups {
            groups.insert(
                g.group_id.0.to_string(),
                (
                    g.group_state.to_string(),
                    g.protocol_type.to_string(),
                    g.group_type.to_string(),
                ),
            );
        }
    }
    Ok(groups)
}

async fn list(client: &mut Client, json: bool) -> Result<(), CliError> {
    let groups = list_groups(client).await?;
    if json {
        let items: Vec<_> = groups
            .iter()
            .map(|(g, (state, protocol_type, kind))| {
                json!({
                    "group": g,
                    "state": (!state.is_empty()).then_some(state),
                    "protocol_type": protocol_type,
                    "type": (!kind.is_empty()).then_some(kind),
                })
            })
            .collect();
        output::json(&json!({ "groups": items }));
        return Ok(());
    }
    let mut table = Table::new(&["GROUP", "STATE", "PROTOCOL-TYPE"]);
    for (g, (state, protocol_type, _)) in &groups {
        table.row(vec![g.clone(), state.clone(), protocol_type.clone()]);
    }
    table.print();
    Ok(())
}

/// A group as DescribeGroups tells it.
pub struct Described {
    pub state: String,
    pub protocol_type: String,
    pub protocol: String,
    pub members: Vec<Member>,
}

/// A member of a group, with its assignment when it is a consumer.
pub struct Member {
    pub id: String,
    pub instance_id: Option<String>,
    pub client_id: String,
    pub host: String,
    pub assignment: Vec<(String, Vec<i32>)>,
}

/// A consumer's assignment: the version, then ConsumerProtocolAssignment at that version.
fn assignment(bytes: &bytes::Bytes) -> Vec<(String, Vec<i32>)> {
    let mut b = bytes.clone();
    if b.remaining() < 2 {
        return Vec::new();
    }
    let version = b.get_i16().clamp(0, 3);
    ConsumerProtocolAssignment::decode(&mut b, version)
        .map(|a| {
            a.assigned_partitions
                .into_iter()
                .map(|tp| (tp.topic.0.to_string(), tp.partitions))
                .collect()
        })
        .unwrap_or_default()
}

pub async fn describe_group(client: &mut Client, group: &str) -> Result<Described, CliError> {
    let (resp, _) = client
        .to_coordinator(
            group,
            |_| DescribeGroupsRequest::default().with_groups(vec![group_id(group)]),
            |r| r.groups.first().map_or(0, |g| g.error_code),
        )
        .await?;
    let g = resp
        .groups
        .into_iter()
        .next()
        .ok_or_else(|| CliError::Io("DescribeGroups: empty answer".to_string()))?;
    super::check(g.error_code, format!("group '{group}'"), None)?;
    let consumer = g.protocol_type.as_str() == "consumer";
    Ok(Described {
        state: g.group_state.to_string(),
        protocol_type: g.protocol_type.to_string(),
        protocol: g.protocol_data.to_string(),
        members: g
            .members
            .iter()
            .map(|m| Member {
                id: m.member_id.to_string(),
                instance_id: m.group_instance_id.as_ref().map(|i| i.to_string()),
                client_id: m.client_id.to_string(),
                host: m.client_host.to_string(),
                assignment: if consumer {
                    assignment(&m.member_assignment)
                } else {
                    Vec::new()
                },
            })
            .collect(),
    })
}

/// The group's committed offsets (OffsetFetch for all topics): (topic, partition) -> offset.
pub async fn committed(
    client: &mut Client,
    group: &str,
) -> Result<BTreeMap<(String, i32), i64>, CliError> {
    let (resp, v) = client
        .to_coordinator(
            group,
            |v| {
                if v >= 8 {
                    OffsetFetchRequest::default().with_groups(vec![
                        OffsetFetchRequestGroup::default()
                            .with_group_id(group_id(group))
                            .with_topics(None),
                    ])
                } else {
                    OffsetFetchRequest::default()
                        .with_group_id(group_id(group))
                        .with_topics(if v >= 2 { None } else { Some(Vec::new()) })
                }
            },
            |r| r.groups.first().map_or(r.error_code, |g| g.error_code),
        )
        .await?;
    let mut out = BTreeMap::new();
    let context = format!("OffsetFetch for group '{group}'");
    if v >= 8 {
        for g in resp.groups {
            super::check(g.error_code, &context, None)?;
            for t in g.topics {
                for p in t.partitions {
                    if p.error_code == 0 && p.committed_offset >= 0 {
                        out.insert(
                            (t.name.0.to_string(), p.partition_index),
                            p.committed_offset,
                        );
                    }
                }
            }
        }
    } else {
        super::check(resp.error_code, &context, None)?;
        for t in resp.topics {
            for p in t.partitions {
                if p.error_code == 0 && p.committed_offset >= 0 {
                    out.insert(
                        (t.name.0.to_string(), p.partition_index),
                        p.committed_offset,
                    );
                }
            }
        }
    }
    Ok(out)
}

/// One partition of a described group: its committed offset, the log end, the lag, and the
/// member that owns it (an index into the members).
pub struct OffsetRow {
    pub topic: String,
    pub partition: i32,
    pub current: Option<i64>,
    pub end: Option<i64>,
    pub lag: Option<i64>,
    pub owner: Option<usize>,
}

/// What `groups describe` shows of a group: DescribeGroups, OffsetFetch, and ListOffsets
/// (latest) for every partition with a commit or an owner.
pub struct GroupView {
    pub group: String,
    pub described: Described,
    pub rows: Vec<OffsetRow>,
}

impl GroupView {
    /// The sum of the known lags; None when no partition has one (nothing committed).
    pub fn total_lag(&self) -> Option<i64> {
        let mut lags = self.rows.iter().filter_map(|r| r.lag).peekable();
        lags.peek().is_some().then(|| lags.sum())
    }

    /// The `--json` document (and the console's group answer).
    pub fn to_json(&self) -> serde_json::Value {
        let d = &self.described;
        let members: Vec<_> = d
            .members
            .iter()
            .map(|m| {
                let assignment: Vec<_> = m
                    .assignment
                    .iter()
                    .map(|(t, ps)| json!({ "topic": t, "partitions": ps }))
                    .collect();
                json!({
                    "member_id": m.id,
                    "group_instance_id": m.instance_id,
                    "client_id": m.client_id,
                    "host": m.host,
                    "assignment": assignment,
                })
            })
            .collect();
        let offsets: Vec<_> = self
            .rows
            .iter()
            .map(|r| {
                let owner = r.owner.map(|i| &d.members[i]);
                json!({
                    "topic": r.topic,
                    "partition": r.partition,
                    "current_offset": r.current,
                    "log_end_offset": r.end,
                    "lag": r.lag,
                    "member_id": owner.map(|m| m.id.clone()),
                    "host": owner.map(|m| m.host.clone()),
                    "client_id": owner.map(|m| m.client_id.clone()),
                })
            })
            .collect();
        json!({
            "group": self.group,
            "state": d.state,
            "protocol_type": d.protocol_type,
            "protocol": d.protocol,
            "members": members,
            "offsets": offsets,
        })
    }
}

/// Describes a group with its offsets and lag; GROUP_ID_NOT_FOUND for one that does not
/// exist (Dead, with no commits).
pub async fn view(client: &mut Client, group: &str) -> Result<GroupView, CliError> {
    let d = describe_group(client, group).await?;
    let offsets = committed(client, group).await?;
    if d.state == "Dead" && offsets.is_empty() {
        return Err(CliError::kafka(
            69,
            format!("group '{group}'"),
            Some("the group does not exist".to_string()),
        ));
    }
    // Every partition with a committed offset or an owner.
    let mut owners: BTreeMap<(String, i32), usize> = BTreeMap::new();
    for (i, m) in d.members.iter().enumerate() {
        for (t, ps) in &m.assignment {
            for p in ps {
                owners.insert((t.clone(), *p), i);
            }
        }
    }
    let partitions: BTreeSet<(String, i32)> =
        offsets.keys().chain(owners.keys()).cloned().collect();
    let topics: Vec<String> = partitions
        .iter()
        .map(|(t, _)| t.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let ends = if topics.is_empty() {
        BTreeMap::new()
    } else {
        let meta = client.metadata(Some(&topics)).await?;
        let list: Vec<_> = partitions.iter().cloned().collect();
        client.list_offsets(&meta, &list, -1).await?
    };
    let rows = partitions
        .into_iter()
        .map(|tp| {
            let current = offsets.get(&tp).copied();
            let end = ends.get(&tp).and_then(|r| r.ok());
            let lag = match (current, end) {
                (Some(c), Some(e)) => Some((e - c).max(0)),
                _ => None,
            };
            let owner = owners.get(&tp).copied();
            OffsetRow {
                topic: tp.0,
                partition: tp.1,
                current,
                end,
                lag,
                owner,
            }
        })
        .collect();
    Ok(GroupView {
        group: group.to_string(),
        described: d,
        rows,
    })
}

async fn describe(client: &mut Client, json: bool, group: &str) -> Result<(), CliError> {
    let view = view(client, group).await?;
    if json {
        output::json(&view.to_json());
        return Ok(());
    }
    let d = &view.described;
    let mut text = format!(
        "Group {group}: state {}, {} member{}{}\n\n",
        d.state,
        d.members.len(),
        if d.members.len() == 1 { "" } else { "s" },
        if d.protocol.is_empty() {
            String::new()
        } else {
            format!(", assignor {}", d.protocol)
        },
    );
    let mut table = Table::new(&[
        "GROUP",
        "TOPIC",
        "PARTITION",
        "CURRENT-OFFSET",
        "LOG-END-OFFSET",
        "LAG",
        "CONSUMER-ID",
        "HOST",
        "CLIENT-ID",
    ]);
    let dash = || "-".to_string();
    for r in &view.rows {
        let owner = r.owner.map(|i| &d.members[i]);
        table.row(vec![
            group.to_string(),
            r.topic.clone(),
            r.partition.to_string(),
            output::offset(r.current),
            output::offset(r.end),
            output::offset(r.lag),
            owner.map_or_else(dash, |m| m.id.clone()),
            owner.map_or_else(dash, |m| m.host.clone()),
            owner.map_or_else(dash, |m| m.client_id.clone()),
        ]);
    }
    text.push_str(&table.render());
    if !d.members.is_empty() {
        let mut members = Table::new(&[
            "CONSUMER-ID",
            "INSTANCE-ID",
            "HOST",
            "CLIENT-ID",
            "ASSIGNMENT",
        ]);
        for m in &d.members {
            let assigned: Vec<String> = m
                .assignment
                .iter()
                .map(|(t, ps)| format!("{t}:{}", output::ids(ps)))
                .collect();
            members.row(vec![
                m.id.clone(),
                m.instance_id.clone().unwrap_or_else(dash),
                m.host.clone(),
                m.client_id.clone(),
                if assigned.is_empty() {
                    dash()
                } else {
                    assigned.join(" ")
                },
            ]);
        }
        text.push('\n');
        text.push_str(&members.render());
    }
    output::emit(&text);
    Ok(())
}

/// The new offset of one partition, kept within [start, end].
fn target(r: &ResetArgs, current: Option<i64>, start: i64, end: i64) -> i64 {
    let wanted = if r.to_earliest {
        start
    } else if r.to_latest {
        end
    } else if let Some(o) = r.to_offset {
        o
    } else {
        // Without a committed offset, shift from the log start.
        current
            .unwrap_or(start)
            .saturating_add(r.shift_by.unwrap_or(0))
    };
    wanted.clamp(start, end.max(start))
}

async fn reset(
    client: &mut Client,
    json: bool,
    r: &ResetArgs,
    scope: Vec<(String, Vec<i32>)>,
) -> Result<(), CliError> {
    let group = r.group.as_str();
    let d = describe_group(client, group).await?;
    if !d.members.is_empty() || !matches!(d.state.as_str(), "Empty" | "Dead") {
        return Err(CliError::Failed(format!(
            "assignments can only be reset if the group '{group}' is inactive, but the current \
             state is {} with {} member(s)",
            d.state,
            d.members.len()
        )));
    }
    let current = committed(client, group).await?;
    let scope: Vec<(String, Vec<i32>)> = if r.all_topics {
        let topics: BTreeSet<&String> = current.keys().map(|(t, _)| t).collect();
        topics
            .into_iter()
            .map(|t| (t.clone(), Vec::new()))
            .collect()
    } else {
        scope
    };
    let topics: Vec<String> = scope.iter().map(|(t, _)| t.clone()).collect();
    let mut partitions = Vec::new();
    if !topics.is_empty() {
        let meta = client.metadata(Some(&topics)).await?;
        for (t, chosen) in &scope {
            let info = meta
                .topic(t)
                .ok_or_else(|| CliError::kafka(3, format!("topic '{t}'"), None))?;
            super::check(info.error, format!("topic '{t}'"), None)?;
            for p in &info.partitions {
                if chosen.is_empty() || chosen.contains(&p.partition) {
                    partitions.push((t.clone(), p.partition));
                }
            }
            if let Some(missing) = chosen
                .iter()
                .find(|c| !info.partitions.iter().any(|p| p.partition == **c))
            {
                return Err(CliError::kafka(
                    3,
                    format!("topic '{t}' partition {missing}"),
                    None,
                ));
            }
        }
        let starts = client.list_offsets(&meta, &partitions, -2).await?;
        let ends = client.list_offsets(&meta, &partitions, -1).await?;
        let mut plan = Vec::new();
        for tp in &partitions {
            let offset = |m: &BTreeMap<(String, i32), Result<i64, i16>>| match m.get(tp) {
                Some(Ok(o)) => Ok(*o),
                Some(Err(code)) => Err(CliError::kafka(
                    *code,
                    format!("ListOffsets for {}-{}", tp.0, tp.1),
                    None,
                )),
                None => Err(CliError::kafka(
                    3,
                    format!("ListOffsets for {}-{}", tp.0, tp.1),
                    None,
                )),
            };
            let (start, end) = (offset(&starts)?, offset(&ends)?);
            let now = current.get(tp).copied();
            plan.push((tp.clone(), now, target(r, now, start, end)));
        }
        return apply(client, json, group, r.execute, plan).await;
    }
    apply(client, json, group, r.execute, Vec::new()).await
}

type Plan = Vec<((String, i32), Option<i64>, i64)>;

/// Prints the plan; with `execute`, commits it first (OffsetCommit, generation -1).
async fn apply(
    client: &mut Client,
    json: bool,
    group: &str,
    execute: bool,
    plan: Plan,
) -> Result<(), CliError> {
    let mut errors: BTreeMap<(String, i32), i16> = BTreeMap::new();
    if execute && !plan.is_empty() {
        let mut by_topic: BTreeMap<&str, Vec<(i32, i64)>> = BTreeMap::new();
        for ((t, p), _, new) in &plan {
            by_topic.entry(t.as_str()).or_default().push((*p, *new));
        }
        let (resp, _) = client
            .to_coordinator(
                group,
                |_| commit_request(group, &by_topic),
                |r| {
                    r.topics
                        .iter()
                        .flat_map(|t| t.partitions.iter())
                        .map(|p| p.error_code)
                        .find(|c| *c != 0)
                        .unwrap_or(0)
                },
            )
            .await?;
        for t in resp.topics {
            for p in t.partitions {
                errors.insert((t.name.0.to_string(), p.partition_index), p.error_code);
            }
        }
    }
    let failed = errors.iter().find(|(_, c)| **c != 0).map(|((t, p), c)| {
        CliError::kafka(*c, format!("committing group '{group}' at {t}-{p}"), None)
    });
    if json {
        let items: Vec<_> = plan
            .iter()
            .map(|((t, p), prev, new)| {
                json!({
                    "topic": t,
                    "partition": p,
                    "previous_offset": prev,
                    "new_offset": new,
                    "error": output::error_json(errors.get(&(t.clone(), *p)).copied().unwrap_or(0)),
                })
            })
            .collect();
        output::json(&json!({ "group": group, "executed": execute, "partitions": items }));
    } else {
        let mut table = Table::new(&[
            "GROUP",
            "TOPIC",
            "PARTITION",
            "PREVIOUS-OFFSET",
            "NEW-OFFSET",
        ]);
        for ((t, p), prev, new) in &plan {
            table.row(vec![
                group.to_string(),
                t.clone(),
                p.to_string(),
                output::offset(*prev),
                new.to_string(),
            ]);
        }
        table.print();
    }
    if !execute {
        eprintln!("Dry run: nothing was committed; add --execute to reset the offsets.");
    }
    failed.map_or(Ok(()), Err)
}

/// OffsetCommit outside any generation (-1, no member), as a consumer using assign() does:
/// accepted by the coordinator only while the group has no members.
pub fn commit_request(
    group: &str,
    offsets: &BTreeMap<&str, Vec<(i32, i64)>>,
) -> OffsetCommitRequest {
    OffsetCommitRequest::default()
        .with_group_id(group_id(group))
        .with_generation_id_or_member_epoch(-1)
        .with_member_id(name(""))
        .with_topics(
            offsets
                .iter()
                .map(|(t, ps)| {
                    OffsetCommitRequestTopic::default()
                        .with_name(topic_name(t))
                        .with_partitions(
                            ps.iter()
                                .map(|(p, o)| {
                                    OffsetCommitRequestPartition::default()
                                        .with_partition_index(*p)
                                        .with_committed_offset(*o)
                                })
                                .collect(),
                        )
                })
                .collect(),
        )
}

/// DeleteGroups for one group at its coordinator: the group's error code.
pub async fn delete_group(client: &mut Client, group: &str) -> Result<i16, CliError> {
    let (resp, _) = client
        .to_coordinator(
            group,
            |_| DeleteGroupsRequest::default().with_groups_names(vec![group_id(group)]),
            |r| r.results.first().map_or(0, |g| g.error_code),
        )
        .await?;
    Ok(resp.results.first().map_or(0, |g| g.error_code))
}

async fn delete(client: &mut Client, json: bool, groups: &[String]) -> Result<(), CliError> {
    let mut results = Vec::new();
    for group in groups {
        results.push((group.clone(), delete_group(client, group).await?));
    }
    let failed = results
        .iter()
        .find(|(_, c)| *c != 0)
        .map(|(g, c)| CliError::kafka(*c, format!("deleting group '{g}'"), None));
    if json {
        let items: Vec<_> = results
            .iter()
            .map(|(g, c)| json!({ "group": g, "error": output::error_json(*c) }))
            .collect();
        output::json(&json!({ "groups": items }));
    } else {
        let mut table = Table::new(&["GROUP", "RESULT"]);
        for (g, c) in &results {
            table.row(vec![
                g.clone(),
                if *c == 0 {
                    "deleted".to_string()
                } else {
                    output::error_name(*c)
                },
            ]);
        }
        table.print();
    }
    failed.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::protocol::{Encodable, Message};

    #[test]
    fn commit_encodes_at_every_version() {
        let mut offsets = BTreeMap::new();
        offsets.insert("t", vec![(0, 5)]);
        for v in OffsetCommitRequest::VERSIONS.min..=OffsetCommitRequest::VERSIONS.max {
            commit_request("g", &offsets)
                .encode(&mut bytes::BytesMut::new(), v)
                .unwrap();
        }
    }

    #[test]
    fn topics_with_partitions() {
        assert_eq!(parse_topic("t").unwrap(), ("t".to_string(), vec![]));
        assert_eq!(parse_topic("t:0,2").unwrap(), ("t".to_string(), vec![0, 2]));
        assert!(parse_topic("t:x").is_err());
    }
}
