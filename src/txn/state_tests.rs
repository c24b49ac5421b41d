//! Tables of the coordinator's transitions: (state, request) -> next state or Kafka's error.

use super::*;

const PID: i64 = 1000;
const NOW: i64 = 50_000;

fn meta(state: TxnState, epoch: i16) -> TxnMeta {
    let mut m = TxnMeta::new("tx", PID, 60_000, 1_000);
    m.state = state;
    m.producer_epoch = epoch;
    if !matches!(state, TxnState::Empty) && !state.is_idle() {
        m.partitions.insert(("t".into(), 0));
        m.start_ms = 2_000;
    }
    m
}

fn parts(list: &[(&str, i32)]) -> BTreeSet<(String, i32)> {
    list.iter().map(|(t, p)| (t.to_string(), *p)).collect()
}

fn written(step: Result<Step, i16>) -> TxnMeta {
    match step {
        Ok(Step::Write(m)) => m,
        other => panic!("expected a write, got {other:?}"),
    }
}

#[test]
fn init_producer_id_table() {
    use TxnState::*;
    let req = |expected| InitRequest {
        timeout_ms: 30_000,
        expected,
    };
    // (state, epoch, expected, fresh, result: Ok((state, epoch, last epoch)) / Err(code))
    type Row = (
        TxnState,
        i16,
        Option<(i64, i16)>,
        Option<i64>,
        Result<(TxnState, i16, i16), i16>,
    );
    let table: &[Row] = &[
        (Empty, 0, None, None, Ok((Empty, 1, NO_EPOCH))),
        (CompleteCommit, 4, None, None, Ok((Empty, 5, NO_EPOCH))),
        (CompleteAbort, 4, None, None, Ok((Empty, 5, NO_EPOCH))),
        // KIP-360: the client holds the current epoch: bump and remember it.
        (CompleteAbort, 4, Some((PID, 4)), None, Ok((Empty, 5, 4))),
        // Another producer id, or an old epoch that is not the last one: fenced.
        (
            CompleteAbort,
            4,
            Some((PID + 1, 4)),
            None,
            Err(ec::PRODUCER_FENCED),
        ),
        (
            CompleteAbort,
            4,
            Some((PID, 2)),
            None,
            Err(ec::PRODUCER_FENCED),
        ),
        (
            PrepareCommit,
            4,
            None,
            None,
            Err(ec::CONCURRENT_TRANSACTIONS),
        ),
        (
            PrepareAbort,
            4,
            None,
            None,
            Err(ec::CONCURRENT_TRANSACTIONS),
        ),
        // An Ongoing transaction is fenced: abort with epoch + 1.
        (Ongoing, 4, None, None, Ok((PrepareAbort, 5, NO_EPOCH))),
        // Exhausted epoch: a new producer id at epoch 0.
        (
            Empty,
            i16::MAX - 1,
            None,
            Some(2000),
            Ok((Empty, 0, NO_EPOCH)),
        ),
    ];
    for (i, (state, epoch, expected, fresh, want)) in table.iter().enumerate() {
        let m = meta(*state, *epoch);
        let got = TxnMeta::init_producer_id(Some(&m), "tx", req(*expected), *fresh, NOW);
        let got = got.map(|s| match s {
            Step::Write(n) | Step::FenceAndAbort(n) => {
                (n.state, n.producer_epoch, n.last_producer_epoch)
            }
            other => panic!("row {i}: {other:?}"),
        });
        assert_eq!(&got, want, "row {i}");
    }
}

#[test]
fn a_retried_init_returns_the_same_epoch() {
    let m = meta(TxnState::CompleteCommit, 4);
    let req = InitRequest {
        timeout_ms: 1000,
        expected: Some((PID, 4)),
    };
    let first = written(TxnMeta::init_producer_id(Some(&m), "tx", req, None, NOW));
    assert_eq!((first.producer_epoch, first.last_producer_epoch), (5, 4));
    // The answer was lost; the client retries with the epoch it held.
    let again = written(TxnMeta::init_producer_id(
        Some(&first),
        "tx",
        req,
        None,
        NOW,
    ));
    assert_eq!((again.producer_epoch, again.last_producer_epoch), (5, 4));
}

