//! Replaying a `__consumer_offsets` partition into group state, as Kafka's
//! GroupMetadataManager loads a partition when its broker becomes the partition's leader (the
//! groups' coordinator). Pure: the caller reads the log (up to the high watermark) and hands
//! over each record's key and value; a null value is a tombstone.
//!
//! Rules:
//! - records apply in log order; a later value for a key replaces the earlier one, a
//!   tombstone removes it (an offset, or a group's metadata);
//! - a key of another record type (the newer group protocols') is skipped and counted, as a
//!   coordinator that does not serve that protocol must not fail the load over it;
//! - a key or value that does not decode is counted and skipped, never fatal: one damaged
//!   record must not keep every group of the partition unavailable (Kafka logs and skips).
//!
//! The result: for each group, its committed offsets by (topic, partition) and its metadata
//! (absent for a group that only has offsets, e.g. one that committed with the standalone
//! consumer's `assign()`).

use std::collections::{BTreeMap, HashMap};

use super::records::{GroupKey, GroupValue, OffsetValue, RecordError};

/// One group as loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadedGroup {
    pub metadata: Option<GroupValue>,
    pub offsets: BTreeMap<(String, i32), OffsetValue>,
}

/// The state of one `__consumer_offsets` partition, built record by record.
#[derive(Debug, Default)]
pub struct Loader {
    pub groups: HashMap<String, LoadedGroup>,
    /// Records of other types (newer group protocols), skipped.
    pub other: u64,
    /// Records that did not decode, skipped.
    pub damaged: u64,
    /// Records of transactions without a marker yet (TxnOffsetCommit), by producer id, in
    /// log order.
    pub pending_txn: HashMap<i64, Vec<super::offsets_topic::KeyValue>>,
}

impl Loader {
    /// Holds one record of producer `producer_id`'s open transaction.
    pub fn stage(&mut self, producer_id: i64, key: &[u8], value: Option<&[u8]>) {
        self.pending_txn
            .entry(producer_id)
            .or_default()
            .push((key.to_vec(), value.map(<[u8]>::to_vec)));
    }

    /// A producer's transaction ended: its held records apply on commit, are dropped on
    /// abort.
    pub fn end_txn(&mut self, producer_id: i64, commit: bool) {
        let Some(records) = self.pending_txn.remove(&producer_id) else {
            return;
        };
        if commit {
            for (k, v) in records {
                self.apply(&k, v.as_deref());
            }
        }
    }

    /// Applies one record (value None: a tombstone).
    pub fn apply(&mut self, key: &[u8], value: Option<&[u8]>) {
        let key = match GroupKey::decode(key) {
            Ok(k) => k,
            Err(RecordError::OtherKey(_)) => {
                self.other += 1;
                return;
            }
            Err(_) => {
                self.damaged += 1;
                return;
            }
        };
        match key {
            GroupKey::Offset {
                group,
                topic,
                partition,
            } => match value.map(OffsetValue::decode) {
                None => {
                    if let Some(g) = self.groups.get_mut(&group) {
                        g.offsets.remove(&(topic, partition));
                        if g.metadata.is_none() && g.offsets.is_empty() {
                            self.groups.remove(&group);
                        }
                    }
                }
                Some(Ok(v)) => {
                    self.groups
                        .entry(group)
                        .or_default()
                        .offsets
                        .insert((topic, partition), v);
                }
                Some(Err(_)) => self.damaged += 1,
            },
            GroupKey::Group { group } => match value.map(GroupValue::decode) {
                None => {
                    // Kafka's group tombstone removes the group and, with it, its offsets
                    // (they are tombstoned too before a group is deleted).
                    self.groups.remove(&group);
                }
                Some(Ok(v)) => self.groups.entry(group).or_default().metadata = Some(v),
                Some(Err(_)) => self.damaged += 1,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn okey(g: &str, t: &str, p: i32) -> Vec<u8> {
        GroupKey::Offset {
            group: g.into(),
            topic: t.into(),
            partition: p,
        }
        .encode()
    }

    fn gkey(g: &str) -> Vec<u8> {
        GroupKey::Group { group: g.into() }.encode()
    }

    fn offset(o: i64) -> Vec<u8> {
        OffsetValue {
            offset: o,
            leader_epoch: -1,
            metadata: String::new(),
            commit_timestamp: 0,
            expire_timestamp: None,
            topic_id: None,
        }
        .encode()
    }

    fn group(generation: i32) -> Vec<u8> {
        GroupValue {
            protocol_type: "consumer".into(),
            generation,
            protocol: None,
            leader: None,
            current_state_timestamp: -1,
            members: vec![],
        }
        .encode()
    }

    /// (group, its generation if it has metadata, its offsets as (topic, partition, offset))
    type State = Vec<(String, Option<i32>, Vec<(String, i32, i64)>)>;
    type Row<'a> = (&'a str, Option<i32>, &'a [(&'a str, i32, i64)]);

