//! Kafka-style replica placement for CreateTopics and CreatePartitions.
//!
//! Pure code: no I/O, no clock, no randomness. Equal inputs give equal outputs, whatever the
//! order of the broker list.
//!
//! Invariants of every placement returned by [`place`]:
//! - each partition has exactly `rf` replicas, all among the given live brokers, no broker
//!   twice;
//! - racks: a broker without `broker.rack` is a rack of its own (it shares a rack with no other
//!   broker). The replicas of a partition sit on `min(rf, racks)` distinct racks: a rack is
//!   reused only once every rack holds one of the partition's replicas;
//! - leaders: the first replica of each partition is a broker with the fewest leaders, counting
//!   `load` and the partitions placed before it in the same call (ties: fewest replicas, then
//!   ring order from the previous leader). So leader counts that are within 1 of each other
//!   before a call still are after it, whatever the racks, and each round of leaders takes
//!   every broker once; from an uneven `load` the least-loaded brokers are filled first;
//! - followers: among the brokers the rack rule allows, one with the fewest replicas (up to
//!   `REPLICA_SLACK` more counting as equal); ties go round the ring of brokers from the
//!   leader, starting further on each time that leader leads again, so that one broker's
//!   followers do not all land on the same other broker.
//!
//! The ring alternates racks as Kafka's rack-aware assignment does. Replica counts are kept
//! close but, unlike leader counts, not within a proven bound: with uneven racks they cannot be
//! (at rf 3 on racks a,a,b,b,c the one broker of rack c holds every partition); the tests check
//! they stay within 2 on rack-balanced clusters.

use std::collections::{BTreeMap, BTreeSet};

/// A broker that can take replicas: its id and `broker.rack`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerSlot {
    pub id: i32,
    pub rack: Option<String>,
}

/// Why a placement or a manual assignment is refused, with the message Kafka gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlacementError {
    /// INVALID_REPLICATION_FACTOR: rf <= 0 or rf > number of brokers. Message like Kafka's:
    /// "Unable to replicate the partition {rf} time(s): The target replication factor of {rf}
    /// cannot be reached because only {n} broker(s) are registered."
    /// and for rf <= 0 "Replication factor must be larger than 0, or -1 to use the default value."
    ReplicationFactor(String),
    /// INVALID_REPLICA_ASSIGNMENT with a message.
    Assignment(String),
}

/// Current load, so that successive topics spread evenly: how many partitions each broker
/// leads and how many replicas it holds, over the whole cluster.
///
/// A broker missing from a map counts as 0; entries for brokers that are not live are ignored
/// by [`place`].
#[derive(Debug, Clone, Default)]
pub struct Load {
    pub leaders: BTreeMap<i32, u32>,
    pub replicas: BTreeMap<i32, u32>,
}

/// Adds a placement (replica lists, first replica leading) to `load`: one leader for the first
/// replica of each non-empty list and one replica for every entry. Counts saturate at `u32::MAX`.
pub fn add_to_load(load: &mut Load, placement: &[Vec<i32>]) {
    for replicas in placement {
        if let Some(&leader) = replicas.first() {
            let count = load.leaders.entry(leader).or_insert(0);
            *count = count.saturating_add(1);
        }
        for &broker in replicas {
            let count = load.replicas.entry(broker).or_insert(0);
            *count = count.saturating_add(1);
        }
    }
}

/// The live brokers in ring order, with their load as it grows during one [`place`] call.
///
/// The ring alternates racks like Kafka's rack-aware assignment: named racks sorted by name,
/// then brokers without a rack (each its own rack) by id; round `r` takes the `r`-th broker
/// (by id) of every rack that has one. Without racks the ring is the brokers sorted by id.
struct Ring {
    nodes: Vec<Node>,
}

/// One broker on the ring.
struct Node {
    id: i32,
    /// Rack number; equal numbers mean the same rack.
    rack: usize,
    leaders: u32,
    replicas: u32,
}

