//! Replication throttling, as Kafka's ReplicationQuotaManager does it for partition moves
//! (`kafka-reassign-partitions.sh --throttle`): which replicas are throttled, and whether a
//! broker's throttled replication traffic is over its rate. Pure: callers pass the clock in.
//!
//! - A topic's `leader.replication.throttled.replicas` lists `partition:broker` pairs (or `*`
//!   for all): broker B throttles serving partition P when it leads P and the list names
//!   `P:B` (kafka-reassign-partitions.sh names every existing replica of a moving partition,
//!   whichever leads); those fetches count against B's `leader.replication.throttled.rate`
//!   (bytes/s). Its `follower.replication.throttled.replicas` names the fetching side (the
//!   move's new replicas), against their `follower.replication.throttled.rate`.
//! - Only replicas outside the ISR are held back (a move's new replicas catching up): an
//!   in-sync follower is never throttled, so acks=all latency does not suffer.
//! - A throttled partition is left out of a fetch (the leader answers it without records; the
//!   follower does not ask for it) while the bytes counted over the last `WINDOWS` windows of
//!   `WINDOW_MS` exceed the rate over that span, as Kafka's rate over `quota.window.num` (11)
//!   samples of `quota.window.size.seconds` (1) does.

use std::collections::VecDeque;

/// One sample window (Kafka's `replication.quota.window.size.seconds`).
pub const WINDOW_MS: i64 = 1000;
/// Windows kept (Kafka's `replication.quota.window.num`).
pub const WINDOWS: usize = 11;

/// The throttled replicas of one topic, from its `*.replication.throttled.replicas` value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Throttled {
    #[default]
    None,
    All,
    /// (partition, broker) pairs.
    Some(Vec<(i32, i32)>),
}

/// Kafka's syntax back: empty, `*`, or the pairs joined by commas.
impl std::fmt::Display for Throttled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Throttled::None => Ok(()),
            Throttled::All => f.write_str("*"),
            Throttled::Some(pairs) => {
                for (i, (p, b)) in pairs.iter().enumerate() {
                    let sep = if i == 0 { "" } else { "," };
                    write!(f, "{sep}{p}:{b}")?;
                }
                Ok(())
            }
        }
    }
}

impl Throttled {
    /// Parses Kafka's syntax: empty, `*`, or `partition:broker` entries separated by commas
    /// (spaces allowed around them). Err names the first entry that is none of these.
    pub fn parse(value: &str) -> Result<Throttled, String> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(Throttled::None);
        }
        if value == "*" {
            return Ok(Throttled::All);
        }
        let mut pairs = Vec::new();
        for entry in value.split(',').map(str::trim) {
            let pair = entry
                .split_once(':')
                .and_then(|(p, b)| Some((p.trim().parse().ok()?, b.trim().parse().ok()?)))
                .filter(|&(p, b): &(i32, i32)| p >= 0 && b >= 0);
            match pair {
                Some(p) => pairs.push(p),
                None => return Err(entry.to_string()),
            }
        }
        Ok(Throttled::Some(pairs))
    }

    pub fn contains(&self, partition: i32, broker: i32) -> bool {
        match self {
            Throttled::None => false,
            Throttled::All => true,
            Throttled::Some(pairs) => pairs.contains(&(partition, broker)),
        }
    }
}

/// A rate bound over sliding windows of counted bytes.
#[derive(Debug, Clone)]
pub struct Quota {
    /// Bytes per second; `i64::MAX` (Kafka's default): unbounded.
    rate: i64,
    /// (window start ms, bytes), oldest first.
    windows: VecDeque<(i64, i64)>,
}

impl Quota {
    pub fn new(rate: i64) -> Self {
        Quota {
            rate,
            windows: VecDeque::new(),
        }
    }

    pub fn set_rate(&mut self, rate: i64) {
        self.rate = rate;
    }

    /// Whether a rate is set (`i64::MAX`: none, Kafka's default).
    pub fn bounded(&self) -> bool {
        self.rate != i64::MAX
    }

