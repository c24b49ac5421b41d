//! DescribeTransactions (key 65), v0: the state of transactional ids this broker coordinates
//! (`kafka-transactions.sh describe`, `Admin.describeTransactions`): state name, producer id
//! and epoch, timeout, start time and the partitions of the transaction in progress.
//! NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS for ids served elsewhere or still loading;
//! TRANSACTIONAL_ID_NOT_FOUND for an unknown one. Authorization (Kafka's): Describe on the
//! id, else TRANSACTIONAL_ID_AUTHORIZATION_FAILED; partitions of topics the caller may not
//! describe are left out.

use std::sync::Arc;

use kafka_protocol::messages::describe_transactions_response::{TopicData, TransactionState};
use kafka_protocol::messages::{
    DescribeTransactionsRequest, DescribeTransactionsResponse, ProducerId, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: DescribeTransactionsRequest,
) -> DescribeTransactionsResponse {
    let authz = broker.authz(header);
    let states = req
        .transactional_ids
        .into_iter()
        .map(|id| {
            let base = TransactionState::default()
                .with_transactional_id(id.clone())
                .with_producer_id(ProducerId(-1))
                .with_producer_epoch(-1)
                .with_transaction_start_time_ms(-1);
            if !authz.transactional_id(Operation::Describe, &id) {
                return base.with_error_code(ec::TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
            }
            if id.is_empty() {
                return base.with_error_code(ec::INVALID_REQUEST);
            }
            match broker.txns.describe(&id) {
                Err(code) => base.with_error_code(code),
                Ok(m) => {
                    let mut topics: Vec<TopicData> = Vec::new();
                    for (t, p) in &m.partitions {
                        if !authz.topic(Operation::Describe, t) {
                            continue;
                        }
                        match topics.iter_mut().find(|d| d.topic.0.as_str() == t) {
                            Some(d) => d.partitions.push(*p),
                            None => topics.push(
                                TopicData::default()
                                    .with_topic(TopicName(StrBytes::from_string(t.clone())))
                                    .with_partitions(vec![*p]),
                            ),
                        }
                    }
                    base.with_transaction_state(StrBytes::from_static_str(m.state.name()))
                        .with_transaction_timeout_ms(m.timeout_ms)
                        .with_transaction_start_time_ms(m.start_ms)
                        .with_producer_id(ProducerId(m.producer_id))
                        .with_producer_epoch(m.producer_epoch)
                        .with_topics(topics)
                }
            }
        })
        .collect();
    DescribeTransactionsResponse::default().with_transaction_states(states)
}
