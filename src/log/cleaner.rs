//! The log cleaner: compaction of partitions whose `cleanup.policy` includes `compact`.
//!
//! A pass over one partition, as Kafka's cleaner does it:
//! 1. The *cleanable* part of the log is the closed segments, up to the first one holding a
//!    record younger than `min.compaction.lag.ms`; the active segment, and any segment not
//!    wholly below the last stable offset (so below the high watermark, and before every
//!    open or not yet replicated transaction: Kafka's first uncleanable offset), is never
//!    cleaned.
//! 2. The pass runs when the dirty part (written since the last pass) is at least
//!    `min.cleanable.dirty.ratio` of the cleanable bytes, when dirty data is older than
//!    `max.compaction.lag.ms`, or when a retained tombstone has reached `delete.retention.ms`.
//! 3. An offset map (key hash -> latest offset) is built over the dirty part, bounded by
//!    `max_keys`; the pass then covers the log up to where the map ends.
//! 4. Consecutive segments are rewritten in groups (at most `segment.bytes` of input): a
//!    record survives if no later record has its key, except a tombstone whose timestamp is
//!    older than `delete.retention.ms`. Keyless records, control batches and batches that
//!    cannot be decoded are kept whole. A batch keeps its base offset, last offset delta,
//!    producer fields and codec; its surviving records keep their bytes (so keys, values,
//!    headers and offsets are unchanged); only the header's length, count, max timestamp and
//!    CRC are recomputed. A batch left empty is dropped, unless it is its producer's last
//!    batch, which stays as an empty batch so idempotent sequence checks survive a restart.
//! 5. Transactions, as Kafka's `CleanedTransactionMetadata`: the records of aborted
//!    transactions (a transactional data batch of producer P whose offset lies in one of P's
//!    aborted ranges [first offset, ABORT marker] from the `.txnindex` entries) are removed
//!    whatever their keys, and never enter the offset map (an aborted value must not hide a
//!    committed one). A marker (COMMIT or ABORT) goes once no batch of its transaction is
//!    left: when a pass walking the log in order meets none of its producer's transactional
//!    batches since that producer's previous marker (a batch removed in the same pass still
//!    counts, so removal takes two passes, as Kafka's), its timestamp is older than
//!    `delete.retention.ms` (the rule this cleaner applies to tombstones; Kafka stamps a
//!    delete horizon into the batch instead) and it is not its producer's last batch (which
//!    keeps the epochs for fencing). A cleaned segment's `.txnindex` is its group's entries
//!    less those of removed ABORT markers, so every entry names a marker in the log.
//!
//! Crash safety. A group `[base, end)` (end: the next segment's base offset) is written to
//! `<base>.log.cleaned` and fsynced; the commit point is its rename to
//! `<base 20 digits>-<end 20 digits>.swap` (directory fsynced). Completing a swap renames
//! the group's old files to `*.deleted`, renames the swap to `<base>.log` and removes the
//! old files; [`complete_swaps`] redoes that at start for a swap found on disk, and
//! `*.cleaned` files (no commit) are removed. So after a crash the log holds either every
//! old segment or the cleaned one, never a mix.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;

use super::batch::{self, BatchHeader, HEADER_LEN};
use super::compression;
use super::durability::{read_numbers_file, CLEANER_CHECKPOINT_FILE};
use super::partition::{LogError, Partition};
use super::record::{parse_records, records_of, RecordView};
use super::segment::{self, file_name, Segment};
use super::txn_index::AbortedTxn;

/// A partition's cleaning progress, kept in [`CLEANER_CHECKPOINT_FILE`] after each pass so
/// that a restart does not count the whole log as dirty again.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CleanerState {
    /// Offsets below this have been compacted against every key seen before it.
    pub first_dirty: i64,
    /// The earliest time a retained tombstone becomes removable.
    pub tombstone_due_ms: Option<i64>,
}

