//! One segment of a partition log: `<base>.log` plus its `.index`, `.timeindex` and
//! `.txnindex` (aborted transactions, see [`super::txn_index`]; written only once one is).
//!
//! The `.log` file is the concatenation of record batches exactly as produced (after offset
//! assignment), starting at `base_offset`. Writes are positional (`write_all_at` at the
//! current size) and only the partition's writer appends; readers use positional reads of
//! ranges below a size they saw under the partition lock, so they never see a partial batch.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use memmap2::{Mmap, MmapOptions};

use super::batch::{self, BatchHeader, ControlMarker, HEADER_LEN};
use super::index::{OffsetEntry, OffsetIndex, TimeEntry, TimeIndex};
use super::txn_index::TxnIndex;

/// The largest control batch whose body recovery reads to learn its marker (a marker batch
/// is under 100 bytes); a larger one is no marker.
const MAX_CONTROL_BATCH: usize = 64 * 1024;

/// Records of at most this many bytes are joined to their header for a single write (one
/// small copy beats a second system call); larger ones are written in place.
const SMALL_BATCH: usize = 4096;

/// The file name Kafka uses for a segment file: the base offset as 20 zero-padded digits.
pub fn file_name(base_offset: i64, suffix: &str) -> String {
    format!("{base_offset:020}.{suffix}")
}

/// Parses `<20 digits>.log` back into a base offset.
pub fn parse_log_file_name(name: &str) -> Option<i64> {
    parse_base(name.strip_suffix(".log")?)
}

/// The base offset in a segment file name's 20 digits.
pub(super) fn parse_base(digits: &str) -> Option<i64> {
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The base offsets of every `.log` file in `dir`, unsorted.
pub fn list_bases(dir: &Path) -> io::Result<Vec<i64>> {
    let mut bases = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        if let Some(base) = parse_log_file_name(&entry?.file_name().to_string_lossy()) {
            bases.push(base);
        }
    }
    Ok(bases)
}

/// Parses `<20 digits>.index`, `.timeindex` or `.txnindex` back into a base offset.
pub fn parse_index_file_name(name: &str) -> Option<i64> {
    parse_base(
        name.strip_suffix(".index")
            .or_else(|| name.strip_suffix(".timeindex"))
            .or_else(|| name.strip_suffix(".txnindex"))?,
    )
}

/// fsyncs a directory, making renames and creations in it durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The files of segment `base`, indexes first: a deletion renames them in this order, so
/// the `.log` goes last and a crash midway leaves either a whole segment (its indexes are
/// rebuilt) or none.
pub fn segment_files(base: i64) -> [String; 4] {
    [
        file_name(base, "index"),
        file_name(base, "timeindex"),
        file_name(base, "txnindex"),
        file_name(base, "log"),
    ]
}

