//! One local replica of a partition: its log and its role (leader, follower or offline), as
//! the image last gave it. The leader's appends, its followers' fetches and role changes
//! take the replica's lock in turn (Kafka's `leaderIsrUpdateLock`), so an append is stamped
//! with the epoch of the leadership it was accepted under and never lands after the replica
//! became a follower.
//!
//! Invariants:
//! - `progress.leader_epoch` is the epoch this replica leads in, or -1 when it does not
//!   lead; acks=all waiters give up as soon as it changes.
//! - The published high watermark (the log's and `progress`) never moves back while one
//!   leadership lasts (see [`LeaderState`]).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;
use uuid::Uuid;

use super::isr::LeaderState;
use crate::cluster::image::{PartitionMeta, NO_LEADER};
use crate::log::batch::BatchHeader;
use crate::log::{AppendInfo, LogError, Partition, TopicPartition};
use crate::protocol::error_code as ec;

/// What acks=all producers wait on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub high_watermark: i64,
    /// The epoch this replica leads in, -1 if it does not lead.
    pub leader_epoch: i32,
}

#[derive(Debug)]
pub enum Role {
    Leader(Box<LeaderState>),
    Follower {
        leader: i32,
        leader_epoch: i32,
    },
    /// No leader: nothing to fetch from, nothing to serve.
    Offline,
}

#[derive(Debug)]
pub struct ReplicaState {
    pub topic_id: Uuid,
    pub role: Role,
    /// `min.insync.replicas` of the topic.
    pub min_insync_replicas: usize,
    /// The replica left this broker (its topic was deleted or it moved away): appends get
    /// [`AppendError::Removed`], never a leader to look for.
    pub removed: bool,
    /// Whether the topic's `leader.replication.throttled.replicas` names this partition on
    /// this broker: as leader, its fetches by followers out of the ISR count against the
    /// leader's replication quota.
    pub leader_throttled: bool,
    /// Whether the topic's `follower.replication.throttled.replicas` names this partition on
    /// this broker, and whether this broker is in the partition's ISR (as the image says):
    /// an out-of-sync throttled follower's fetching counts against its follower quota.
    pub follower_throttled: bool,
    pub in_sync: bool,
}

/// How a role change left the replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Unchanged,
    Leader,
    Follower { leader: i32, leader_epoch: i32 },
    Offline,
}

/// Why a leader append was refused.
#[derive(Debug)]
pub enum AppendError {
    NotLeader,
    /// The replica was removed (see [`Replica::remove`]).
    Removed,
    NotEnoughReplicas,
    Log(LogError),
}

/// An ISR change for the controller, computed by the leader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsrProposal {
    pub topic_id: Uuid,
    pub partition: i32,
    pub leader_epoch: i32,
    pub partition_epoch: i32,
    pub isr: Vec<i32>,
}

pub struct Replica {
    pub tp: TopicPartition,
    pub log: Arc<Partition>,
    state: Mutex<ReplicaState>,
    progress: watch::Sender<Progress>,
}

