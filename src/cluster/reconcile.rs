//! Brings the local partition logs in line with the image: opens a log for every partition
//! this broker replicates, removes the logs of topics the image no longer has and of
//! partitions moved to other brokers, and applies
//! changed topic configs. Idempotent: it compares the image with what it did before, never
//! replays records, so running it after a restart or twice in a row is harmless.
//!
//! Each partition directory holds `partition.metadata` (as Kafka's does): `version: 0` and
//! `topic_id: <uuid>` lines. A directory whose topic id is not the image's topic of that name
//! is a leftover of a deleted topic (deleted while this broker was down) and is removed
//! before the new topic's log opens there; at start, a directory whose topic id is in no
//! topic of the image is removed, and so is one of a partition whose replicas no longer
//! include this broker (a reassignment moved it away). Directories without the file (from
//! before the cluster) are kept and adopted.

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
    /// The broker-level topic defaults last applied: a dynamic change re-applies every
    /// topic's settings.
    defaults: Option<crate::config::LogConfig>,
    /// Whether the stray directories were removed (once, see [`Self::remove_strays`]).
    swept: bool,
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
    /// Once per process, at the first pass whose image shows this process registered (so the
    /// image is at least as new as any record that made this broker open a log: a stale one
    /// could name a live replica as gone): removes partition directories whose recorded topic
    /// id belongs to no topic in the image (topics deleted while this broker was down), and
    /// those of partitions whose replicas no longer include this broker (moved away
    /// meanwhile). Logs in service are never touched.
    fn remove_strays(broker: &Broker, image: &crate::cluster::image::Image) {
        let me = broker.config.node_id;
        let open: HashSet<String> = broker.logs.all().iter().map(|p| p.tp.dir_name()).collect();
        let Ok(entries) = std::fs::read_dir(&broker.config.data_dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            let Some(id) = read_topic_id(&path) else {
                continue;
            };
            if entry.file_name().to_str().is_some_and(|d| open.contains(d)) {
                continue;
            }
            let why = match image.topic_by_id(id) {
                None => "removing the log of a deleted topic",
                Some(t) => {
                    let dir = entry.file_name();
                    let partition = dir
                        .to_str()
                        .and_then(|d| d.strip_prefix(t.name.as_str()))
                        .and_then(|d| d.strip_prefix('-'))
                        .and_then(|p| p.parse::<i32>().ok());
                    match partition.map(|p| t.partition(p)) {
                        Some(Some(p)) if !p.replicas.contains(&me) => {
                            "removing the log of a replica moved away"
                        }
                        _ => continue,
                    }
                }
            };
            tracing::info!(dir = %path.display(), "{why}");
            if let Err(e) = std::fs::remove_dir_all(&path) {
                tracing::warn!(dir = %path.display(), error = %e, "removing a stray log");
            }
        }
    }

    /// One pass. Blocking (opens and removes files): call off the async workers.
    pub fn run(&mut self, broker: &Broker) {
        let me = broker.config.node_id;
        if !self.swept {
            let image = broker.cluster.image();
            let registered = image
                .brokers
                .get(&me)
                .is_some_and(|b| b.incarnation == broker.cluster.info.incarnation);
            if registered {
                Self::remove_strays(broker, &image);
                self.swept = true;
            }
        }
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
                tracing::info!(topic = name, "topic deleted or moved away: logs removed");
            }
        }
        let defaults = broker.log_defaults();
        let defaults_changed = self.defaults.as_ref() != Some(&defaults);
        self.defaults = Some(defaults.clone());
        for w in wanted {
            let log_config = match defaults.with_overrides(&w.configs) {
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
            // Replicas moved to other brokers (a completed reassignment) go.
            let moved: Vec<i32> = local
                .partitions
                .iter()
                .copied()
                .filter(|p| !w.partitions.contains(p))
                .collect();
            for p in moved {
                let tp = TopicPartition::new(w.name.as_str(), p);
                match broker.logs.delete_partition(&tp) {
                    Ok(()) => {
                        local.partitions.remove(&p);
                        tracing::info!(partition = %tp, "replica moved away: log deleted");
                    }
                    Err(e) => {
                        tracing::error!(partition = %tp, error = %e, "removing a moved replica's log")
                    }
                }
            }
            if local.configs != w.configs || defaults_changed {
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
