//! Sparse, memory-mapped offset and time indexes, one pair per segment.
//!
//! `<base>.index`: entries of 8 bytes, `relative_offset: u32 BE, position: u32 BE`, where
//! `relative_offset = offset - segment base offset` is the base offset of a batch and
//! `position` its byte position in the `.log` file. Offsets strictly increase.
//!
//! `<base>.timeindex`: entries of 12 bytes, `timestamp: i64 BE, relative_offset: u32 BE`: the
//! largest timestamp seen so far in the segment and the base offset of the batch holding it.
//! Timestamps strictly increase.
//!
//! While a segment is active its index files are sized to `segment.index.bytes` (rounded down to
//! whole entries; sparse, so unused space is zero and costs no blocks) and mapped read-only.
//! Entries are written with `pwrite`, never through the map: a write into a sparse file on a
//! full disk then fails with ENOSPC instead of raising SIGBUS. When the segment is rolled or the
//! broker shuts down cleanly, the files are trimmed to their entries. After a crash the active
//! segment's indexes are rebuilt from the log, so trailing zeros are never trusted.

#![allow(unsafe_code)]

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

/// A fixed-width entry format for [`Index`].
pub trait Entry: Copy {
    const SIZE: usize;
    fn read(b: &[u8]) -> Self;
    fn write(&self, b: &mut [u8]);
    /// The key entries are ordered and searched by.
    fn key(&self) -> i64;
}

/// An offset index entry: (relative offset, file position).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetEntry {
    pub relative_offset: u32,
    pub position: u32,
}

impl Entry for OffsetEntry {
    const SIZE: usize = 8;
    fn read(b: &[u8]) -> Self {
        OffsetEntry {
            relative_offset: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            position: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
        }
    }
    fn write(&self, b: &mut [u8]) {
        b[0..4].copy_from_slice(&self.relative_offset.to_be_bytes());
        b[4..8].copy_from_slice(&self.position.to_be_bytes());
    }
    fn key(&self) -> i64 {
        i64::from(self.relative_offset)
    }
}

/// A time index entry: (timestamp, relative offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeEntry {
    pub timestamp: i64,
    pub relative_offset: u32,
}

impl Entry for TimeEntry {
    const SIZE: usize = 12;
    fn read(b: &[u8]) -> Self {
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&b[0..8]);
        TimeEntry {
            timestamp: i64::from_be_bytes(ts),
            relative_offset: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
        }
    }
    fn write(&self, b: &mut [u8]) {
        b[0..8].copy_from_slice(&self.timestamp.to_be_bytes());
        b[8..12].copy_from_slice(&self.relative_offset.to_be_bytes());
    }
    fn key(&self) -> i64 {
        self.timestamp
    }
}

pub type OffsetIndex = Index<OffsetEntry>;
pub type TimeIndex = Index<TimeEntry>;

/// A memory-mapped index file of fixed-width entries.
pub struct Index<E: Entry> {
    path: PathBuf,
    file: File,
    /// `None` once trimmed and read-only-sized with zero entries (nothing to map).
    mmap: Option<Mmap>,
    entries: usize,
    capacity: usize,
    _entry: std::marker::PhantomData<E>,
}