impl CleanerState {
    /// The progress checkpointed in `dir`, held to `end` (a crash may have cut the log below
    /// it). Without a readable checkpoint the whole log counts as dirty, as before any pass.
    pub(super) fn load(dir: &Path, end: i64) -> io::Result<CleanerState> {
        Ok(match read_numbers_file(dir, CLEANER_CHECKPOINT_FILE, 2)? {
            Some(n) => CleanerState {
                first_dirty: n[0].clamp(0, end),
                tombstone_due_ms: (n[1] >= 0).then_some(n[1]),
            },
            None => CleanerState::default(),
        })
    }
}

/// What one cleaning pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CleanReport {
    pub segments_in: usize,
    pub segments_out: usize,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub records_removed: u64,
}

/// A closed segment as the cleaner sees it: immutable while the pass runs.
struct SegmentView {
    base: i64,
    /// The next segment's base offset.
    end: i64,
    size: u64,
    largest_ts: i64,
    map: Option<Arc<Mmap>>,
}

impl SegmentView {
    fn bytes(&self) -> &[u8] {
        match &self.map {
            Some(m) => &m[..(self.size as usize).min(m.len())],
            None => &[],
        }
    }
}

/// Iterates the whole batches of a segment's bytes.
fn batches(data: &[u8]) -> impl Iterator<Item = (&[u8], BatchHeader)> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        let len = batch::peek_total_len(data.get(pos..)?)?;
        let raw = data.get(pos..pos + len)?;
        let h = BatchHeader::parse(raw).ok()?;
        pos += len;
        Some((raw, h))
    })
}

/// A 128-bit key hash: two independently seeded SipHashes (a collision would make one key
/// hide another, so 64 bits are not enough for logs of billions of keys).
struct KeyHasher(RandomState, RandomState);

impl KeyHasher {
    fn hash(&self, key: &[u8]) -> u128 {
        (u128::from(self.0.hash_one(key)) << 64) | u128::from(self.1.hash_one(key))
    }
}

/// Rebuilds `raw` keeping only the records at `keep` (indexes into `views`, its parsed
/// records). Returns `None` when the batch should be dropped entirely.
fn rebuild(
    raw: &[u8],
    h: &BatchHeader,
    views: &[RecordView<'_>],
    keep: &[usize],
    keep_empty: bool,
) -> io::Result<Option<Vec<u8>>> {
    if keep.is_empty() && !keep_empty {
        return Ok(None);
    }
    let mut plain = Vec::new();
    let mut max_delta = None;
    for &i in keep {
        plain.extend_from_slice(views[i].raw);
        max_delta = max_delta.max(Some(views[i].timestamp_delta));
    }
    let mut head = [0u8; HEADER_LEN];
    head.copy_from_slice(&raw[..HEADER_LEN]);
    let mut attributes = h.attributes;
    let body = if keep.is_empty() {
        // An empty batch is written uncompressed, as Kafka does.
        attributes &= !0x07;
        Vec::new()
    } else if h.codec() == compression::NONE {
        plain
    } else {
        let xerial = h.codec() == compression::SNAPPY && compression::is_xerial(&raw[HEADER_LEN..]);
        compression::compress(h.codec(), &plain, xerial)?
    };
    let log_append_time = attributes & (1 << 3) != 0;
    let max_ts = match max_delta {
        Some(d) if !log_append_time => h.base_timestamp.saturating_add(d),
        _ => h.max_timestamp,
    };
    let total = HEADER_LEN + body.len();
    head[8..12].copy_from_slice(&((total - batch::LOG_OVERHEAD) as i32).to_be_bytes());
    head[21..23].copy_from_slice(&attributes.to_be_bytes());
    head[35..43].copy_from_slice(&max_ts.to_be_bytes());
    head[57..61].copy_from_slice(&(keep.len() as i32).to_be_bytes());
    let crc = crc32c::crc32c_append(crc32c::crc32c(&head[21..]), &body);
    head[17..21].copy_from_slice(&crc.to_be_bytes());
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&head);
    out.extend_from_slice(&body);
    Ok(Some(out))
}

/// The aborted transactions of the log, by producer: (first offset, marker offset).
#[derive(Default)]
struct AbortedRanges(HashMap<i64, Vec<(i64, i64)>>);

impl AbortedRanges {
    fn new(entries: &[AbortedTxn]) -> Self {
        let mut map: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
        for e in entries {
            map.entry(e.producer_id)
                .or_default()
                .push((e.first_offset, e.last_offset));
        }
        AbortedRanges(map)
    }

