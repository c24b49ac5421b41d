//! The partition log: segmented, append-only files of record batches stored as sent.
//!
//! Layout on disk (see docs/on-disk-format.md): `<data dir>/<topic>-<partition>/` holding
//! `<20-digit base offset>.log`, `.index`, `.timeindex` and (once a transaction aborts in it)
//! `.txnindex` per segment.

pub mod batch;
pub mod cleaner;
pub mod compression;
pub mod control;
pub mod durability;
pub mod epochs;
pub mod index;
pub mod legacy_offsets;
pub mod message_set;
pub mod partition;
pub mod producer_state;
pub mod recompress;
pub mod record;
mod replica;
#[cfg(test)]
mod replica_tests;
pub mod retention;
pub mod segment;
mod transactions;
#[cfg(test)]
mod transactions_tests;
pub mod txn_index;

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

pub use partition::{AppendInfo, LogError, Offsets, Partition, ReadInfo, TopicPartition};
pub use producer_state::ProducerView;
pub use transactions::end_of_batches;

use crate::config::LogConfig;

/// Runs slow file work (an fsync, a removal) on a blocking thread when a runtime runs, so
/// that no runtime worker waits for it; inline otherwise (tools, tests).
pub(crate) fn in_background(work: impl FnOnce() + Send + 'static) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn_blocking(work)),
        Err(_) => work(),
    }
}

/// Owns every partition log of this broker.
pub struct LogManager {
    dir: PathBuf,
    partitions: RwLock<HashMap<TopicPartition, Arc<Partition>>>,
    /// The high watermarks read from [`HIGH_WATERMARK_FILE`] at start: each partition's
    /// starting high watermark when it opens.
    checkpointed: HashMap<TopicPartition, i64>,
    /// Held while [`HIGH_WATERMARK_FILE`] is written (one writer at a time).
    checkpointing: Mutex<()>,
}

/// The data directory's high watermark checkpoint (Kafka's name and text format):
///
/// ```text
/// 0                        version
/// 2                        number of entries
/// orders 0 1500            <topic> <partition> <high watermark>, one per line
/// orders 1 1432
/// ```
///
/// Replaced atomically (temporary file, fsync, rename, directory fsync). A malformed file is
/// treated as empty (with a warning): partitions then start at their log start offset.
pub const HIGH_WATERMARK_FILE: &str = "replication-offset-checkpoint";

/// Parses [`HIGH_WATERMARK_FILE`]'s text; `None` when it is not exactly version 0, a count
/// and that many `<topic> <partition> <offset>` lines.
pub fn parse_high_watermarks(text: &str) -> Option<HashMap<TopicPartition, i64>> {
    let mut lines = text.lines();
    if lines.next()?.trim() != "0" {
        return None;
    }
    let count: usize = lines.next()?.trim().parse().ok()?;
    let mut out = HashMap::with_capacity(count.min(1 << 16));
    for line in lines.by_ref().take(count) {
        let mut parts = line.split_whitespace();
        let topic = parts.next()?;
        let partition: i32 = parts.next()?.parse().ok()?;
        let offset: i64 = parts.next()?.parse().ok()?;
        if parts.next().is_some() || partition < 0 || offset < 0 {
            return None;
        }
        out.insert(TopicPartition::new(topic, partition), offset);
    }
    if out.len() != count || lines.any(|l| !l.trim().is_empty()) {
        return None;
    }
    Some(out)
}

/// [`HIGH_WATERMARK_FILE`]'s text for `entries`.
pub fn format_high_watermarks(entries: &[(TopicPartition, i64)]) -> String {
    let mut text = format!("0\n{}\n", entries.len());
    for (tp, hw) in entries {
        text.push_str(&format!("{} {} {hw}\n", tp.topic, tp.partition));
    }
    text
}

fn load_high_watermarks(dir: &std::path::Path) -> HashMap<TopicPartition, i64> {
    let text = match std::fs::read(dir.join(HIGH_WATERMARK_FILE)) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return HashMap::new(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read {HIGH_WATERMARK_FILE}; treated as empty");
            return HashMap::new();
        }
    };
    parse_high_watermarks(&text).unwrap_or_else(|| {
        tracing::warn!("malformed {HIGH_WATERMARK_FILE}; treated as empty");
        HashMap::new()
    })
}

