//! Raft storage for openraft: the log, the vote, the committed id and the latest snapshot in
//! sled trees of the node's metadata database; the state machine is the [`Image`], held in
//! memory and rebuilt at start from the snapshot plus the committed log (openraft re-applies
//! the log up to the saved committed id inside `Raft::new`).
//!
//! Trees and keys:
//! - `raft_log`: key = log index (u64 big-endian), value = the entry as JSON.
//! - `raft_state`: `vote`, `committed`, `last_purged`, `snapshot` (JSON of
//!   [`StoredSnapshot`]: openraft's snapshot meta and the [`ImageData`] as JSON bytes).
//!
//! Every write that openraft must find after a crash (log entries before their flush
//! callback, the vote, the snapshot) is flushed to disk before the call returns.

// openraft's traits return its `StorageError` (224 bytes) by value: not ours to box.
#![allow(clippy::result_large_err)]

use std::fmt::Debug;
use std::io::Cursor;
use std::ops::{Bound, RangeBounds};
use std::sync::{Arc, RwLock};

use openraft::storage::{LogFlushed, LogState, RaftLogStorage, RaftStateMachine, Snapshot};
use openraft::{
    Entry, EntryPayload, LogId, OptionalSend, RaftLogReader, RaftSnapshotBuilder, SnapshotMeta,
    StorageError, StorageIOError, StoredMembership, Vote,
};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::image::{Image, ImageData};
use super::{Node, NodeId, TypeConfig};

type StorageResult<T> = Result<T, StorageError<NodeId>>;

fn io_err(e: impl std::error::Error + 'static) -> StorageError<NodeId> {
    StorageError::IO {
        source: StorageIOError::write(&e),
    }
}

/// Blocking sled work off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> StorageResult<T> + Send + 'static,
) -> StorageResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| io_err(std::io::Error::other(e.to_string())))?
}

#[derive(Clone)]
pub struct LogStore {
    log: sled::Tree,
    state: sled::Tree,
}

impl LogStore {
    pub fn open(db: &sled::Db) -> Result<Self, sled::Error> {
        Ok(LogStore {
            log: db.open_tree("raft_log")?,
            state: db.open_tree("raft_state")?,
        })
    }

