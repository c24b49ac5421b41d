//! The metadata image: what the cluster agrees on, built by applying committed [`Record`]s in
//! log order. Pure data and pure functions: no I/O, no clocks, so every node that applies the
//! same records holds the same image.
//!
//! Invariants kept by [`Image::apply`]:
//! - a topic name maps to exactly one topic id and back (`topics` and `topic_ids` agree);
//! - every partition's leader is -1 or one of its replicas, and is in its ISR when >= 0;
//! - `leader_epoch` and `partition_epoch` never decrease for a partition of one topic id;
//! - `next_producer_id` never decreases (producer ids are never handed out twice).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::quota::{QuotaConfigs, QuotaEntity};
use crate::security::acl::{AclBinding, AclSet};
use crate::security::scram::{ScramCredential, ScramMechanism};

/// No leader (Kafka's -1).
pub const NO_LEADER: i32 = -1;

/// Java's `String.hashCode` over UTF-16 code units, as Kafka hashes group ids.
pub fn java_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// A broker as registered with the controller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerInfo {
    pub id: i32,
    /// Changes at every start of the process: a registration with a new incarnation is a
    /// restart, not a duplicate.
    pub incarnation: Uuid,
    /// The advertised client endpoint.
    pub host: String,
    pub port: u16,
    /// `broker.rack`.
    pub rack: Option<String>,
    /// The controller listener (raft RPCs), `host:port`.
    pub controller_addr: String,
    /// Fenced brokers lead nothing and are not offered to clients.
    pub fenced: bool,
    /// Every client listener's advertised endpoint (empty in registrations older than named
    /// listeners: `host` and `port` then serve every listener).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<Endpoint>,
}

/// One listener's advertised endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// The listener's name (upper-case).
    pub listener: String,
    pub host: String,
    pub port: u16,
    /// Kafka's security protocol id.
    pub protocol: i16,
}

impl BrokerInfo {
    /// This broker as a client that came in on `listener` sees it: host and port are that
    /// listener's endpoint, and no other endpoints are left. None when the broker has no
    /// listener of that name (Kafka's rule: it is not offered). A registration without
    /// endpoints is seen the same on every listener.
    pub fn on_listener(mut self, listener: &str) -> Option<BrokerInfo> {
        if !self.endpoints.is_empty() {
            let e = std::mem::take(&mut self.endpoints)
                .into_iter()
                .find(|e| e.listener == listener)?;
            (self.host, self.port) = (e.host, e.port);
        }
        Some(self)
    }
}

/// One partition's replication state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionMeta {
    /// Replica broker ids; the first is the preferred leader.
    pub replicas: Vec<i32>,
    /// In-sync replicas: the leader and the followers caught up with it (Kafka's ISR,
    /// changed by the leader through AlterPartition and by fencing). Only a member can be
    /// elected leader, so every acknowledged acks=all write is on any future leader.
    pub isr: Vec<i32>,
    /// The leader's broker id, or [`NO_LEADER`].
    pub leader: i32,
    /// Bumped at every leader change.
    pub leader_epoch: i32,
    /// Bumped at every change of this partition's state.
    pub partition_epoch: i32,
    /// A reassignment in progress: replicas being added (they catch up as followers, and
    /// the move completes once all of them are in the ISR). Empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adding_replicas: Vec<i32>,
    /// A reassignment in progress: replicas leaving once it completes. `replicas` lists the
    /// target first, then these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removing_replicas: Vec<i32>,
}

impl PartitionMeta {
    /// The partition's error in Metadata and DescribeTopicPartitions: LEADER_NOT_AVAILABLE
    /// without a leader, as Kafka answers.
    pub fn error_code(&self) -> i16 {
        if self.leader == NO_LEADER {
            crate::protocol::error_code::LEADER_NOT_AVAILABLE
        } else {
            crate::protocol::error_code::NONE
        }
    }

    /// A new partition led by its first replica, with every replica in sync (all empty).
    pub fn new(replicas: Vec<i32>) -> Self {
        let leader = replicas.first().copied().unwrap_or(NO_LEADER);
        PartitionMeta {
            isr: replicas.clone(),
            replicas,
            leader,
            leader_epoch: 0,
            partition_epoch: 0,
            adding_replicas: vec![],
            removing_replicas: vec![],
        }
    }

