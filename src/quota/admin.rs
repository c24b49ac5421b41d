//! AlterClientQuotas' validation and DescribeClientQuotas' filter, as Kafka's
//! `ClientQuotaControlManager` decides them. Pure.
//!
//! Alter, per entry (an entity and its operations):
//! - the entity names `user` and/or `client-id`, each at most once, a name non-empty (null is
//!   the default); `ip` entities are refused (weir does not enforce connection-rate quotas);
//! - each key once; a set value must be a known key, greater than 0, and whole for the byte
//!   rates (LONG in Kafka); a removal of a key that is not set writes nothing.
//!
//! Describe: each filter component names an entity type once: EXACT (0) a name, DEFAULT (1) the
//! default, SPECIFIED (2) any entity of that type; `strict` also requires the entity to have
//! no other type.

use super::{
    EntityName, QuotaConfigs, QuotaEntity, CLIENT_ID, CONSUMER_BYTE_RATE, KEYS, PRODUCER_BYTE_RATE,
    USER,
};

/// Kafka's entity type for IP quotas.
pub const IP: &str = "ip";

/// One entity as the wire gives it: (type, name or null for the default).
pub type WireEntity = Vec<(String, Option<String>)>;

/// The entity of `wire`, or Kafka's INVALID_REQUEST message.
pub fn entity(wire: &WireEntity) -> Result<QuotaEntity, String> {
    if wire.is_empty() {
        return Err("Invalid empty client quota entity".into());
    }
    let mut e = QuotaEntity {
        user: None,
        client_id: None,
    };
    for (kind, name) in wire {
        let slot = match kind.as_str() {
            USER => &mut e.user,
            CLIENT_ID => &mut e.client_id,
            IP => {
                return Err(
                    "weir does not serve IP quotas (connection_creation_rate): give a user \
                     and/or a client-id entity"
                        .into(),
                )
            }
            other => return Err(format!("Unhandled client quota entity type: {other}")),
        };
        if slot.is_some() {
            return Err(format!(
                "Invalid client quota entity, duplicate entity entry {kind}"
            ));
        }
        if name.as_deref() == Some("") {
            return Err(format!("Empty {kind} not supported"));
        }
        *slot = Some(EntityName::from_wire(name.as_deref()));
    }
    Ok(e)
}

/// The records' content for one entry: (key, Some(value) to set, None to remove), only the
/// changes; or Kafka's INVALID_REQUEST message, in which case nothing of the entry is written.
pub fn alteration(
    current: &QuotaConfigs,
    entity: &QuotaEntity,
    ops: &[(String, Option<f64>)],
) -> Result<Vec<(String, Option<f64>)>, String> {
    let mut seen = std::collections::BTreeSet::new();
    for (key, _) in ops {
        if !seen.insert(key.as_str()) {
            return Err(format!(
                "Duplicate quota key {key} not updating quota for this entity"
            ));
        }
    }
    let now = current.get(entity);
    let mut changes = Vec::new();
    for (key, value) in ops {
        match value {
            None => {
                if now.is_some_and(|m| m.contains_key(key)) {
                    changes.push((key.clone(), None));
                }
            }
            Some(v) => {
                if !KEYS.contains(&key.as_str()) {
                    return Err(format!("Invalid configuration key {key}"));
                }
                if v.is_nan() || *v <= 0.0 {
                    return Err(format!("Quota {key} must be greater than 0"));
                }
                let long = key == PRODUCER_BYTE_RATE || key == CONSUMER_BYTE_RATE;
                if long && (v.fract().abs() > 1e-6 || *v > i64::MAX as f64) {
                    return Err(format!("{key} cannot be a fractional value."));
                }
                if now.and_then(|m| m.get(key)) != Some(v) {
                    changes.push((key.clone(), Some(*v)));
                }
            }
        }
    }
    Ok(changes)
}