/// Takes segment `base` out of the log durably: its files are renamed to `*.deleted`
/// (removed by [`remove_deleted`], or at the next start if the broker dies first).
pub fn mark_deleted(dir: &Path, base: i64) -> io::Result<()> {
    for f in segment_files(base) {
        match std::fs::rename(dir.join(&f), dir.join(format!("{f}.deleted"))) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    sync_dir(dir)
}

/// Unlinks the `*.deleted` files of segment `base`. Readers holding its map keep their pages.
pub fn remove_deleted(dir: &Path, base: i64) -> io::Result<()> {
    for f in segment_files(base) {
        match std::fs::remove_file(dir.join(format!("{f}.deleted"))) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// Removes the files of segment `base` at once (a segment whose creation failed midway).
pub fn remove_files(dir: &Path, base: i64) -> io::Result<()> {
    for f in segment_files(base) {
        match std::fs::remove_file(dir.join(f)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// How recovery treated a segment.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryReport {
    pub batches: u64,
    /// Bytes cut off the end of the `.log` because they were torn or corrupt.
    pub truncated_bytes: u64,
    pub index_rebuilt: bool,
}

pub struct Segment {
    pub base_offset: i64,
    /// One past the last offset stored in this segment (== base_offset when empty).
    pub next_offset: i64,
    pub size: u64,
    pub log: Arc<File>,
    /// A read-only map of the `.log`, possibly longer than the file (the active segment is
    /// mapped once for all it can grow to); only bytes below `size` are ever read.
    pub map: Option<Arc<Mmap>>,
    index: OffsetIndex,
    time_index: TimeIndex,
    bytes_since_index: u64,
    /// Largest batch max_timestamp in this segment, and the base offset of its batch.
    pub max_timestamp: i64,
    max_timestamp_offset: i64,
    /// Wall-clock millis when this segment was created (or opened as active), for `segment.ms`.
    pub created_ms: i64,
    /// The aborted transactions whose ABORT marker lies in this segment.
    pub txn: TxnIndex,
}

impl Segment {
    /// Creates a new, empty active segment.
    pub fn create(dir: &Path, base_offset: i64, index_bytes: u64, now_ms: i64) -> io::Result<Self> {
        let log_path = dir.join(file_name(base_offset, "log"));
        let log = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&log_path)?;
        Ok(Segment {
            base_offset,
            next_offset: base_offset,
            size: 0,
            map: None,
            log: Arc::new(log),
            index: OffsetIndex::create(&dir.join(file_name(base_offset, "index")), index_bytes)?,
            time_index: TimeIndex::create(
                &dir.join(file_name(base_offset, "timeindex")),
                index_bytes,
            )?,
            bytes_since_index: 0,
            max_timestamp: -1,
            max_timestamp_offset: base_offset,
            created_ms: now_ms,
            txn: TxnIndex::create(dir.join(file_name(base_offset, "txnindex")))?,
        })
    }

    /// Opens an existing segment. Every batch is read (headers always; the whole batch and its
    /// CRC when `verify` is set, i.e. for the active segment after a restart; the small body of
    /// every control batch, to learn its marker) and passed to `on_batch` with its marker. A
    /// torn or corrupt tail is truncated. Indexes are rebuilt when `verify` is set or when they
    /// fail their sanity check. The `.txnindex` is loaded as it is: the caller replaces its
    /// entries with those its replay of the batches finds.
    pub fn open(
        dir: &Path,
        base_offset: i64,
        index_bytes: u64,
        index_interval: u64,
        verify: bool,
        now_ms: i64,
        mut on_batch: impl FnMut(&BatchHeader, Option<ControlMarker>),
    ) -> io::Result<(Self, RecoveryReport)> {
        let log_path = dir.join(file_name(base_offset, "log"));
        let log = OpenOptions::new().read(true).write(true).open(&log_path)?;
        let file_len = log.metadata()?.len();
        let index_path = dir.join(file_name(base_offset, "index"));
        let time_path = dir.join(file_name(base_offset, "timeindex"));

        let mut report = RecoveryReport::default();
        let mut reader = BufReader::with_capacity(256 * 1024, &log);
        let mut pos = 0u64;
        let mut next_offset = base_offset;
        let mut max_ts = (-1i64, base_offset);
        let mut entries: Vec<(OffsetEntry, TimeEntry)> = Vec::new();
        let mut since_index = 0u64;
        let mut header = [0u8; HEADER_LEN];
        let mut body = Vec::new();
        // A sealed segment's offset index is trusted only if every entry names a batch the
        // scan finds (its relative offset and position): an entry pointing into a batch would
        // have reads return torn bytes. `matched` entries have been seen so far.
        let on_disk = if verify {
            None
        } else {
            OffsetIndex::open_trimmed(&index_path, |_| true)?
        };
        let mut matched = 0usize;
        let mut aligned = on_disk.is_some();
        while pos + HEADER_LEN as u64 <= file_len {
            if reader.read_exact(&mut header).is_err() {
                break;
            }
            let Some(total) = batch::peek_total_len(&header) else {
                break;
            };
            if pos + total as u64 > file_len {
                break;
            }
            let Ok(h) = BatchHeader::parse(&header) else {
                break;
            };
            // The whole batch when verifying; else only a control batch's small body.
            let mut marker = None;
            if verify || (h.is_control() && total <= MAX_CONTROL_BATCH) {
                body.clear();
                body.extend_from_slice(&header);
                body.resize(total, 0);
                if reader.read_exact(&mut body[HEADER_LEN..]).is_err()
                    || (verify && batch::validate_stored(&body).is_err())
                {
                    break;
                }
                marker = batch::parse_control(&body, &h);
            } else {
                reader.seek_relative((total - HEADER_LEN) as i64)?;
            }
            if h.base_offset < next_offset || h.magic != 2 || h.last_offset_delta < 0 {
                break;
            }
            // The batch must fit the segment (relative offsets are u32 in the indexes) and
            // leave a next offset. The CRC does not cover the base offset: a header can break
            // this whatever its CRC says.
            let last = h.base_offset.checked_add(i64::from(h.last_offset_delta));
            let Some(last) =
                last.filter(|l| *l < i64::MAX && *l - base_offset <= i64::from(u32::MAX))
            else {
                break;
            };
            let rel = (h.base_offset - base_offset) as u32;
            if let (true, Some(idx)) = (aligned, &on_disk) {
                aligned = match_entries(idx, &mut matched, pos, rel);
            }
            if h.max_timestamp > max_ts.0 {
                max_ts = (h.max_timestamp, h.base_offset);
            }
            if since_index >= index_interval || entries.is_empty() {
                entries.push((
                    OffsetEntry {
                        relative_offset: rel,
                        position: pos as u32,
                    },
                    TimeEntry {
                        timestamp: max_ts.0,
                        relative_offset: (max_ts.1 - base_offset) as u32,
                    },
                ));
                since_index = 0;
            }
            since_index += total as u64;
            on_batch(&h, marker);
            next_offset = last + 1;
            pos += total as u64;
            report.batches += 1;
        }
        drop(reader);
        if pos < file_len {
            report.truncated_bytes = file_len - pos;
            log.set_len(pos)?;
            log.sync_all()?;
        }

        let index_ok = aligned && on_disk.as_ref().is_some_and(|i| matched == i.len());
        let trusted = match on_disk {
            Some(index) if index_ok && report.truncated_bytes == 0 => {
                TimeIndex::open_trimmed(&time_path, |_| true)?.map(|t| (index, t))
            }
            // Unmapped before the rebuild below truncates its file.
            _ => None,
        };
        let (index, time_index) = match trusted {
            Some(pair) => pair,
            None => {
                report.index_rebuilt = true;
                let mut index = OffsetIndex::create(&index_path, index_bytes)?;
                let mut time_index = TimeIndex::create(&time_path, index_bytes)?;
                index.append_all(entries.iter().map(|(e, _)| *e))?;
                time_index.append_all(entries.iter().map(|(_, t)| *t))?;
                if !verify {
                    index.trim()?;
                    time_index.trim()?;
                }
                (index, time_index)
            }
        };
        Ok((
            Segment {
                base_offset,
                next_offset,
                size: pos,
                map: map_log(&log, pos).ok(),
                log: Arc::new(log),
                index,
                time_index,
                bytes_since_index: since_index,
                max_timestamp: max_ts.0,
                max_timestamp_offset: max_ts.1,
                created_ms: now_ms,
                txn: TxnIndex::load(dir.join(file_name(base_offset, "txnindex")))?,
            },
            report,
        ))
    }

    /// Appends one batch at the end of the file: its assigned `head`er, then its `records`
    /// as received. A small batch is joined into one write; a large one is written as two,
    /// so its records are never copied in user space.
    ///
    /// All or nothing: on a write error (a full disk, a read-only file system) the segment's
    /// state (`size`, offsets, index entries) is unchanged, so the next append overwrites
    /// whatever part of this batch reached the file, and recovery would cut it; the file is
    /// also truncated back to `size` where the file system allows.
    pub fn append(
        &mut self,
        head: &[u8],
        records: &[u8],
        h: &BatchHeader,
        index_interval: u64,
    ) -> io::Result<()> {
        let len = (head.len() + records.len()) as u64;
        if let Err(e) = self.write_batch(head, records, h, index_interval) {
            // A failed ftruncate (a read-only file system) leaves bytes past `size` that the
            // next append overwrites and that recovery would cut: `size` is what is trusted.
            if let Err(t) = self.log.set_len(self.size) {
                tracing::warn!(segment = self.base_offset, error = %t, "cannot cut a failed append");
            }
            return Err(e);
        }
        self.bytes_since_index += len;
        self.size += len;
        self.next_offset = h.last_offset() + 1;
        Ok(())
    }

    /// The writes of [`append`](Self::append): the batch, then its index entries (if one is
    /// due). Updates only the index entry counts and the max timestamp, and undoes both when a
    /// later write fails.
    fn write_batch(
        &mut self,
        head: &[u8],
        records: &[u8],
        h: &BatchHeader,
        index_interval: u64,
    ) -> io::Result<()> {
        if records.len() <= SMALL_BATCH {
            let mut joined = Vec::with_capacity(head.len() + records.len());
            joined.extend_from_slice(head);
            joined.extend_from_slice(records);
            self.log.write_all_at(&joined, self.size)?;
        } else {
            self.log.write_all_at(head, self.size)?;
            self.log
                .write_all_at(records, self.size + head.len() as u64)?;
        }
        let (max_ts, max_ts_offset) = if h.max_timestamp > self.max_timestamp {
            (h.max_timestamp, h.base_offset)
        } else {
            (self.max_timestamp, self.max_timestamp_offset)
        };
        if self.bytes_since_index >= index_interval || self.index.is_empty() {
            let rel = (h.base_offset - self.base_offset) as u32;
            let wrote = self.index.append(OffsetEntry {
                relative_offset: rel,
                position: self.size as u32,
            })?;
            let time_entry = TimeEntry {
                timestamp: max_ts,
                relative_offset: (max_ts_offset - self.base_offset) as u32,
            };
            if let Err(e) = self.time_index.append(time_entry) {
                if wrote {
                    self.index.remove_last();
                }
                return Err(e);
            }
            self.bytes_since_index = 0;
        }
        self.max_timestamp = max_ts;
        self.max_timestamp_offset = max_ts_offset;
        Ok(())
    }

    /// The largest record timestamp in the segment, or, when it holds none (an empty segment,
    /// or only timestamps of -1), the `.log` file's modification time, as Kafka does.
    pub fn largest_timestamp(&self) -> i64 {
        if self.max_timestamp >= 0 {
            return self.max_timestamp;
        }
        self.log
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as i64)
            .unwrap_or(self.created_ms)
    }

    /// The base offset of the batch holding `max_timestamp`.
    pub fn max_timestamp_offset(&self) -> i64 {
        self.max_timestamp_offset
    }

    /// Maps the log for reads, `len` bytes long (at least its current size). The active
    /// segment is mapped once for all it may grow to, so appends never need a new map.
    pub fn map_for_reads(&mut self, len: u64) {
        self.map = map_log(&self.log, len.max(self.size)).ok();
    }

    /// The read map, remapped `grow` bytes long first if it does not cover every byte
    /// written (no map yet, or `segment.bytes` raised past the active segment's map).
    /// `None` while the segment is empty.
    pub fn map_covering(&mut self, grow: u64) -> io::Result<Option<Arc<Mmap>>> {
        if self.size == 0 {
            return Ok(None);
        }
        let covered = self
            .map
            .as_ref()
            .is_some_and(|m| m.len() as u64 >= self.size);
        if !covered {
            self.map = Some(map_log(&self.log, grow.max(self.size))?);
        }
        Ok(self.map.clone())
    }

    /// Whether the indexes have room for another entry.
    pub fn index_full(&self) -> bool {
        self.index.is_full() || self.time_index.is_full()
    }

    /// The file position to start scanning from for `offset`: the index entry at or before it.
    pub fn position_floor(&self, offset: i64) -> u64 {
        let rel = offset - self.base_offset;
        if rel <= 0 {
            return 0;
        }
        self.index
            .floor(rel.min(u32::MAX as i64))
            .map(|e| u64::from(e.position))
            .unwrap_or(0)
    }

    /// The file position to start scanning from for a timestamp search.
    pub fn position_for_timestamp(&self, ts: i64) -> u64 {
        match self.time_index.floor(ts.saturating_sub(1)) {
            Some(t) => self.position_floor(
                self.base_offset
                    .saturating_add(i64::from(t.relative_offset)),
            ),
            None => 0,
        }
    }

    /// Makes the log and indexes durable.
    pub fn flush(&mut self) -> io::Result<()> {
        self.log.sync_data()?;
        self.index.flush()?;
        self.time_index.flush()?;
        self.txn.flush()
    }

    /// Syncs the log and trims the index files to their entries (clean shutdown).
    pub fn seal(&mut self) -> io::Result<()> {
        self.log.sync_all()?;
        self.seal_indexes()
    }

    /// Trims the index files to their entries and syncs the transaction index (on roll,
    /// when the log itself is synced in the background; see [`super::durability`]).
    pub fn seal_indexes(&mut self) -> io::Result<()> {
        self.index.trim()?;
        self.time_index.trim()?;
        self.txn.flush()
    }
}

/// Checks the offset index entries from `*matched` on that lie at or before the batch at
/// `pos` (relative offset `rel`): each must be exactly that batch. Advances `matched` past
/// them; `false` on the first entry that is not a batch start.
fn match_entries(index: &OffsetIndex, matched: &mut usize, pos: u64, rel: u32) -> bool {
    while *matched < index.len() {
        let e = index.entry(*matched);
        if u64::from(e.position) > pos {
            break;
        }
        if u64::from(e.position) != pos || e.relative_offset != rel {
            return false;
        }
        *matched += 1;
    }
    true
}

/// Maps `file` read-only for `len` bytes (which may run past its end).
#[allow(unsafe_code)]
fn map_log(file: &File, len: u64) -> io::Result<Arc<Mmap>> {
    if len == 0 || len > isize::MAX as u64 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot map {len} bytes"),
        ));
    }
    // SAFETY: the map is read-only and only ever read below a `size` observed under the
    // partition lock, i.e. bytes already written to the file; the broker truncates a `.log`
    // only during recovery, before any map of it exists, and deletes a file only after
    // removing its partition from service (a deleted file's pages stay valid while mapped).
    // Nothing outside the broker may modify the data directory while it runs.
    unsafe { MmapOptions::new().len(len as usize).map(file) }.map(Arc::new)
}