#[test]
fn a_new_id_needs_a_producer_id_then_starts_at_epoch_0() {
    let req = InitRequest {
        timeout_ms: 9000,
        expected: None,
    };
    assert_eq!(
        TxnMeta::init_producer_id(None, "tx", req, None, NOW),
        Ok(Step::NeedProducerId)
    );
    let m = written(TxnMeta::init_producer_id(None, "tx", req, Some(77), NOW));
    assert_eq!(
        (m.producer_id, m.producer_epoch, m.state, m.timeout_ms),
        (77, 0, TxnState::Empty, 9000)
    );
    // An exhausted epoch also needs a new id, and keeps the old one.
    let old = meta(TxnState::CompleteCommit, i16::MAX - 1);
    assert_eq!(
        TxnMeta::init_producer_id(Some(&old), "tx", req, None, NOW),
        Ok(Step::NeedProducerId)
    );
    let rotated = written(TxnMeta::init_producer_id(
        Some(&old),
        "tx",
        req,
        Some(78),
        NOW,
    ));
    assert_eq!(
        (rotated.producer_id, rotated.previous_producer_id),
        (78, PID)
    );
}

#[test]
fn a_pending_write_makes_every_request_concurrent() {
    let mut m = meta(TxnState::Ongoing, 3);
    m.pending = Some(TxnState::PrepareCommit);
    let req = InitRequest {
        timeout_ms: 1,
        expected: None,
    };
    assert_eq!(
        TxnMeta::init_producer_id(Some(&m), "tx", req, None, NOW),
        Err(ec::CONCURRENT_TRANSACTIONS)
    );
    assert_eq!(
        m.add_partitions(PID, 3, &parts(&[("t", 1)]), NOW),
        Err(ec::CONCURRENT_TRANSACTIONS)
    );
    assert_eq!(
        m.end_txn(PID, 3, Outcome::Commit, NOW),
        Err(ec::CONCURRENT_TRANSACTIONS)
    );
    assert!(!m.timed_out(i64::MAX));
}

#[test]
fn add_partitions_table() {
    use TxnState::*;
    // (state, producer id, epoch, partitions, result: Ok(Some(partitions after)) for a write,
    // Ok(None) for an answer without a write)
    type Row = (
        TxnState,
        i64,
        i16,
        &'static [(&'static str, i32)],
        Result<Option<usize>, i16>,
    );
    let table: &[Row] = &[
        (Empty, PID, 2, &[("t", 0), ("t", 1)], Ok(Some(2))),
        (CompleteCommit, PID, 2, &[("u", 0)], Ok(Some(1))),
        (CompleteAbort, PID, 2, &[("u", 0)], Ok(Some(1))),
        (Ongoing, PID, 2, &[("t", 0)], Ok(None)),
        (Ongoing, PID, 2, &[("t", 0), ("t", 5)], Ok(Some(2))),
        (Ongoing, PID, 1, &[("t", 5)], Err(ec::PRODUCER_FENCED)),
        (
            Ongoing,
            PID + 1,
            2,
            &[("t", 5)],
            Err(ec::INVALID_PRODUCER_ID_MAPPING),
        ),
        (
            PrepareCommit,
            PID,
            2,
            &[("t", 5)],
            Err(ec::CONCURRENT_TRANSACTIONS),
        ),
        (
            PrepareAbort,
            PID,
            2,
            &[("t", 5)],
            Err(ec::CONCURRENT_TRANSACTIONS),
        ),
    ];
    for (i, (state, pid, epoch, list, want)) in table.iter().enumerate() {
        let m = meta(*state, 2);
        let got = m
            .add_partitions(*pid, *epoch, &parts(list), NOW)
            .map(|s| match s {
                Step::Write(n) => {
                    assert_eq!(n.state, Ongoing, "row {i}");
                    let fresh = *state != Ongoing;
                    assert_eq!(n.start_ms == NOW, fresh, "row {i}: start time");
                    Some(n.partitions.len())
                }
                Step::Answer => None,
                other => panic!("row {i}: {other:?}"),
            });
        assert_eq!(&got, want, "row {i}");
    }
}

