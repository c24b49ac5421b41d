//! Committed offsets and group records in the metadata store.
//!
//! Tree `offsets`: key = `group id, 0x00, topic, 0x00, partition (i32 BE)`; value =
//! `offset i64 BE, leader_epoch i32 BE, commit_timestamp i64 BE, metadata (UTF-8, rest)`.
//! Tree `groups`: key = group id; value = `generation_id i32 BE, protocol_type (UTF-8, rest)`.
//! Every write is flushed before it returns: a commit is durable before it is acknowledged.

use super::{MetadataError, MetadataStore};

/// One committed offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedOffset {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub leader_epoch: i32,
    pub commit_timestamp: i64,
    pub metadata: String,
}

fn prefix(group: &str) -> Vec<u8> {
    let mut k = group.as_bytes().to_vec();
    k.push(0);
    k
}

fn key(group: &str, topic: &str, partition: i32) -> Vec<u8> {
    let mut k = prefix(group);
    k.extend_from_slice(topic.as_bytes());
    k.push(0);
    k.extend_from_slice(&partition.to_be_bytes());
    k
}

fn decode(group: &str, k: &[u8], v: &[u8]) -> Option<CommittedOffset> {
    let rest = k.get(group.len() + 1..)?;
    let sep = rest.iter().position(|b| *b == 0)?;
    let topic = std::str::from_utf8(&rest[..sep]).ok()?.to_string();
    let p = rest.get(sep + 1..sep + 5)?;
    if v.len() < 20 {
        return None;
    }
    let mut o = [0u8; 8];
    o.copy_from_slice(&v[0..8]);
    let mut ts = [0u8; 8];
    ts.copy_from_slice(&v[12..20]);
    Some(CommittedOffset {
        topic,
        partition: i32::from_be_bytes([p[0], p[1], p[2], p[3]]),
        offset: i64::from_be_bytes(o),
        leader_epoch: i32::from_be_bytes([v[8], v[9], v[10], v[11]]),
        commit_timestamp: i64::from_be_bytes(ts),
        metadata: String::from_utf8_lossy(&v[20..]).into_owned(),
    })
}

impl MetadataStore {
    /// Stores offsets for a group durably, all or none.
    pub fn commit_offsets(
        &self,
        group: &str,
        offsets: &[CommittedOffset],
    ) -> Result<(), MetadataError> {
        let mut batch = sled::Batch::default();
        for o in offsets {
            let mut v = Vec::with_capacity(20 + o.metadata.len());
            v.extend_from_slice(&o.offset.to_be_bytes());
            v.extend_from_slice(&o.leader_epoch.to_be_bytes());
            v.extend_from_slice(&o.commit_timestamp.to_be_bytes());
            v.extend_from_slice(o.metadata.as_bytes());
            batch.insert(key(group, &o.topic, o.partition), v);
        }
        self.offsets.apply_batch(batch)?;
        self.db.flush()?;
        Ok(())
    }

    /// Every committed offset of a group.
    pub fn fetch_offsets(&self, group: &str) -> Result<Vec<CommittedOffset>, MetadataError> {
        let mut out = Vec::new();
        for item in self.offsets.scan_prefix(prefix(group)) {
            let (k, v) = item?;
            if let Some(o) = decode(group, &k, &v) {
                out.push(o);
            }
        }
        Ok(out)
    }

    /// Deletes the given (topic, partition) offsets of a group, or all of them when `None`.
    pub fn delete_offsets(
        &self,
        group: &str,
        which: Option<&[(String, i32)]>,
    ) -> Result<(), MetadataError> {
        let mut batch = sled::Batch::default();
        match which {
            Some(list) => {
                for (t, p) in list {
                    batch.remove(key(group, t, *p));
                }
            }
            None => {
                for item in self.offsets.scan_prefix(prefix(group)) {
                    batch.remove(item?.0);
                }
            }
        }
        self.offsets.apply_batch(batch)?;
        self.db.flush()?;
        Ok(())
    }

    /// Ids of every group with committed offsets or a stored record.
    pub fn group_ids(&self) -> Result<Vec<String>, MetadataError> {
        let mut ids = std::collections::BTreeSet::new();
        for item in self.offsets.iter() {
            let (k, _) = item?;
            if let Some(end) = k.iter().position(|b| *b == 0) {
                ids.insert(String::from_utf8_lossy(&k[..end]).into_owned());
            }
        }
        for item in self.groups.iter() {
            let (k, _) = item?;
            ids.insert(String::from_utf8_lossy(&k).into_owned());
        }
        Ok(ids.into_iter().collect())
    }

    /// Stores a group's generation and protocol type.
    pub fn put_group(
        &self,
        group: &str,
        generation_id: i32,
        protocol_type: &str,
    ) -> Result<(), MetadataError> {
        let mut v = generation_id.to_be_bytes().to_vec();
        v.extend_from_slice(protocol_type.as_bytes());
        self.groups.insert(group.as_bytes(), v)?;
        self.db.flush()?;
        Ok(())
    }

    /// A stored group record: (generation id, protocol type).
    pub fn group_record(&self, group: &str) -> Result<Option<(i32, String)>, MetadataError> {
        Ok(self.groups.get(group.as_bytes())?.and_then(|v| {
            (v.len() >= 4).then(|| {
                (
                    i32::from_be_bytes([v[0], v[1], v[2], v[3]]),
                    String::from_utf8_lossy(&v[4..]).into_owned(),
                )
            })
        }))
    }

    pub fn remove_group(&self, group: &str) -> Result<(), MetadataError> {
        self.groups.remove(group.as_bytes())?;
        self.delete_offsets(group, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_round_trip_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let o = |t: &str, p, off| CommittedOffset {
            topic: t.into(),
            partition: p,
            offset: off,
            leader_epoch: 0,
            commit_timestamp: 5,
            metadata: "m".into(),
        };
        {
            let s = MetadataStore::open(dir.path(), 1).unwrap();
            s.commit_offsets("g", &[o("a", 0, 10), o("a", 1, 11), o("b", 0, 12)])
                .unwrap();
            s.commit_offsets("g2", &[o("a", 0, 99)]).unwrap();
            s.commit_offsets("g", &[o("a", 0, 20)]).unwrap();
            s.put_group("g", 7, "consumer").unwrap();
        }
        let s = MetadataStore::open(dir.path(), 1).unwrap();
        let mut got = s.fetch_offsets("g").unwrap();
        got.sort_by_key(|c| (c.topic.clone(), c.partition));
        assert_eq!(got, vec![o("a", 0, 20), o("a", 1, 11), o("b", 0, 12)]);
        assert_eq!(s.group_record("g").unwrap(), Some((7, "consumer".into())));
        assert_eq!(
            s.group_ids().unwrap(),
            vec!["g".to_string(), "g2".to_string()]
        );
        s.delete_offsets("g", Some(&[("a".to_string(), 1)]))
            .unwrap();
        assert_eq!(s.fetch_offsets("g").unwrap().len(), 2);
        s.remove_group("g").unwrap();
        assert!(s.fetch_offsets("g").unwrap().is_empty());
        assert_eq!(s.fetch_offsets("g2").unwrap().len(), 1);
    }
}
