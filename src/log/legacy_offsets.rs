//! ListOffsets v0's answer: a list of up to `max_num_offsets` offsets, newest first, as
//! Kafka 0.8 defined it (`Log.legacyFetchOffsetsBefore`, then `Partition`'s clamp to the
//! high watermark for consumers). The candidates are each segment's base offset (at least
//! the log start offset) with the segment file's modification time, plus the log end offset
//! at the current time when the last segment holds data:
//!
//! - latest (-1): from the last candidate down;
//! - earliest (-2): the first candidate only;
//! - a timestamp: from the newest candidate whose time is at or before it, down.
//!
//! A consumer never sees past the high watermark: offsets above it are replaced by the high
//! watermark itself, once, in front.

use std::time::UNIX_EPOCH;

use super::partition::Partition;
use super::LogError;

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;

/// The partition's shape as the answer needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// (base offset, file modification time in ms) of every segment, oldest first.
    pub segments: Vec<(i64, i64)>,
    pub last_segment_has_data: bool,
    pub log_start: i64,
    pub log_end: i64,
    pub high_watermark: i64,
    pub now_ms: i64,
}

/// The offsets ListOffsets v0 answers a consumer, newest first.
pub fn offsets_before(shape: &Shape, timestamp: i64, max_num_offsets: i32) -> Vec<i64> {
    let mut candidates: Vec<(i64, i64)> = shape
        .segments
        .iter()
        .map(|&(base, mtime)| (base.max(shape.log_start), mtime))
        .collect();
    if shape.last_segment_has_data {
        candidates.push((shape.log_end, shape.now_ms));
    }
    let start = match timestamp {
        LATEST => candidates.len() as i64 - 1,
        EARLIEST => 0,
        ts => candidates
            .iter()
            .rposition(|&(_, t)| t <= ts)
            .map_or(-1, |i| i as i64),
    };
    let take = (max_num_offsets.max(0) as i64).min(start + 1).max(0) as usize;
    let mut out: Vec<i64> = (0..take)
        .map(|j| candidates[(start as usize) - j].0)
        .collect();
    out.sort_unstable_by(|a, b| b.cmp(a));
    if out.iter().any(|&o| o > shape.high_watermark) {
        let rest: Vec<i64> = out
            .into_iter()
            .skip_while(|&o| o > shape.high_watermark)
            .collect();
        out = std::iter::once(shape.high_watermark).chain(rest).collect();
    }
    out
}

impl Partition {
    /// [`offsets_before`] for this partition now.
    pub fn legacy_offsets_before(
        &self,
        timestamp: i64,
        max_num_offsets: i32,
        now_ms: i64,
    ) -> Result<Vec<i64>, LogError> {
        let high_watermark = self.high_watermark();
        let l = self.lock()?;
        let segments = l
            .segments
            .iter()
            .map(|s| {
                let mtime = s
                    .log
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or(now_ms, |d| d.as_millis() as i64);
                (s.base_offset, mtime)
            })
            .collect();
        let shape = Shape {
            segments,
            last_segment_has_data: l.active().size > 0,
            log_start: l.log_start_offset,
            log_end: l.log_end_offset(),
            high_watermark,
            now_ms,
        };
        drop(l);
        Ok(offsets_before(&shape, timestamp, max_num_offsets))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(segments: &[(i64, i64)], has_data: bool, start: i64, end: i64, hw: i64) -> Shape {
        Shape {
            segments: segments.to_vec(),
            last_segment_has_data: has_data,
            log_start: start,
            log_end: end,
            high_watermark: hw,
            now_ms: 10_000,
        }
    }

    #[test]
    fn kafka_0_8s_answers() {
        // One segment from 0, log start 5 (DeleteRecords), high watermark 12 = log end.
        let one = shape(&[(0, 100)], true, 5, 12, 12);
        // Three segments, the active one empty; a follower has appended past the HW.
        let three = shape(&[(0, 100), (40, 200), (90, 300)], false, 0, 90, 85);
        let table: &[(&Shape, i64, i32, &[i64])] = &[
            (&one, LATEST, 10, &[12, 5]),
            (&one, LATEST, 1, &[12]),
            (&one, LATEST, 0, &[]),
            (&one, EARLIEST, 10, &[5]),
            (&one, EARLIEST, 1, &[5]),
            (&one, 50, 10, &[]),
            (&one, 100, 10, &[5]),
            (&one, 10_000, 10, &[12, 5]),
            // No data in the active segment: its base is the newest candidate; above the
            // HW, so the HW stands in front.
            (&three, LATEST, 10, &[85, 40, 0]),
            (&three, LATEST, 1, &[85]),
            (&three, 250, 10, &[40, 0]),
            (&three, 200, 1, &[40]),
            (&three, EARLIEST, 3, &[0]),
            (&three, 99, 3, &[]),
            // An empty partition.
            (&shape(&[(0, 100)], false, 0, 0, 0), LATEST, 1, &[0]),
            (&shape(&[(0, 100)], false, 0, 0, 0), EARLIEST, 1, &[0]),
        ];
        for (i, (s, ts, max, want)) in table.iter().enumerate() {
            assert_eq!(
                offsets_before(s, *ts, *max),
                *want,
                "row {i}: ts {ts} max {max}"
            );
        }
    }
}
