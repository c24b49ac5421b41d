//! The leader's view of one partition's replication, as Kafka's `Partition` keeps it: each
//! follower's log end offset and when it was last caught up, the ISR, and the high
//! watermark. Pure: callers pass the clock in (ms) and carry out what it returns (an
//! AlterPartition to the controller, a high watermark to publish).
//!
//! Rules (Kafka's):
//! - A follower's log end offset is the offset it fetches from. It was caught up at this
//!   fetch if it fetched from the leader's log end; or, failing that, at its previous fetch
//!   if it has now reached the log end the leader had then (`lastFetchLeaderLogEndOffset`).
//! - A replica outside the ISR joins it (an AlterPartition is proposed) once its log end is
//!   at least the high watermark and the start of the leader's epoch.
//! - An ISR member other than the leader leaves it once it has not been caught up for
//!   `replica.lag.time.max.ms`.
//! - The high watermark is the smallest log end offset in the maximal ISR (the committed
//!   ISR plus a replica whose addition is in flight, as Kafka counts it) and never moves
//!   back.
//! - One ISR change is in flight at a time; a committed change (with its partition epoch)
//!   replaces the ISR and ends it.

use std::collections::BTreeMap;

/// What the leader knows of one follower.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Follower {
    pub log_end_offset: i64,
    /// When it was last caught up with the leader's log end (ms).
    pub last_caught_up_ms: i64,
    /// When it last fetched (ms), and the leader's log end offset then.
    pub last_fetch_ms: i64,
    pub leader_end_at_last_fetch: i64,
}

/// One partition led here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderState {
    pub leader: i32,
    pub leader_epoch: i32,
    pub partition_epoch: i32,
    pub replicas: Vec<i32>,
    /// The committed ISR (the leader included).
    pub isr: Vec<i32>,
    /// The ISR proposed to the controller and not yet committed.
    pub pending: Option<Vec<i32>>,
    pub followers: BTreeMap<i32, Follower>,
    pub log_end_offset: i64,
    pub high_watermark: i64,
    /// The leader's log end when it took this epoch: a follower below it may still hold a
    /// previous leader's divergent suffix.
    pub epoch_start_offset: i64,
    /// Replicas on fenced brokers: the controller refuses them in the ISR
    /// (INELIGIBLE_REPLICA), so their catching up proposes nothing until they are live.
    pub ineligible: Vec<i32>,
}