    /// Whether `h` is a data batch of an aborted transaction.
    fn holds(&self, h: &BatchHeader) -> bool {
        h.is_transactional()
            && !h.is_control()
            && self.0.get(&h.producer_id).is_some_and(|ranges| {
                ranges
                    .iter()
                    .any(|&(first, last)| first <= h.base_offset && h.base_offset <= last)
            })
    }
}

/// What a pass learns walking the log in order.
#[derive(Default)]
struct PassState {
    /// The earliest expiry of a kept tombstone or marker.
    tombstone_due: Option<i64>,
    /// Producers with a transactional data batch met since their last marker.
    observed: HashSet<i64>,
    /// Offsets of the markers removed.
    dropped_markers: HashSet<i64>,
}

/// Everything a pass decides before rewriting: which records are superseded.
struct Plan<'a> {
    hasher: KeyHasher,
    latest: HashMap<u128, i64>,
    /// Offsets at or above this are kept untouched (the map did not reach them).
    map_end: i64,
    tombstone_horizon_ms: i64,
    delete_retention_ms: i64,
    producer_last: &'a HashSet<(i64, i64)>,
    /// (producer id, offset) of the markers that are their producer's last batch.
    producer_last_marker: &'a HashSet<(i64, i64)>,
    aborted: AbortedRanges,
}

/// The outcome of filtering one batch.
enum Filtered {
    Unchanged,
    Dropped { removed: u64 },
    Rewritten { bytes: Vec<u8>, removed: u64 },
}

impl Plan<'_> {
    /// Decides one batch, in log order (module docs).
    fn filter(&self, raw: &[u8], h: &BatchHeader, pass: &mut PassState) -> Filtered {
        if h.is_control() {
            return self.filter_marker(raw, h, pass);
        }
        if h.is_transactional() {
            pass.observed.insert(h.producer_id);
        }
        if h.record_count == 0 {
            return Filtered::Unchanged;
        }
        let keep_empty = self.producer_last.contains(&(h.producer_id, h.base_offset));
        if self.aborted.holds(h) {
            let removed = h.record_count.max(0) as u64;
            return match rebuild(raw, h, &[], &[], keep_empty) {
                Ok(Some(bytes)) => Filtered::Rewritten { bytes, removed },
                Ok(None) => Filtered::Dropped { removed },
                Err(_) => Filtered::Unchanged,
            };
        }
        if h.base_offset >= self.map_end {
            return Filtered::Unchanged;
        }
        let Some(records) = records_of(raw, h) else {
            return Filtered::Unchanged;
        };
        let Ok(views) = parse_records(&records, h.record_count) else {
            return Filtered::Unchanged;
        };
        let log_append_time = h.attributes & (1 << 3) != 0;
        let mut keep = Vec::with_capacity(views.len());
        for (i, r) in views.iter().enumerate() {
            let offset = h.base_offset.saturating_add(i64::from(r.offset_delta));
            let Some(key) = r.key else {
                keep.push(i);
                continue;
            };
            if offset >= self.map_end {
                keep.push(i);
                continue;
            }
            let superseded = self
                .latest
                .get(&self.hasher.hash(key))
                .is_some_and(|&latest| latest > offset);
            if superseded {
                continue;
            }
            if r.null_value {
                let ts = if log_append_time {
                    h.max_timestamp
                } else {
                    h.base_timestamp.saturating_add(r.timestamp_delta)
                };
                if ts < self.tombstone_horizon_ms {
                    continue;
                }
                pass.due_at(ts.saturating_add(self.delete_retention_ms));
            }
            keep.push(i);
        }
        let removed = (views.len() - keep.len()) as u64;
        if removed == 0 {
            return Filtered::Unchanged;
        }
        match rebuild(raw, h, &views, &keep, keep_empty) {
            Ok(Some(bytes)) => Filtered::Rewritten { bytes, removed },
            Ok(None) => Filtered::Dropped { removed },
            Err(_) => Filtered::Unchanged,
        }
    }
}

