//! Which `__consumer_offsets` partitions this broker's group coordinator holds, and what to
//! do when leaderships change. Pure: the caller reads the leaderships (partition -> leader
//! epoch of every partition this broker leads) and carries out the plan.
//!
//! Rules (Kafka's `onElection` / `onResignation`):
//! - a partition led here and not held, or held from another leader epoch, is (re)loaded:
//!   a new epoch means leadership went away and came back, and the log may hold records this
//!   broker never saw as coordinator;
//! - a held partition no longer led here, or led in another epoch, is unloaded first;
//! - while a partition loads its groups answer COORDINATOR_LOAD_IN_PROGRESS; groups of a
//!   partition not held answer NOT_COORDINATOR.

use std::collections::BTreeMap;

use crate::protocol::error_code as ec;

/// A held partition: the leader epoch it was loaded for, and whether loading finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub epoch: i32,
    pub loaded: bool,
}

/// What to do: partitions to unload, then (partition, epoch) to load.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub unload: Vec<i32>,
    pub load: Vec<(i32, i32)>,
}

/// Compares what is held with what is led now.
pub fn plan(held: &BTreeMap<i32, Held>, led: &BTreeMap<i32, i32>) -> Plan {
    let mut p = Plan::default();
    for (partition, h) in held {
        if led.get(partition) != Some(&h.epoch) {
            p.unload.push(*partition);
        }
    }
    for (partition, epoch) in led {
        if held.get(partition).map(|h| h.epoch) != Some(*epoch) {
            p.load.push((*partition, *epoch));
        }
    }
    p
}

impl Plan {
    /// Marks the partitions to load as held and loading (after the unloads are done).
    pub fn mark_loading(&self, held: &mut BTreeMap<i32, Held>) {
        for &(partition, epoch) in &self.load {
            let loaded = false;
            held.insert(partition, Held { epoch, loaded });
        }
    }
}

/// Whether the groups of `partition` are served here: Ok(epoch) when loaded,
/// COORDINATOR_LOAD_IN_PROGRESS while loading, NOT_COORDINATOR when not held.
pub fn status(held: &BTreeMap<i32, Held>, partition: i32) -> Result<i32, i16> {
    match held.get(&partition) {
        None => Err(ec::NOT_COORDINATOR),
        Some(h) if !h.loaded => Err(ec::COORDINATOR_LOAD_IN_PROGRESS),
        Some(h) => Ok(h.epoch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(v: &[(i32, i32, bool)]) -> BTreeMap<i32, Held> {
        v.iter()
            .map(|&(p, epoch, loaded)| (p, Held { epoch, loaded }))
            .collect()
    }

    fn led(v: &[(i32, i32)]) -> BTreeMap<i32, i32> {
        v.iter().copied().collect()
    }

    #[test]
    fn plans() {
        // (held, led, unload, load)
        type Row = (
            &'static [(i32, i32, bool)],
            &'static [(i32, i32)],
            &'static [i32],
            &'static [(i32, i32)],
        );
        let table: &[Row] = &[
            // Nothing either way.
            (&[], &[], &[], &[]),
            // Becoming leader: load.
            (&[], &[(0, 1), (7, 3)], &[], &[(0, 1), (7, 3)]),
            // Same epoch, loaded or still loading: nothing.
            (&[(0, 1, true), (7, 3, false)], &[(0, 1), (7, 3)], &[], &[]),
            // Leadership lost: unload.
            (&[(0, 1, true), (7, 3, true)], &[(7, 3)], &[0], &[]),
            // Lost while loading: unload too (the load's result is discarded).
            (&[(4, 2, false)], &[], &[4], &[]),
            // Away and back in a new epoch: unload and load again.
            (&[(0, 1, true)], &[(0, 5)], &[0], &[(0, 5)]),
            // Mixed.
            (
                &[(1, 1, true), (2, 2, true), (3, 3, false)],
                &[(2, 2), (3, 4), (9, 1)],
                &[1, 3],
                &[(3, 4), (9, 1)],
            ),
        ];
        for (i, (h, l, unload, load)) in table.iter().enumerate() {
            let p = plan(&held(h), &led(l));
            assert_eq!(p.unload, unload.to_vec(), "row {i}: unload");
            assert_eq!(p.load, load.to_vec(), "row {i}: load");
            // Applied, the plan leaves exactly the led partitions held, in their epochs;
            // those to load are marked loading, the others keep their state.
            let mut after = held(h);
            for u in &p.unload {
                after.remove(u);
            }
            p.mark_loading(&mut after);
            let epochs: BTreeMap<i32, i32> = after.iter().map(|(k, v)| (*k, v.epoch)).collect();
            assert_eq!(epochs, led(l), "row {i}: held after");
            for (partition, state) in &after {
                let fresh = p.load.iter().any(|(q, _)| q == partition);
                let before = held(h).get(partition).map(|s| s.loaded);
                let expected = if fresh { false } else { before.unwrap() };
                assert_eq!(state.loaded, expected, "row {i}: partition {partition}");
            }
        }
    }

    #[test]
    fn statuses() {
        let h = held(&[(0, 4, true), (1, 2, false)]);
        assert_eq!(status(&h, 0), Ok(4));
        assert_eq!(status(&h, 1), Err(ec::COORDINATOR_LOAD_IN_PROGRESS));
        assert_eq!(status(&h, 2), Err(ec::NOT_COORDINATOR));
    }
}