    /// Whether a reassignment is in progress.
    pub fn reassigning(&self) -> bool {
        !self.adding_replicas.is_empty() || !self.removing_replicas.is_empty()
    }

    /// Takes a new leader and ISR: the leader epoch goes up when the leader changes, the
    /// partition epoch at every change (the rule every record that changes a partition
    /// follows, and what a decision predicting the partition's next state applies too).
    pub fn change(&mut self, leader: i32, isr: Vec<i32>) {
        if self.leader != leader {
            self.leader_epoch = self.leader_epoch.saturating_add(1);
        }
        self.leader = leader;
        self.isr = isr;
        self.partition_epoch = self.partition_epoch.saturating_add(1);
    }
}

/// A topic as the cluster knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicMeta {
    pub name: String,
    pub id: Uuid,
    /// Topic-level config overrides by their Kafka names.
    #[serde(default)]
    pub configs: BTreeMap<String, String>,
    /// Partition `i` at index `i`.
    pub partitions: Vec<PartitionMeta>,
}

impl TopicMeta {
    pub fn partition_count(&self) -> i32 {
        self.partitions.len() as i32
    }

    pub fn partition(&self, index: i32) -> Option<&PartitionMeta> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.partitions.get(i))
    }

    /// Kafka's internal topics (see [`crate::group::offsets_topic::is_internal`]).
    pub fn is_internal(&self) -> bool {
        crate::group::offsets_topic::is_internal(&self.name)
    }

    /// The replication factor: the replica count of partition 0.
    pub fn replication_factor(&self) -> i16 {
        self.partitions
            .first()
            .map_or(0, |p| p.replicas.len() as i16)
    }
}

/// A change to the image. A raft entry carries one [`Command`]: the records of one decision,
/// applied together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Record {
    /// Sets the cluster id; ignored once one is set.
    InitCluster { cluster_id: String },
    /// Adds or replaces a broker's registration.
    RegisterBroker(BrokerInfo),
    /// Fences or unfences a registered broker.
    BrokerFencing { id: i32, fenced: bool },
    /// Creates a topic, or replaces its state (partitions added, configs changed). A topic of
    /// the same name and another id must have been removed first; such a record is ignored.
    PutTopic(TopicMeta),
    /// Removes a topic; ignored unless the name still has this id.
    RemoveTopic { name: String, id: Uuid },
    /// Changes one partition's leader and ISR; ignored for an unknown topic id or partition.
    PartitionChange {
        topic_id: Uuid,
        partition: i32,
        leader: i32,
        isr: Vec<i32>,
    },
    /// Producer ids below `next` have been handed out.
    ProducerIds { next: i64 },
    /// Replaces the dynamic broker configs of `resource`: a broker id, or "" for the
    /// cluster-wide default (Kafka's `--entity-default`). Empty configs remove the entry.
    BrokerConfigs {
        resource: String,
        configs: BTreeMap<String, String>,
    },
    /// Sets one partition's replica set with its leader and ISR: a reassignment started,
    /// completed or cancelled. Ignored for an unknown topic id or partition, or when the
    /// state does not hold together (duplicate replicas, an ISR member, an adding or
    /// removing replica or a leader outside the replicas, a leader outside the ISR).
    Reassign {
        topic_id: Uuid,
        partition: i32,
        replicas: Vec<i32>,
        adding: Vec<i32>,
        removing: Vec<i32>,
        leader: i32,
        isr: Vec<i32>,
    },
    /// Sets (or, with None, removes) one user's SCRAM credential for one mechanism.
    ScramCredential {
        user: String,
        mechanism: ScramMechanism,
        credential: Option<ScramCredential>,
    },
    /// Adds an ACL (Kafka's AccessControlEntryRecord); already validated by the controller.
    CreateAcl(AclBinding),
    /// Removes an ACL (Kafka's RemoveAccessControlEntryRecord); ignored if absent.
    RemoveAcl(AclBinding),
    /// Sets (or, with None, removes) one client quota key of one entity (Kafka's
    /// ClientQuotaRecord); validated by the broker that took the request.
    ClientQuota {
        entity: QuotaEntity,
        key: String,
        value: Option<f64>,
    },
}

/// The payload of one raft entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Command(pub Vec<Record>);

impl std::fmt::Display for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} record(s)", self.0.len())
    }
}