/// One filter component: the entity type and what it matches.
#[derive(Debug, Clone, PartialEq)]
pub enum Match {
    /// EXACT: this name.
    Name(String),
    /// DEFAULT: the default entity of the type.
    Default,
    /// SPECIFIED: any entity of the type.
    Any,
}

/// A filter component from the wire (`match_type` 0, 1, 2), or Kafka's INVALID_REQUEST
/// message.
pub fn component(
    kind: &str,
    match_type: i8,
    name: Option<&str>,
) -> Result<(String, Match), String> {
    let m = match (match_type, name) {
        (0, Some(n)) => Match::Name(n.to_string()),
        (0, None) => Match::Default,
        (1, _) => Match::Default,
        (2, _) => Match::Any,
        _ => return Err(format!("Unknown match type {match_type}")),
    };
    Ok((kind.to_string(), m))
}

/// An entity a filter selects, with its quotas.
pub type Selected<'a> = (&'a QuotaEntity, &'a std::collections::BTreeMap<String, f64>);

/// The entities of `configs` the filter selects (Kafka's `describeClientQuotas`).
pub fn describe<'a>(
    configs: &'a QuotaConfigs,
    components: &[(String, Match)],
    strict: bool,
) -> Result<Vec<Selected<'a>>, String> {
    let mut types = std::collections::BTreeSet::new();
    for (kind, _) in components {
        if kind.is_empty() {
            return Err("Invalid empty entity type.".into());
        }
        if !types.insert(kind.as_str()) {
            return Err(format!(
                "Entity type {kind} cannot appear more than once in the filter."
            ));
        }
        if ![USER, CLIENT_ID, IP].contains(&kind.as_str()) {
            return Err(format!("Unsupported entity type {kind}"));
        }
    }
    if types.contains(IP) && (types.contains(USER) || types.contains(CLIENT_ID)) {
        return Err(
            "Invalid entity filter component combination. IP filter component should \
             not be used with user or clientId filter component."
                .into(),
        );
    }
    let side = |e: &'a QuotaEntity, kind: &str| match kind {
        USER => e.user.as_ref(),
        CLIENT_ID => e.client_id.as_ref(),
        _ => None,
    };
    Ok(configs
        .iter()
        .filter(|(e, _)| {
            let size = e.user.is_some() as usize + e.client_id.is_some() as usize;
            if strict && size != components.len() {
                return false;
            }
            components.iter().all(|(kind, m)| match (side(e, kind), m) {
                (None, _) => false,
                (Some(_), Match::Any) => true,
                (Some(EntityName::Default), Match::Default) => true,
                (Some(EntityName::Name(n)), Match::Name(want)) => n == want,
                _ => false,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quota::REQUEST_PERCENTAGE;

    fn w(pairs: &[(&str, Option<&str>)]) -> WireEntity {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect()
    }

    #[test]
    fn entities_are_checked_as_kafka_checks_them() {
        let ok = [
            w(&[(USER, Some("alice"))]),
            w(&[(USER, None)]),
            w(&[(CLIENT_ID, Some("app")), (USER, Some("alice"))]),
            w(&[(CLIENT_ID, None)]),
        ];
        for e in ok {
            assert!(entity(&e).is_ok(), "{e:?}");
        }
        let bad = [
            w(&[]),
            w(&[(USER, Some("a")), (USER, Some("b"))]),
            w(&[(USER, Some(""))]),
            w(&[("group", Some("g"))]),
            w(&[(IP, Some("127.0.0.1"))]),
        ];
        for e in bad {
            assert!(entity(&e).is_err(), "{e:?}");
        }
        let e = entity(&w(&[(CLIENT_ID, Some("app")), (USER, None)])).unwrap();
        assert_eq!(e.user, Some(EntityName::Default));
        assert_eq!(e.client_id, Some(EntityName::Name("app".into())));
    }

    #[test]
    fn alterations_write_only_valid_changes() {
        let e = entity(&w(&[(USER, Some("alice"))])).unwrap();
        let mut current = QuotaConfigs::new();
        current
            .entry(e.clone())
            .or_default()
            .insert(PRODUCER_BYTE_RATE.into(), 1024.0);
        let op = |k: &str, v: Option<f64>| (k.to_string(), v);
        type Ops = Vec<(String, Option<f64>)>;
        let cases: Vec<(Ops, Result<Ops, ()>)> = vec![
            // Same value: nothing; a new key: written; removal of a set key: written.
            (vec![op(PRODUCER_BYTE_RATE, Some(1024.0))], Ok(vec![])),
            (
                vec![op(CONSUMER_BYTE_RATE, Some(2048.0))],
                Ok(vec![op(CONSUMER_BYTE_RATE, Some(2048.0))]),
            ),
            (
                vec![op(PRODUCER_BYTE_RATE, None)],
                Ok(vec![op(PRODUCER_BYTE_RATE, None)]),
            ),
            (vec![op(REQUEST_PERCENTAGE, None)], Ok(vec![])),
            (
                vec![op(REQUEST_PERCENTAGE, Some(12.5))],
                Ok(vec![op(REQUEST_PERCENTAGE, Some(12.5))]),
            ),
            // Refused: unknown key, 0, negative, fractional bytes, a key twice.
            (vec![op("bogus_rate", Some(1.0))], Err(())),
            (vec![op(CONSUMER_BYTE_RATE, Some(0.0))], Err(())),
            (vec![op(CONSUMER_BYTE_RATE, Some(-5.0))], Err(())),
            (vec![op(CONSUMER_BYTE_RATE, Some(1.5))], Err(())),
            (vec![op(CONSUMER_BYTE_RATE, Some(f64::NAN))], Err(())),
            (
                vec![
                    op(CONSUMER_BYTE_RATE, Some(1.0)),
                    op(CONSUMER_BYTE_RATE, None),
                ],
                Err(()),
            ),
        ];
        for (ops, want) in cases {
            let got = alteration(&current, &e, &ops).map_err(|_| ());
            assert_eq!(got, want, "{ops:?}");
        }
    }

    #[test]
    fn describe_filters_as_kafka_does() {
        let mut configs = QuotaConfigs::new();
        let entities = [
            w(&[(USER, Some("alice"))]),
            w(&[(USER, None)]),
            w(&[(USER, Some("alice")), (CLIENT_ID, Some("app"))]),
            w(&[(CLIENT_ID, Some("app"))]),
        ];
        for e in &entities {
            configs
                .entry(entity(e).unwrap())
                .or_default()
                .insert(PRODUCER_BYTE_RATE.into(), 1.0);
        }
        let count = |components: &[(&str, i8, Option<&str>)], strict: bool| {
            let c: Vec<(String, Match)> = components
                .iter()
                .map(|(k, t, n)| component(k, *t, *n).unwrap())
                .collect();
            describe(&configs, &c, strict).map(|v| v.len())
        };
        assert_eq!(count(&[], false), Ok(4), "no component: everything");
        assert_eq!(count(&[], true), Ok(0));
        assert_eq!(count(&[(USER, 0, Some("alice"))], false), Ok(2));
        assert_eq!(count(&[(USER, 0, Some("alice"))], true), Ok(1));
        assert_eq!(count(&[(USER, 1, None)], false), Ok(1));
        assert_eq!(count(&[(USER, 2, None)], false), Ok(3));
        assert_eq!(count(&[(CLIENT_ID, 2, None)], true), Ok(1));
        assert_eq!(
            count(&[(USER, 2, None), (CLIENT_ID, 0, Some("app"))], false),
            Ok(1)
        );
        assert!(count(&[(USER, 2, None), (USER, 1, None)], false).is_err());
        assert!(count(&[("", 2, None)], false).is_err());
        assert!(count(&[("group", 2, None)], false).is_err());
        assert!(count(&[(IP, 2, None), (USER, 2, None)], false).is_err());
        assert!(component(USER, 7, None).is_err());
    }
}