impl LeaderState {
    /// Leadership taken at `now`: every follower gets a full `replica.lag.time.max.ms` before
    /// it can be dropped from the ISR, as Kafka resets them on becoming leader.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        leader: i32,
        leader_epoch: i32,
        partition_epoch: i32,
        replicas: Vec<i32>,
        isr: Vec<i32>,
        log_end_offset: i64,
        high_watermark: i64,
        now: i64,
    ) -> Self {
        let followers = replicas
            .iter()
            .filter(|&&r| r != leader)
            .map(|&r| {
                (
                    r,
                    Follower {
                        log_end_offset: -1,
                        last_caught_up_ms: now,
                        last_fetch_ms: now,
                        leader_end_at_last_fetch: -1,
                    },
                )
            })
            .collect();
        LeaderState {
            leader,
            leader_epoch,
            partition_epoch,
            replicas,
            isr,
            pending: None,
            followers,
            log_end_offset,
            high_watermark: high_watermark.min(log_end_offset),
            epoch_start_offset: log_end_offset,
            ineligible: Vec::new(),
        }
    }

    /// The partition's replicas changed (a reassignment started, completed or was
    /// cancelled): a replica added is tracked from `now` (it has fetched nothing yet, so it
    /// joins the ISR only once it has caught up); one removed is forgotten.
    pub fn set_replicas(&mut self, replicas: Vec<i32>, now: i64) {
        self.followers.retain(|r, _| replicas.contains(r));
        for &r in &replicas {
            if r != self.leader {
                self.followers.entry(r).or_insert(Follower {
                    log_end_offset: -1,
                    last_caught_up_ms: now,
                    last_fetch_ms: now,
                    leader_end_at_last_fetch: -1,
                });
            }
        }
        self.replicas = replicas;
    }

    /// The ISR the high watermark waits for: committed, plus an addition in flight.
    pub fn maximal_isr(&self) -> Vec<i32> {
        let mut isr = self.isr.clone();
        if let Some(p) = &self.pending {
            for r in p {
                if !isr.contains(r) {
                    isr.push(*r);
                }
            }
        }
        isr
    }

    fn log_end_of(&self, replica: i32) -> i64 {
        if replica == self.leader {
            self.log_end_offset
        } else {
            self.followers
                .get(&replica)
                .map_or(-1, |f| f.log_end_offset)
        }
    }

    /// Recomputes the high watermark; Some(new) if it moved forward.
    fn advance_high_watermark(&mut self) -> Option<i64> {
        let min = self
            .maximal_isr()
            .iter()
            .map(|&r| self.log_end_of(r))
            .min()
            .unwrap_or(self.log_end_offset);
        if min > self.high_watermark {
            self.high_watermark = min;
            Some(min)
        } else {
            None
        }
    }

    /// The leader appended up to `log_end_offset`.
    pub fn on_append(&mut self, log_end_offset: i64) -> Option<i64> {
        self.log_end_offset = self.log_end_offset.max(log_end_offset);
        self.advance_high_watermark()
    }

    /// A follower fetched from `fetch_offset` at `now`: its progress, the high watermark
    /// (Some if it moved) and an ISR to propose (Some if it should join).
    pub fn on_follower_fetch(
        &mut self,
        replica: i32,
        fetch_offset: i64,
        now: i64,
    ) -> (Option<i64>, Option<Vec<i32>>) {
        let leader_end = self.log_end_offset;
        let Some(f) = self.followers.get_mut(&replica) else {
            return (None, None);
        };
        if fetch_offset >= leader_end {
            f.last_caught_up_ms = now;
        } else if fetch_offset >= f.leader_end_at_last_fetch {
            f.last_caught_up_ms = f.last_caught_up_ms.max(f.last_fetch_ms);
        }
        f.log_end_offset = fetch_offset;
        f.last_fetch_ms = now;
        f.leader_end_at_last_fetch = leader_end;
        let hw = self.advance_high_watermark();
        let joins = self.pending.is_none()
            && !self.isr.contains(&replica)
            && !self.ineligible.contains(&replica)
            && fetch_offset >= self.high_watermark
            && fetch_offset >= self.epoch_start_offset;
        let proposal = joins.then(|| {
            let mut isr = self.isr.clone();
            isr.push(replica);
            self.pending = Some(isr.clone());
            isr
        });
        (hw, proposal)
    }

    /// ISR members that have not been caught up for `lag_max_ms` at `now`: the ISR to
    /// propose without them (never without the leader), if any and none is in flight.
    pub fn shrink(&mut self, now: i64, lag_max_ms: i64) -> Option<Vec<i32>> {
        if self.pending.is_some() {
            return None;
        }
        let lagging: Vec<i32> = self
            .isr
            .iter()
            .copied()
            .filter(|&r| r != self.leader)
            .filter(|r| {
                self.followers
                    .get(r)
                    .is_some_and(|f| now.saturating_sub(f.last_caught_up_ms) > lag_max_ms)
            })
            .collect();
        if lagging.is_empty() {
            return None;
        }
        let isr: Vec<i32> = self
            .isr
            .iter()
            .copied()
            .filter(|r| !lagging.contains(r))
            .collect();
        self.pending = Some(isr.clone());
        Some(isr)
    }

    /// The controller committed an ISR at `partition_epoch` (or refused the change: then
    /// `isr` is the current one). Ends the change in flight; a shrunk ISR may move the high
    /// watermark forward.
    pub fn on_isr_committed(&mut self, isr: Vec<i32>, partition_epoch: i32) -> Option<i64> {
        if partition_epoch < self.partition_epoch {
            return None;
        }
        self.partition_epoch = partition_epoch;
        self.isr = isr;
        self.pending = None;
        self.advance_high_watermark()
    }

    /// Whether an acks=all produce may be appended: the ISR holds `min.insync.replicas`.
    pub fn enough_replicas(&self, min_insync_replicas: usize) -> bool {
        self.isr.len() >= min_insync_replicas
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAG: i64 = 30_000;

    fn leader(isr: &[i32]) -> LeaderState {
        LeaderState::new(1, 3, 5, vec![1, 2, 3], isr.to_vec(), 100, 100, 0)
    }

    /// Each row: events in order, then (high watermark, ISR proposal) after the last one.
    #[derive(Debug, Clone, Copy)]
    enum Ev {
        Append(i64),
        Fetch(i32, i64, i64),
        Commit(&'static [i32], i32),
        Shrink(i64),
        /// The replicas changed (a reassignment), at this time.
        Replicas(&'static [i32], i64),
        /// These replicas' brokers are fenced.
        Fenced(&'static [i32]),
    }
    use Ev::*;

    #[test]
    fn high_watermark_and_isr_follow_kafkas_rules() {
        type Row = (
            &'static str,
            &'static [i32],
            &'static [Ev],
            i64,
            Option<&'static [i32]>,
        );
        let table: &[Row] = &[
            (
                "leader alone: hw follows appends",
                &[1],
                &[Append(150)],
                150,
                None,
            ),
            (
                "hw waits for the slowest isr member",
                &[1, 2, 3],
                &[Append(150), Fetch(2, 150, 1), Fetch(3, 120, 1)],
                120,
                None,
            ),
            (
                "hw never moves back",
                &[1, 2],
                &[Append(150), Fetch(2, 150, 1), Fetch(2, 110, 2)],
                150,
                None,
            ),
            (
                "a caught-up follower joins the isr",
                &[1],
                &[Append(150), Fetch(2, 150, 1)],
                150,
                Some(&[1, 2]),
            ),
            (
                "a follower below the hw does not join",
                &[1],
                &[Append(150), Fetch(2, 120, 1)],
                150,
                None,
            ),
            (
                "a pending join holds the hw",
                &[1],
                &[Append(150), Fetch(2, 150, 1), Append(200)],
                150,
                None,
            ),
            (
                "the committed join counts",
                &[1],
                &[
                    Append(150),
                    Fetch(2, 150, 1),
                    Commit(&[1, 2], 6),
                    Append(200),
                    Fetch(2, 200, 2),
                ],
                200,
                None,
            ),
            (
                "a lagging member is dropped after the lag time",
                &[1, 2, 3],
                &[
                    Append(150),
                    Fetch(2, 150, 1),
                    Fetch(3, 100, 1),
                    Shrink(LAG + 1),
                ],
                100,
                Some(&[1, 2]),
            ),
            (
                "not before the lag time",
                &[1, 2, 3],
                &[Append(150), Fetch(2, 150, 1), Fetch(3, 100, 1), Shrink(LAG)],
                100,
                None,
            ),
            (
                "the shrink moves the hw forward once committed",
                &[1, 2, 3],
                &[
                    Append(150),
                    Fetch(2, 150, 1),
                    Fetch(3, 100, 1),
                    Shrink(LAG + 1),
                    Commit(&[1, 2], 6),
                ],
                150,
                None,
            ),
            (
                "reaching the leader's end seen at the previous fetch counts as caught up then",
                &[1, 2],
                &[
                    Append(150),
                    Fetch(2, 100, 10),
                    Append(200),
                    Fetch(2, 150, LAG + 5),
                    Shrink(LAG + 9),
                ],
                150,
                None,
            ),
            (
                "a replica a reassignment adds is tracked and joins once caught up",
                &[1],
                &[Append(150), Replicas(&[1, 2, 3, 4], 0), Fetch(4, 150, 1)],
                150,
                Some(&[1, 4]),
            ),
            (
                "an added replica behind does not join",
                &[1],
                &[Append(150), Replicas(&[1, 2, 3, 4], 0), Fetch(4, 20, 1)],
                150,
                None,
            ),
            (
                "a replica removed is forgotten: its fetches count for nothing",
                &[1],
                &[Append(150), Replicas(&[1, 2], 0), Fetch(3, 150, 1)],
                150,
                None,
            ),
            (
                "a fenced replica does not join however caught up",
                &[1],
                &[Fenced(&[2]), Append(150), Fetch(2, 150, 1)],
                150,
                None,
            ),
            (
                "a stale commit is ignored",
                &[1, 2],
                &[Append(150), Commit(&[1], 4)],
                100,
                None,
            ),
        ];
        for (name, isr, events, hw, proposal) in table {
            let mut s = leader(isr);
            let mut last: Option<Vec<i32>> = None;
            for e in *events {
                last = match *e {
                    Append(end) => {
                        s.on_append(end);
                        None
                    }
                    Fetch(r, off, now) => s.on_follower_fetch(r, off, now).1,
                    Commit(isr, epoch) => {
                        s.on_isr_committed(isr.to_vec(), epoch);
                        None
                    }
                    Shrink(now) => s.shrink(now, LAG),
                    Replicas(r, now) => {
                        s.set_replicas(r.to_vec(), now);
                        None
                    }
                    Fenced(r) => {
                        s.ineligible = r.to_vec();
                        None
                    }
                };
            }
            assert_eq!(s.high_watermark, *hw, "{name}: high watermark");
            assert_eq!(last.as_deref(), *proposal, "{name}: isr proposal");
        }
    }

    #[test]
    fn leaders_never_leave_and_min_isr_gates_acks_all() {
        let mut s = leader(&[1, 2, 3]);
        // Nobody fetched for twice the lag: both followers go, the leader stays.
        assert_eq!(s.shrink(2 * LAG + 1, LAG), Some(vec![1]));
        assert_eq!(s.shrink(2 * LAG + 1, LAG), None, "one change in flight");
        assert!(s.enough_replicas(2));
        s.on_isr_committed(vec![1], 6);
        assert!(!s.enough_replicas(2) && s.enough_replicas(1));
        // A follower below the start of this leader's epoch may hold a divergent suffix: it
        // does not join, even above the high watermark.
        // (Replica 3, in the ISR and behind, holds the high watermark at 80.)
        let mut s = LeaderState::new(1, 3, 5, vec![1, 2, 3], vec![1, 3], 100, 80, 0);
        assert_eq!(s.on_follower_fetch(2, 90, 1), (None, None));
        assert_eq!(s.high_watermark, 80);
        assert_eq!(s.on_follower_fetch(2, 100, 2).1, Some(vec![1, 3, 2]));
        // Fetches from a replica that is not ours change nothing.
        assert_eq!(s.on_follower_fetch(9, 500, 1), (None, None));
    }
}
