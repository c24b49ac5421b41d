//! What a partition knows is on disk, and its recovery point.
//!
//! Every segment whose base offset lies below the recovery point has its `.log` file synced:
//! recovery after a crash trusts it with a walk over its batch headers. Segments from the
//! recovery point on (the active one always) get a full scan that checks every CRC.
//!
//! A roll seals the old active segment and syncs it in the background, on a blocking thread,
//! as Kafka flushes a rolled segment asynchronously: an append never waits for the fsync of up
//! to `segment.bytes` of dirty pages, nor holds the partition lock or a runtime worker through
//! it. Each background sync covers every sealed segment from the recovery point seen at the
//! roll to the new active segment's base offset, and holds `Durability`'s point throughout,
//! so one partition's syncs run one at a time and the point only moves over synced segments.
//!
//! On disk: [`RECOVERY_POINT_FILE`] in the partition directory, the offset in decimal and a
//! newline, replaced atomically (temporary file, fsync, rename, directory fsync). No file
//! reads as 0: every segment is scanned. `log-start-offset` is read and written the same way
//! (`read_offset_file`, `write_offset_file`), and so is [`CLEANER_CHECKPOINT_FILE`], which
//! holds two numbers on one line.

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// The file in a partition directory holding its recovery point.
pub const RECOVERY_POINT_FILE: &str = "recovery-point";

/// The file in a partition directory holding the log cleaner's progress: the first dirty
/// offset and the time its earliest retained tombstone becomes removable (-1: none), as
/// Kafka keeps a `cleaner-offset-checkpoint`, so a restart does not clean the whole log again.
pub const CLEANER_CHECKPOINT_FILE: &str = "cleaner-checkpoint";

/// Reads an offset file ([`RECOVERY_POINT_FILE`], [`super::partition::LOG_START_FILE`]) from a partition
/// directory: `None` when it is missing or does not hold one number.
pub(super) fn read_offset_file(dir: &Path, name: &str) -> io::Result<Option<i64>> {
    Ok(read_numbers_file(dir, name, 1)?.map(|n| n[0]))
}

/// Reads a file of `count` decimal numbers separated by spaces: `None` when it is missing
/// or does not hold exactly that.
pub(super) fn read_numbers_file(
    dir: &Path,
    name: &str,
    count: usize,
) -> io::Result<Option<Vec<i64>>> {
    let text = match std::fs::read_to_string(dir.join(name)) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let numbers: Result<Vec<i64>, _> = text.split_whitespace().map(str::parse).collect();
    Ok(numbers.ok().filter(|n| n.len() == count))
}

/// Durably replaces the offset file `name` in `dir` with `offset` (decimal and a newline).
pub(super) fn write_offset_file(dir: &Path, name: &str, offset: i64) -> io::Result<()> {
    write_numbers_file(dir, name, &[offset])
}

/// Durably replaces the file `name` in `dir` with `numbers` (decimal, separated by spaces,
/// and a newline): a temporary file, fsynced, renamed over it, the directory fsynced.
fn write_numbers_file(dir: &Path, name: &str, numbers: &[i64]) -> io::Result<()> {
    let text: Vec<String> = numbers.iter().map(i64::to_string).collect();
    write_file(dir, name, format!("{}\n", text.join(" ")).as_bytes())
}

/// Durably replaces the file `name` in `dir` with `bytes`: a temporary file `<name>.tmp`,
/// fsynced, renamed over it, the directory fsynced. A crash leaves the old file or the new.
pub(super) fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    {
        let mut f = std::fs::File::create(&tmp)?;
        io::Write::write_all(&mut f, bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(name))?;
    super::segment::sync_dir(dir)
}

/// A partition's state shared with its background syncs.
#[derive(Debug)]
pub(super) struct Durability {
    /// Set after an fsync (or other state-losing) error: every later operation fails.
    pub(super) failed: AtomicBool,
    /// Set (under the partition lock) when the topic is deleted, before its files go.
    pub(super) deleted: AtomicBool,
    /// Held while a file (the recovery point, the cleaner checkpoint) is written into the
    /// partition directory, and while a deletion renames that directory: a writer that finds
    /// the partition not deleted under it writes into the directory before it is renamed,
    /// never into a directory of the same name that a re-created topic made afterwards.
    directory: Mutex<()>,
    /// The recovery point as persisted; held while a sync runs.
    point: Mutex<i64>,
    /// A copy of `point` readable without waiting for a sync in progress.
    seen: AtomicI64,
    /// Bumped (under `point`) each time a truncation lowers the point: a background sync
    /// started before it covers files that may no longer be the log's, and does nothing.
    truncations: AtomicU64,
}