impl Ring {
    fn new(brokers: &[BrokerSlot], load: &Load) -> Ring {
        let mut sorted: Vec<&BrokerSlot> = brokers.iter().collect();
        sorted.sort_by_key(|b| b.id);
        sorted.dedup_by_key(|b| b.id);
        let mut named: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
        let mut unnamed: Vec<Vec<i32>> = Vec::new();
        for broker in sorted {
            match &broker.rack {
                Some(rack) => named.entry(rack.as_str()).or_default().push(broker.id),
                None => unnamed.push(vec![broker.id]),
            }
        }
        let groups: Vec<Vec<i32>> = named.into_values().chain(unnamed).collect();
        let rounds = groups.iter().map(Vec::len).max().unwrap_or(0);
        let count = |map: &BTreeMap<i32, u32>, id: i32| map.get(&id).copied().unwrap_or(0);
        let mut nodes = Vec::new();
        for round in 0..rounds {
            for (rack, group) in groups.iter().enumerate() {
                if let Some(&id) = group.get(round) {
                    let leaders = count(&load.leaders, id);
                    let replicas = count(&load.replicas, id);
                    nodes.push(Node {
                        id,
                        rack,
                        leaders,
                        replicas,
                    });
                }
            }
        }
        Ring { nodes }
    }

    /// Ring position of the next leader: fewest leaders, then fewest replicas, then the first
    /// position at or after `cursor`. `None` on an empty ring.
    fn pick_leader(&self, cursor: usize) -> Option<usize> {
        let n = self.nodes.len();
        let after_cursor = |i: usize| (i + n - cursor % n) % n;
        let (i, _) = self
            .nodes
            .iter()
            .enumerate()
            .min_by_key(|&(i, node)| (node.leaders, node.replicas, after_cursor(i)))?;
        Some(i)
    }

    /// Ring position of the next follower of a partition whose replicas so far are `chosen`
    /// (ring positions, the leader first), with the size of the pool it was taken from; `None`
    /// when every broker is taken.
    ///
    /// The pool is the brokers not in `chosen`, narrowed to those on a rack the partition does
    /// not use yet when there are any (so racks are used before any is reused), ordered by ring
    /// distance from the leader. The pick is the broker with the fewest replicas, counts up to
    /// `REPLICA_SLACK` above the pool's least being taken as equal, then the first one from
    /// position `shift` of the pool on.
    fn pick_follower(&self, chosen: &[usize], shift: usize) -> Option<(usize, usize)> {
        let n = self.nodes.len();
        let leader = *chosen.first()?;
        let used: BTreeSet<usize> = chosen
            .iter()
            .filter_map(|&i| self.nodes.get(i))
            .map(|node| node.rack)
            .collect();
        let free = || {
            let nodes = self.nodes.iter().enumerate();
            nodes.filter(|(i, _)| !chosen.contains(i))
        };
        let mut pool: Vec<(usize, &Node)> = free()
            .filter(|(_, node)| !used.contains(&node.rack))
            .collect();
        if pool.is_empty() {
            pool = free().collect();
        }
        pool.sort_by_key(|&(i, _)| (i + n - leader) % n);
        let least = pool.iter().map(|(_, node)| node.replicas).min()?;
        let floor = least.saturating_add(REPLICA_SLACK);
        let len = pool.len();
        let start = shift % len;
        let (_, &(i, _)) = pool
            .iter()
            .enumerate()
            .min_by_key(|&(k, (_, node))| (node.replicas.max(floor), (k + len - start) % len))?;
        Some((i, len))
    }

    /// Counts a placed partition (ring positions, the leader first) and returns its broker ids.
    fn record(&mut self, chosen: &[usize]) -> Vec<i32> {
        if let Some(leader) = chosen.first().and_then(|&i| self.nodes.get_mut(i)) {
            leader.leaders = leader.leaders.saturating_add(1);
        }
        let mut ids = Vec::with_capacity(chosen.len());
        for &i in chosen {
            if let Some(node) = self.nodes.get_mut(i) {
                node.replicas = node.replicas.saturating_add(1);
                ids.push(node.id);
            }
        }
        ids
    }
}

/// How many replicas above the least-loaded candidate a follower candidate may hold and still
/// count as least loaded. 0 would let replica counts alone decide, which ties followers to
/// leaders (the same broker follows the same leader topic after topic); 1 lets the shift
/// rotate followers while keeping replica counts close.
const REPLICA_SLACK: u32 = 1;

fn check_replication_factor(rf: i32, brokers: usize) -> Result<usize, PlacementError> {
    if rf <= 0 {
        return Err(PlacementError::ReplicationFactor(
            "Replication factor must be larger than 0, or -1 to use the default value.".into(),
        ));
    }
    match usize::try_from(rf) {
        Ok(wanted) if wanted <= brokers => Ok(wanted),
        _ => Err(PlacementError::ReplicationFactor(format!(
            "Unable to replicate the partition {rf} time(s): The target replication factor of \
             {rf} cannot be reached because only {brokers} broker(s) are registered."
        ))),
    }
}

