use super::*;
use crate::security::acl::{Operation, PatternType, Permission, ResourceType};

fn binding(name: &str, principal: &str, op: Operation) -> AclBinding {
    AclBinding {
        resource_type: ResourceType::Topic,
        name: name.into(),
        pattern: PatternType::Literal,
        principal: principal.into(),
        host: "*".into(),
        operation: op,
        permission: Permission::Allow,
    }
}

fn apply(image: &mut Image, records: &[Record]) {
    for r in records {
        image.apply(r);
    }
}

fn all() -> AclFilter {
    AclFilter {
        resource_type: ResourceType::Any,
        name: None,
        pattern: PatternType::Any,
        principal: None,
        host: None,
        operation: Operation::Any,
        permission: Permission::Any,
    }
}

#[test]
fn acls_are_created_once_deleted_once_and_survive_a_snapshot() {
    let mut image = Image::default();
    let read = binding("t", "User:a", Operation::Read);
    let write = binding("t", "User:b", Operation::Write);
    let mut bad = binding("t", "a", Operation::Read);
    bad.principal = "no-colon".into();
    // A duplicate in the request and an invalid binding: one record per new binding.
    let (records, answers) = create_acls(&image, &[read.clone(), read.clone(), bad]);
    assert_eq!(records, [Record::CreateAcl(read.clone())]);
    assert!(answers[0].is_ok() && answers[1].is_ok());
    assert_eq!(answers[2].as_ref().unwrap_err().0, ec::INVALID_REQUEST);
    apply(&mut image, &records);
    let before = image.acls.clone();
    // Creating what exists writes nothing; a new one changes the shared set (a new Arc).
    let (records, answers) = create_acls(&image, &[read.clone(), write.clone()]);
    assert_eq!(records, [Record::CreateAcl(write.clone())]);
    assert!(answers.iter().all(Result::is_ok));
    apply(&mut image, &records);
    assert!(!std::sync::Arc::ptr_eq(&before, &image.acls));
    assert_eq!(before.len(), 1, "the old snapshot is untouched");
    assert_eq!(image.acls.len(), 2);

    // The snapshot keeps them.
    let restored = Image::from_data(image.to_data());
    assert_eq!(*restored.acls, *image.acls);

    // Two filters matching one binding: listed under both, removed once.
    let mut by_b = all();
    by_b.principal = Some("User:b".into());
    let mut by_write = all();
    by_write.operation = Operation::Write;
    let mut none = all();
    none.principal = Some("User:nobody".into());
    let (records, matched) = delete_acls(&image, &[by_b, by_write, none]);
    assert_eq!(records, [Record::RemoveAcl(write.clone())]);
    assert_eq!(matched, [vec![write.clone()], vec![write.clone()], vec![]]);
    apply(&mut image, &records);
    // Removing again, or removing what is absent, changes nothing.
    image.apply(&Record::RemoveAcl(write));
    assert_eq!(image.acls.iter().collect::<Vec<_>>(), [&read]);
}

fn upsert(user: &str, mechanism: i8, iterations: i32) -> ScramUpsertion {
    ScramUpsertion {
        user: user.into(),
        mechanism,
        iterations,
        salt: b"salt".to_vec(),
        salted_password: vec![7; 64],
    }
}

fn delete(user: &str, mechanism: i8) -> ScramDeletion {
    ScramDeletion {
        user: user.into(),
        mechanism,
    }
}

/// The answers' codes per user, in order.
fn codes(answers: &[UserAnswer]) -> Vec<(&str, i16)> {
    answers
        .iter()
        .map(|(u, r)| (u.as_str(), r.as_ref().map_or_else(|e| e.0, |_| 0)))
        .collect()
}

#[test]
fn scram_alterations_as_kafkas_controller_decides() {
    let mut image = Image::default();
    let (records, answers) = alter_scram(&image, &[], &[upsert("alice", 2, 8192)]);
    assert_eq!(codes(&answers), [("alice", 0)]);
    apply(&mut image, &records);
    let stored = &image.scram["alice"][&ScramMechanism::Sha512];
    assert_eq!(stored.iterations, 8192);
    assert_eq!(
        *stored,
        ScramCredential::from_salted_password(
            ScramMechanism::Sha512,
            b"salt".to_vec(),
            &[7; 64],
            8192
        ),
        "stored key and server key come from the salted password"
    );

    type Case = (
        Vec<ScramDeletion>,
        Vec<ScramUpsertion>,
        Vec<(&'static str, i16)>,
    );
    #[rustfmt::skip]
    let table: Vec<Case> = vec![
        // Deleting what does not exist.
        (vec![delete("bob", 1)], vec![], vec![("bob", ec::RESOURCE_NOT_FOUND)]),
        // Deleting alice's SHA-256 (she has only SHA-512).
        (vec![delete("alice", 1)], vec![], vec![("alice", ec::RESOURCE_NOT_FOUND)]),
        // Iterations out of bounds; an unknown mechanism; an empty name.
        (vec![], vec![upsert("bob", 1, 4095)], vec![("bob", ec::UNACCEPTABLE_CREDENTIAL)]),
        (vec![], vec![upsert("bob", 1, 16385)], vec![("bob", ec::UNACCEPTABLE_CREDENTIAL)]),
        (vec![], vec![upsert("bob", 3, 4096)], vec![("bob", ec::UNSUPPORTED_SASL_MECHANISM)]),
        (vec![], vec![upsert("", 1, 4096)], vec![("", ec::UNACCEPTABLE_CREDENTIAL)]),
        // A user twice (two mechanisms, or a deletion and an upsertion): DUPLICATE_RESOURCE,
        // others in the request still go ahead.
        (vec![], vec![upsert("bob", 1, 4096), upsert("bob", 2, 4096), upsert("carol", 1, 4096)],
            vec![("carol", 0), ("bob", ec::DUPLICATE_RESOURCE)]),
        (vec![delete("alice", 2)], vec![upsert("alice", 1, 4096)],
            vec![("alice", ec::DUPLICATE_RESOURCE)]),
    ];
    for (deletions, upsertions, want) in &table {
        let (records, answers) = alter_scram(&image, deletions, upsertions);
        assert_eq!(codes(&answers), *want, "{deletions:?} {upsertions:?}");
        let ok_users: Vec<&str> = want
            .iter()
            .filter(|(_, c)| *c == 0)
            .map(|(u, _)| *u)
            .collect();
        assert_eq!(
            records.len(),
            ok_users.len(),
            "{deletions:?} {upsertions:?}"
        );
    }
    // A deletion that exists.
    let (records, answers) = alter_scram(&image, &[delete("alice", 2)], &[]);
    assert_eq!(codes(&answers), [("alice", 0)]);
    apply(&mut image, &records);
    assert!(image.scram.is_empty());
}
