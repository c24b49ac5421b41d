//! The aborted transaction index of a segment, Kafka's `.txnindex` (`TransactionIndex`,
//! `AbortedTxn`): one entry per aborted transaction whose ABORT marker lies in the segment,
//! in marker order. Each entry is 34 bytes, big-endian:
//!
//! ```text
//! offset  size  field
//!      0     2  version             0
//!      2     8  producer_id
//!     10     8  first_offset        the transaction's first offset in this partition
//!     18     8  last_offset         the ABORT marker's offset
//!     26     8  last_stable_offset  the partition's LSO right after the marker was appended
//!                                    (the first offset of the earliest other open transaction,
//!                                    else last_offset + 1), ignoring the high watermark
//! ```
//!
//! The entries are kept in memory (answers never read the file); the file follows them:
//! appended when a marker is appended, fsynced when the segment is flushed or sealed, and
//! rewritten whole when recovery, a truncation or the cleaner finds different entries. The
//! log itself is the source of truth: the partition rebuilds every entry from its batches
//! when it opens, so a torn, stale or missing file is simply rewritten.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The size of one entry on disk.
pub const ENTRY_LEN: usize = 34;

/// One aborted transaction (Kafka's `AbortedTxn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbortedTxn {
    pub producer_id: i64,
    pub first_offset: i64,
    pub last_offset: i64,
    pub last_stable_offset: i64,
}

impl AbortedTxn {
    /// The entry's 34 bytes (module docs).
    pub fn encode(&self) -> [u8; ENTRY_LEN] {
        let mut out = [0u8; ENTRY_LEN];
        out[2..10].copy_from_slice(&self.producer_id.to_be_bytes());
        out[10..18].copy_from_slice(&self.first_offset.to_be_bytes());
        out[18..26].copy_from_slice(&self.last_offset.to_be_bytes());
        out[26..34].copy_from_slice(&self.last_stable_offset.to_be_bytes());
        out
    }

    /// Reads one entry; `None` for an unknown version.
    pub fn decode(b: &[u8; ENTRY_LEN]) -> Option<AbortedTxn> {
        let long = |at: usize| {
            let mut x = [0u8; 8];
            x.copy_from_slice(&b[at..at + 8]);
            i64::from_be_bytes(x)
        };
        if i16::from_be_bytes([b[0], b[1]]) != 0 {
            return None;
        }
        Some(AbortedTxn {
            producer_id: long(2),
            first_offset: long(10),
            last_offset: long(18),
            last_stable_offset: long(26),
        })
    }
}

/// Decodes a whole file's bytes: the entries up to the first torn or unknown one.
pub fn decode_all(bytes: &[u8]) -> Vec<AbortedTxn> {
    bytes
        .chunks_exact(ENTRY_LEN)
        .map_while(|c| {
            <&[u8; ENTRY_LEN]>::try_from(c)
                .ok()
                .and_then(AbortedTxn::decode)
        })
        .collect()
}

/// Appends to `out` every entry of `entries` overlapping `[from, upper)` (last offset >=
/// `from`, first offset < `upper`), as Kafka's `collectAbortedTxns`. Returns true when the
/// search is complete: an entry's last stable offset reached `upper`, so no later entry
/// (of this segment or a later one) can start below `upper`.
pub fn collect(entries: &[AbortedTxn], from: i64, upper: i64, out: &mut Vec<AbortedTxn>) -> bool {
    for e in entries {
        if e.last_offset >= from && e.first_offset < upper {
            out.push(*e);
        }
        if e.last_stable_offset >= upper {
            return true;
        }
    }
    false
}

/// A segment's index: its entries and its file.
#[derive(Debug)]
pub struct TxnIndex {
    path: PathBuf,
    entries: Vec<AbortedTxn>,
    /// Open for appends once written to; `None` while nothing was appended since open.
    file: Option<File>,
    /// Whether bytes were written since the last sync.
    dirty: bool,
}

impl TxnIndex {
    /// An empty index for a new segment; a stale file of that name is removed.
    pub fn create(path: PathBuf) -> io::Result<TxnIndex> {
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        Ok(TxnIndex {
            path,
            entries: Vec::new(),
            file: None,
            dirty: false,
        })
    }

