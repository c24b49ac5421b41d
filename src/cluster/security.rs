//! The controller's security decisions, as pure functions from the image to records: ACLs
//! (Kafka's `AclControlManager`) and SCRAM credentials (Kafka's `ScramControlManager`).
//!
//! Invariants:
//! - a CreateAcl record is written only for a valid binding that is not already in the
//!   image (creating an existing ACL succeeds and writes nothing), once per request;
//! - a RemoveAcl record is written once per binding, however many filters match it;
//! - a user named more than once in one AlterUserScramCredentials request is refused
//!   (DUPLICATE_RESOURCE) and nothing of that user's is written; a deletion of a credential
//!   the image does not hold is RESOURCE_NOT_FOUND.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::image::{Image, Record};
use crate::protocol::error_code as ec;
use crate::security::acl::{self, AclBinding, AclFilter};
use crate::security::scram::{ScramCredential, ScramMechanism, MAX_ITERATIONS, MIN_ITERATIONS};

/// An error answered for one item: Kafka's code and message.
pub type ItemError = (i16, String);

/// One user's answer to AlterUserScramCredentials.
pub type UserAnswer = (String, Result<(), ItemError>);

/// CreateAcls: the records for the bindings, and each binding's answer in order.
pub fn create_acls(
    image: &Image,
    bindings: &[AclBinding],
) -> (Vec<Record>, Vec<Result<(), ItemError>>) {
    let mut written = BTreeSet::new();
    let mut records = Vec::new();
    let answers = bindings
        .iter()
        .map(|b| {
            acl::validate(b).map_err(|m| (ec::INVALID_REQUEST, m))?;
            if !image.acls.contains(b) && written.insert(b.clone()) {
                records.push(Record::CreateAcl(b.clone()));
            }
            Ok(())
        })
        .collect();
    (records, answers)
}

/// DeleteAcls: the records removing every binding some filter matches, and per filter the
/// bindings it matched (a binding matched by two filters is listed under both, as Kafka
/// answers, and removed once).
pub fn delete_acls(image: &Image, filters: &[AclFilter]) -> (Vec<Record>, Vec<Vec<AclBinding>>) {
    let mut gone = BTreeSet::new();
    let matched: Vec<Vec<AclBinding>> = filters
        .iter()
        .map(|f| {
            let m = image.acls.select(f);
            gone.extend(m.iter().cloned());
            m
        })
        .collect();
    (gone.into_iter().map(Record::RemoveAcl).collect(), matched)
}

/// One upsertion of AlterUserScramCredentials, as the client sends it: the mechanism's wire
/// code, and the password already salted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScramUpsertion {
    pub user: String,
    pub mechanism: i8,
    pub iterations: i32,
    pub salt: Vec<u8>,
    pub salted_password: Vec<u8>,
}

/// One deletion of AlterUserScramCredentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScramDeletion {
    pub user: String,
    pub mechanism: i8,
}

fn duplicate() -> ItemError {
    (
        ec::DUPLICATE_RESOURCE,
        "A user credential cannot be altered twice in the same request".into(),
    )
}

fn check_user_and_mechanism(user: &str, mechanism: i8) -> Result<ScramMechanism, ItemError> {
    if user.is_empty() {
        return Err((
            ec::UNACCEPTABLE_CREDENTIAL,
            "Username must not be empty".into(),
        ));
    }
    ScramMechanism::from_code(mechanism).ok_or((
        ec::UNSUPPORTED_SASL_MECHANISM,
        "Unknown SCRAM mechanism".into(),
    ))
}

/// AlterUserScramCredentials, as `ScramControlManager.alterCredentials` decides it: the
/// records, and one answer per user (deletions that succeed, then upsertions that succeed,
/// then the users refused, each group in request order).
pub fn alter_scram(
    image: &Image,
    deletions: &[ScramDeletion],
    upsertions: &[ScramUpsertion],
) -> (Vec<Record>, Vec<UserAnswer>) {
    let mut errors: Vec<(String, ItemError)> = Vec::new();
    let mut deleting: Vec<(String, ScramMechanism)> = Vec::new();
    let mut upserting: Vec<(String, Record)> = Vec::new();
    let failed =
        |errors: &Vec<(String, ItemError)>, user: &str| errors.iter().any(|(u, _)| u == user);
    for d in deletions {
        if failed(&errors, &d.user) {
            continue;
        }
        if let Some(i) = deleting.iter().position(|(u, _)| *u == d.user) {
            deleting.remove(i);
            errors.push((d.user.clone(), duplicate()));
            continue;
        }
        let checked = check_user_and_mechanism(&d.user, d.mechanism).and_then(|m| {
            if image.scram.get(&d.user).is_some_and(|c| c.contains_key(&m)) {
                Ok(m)
            } else {
                Err((
                    ec::RESOURCE_NOT_FOUND,
                    "Attempt to delete a user credential that does not exist".into(),
                ))
            }
        });
        match checked {
            Ok(m) => deleting.push((d.user.clone(), m)),
            Err(e) => errors.push((d.user.clone(), e)),
        }
    }
    for u in upsertions {
        if failed(&errors, &u.user) {
            continue;
        }
        let was_deleting = deleting.iter().position(|(x, _)| *x == u.user);
        let was_upserting = upserting.iter().position(|(x, _)| *x == u.user);
        if was_deleting.is_some() || was_upserting.is_some() {
            if let Some(i) = was_deleting {
                deleting.remove(i);
            }
            if let Some(i) = was_upserting {
                upserting.remove(i);
            }
            errors.push((u.user.clone(), duplicate()));
            continue;
        }
        let checked = check_user_and_mechanism(&u.user, u.mechanism).and_then(|m| {
            let iterations = u32::try_from(u.iterations).unwrap_or(0);
            if iterations < MIN_ITERATIONS {
                Err((ec::UNACCEPTABLE_CREDENTIAL, "Too few iterations".into()))
            } else if iterations > MAX_ITERATIONS {
                Err((ec::UNACCEPTABLE_CREDENTIAL, "Too many iterations".into()))
            } else {
                Ok(ScramCredential::from_salted_password(
                    m,
                    u.salt.clone(),
                    &u.salted_password,
                    iterations,
                ))
            }
        });
        match checked {
            Ok(c) => upserting.push((
                u.user.clone(),
                Record::ScramCredential {
                    user: u.user.clone(),
                    mechanism: c.mechanism,
                    credential: Some(c),
                },
            )),
            Err(e) => errors.push((u.user.clone(), e)),
        }
    }
    let mut records = Vec::new();
    let mut answers = Vec::new();
    for (user, mechanism) in deleting {
        records.push(Record::ScramCredential {
            user: user.clone(),
            mechanism,
            credential: None,
        });
        answers.push((user, Ok(())));
    }
    for (user, record) in upserting {
        records.push(record);
        answers.push((user, Ok(())));
    }
    answers.extend(errors.into_iter().map(|(u, e)| (u, Err(e))));
    (records, answers)
}

#[cfg(test)]
#[path = "security_tests.rs"]
mod tests;