/// Replica lists for `count` new partitions (the first replica of each is its preferred leader).
/// `brokers`: the live (unfenced) brokers, any order. Deterministic for equal inputs.
///
/// A broker id listed twice counts once, with the rack of its first listing. Refuses
/// `rf <= 0` and `rf` above the number of distinct brokers with
/// [`PlacementError::ReplicationFactor`], even when `count` is 0. See the module documentation
/// for the invariants of the result. Work grows as `count * rf * brokers * log(brokers)`; the
/// caller bounds `count`.
pub fn place(
    brokers: &[BrokerSlot],
    count: usize,
    rf: i32,
    load: &Load,
) -> Result<Vec<Vec<i32>>, PlacementError> {
    let mut ring = Ring::new(brokers, load);
    let rf = check_replication_factor(rf, ring.nodes.len())?;
    let mut placement = Vec::new();
    let mut cursor = 0;
    for _ in 0..count {
        let Some(leader) = ring.pick_leader(cursor) else {
            break;
        };
        cursor = leader + 1;
        // The k-th partition a broker leads (k counted over the whole cluster) takes its
        // followers at k written in mixed radix over the pool sizes: the first follower
        // rotates fastest, the next one each time the first has gone round its pool.
        let led = ring.nodes.get(leader).map_or(0, |node| node.leaders);
        let mut shift = usize::try_from(led).unwrap_or(usize::MAX);
        let mut chosen = vec![leader];
        while chosen.len() < rf {
            let Some((follower, pool)) = ring.pick_follower(&chosen, shift) else {
                break;
            };
            chosen.push(follower);
            shift /= pool.max(1);
        }
        placement.push(ring.record(&chosen));
    }
    Ok(placement)
}