impl Plan<'_> {
    /// Decides a control batch: a marker no batch of whose transaction is left goes once
    /// old enough, unless it is its producer's last batch (module docs).
    fn filter_marker(&self, raw: &[u8], h: &BatchHeader, pass: &mut PassState) -> Filtered {
        let observed = pass.observed.remove(&h.producer_id);
        if observed
            || batch::parse_control(raw, h).is_none()
            || self
                .producer_last_marker
                .contains(&(h.producer_id, h.base_offset))
        {
            return Filtered::Unchanged;
        }
        if h.max_timestamp >= self.tombstone_horizon_ms {
            pass.due_at(h.max_timestamp.saturating_add(self.delete_retention_ms));
            return Filtered::Unchanged;
        }
        pass.dropped_markers.insert(h.base_offset);
        Filtered::Dropped { removed: 1 }
    }
}

impl PassState {
    fn due_at(&mut self, due: i64) {
        self.tombstone_due = Some(self.tombstone_due.map_or(due, |d| d.min(due)));
    }
}

/// The name of a committed swap file for the group `[base, end)`.
fn swap_name(base: i64, end: i64) -> String {
    format!("{base:020}-{end:020}.swap")
}

fn parse_swap_name(name: &str) -> Option<(i64, i64)> {
    let (base, end) = name.strip_suffix(".swap")?.split_once('-')?;
    Some((segment::parse_base(base)?, segment::parse_base(end)?))
}

/// Finishes a committed swap: the old segments of `[base, end)` out, the swap in as
/// `<base>.log` (its indexes are rebuilt when it is opened).
fn complete_swap(dir: &Path, base: i64, end: i64) -> io::Result<()> {
    let old: Vec<i64> = segment::list_bases(dir)?
        .into_iter()
        .filter(|b| (base..end).contains(b))
        .collect();
    for &b in &old {
        segment::mark_deleted(dir, b)?;
    }
    std::fs::rename(
        dir.join(swap_name(base, end)),
        dir.join(file_name(base, "log")),
    )?;
    segment::sync_dir(dir)?;
    for &b in &old {
        segment::remove_deleted(dir, b)?;
    }
    Ok(())
}

/// Completes every committed swap in a partition directory (at open, before segments are
/// listed).
pub fn complete_swaps(dir: &Path) -> io::Result<()> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        if let Some(group) = parse_swap_name(&entry?.file_name().to_string_lossy()) {
            found.push(group);
        }
    }
    for &(base, end) in &found {
        tracing::warn!(dir = %dir.display(), base, end, "completing an interrupted log cleaning swap");
        complete_swap(dir, base, end)?;
    }
    Ok(())
}

/// Limits of one pass.
#[derive(Debug, Clone, Copy)]
pub struct CleanerLimits {
    /// Distinct keys the offset map may hold (`log.cleaner.dedupe.buffer.size` / 24).
    pub max_keys: usize,
}