impl<E: Entry> Index<E> {
    /// Creates an empty index, preallocated to hold `max_bytes / E::SIZE` entries. Any
    /// existing file at `path` is truncated.
    pub fn create(path: &Path, max_bytes: u64) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        let capacity = (max_bytes as usize / E::SIZE).max(1);
        file.set_len((capacity * E::SIZE) as u64)?;
        let mut idx = Index {
            path: path.to_path_buf(),
            file,
            mmap: None,
            entries: 0,
            capacity,
            _entry: std::marker::PhantomData,
        };
        idx.map()?;
        Ok(idx)
    }

    /// Opens a trimmed index of a closed segment. Returns `Ok(None)` when the file is missing
    /// or fails the sanity check (not whole entries, keys not strictly increasing, or a key
    /// failing `valid`), in which case the caller rebuilds it from the log.
    pub fn open_trimmed(path: &Path, valid: impl Fn(&E) -> bool) -> io::Result<Option<Self>> {
        let file = match OpenOptions::new().read(true).write(true).open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let len = file.metadata()?.len() as usize;
        if len % E::SIZE != 0 {
            return Ok(None);
        }
        let entries = len / E::SIZE;
        let mut idx = Index {
            path: path.to_path_buf(),
            file,
            mmap: None,
            entries,
            capacity: entries,
            _entry: std::marker::PhantomData,
        };
        idx.map()?;
        let mut prev: Option<i64> = None;
        for i in 0..entries {
            let e: E = idx.entry(i);
            if prev.is_some_and(|p| e.key() <= p) || !valid(&e) {
                return Ok(None);
            }
            prev = Some(e.key());
        }
        Ok(Some(idx))
    }

    fn map(&mut self) -> io::Result<()> {
        self.mmap = if self.capacity == 0 {
            None
        } else {
            // SAFETY: the file is owned by this index and only ever resized by it (after the
            // map is dropped in `trim`); other processes do not touch the data directory while
            // the broker runs. Reads go through bounds-checked slices of the map, below the
            // file's length; writes go through the file (the page cache keeps them coherent).
            Some(unsafe { Mmap::map(&self.file)? })
        };
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    pub fn is_full(&self) -> bool {
        self.entries >= self.capacity
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn entry(&self, i: usize) -> E {
        let m = self.mmap.as_ref().map(|m| &m[..]).unwrap_or(&[]);
        E::read(&m[i * E::SIZE..(i + 1) * E::SIZE])
    }

    pub fn last(&self) -> Option<E> {
        self.entries.checked_sub(1).map(|i| self.entry(i))
    }

    /// Appends an entry; `Ok(true)` if it was written. Entries that are not beyond the last
    /// key, or beyond the capacity, are skipped (the index is sparse; a missing entry only
    /// costs a longer scan). On a write error (a full disk) the index is unchanged.
    pub fn append(&mut self, e: E) -> io::Result<bool> {
        if self.is_full() || self.mmap.is_none() || self.last().is_some_and(|l| e.key() <= l.key())
        {
            return Ok(false);
        }
        let mut buf = [0u8; 16];
        e.write(&mut buf[..E::SIZE]);
        self.file
            .write_all_at(&buf[..E::SIZE], (self.entries * E::SIZE) as u64)?;
        self.entries += 1;
        Ok(true)
    }

    /// Appends entries in one write (rebuilding an index from its log), with
    /// [`append`](Self::append)'s skipping rules.
    pub fn append_all(&mut self, entries: impl IntoIterator<Item = E>) -> io::Result<()> {
        if self.mmap.is_none() {
            return Ok(());
        }
        let mut buf = Vec::new();
        let mut last = self.last().map(|l| l.key());
        let room = self.capacity - self.entries;
        for e in entries {
            if buf.len() / E::SIZE >= room {
                break;
            }
            if last.is_some_and(|l| e.key() <= l) {
                continue;
            }
            let at = buf.len();
            buf.resize(at + E::SIZE, 0);
            e.write(&mut buf[at..]);
            last = Some(e.key());
        }
        self.file
            .write_all_at(&buf, (self.entries * E::SIZE) as u64)?;
        self.entries += buf.len() / E::SIZE;
        Ok(())
    }

    /// Forgets the last entry (undoes an [`append`](Self::append) whose segment write is
    /// abandoned). The bytes stay in the file past `len()` and are overwritten or trimmed.
    pub fn remove_last(&mut self) {
        self.entries = self.entries.saturating_sub(1);
    }

    /// The last entry whose key is <= `key`, if any.
    pub fn floor(&self, key: i64) -> Option<E> {
        let (mut lo, mut hi) = (0usize, self.entries);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.entry(mid).key() <= key {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo.checked_sub(1).map(|i| self.entry(i))
    }

    /// Makes the written entries durable.
    pub fn flush(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    /// Flushes and shrinks the file to exactly its entries (on roll and clean shutdown).
    pub fn trim(&mut self) -> io::Result<()> {
        self.flush()?;
        self.mmap = None;
        self.file.set_len((self.entries * E::SIZE) as u64)?;
        self.file.sync_all()?;
        self.capacity = self.entries;
        self.map()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_index_floor_lookup() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("0.index");
        let mut idx = OffsetIndex::create(&p, 1024).unwrap();
        assert_eq!(idx.floor(5), None);
        for (o, pos) in [(0u32, 0u32), (10, 4096), (20, 8192)] {
            assert!(idx
                .append(OffsetEntry {
                    relative_offset: o,
                    position: pos,
                })
                .unwrap());
        }
        // Not increasing: skipped.
        assert!(!idx
            .append(OffsetEntry {
                relative_offset: 20,
                position: 9000,
            })
            .unwrap());
        assert_eq!(idx.len(), 3);
        assert_eq!(idx.floor(0).unwrap().position, 0);
        assert_eq!(idx.floor(9).unwrap().position, 0);
        assert_eq!(idx.floor(10).unwrap().position, 4096);
        assert_eq!(idx.floor(1000).unwrap().position, 8192);
        idx.trim().unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().len(), 24);
        drop(idx);
        let again = OffsetIndex::open_trimmed(&p, |e| e.position < 10_000)
            .unwrap()
            .unwrap();
        assert_eq!(again.len(), 3);
        assert_eq!(again.floor(15).unwrap().relative_offset, 10);
    }

    #[test]
    fn damaged_index_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("0.index");
        std::fs::write(&p, [0u8; 13]).unwrap();
        assert!(OffsetIndex::open_trimmed(&p, |_| true).unwrap().is_none());
        // Two entries with the same key (e.g. zeros from a preallocated file): not trusted.
        std::fs::write(&p, [0u8; 16]).unwrap();
        assert!(OffsetIndex::open_trimmed(&p, |_| true).unwrap().is_none());
        assert!(
            OffsetIndex::open_trimmed(&dir.path().join("none"), |_| true)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn time_index_and_capacity() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("0.timeindex");
        let mut idx = TimeIndex::create(&p, 24).unwrap();
        let t = |timestamp, relative_offset| TimeEntry {
            timestamp,
            relative_offset,
        };
        assert!(idx.append(t(100, 0)).unwrap());
        assert!(idx.append(t(200, 5)).unwrap());
        assert!(!idx.append(t(300, 9)).unwrap());
        assert!(idx.is_full());
        assert_eq!(idx.len(), 2);
        assert_eq!(idx.floor(150).unwrap().relative_offset, 0);
        // Written through the file, read through the map.
        let on_disk = std::fs::read(&p).unwrap();
        assert_eq!(&on_disk[12..20], &200i64.to_be_bytes());
    }

    #[test]
    fn append_all_skips_like_append() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("0.index");
        let mut idx = OffsetIndex::create(&p, 24).unwrap();
        let e = |o: u32| OffsetEntry {
            relative_offset: o,
            position: o * 10,
        };
        idx.append_all([e(1), e(1), e(0), e(5), e(7), e(9)])
            .unwrap();
        assert_eq!(idx.len(), 3);
        assert_eq!(idx.last(), Some(e(7)));
        idx.remove_last();
        assert_eq!(idx.last(), Some(e(5)));
    }
}