    /// The index of an existing segment as its file holds it (missing: empty; a torn or
    /// unknown tail is left out). Recovery then replaces the entries with those the log
    /// shows ([`TxnIndex::replace`]).
    pub fn load(path: PathBuf) -> io::Result<TxnIndex> {
        let entries = match std::fs::read(&path) {
            Ok(bytes) => decode_all(&bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        Ok(TxnIndex {
            path,
            entries,
            file: None,
            dirty: false,
        })
    }

    pub fn entries(&self) -> &[AbortedTxn] {
        &self.entries
    }

    /// Whether the file holds exactly the entries (and no torn tail).
    fn file_matches(&self) -> io::Result<bool> {
        match std::fs::read(&self.path) {
            Ok(bytes) => {
                Ok(bytes.len() == self.entries.len() * ENTRY_LEN
                    && decode_all(&bytes) == self.entries)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(self.entries.is_empty()),
            Err(e) => Err(e),
        }
    }

    /// Appends one entry, in memory and to the file (synced by [`TxnIndex::flush`]).
    pub fn append(&mut self, entry: AbortedTxn) -> io::Result<()> {
        self.entries.push(entry);
        if self.file.is_none() {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?;
            // A file longer than the entries (a torn tail from before) is cut first.
            file.set_len(((self.entries.len() - 1) * ENTRY_LEN) as u64)?;
            self.file = Some(file);
        }
        if let Some(f) = &mut self.file {
            f.write_all(&entry.encode())?;
        }
        self.dirty = true;
        Ok(())
    }

    /// Sets the entries to `entries`, rewriting the file (durably: temporary file, fsync,
    /// rename) when it does not hold exactly them. A missing file for no entries is fine.
    pub fn replace(&mut self, entries: Vec<AbortedTxn>) -> io::Result<bool> {
        self.entries = entries;
        if self.file_matches()? {
            return Ok(false);
        }
        self.file = None;
        self.dirty = false;
        if self.entries.is_empty() {
            match std::fs::remove_file(&self.path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => return Ok(true),
            }
        }
        let tmp = self.path.with_extension("txnindex.tmp");
        {
            let mut f = File::create(&tmp)?;
            let mut bytes = Vec::with_capacity(self.entries.len() * ENTRY_LEN);
            for e in &self.entries {
                bytes.extend_from_slice(&e.encode());
            }
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        Ok(true)
    }

    /// Drops every entry whose marker is at or past `end` (a truncation), rewriting the file.
    pub fn truncate_from(&mut self, end: i64) -> io::Result<()> {
        let kept: Vec<AbortedTxn> = self
            .entries
            .iter()
            .filter(|e| e.last_offset < end)
            .copied()
            .collect();
        if kept.len() != self.entries.len() {
            self.replace(kept)?;
        }
        Ok(())
    }

    /// fsyncs what was appended since the last sync.
    pub fn flush(&mut self) -> io::Result<()> {
        if let (true, Some(f)) = (self.dirty, &self.file) {
            f.sync_data()?;
            self.dirty = false;
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txn(pid: i64, first: i64, last: i64, lso: i64) -> AbortedTxn {
        AbortedTxn {
            producer_id: pid,
            first_offset: first,
            last_offset: last,
            last_stable_offset: lso,
        }
    }

    #[test]
    fn entries_are_kafkas_34_bytes() {
        let e = txn(0x0102, 3, 9, 10);
        let b = e.encode();
        assert_eq!(&b[..2], &[0, 0]);
        assert_eq!(&b[2..10], &0x0102i64.to_be_bytes());
        assert_eq!(&b[26..], &10i64.to_be_bytes());
        assert_eq!(AbortedTxn::decode(&b), Some(e));
        let mut v1 = b;
        v1[1] = 1;
        assert_eq!(AbortedTxn::decode(&v1), None);
    }

    #[test]
    fn collect_is_kafkas_overlap_rule() {
        let entries = [txn(1, 0, 5, 3), txn(2, 3, 9, 10), txn(3, 12, 20, 21)];
        let got = |from, upper| {
            let mut out = Vec::new();
            let done = collect(&entries, from, upper, &mut out);
            (out.iter().map(|e| e.producer_id).collect::<Vec<_>>(), done)
        };
        assert_eq!(got(0, 100), (vec![1, 2, 3], false));
        // Ends before `from`: left out.
        assert_eq!(got(6, 100), (vec![2, 3], false));
        // Starts at or after `upper`: left out, and the search is complete at entry 2.
        assert_eq!(got(0, 4), (vec![1, 2], true));
        assert_eq!(got(10, 12), (vec![], true));
    }

    /// Appends reach the file; a torn tail is ignored at load and cut by the next append;
    /// `replace` rewrites only a file that differs.
    #[test]
    fn file_round_trip_and_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("00000000000000000000.txnindex");
        let mut idx = TxnIndex::create(path.clone()).unwrap();
        assert!(!path.exists(), "created lazily");
        idx.append(txn(1, 0, 4, 5)).unwrap();
        idx.append(txn(2, 2, 7, 8)).unwrap();
        idx.flush().unwrap();
        assert_eq!(std::fs::read(&path).unwrap().len(), 2 * ENTRY_LEN);
        drop(idx);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(&[0, 0, 1, 2, 3]);
        std::fs::write(&path, &bytes).unwrap();
        let mut idx = TxnIndex::load(path.clone()).unwrap();
        assert_eq!(idx.entries().len(), 2);
        idx.append(txn(3, 9, 11, 12)).unwrap();
        let on_disk = decode_all(&std::fs::read(&path).unwrap());
        assert_eq!(on_disk, idx.entries());
        assert_eq!(std::fs::read(&path).unwrap().len(), 3 * ENTRY_LEN);
        // Same entries: no rewrite; different: rewritten; none: removed.
        let same = idx.entries().to_vec();
        assert!(!idx.replace(same).unwrap());
        assert!(idx.replace(vec![txn(4, 1, 2, 3)]).unwrap());
        assert_eq!(
            decode_all(&std::fs::read(&path).unwrap()),
            [txn(4, 1, 2, 3)]
        );
        idx.truncate_from(2).unwrap();
        assert!(!path.exists());
        // A missing file for a segment with entries is written again.
        let mut idx = TxnIndex::load(path.clone()).unwrap();
        assert!(idx.entries().is_empty());
        assert!(idx.replace(vec![txn(5, 0, 1, 2)]).unwrap());
        assert_eq!(TxnIndex::load(path).unwrap().entries(), [txn(5, 0, 1, 2)]);
    }
}