impl Durability {
    pub(super) fn new(point: i64) -> Durability {
        Durability {
            failed: AtomicBool::new(false),
            deleted: AtomicBool::new(false),
            directory: Mutex::new(()),
            point: Mutex::new(point),
            seen: AtomicI64::new(point),
            truncations: AtomicU64::new(0),
        }
    }

    /// How many truncations have lowered the point (see [`Durability::sync_sealed`]).
    pub(super) fn truncations(&self) -> u64 {
        self.truncations.load(Ordering::Acquire)
    }

    /// A truncation (or reset) of the log to `end`: the point is lowered to `end` if above
    /// it, in memory and on disk, so that segments written afterwards below the old point
    /// are not trusted unsynced after a crash. Waits for a sync in progress; a sync started
    /// before this returns does nothing.
    pub(super) fn lower_to(&self, dir: &Path, end: i64) -> io::Result<()> {
        let mut point = self.point.lock().unwrap_or_else(|p| p.into_inner());
        self.truncations.fetch_add(1, Ordering::AcqRel);
        if *point <= end {
            return Ok(());
        }
        write_numbers_file(dir, RECOVERY_POINT_FILE, &[end])?;
        *point = end;
        self.seen.store(end, Ordering::Release);
        Ok(())
    }

    /// The recovery point, possibly behind a sync in progress.
    pub(super) fn seen(&self) -> i64 {
        self.seen.load(Ordering::Acquire)
    }

    /// Syncs `files` (every sealed segment's log from the recovery point to `target`) and
    /// then persists `target` as the recovery point in `dir`. Does nothing once the point has
    /// passed `target`, the partition is deleted (its directory may be gone), or the log was
    /// truncated since `truncations` was read (under the partition lock, with `files`).
    pub(super) fn sync_sealed(
        &self,
        dir: &Path,
        files: &[Arc<File>],
        target: i64,
        truncations: u64,
    ) -> io::Result<()> {
        let mut point = self.point.lock().unwrap_or_else(|p| p.into_inner());
        if *point >= target
            || self.deleted.load(Ordering::Acquire)
            || self.truncations() != truncations
        {
            return Ok(());
        }
        for f in files {
            f.sync_all()?;
        }
        if !self.write_unless_deleted(dir, RECOVERY_POINT_FILE, &[target])? {
            return Ok(());
        }
        *point = target;
        self.seen.store(target, Ordering::Release);
        Ok(())
    }

    /// Durably replaces the file `name` in the partition directory `dir` with `numbers`,
    /// unless the partition is deleted (then returns `false`): its directory may have been
    /// renamed, and a re-created topic may own the name.
    pub(super) fn write_unless_deleted(
        &self,
        dir: &Path,
        name: &str,
        numbers: &[i64],
    ) -> io::Result<bool> {
        let _directory = self.directory.lock().unwrap_or_else(|p| p.into_inner());
        if self.deleted.load(Ordering::Acquire) {
            return Ok(false);
        }
        write_numbers_file(dir, name, numbers)?;
        Ok(true)
    }

    /// Renames the directory of a partition already marked deleted, from `from` to `to`,
    /// once no file is being written into it by [`Durability::write_unless_deleted`] (a few
    /// milliseconds at most: the fsyncs of a background sync are not waited for).
    pub(super) fn rename_deleted(&self, from: &Path, to: &Path) -> io::Result<()> {
        debug_assert!(self.deleted.load(Ordering::Acquire));
        let _directory = self.directory.lock().unwrap_or_else(|p| p.into_inner());
        std::fs::rename(from, to)
    }

