//! Test samples of the security requests: ACLs, SCRAM credentials, client quotas and
//! delegation tokens (see [`super::samples`]' module doc).

use bytes::Bytes;
use kafka_protocol::messages::*;

use super::samples::{pick, s, unknown};

pub(super) fn describe_acls(v: i16) -> DescribeAclsRequest {
    DescribeAclsRequest::default()
        .with_resource_type_filter(2)
        .with_resource_name_filter(Some(s("t")))
        .with_pattern_type_filter(pick(v >= 1, 4, 3))
        .with_principal_filter(Some(s("User:a")))
        .with_host_filter(Some(s("*")))
        .with_operation(3)
        .with_permission_type(3)
        .with_unknown_tagged_fields(unknown(v >= 2))
}

pub(super) fn create_acls(v: i16) -> CreateAclsRequest {
    use create_acls_request::*;
    let creation = AclCreation::default()
        .with_resource_type(2)
        .with_resource_name(s("t"))
        .with_resource_pattern_type(pick(v >= 1, 4, 3))
        .with_principal(s("User:a"))
        .with_host(s("*"))
        .with_operation(3)
        .with_permission_type(3)
        .with_unknown_tagged_fields(unknown(v >= 2));
    CreateAclsRequest::default()
        .with_creations(vec![creation.clone(), creation])
        .with_unknown_tagged_fields(unknown(v >= 2))
}

pub(super) fn delete_acls(v: i16) -> DeleteAclsRequest {
    use delete_acls_request::*;
    let filter = DeleteAclsFilter::default()
        .with_resource_type_filter(2)
        .with_resource_name_filter(Some(s("t")))
        .with_pattern_type_filter(pick(v >= 1, 4, 3))
        .with_principal_filter(Some(s("User:a")))
        .with_host_filter(Some(s("*")))
        .with_operation(3)
        .with_permission_type(3)
        .with_unknown_tagged_fields(unknown(v >= 2));
    DeleteAclsRequest::default()
        .with_filters(vec![filter.clone(), filter])
        .with_unknown_tagged_fields(unknown(v >= 2))
}

pub(super) fn describe_user_scram(_v: i16) -> DescribeUserScramCredentialsRequest {
    use describe_user_scram_credentials_request::*;
    let user = UserName::default()
        .with_name(s("alice"))
        .with_unknown_tagged_fields(unknown(true));
    DescribeUserScramCredentialsRequest::default()
        .with_users(Some(vec![user.clone(), user]))
        .with_unknown_tagged_fields(unknown(true))
}

pub(super) fn alter_user_scram(_v: i16) -> AlterUserScramCredentialsRequest {
    use alter_user_scram_credentials_request::*;
    let deletion = ScramCredentialDeletion::default()
        .with_name(s("bob"))
        .with_mechanism(1)
        .with_unknown_tagged_fields(unknown(true));
    let upsertion = ScramCredentialUpsertion::default()
        .with_name(s("alice"))
        .with_mechanism(2)
        .with_iterations(4096)
        .with_salt(Bytes::from_static(b"salt"))
        .with_salted_password(Bytes::from_static(b"salted"))
        .with_unknown_tagged_fields(unknown(true));
    AlterUserScramCredentialsRequest::default()
        .with_deletions(vec![deletion.clone(), deletion])
        .with_upsertions(vec![upsertion.clone(), upsertion])
        .with_unknown_tagged_fields(unknown(true))
}

pub(super) fn describe_client_quotas(v: i16) -> DescribeClientQuotasRequest {
    use describe_client_quotas_request::*;
    let component = ComponentData::default()
        .with_entity_type(s("user"))
        .with_match_type(0)
        .with_match(Some(s("alice")))
        .with_unknown_tagged_fields(unknown(v >= 1));
    DescribeClientQuotasRequest::default()
        .with_components(vec![component.clone(), component])
        .with_strict(true)
        .with_unknown_tagged_fields(unknown(v >= 1))
}

pub(super) fn alter_client_quotas(v: i16) -> AlterClientQuotasRequest {
    use alter_client_quotas_request::*;
    let entity = EntityData::default()
        .with_entity_type(s("client-id"))
        .with_entity_name(Some(s("app")))
        .with_unknown_tagged_fields(unknown(v >= 1));
    let op = OpData::default()
        .with_key(s("producer_byte_rate"))
        .with_value(1024.0)
        .with_remove(false)
        .with_unknown_tagged_fields(unknown(v >= 1));
    let entry = EntryData::default()
        .with_entity(vec![entity.clone(), entity])
        .with_ops(vec![op.clone(), op])
        .with_unknown_tagged_fields(unknown(v >= 1));
    AlterClientQuotasRequest::default()
        .with_entries(vec![entry.clone(), entry])
        .with_validate_only(true)
        .with_unknown_tagged_fields(unknown(v >= 1))
}

pub(super) fn create_delegation_token(v: i16) -> CreateDelegationTokenRequest {
    use create_delegation_token_request::*;
    let renewer = CreatableRenewers::default()
        .with_principal_type(s("User"))
        .with_principal_name(s("bob"))
        .with_unknown_tagged_fields(unknown(v >= 2));
    CreateDelegationTokenRequest::default()
        .with_owner_principal_type(Some(s(pick(v >= 3, "User", ""))))
        .with_owner_principal_name(Some(s(pick(v >= 3, "alice", ""))))
        .with_renewers(vec![renewer.clone(), renewer])
        .with_max_lifetime_ms(-1)
        .with_unknown_tagged_fields(unknown(v >= 2))
}

pub(super) fn describe_delegation_token(v: i16) -> DescribeDelegationTokenRequest {
    use describe_delegation_token_request::*;
    let owner = DescribeDelegationTokenOwner::default()
        .with_principal_type(s("User"))
        .with_principal_name(s("alice"))
        .with_unknown_tagged_fields(unknown(v >= 2));
    DescribeDelegationTokenRequest::default()
        .with_owners(Some(vec![owner.clone(), owner]))
        .with_unknown_tagged_fields(unknown(v >= 2))
}