impl Replica {
    pub fn new(tp: TopicPartition, log: Arc<Partition>, topic_id: Uuid) -> Self {
        let hw = log.high_watermark();
        Replica {
            tp,
            log,
            state: Mutex::new(ReplicaState {
                topic_id,
                role: Role::Offline,
                min_insync_replicas: 1,
                removed: false,
                leader_throttled: false,
                follower_throttled: false,
                in_sync: false,
            }),
            progress: watch::Sender::new(Progress {
                high_watermark: hw,
                leader_epoch: -1,
            }),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, ReplicaState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn topic_id(&self) -> Uuid {
        self.lock().topic_id
    }

    /// Publishes a high watermark that moved: the log's (consumers read up to it), the
    /// acks=all waiters', and wakes long-polling fetches.
    fn publish(&self, hw: Option<i64>) {
        if let Some(hw) = hw {
            if let Err(e) = self.log.advance_high_watermark(hw) {
                tracing::warn!(partition = %self.tp, error = %e, "publishing the high watermark");
            }
            self.progress.send_modify(|p| p.high_watermark = hw);
            self.log.appended.notify_waiters();
        }
    }

    /// Brings the role in line with the image's partition `p` (this broker is `me`).
    pub fn apply(
        &self,
        me: i32,
        p: &PartitionMeta,
        min_insync_replicas: usize,
        fenced: &[i32],
        now_ms: i64,
    ) -> Transition {
        let mut s = self.lock();
        s.min_insync_replicas = min_insync_replicas.max(1);
        if p.leader == me {
            if let Role::Leader(l) = &mut s.role {
                if l.leader_epoch == p.leader_epoch {
                    l.ineligible = fenced.to_vec();
                    if p.partition_epoch > l.partition_epoch {
                        l.set_replicas(p.replicas.clone(), now_ms);
                        let hw = l.on_isr_committed(p.isr.clone(), p.partition_epoch);
                        drop(s);
                        self.publish(hw);
                    }
                    return Transition::Unchanged;
                }
            }
            if let Err(e) = self.log.assign_leader_epoch(p.leader_epoch) {
                tracing::warn!(partition = %self.tp, error = %e, "recording the leader epoch");
            }
            let end = self.log.offsets().map(|o| o.log_end).unwrap_or(0);
            let mut l = LeaderState::new(
                me,
                p.leader_epoch,
                p.partition_epoch,
                p.replicas.clone(),
                p.isr.clone(),
                end,
                self.log.high_watermark(),
                now_ms,
            );
            l.ineligible = fenced.to_vec();
            let hw = l.on_append(end);
            let published = l.high_watermark;
            s.role = Role::Leader(Box::new(l));
            drop(s);
            let published = self.log.set_high_watermark(published).unwrap_or(published);
            self.progress.send_replace(Progress {
                high_watermark: published,
                leader_epoch: p.leader_epoch,
            });
            if hw.is_some() {
                self.log.appended.notify_waiters();
            }
            return Transition::Leader;
        }
        let next = if p.leader == NO_LEADER {
            Transition::Offline
        } else {
            Transition::Follower {
                leader: p.leader,
                leader_epoch: p.leader_epoch,
            }
        };
        let current = match &s.role {
            Role::Follower {
                leader,
                leader_epoch,
            } => Transition::Follower {
                leader: *leader,
                leader_epoch: *leader_epoch,
            },
            Role::Offline => Transition::Offline,
            Role::Leader(_) => Transition::Leader,
        };
        if current == next {
            return Transition::Unchanged;
        }
        s.role = match next {
            Transition::Follower {
                leader,
                leader_epoch,
            } => Role::Follower {
                leader,
                leader_epoch,
            },
            _ => Role::Offline,
        };
        drop(s);
        let hw = self.log.high_watermark();
        self.progress.send_replace(Progress {
            high_watermark: hw,
            leader_epoch: -1,
        });
        // Fetches waiting here as leader end now and answer NOT_LEADER_OR_FOLLOWER.
        self.log.appended.notify_waiters();
        next
    }

    /// The replica is no longer this broker's (its topic was deleted or it moved away).
    pub fn remove(&self) {
        {
            let mut s = self.lock();
            s.role = Role::Offline;
            s.removed = true;
        }
        self.progress.send_modify(|p| p.leader_epoch = -1);
        self.log.appended.notify_waiters();
    }

    /// Sets the throttling that the topic's configs and the image give this replica (see
    /// [`ReplicaState`]'s fields).
    pub fn set_throttling(&self, leader_throttled: bool, follower_throttled: bool, in_sync: bool) {
        let mut s = self.lock();
        s.leader_throttled = leader_throttled;
        s.follower_throttled = follower_throttled;
        s.in_sync = in_sync;
    }

    /// As follower: whether this partition's fetching is throttled here.
    pub fn follower_throttled(&self) -> bool {
        let s = self.lock();
        s.follower_throttled && !s.in_sync
    }

    /// The leader epoch, if this replica leads.
    pub fn leader_epoch(&self) -> Option<i32> {
        match &self.lock().role {
            Role::Leader(l) => Some(l.leader_epoch),
            _ => None,
        }
    }

    /// Checks a client's `current_leader_epoch` (-1: not given) against the leadership:
    /// older is FENCED_LEADER_EPOCH, newer UNKNOWN_LEADER_EPOCH (KIP-320).
    pub fn check_epoch(&self, current_leader_epoch: i32) -> Result<i32, i16> {
        let epoch = self.leader_epoch().ok_or(ec::NOT_LEADER_OR_FOLLOWER)?;
        epoch_check(epoch, current_leader_epoch)?;
        Ok(epoch)
    }

    /// Appends one batch as leader. acks=all is refused with NOT_ENOUGH_REPLICAS before
    /// anything is written when the ISR is smaller than `min.insync.replicas`. Returns what
    /// the log answered and the offset the high watermark must reach for the batch to be
    /// committed, with the leader epoch it was appended in.
    pub fn append_as_leader(
        &self,
        raw: &[u8],
        h: &BatchHeader,
        now_ms: i64,
        acks_all: bool,
    ) -> Result<(AppendInfo, i64, i32), AppendError> {
        let mut s = self.lock();
        let min_isr = s.min_insync_replicas;
        if s.removed {
            return Err(AppendError::Removed);
        }
        let Role::Leader(l) = &mut s.role else {
            return Err(AppendError::NotLeader);
        };
        if acks_all && !l.enough_replicas(min_isr) {
            return Err(AppendError::NotEnoughReplicas);
        }
        let info = self
            .log
            .append(raw, h, now_ms, l.leader_epoch)
            .map_err(AppendError::Log)?;
        let end = self.log.offsets().map(|o| o.log_end).unwrap_or(0);
        let hw = l.on_append(end);
        let epoch = l.leader_epoch;
        drop(s);
        self.publish(hw);
        let required = info
            .base_offset
            .saturating_add(i64::from(h.last_offset_delta))
            .saturating_add(1);
        Ok((info, required, epoch))
    }

    /// Waits until the high watermark reaches `required` while this replica leads in
    /// `leader_epoch`, at most `timeout`: NONE, NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR
    /// shrank below `min.insync.replicas` meanwhile (as Kafka answers), NOT_LEADER_OR_FOLLOWER
    /// if leadership moved, REQUEST_TIMED_OUT. Holds no lock while it waits.
    pub async fn wait_committed(&self, required: i64, leader_epoch: i32, timeout: Duration) -> i16 {
        let mut rx = self.progress.subscribe();
        let done = tokio::time::timeout(
            timeout,
            rx.wait_for(|p| p.high_watermark >= required || p.leader_epoch != leader_epoch),
        )
        .await;
        match done {
            Err(_) => ec::REQUEST_TIMED_OUT,
            Ok(Err(_)) => ec::NOT_LEADER_OR_FOLLOWER,
            Ok(Ok(p)) if p.high_watermark >= required && p.leader_epoch == leader_epoch => {
                let s = self.lock();
                match &s.role {
                    Role::Leader(l) if !l.enough_replicas(s.min_insync_replicas) => {
                        ec::NOT_ENOUGH_REPLICAS_AFTER_APPEND
                    }
                    _ => ec::NONE,
                }
            }
            Ok(Ok(_)) => ec::NOT_LEADER_OR_FOLLOWER,
        }
    }

    /// A follower's fetch from `fetch_offset` reached this leader at `now_ms`: records its
    /// progress, publishes a high watermark that moved, and returns an ISR expansion to
    /// propose and whether the fetch is throttled (the partition is leader-throttled here
    /// and the follower is not in the ISR, as Kafka's `shouldLeaderThrottle` decides before
    /// the quota is looked at). NOT_LEADER_OR_FOLLOWER if this replica does not lead or
    /// `replica` is not one of the partition's replicas.
    pub fn on_follower_fetch(
        &self,
        replica: i32,
        fetch_offset: i64,
        now_ms: i64,
    ) -> Result<(Option<IsrProposal>, bool), i16> {
        let mut s = self.lock();
        let leader_throttled = s.leader_throttled;
        let topic_id = s.topic_id;
        let Role::Leader(l) = &mut s.role else {
            return Err(ec::NOT_LEADER_OR_FOLLOWER);
        };
        if !l.followers.contains_key(&replica) {
            return Err(ec::NOT_LEADER_OR_FOLLOWER);
        }
        let (hw, isr) = l.on_follower_fetch(replica, fetch_offset, now_ms);
        let throttled = leader_throttled && !l.isr.contains(&replica);
        let proposal = isr.map(|isr| IsrProposal {
            topic_id,
            partition: self.tp.partition,
            leader_epoch: l.leader_epoch,
            partition_epoch: l.partition_epoch,
            isr,
        });
        drop(s);
        self.publish(hw);
        Ok((proposal, throttled))
    }

    /// Followers lagging for longer than `lag_max_ms`: the ISR to propose without them.
    pub fn shrink(&self, now_ms: i64, lag_max_ms: i64) -> Option<IsrProposal> {
        let mut s = self.lock();
        let topic_id = s.topic_id;
        let Role::Leader(l) = &mut s.role else {
            return None;
        };
        let isr = l.shrink(now_ms, lag_max_ms)?;
        Some(IsrProposal {
            topic_id,
            partition: self.tp.partition,
            leader_epoch: l.leader_epoch,
            partition_epoch: l.partition_epoch,
            isr,
        })
    }

    /// The controller answered a proposal: `Ok` with the partition as committed, or `Err`
    /// (refused: the image will bring the current state). Either ends the change in flight.
    pub fn isr_answered(&self, proposal: &IsrProposal, committed: Option<&PartitionMeta>) {
        let mut s = self.lock();
        let Role::Leader(l) = &mut s.role else {
            return;
        };
        if l.leader_epoch != proposal.leader_epoch {
            return;
        }
        let hw = match committed {
            Some(p) if p.leader_epoch == l.leader_epoch => {
                // The change may have completed a reassignment (the replicas changed too).
                if p.partition_epoch > l.partition_epoch {
                    l.set_replicas(p.replicas.clone(), super::now_ms());
                }
                l.on_isr_committed(p.isr.clone(), p.partition_epoch)
            }
            _ => {
                l.pending = None;
                None
            }
        };
        drop(s);
        self.publish(hw);
    }
}

/// KIP-320's check of a request's `current_leader_epoch` against the leader's `epoch`.
pub fn epoch_check(epoch: i32, current_leader_epoch: i32) -> Result<(), i16> {
    if current_leader_epoch < 0 || current_leader_epoch == epoch {
        Ok(())
    } else if current_leader_epoch < epoch {
        Err(ec::FENCED_LEADER_EPOCH)
    } else {
        Err(ec::UNKNOWN_LEADER_EPOCH)
    }
}