    /// Waits for a sync in progress to finish (before a deleted partition's files go).
    pub(super) fn wait_for_sync(&self) {
        drop(self.point.lock());
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::config::LogConfig;
    use crate::log::batch::{self, tests::make_batch};
    use crate::log::segment::file_name;
    use crate::log::{Partition, TopicPartition};

    fn open(dir: &Path) -> Partition {
        let mut config = LogConfig::default();
        config.set_topic("segment.bytes", "400").unwrap();
        Partition::open(TopicPartition::new("t", 0), dir.into(), config, 0, None).unwrap()
    }

    fn append_some(p: &Partition) {
        for _ in 0..20 {
            let raw = make_batch(0, 5, None);
            let h = batch::validate(&raw).unwrap();
            p.append(&raw, &h, crate::log::now_ms(), 0).unwrap();
        }
    }

    fn recovery_point(dir: &Path) -> Option<i64> {
        std::fs::read_to_string(dir.join(RECOVERY_POINT_FILE))
            .ok()
            .map(|s| s.trim().parse().unwrap())
    }

    fn active_base(p: &Partition) -> i64 {
        p.log.lock().unwrap().active().base_offset
    }

    fn first_segment_size(p: &Partition) -> u64 {
        p.log.lock().unwrap().segments[0].size
    }

    /// Without a runtime the sync runs inline: after the appends the point is the last roll's.
    /// Recovery trusts the segments below it (a damaged record there goes unnoticed, as on
    /// Kafka) and scans every segment from it on (the same damage is cut off).
    #[test]
    fn recovery_scans_from_the_recovery_point() {
        let dir = tempfile::tempdir().unwrap();
        let p = open(dir.path());
        append_some(&p);
        assert!(p.log.lock().unwrap().segments.len() > 2, "several segments");
        let point = active_base(&p);
        assert_eq!(recovery_point(dir.path()), Some(point));
        let size = first_segment_size(&p);
        drop(p); // no clean shutdown

        // Damage one record byte of the first batch (past its 61-byte header).
        let log: PathBuf = dir.path().join(file_name(0, "log"));
        let mut bytes = std::fs::read(&log).unwrap();
        bytes[batch::HEADER_LEN + 3] ^= 0xff;
        std::fs::write(&log, &bytes).unwrap();

        let p = open(dir.path());
        assert_eq!(first_segment_size(&p), size, "below the point: trusted");
        drop(p);

        std::fs::write(dir.path().join(RECOVERY_POINT_FILE), "0\n").unwrap();
        let p = open(dir.path());
        assert_eq!(
            first_segment_size(&p),
            0,
            "from the point on: scanned, cut at the damage"
        );
    }

    /// In a runtime the roll hands the sync to a blocking thread, which moves the point; a
    /// clean shutdown syncs the rest and moves it to the active segment.
    #[tokio::test]
    async fn rolls_sync_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let p = open(dir.path());
        append_some(&p);
        let last_roll = active_base(&p);
        let deadline = Instant::now() + Duration::from_secs(10);
        // `seen` moves after the file is replaced: once it shows the point, so does the file.
        while p.durability.seen() != last_roll {
            assert!(
                Instant::now() < deadline,
                "the point never reached {last_roll}"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(recovery_point(dir.path()), Some(last_roll));
        p.close().unwrap();
        assert_eq!(recovery_point(dir.path()), Some(active_base(&p)));
    }

    /// A sync that outlives its topic's deletion writes no recovery point, neither into the
    /// renamed directory nor into a directory of the same name made by a re-created topic.
    #[test]
    fn a_sync_after_deletion_writes_nothing() {
        let root = tempfile::tempdir().unwrap();
        let live = root.path().join("t-0");
        std::fs::create_dir(&live).unwrap();
        let kept = Durability::new(0);
        kept.sync_sealed(&live, &[], 7, 0).unwrap();
        assert_eq!(
            recovery_point(&live),
            Some(7),
            "a live partition's sync writes it"
        );

        let deleted = Durability::new(0);
        deleted.deleted.store(true, Ordering::Release);
        let renamed = root.path().join("t-0.x-delete");
        deleted.rename_deleted(&live, &renamed).unwrap();
        std::fs::create_dir(&live).unwrap(); // the topic, created again
        deleted.sync_sealed(&live, &[], 9, 0).unwrap();
        assert_eq!(recovery_point(&live), None, "nothing in the new directory");
        assert_eq!(
            recovery_point(&renamed),
            Some(7),
            "the old file is as it was"
        );
        assert_eq!(deleted.seen(), 0, "the point did not move");
    }

    /// The cleaner checkpoint is held to the log end (a crash may have cut the log below
    /// it); a missing or unreadable one counts the whole log as dirty.
    #[test]
    fn the_cleaner_checkpoint_is_held_to_the_log() {
        use crate::log::cleaner::CleanerState;
        let dir = tempfile::tempdir().unwrap();
        let p = open(dir.path());
        append_some(&p);
        let end = p.offsets().unwrap().log_end;
        drop(p);
        let state = || open(dir.path()).log.lock().unwrap().cleaner;
        assert_eq!(state(), CleanerState::default(), "no checkpoint");
        let file = dir.path().join(CLEANER_CHECKPOINT_FILE);
        std::fs::write(&file, "40 1234\n").unwrap();
        let expect = CleanerState {
            first_dirty: 40,
            tombstone_due_ms: Some(1234),
        };
        assert_eq!(state(), expect);
        std::fs::write(&file, format!("{} -1\n", end + 500)).unwrap();
        let expect = CleanerState {
            first_dirty: end,
            tombstone_due_ms: None,
        };
        assert_eq!(state(), expect, "held to the log end");
        std::fs::write(&file, "40\n").unwrap();
        assert_eq!(state(), CleanerState::default(), "unreadable");
    }
}
