//! Brings the local partition logs in line with the image: opens a log for every partition
//! this broker replicates, removes the logs of topics the image no longer has, and applies
//! changed topic configs. Idempotent: it compares the image with what it did before, never
//! replays records, so running it after a restart or twice in a row is harmless.
//!
//! Each partition directory holds `partition.metadata` (as Kafka's does): `version: 0` and
//! `topic_id: <uuid>` lines. A directory whose topic id is not the image's topic of that name
//! is a leftover of a deleted topic (deleted while this broker was down) and is removed
//! before the new topic's log opens there; at start, a directory whose topic id is in no
//! topic of the image is removed. Directories without the file (from before the cluster)
//! are kept and adopted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use uuid::Uuid;

use crate::broker::Broker;
use crate::log::TopicPartition;

pub const PARTITION_METADATA: &str = "partition.metadata";

/// What the reconciler has opened, by topic name.
#[derive(Debug, Default)]
pub struct Reconciler {
    opened: HashMap<String, Local>,
}

#[derive(Debug)]
struct Local {
    id: Uuid,
    partitions: HashSet<i32>,
    configs: BTreeMap<String, String>,
}

/// One topic's share of this broker, read from the image.
struct Wanted {
    name: String,
    id: Uuid,
    partitions: Vec<i32>,
    configs: BTreeMap<String, String>,
}

/// The topic id recorded in a partition directory, if any.
pub fn read_topic_id(dir: &Path) -> Option<Uuid> {
    let text = std::fs::read_to_string(dir.join(PARTITION_METADATA)).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("topic_id:"))
        .and_then(|v| Uuid::parse_str(v.trim()).ok())
}

fn write_topic_id(dir: &Path, id: Uuid) -> std::io::Result<()> {
    let tmp = dir.join(format!("{PARTITION_METADATA}.tmp"));
    std::fs::write(&tmp, format!("version: 0\ntopic_id: {id}\n"))?;
    std::fs::rename(&tmp, dir.join(PARTITION_METADATA))
}

impl Reconciler {
    /// At start, before the first pass: removes partition directories whose recorded topic id
    /// belongs to no topic in the image (topics deleted while this broker was down).
    pub fn remove_strays(broker: &Broker) {
        let ids: HashSet<Uuid> = broker
            .cluster
            .image()
            .topics
            .values()
            .map(|t| t.id)
            .collect();
        let Ok(entries) = std::fs::read_dir(&broker.config.data_dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            if let Some(id) = read_topic_id(&path) {
                if !ids.contains(&id) {
                    tracing::info!(dir = %path.display(), "removing the log of a deleted topic");
                    if let Err(e) = std::fs::remove_dir_all(&path) {
                        tracing::warn!(dir = %path.display(), error = %e, "removing a stray log");
                    }
                }
            }
        }
    }

    /// One pass. Blocking (opens and removes files): call off the async workers.
    pub fn run(&mut self, broker: &Broker) {
        let me = broker.config.node_id;
        let wanted: Vec<Wanted> = {
            let image = broker.cluster.image();
            image
                .topics
                .values()
                .filter_map(|t| {
                    let partitions: Vec<i32> = t
                        .partitions
                        .iter()
                        .enumerate()
                        .filter(|(_, p)| p.replicas.contains(&me))
                        .map(|(i, _)| i as i32)
                        .collect();
                    (!partitions.is_empty()).then(|| Wanted {
                        name: t.name.clone(),
                        id: t.id,
                        partitions,
                        configs: t.configs.clone(),
                    })
                })
                .collect()
        };
        let wanted_ids: HashMap<&str, Uuid> =
            wanted.iter().map(|w| (w.name.as_str(), w.id)).collect();
        let gone: Vec<String> = self
            .opened
            .iter()
            .filter(|(name, l)| wanted_ids.get(name.as_str()) != Some(&l.id))
            .map(|(name, _)| name.clone())
            .collect();
        for name in gone {
            self.opened.remove(&name);
            if let Err(e) = broker.logs.delete_topic(&name) {
                tracing::error!(topic = name, error = %e, "removing a deleted topic's logs");
            } else {
                tracing::info!(topic = name, "deleted topic");
            }
        }
        for w in wanted {
            let log_config = match broker.config.log.with_overrides(&w.configs) {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(topic = w.name, error = %e, "topic configs refused");
                    continue;
                }
            };
            let local = self.opened.entry(w.name.clone()).or_insert_with(|| Local {
                id: w.id,
                partitions: HashSet::new(),
                configs: w.configs.clone(),
            });
            if local.configs != w.configs {
                for &p in &local.partitions {
                    if let Some(log) = broker.logs.get(&TopicPartition::new(w.name.as_str(), p)) {
                        log.set_config(log_config.clone());
                    }
                }
                local.configs = w.configs.clone();
                tracing::info!(topic = w.name, "topic configs changed");
            }
            for p in w.partitions {
                if local.partitions.contains(&p) {
                    continue;
                }
                let tp = TopicPartition::new(w.name.as_str(), p);
                let dir = broker.config.data_dir.join(tp.dir_name());
                if broker.logs.get(&tp).is_none() {
                    if let Some(old) = read_topic_id(&dir) {
                        if old != w.id {
                            tracing::info!(dir = %dir.display(), "removing the log of an earlier topic of the same name");
                            if let Err(e) = std::fs::remove_dir_all(&dir) {
                                tracing::error!(dir = %dir.display(), error = %e, "removing a stale log");
                                continue;
                            }
                        }
                    }
                }
                match broker.logs.open(tp, log_config.clone()) {
                    Ok(_) => {
                        if read_topic_id(&dir) != Some(w.id) {
                            if let Err(e) = write_topic_id(&dir, w.id) {
                                tracing::warn!(dir = %dir.display(), error = %e, "writing partition.metadata");
                            }
                        }
                        local.partitions.insert(p);
                    }
                    Err(e) => {
                        tracing::error!(topic = w.name, partition = p, error = %e, "opening a partition log")
                    }
                }
            }
        }
    }
}
