//! The leader epoch cache: at which offset each leader epoch's writes began, as Kafka's
//! `LeaderEpochFileCache` keeps it. Followers use it to find where their log diverged from
//! the leader's (OffsetForLeaderEpoch) and truncate there.
//!
//! Invariant: the entries `(epoch, start_offset)` are strictly increasing in both fields.
//! Every change keeps it: [`LeaderEpochCache::assign`] removes the entries a new one would
//! contradict before adding it, and the truncations only remove entries or move the first
//! one's start forward.
//!
//! On disk: [`CHECKPOINT_FILE`] in the partition directory, Kafka's text format:
//!
//! ```text
//! 0                      version
//! 2                      number of entries
//! 0 0                    <epoch> <start offset>, one entry per line, in order
//! 3 150
//! ```
//!
//! It is replaced atomically whenever the cache changes (temporary file, fsync, rename,
//! directory fsync). A file that does not parse, or breaks the invariant, is treated as
//! absent (with a warning): the partition then rebuilds the cache from its batch headers.

use std::io;
use std::path::Path;

/// The leader epoch checkpoint file in a partition directory (Kafka's name).
pub const CHECKPOINT_FILE: &str = "leader-epoch-checkpoint";

/// Kafka's "no epoch" / "no offset" answer.
pub const UNDEFINED: (i32, i64) = (-1, -1);

/// `(epoch, start_offset)` entries, strictly increasing in both (module docs).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LeaderEpochCache {
    entries: Vec<(i32, i64)>,
}