/// Checks a manual assignment (CreateTopics' or CreatePartitions' `assignments`): every list
/// non-empty, no broker twice in one list, every broker id in `known` (registered brokers,
/// fenced or not), all lists the same length, and when `rf` is Some(n) that length equals n.
///
/// Lists are checked in order, each like Kafka's `validateManualPartitionAssignment`: empty
/// list, then its brokers in ascending id order (unknown, then repeated), then its length
/// against `rf`, or without `rf` against the first list's length. The first fault found is
/// returned as [`PlacementError::Assignment`] with Kafka's message. An empty `assignment` is
/// accepted.
pub fn validate_assignment(
    known: &[i32],
    assignment: &[Vec<i32>],
    rf: Option<usize>,
) -> Result<(), PlacementError> {
    let refuse = |fault: String| {
        let message = format!("The manual partition assignment includes {fault}");
        Err(PlacementError::Assignment(message))
    };
    let expected = rf.or_else(|| assignment.first().map(Vec::len));
    for replicas in assignment {
        if replicas.is_empty() {
            return refuse("an empty replica list.".into());
        }
        let mut sorted = replicas.clone();
        sorted.sort_unstable();
        let mut previous = None;
        for &broker in &sorted {
            if !known.contains(&broker) {
                return refuse(format!(
                    "broker {broker}, but no such broker is registered."
                ));
            }
            if previous == Some(broker) {
                return refuse(format!("the broker {broker} more than once."));
            }
            previous = Some(broker);
        }
        if let Some(expected) = expected.filter(|&e| e != replicas.len()) {
            return refuse(format!(
                "a partition with {} replica(s), but this is not consistent with previous \
                 partitions, which have {expected} replica(s).",
                replicas.len()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Clusters the tests run on, one letter per broker 1, 2, ...: its rack, `-` for none.
    const CLUSTERS: &[&str] = &[
        "---", "-----", "aaa", "aaaaa", "aabb", "ababb", "xyz", "cbacba", "aabbc", "a-b--",
    ];

    /// Whether every rack has as many brokers (a broker without a rack being a rack of one).
    fn rack_balanced(brokers: &[BrokerSlot]) -> bool {
        let mut sizes: BTreeMap<String, usize> = BTreeMap::new();
        for broker in brokers {
            *sizes.entry(rack_of(brokers, broker.id)).or_default() += 1;
        }
        sizes.values().min() == sizes.values().max()
    }

    fn cluster(racks: &str) -> Vec<BrokerSlot> {
        let rack = |c: char| (c != '-').then(|| c.to_string());
        (1..)
            .zip(racks.chars())
            .map(|(id, c)| BrokerSlot { id, rack: rack(c) })
            .collect()
    }

    /// The rack of a broker, a broker without one being its own rack.
    fn rack_of(brokers: &[BrokerSlot], id: i32) -> String {
        let slot = brokers.iter().find(|b| b.id == id);
        slot.and_then(|b| b.rack.clone())
            .unwrap_or_else(|| format!("#{id}"))
    }

    /// Asserts the per-partition invariants: `rf` replicas, all live, no broker twice, and
    /// `min(rf, racks)` distinct racks (so at rf 3 on racks a,a,b,b,c every partition holds
    /// broker 5, the only one of rack c).
    fn check_partitions(what: &str, brokers: &[BrokerSlot], placement: &[Vec<i32>], rf: usize) {
        let racks: BTreeSet<String> = brokers.iter().map(|b| rack_of(brokers, b.id)).collect();
        for (p, replicas) in placement.iter().enumerate() {
            assert_eq!(replicas.len(), rf, "{what} p{p}: {replicas:?}");
            let distinct: BTreeSet<i32> = replicas.iter().copied().collect();
            assert_eq!(distinct.len(), rf, "{what} p{p}: twice in {replicas:?}");
            let live = replicas
                .iter()
                .all(|id| brokers.iter().any(|b| b.id == *id));
            assert!(live, "{what} p{p}: unknown broker in {replicas:?}");
            let used: BTreeSet<String> = replicas.iter().map(|&id| rack_of(brokers, id)).collect();
            let want = rf.min(racks.len());
            assert_eq!(used.len(), want, "{what} p{p}: rack reused in {replicas:?}");
        }
    }

    /// Largest minus smallest count over the given brokers (missing = 0).
    fn spread(counts: &BTreeMap<i32, u32>, brokers: &[BrokerSlot]) -> u32 {
        let count = |b: &BrokerSlot| counts.get(&b.id).copied().unwrap_or(0);
        let (min, max) = (
            brokers.iter().map(count).min(),
            brokers.iter().map(count).max(),
        );
        max.unwrap_or(0) - min.unwrap_or(0)
    }

    /// 50 topic sizes in 1..=12, from a fixed linear congruential sequence.
    fn topic_sizes() -> Vec<usize> {
        let mut seed: u32 = 12345;
        let mut next = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (seed >> 16) as usize % 12 + 1
        };
        (0..50).map(|_| next()).collect()
    }

    #[test]
    fn refuses_a_replication_factor_out_of_range() {
        let non_positive =
            "Replication factor must be larger than 0, or -1 to use the default value.";
        let too_many = |rf: i32, n: usize| {
            format!(
                "Unable to replicate the partition {rf} time(s): The target replication factor \
                 of {rf} cannot be reached because only {n} broker(s) are registered."
            )
        };
        let cases: Vec<(&str, i32, String)> = vec![
            ("---", 0, non_positive.into()),
            ("---", -1, non_positive.into()),
            ("-----", i32::MIN, non_positive.into()),
            ("---", 4, too_many(4, 3)),
            ("-----", 6, too_many(6, 5)),
            ("aabbc", i32::MAX, too_many(i32::MAX, 5)),
            ("", 1, too_many(1, 0)),
        ];
        for (racks, rf, message) in cases {
            for count in [0, 3] {
                let got = place(&cluster(racks), count, rf, &Load::default());
                let want = Err(PlacementError::ReplicationFactor(message.clone()));
                assert_eq!(got, want, "{racks} rf={rf}");
            }
        }
        // A broker listed twice is one broker.
        let twice = [cluster("--"), cluster("-")].concat();
        let (load, too_few) = (Load::default(), too_many(3, 2));
        assert_eq!(
            place(&twice, 1, 3, &load),
            Err(PlacementError::ReplicationFactor(too_few))
        );
        assert_eq!(place(&twice, 1, 2, &load).map(|p| p.len()), Ok(1));
    }

    #[test]
    fn every_partition_takes_distinct_brokers_and_racks_before_reuse() {
        for &racks in CLUSTERS {
            let brokers = cluster(racks);
            for rf in 1..=3 {
                for count in [1, brokers.len(), 12] {
                    let placement = place(&brokers, count, rf, &Load::default());
                    let placement = placement.unwrap_or_else(|e| panic!("{racks}: {e:?}"));
                    assert_eq!(placement.len(), count, "{racks} rf={rf}");
                    let what = format!("{racks} rf={rf}");
                    check_partitions(&what, &brokers, &placement, rf as usize);
                }
            }
        }
    }

    /// Exact placements on an empty cluster: each round of leaders takes every broker once,
    /// the next leader being the broker with the fewest replicas so far; followers follow the
    /// leader on the ring, one broker further each time that leader leads again.
    #[test]
    fn first_topic_goes_round_robin() {
        let cases: &[(&str, i32, &[&[i32]])] = &[
            ("---", 3, &[&[1, 2, 3], &[2, 3, 1], &[3, 1, 2]]),
            ("---", 2, &[&[1, 2], &[3, 1], &[2, 3], &[3, 2]]),
            ("-----", 1, &[&[1], &[2], &[3], &[4], &[5]]),
            (
                "-----",
                2,
                &[
                    &[1, 2],
                    &[3, 4],
                    &[5, 1],
                    &[2, 3],
                    &[4, 5],
                    &[5, 2],
                    &[1, 3],
                ],
            ),
            (
                "aabbc",
                3,
                &[&[1, 3, 5], &[2, 4, 5], &[4, 1, 5], &[3, 2, 5], &[5, 2, 4]],
            ),
            ("aabbc", 2, &[&[1, 3], &[5, 2], &[4, 1], &[3, 5], &[2, 4]]),
        ];
        for &(racks, rf, expected) in cases {
            let got = place(&cluster(racks), expected.len(), rf, &Load::default());
            let expected: Vec<Vec<i32>> = expected.iter().map(|r| r.to_vec()).collect();
            assert_eq!(got, Ok(expected), "{racks} rf={rf}");
        }
    }

    #[test]
    fn leaders_start_at_the_least_loaded_brokers() {
        let mut load = Load::default();
        add_to_load(&mut load, &[vec![1, 2], vec![1, 3], vec![2, 1]]);
        let placement = place(&cluster("---"), 3, 2, &load).unwrap_or_default();
        let leaders: Vec<i32> = placement
            .iter()
            .filter_map(|r| r.first().copied())
            .collect();
        assert_eq!(leaders, [3, 2, 3]);
        add_to_load(&mut load, &placement);
        assert_eq!(load.leaders, BTreeMap::from([(1, 2), (2, 2), (3, 2)]));
    }

    /// 50 topics of 1 to 12 partitions placed one after another with the load carried over.
    /// After every topic: leader counts within 1 of each other on every cluster (a placer
    /// that ignored `load` would give broker 1 every single-partition topic); on rack-balanced
    /// clusters replica counts within 2 of each other.
    #[test]
    fn many_topics_keep_leaders_within_one_and_replicas_within_two() {
        let mut balanced_clusters = 0;
        for &racks in CLUSTERS {
            let brokers = cluster(racks);
            let balanced = rack_balanced(&brokers);
            balanced_clusters += usize::from(balanced);
            for rf in 1..=3 {
                let mut load = Load::default();
                let mut partitions = 0;
                for (t, count) in topic_sizes().into_iter().enumerate() {
                    let what = format!("{racks} rf={rf} topic {t}");
                    let placement = place(&brokers, count, rf, &load).unwrap_or_default();
                    assert_eq!(placement.len(), count, "{what}");
                    check_partitions(&what, &brokers, &placement, rf as usize);
                    add_to_load(&mut load, &placement);
                    partitions += count as u32;
                    let (leaders, replicas) = (&load.leaders, &load.replicas);
                    assert!(spread(leaders, &brokers) <= 1, "{what}: {leaders:?}");
                    let replicas_ok = !balanced || spread(replicas, &brokers) <= 2;
                    assert!(replicas_ok, "{what}: {replicas:?}");
                }
                let (leaders, replicas) = (&load.leaders, &load.replicas);
                assert_eq!(leaders.values().sum::<u32>(), partitions, "{racks} rf={rf}");
                assert_eq!(replicas.values().sum::<u32>(), partitions * rf as u32);
            }
        }
        // All but "ababb" and "aabbc" have racks of equal size.
        assert_eq!(balanced_clusters, CLUSTERS.len() - 2);
    }

    /// Over the 50 topics: at rf 2 on rack-balanced clusters every (leader, follower) pair
    /// allowed by the racks occurs, each within 1 as often as any other; at rf 3 on 5 brokers
    /// without racks within 4 (about 33 each), on racks c,b,a,c,b,a within 12 (about 27 each;
    /// 29 if the second follower rotated with the first). Without the shift one broker would
    /// follow a given leader every time.
    #[test]
    fn followers_of_a_leader_spread_over_the_other_brokers() {
        let cases: &[(&str, i32, u32)] = &[
            ("---", 2, 1),
            ("-----", 2, 1),
            ("aabb", 2, 1),
            ("cbacba", 2, 1),
            ("-----", 3, 4),
            ("cbacba", 3, 12),
        ];
        for &(racks, rf, bound) in cases {
            let brokers = cluster(racks);
            let mut load = Load::default();
            let mut pairs: BTreeMap<(i32, i32), u32> = BTreeMap::new();
            for count in topic_sizes() {
                let placement = place(&brokers, count, rf, &load).unwrap_or_default();
                for replicas in &placement {
                    for &follower in replicas.iter().skip(1) {
                        *pairs.entry((replicas[0], follower)).or_insert(0) += 1;
                    }
                }
                add_to_load(&mut load, &placement);
            }
            let mut counts = Vec::new();
            for a in &brokers {
                for b in brokers
                    .iter()
                    .filter(|b| rack_of(&brokers, b.id) != rack_of(&brokers, a.id))
                {
                    counts.push(pairs.get(&(a.id, b.id)).copied().unwrap_or(0));
                }
            }
            let min = counts.iter().min().copied().unwrap_or(0);
            let max = counts.iter().max().copied().unwrap_or(0);
            assert!(min > 0 && max - min <= bound, "{racks} rf={rf}: {pairs:?}");
        }
    }

    #[test]
    fn same_answer_whatever_the_broker_order() {
        let brokers = cluster("aabbc");
        let mut shuffled: Vec<BrokerSlot> = brokers.iter().rev().cloned().collect();
        shuffled.push(brokers[2].clone());
        let mut load = Load::default();
        add_to_load(&mut load, &[vec![3, 1], vec![5, 2]]);
        for rf in 1..=3 {
            let a = place(&brokers, 7, rf, &load);
            assert!(matches!(&a, Ok(p) if p.len() == 7));
            assert_eq!(a, place(&shuffled, 7, rf, &load), "rf={rf}");
        }
    }

    #[test]
    fn add_to_load_counts_leaders_and_replicas() {
        let mut load = Load::default();
        add_to_load(&mut load, &[vec![1, 2, 3], vec![2, 3], vec![], vec![1]]);
        assert_eq!(load.leaders, BTreeMap::from([(1, 2), (2, 1)]));
        assert_eq!(load.replicas, BTreeMap::from([(1, 2), (2, 2), (3, 2)]));
        load.leaders.insert(1, u32::MAX);
        add_to_load(&mut load, &[vec![1]]);
        assert_eq!(load.leaders.get(&1), Some(&u32::MAX));
    }

    #[test]
    fn validate_assignment_gives_kafkas_messages() {
        let prefix = "The manual partition assignment includes";
        let unknown = |b: i32| format!("{prefix} broker {b}, but no such broker is registered.");
        let twice = |b: i32| format!("{prefix} the broker {b} more than once.");
        let empty = format!("{prefix} an empty replica list.");
        let mismatch = |got: usize, want: usize| {
            format!(
                "{prefix} a partition with {got} replica(s), but this is not consistent with \
                 previous partitions, which have {want} replica(s)."
            )
        };
        type Case<'a> = (&'a [&'a [i32]], Option<usize>, Option<String>);
        let cases: Vec<Case> = vec![
            (&[&[1, 2], &[3, 4], &[2, 1]], None, None),
            (&[&[1, 2, 3]], Some(3), None),
            (&[], Some(2), None),
            (&[&[1, 5]], None, Some(unknown(5))),
            (&[&[9, 9]], None, Some(unknown(9))),
            (&[&[1, 2], &[3, 3]], None, Some(twice(3))),
            (&[&[1, 2], &[]], None, Some(empty)),
            (&[&[1, 2], &[3, 4, 1]], None, Some(mismatch(3, 2))),
            (&[&[1], &[2, 3]], None, Some(mismatch(2, 1))),
            (&[&[1, 2], &[3, 4]], Some(3), Some(mismatch(2, 3))),
        ];
        for (assignment, rf, message) in cases {
            let lists: Vec<Vec<i32>> = assignment.iter().map(|l| l.to_vec()).collect();
            let want = message.map_or(Ok(()), |m| Err(PlacementError::Assignment(m)));
            let got = validate_assignment(&[1, 2, 3, 4], &lists, rf);
            assert_eq!(got, want, "{lists:?} rf={rf:?}");
        }
    }
}
