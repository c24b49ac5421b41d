//! EndTxn (key 26), v0-v4: a transactional producer commits or aborts its transaction. The
//! coordinator answers once the PrepareCommit / PrepareAbort state is committed; the markers
//! follow (a consumer reading committed data sees the transaction once they are written).
//! Authorization: Write on the transactional id. v0-v1 get INVALID_PRODUCER_EPOCH for
//! PRODUCER_FENCED.

use std::sync::Arc;

use kafka_protocol::messages::{EndTxnRequest, EndTxnResponse};

use crate::broker::Broker;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::Operation;
use crate::txn::state::Outcome;

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: EndTxnRequest,
) -> EndTxnResponse {
    let authz = broker.authz(header);
    let code = if !authz.transactional_id(Operation::Write, &req.transactional_id) {
        ec::TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    } else if req.transactional_id.is_empty() {
        ec::INVALID_REQUEST
    } else {
        let outcome = if req.committed {
            Outcome::Commit
        } else {
            Outcome::Abort
        };
        match broker
            .txns
            .end_txn(
                broker,
                &req.transactional_id,
                req.producer_id.0,
                req.producer_epoch,
                outcome,
            )
            .await
        {
            Ok(()) => ec::NONE,
            Err(ec::PRODUCER_FENCED) if header.api_version < 2 => ec::INVALID_PRODUCER_EPOCH,
            Err(code) => code,
        }
    };
    EndTxnResponse::default().with_error_code(code)
}