    fn get_json<T: for<'de> Deserialize<'de>>(&self, key: &str) -> StorageResult<Option<T>> {
        match self.state.get(key).map_err(io_err)? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v).map(Some).map_err(io_err),
        }
    }

    fn put_json<T: Serialize>(&self, key: &str, value: &T) -> StorageResult<()> {
        let bytes = serde_json::to_vec(value).map_err(io_err)?;
        self.state.insert(key, bytes).map_err(io_err)?;
        self.state.flush().map_err(io_err)?;
        Ok(())
    }

    /// Whether this node has raft state (a vote or log entries): not a pristine node.
    pub fn has_state(&self) -> bool {
        !self.log.is_empty() || self.state.contains_key("vote").unwrap_or(true)
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> StorageResult<Vec<Entry<TypeConfig>>> {
        let start = match range.start_bound() {
            Bound::Included(x) => *x,
            Bound::Excluded(x) => x.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let mut out = Vec::new();
        for item in self.log.range(start.to_be_bytes()..) {
            let (k, v) = item.map_err(io_err)?;
            let index = u64::from_be_bytes(
                k.as_ref()
                    .try_into()
                    .map_err(|_| io_err(std::io::Error::other("raft log key is not 8 bytes")))?,
            );
            if !range.contains(&index) {
                break;
            }
            out.push(serde_json::from_slice(&v).map_err(io_err)?);
        }
        Ok(out)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> StorageResult<LogState<TypeConfig>> {
        let last_purged_log_id: Option<LogId<NodeId>> = self.get_json("last_purged")?;
        let last = match self.log.last().map_err(io_err)? {
            Some((_, v)) => {
                let e: Entry<TypeConfig> = serde_json::from_slice(&v).map_err(io_err)?;
                Some(e.log_id)
            }
            None => last_purged_log_id,
        };
        Ok(LogState {
            last_purged_log_id,
            last_log_id: last,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> StorageResult<()> {
        let (me, vote) = (self.clone(), *vote);
        blocking(move || me.put_json("vote", &vote)).await
    }

    async fn read_vote(&mut self) -> StorageResult<Option<Vote<NodeId>>> {
        self.get_json("vote")
    }

    async fn save_committed(&mut self, committed: Option<LogId<NodeId>>) -> StorageResult<()> {
        let me = self.clone();
        blocking(move || me.put_json("committed", &committed)).await
    }

    async fn read_committed(&mut self) -> StorageResult<Option<LogId<NodeId>>> {
        Ok(self
            .get_json::<Option<LogId<NodeId>>>("committed")?
            .flatten())
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> StorageResult<()>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut batch = sled::Batch::default();
        for entry in entries {
            let bytes = serde_json::to_vec(&entry).map_err(io_err)?;
            batch.insert(&entry.log_id.index.to_be_bytes(), bytes);
        }
        let log = self.log.clone();
        let result = blocking(move || {
            log.apply_batch(batch).map_err(io_err)?;
            log.flush().map_err(io_err)?;
            Ok(())
        })
        .await;
        match result {
            Ok(()) => {
                callback.log_io_completed(Ok(()));
                Ok(())
            }
            Err(e) => {
                callback.log_io_completed(Err(std::io::Error::other(e.to_string())));
                Err(e)
            }
        }
    }

    async fn truncate(&mut self, log_id: LogId<NodeId>) -> StorageResult<()> {
        let log = self.log.clone();
        blocking(move || {
            let keys: Vec<sled::IVec> = log
                .range(log_id.index.to_be_bytes()..)
                .keys()
                .collect::<Result<_, _>>()
                .map_err(io_err)?;
            for k in keys {
                log.remove(k).map_err(io_err)?;
            }
            log.flush().map_err(io_err)?;
            Ok(())
        })
        .await
    }

    async fn purge(&mut self, log_id: LogId<NodeId>) -> StorageResult<()> {
        let me = self.clone();
        blocking(move || {
            me.put_json("last_purged", &Some(log_id))?;
            let end = log_id.index.saturating_add(1);
            let keys: Vec<sled::IVec> = me
                .log
                .range(..end.to_be_bytes())
                .keys()
                .collect::<Result<_, _>>()
                .map_err(io_err)?;
            for k in keys {
                me.log.remove(k).map_err(io_err)?;
            }
            Ok(())
        })
        .await
    }
}

/// A snapshot as stored: openraft's meta and the image's JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredSnapshot {
    pub meta: SnapshotMeta<NodeId, Node>,
    pub data: Vec<u8>,
}

/// The state machine: the image, shared with every reader of the broker.
#[derive(Clone)]
pub struct StateMachine {
    pub image: Arc<RwLock<Image>>,
    last_applied: Option<LogId<NodeId>>,
    membership: StoredMembership<NodeId, Node>,
    store: LogStore,
    /// The index of the last applied entry, for waiters and the reconciler.
    applied: Arc<watch::Sender<u64>>,
    snapshot_seq: u64,
}

impl StateMachine {
    /// The state machine as of the stored snapshot (the committed log is re-applied by
    /// openraft on top).
    pub fn open(
        store: &LogStore,
        image: Arc<RwLock<Image>>,
        applied: Arc<watch::Sender<u64>>,
    ) -> StorageResult<Self> {
        let mut sm = StateMachine {
            image,
            last_applied: None,
            membership: StoredMembership::default(),
            store: store.clone(),
            applied,
            snapshot_seq: 0,
        };
        if let Some(snap) = store.get_json::<StoredSnapshot>("snapshot")? {
            sm.load(&snap)?;
        }
        Ok(sm)
    }

    fn load(&mut self, snap: &StoredSnapshot) -> StorageResult<()> {
        let data: ImageData = serde_json::from_slice(&snap.data).map_err(io_err)?;
        *self
            .image
            .write()
            .map_err(|_| io_err(std::io::Error::other("image lock poisoned")))? =
            Image::from_data(data);
        self.last_applied = snap.meta.last_log_id;
        self.membership = snap.meta.last_membership.clone();
        self.publish();
        Ok(())
    }

    fn publish(&self) {
        let index = self.last_applied.map_or(0, |l| l.index);
        self.applied.send_replace(index);
    }
}

/// A snapshot being built: the image as of `last_applied`, captured by the state machine
/// between two applies (the image moves on while the snapshot is written, so the builder
/// must not read it later).
pub struct SnapshotBuilder {
    data: StorageResult<Vec<u8>>,
    last_applied: Option<LogId<NodeId>>,
    membership: StoredMembership<NodeId, Node>,
    store: LogStore,
    seq: u64,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    async fn build_snapshot(&mut self) -> StorageResult<Snapshot<TypeConfig>> {
        let data = std::mem::replace(&mut self.data, Ok(Vec::new()))?;
        let snapshot_id = match self.last_applied {
            Some(l) => format!("{}-{}-{}", l.leader_id, l.index, self.seq),
            None => format!("--{}", self.seq),
        };
        let meta = SnapshotMeta {
            last_log_id: self.last_applied,
            last_membership: self.membership.clone(),
            snapshot_id,
        };
        let stored = StoredSnapshot {
            meta: meta.clone(),
            data: data.clone(),
        };
        let store = self.store.clone();
        blocking(move || store.put_json("snapshot", &stored)).await?;
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(
        &mut self,
    ) -> StorageResult<(Option<LogId<NodeId>>, StoredMembership<NodeId, Node>)> {
        Ok((self.last_applied, self.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> StorageResult<Vec<()>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut replies = Vec::new();
        {
            let mut image = self
                .image
                .write()
                .map_err(|_| io_err(std::io::Error::other("image lock poisoned")))?;
            for entry in entries {
                self.last_applied = Some(entry.log_id);
                match entry.payload {
                    EntryPayload::Blank => {}
                    EntryPayload::Normal(command) => {
                        for record in &command.0 {
                            image.apply(record);
                        }
                    }
                    EntryPayload::Membership(m) => {
                        self.membership = StoredMembership::new(Some(entry.log_id), m);
                    }
                }
                replies.push(());
            }
        }
        self.publish();
        Ok(replies)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.snapshot_seq += 1;
        let data = match self.image.read() {
            Ok(image) => serde_json::to_vec(&image.to_data()).map_err(io_err),
            Err(_) => Err(io_err(std::io::Error::other("image lock poisoned"))),
        };
        SnapshotBuilder {
            data,
            last_applied: self.last_applied,
            membership: self.membership.clone(),
            store: self.store.clone(),
            seq: self.snapshot_seq,
        }
    }

    async fn begin_receiving_snapshot(&mut self) -> StorageResult<Box<Cursor<Vec<u8>>>> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, Node>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> StorageResult<()> {
        let stored = StoredSnapshot {
            meta: meta.clone(),
            data: snapshot.into_inner(),
        };
        self.load(&stored)?;
        let store = self.store.clone();
        blocking(move || store.put_json("snapshot", &stored)).await
    }

    async fn get_current_snapshot(&mut self) -> StorageResult<Option<Snapshot<TypeConfig>>> {
        Ok(self
            .store
            .get_json::<StoredSnapshot>("snapshot")?
            .map(|s| Snapshot {
                meta: s.meta,
                snapshot: Box::new(Cursor::new(s.data)),
            }))
    }
}
