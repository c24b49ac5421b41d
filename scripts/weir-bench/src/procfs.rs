//! The broker's own costs, read from /proc: CPU seconds, resident memory and its peak.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub(crate) fn clk_tck() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// user + system CPU seconds of a process (all threads), from /proc/<pid>/stat.
pub(crate) fn cpu_secs(pid: &str) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // after the command: field 3 (state) is f[0]; utime is field 14, stime field 15.
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / clk_tck())
}

/// A `Vm*:` line of /proc/<pid>/status, in KiB.
pub(crate) fn status_kib(pid: &str, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Samples the broker's anonymous resident memory (`RssAnon`: heap and stacks, not the
/// file pages of its memory-mapped segments, which are reclaimable page cache) every 20 ms
/// until stopped; `stop()` returns the peak in KiB.
pub(crate) struct AnonSampler {
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) handle: std::thread::JoinHandle<Option<u64>>,
}

impl AnonSampler {
    pub(crate) fn start(pid: &str) -> AnonSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let pid = pid.to_string();
        let handle = std::thread::spawn(move || {
            let mut peak: Option<u64> = None;
            loop {
                if let Some(k) = status_kib(&pid, "RssAnon:") {
                    peak = Some(peak.map_or(k, |p| p.max(k)));
                }
                if flag.load(Ordering::Relaxed) {
                    return peak;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        AnonSampler { stop, handle }
    }

    pub(crate) fn stop(self) -> Option<u64> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().ok().flatten()
    }
}

/// Resets VmHWM to the current RSS (Linux >= 4.0), so the peak is per scenario.
pub(crate) fn reset_peak_rss(pid: &str) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}