/// A slice of a mapped segment, owned by the `Bytes` handed to a fetch response.
struct MappedSlice {
    map: Arc<Mmap>,
    start: usize,
    end: usize,
}

impl AsRef<[u8]> for MappedSlice {
    fn as_ref(&self) -> &[u8] {
        &self.map[self.start..self.end]
    }
}

/// Whole batches from a mapped segment: starting with the batch that holds `offset`
/// (scanning from `start`, a batch boundary), up to `limit` bytes, or just the first batch
/// when it alone is larger and `min_one` is set. Never reads at or past `end`. No copy.
pub fn read_mapped(
    map: &Arc<Mmap>,
    start: u64,
    end: u64,
    offset: i64,
    limit: usize,
    min_one: bool,
) -> Bytes {
    let end = (end as usize).min(map.len());
    let data = &map[..end];
    let mut pos = start as usize;
    // Find the batch holding `offset`.
    loop {
        if pos + HEADER_LEN > end {
            return Bytes::new();
        }
        let Ok(h) = BatchHeader::parse(&data[pos..]) else {
            return Bytes::new();
        };
        if h.last_offset() >= offset {
            break;
        }
        pos += h.total_len();
    }
    let mut stop = pos;
    while let Some(len) = batch::peek_total_len(&data[stop..]) {
        if stop + len > end {
            break;
        }
        let taken = stop + len - pos;
        if taken > limit && (stop > pos || !min_one) {
            break;
        }
        stop += len;
        if taken >= limit {
            break;
        }
    }
    if stop == pos {
        return Bytes::new();
    }
    Bytes::from_owner(MappedSlice {
        map: map.clone(),
        start: pos,
        end: stop,
    })
}

