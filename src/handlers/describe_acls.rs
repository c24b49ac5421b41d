//! DescribeAcls (key 29), v0-v3 (flexible from v2): the ACL bindings one filter matches,
//! grouped by resource pattern. Needs Describe on the cluster (else
//! CLUSTER_AUTHORIZATION_FAILED); without an authorizer SECURITY_DISABLED, as Kafka answers.

use std::sync::Arc;

use kafka_protocol::messages::describe_acls_response::{AclDescription, DescribeAclsResource};
use kafka_protocol::messages::{DescribeAclsRequest, DescribeAclsResponse};
use kafka_protocol::protocol::StrBytes;

use crate::broker::Broker;
use crate::protocol::error_code as ec;
use crate::protocol::request::RequestHeader;
use crate::security::acl::{AclFilter, Operation};

fn error(code: i16, message: &str) -> DescribeAclsResponse {
    DescribeAclsResponse::default()
        .with_error_code(code)
        .with_error_message(Some(StrBytes::from_string(message.to_string())))
}

pub async fn handle(
    broker: &Arc<Broker>,
    header: &RequestHeader,
    req: DescribeAclsRequest,
) -> DescribeAclsResponse {
    if !broker.authz(header).cluster(Operation::Describe) {
        return error(
            ec::CLUSTER_AUTHORIZATION_FAILED,
            "Cluster authorization failed.",
        );
    }
    if !broker.authorizer.enabled() {
        return error(ec::SECURITY_DISABLED, super::create_acls::NO_AUTHORIZER);
    }
    let filter = match AclFilter::from_wire(
        req.resource_type_filter,
        req.resource_name_filter.as_deref(),
        req.pattern_type_filter,
        req.principal_filter.as_deref(),
        req.host_filter.as_deref(),
        req.operation,
        req.permission_type,
    ) {
        Ok(f) => f,
        Err(message) => return error(ec::INVALID_REQUEST, &message),
    };
    let acls = broker.cluster.image().acls.clone();
    // The set is ordered by resource type, name and pattern first: one resource's bindings
    // are adjacent.
    let mut resources: Vec<DescribeAclsResource> = Vec::new();
    for b in acls.iter().filter(|b| filter.matches(b)) {
        let acl = AclDescription::default()
            .with_principal(StrBytes::from_string(b.principal.clone()))
            .with_host(StrBytes::from_string(b.host.clone()))
            .with_operation(b.operation.code())
            .with_permission_type(b.permission.code());
        match resources.last_mut() {
            Some(r)
                if r.resource_type == b.resource_type.code()
                    && r.resource_name.as_str() == b.name
                    && r.pattern_type == b.pattern.code() =>
            {
                r.acls.push(acl)
            }
            _ => resources.push(
                DescribeAclsResource::default()
                    .with_resource_type(b.resource_type.code())
                    .with_resource_name(StrBytes::from_string(b.name.clone()))
                    .with_pattern_type(b.pattern.code())
                    .with_acls(vec![acl]),
            ),
        }
    }
    DescribeAclsResponse::default()
        .with_error_message(None)
        .with_resources(resources)
}
