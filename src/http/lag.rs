//! The console's lag-over-time: every `http.console.lag.sample.ms` a task looks at every
//! consumer group through the Kafka protocol (ListGroups, then what `weir groups describe`
//! sends) and keeps each group's total lag in memory, for the sparklines.
//!
//! Bounds: at most [`MAX_GROUPS`] groups are followed (the first by name), each keeps its
//! last [`HISTORY`] samples; a group that is gone from ListGroups is forgotten. Nothing is
//! persisted: a restart starts the history afresh.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::cli::client::Client;
use crate::cli::groups::{list_groups, view};
use crate::cli::CliError;

/// Samples kept per group (an hour at the default 10 s).
pub const HISTORY: usize = 360;
/// Groups followed at most.
pub const MAX_GROUPS: usize = 1000;

/// What the sampler last saw of a group, and its lag over time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupSample {
    pub state: String,
    pub members: usize,
    /// The sum of the partitions' lags (None: no committed offset to measure from).
    pub total_lag: Option<i64>,
    /// (unix ms, total lag), oldest first, at most [`HISTORY`].
    pub history: VecDeque<(i64, i64)>,
}

/// Every followed group's samples.
#[derive(Debug, Default)]
pub struct LagHistory {
    groups: Mutex<BTreeMap<String, GroupSample>>,
}

impl LagHistory {
    /// Records one look at `group`. A group beyond [`MAX_GROUPS`] is not followed.
    pub fn record(&self, group: &str, at_ms: i64, state: &str, members: usize, lag: Option<i64>) {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        if !groups.contains_key(group) && groups.len() >= MAX_GROUPS {
            return;
        }
        let g = groups.entry(group.to_string()).or_default();
        g.state = state.to_string();
        g.members = members;
        g.total_lag = lag;
        if let Some(lag) = lag {
            if g.history.len() == HISTORY {
                g.history.pop_front();
            }
            g.history.push_back((at_ms, lag));
        }
    }

    /// Forgets every group not in `live`.
    pub fn retain(&self, live: &BTreeSet<&str>) {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        groups.retain(|g, _| live.contains(g.as_str()));
    }

    /// Forgets one group (deleted).
    pub fn remove(&self, group: &str) {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        groups.remove(group);
    }

    /// The last look at `group`, if it is followed.
    pub fn get(&self, group: &str) -> Option<GroupSample> {
        let groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        groups.get(group).cloned()
    }
}

/// `[{ "t": ms, "lag": n }, ...]`, oldest first.
pub fn history_json(s: Option<&GroupSample>) -> serde_json::Value {
    s.map_or_else(Vec::new, |s| {
        s.history
            .iter()
            .map(|(t, lag)| serde_json::json!({ "t": t, "lag": lag }))
            .collect()
    })
    .into()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// One look at every group; an I/O failure ends it (the caller reconnects).
async fn sample_once(client: &mut Client, lag: &LagHistory) -> Result<(), CliError> {
    let groups = list_groups(client).await?;
    let at = now_ms();
    for group in groups.keys().take(MAX_GROUPS) {
        match view(client, group).await {
            Ok(v) => {
                lag.record(
                    group,
                    at,
                    &v.described.state,
                    v.described.members.len(),
                    v.total_lag(),
                );
            }
            Err(e @ CliError::Io(_)) => return Err(e),
            // Gone between ListGroups and now, or not describable: the next look tells.
            Err(_) => {}
        }
    }
    lag.retain(&groups.keys().map(String::as_str).collect());
    Ok(())
}

/// Samples every `every` until `shutdown`.
pub async fn sample_task(
    bootstrap: String,
    lag: Arc<LagHistory>,
    every: Duration,
    shutdown: CancellationToken,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut client: Option<Client> = None;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        if client.is_none() {
            client = Client::connect(&bootstrap).await.ok();
        }
        if let Some(c) = client.as_mut() {
            let round = tokio::select! {
                _ = shutdown.cancelled() => return,
                r = sample_once(c, &lag) => r,
            };
            if let Err(e) = round {
                tracing::debug!(error = %e, "console lag sampler: reconnecting");
                client = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_bounded_and_ordered() {
        let h = LagHistory::default();
        for i in 0..(HISTORY as i64 + 5) {
            h.record("g", i * 1000, "Stable", 2, Some(i));
        }
        let s = h.get("g").unwrap();
        assert_eq!(s.history.len(), HISTORY);
        assert_eq!(s.history.front(), Some(&(5000, 5)));
        assert_eq!(s.history.back().unwrap().1, HISTORY as i64 + 4);
        assert_eq!((s.state.as_str(), s.members), ("Stable", 2));
    }

    #[test]
    fn unmeasured_looks_update_state_but_add_no_point() {
        let h = LagHistory::default();
        h.record("g", 1, "Stable", 1, Some(7));
        h.record("g", 2, "Empty", 0, None);
        let s = h.get("g").unwrap();
        assert_eq!(s.history.len(), 1);
        assert_eq!(
            (s.state.as_str(), s.members, s.total_lag),
            ("Empty", 0, None)
        );
        assert_eq!(
            history_json(Some(&s)),
            serde_json::json!([{ "t": 1, "lag": 7 }])
        );
    }

    #[test]
    fn groups_are_bounded_and_forgotten_when_gone() {
        let h = LagHistory::default();
        for i in 0..MAX_GROUPS + 3 {
            h.record(&format!("g{i:05}"), 1, "Stable", 1, Some(1));
        }
        assert!(h.get("g00000").is_some());
        assert!(h.get(&format!("g{:05}", MAX_GROUPS)).is_none());
        let live: BTreeSet<&str> = ["g00001"].into_iter().collect();
        h.retain(&live);
        assert!(h.get("g00000").is_none());
        assert!(h.get("g00001").is_some());
        h.remove("g00001");
        assert!(h.get("g00001").is_none());
    }
}