/// Wall-clock milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl LogManager {
    /// A manager for the logs under `dir`, reading its high watermark checkpoint once.
    pub fn new(dir: PathBuf) -> Self {
        let checkpointed = load_high_watermarks(&dir);
        LogManager {
            dir,
            partitions: RwLock::new(HashMap::new()),
            checkpointed,
            checkpointing: Mutex::new(()),
        }
    }

    /// Writes every open partition's high watermark to [`HIGH_WATERMARK_FILE`]; partitions
    /// of deleted topics are no longer open and drop out.
    pub fn checkpoint_high_watermarks(&self) -> io::Result<()> {
        let _one = self.checkpointing.lock().unwrap_or_else(|p| p.into_inner());
        let mut entries: Vec<(TopicPartition, i64)> = self
            .all()
            .into_iter()
            .map(|p| (p.tp.clone(), p.high_watermark()))
            .collect();
        entries.sort();
        std::fs::create_dir_all(&self.dir)?;
        durability::write_file(
            &self.dir,
            HIGH_WATERMARK_FILE,
            format_high_watermarks(&entries).as_bytes(),
        )
    }

    pub fn get(&self, tp: &TopicPartition) -> Option<Arc<Partition>> {
        self.partitions.read().ok()?.get(tp).cloned()
    }

    /// Opens (recovering) or creates the log of `tp`.
    pub fn open(&self, tp: TopicPartition, config: LogConfig) -> io::Result<Arc<Partition>> {
        if let Some(p) = self.get(&tp) {
            return Ok(p);
        }
        let dir = self.dir.join(tp.dir_name());
        let hw = self.checkpointed.get(&tp).copied();
        let p = Arc::new(Partition::open(tp.clone(), dir, config, now_ms(), hw)?);
        let mut map = self
            .partitions
            .write()
            .map_err(|_| io::Error::other("partition map poisoned"))?;
        Ok(map.entry(tp).or_insert(p).clone())
    }

    /// Removes every partition of `topic` from service and deletes its files: each partition
    /// is marked deleted under its lock (an append in progress finishes first; later ones are
    /// refused, so none is acknowledged into a file about to go), then each directory
    /// is renamed to `<topic>-<partition>.<id>-delete` (so a crash never leaves a
    /// half-deleted log under its live name) before this returns. The renamed directories are
    /// removed on a blocking thread (inline without a runtime), as Kafka deletes
    /// asynchronously: unlinking gigabytes of segments frees their page cache, which takes
    /// the kernel a while (0.3 s for 1.5 GiB here), and a runtime worker must not wait for
    /// it. A removal that fails or is cut short by a crash is finished at the next start.
    pub fn delete_topic(&self, topic: &str) -> io::Result<()> {
        self.delete_where(|tp| tp.topic == topic)
    }

    /// Removes one partition's log as [`Self::delete_topic`] removes a topic's: a replica
    /// that moved to other brokers (a completed reassignment).
    pub fn delete_partition(&self, tp: &TopicPartition) -> io::Result<()> {
        self.delete_where(|p| p == tp)
    }

    fn delete_where(&self, doomed_tp: impl Fn(&TopicPartition) -> bool) -> io::Result<()> {
        let removed: Vec<Arc<Partition>> = {
            let mut map = self
                .partitions
                .write()
                .map_err(|_| io::Error::other("partition map poisoned"))?;
            let keys: Vec<TopicPartition> =
                map.keys().filter(|tp| doomed_tp(tp)).cloned().collect();
            keys.into_iter().filter_map(|k| map.remove(&k)).collect()
        };
        let mut doomed = Vec::with_capacity(removed.len());
        for p in removed {
            p.mark_deleted();
            p.appended.notify_waiters();
            let dir = self.dir.join(format!(
                "{}.{}-delete",
                p.tp.dir_name(),
                uuid::Uuid::new_v4().simple()
            ));
            p.durability.rename_deleted(p.dir(), &dir)?;
            doomed.push((dir, p));
        }
        let remove = move || {
            for (dir, p) in doomed {
                // A sync in progress finishes before its files go (a later one does nothing),
                // and the partition's maps go first, so unlinking frees the pages at once.
                p.durability.wait_for_sync();
                drop(p);
                if let Err(e) = std::fs::remove_dir_all(&dir) {
                    tracing::warn!(dir = %dir.display(), error = %e, "removing a deleted partition; retried at the next start");
                }
            }
        };
        in_background(remove);
        Ok(())
    }

    /// Removes directories left by a deletion interrupted by a crash.
    pub fn remove_deleted_leftovers(&self) -> io::Result<()> {
        if !self.dir.exists() {
            return Ok(());
        }
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().ends_with("-delete") {
                std::fs::remove_dir_all(entry.path())?;
            }
        }
        Ok(())
    }

    pub fn all(&self) -> Vec<Arc<Partition>> {
        self.partitions
            .read()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// One retention sweep: rolls active segments past `segment.ms`, then deletes the
    /// segments each partition's retention allows. Errors latch only their partition.
    pub fn apply_retention(&self, now_ms: i64) {
        for p in self.all() {
            let result = p
                .roll_if_due(now_ms)
                .and_then(|_| p.apply_retention(now_ms));
            if let Err(e) = result {
                tracing::debug!(partition = %p.tp, error = %e, "retention skipped");
            }
        }
    }

    /// One cleaner sweep over the compacted partitions. Returns whether any pass ran.
    pub fn clean_all(
        &self,
        now_ms: i64,
        limits: cleaner::CleanerLimits,
        stop: &dyn Fn() -> bool,
    ) -> bool {
        let mut worked = false;
        for p in self.all() {
            if stop() {
                break;
            }
            match p.clean(now_ms, limits, stop) {
                Ok(Some(report)) => {
                    worked = true;
                    if report.segments_in > 0 {
                        tracing::info!(
                            partition = %p.tp, segments_in = report.segments_in,
                            segments_out = report.segments_out, bytes_in = report.bytes_in,
                            bytes_out = report.bytes_out, records_removed = report.records_removed,
                            "cleaned log"
                        );
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(partition = %p.tp, error = %e, "log cleaning skipped"),
            }
        }
        worked
    }

    /// Seals every active segment and checkpoints the high watermarks (clean shutdown).
    pub fn close_all(&self) {
        for p in self.all() {
            if let Err(e) = p.close() {
                tracing::error!(partition = %p.tp, error = %e, "closing partition");
            }
        }
        if let Err(e) = self.checkpoint_high_watermarks() {
            tracing::error!(error = %e, "writing {HIGH_WATERMARK_FILE}");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    fn entries(dir: &std::path::Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Without a runtime a deleted topic's directories are gone when `delete_topic` returns.
    #[test]
    fn delete_topic_removes_its_partitions() {
        let dir = tempfile::tempdir().unwrap();
        let logs = LogManager::new(dir.path().into());
        for i in 0..2 {
            logs.open(TopicPartition::new("gone", i), LogConfig::default())
                .unwrap();
        }
        logs.open(TopicPartition::new("kept", 0), LogConfig::default())
            .unwrap();
        logs.delete_topic("gone").unwrap();
        assert!(logs.get(&TopicPartition::new("gone", 0)).is_none());
        assert_eq!(entries(dir.path()), ["kept-0"]);
    }

    /// In a runtime the live names are gone at once and the renamed directories are removed
    /// by a blocking thread.
    #[tokio::test]
    async fn delete_topic_removes_files_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let logs = LogManager::new(dir.path().into());
        logs.open(TopicPartition::new("gone", 0), LogConfig::default())
            .unwrap();
        logs.delete_topic("gone").unwrap();
        assert!(entries(dir.path()).iter().all(|n| n != "gone-0"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !entries(dir.path()).is_empty() {
            assert!(Instant::now() < deadline, "left: {:?}", entries(dir.path()));
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}
