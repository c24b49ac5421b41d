//! The metadata store: cluster id, node id, topics (id, partition count, config overrides)
//! and the producer id counter, kept in sled under `<data dir>/__metadata/`.
//!
//! Every change is flushed to disk before the call returns, so a change acknowledged to a
//! client survives a crash. Reads are served from an in-memory copy loaded at start.
//!
//! Keys (tree `cluster`): `cluster_id` (UTF-8), `node_id` (i32 BE), `next_producer_id` (i64 BE).
//! Keys (tree `topics`): the topic name; values are TOML documents of [`TopicMeta`].

pub mod offsets;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::RwLock;

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

/// A topic as the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicMeta {
    pub name: String,
    pub id: Uuid,
    pub partitions: i32,
    /// Topic-level config overrides by their Kafka names.
    #[serde(default)]
    pub configs: BTreeMap<String, String>,
}

pub struct MetadataStore {
    db: sled::Db,
    cluster: sled::Tree,
    topics_tree: sled::Tree,
    offsets: sled::Tree,
    groups: sled::Tree,
    topics: RwLock<HashMap<String, TopicMeta>>,
    cluster_id: String,
    producer_ids: std::sync::Mutex<()>,
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
        let topics_tree = db.open_tree("topics")?;
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
        let mut topics = HashMap::new();
        for item in topics_tree.iter() {
            let (k, v) = item?;
            let name = String::from_utf8_lossy(&k).into_owned();
            let text = std::str::from_utf8(&v)
                .map_err(|e| MetadataError::Decode(name.clone(), e.to_string()))?;
            let meta: TopicMeta = toml::from_str(text)
                .map_err(|e| MetadataError::Decode(name.clone(), e.to_string()))?;
            topics.insert(name, meta);
        }
        db.flush()?;
        Ok(MetadataStore {
            db,
            cluster,
            topics_tree,
            offsets,
            groups,
            topics: RwLock::new(topics),
            cluster_id,
            producer_ids: std::sync::Mutex::new(()),
        })
    }

    pub fn cluster_id(&self) -> &str {
        &self.cluster_id
    }

    pub fn topic(&self, name: &str) -> Option<TopicMeta> {
        self.topics.read().ok()?.get(name).cloned()
    }

    /// Whether the topic exists (no copy of its record).
    pub fn has_topic(&self, name: &str) -> bool {
        self.topics.read().is_ok_and(|t| t.contains_key(name))
    }

    pub fn topic_by_id(&self, id: Uuid) -> Option<TopicMeta> {
        self.topics
            .read()
            .ok()?
            .values()
            .find(|t| t.id == id)
            .cloned()
    }

    /// Every topic, sorted by name.
    pub fn topics(&self) -> Vec<TopicMeta> {
        let mut v: Vec<TopicMeta> = self
            .topics
            .read()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// Stores a topic (new or changed) durably.
    pub fn put_topic(&self, meta: TopicMeta) -> Result<(), MetadataError> {
        let text = toml::to_string(&meta)
            .map_err(|e| MetadataError::Decode(meta.name.clone(), e.to_string()))?;
        let mut topics = self.topics.write().map_err(|_| MetadataError::Poisoned)?;
        self.topics_tree
            .insert(meta.name.as_bytes(), text.as_bytes())?;
        self.db.flush()?;
        topics.insert(meta.name.clone(), meta);
        Ok(())
    }

    /// Removes a topic durably; returns it if it existed.
    pub fn remove_topic(&self, name: &str) -> Result<Option<TopicMeta>, MetadataError> {
        let mut topics = self.topics.write().map_err(|_| MetadataError::Poisoned)?;
        self.topics_tree.remove(name.as_bytes())?;
        self.db.flush()?;
        Ok(topics.remove(name))
    }

    /// Allocates a new producer id, durably (ids are never reused, even across a crash).
    pub fn next_producer_id(&self) -> Result<i64, MetadataError> {
        let _guard = self
            .producer_ids
            .lock()
            .map_err(|_| MetadataError::Poisoned)?;
        let current = match self.cluster.get("next_producer_id")? {
            Some(v) if v.len() == 8 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&v);
                i64::from_be_bytes(b)
            }
            _ => 0,
        };
        self.cluster
            .insert("next_producer_id", &(current + 1).to_be_bytes())?;
        self.db.flush()?;
        Ok(current)
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
    fn topics_and_ids_persist() {
        let dir = tempfile::tempdir().unwrap();
        let id;
        let cluster;
        {
            let s = MetadataStore::open(dir.path(), 1).unwrap();
            cluster = s.cluster_id().to_string();
            assert_eq!(cluster.len(), 22);
            id = Uuid::new_v4();
            let mut configs = BTreeMap::new();
            configs.insert("retention.ms".to_string(), "1000".to_string());
            s.put_topic(TopicMeta {
                name: "t".into(),
                id,
                partitions: 3,
                configs,
            })
            .unwrap();
            assert_eq!(s.next_producer_id().unwrap(), 0);
            assert_eq!(s.next_producer_id().unwrap(), 1);
        }
        let s = MetadataStore::open(dir.path(), 1).unwrap();
        assert_eq!(s.cluster_id(), cluster);
        let t = s.topic("t").unwrap();
        assert_eq!(t.id, id);
        assert_eq!(t.partitions, 3);
        assert_eq!(t.configs["retention.ms"], "1000");
        assert_eq!(s.topic_by_id(id).unwrap().name, "t");
        assert_eq!(s.next_producer_id().unwrap(), 2);
        assert!(s.remove_topic("t").unwrap().is_some());
        drop(s);
        assert!(matches!(
            MetadataStore::open(dir.path(), 2),
            Err(MetadataError::NodeIdMismatch {
                stored: 1,
                configured: 2
            })
        ));
    }
}