/// Reads the batch header at `pos` of `file`, if a whole header is there.
pub fn read_header_at(file: &File, pos: u64) -> io::Result<Option<BatchHeader>> {
    let mut buf = [0u8; HEADER_LEN];
    match file.read_exact_at(&mut buf, pos) {
        Ok(()) => Ok(BatchHeader::parse(&buf).ok()),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::batch::tests::make_batch;

    fn append(seg: &mut Segment, count: i32) {
        let raw = make_batch(0, count, None);
        let head = batch::assigned_header(&raw, seg.next_offset, 0, None);
        let h = BatchHeader::parse(&head).unwrap();
        seg.append(&head, &raw[HEADER_LEN..], &h, 100).unwrap();
    }

    #[test]
    fn names_are_twenty_digits() {
        assert_eq!(file_name(42, "log"), "00000000000000000042.log");
        assert_eq!(parse_log_file_name("00000000000000000042.log"), Some(42));
        assert_eq!(parse_log_file_name("42.log"), None);
        assert_eq!(parse_log_file_name("00000000000000000042.index"), None);
    }

    #[test]
    fn append_seek_and_recover_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let mut seg = Segment::create(dir.path(), 0, 4096, 0).unwrap();
        for _ in 0..20 {
            append(&mut seg, 3);
        }
        assert_eq!(seg.next_offset, 60);
        let pos = seg.position_floor(31);
        assert!(pos > 0, "the sparse index skips ahead");
        let map = seg.map_covering(0).unwrap().unwrap();
        let got = read_mapped(&map, pos, seg.size, 31, usize::MAX, true);
        assert_eq!(BatchHeader::parse(&got).unwrap().base_offset, 30);
        let size = seg.size;
        drop(seg);
        // Garbage at the tail, as after a torn write.
        let log = dir.path().join(file_name(0, "log"));
        let mut bytes = std::fs::read(&log).unwrap();
        bytes.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 99, 0, 0, 1, 0, 7, 7, 7]);
        std::fs::write(&log, &bytes).unwrap();
        let mut seen = 0;
        let (seg, report) =
            Segment::open(dir.path(), 0, 4096, 100, true, 0, |_, _| seen += 1).unwrap();
        assert_eq!(seen, 20);
        assert_eq!(report.truncated_bytes, 15);
        assert!(report.index_rebuilt);
        assert_eq!(seg.size, size);
        assert_eq!(seg.next_offset, 60);
        let mut seg = seg;
        let map = seg.map_covering(0).unwrap().unwrap();
        let got = read_mapped(&map, seg.position_floor(59), seg.size, 59, usize::MAX, true);
        assert_eq!(BatchHeader::parse(&got).unwrap().base_offset, 57);
    }

    #[test]
    fn offsets_that_overflow_or_leave_the_segment_end_recovery() {
        // fuzz/regressions/segment_recovery: a base offset near i64::MAX (outside the CRC)
        // overflowed the last offset; one 2^32 past the segment base cannot be indexed.
        for (base, verify) in [(i64::MAX - 1, true), (i64::MAX - 1, false), (1 << 32, true)] {
            let dir = tempfile::tempdir().unwrap();
            let mut bytes = make_batch(0, 1, None);
            bytes.extend_from_slice(&make_batch(base, 3, None));
            std::fs::write(dir.path().join(file_name(0, "log")), &bytes).unwrap();
            let (seg, report) =
                Segment::open(dir.path(), 0, 4096, 100, verify, 0, |_, _| {}).unwrap();
            assert_eq!(seg.next_offset, 1, "base {base}");
            assert_eq!(report.batches, 1);
            assert!(report.truncated_bytes > 0);
        }
    }

    #[test]
    fn sealed_segment_reopens_with_its_index() {
        let dir = tempfile::tempdir().unwrap();
        let mut seg = Segment::create(dir.path(), 100, 4096, 0).unwrap();
        for _ in 0..10 {
            append(&mut seg, 2);
        }
        seg.seal().unwrap();
        drop(seg);
        let (seg, report) = Segment::open(dir.path(), 100, 4096, 100, false, 0, |_, _| {}).unwrap();
        assert!(!report.index_rebuilt);
        assert_eq!(seg.next_offset, 120);
        // A damaged index is rebuilt.
        drop(seg);
        std::fs::write(dir.path().join(file_name(100, "index")), [1u8; 5]).unwrap();
        let (seg, report) = Segment::open(dir.path(), 100, 4096, 100, false, 0, |_, _| {}).unwrap();
        assert!(report.index_rebuilt);
        assert_eq!(seg.position_floor(100), 0);
        // So is one whose entry points into a batch (fuzz/regressions/index), or past the
        // last batch: whole entries, increasing, but not batch starts.
        let batch_len = seg.size / 10;
        drop(seg);
        let past_end = (batch_len * 10) as u32;
        for (rel, pos) in [(2u32, 7u32), (2, batch_len as u32 + 1), (18, past_end)] {
            let mut bytes = 0u32.to_be_bytes().to_vec();
            bytes.extend_from_slice(&0u32.to_be_bytes());
            bytes.extend_from_slice(&rel.to_be_bytes());
            bytes.extend_from_slice(&pos.to_be_bytes());
            std::fs::write(dir.path().join(file_name(100, "index")), &bytes).unwrap();
            let (seg, report) =
                Segment::open(dir.path(), 100, 4096, 100, false, 0, |_, _| {}).unwrap();
            assert!(report.index_rebuilt, "entry ({rel}, {pos})");
            assert_eq!(seg.position_floor(103), 0);
        }
        // The rebuilt index is trusted at the next open.
        let (seg, report) = Segment::open(dir.path(), 100, 4096, 100, false, 0, |_, _| {}).unwrap();
        assert!(!report.index_rebuilt);
        assert_eq!(seg.position_floor(104), 2 * batch_len);
    }

    #[test]
    fn mapped_reads_take_whole_batches_within_limits() {
        let dir = tempfile::tempdir().unwrap();
        let mut seg = Segment::create(dir.path(), 0, 4096, 0).unwrap();
        // Mapped far past the file, as the active segment is.
        seg.map_for_reads(1 << 20);
        for _ in 0..10 {
            append(&mut seg, 2);
        }
        let map = seg.map.clone().unwrap();
        let one =
            batch::split_batches(read_mapped(&map, 0, seg.size, 0, usize::MAX, false)).unwrap();
        assert_eq!(one.len(), 10, "everything below size");
        let batch_len = one[0].0.len();
        // From the middle of a batch: that whole batch first.
        let got =
            batch::split_batches(read_mapped(&map, 0, seg.size, 5, usize::MAX, false)).unwrap();
        assert_eq!(got[0].1.base_offset, 4);
        // A limit of 2.5 batches gives 2 whole batches.
        let got = read_mapped(&map, 0, seg.size, 0, batch_len * 5 / 2, false);
        assert_eq!(got.len(), 2 * batch_len);
        // A limit below one batch: nothing, unless min_one (KIP-74).
        assert!(read_mapped(&map, 0, seg.size, 0, 10, false).is_empty());
        assert_eq!(read_mapped(&map, 0, seg.size, 0, 10, true).len(), batch_len);
        // Never past `end`, even though the map is longer.
        let end = (batch_len * 3) as u64;
        assert_eq!(
            read_mapped(&map, 0, end, 0, usize::MAX, true).len(),
            3 * batch_len
        );
        assert!(read_mapped(&map, 0, end, 7, usize::MAX, true).is_empty());
        // A map shorter than the data (e.g. segment.bytes raised later) is replaced.
        seg.map_for_reads(0);
        assert!(seg.map.as_ref().unwrap().len() as u64 == seg.size);
        append(&mut seg, 1);
        let longer = seg.map_covering(1 << 16).unwrap().unwrap();
        assert_eq!(longer.len(), 1 << 16);
        assert_eq!(
            batch::split_batches(read_mapped(&longer, 0, seg.size, 0, usize::MAX, false))
                .unwrap()
                .len(),
            11
        );
    }

    #[test]
    fn large_batches_are_written_in_place_and_stay_valid() {
        let dir = tempfile::tempdir().unwrap();
        let mut seg = Segment::create(dir.path(), 0, 4096, 0).unwrap();
        append(&mut seg, 1);
        // 2,000 records of 7 bytes: above SMALL_BATCH, so header and records are two writes;
        // with LogAppendTime the CRC covers the new header tail and the untouched records.
        let raw = make_batch(0, 2_000, None);
        assert!(raw.len() - HEADER_LEN > SMALL_BATCH);
        let head = batch::assigned_header(&raw, seg.next_offset, 0, Some(42));
        let h = BatchHeader::parse(&head).unwrap();
        seg.append(&head, &raw[HEADER_LEN..], &h, 100).unwrap();
        append(&mut seg, 3);
        assert_eq!(seg.next_offset, 2_004);
        let size = seg.size;
        drop(seg);
        // Recovery re-checks every batch's CRC: all three survive.
        let mut seen = Vec::new();
        let (seg, report) = Segment::open(dir.path(), 0, 4096, 100, true, 0, |h, _| {
            seen.push((h.base_offset, h.max_timestamp))
        })
        .unwrap();
        assert_eq!(report.truncated_bytes, 0);
        assert_eq!(seg.size, size);
        assert_eq!(seen[1], (1, 42));
        assert_eq!(seen.len(), 3);
    }
}
