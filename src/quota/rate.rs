//! A rate over sample windows and the throttle time of a quota on it, as Kafka's client
//! quotas measure them (`Rate` over `quota.window.num` (11) samples of
//! `quota.window.size.seconds` (1), `QuotaUtils.throttleTime`). Pure: callers pass the clock
//! (milliseconds) in.
//!
//! - `record(now, v)` adds `v` to the current window; windows older than the kept span are
//!   dropped.
//! - The rate is the total of the kept windows over the time they span, but never over less
//!   than `WINDOWS - 1` whole windows: a first burst is spread over ten seconds, as in Kafka,
//!   so one early request is not throttled for a minute.
//! - A quota `q` is violated when the rate exceeds `q`; the throttle time is then
//!   `(rate - q) / q * span`: how long the client must stay quiet for the rate to fall back to
//!   `q`, bounded by the span itself.

use std::collections::VecDeque;

/// One sample window, ms (`quota.window.size.seconds`).
pub const WINDOW_MS: i64 = 1000;
/// Windows kept (`quota.window.num`).
pub const WINDOWS: usize = 11;

/// The samples of one client's (or one user's) traffic of one kind.
#[derive(Debug, Clone, Default)]
pub struct Rate {
    /// (window start, total), oldest first.
    samples: VecDeque<(i64, f64)>,
}

impl Rate {
    fn expire(&mut self, now: i64) {
        let oldest_kept = now - WINDOW_MS * WINDOWS as i64;
        while self
            .samples
            .front()
            .is_some_and(|(start, _)| *start <= oldest_kept)
        {
            self.samples.pop_front();
        }
    }

    /// Counts `value` at `now`.
    pub fn record(&mut self, now: i64, value: f64) {
        self.expire(now);
        let start = now - now.rem_euclid(WINDOW_MS);
        match self.samples.back_mut() {
            Some((s, total)) if *s == start => *total += value,
            _ => self.samples.push_back((start, value)),
        }
    }

    /// The span the rate is measured over at `now`, ms.
    pub fn span(&self, now: i64) -> i64 {
        let elapsed = match self.samples.front() {
            Some((start, _)) => now - start,
            None => 0,
        };
        elapsed.max(WINDOW_MS * (WINDOWS as i64 - 1))
    }

    /// The rate per second at `now`.
    pub fn rate(&mut self, now: i64) -> f64 {
        self.expire(now);
        let total: f64 = self.samples.iter().map(|(_, v)| v).sum();
        total * 1000.0 / self.span(now) as f64
    }

    /// How long, ms, a client over `quota` (per second) is held back at `now`; 0 within it.
    pub fn throttle_ms(&mut self, now: i64, quota: f64) -> i64 {
        let rate = self.rate(now);
        if quota <= 0.0 || rate <= quota {
            return 0;
        }
        let span = self.span(now);
        (((rate - quota) / quota) * span as f64)
            .min(span as f64)
            .round() as i64
    }

    /// Whether nothing was recorded within the kept windows (the entry can be dropped).
    pub fn idle(&mut self, now: i64) -> bool {
        self.expire(now);
        self.samples.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_spreads_over_at_least_ten_windows() {
        let mut r = Rate::default();
        r.record(0, 10_000.0);
        // One window of data over the minimum span of ten windows.
        assert_eq!(r.rate(500), 1000.0);
        assert_eq!(r.throttle_ms(500, 1000.0), 0, "exactly at the quota");
        assert_eq!(
            r.throttle_ms(500, 500.0),
            10_000,
            "twice the quota: bounded by the span"
        );
        r.record(1000, 10_000.0);
        assert_eq!(r.rate(1500), 2000.0);
    }

    /// Kafka's formula: (rate - quota) / quota * span.
    #[test]
    fn throttle_time_follows_kafkas_formula() {
        let cases = [
            // (bytes recorded at 0, quota, throttle at 0)
            (11_000.0, 1000.0, 1000),
            (15_000.0, 1000.0, 5000),
            (10_000.0, 1000.0, 0),
            (10_001.0, 1000.0, 1),
            (1.0, 0.0, 0),
        ];
        for (bytes, quota, want) in cases {
            let mut r = Rate::default();
            r.record(0, bytes);
            assert_eq!(
                r.throttle_ms(0, quota),
                want,
                "{bytes} bytes, quota {quota}"
            );
        }
    }

    #[test]
    fn old_windows_expire() {
        let mut r = Rate::default();
        r.record(0, 5000.0);
        r.record(5_000, 5000.0);
        assert_eq!(r.rate(5_000), 1000.0);
        // At 11 s the window of 0 has left the 11 kept; the span is still 10 s.
        assert_eq!(r.rate(11_000), 500.0);
        assert!(!r.idle(15_999));
        assert!(r.idle(16_000));
        assert_eq!(r.rate(16_000), 0.0);
    }

    #[test]
    fn a_steady_client_below_its_quota_is_not_throttled() {
        let mut r = Rate::default();
        let mut throttled = 0;
        // 900 bytes every 100 ms = 9 kB/s against a 10 kB/s quota, for a minute. (Exactly at
        // the quota a client is throttled a little now and then, as in Kafka: the current,
        // partial window counts over a span only a little longer than ten windows.)
        for step in 0..600 {
            let now = step * 100;
            r.record(now, 900.0);
            throttled += r.throttle_ms(now, 10_000.0);
        }
        assert_eq!(throttled, 0);
        // Twice that rate is throttled at every step once the windows fill.
        let mut r = Rate::default();
        for step in 0..200 {
            r.record(step * 100, 2000.0);
        }
        assert!(r.throttle_ms(20_000, 10_000.0) > 0);
    }
}