    fn state(l: &Loader) -> State {
        let mut out: State = l
            .groups
            .iter()
            .map(|(g, v)| {
                let offsets = v
                    .offsets
                    .iter()
                    .map(|((t, p), o)| (t.clone(), *p, o.offset))
                    .collect();
                (
                    g.clone(),
                    v.metadata.as_ref().map(|m| m.generation),
                    offsets,
                )
            })
            .collect();
        out.sort();
        out
    }

    fn expected(rows: &[Row]) -> State {
        rows.iter()
            .map(|(g, generation, offsets)| {
                let offsets = offsets
                    .iter()
                    .map(|&(t, p, o)| (t.to_string(), p, o))
                    .collect();
                (g.to_string(), *generation, offsets)
            })
            .collect()
    }

    #[test]
    fn replay_follows_log_order_and_tombstones() {
        type Rec = (Vec<u8>, Option<Vec<u8>>);
        let rows: Vec<(&str, Vec<Rec>, State)> = vec![
            (
                "a later commit replaces an earlier one",
                vec![
                    (okey("g", "t", 0), Some(offset(5))),
                    (okey("g", "t", 0), Some(offset(9))),
                    (okey("g", "t", 1), Some(offset(2))),
                ],
                expected(&[("g", None, &[("t", 0, 9), ("t", 1, 2)])]),
            ),
            (
                "an offset tombstone removes that offset; the last one the group",
                vec![
                    (okey("g", "t", 0), Some(offset(5))),
                    (okey("h", "t", 0), Some(offset(1))),
                    (okey("g", "t", 0), None),
                ],
                expected(&[("h", None, &[("t", 0, 1)])]),
            ),
            (
                "group metadata and offsets together; the newest generation wins",
                vec![
                    (gkey("g"), Some(group(1))),
                    (okey("g", "t", 0), Some(offset(3))),
                    (gkey("g"), Some(group(2))),
                ],
                expected(&[("g", Some(2), &[("t", 0, 3)])]),
            ),
            (
                "a group tombstone removes the group",
                vec![
                    (gkey("g"), Some(group(1))),
                    (okey("g", "t", 0), Some(offset(3))),
                    (gkey("g"), None),
                    (gkey("h"), Some(group(4))),
                ],
                expected(&[("h", Some(4), &[])]),
            ),
            (
                "a group whose metadata is gone keeps committing afterwards",
                vec![(gkey("g"), None), (okey("g", "t", 0), Some(offset(7)))],
                expected(&[("g", None, &[("t", 0, 7)])]),
            ),
        ];
        for (name, records, want) in rows {
            let mut l = Loader::default();
            for (k, v) in &records {
                l.apply(k, v.as_deref());
            }
            assert_eq!(state(&l), want, "{name}");
            assert_eq!((l.other, l.damaged), (0, 0), "{name}");
        }
    }

    #[test]
    fn foreign_and_damaged_records_are_counted_and_skipped() {
        let mut l = Loader::default();
        l.apply(&okey("g", "t", 0), Some(&offset(1)));
        // A KIP-848 consumer group record (key version 3): skipped.
        l.apply(&[0, 3, 0, 1, b'g'], Some(&[0, 0]));
        // A key that does not decode, a value that does not decode.
        l.apply(&[0, 1, 0], Some(&offset(2)));
        l.apply(&okey("g", "t", 0), Some(&[0, 3, 1]));
        l.apply(&gkey("g"), Some(&Bytes::from_static(&[0, 9])));
        assert_eq!((l.other, l.damaged), (1, 3));
        assert_eq!(state(&l), expected(&[("g", None, &[("t", 0, 1)])]));
    }

    #[test]
    fn transactional_offsets_wait_for_their_marker() {
        let mut l = Loader::default();
        l.apply(&okey("g", "t", 0), Some(&offset(1)));
        // Producer 7 commits offsets 5 and 6 in a transaction; producer 8 offset 9 in one.
        l.stage(7, &okey("g", "t", 0), Some(&offset(5)));
        l.stage(8, &okey("g", "t", 1), Some(&offset(9)));
        l.stage(7, &okey("g", "t", 0), Some(&offset(6)));
        assert_eq!(state(&l), expected(&[("g", None, &[("t", 0, 1)])]));
        l.end_txn(8, false);
        l.end_txn(7, true);
        assert_eq!(state(&l), expected(&[("g", None, &[("t", 0, 6)])]));
        assert!(l.pending_txn.is_empty());
        // A marker without staged records changes nothing; records left staged stay pending.
        l.end_txn(9, true);
        l.stage(9, &okey("h", "t", 0), Some(&offset(3)));
        assert_eq!(l.pending_txn.len(), 1);
        assert_eq!(state(&l), expected(&[("g", None, &[("t", 0, 6)])]));
    }
}
