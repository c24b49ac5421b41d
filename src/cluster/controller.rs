//! The active controller: the raft leader's side of the cluster. It takes requests from
//! brokers (its own included), runs the pure decisions of [`super::decide`] one at a time on
//! its image, and proposes their records as one raft entry. It also keeps the brokers'
//! heartbeats (in memory: they are not metadata) and fences a broker whose session expires.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::decide::{self, CreateTopic};
use super::election;
use super::image::{BrokerInfo, Image, PartitionMeta, Record, TopicMeta};
use super::reassign;
use super::security;
use crate::protocol::error_code as ec;
use crate::security::acl::{AclBinding, AclFilter};
use crate::topics::TopicError;

/// Producer ids handed to a broker at a time (Kafka's block size).
pub const PRODUCER_ID_BLOCK: i64 = 1000;

/// A request to the active controller.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ControllerRequest {
    CreateTopic(CreateTopic),
    DeleteTopic {
        name: String,
    },
    CreatePartitions {
        name: String,
        count: i32,
        assignments: Option<Vec<Vec<i32>>>,
    },
    SetTopicConfigs {
        name: String,
        configs: BTreeMap<String, String>,
    },
    AllocateProducerIds {
        broker: i32,
    },
    Register(BrokerInfo),
    Heartbeat {
        broker: i32,
        incarnation: Uuid,
    },
    /// The quorum as the active controller sees it (every member's progress).
    DescribeQuorum,
    /// A partition leader's ISR change.
    AlterPartition(decide::AlterPartition),
    /// A broker stopping: its partitions get other leaders and it leaves every ISR.
    ControlledShutdown {
        broker: i32,
        incarnation: Uuid,
    },
    /// ElectLeaders: these partitions by topic name, or all of them (`None`).
    ElectLeaders {
        election: election::ElectionType,
        partitions: Option<Vec<(String, Vec<i32>)>>,
    },
    /// AlterPartitionReassignments: per topic name, per partition, a target replica list
    /// (`None` cancels the move in progress).
    AlterReassignments {
        partitions: reassign::Targets,
    },
    /// Replaces the dynamic configs of a broker resource (an id, or "" for the default),
    /// validated by the receiving broker.
    SetBrokerConfigs {
        resource: String,
        configs: BTreeMap<String, String>,
    },
    /// CreateAcls: the bindings to add (answered per binding).
    CreateAcls {
        bindings: Vec<AclBinding>,
    },
    /// DeleteAcls: the filters whose matches to remove (answered per filter).
    DeleteAcls {
        filters: Vec<AclFilter>,
    },
    /// AlterClientQuotas: the changes, validated by the broker that took the request
    /// (entity, key, value; None removes).
    AlterClientQuotas {
        changes: Vec<(crate::quota::QuotaEntity, String, Option<f64>)>,
    },
    /// AlterUserScramCredentials (answered per user).
    AlterScram {
        deletions: Vec<security::ScramDeletion>,
        upsertions: Vec<security::ScramUpsertion>,
    },
}

/// The controller's answer. `index` is the raft index of the entry that carried the change
/// (0: nothing was written); the requester waits until it has applied that index itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ControllerReply {
    pub index: u64,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Outcome {
    Topic(TopicMeta),
    ProducerIds {
        start: i64,
        len: i64,
    },
    /// A heartbeat's answer: whether the broker must register (again).
    Heartbeat {
        register: bool,
    },
    /// The quorum as the active controller sees it.
    Quorum(super::QuorumState),
    /// A partition as it is after the change.
    Partition(PartitionMeta),
    /// ElectLeaders' results per topic.
    Elections(Vec<(String, Vec<election::PartitionResult>)>),
    /// AlterPartitionReassignments' answers per topic and partition.
    Reassignments(reassign::Answers),
    /// CreateAcls' answer per binding.
    AclsCreated(Vec<Result<(), security::ItemError>>),
    /// DeleteAcls' matches per filter.
    AclsDeleted(Vec<Vec<AclBinding>>),
    /// AlterUserScramCredentials' answer per user.
    Scram(Vec<security::UserAnswer>),
    Done,
}

/// The controller's own state, valid while this node leads in `term`.
pub struct ControllerState {
    /// Last heartbeat (or registration) per broker, since this node became leader.
    pub last_seen: HashMap<i32, Instant>,
    /// The raft term this state belongs to.
    pub term: u64,
    /// When this node became leader in `term`: a broker not seen since counts from it.
    pub since: Instant,
}

impl ControllerState {
    pub fn new(term: u64, since: Instant) -> Self {
        ControllerState {
            last_seen: HashMap::new(),
            term,
            since,
        }
    }
}