/// The image. Topics are shared (`Arc`) so that readers copy a pointer, not a topic.
#[derive(Debug, Clone, Default)]
pub struct Image {
    pub cluster_id: Option<String>,
    pub brokers: BTreeMap<i32, BrokerInfo>,
    pub topics: HashMap<String, Arc<TopicMeta>>,
    pub topic_ids: HashMap<Uuid, String>,
    pub next_producer_id: i64,
    /// Dynamic broker configs by resource (a broker id, or "" for the cluster default).
    pub broker_configs: BTreeMap<String, BTreeMap<String, String>>,
    /// SCRAM credentials by user and mechanism.
    pub scram: BTreeMap<String, BTreeMap<ScramMechanism, ScramCredential>>,
    /// The ACLs. Shared: a record that changes them makes a new set (copy on write), so an
    /// authorizer holding the old `Arc` keeps a consistent snapshot and sees a change as a
    /// different pointer.
    pub acls: Arc<AclSet>,
    /// Client quotas by entity and key. Shared like the ACLs: the request path clones the
    /// pointer.
    pub client_quotas: Arc<QuotaConfigs>,
}

/// The image as a snapshot stores it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImageData {
    pub cluster_id: Option<String>,
    pub brokers: Vec<BrokerInfo>,
    pub topics: Vec<TopicMeta>,
    pub next_producer_id: i64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub broker_configs: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scram: BTreeMap<String, BTreeMap<ScramMechanism, ScramCredential>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acls: Vec<AclBinding>,
    /// (entity, key, value) for every client quota set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_quotas: Vec<(QuotaEntity, String, f64)>,
}

impl Image {
    pub fn topic(&self, name: &str) -> Option<&Arc<TopicMeta>> {
        self.topics.get(name)
    }

    pub fn topic_by_id(&self, id: Uuid) -> Option<&Arc<TopicMeta>> {
        self.topic_ids.get(&id).and_then(|n| self.topics.get(n))
    }

    /// Registered brokers that are not fenced, by id.
    pub fn live_brokers(&self) -> impl Iterator<Item = &BrokerInfo> {
        self.brokers.values().filter(|b| !b.fenced)
    }

    pub fn is_live(&self, id: i32) -> bool {
        self.brokers.get(&id).is_some_and(|b| !b.fenced)
    }

    /// The broker that coordinates `group`: the leader of its partition of
    /// `__consumer_offsets` (Kafka's `abs(javaHashCode(group)) % partitions`). None while
    /// the topic does not exist or the partition has no live leader
    /// (COORDINATOR_NOT_AVAILABLE).
    pub fn coordinator(&self, group: &str) -> Option<&BrokerInfo> {
        use crate::group::offsets_topic::{partition_for, OFFSETS_TOPIC};
        let topic = self.topic(OFFSETS_TOPIC)?;
        let partition = partition_for(group, topic.partitions.len() as i32);
        let leader = topic.partition(partition)?.leader;
        self.brokers.get(&leader).filter(|b| !b.fenced)
    }

    /// The broker coordinating `transactional_id`: the leader of its partition of
    /// `__transaction_state` (Kafka's `abs(javaHashCode(id)) % partitions`). None while the
    /// topic does not exist or the partition has no live leader.
    pub fn txn_coordinator(&self, transactional_id: &str) -> Option<&BrokerInfo> {
        use crate::group::offsets_topic::partition_for;
        let topic = self.topic(crate::txn::TXN_TOPIC)?;
        let partition = partition_for(transactional_id, topic.partitions.len() as i32);
        let leader = topic.partition(partition)?.leader;
        self.brokers.get(&leader).filter(|b| !b.fenced)
    }

    /// A dynamic broker config in force for broker `id`: its own value, else the cluster
    /// default's.
    pub fn broker_config(&self, id: i32, name: &str) -> Option<&str> {
        self.broker_configs
            .get(&id.to_string())
            .and_then(|c| c.get(name))
            .or_else(|| self.broker_configs.get("").and_then(|c| c.get(name)))
            .map(String::as_str)
    }