impl Partition {
    /// Runs one cleaning pass if the partition is compacted and due (module docs). `stop` is
    /// polled between groups; a stopped pass leaves no trace. Returns what was done, or
    /// `None` when nothing was due.
    pub fn clean(
        &self,
        now_ms: i64,
        limits: CleanerLimits,
        stop: &dyn Fn() -> bool,
    ) -> Result<Option<CleanReport>, LogError> {
        let (config, views, lso, state, producer_last, last_markers, aborted) = {
            let mut guard = self.lock()?;
            let l = &mut *guard;
            if !l.config.compacts() {
                return Ok(None);
            }
            // Never past the last stable offset (module docs).
            let stable = l.producers.last_stable_offset(self.high_watermark());
            let closed = (0..l.segments.len() - 1)
                .take_while(|&i| l.segments[i + 1].base_offset <= stable)
                .count();
            let mut views = Vec::with_capacity(closed);
            for i in 0..closed {
                let end = l.segments[i + 1].base_offset;
                let s = &mut l.segments[i];
                views.push(SegmentView {
                    base: s.base_offset,
                    end,
                    size: s.size,
                    largest_ts: s.largest_timestamp(),
                    map: s.map_covering(0)?,
                });
            }
            let producer_last = l.producers.last_batches();
            let last_markers = l.producers.last_markers();
            let entries: Vec<AbortedTxn> = l
                .segments
                .iter()
                .flat_map(|s| s.txn.entries().iter().copied())
                .collect();
            (
                l.config.clone(),
                views,
                l.log_start_offset,
                l.cleaner,
                producer_last,
                last_markers,
                AbortedRanges::new(&entries),
            )
        };
        // 1. The cleanable prefix.
        let lag_horizon = now_ms.saturating_sub(config.min_compaction_lag_ms);
        let cleanable = views
            .iter()
            .take_while(|v| config.min_compaction_lag_ms == 0 || v.largest_ts <= lag_horizon)
            .count();
        let views = &views[..cleanable];
        if views.is_empty() {
            return Ok(None);
        }
        // 2. Due?
        let dirty_start = state.first_dirty.max(lso);
        let total: u64 = views.iter().map(|v| v.size).sum();
        let dirty: u64 = views
            .iter()
            .filter(|v| v.end > dirty_start)
            .map(|v| v.size)
            .sum();
        let first_dirty_ts = views
            .iter()
            .find(|v| v.end > dirty_start)
            .and_then(|v| batches(v.bytes()).next())
            .map(|(_, h)| h.base_timestamp);
        let ratio_due =
            total > 0 && dirty as f64 / total as f64 >= config.min_cleanable_dirty_ratio;
        let lag_due = first_dirty_ts
            .is_some_and(|ts| ts < now_ms.saturating_sub(config.max_compaction_lag_ms));
        let tombstones_due = state.tombstone_due_ms.is_some_and(|t| t <= now_ms);
        if !((dirty > 0 && (ratio_due || lag_due)) || tombstones_due) {
            return Ok(None);
        }
        // 3. The offset map over the dirty part.
        let hasher = KeyHasher(RandomState::new(), RandomState::new());
        let mut latest: HashMap<u128, i64> = HashMap::new();
        let mut map_end = views[views.len() - 1].end;
        'map: for v in views.iter().filter(|v| v.end > dirty_start) {
            for (raw, h) in batches(v.bytes()) {
                if h.last_offset() < dirty_start || h.is_control() || aborted.holds(&h) {
                    continue;
                }
                if latest.len() >= limits.max_keys {
                    map_end = h.base_offset;
                    break 'map;
                }
                let Some(records) = records_of(raw, &h) else {
                    continue;
                };
                let Ok(recs) = parse_records(&records, h.record_count) else {
                    continue;
                };
                for r in recs {
                    let offset = h.base_offset.saturating_add(i64::from(r.offset_delta));
                    if let (Some(key), true) = (r.key, offset >= dirty_start) {
                        latest.insert(hasher.hash(key), offset);
                    }
                }
            }
        }
        let plan = Plan {
            hasher,
            latest,
            map_end,
            tombstone_horizon_ms: now_ms.saturating_sub(config.delete_retention_ms),
            delete_retention_ms: config.delete_retention_ms,
            producer_last: &producer_last,
            producer_last_marker: &last_markers,
            aborted,
        };
        // 4. Rewrite in groups.
        let mut report = CleanReport::default();
        let mut pass = PassState::default();
        let mut i = 0;
        while i < views.len() && views[i].base < map_end {
            if stop() {
                return Ok(Some(report));
            }
            let mut j = i + 1;
            let mut size = views[i].size;
            while j < views.len()
                && views[j].base < map_end
                && size + views[j].size <= config.segment_bytes
                && views[j].end - views[i].base < i64::from(i32::MAX)
            {
                size += views[j].size;
                j += 1;
            }
            self.clean_group(&views[i..j], &plan, &mut pass, &mut report)?;
            i = j;
        }
        let state = CleanerState {
            first_dirty: map_end,
            tombstone_due_ms: pass.tombstone_due,
        };
        if let Ok(mut l) = self.lock() {
            l.cleaner = state;
        }
        // Losing the checkpoint only costs a pass over data already clean after a restart.
        let numbers = [map_end, pass.tombstone_due.unwrap_or(-1)];
        if let Err(e) =
            self.durability
                .write_unless_deleted(self.dir(), CLEANER_CHECKPOINT_FILE, &numbers)
        {
            tracing::warn!(partition = %self.tp, error = %e, "writing the cleaner checkpoint");
        }
        Ok(Some(report))
    }

    /// Filters one group of segments into a `.cleaned` file and swaps it in, unless nothing
    /// in it changed.
    fn clean_group(
        &self,
        group: &[SegmentView],
        plan: &Plan<'_>,
        pass: &mut PassState,
        report: &mut CleanReport,
    ) -> Result<(), LogError> {
        let (base, end) = (group[0].base, group[group.len() - 1].end);
        let cleaned_path = self
            .dir()
            .join(format!("{}.cleaned", file_name(base, "log")));
        let mut write = || -> io::Result<(u64, u64)> {
            let file = std::fs::File::create(&cleaned_path)?;
            let mut out = BufWriter::with_capacity(1 << 20, file);
            let (mut removed, mut written) = (0u64, 0u64);
            for v in group {
                for (raw, h) in batches(v.bytes()) {
                    let bytes = match plan.filter(raw, &h, pass) {
                        Filtered::Unchanged => {
                            out.write_all(raw)?;
                            written += raw.len() as u64;
                            continue;
                        }
                        Filtered::Dropped { removed: n } => {
                            removed += n;
                            continue;
                        }
                        Filtered::Rewritten { bytes, removed: n } => {
                            removed += n;
                            bytes
                        }
                    };
                    out.write_all(&bytes)?;
                    written += bytes.len() as u64;
                }
            }
            out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            Ok((removed, written))
        };
        let (removed, written) = match write() {
            Ok(r) => r,
            Err(e) => {
                let _ = std::fs::remove_file(&cleaned_path);
                // The old segments are untouched: skip this partition's pass, keep serving.
                tracing::warn!(partition = %self.tp, error = %e, "log cleaning failed");
                return Err(LogError::Io(e));
            }
        };
        let bytes_in: u64 = group.iter().map(|v| v.size).sum();
        // A group of several segments is rewritten even when nothing in it went: merging
        // segments that earlier passes shrank keeps their number down.
        if removed == 0 && group.len() == 1 {
            let _ = std::fs::remove_file(&cleaned_path);
            return Ok(());
        }
        // Commit and swap under the lock, if the group is still the log's (retention or
        // DeleteRecords may have removed part of it meanwhile).
        let mut guard = self.lock()?;
        let l = &mut *guard;
        let Some(first) = l.segments.iter().position(|s| s.base_offset == base) else {
            let _ = std::fs::remove_file(&cleaned_path);
            return Ok(());
        };
        let last = first + group.len();
        let intact = last < l.segments.len()
            && l.segments[first..last]
                .iter()
                .zip(group)
                .all(|(s, v)| s.base_offset == v.base && s.size == v.size)
            && l.segments[last].base_offset == end;
        if !intact {
            let _ = std::fs::remove_file(&cleaned_path);
            return Ok(());
        }
        // The group's aborted entries, less those of the markers removed.
        let entries: Vec<AbortedTxn> = l.segments[first..last]
            .iter()
            .flat_map(|s| s.txn.entries().iter().copied())
            .filter(|e| !pass.dropped_markers.contains(&e.last_offset))
            .collect();
        let swapped = std::fs::rename(&cleaned_path, self.dir().join(swap_name(base, end)))
            .and_then(|_| segment::sync_dir(self.dir()))
            .and_then(|_| complete_swap(self.dir(), base, end))
            .and_then(|_| {
                Segment::open(
                    self.dir(),
                    base,
                    l.config.segment_index_bytes,
                    l.config.index_interval_bytes,
                    false,
                    super::now_ms(),
                    |_, _| {},
                )
            })
            .and_then(|(mut seg, report)| {
                seg.txn.replace(entries)?;
                Ok((seg, report))
            });
        let (seg, _) = match swapped {
            Ok(s) => s,
            Err(e) => return Err(self.fail(&e)),
        };
        report.segments_in += group.len();
        report.segments_out += 1;
        report.bytes_in += bytes_in;
        report.bytes_out += written;
        report.records_removed += removed;
        l.segments.splice(first..last, [seg]);
        Ok(())
    }
}

#[cfg(test)]
#[path = "cleaner_tests.rs"]
mod tests;