impl LeaderEpochCache {
    /// A cache holding `entries`, or `None` when they are not strictly increasing in both
    /// fields or hold a negative value.
    pub fn from_entries(entries: Vec<(i32, i64)>) -> Option<LeaderEpochCache> {
        let valid = entries.iter().all(|&(e, o)| e >= 0 && o >= 0)
            && entries
                .windows(2)
                .all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1);
        valid.then_some(LeaderEpochCache { entries })
    }

    pub fn entries(&self) -> &[(i32, i64)] {
        &self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Kafka's `epochForOffset`: the epoch whose range holds `offset` (the latest entry
    /// starting at or before it), or None before the first entry or with no entries.
    pub fn epoch_for_offset(&self, offset: i64) -> Option<i32> {
        self.entries
            .iter()
            .rev()
            .find(|&&(_, start)| start <= offset)
            .map(|&(epoch, _)| epoch)
    }

    /// The latest `(epoch, start_offset)`.
    pub fn latest(&self) -> Option<(i32, i64)> {
        self.entries.last().copied()
    }

    /// Kafka's `assign`: records that `epoch` starts at `start_offset`. Nothing changes when
    /// either is negative, or when `epoch` is the latest epoch and `start_offset` is not below
    /// its start. Otherwise every entry with an epoch >= `epoch` or a start >= `start_offset`
    /// is removed first (so a lower epoch replaces the later ones, as in Kafka), then the
    /// entry is added. Returns whether the cache changed.
    pub fn assign(&mut self, epoch: i32, start_offset: i64) -> bool {
        if epoch < 0 || start_offset < 0 {
            return false;
        }
        if let Some((last_epoch, last_start)) = self.latest() {
            if epoch == last_epoch && start_offset >= last_start {
                return false;
            }
        }
        while self
            .entries
            .last()
            .is_some_and(|&(e, o)| e >= epoch || o >= start_offset)
        {
            self.entries.pop();
        }
        self.entries.push((epoch, start_offset));
        true
    }

    /// Kafka's `endOffsetFor`: the epoch at or below `requested` that the log knows and the
    /// offset where the epoch after it starts (`log_end_offset` for the latest epoch);
    /// [`UNDEFINED`] for -1, or for an epoch the log has nothing at or after.
    pub fn end_offset_for(&self, requested: i32, log_end_offset: i64) -> (i32, i64) {
        if requested == -1 {
            return UNDEFINED;
        }
        if self.latest().is_some_and(|(e, _)| e == requested) {
            return (requested, log_end_offset);
        }
        let Some(&(_, higher_start)) = self.entries.iter().find(|&&(e, _)| e > requested) else {
            return UNDEFINED;
        };
        match self.entries.iter().rev().find(|&&(e, _)| e <= requested) {
            None => (requested, higher_start),
            Some(&(floor, _)) => (floor, higher_start),
        }
    }

    /// Kafka's `truncateFromEnd`: removes the entries starting at or after `end_offset` (the
    /// new log end). Returns whether the cache changed.
    pub fn truncate_from_end(&mut self, end_offset: i64) -> bool {
        let before = self.entries.len();
        if end_offset >= 0 {
            self.entries.retain(|&(_, o)| o < end_offset);
        }
        self.entries.len() != before
    }

    /// Kafka's `truncateFromStart`: for a new log start offset, removes every entry starting
    /// at or below it and puts the last of them back starting at it (its epoch still covers
    /// the new first offset). Returns whether the cache changed.
    pub fn truncate_from_start(&mut self, start_offset: i64) -> bool {
        let below = self.entries.partition_point(|&(_, o)| o <= start_offset);
        if below == 0 {
            return false;
        }
        let (epoch, old) = self.entries[below - 1];
        self.entries.drain(..below - 1);
        self.entries[0] = (epoch, start_offset);
        below > 1 || old != start_offset
    }

    /// Removes every entry.
    pub fn clear(&mut self) -> bool {
        let changed = !self.entries.is_empty();
        self.entries.clear();
        changed
    }

    /// The checkpoint file's text (module docs).
    pub fn to_checkpoint(&self) -> String {
        let mut text = format!("0\n{}\n", self.entries.len());
        for (e, o) in &self.entries {
            text.push_str(&format!("{e} {o}\n"));
        }
        text
    }

    /// Parses the checkpoint file's text; `None` when it is not exactly version 0, a count,
    /// and that many valid entries.
    pub fn parse_checkpoint(text: &str) -> Option<LeaderEpochCache> {
        let mut lines = text.lines();
        if lines.next()?.trim() != "0" {
            return None;
        }
        let count: usize = lines.next()?.trim().parse().ok()?;
        let mut entries = Vec::with_capacity(count.min(1024));
        for line in lines.by_ref().take(count) {
            let mut parts = line.split_whitespace();
            let epoch = parts.next()?.parse().ok()?;
            let offset = parts.next()?.parse().ok()?;
            if parts.next().is_some() {
                return None;
            }
            entries.push((epoch, offset));
        }
        if entries.len() != count || lines.any(|l| !l.trim().is_empty()) {
            return None;
        }
        LeaderEpochCache::from_entries(entries)
    }

    /// Reads the checkpoint in `dir`: `None` when it is missing or malformed (warned).
    pub fn load(dir: &Path) -> io::Result<Option<LeaderEpochCache>> {
        let text = match std::fs::read_to_string(dir.join(CHECKPOINT_FILE)) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::InvalidData => String::new(),
            Err(e) => return Err(e),
        };
        let parsed = LeaderEpochCache::parse_checkpoint(&text);
        if parsed.is_none() {
            tracing::warn!(dir = %dir.display(), "malformed {CHECKPOINT_FILE}; rebuilding it from the log");
        }
        Ok(parsed)
    }

    /// Durably replaces the checkpoint in `dir` with this cache.
    pub fn store(&self, dir: &Path) -> io::Result<()> {
        super::durability::write_file(dir, CHECKPOINT_FILE, self.to_checkpoint().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Entries = &'static [(i32, i64)];

    fn cache(entries: &[(i32, i64)]) -> LeaderEpochCache {
        LeaderEpochCache::from_entries(entries.to_vec()).unwrap()
    }

    #[test]
    fn assign_follows_kafka() {
        // (before, assigned, after, changed)
        let table: &[(Entries, (i32, i64), Entries, bool)] = &[
            (&[], (0, 0), &[(0, 0)], true),
            (&[(0, 0)], (0, 5), &[(0, 0)], false),
            (&[(0, 0)], (1, 5), &[(0, 0), (1, 5)], true),
            (&[(0, 0), (1, 5)], (1, 9), &[(0, 0), (1, 5)], false),
            // The latest epoch at a lower start moves it down.
            (&[(0, 0), (1, 5)], (1, 3), &[(0, 0), (1, 3)], true),
            // A start below later entries removes them.
            (
                &[(0, 0), (1, 5), (2, 8)],
                (3, 6),
                &[(0, 0), (1, 5), (3, 6)],
                true,
            ),
            (&[(0, 0), (1, 5), (2, 8)], (3, 5), &[(0, 0), (3, 5)], true),
            // A lower epoch replaces the later ones, as Kafka's cache does.
            (
                &[(0, 0), (2, 5), (4, 8)],
                (3, 9),
                &[(0, 0), (2, 5), (3, 9)],
                true,
            ),
            // Negative values are ignored.
            (&[(0, 0)], (-1, 5), &[(0, 0)], false),
            (&[(0, 0)], (1, -1), &[(0, 0)], false),
        ];
        for (before, (epoch, start), after, changed) in table {
            let mut c = cache(before);
            assert_eq!(
                c.assign(*epoch, *start),
                *changed,
                "{before:?} + {epoch}@{start}"
            );
            assert_eq!(c.entries(), *after, "{before:?} + {epoch}@{start}");
        }
    }

    #[test]
    fn end_offset_for_follows_kafka() {
        let c = cache(&[(1, 0), (3, 10), (5, 20)]);
        let table = [
            (-1, (-1, -1)),
            (5, (5, 30)),  // the latest epoch ends at the log end
            (3, (3, 20)),  // a known epoch ends where the next starts
            (4, (3, 20)),  // an unknown one: its floor's epoch, the next start
            (0, (0, 0)),   // below every entry: the requested epoch, the first start
            (6, (-1, -1)), // above the latest
            (2, (1, 10)),
        ];
        for (requested, expect) in table {
            assert_eq!(c.end_offset_for(requested, 30), expect, "epoch {requested}");
        }
        assert_eq!(LeaderEpochCache::default().end_offset_for(0, 30), (-1, -1));
    }

    #[test]
    fn epoch_for_offset_follows_kafka() {
        let c = LeaderEpochCache::from_entries(vec![(0, 0), (2, 10), (5, 30)]).unwrap();
        let table = [
            (0, Some(0)),
            (9, Some(0)),
            (10, Some(2)),
            (29, Some(2)),
            (30, Some(5)),
            (1_000, Some(5)),
        ];
        for (offset, epoch) in table {
            assert_eq!(c.epoch_for_offset(offset), epoch, "offset {offset}");
        }
        let late = LeaderEpochCache::from_entries(vec![(3, 100)]).unwrap();
        assert_eq!(late.epoch_for_offset(99), None);
        assert_eq!(LeaderEpochCache::default().epoch_for_offset(5), None);
    }

    #[test]
    fn truncations_follow_kafka() {
        const BASE: [(i32, i64); 3] = [(1, 0), (3, 10), (5, 20)];
        let base = BASE;
        let from_end: &[(i64, Entries, bool)] = &[
            (30, &BASE, false),
            (21, &BASE, false),
            (20, &[(1, 0), (3, 10)], true),
            (11, &[(1, 0), (3, 10)], true),
            (0, &[], true),
            (-1, &BASE, false),
        ];
        for (end, after, changed) in from_end {
            let mut c = cache(&base);
            assert_eq!(c.truncate_from_end(*end), *changed, "end {end}");
            assert_eq!(c.entries(), *after, "end {end}");
        }
        let from_start: &[(i64, Entries, bool)] = &[
            (0, &BASE, false),
            (5, &[(1, 5), (3, 10), (5, 20)], true),
            (10, &[(3, 10), (5, 20)], true),
            (15, &[(3, 15), (5, 20)], true),
            (25, &[(5, 25)], true),
        ];
        for (start, after, changed) in from_start {
            let mut c = cache(&base);
            assert_eq!(c.truncate_from_start(*start), *changed, "start {start}");
            assert_eq!(c.entries(), *after, "start {start}");
        }
        let mut late = cache(&[(2, 7)]);
        assert!(!late.truncate_from_start(3), "nothing starts below 3");
        assert_eq!(late.entries(), &[(2, 7)]);
    }

    #[test]
    fn checkpoint_round_trips_and_rejects_damage() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(LeaderEpochCache::load(dir.path()).unwrap(), None);
        let c = cache(&[(0, 0), (3, 150)]);
        c.store(dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join(CHECKPOINT_FILE)).unwrap();
        assert_eq!(text, "0\n2\n0 0\n3 150\n");
        assert_eq!(LeaderEpochCache::load(dir.path()).unwrap(), Some(c));
        for bad in [
            "",
            "1\n1\n0 0\n",
            "0\n2\n0 0\n",
            "0\n1\n0 0\n1 5\n",
            "0\n1\n0\n",
            "0\n1\n0 0 0\n",
            "0\n2\n3 0\n1 5\n",
            "0\n2\n1 5\n2 5\n",
            "0\nx\n",
            "0\n99999999999999999999\n",
        ] {
            std::fs::write(dir.path().join(CHECKPOINT_FILE), bad).unwrap();
            assert_eq!(LeaderEpochCache::load(dir.path()).unwrap(), None, "{bad:?}");
        }
        std::fs::write(dir.path().join(CHECKPOINT_FILE), [0xff, 0xfe]).unwrap();
        assert_eq!(
            LeaderEpochCache::load(dir.path()).unwrap(),
            None,
            "not UTF-8"
        );
    }
}