    /// The records that store the bootstrap SCRAM credentials (`sasl.scram.bootstrap`) of
    /// users that have none for that mechanism yet; a credential already stored (bootstrapped
    /// earlier, or changed since with AlterUserScramCredentials) is never overwritten.
    pub fn missing_scram(
        &self,
        bootstrap: &[crate::security::plain::BootstrapCredential],
    ) -> Vec<Record> {
        let mut seen = std::collections::BTreeSet::new();
        bootstrap
            .iter()
            .filter(|c| {
                let m = c.credential.mechanism;
                // The first entry of a user and mechanism counts, as it would once stored.
                seen.insert((c.user.as_str(), m))
                    && !self.scram.get(&c.user).is_some_and(|s| s.contains_key(&m))
            })
            .map(|c| Record::ScramCredential {
                user: c.user.clone(),
                mechanism: c.credential.mechanism,
                credential: Some(c.credential.clone()),
            })
            .collect()
    }

    /// Applies one record. Records that do not fit the image (see [`Record`]) change nothing.
    pub fn apply(&mut self, record: &Record) {
        match record {
            Record::InitCluster { cluster_id } => {
                if self.cluster_id.is_none() {
                    self.cluster_id = Some(cluster_id.clone());
                }
            }
            Record::RegisterBroker(b) => {
                self.brokers.insert(b.id, b.clone());
            }
            Record::BrokerFencing { id, fenced } => {
                if let Some(b) = self.brokers.get_mut(id) {
                    b.fenced = *fenced;
                }
            }
            Record::PutTopic(t) => {
                if let Some(old) = self.topics.get(&t.name) {
                    if old.id != t.id {
                        return;
                    }
                }
                if self
                    .topic_ids
                    .get(&t.id)
                    .is_some_and(|name| *name != t.name)
                {
                    return;
                }
                self.topic_ids.insert(t.id, t.name.clone());
                self.topics.insert(t.name.clone(), Arc::new(t.clone()));
            }
            Record::RemoveTopic { name, id } => {
                if self.topics.get(name).is_some_and(|t| t.id == *id) {
                    self.topics.remove(name);
                    self.topic_ids.remove(id);
                }
            }
            Record::PartitionChange {
                topic_id,
                partition,
                leader,
                isr,
            } => {
                let Some(p) = self.partition_mut(*topic_id, *partition) else {
                    return;
                };
                if *leader != NO_LEADER && !p.replicas.contains(leader) {
                    return;
                }
                p.change(*leader, isr.clone());
            }
            Record::ProducerIds { next } => {
                self.next_producer_id = self.next_producer_id.max(*next);
            }
            Record::ScramCredential {
                user,
                mechanism,
                credential,
            } => match credential {
                Some(c) => {
                    self.scram
                        .entry(user.clone())
                        .or_default()
                        .insert(*mechanism, c.clone());
                }
                None => {
                    if let Some(m) = self.scram.get_mut(user) {
                        m.remove(mechanism);
                        if m.is_empty() {
                            self.scram.remove(user);
                        }
                    }
                }
            },
            Record::CreateAcl(b) => {
                if !self.acls.contains(b) {
                    Arc::make_mut(&mut self.acls).add(b.clone());
                }
            }
            Record::RemoveAcl(b) => {
                if self.acls.contains(b) {
                    Arc::make_mut(&mut self.acls).remove_one(b);
                }
            }
            Record::ClientQuota { entity, key, value } => {
                let quotas = Arc::make_mut(&mut self.client_quotas);
                match value {
                    Some(v) => {
                        quotas
                            .entry(entity.clone())
                            .or_default()
                            .insert(key.clone(), *v);
                    }
                    None => {
                        if let Some(m) = quotas.get_mut(entity) {
                            m.remove(key);
                            if m.is_empty() {
                                quotas.remove(entity);
                            }
                        }
                    }
                }
            }
            Record::BrokerConfigs { resource, configs } => {
                if configs.is_empty() {
                    self.broker_configs.remove(resource);
                } else {
                    self.broker_configs
                        .insert(resource.clone(), configs.clone());
                }
            }
            Record::Reassign {
                topic_id,
                partition,
                replicas,
                adding,
                removing,
                leader,
                isr,
            } => {
                let mut seen = std::collections::BTreeSet::new();
                let holds = replicas.iter().all(|r| seen.insert(*r))
                    && [isr, adding, removing]
                        .iter()
                        .all(|l| l.iter().all(|r| replicas.contains(r)))
                    && (*leader == NO_LEADER || isr.contains(leader));
                if !holds {
                    return;
                }
                let Some(p) = self.partition_mut(*topic_id, *partition) else {
                    return;
                };
                p.replicas = replicas.clone();
                p.adding_replicas = adding.clone();
                p.removing_replicas = removing.clone();
                p.change(*leader, isr.clone());
            }
        }
    }