#[test]
fn end_txn_table() {
    use Outcome::*;
    use TxnState::*;
    type Row = (TxnState, i16, Outcome, Result<Option<TxnState>, i16>);
    let table: &[Row] = &[
        (Ongoing, 2, Commit, Ok(Some(PrepareCommit))),
        (Ongoing, 2, Abort, Ok(Some(PrepareAbort))),
        (CompleteCommit, 2, Commit, Ok(None)),
        (CompleteAbort, 2, Abort, Ok(None)),
        (CompleteCommit, 2, Abort, Err(ec::INVALID_TXN_STATE)),
        (CompleteAbort, 2, Commit, Err(ec::INVALID_TXN_STATE)),
        (PrepareCommit, 2, Commit, Err(ec::CONCURRENT_TRANSACTIONS)),
        (PrepareCommit, 2, Abort, Err(ec::INVALID_TXN_STATE)),
        (PrepareAbort, 2, Abort, Err(ec::CONCURRENT_TRANSACTIONS)),
        (PrepareAbort, 2, Commit, Err(ec::INVALID_TXN_STATE)),
        (Empty, 2, Commit, Err(ec::INVALID_TXN_STATE)),
        (Ongoing, 1, Commit, Err(ec::PRODUCER_FENCED)),
        (Ongoing, 3, Commit, Err(ec::PRODUCER_FENCED)),
    ];
    for (i, (state, epoch, outcome, want)) in table.iter().enumerate() {
        let m = meta(*state, 2);
        let got = m.end_txn(PID, *epoch, *outcome, NOW).map(|s| match s {
            Step::Write(n) => {
                assert_eq!(n.partitions, m.partitions, "row {i}: partitions kept");
                Some(n.state)
            }
            Step::Answer => None,
            other => panic!("row {i}: {other:?}"),
        });
        assert_eq!(&got, want, "row {i}");
    }
    assert_eq!(
        meta(TxnState::Ongoing, 2).end_txn(PID + 1, 2, Commit, NOW),
        Err(ec::INVALID_PRODUCER_ID_MAPPING)
    );
}

#[test]
fn completion_clears_partitions_and_only_follows_prepare() {
    for (from, to) in [
        (TxnState::PrepareCommit, Some(TxnState::CompleteCommit)),
        (TxnState::PrepareAbort, Some(TxnState::CompleteAbort)),
        (TxnState::Ongoing, None),
        (TxnState::CompleteCommit, None),
    ] {
        let m = meta(from, 1);
        let done = m.complete(NOW);
        assert_eq!(done.as_ref().map(|d| d.state), to, "{from:?}");
        if let Some(d) = done {
            assert!(d.partitions.is_empty());
            assert_eq!(d.producer_epoch, 1);
        }
    }
}

#[test]
fn timeout_and_expiry() {
    let mut m = meta(TxnState::Ongoing, 1);
    m.start_ms = 10_000;
    m.timeout_ms = 5_000;
    assert!(!m.timed_out(15_000));
    assert!(m.timed_out(15_001));
    let fenced = m.fence(15_001).unwrap();
    assert_eq!(
        (fenced.state, fenced.producer_epoch),
        (TxnState::PrepareAbort, 2)
    );
    assert_eq!(fenced.partitions, m.partitions);
    let idle = meta(TxnState::CompleteAbort, 1);
    assert!(!idle.timed_out(i64::MAX));
    assert!(!idle.expired(idle.last_update_ms + 99, 100));
    assert!(idle.expired(idle.last_update_ms + 100, 100));
    assert!(!m.expired(i64::MAX, 0));
}

#[test]
fn verify_only_answers_per_partition() {
    let m = meta(TxnState::Ongoing, 2);
    let asked = [("t".to_string(), 0), ("t".to_string(), 9)];
    assert_eq!(
        m.verify_partitions(PID, 2, &asked),
        Ok(vec![ec::NONE, ec::TRANSACTION_ABORTABLE])
    );
    assert_eq!(
        m.verify_partitions(PID, 1, &asked),
        Err(ec::PRODUCER_FENCED)
    );
    assert_eq!(
        meta(TxnState::PrepareAbort, 2).verify_partitions(PID, 2, &asked),
        Err(ec::CONCURRENT_TRANSACTIONS)
    );
}

#[test]
fn states_round_trip_ids_and_names() {
    for s in TxnState::ALL {
        assert_eq!(TxnState::from_id(s.id()), Some(s));
        assert_eq!(TxnState::from_name(s.name()), Some(s));
    }
    assert_eq!(TxnState::from_id(8), None);
}
