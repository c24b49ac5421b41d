//! The node's local store, in sled under `<data dir>/__metadata/`: its node id, the cluster
//! id it generated (the cluster's is agreed in the raft log), committed offsets and groups.
//! The same database holds the raft log and snapshots (`cluster::store`); topics live in the
//! cluster metadata image.
//!
//! Every change is flushed to disk before the call returns, so a change acknowledged to a
//! client survives a crash.
//!
//! Keys (tree `cluster`): `cluster_id` (UTF-8), `node_id` (i32 BE); from before the cluster,
//! `next_producer_id` (i64 BE). Tree `topics`, from before the cluster: the topic name ->
//! a TOML document (name, id, partition count, configs); both are imported into the cluster
//! metadata once and then dropped.

pub mod offsets;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error("metadata store: {0}")]
    Store(#[from] sled::Error),
    #[error("metadata record for {0} is unreadable: {1}")]
    Decode(String, String),
    #[error("data dir belongs to node {stored}, not node {configured}")]
    NodeIdMismatch { stored: i32, configured: i32 },
    #[error("metadata lock poisoned")]
    Poisoned,
}

pub use crate::cluster::image::TopicMeta;

/// A topic as a single-node data dir from before the cluster kept it (tree `topics`, TOML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct LegacyTopic {
    name: String,
    id: Uuid,
    partitions: i32,
    #[serde(default)]
    configs: BTreeMap<String, String>,
}

pub struct MetadataStore {
    db: sled::Db,
    cluster: sled::Tree,
    offsets: sled::Tree,
    groups: sled::Tree,
    cluster_id: String,
}

/// Kafka's cluster id form: a random UUID as 22 characters of URL-safe base64, no padding.
fn new_cluster_id() -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = Uuid::new_v4().into_bytes();
    let mut bits: u32 = 0;
    let mut nbits = 0;
    let mut out = String::with_capacity(22);
    for b in bytes {
        bits = (bits << 8) | u32::from(b);
        nbits += 8;
        while nbits >= 6 {
            nbits -= 6;
            out.push(ALPHABET[((bits >> nbits) & 63) as usize] as char);
        }
    }
    if nbits > 0 {
        out.push(ALPHABET[((bits << (6 - nbits)) & 63) as usize] as char);
    }
    out
}

/// Opens the sled database. Its file lock is released by a background thread after the
/// previous handle drops (an in-process restart), so a held lock is retried for up to 5 s;
/// a second broker on the same data dir still fails.
fn open_db(path: &Path) -> Result<sled::Db, MetadataError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let result = sled::Config::new()
            .path(path)
            .cache_capacity(4 * 1024 * 1024)
            .mode(sled::Mode::LowSpace)
            .open();
        match result {
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return Ok(other?),
        }
    }
}

impl MetadataStore {
    /// Opens (or initialises) the store in `<data_dir>/__metadata`.
    pub fn open(data_dir: &Path, node_id: i32) -> Result<Self, MetadataError> {
        let db = open_db(&data_dir.join("__metadata"))?;
        let cluster = db.open_tree("cluster")?;
        let offsets = db.open_tree("offsets")?;
        let groups = db.open_tree("groups")?;
        let cluster_id = match cluster.get("cluster_id")? {
            Some(v) => String::from_utf8_lossy(&v).into_owned(),
            None => {
                let id = new_cluster_id();
                cluster.insert("cluster_id", id.as_bytes())?;
                id
            }
        };
        match cluster.get("node_id")? {
            Some(v) if v.len() == 4 => {
                let stored = i32::from_be_bytes([v[0], v[1], v[2], v[3]]);
                if stored != node_id {
                    return Err(MetadataError::NodeIdMismatch {
                        stored,
                        configured: node_id,
                    });
                }
            }
            _ => {
                cluster.insert("node_id", &node_id.to_be_bytes())?;
            }
        }
        db.flush()?;
        Ok(MetadataStore {
            db,
            cluster,
            offsets,
            groups,
            cluster_id,
        })
    }

    pub fn cluster_id(&self) -> &str {
        &self.cluster_id
    }

    /// The sled database, which also holds the raft log (see `cluster::store`).
    pub fn db(&self) -> &sled::Db {
        &self.db
    }

    /// The topics and producer id counter of a data dir from before the cluster, to import
    /// into the cluster metadata ([`MetadataStore::forget_legacy`] once imported).
    pub fn legacy(&self) -> Result<crate::cluster::Legacy, MetadataError> {
        let tree = self.db.open_tree("topics")?;
        let mut topics = Vec::new();
        for item in tree.iter() {
            let (k, v) = item?;
            let name = String::from_utf8_lossy(&k).into_owned();
            let text = std::str::from_utf8(&v)
                .map_err(|e| MetadataError::Decode(name.clone(), e.to_string()))?;
            let t: LegacyTopic = toml::from_str(text)
                .map_err(|e| MetadataError::Decode(name.clone(), e.to_string()))?;
            topics.push(TopicMeta {
                name: t.name,
                id: t.id,
                configs: t.configs,
                partitions: (0..t.partitions.max(0))
                    .map(|_| crate::cluster::image::PartitionMeta::new(vec![]))
                    .collect(),
            });
        }
        let next_producer_id = match self.cluster.get("next_producer_id")? {
            Some(v) if v.len() == 8 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&v);
                i64::from_be_bytes(b)
            }
            _ => 0,
        };
        Ok(crate::cluster::Legacy {
            topics,
            next_producer_id,
            db: Some(self.db.clone()),
        })
    }

    /// Drops what [`MetadataStore::legacy`] read, once the cluster metadata holds it.
    pub fn forget_legacy(db: &sled::Db) -> Result<(), MetadataError> {
        db.drop_tree("topics")?;
        db.open_tree("cluster")?.remove("next_producer_id")?;
        db.flush()?;
        Ok(())
    }

    pub fn flush(&self) -> Result<(), MetadataError> {
        self.db.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_persist_and_legacy_topics_read() {
        let dir = tempfile::tempdir().unwrap();
        let cluster;
        let id = Uuid::new_v4();
        {
            let s = MetadataStore::open(dir.path(), 1).unwrap();
            cluster = s.cluster_id().to_string();
            assert_eq!(cluster.len(), 22);
            // A data dir written before the cluster: a TOML topic and the id counter.
            s.db()
                .open_tree("topics")
                .unwrap()
                .insert(
                    "t",
                    format!("name = \"t\"\nid = \"{id}\"\npartitions = 3\n[configs]\n\"retention.ms\" = \"1000\"\n").as_bytes(),
                )
                .unwrap();
            s.cluster
                .insert("next_producer_id", &7i64.to_be_bytes())
                .unwrap();
        }
        let s = MetadataStore::open(dir.path(), 1).unwrap();
        assert_eq!(s.cluster_id(), cluster);
        let legacy = s.legacy().unwrap();
        assert_eq!(legacy.next_producer_id, 7);
        let t = &legacy.topics[0];
        assert_eq!((t.id, t.partitions.len()), (id, 3));
        assert_eq!(t.configs["retention.ms"], "1000");
        drop(legacy);
        MetadataStore::forget_legacy(s.db()).unwrap();
        let legacy = s.legacy().unwrap();
        assert!(legacy.topics.is_empty() && legacy.next_producer_id == 0);
        drop((s, legacy));
        assert!(matches!(
            MetadataStore::open(dir.path(), 2),
            Err(MetadataError::NodeIdMismatch {
                stored: 1,
                configured: 2
            })
        ));
    }
}