    fn partition_mut(&mut self, topic_id: Uuid, partition: i32) -> Option<&mut PartitionMeta> {
        let name = self.topic_ids.get(&topic_id)?;
        let topic = Arc::make_mut(self.topics.get_mut(name)?);
        usize::try_from(partition)
            .ok()
            .and_then(|i| topic.partitions.get_mut(i))
    }

    pub fn to_data(&self) -> ImageData {
        let mut topics: Vec<TopicMeta> = self.topics.values().map(|t| (**t).clone()).collect();
        topics.sort_by(|a, b| a.name.cmp(&b.name));
        ImageData {
            cluster_id: self.cluster_id.clone(),
            brokers: self.brokers.values().cloned().collect(),
            topics,
            next_producer_id: self.next_producer_id,
            broker_configs: self.broker_configs.clone(),
            scram: self.scram.clone(),
            acls: self.acls.iter().cloned().collect(),
            client_quotas: self
                .client_quotas
                .iter()
                .flat_map(|(e, m)| m.iter().map(move |(k, v)| (e.clone(), k.clone(), *v)))
                .collect(),
        }
    }

    pub fn from_data(data: ImageData) -> Image {
        let mut image = Image {
            cluster_id: data.cluster_id,
            next_producer_id: data.next_producer_id,
            broker_configs: data.broker_configs,
            scram: data.scram,
            ..Image::default()
        };
        for b in data.brokers {
            image.brokers.insert(b.id, b);
        }
        for t in data.topics {
            image.apply(&Record::PutTopic(t));
        }
        for b in data.acls {
            image.apply(&Record::CreateAcl(b));
        }
        for (entity, key, value) in data.client_quotas {
            image.apply(&Record::ClientQuota {
                entity,
                key,
                value: Some(value),
            });
        }
        image
    }
}