    fn expire(&mut self, now: i64) {
        let oldest = now - WINDOW_MS * WINDOWS as i64;
        while self
            .windows
            .front()
            .is_some_and(|&(start, _)| start <= oldest)
        {
            self.windows.pop_front();
        }
    }

    /// Counts `bytes` of throttled traffic at `now`.
    pub fn record(&mut self, now: i64, bytes: i64) {
        self.expire(now);
        let start = now - now.rem_euclid(WINDOW_MS);
        match self.windows.back_mut() {
            Some((s, b)) if *s == start => *b = b.saturating_add(bytes),
            _ => self.windows.push_back((start, bytes)),
        }
    }

    /// Whether the traffic counted over the kept windows (up to `now`) is above the rate. The
    /// span is at least one full window, so a first burst is measured over a second, not over
    /// the few milliseconds since it began.
    pub fn exceeded(&mut self, now: i64) -> bool {
        if !self.bounded() {
            return false;
        }
        self.expire(now);
        let Some(&(first, _)) = self.windows.front() else {
            return false;
        };
        let bytes: i64 = self.windows.iter().map(|&(_, b)| b).sum();
        let span_ms = (now - first).max(WINDOW_MS);
        // bytes / (span_ms / 1000) > rate, without the division.
        i128::from(bytes) * 1000 > i128::from(self.rate) * i128::from(span_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttled_replicas_parse_as_kafka_writes_them() {
        let rows: &[(&str, Result<Throttled, &str>)] = &[
            ("", Ok(Throttled::None)),
            ("  ", Ok(Throttled::None)),
            ("*", Ok(Throttled::All)),
            ("0:1", Ok(Throttled::Some(vec![(0, 1)]))),
            (
                "0:1, 1:2 ,2:3",
                Ok(Throttled::Some(vec![(0, 1), (1, 2), (2, 3)])),
            ),
            ("0:1,x:2", Err("x:2")),
            ("0-1", Err("0-1")),
            ("0:-1", Err("0:-1")),
            ("0:1,", Err("")),
        ];
        for (value, want) in rows {
            let got = Throttled::parse(value);
            assert_eq!(got, want.clone().map_err(String::from), "{value:?}");
        }
        for written in ["", "*", "0:1", "0:1,2:3"] {
            assert_eq!(Throttled::parse(written).unwrap().to_string(), written);
        }
        let t = Throttled::parse("0:1,2:3").unwrap();
        assert!(t.contains(0, 1) && t.contains(2, 3));
        assert!(!t.contains(0, 3) && !t.contains(1, 1));
        assert!(Throttled::All.contains(7, 9) && !Throttled::None.contains(0, 0));
    }

    #[test]
    fn a_quota_bounds_the_rate_over_its_windows() {
        // (rate, events: (time ms, bytes recorded), then (time, exceeded?) checks)
        type Row = (
            &'static str,
            i64,
            &'static [(i64, i64)],
            &'static [(i64, bool)],
        );
        let rows: &[Row] = &[
            ("unbounded", i64::MAX, &[(0, 1 << 40)], &[(0, false)]),
            ("nothing counted", 100, &[], &[(5_000, false)]),
            (
                "a burst below the rate over one window",
                1000,
                &[(0, 1000)],
                &[(0, false), (10, false)],
            ),
            (
                "a burst above it",
                1000,
                &[(0, 1001)],
                &[(0, true), (999, true)],
            ),
            (
                "spread over more windows, the same bytes fall below the rate",
                1000,
                &[(0, 1500)],
                &[(1499, true), (1500, false), (3000, false)],
            ),
            (
                "old windows expire",
                100,
                &[(0, 5000)],
                &[(10_999, true), (11_000, false)],
            ),
            (
                "windows add up",
                1000,
                &[(0, 600), (1000, 600), (2500, 1500)],
                &[(2600, true), (4000, false)],
            ),
        ];
        for (name, rate, events, checks) in rows {
            let mut q = Quota::new(*rate);
            for &(t, b) in *events {
                q.record(t, b);
            }
            for &(t, want) in *checks {
                assert_eq!(q.exceeded(t), want, "{name} at {t} ms");
            }
        }
    }
}