/// What to propose for a request, and the outcome to answer once it is committed.
pub fn decide(
    image: &Image,
    req: &ControllerRequest,
    default_replication_factor: i16,
) -> Result<(Vec<Record>, Outcome), TopicError> {
    match req {
        ControllerRequest::CreateTopic(spec) => {
            let (topic, records) =
                decide::create_topic(image, spec, default_replication_factor, Uuid::new_v4())?;
            Ok((records, Outcome::Topic(topic)))
        }
        ControllerRequest::DeleteTopic { name } => {
            let (topic, records) = decide::delete_topic(image, name)?;
            Ok((records, Outcome::Topic(topic)))
        }
        ControllerRequest::CreatePartitions {
            name,
            count,
            assignments,
        } => {
            let (topic, records) =
                decide::create_partitions(image, name, *count, assignments.as_ref())?;
            Ok((records, Outcome::Topic(topic)))
        }
        ControllerRequest::SetTopicConfigs { name, configs } => {
            let (topic, records) = decide::set_configs(image, name, configs.clone())?;
            Ok((records, Outcome::Topic(topic)))
        }
        ControllerRequest::AllocateProducerIds { .. } => {
            let start = image.next_producer_id;
            let next = start.checked_add(PRODUCER_ID_BLOCK).ok_or(TopicError {
                code: ec::UNKNOWN_SERVER_ERROR,
                message: "producer ids exhausted".into(),
            })?;
            Ok((
                vec![Record::ProducerIds { next }],
                Outcome::ProducerIds {
                    start,
                    len: PRODUCER_ID_BLOCK,
                },
            ))
        }
        ControllerRequest::Register(info) => Ok((decide::register(image, info), Outcome::Done)),
        ControllerRequest::Heartbeat {
            broker,
            incarnation,
        } => match image.brokers.get(broker) {
            Some(b) if b.incarnation == *incarnation => Ok((
                decide::unfence(image, *broker),
                Outcome::Heartbeat { register: false },
            )),
            _ => Ok((vec![], Outcome::Heartbeat { register: true })),
        },
        // Answered by the controller from its raft state, not from the image.
        ControllerRequest::DescribeQuorum => Ok((vec![], Outcome::Done)),
        ControllerRequest::ControlledShutdown {
            broker,
            incarnation,
        } => match image.brokers.get(broker) {
            Some(b) if b.incarnation == *incarnation => {
                Ok((decide::fence(image, *broker), Outcome::Done))
            }
            _ => Ok((vec![], Outcome::Done)),
        },
        ControllerRequest::AlterPartition(req) => {
            let (records, after) = decide::alter_partition(image, req)?;
            Ok((records, Outcome::Partition(after)))
        }
        ControllerRequest::ElectLeaders {
            election,
            partitions,
        } => {
            let (records, results) =
                election::elect_leaders(image, *election, partitions.as_deref());
            Ok((records, Outcome::Elections(results)))
        }
        ControllerRequest::SetBrokerConfigs { resource, configs } => Ok((
            vec![Record::BrokerConfigs {
                resource: resource.clone(),
                configs: configs.clone(),
            }],
            Outcome::Done,
        )),
        ControllerRequest::CreateAcls { bindings } => {
            let (records, answers) = security::create_acls(image, bindings);
            Ok((records, Outcome::AclsCreated(answers)))
        }
        ControllerRequest::DeleteAcls { filters } => {
            let (records, matched) = security::delete_acls(image, filters);
            Ok((records, Outcome::AclsDeleted(matched)))
        }
        ControllerRequest::AlterClientQuotas { changes } => Ok((
            changes
                .iter()
                .map(|(entity, key, value)| Record::ClientQuota {
                    entity: entity.clone(),
                    key: key.clone(),
                    value: *value,
                })
                .collect(),
            Outcome::Done,
        )),
        ControllerRequest::AlterScram {
            deletions,
            upsertions,
        } => {
            let (records, answers) = security::alter_scram(image, deletions, upsertions);
            Ok((records, Outcome::Scram(answers)))
        }
        ControllerRequest::AlterReassignments { partitions } => {
            let (records, answers) = reassign::alter_all(image, partitions);
            Ok((records, Outcome::Reassignments(answers)))
        }
    }
}

/// Brokers whose session expired at `now`: live in the image, and not seen for longer than
/// `session_timeout`. A broker never seen since this node became leader counts from
/// `state.since` (a new controller gives every broker a full session).
pub fn expired(
    image: &Image,
    state: &ControllerState,
    now: Instant,
    session_timeout: std::time::Duration,
) -> Vec<i32> {
    image
        .live_brokers()
        .filter(|b| {
            let seen = state.last_seen.get(&b.id).copied().unwrap_or(state.since);
            now.saturating_duration_since(seen) > session_timeout
        })
        .map(|b| b.id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::image::test_broker as broker;
    use std::time::Duration;

    #[test]
    fn sessions_expire_from_last_sight_or_leadership() {
        let mut image = Image::default();
        for (id, fenced) in [(1, false), (2, false), (3, true)] {
            image.apply(&Record::RegisterBroker(broker(id, fenced)));
        }
        let t0 = Instant::now();
        let timeout = Duration::from_secs(9);
        let mut state = ControllerState::new(1, t0);
        state.last_seen.insert(1, t0 + Duration::from_secs(5));
        // Broker 2 never seen: counted from leadership; broker 3 already fenced.
        assert!(expired(&image, &state, t0 + Duration::from_secs(9), timeout).is_empty());
        assert_eq!(
            expired(&image, &state, t0 + Duration::from_secs(10), timeout),
            [2]
        );
        assert_eq!(
            expired(&image, &state, t0 + Duration::from_secs(15), timeout),
            [1, 2]
        );
    }

    #[test]
    fn heartbeats_ask_unknown_incarnations_to_register() {
        let mut image = Image::default();
        image.apply(&Record::RegisterBroker(broker(1, true)));
        let hb = |incarnation| ControllerRequest::Heartbeat {
            broker: 1,
            incarnation,
        };
        let (records, outcome) = decide(&image, &hb(Uuid::nil()), 1).unwrap();
        assert!(matches!(outcome, Outcome::Heartbeat { register: false }));
        assert_eq!(
            records,
            [Record::BrokerFencing {
                id: 1,
                fenced: false
            }]
        );
        let (records, outcome) = decide(&image, &hb(Uuid::new_v4()), 1).unwrap();
        assert!(matches!(outcome, Outcome::Heartbeat { register: true }) && records.is_empty());
        let (records, outcome) = decide(
            &image,
            &ControllerRequest::AllocateProducerIds { broker: 1 },
            1,
        )
        .unwrap();
        assert!(matches!(
            outcome,
            Outcome::ProducerIds {
                start: 0,
                len: 1000
            }
        ));
        assert_eq!(records, [Record::ProducerIds { next: 1000 }]);
    }
}