/// A registered broker for tests: id, fenced or not, nothing else set.
#[cfg(test)]
pub fn test_broker(id: i32, fenced: bool) -> BrokerInfo {
    BrokerInfo {
        id,
        incarnation: Uuid::nil(),
        host: "127.0.0.1".into(),
        port: 9092,
        rack: None,
        controller_addr: String::new(),
        fenced,
        endpoints: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(name: &str, id: Uuid, replicas: &[&[i32]]) -> TopicMeta {
        TopicMeta {
            name: name.into(),
            id,
            configs: BTreeMap::new(),
            partitions: replicas
                .iter()
                .map(|r| PartitionMeta::new(r.to_vec()))
                .collect(),
        }
    }

    #[test]
    fn a_groups_coordinator_is_the_leader_of_its_offsets_partition() {
        let mut image = Image::default();
        assert!(image.coordinator("group").is_none(), "no topic yet");
        for id in [1, 2, 3] {
            image.apply(&Record::RegisterBroker(test_broker(id, false)));
        }
        assert!(image.coordinator("group").is_none(), "no topic yet");
        // Partition p led by broker p % 3 + 1.
        let replicas: Vec<Vec<i32>> = (0..50).map(|p| vec![p % 3 + 1]).collect();
        let lists: Vec<&[i32]> = replicas.iter().map(Vec::as_slice).collect();
        image.apply(&Record::PutTopic(topic(
            "__consumer_offsets",
            Uuid::new_v4(),
            &lists,
        )));
        // "group": 98629247 % 50 = 47, led by 47 % 3 + 1 = 3.
        assert_eq!(image.coordinator("group").map(|b| b.id), Some(3));
        image.apply(&Record::BrokerFencing {
            id: 3,
            fenced: true,
        });
        assert!(image.coordinator("group").is_none(), "leader fenced");
    }

    #[test]
    fn java_hash_is_strings_hash_code() {
        // Values of Java's "...".hashCode().
        assert_eq!(java_hash(""), 0);
        assert_eq!(java_hash("group"), 98629247);
        assert_eq!(java_hash("console-consumer-12345"), 158_455_506);
        assert_eq!(
            java_hash("a-much-longer-group-id-that-overflows"),
            -447_596_577
        );
        assert_eq!(java_hash("ü"), 252);
    }

    #[test]
    fn scram_credentials_bootstrap_once_and_survive_a_snapshot() {
        use crate::security::plain::parse_scram_bootstrap;
        let boot = parse_scram_bootstrap(
            "SCRAM-SHA-512=[name=admin,password=a];SCRAM-SHA-256=[name=admin,password=a];\
             SCRAM-SHA-512=[name=admin,password=b]",
        )
        .unwrap();
        let mut image = Image::default();
        let records = image.missing_scram(&boot);
        assert_eq!(
            records.len(),
            2,
            "one per user and mechanism, the first named"
        );
        for r in &records {
            image.apply(r);
        }
        assert!(image.missing_scram(&boot).is_empty(), "stored once");
        let m = ScramMechanism::Sha512;
        assert_eq!(image.scram["admin"][&m], boot[0].credential);
        // A later bootstrap (another salt) never replaces what is stored.
        let again = parse_scram_bootstrap("SCRAM-SHA-512=[name=admin,password=a]").unwrap();
        assert!(image.missing_scram(&again).is_empty());
        let json = serde_json::to_vec(&image.to_data()).unwrap();
        let back = Image::from_data(serde_json::from_slice(&json).unwrap());
        assert_eq!(back.scram, image.scram);
        image.apply(&Record::ScramCredential {
            user: "admin".into(),
            mechanism: m,
            credential: None,
        });
        assert_eq!(image.scram["admin"].len(), 1);
        image.apply(&Record::ScramCredential {
            user: "admin".into(),
            mechanism: ScramMechanism::Sha256,
            credential: None,
        });
        assert!(image.scram.is_empty(), "a user without credentials is gone");
    }

    #[test]
    fn records_apply_as_documented() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let mut image = Image::default();
        image.apply(&Record::InitCluster {
            cluster_id: "one".into(),
        });
        image.apply(&Record::InitCluster {
            cluster_id: "two".into(),
        });
        assert_eq!(image.cluster_id.as_deref(), Some("one"));

        image.apply(&Record::PutTopic(topic("t", a, &[&[1, 2], &[2, 3]])));
        // Same name, other id: ignored until the first is removed.
        image.apply(&Record::PutTopic(topic("t", b, &[&[3]])));
        assert_eq!(image.topic("t").unwrap().id, a);
        // Leader outside the replicas: ignored.
        image.apply(&Record::PartitionChange {
            topic_id: a,
            partition: 0,
            leader: 3,
            isr: vec![3],
        });
        assert_eq!(image.topic("t").unwrap().partitions[0].leader, 1);
        image.apply(&Record::PartitionChange {
            topic_id: a,
            partition: 0,
            leader: NO_LEADER,
            isr: vec![1],
        });
        let p = &image.topic("t").unwrap().partitions[0];
        assert_eq!((p.leader, p.leader_epoch, p.partition_epoch), (-1, 1, 1));
        image.apply(&Record::PartitionChange {
            topic_id: a,
            partition: 0,
            leader: 2,
            isr: vec![2],
        });
        let p = &image.topic("t").unwrap().partitions[0];
        assert_eq!((p.leader, p.leader_epoch, p.partition_epoch), (2, 2, 2));
        // Unknown partition: ignored.
        image.apply(&Record::PartitionChange {
            topic_id: a,
            partition: 9,
            leader: 2,
            isr: vec![2],
        });

        image.apply(&Record::RemoveTopic {
            name: "t".into(),
            id: b,
        });
        assert!(image.topic("t").is_some());
        image.apply(&Record::RemoveTopic {
            name: "t".into(),
            id: a,
        });
        assert!(image.topic("t").is_none() && image.topic_by_id(a).is_none());
        image.apply(&Record::PutTopic(topic("t", b, &[&[3]])));
        assert_eq!(image.topic_by_id(b).unwrap().name, "t");

        image.apply(&Record::ProducerIds { next: 2000 });
        image.apply(&Record::ProducerIds { next: 1000 });
        assert_eq!(image.next_producer_id, 2000);

        let round = Image::from_data(image.to_data());
        assert_eq!(round.to_data().topics, image.to_data().topics);
        assert_eq!(round.next_producer_id, 2000);
    }
}
