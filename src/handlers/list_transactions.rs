//! ListTransactions (key 66), v0-v1: the transactional ids this broker coordinates
//! (`kafka-transactions.sh list`), filtered by state names, producer ids and (v1, KIP-994)
//! transactions running longer than `duration_filter` ms. Unknown state names are echoed
//! in `unknown_state_filters` and match nothing. Ids the caller may not Describe are left
//! out. COORDINATOR_LOAD_IN_PROGRESS while a partition of `__transaction_state` is loading.

use std::collections::HashSet;
use std::sync::Arc;

use kafka_protocol::messages::list_transactions_response::TransactionState;
use kafka_protocol::messages::{ListTransactionsRequest, ListTransactionsResponse, ProducerId};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::log::now_ms;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;
use crate::txn::state::TxnState;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: ListTransactionsRequest,
) -> ListTransactionsResponse {
    if broker.txns.loading() {
        return ListTransactionsResponse::default()
            .with_error_code(ec::COORDINATOR_LOAD_IN_PROGRESS);
    }
    let authz = broker.authz(header);
    let mut unknown = Vec::new();
    let mut states = HashSet::new();
    for name in &req.state_filters {
        match TxnState::from_name(name) {
            Some(s) => {
                states.insert(s);
            }
            None => unknown.push(name.clone()),
        }
    }
    let pids: HashSet<i64> = req.producer_id_filters.iter().map(|p| p.0).collect();
    let duration = if header.api_version >= 1 {
        req.duration_filter
    } else {
        -1
    };
    let now = now_ms();
    let listed = broker
        .txns
        .list()
        .into_iter()
        .filter(|m| req.state_filters.is_empty() || states.contains(&m.state))
        .filter(|m| pids.is_empty() || pids.contains(&m.producer_id))
        .filter(|m| duration < 0 || (m.state == TxnState::Ongoing && now - m.start_ms > duration))
        .filter(|m| authz.transactional_id(Operation::Describe, &m.transactional_id))
        .map(|m| {
            TransactionState::default()
                .with_transactional_id(StrBytes::from_string(m.transactional_id).into())
                .with_producer_id(ProducerId(m.producer_id))
                .with_transaction_state(StrBytes::from_static_str(m.state.name()))
        })
        .collect();
    ListTransactionsResponse::default()
        .with_unknown_state_filters(unknown)
        .with_transaction_states(listed)
}
