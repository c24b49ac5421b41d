//! Client quotas, as Kafka's `ClientQuotaManager` keeps them: byte rates for producers
//! (`producer_byte_rate`) and consumers (`consumer_byte_rate`), and the share of broker time a
//! client's requests may take (`request_percentage`, percent of one request thread), set per
//! user, per client id or per both, with defaults, through AlterClientQuotas
//! (`kafka-configs.sh --entity-type users/clients`) and kept in the cluster metadata.
//!
//! Which quota holds for a request of (user, client id) is Kafka's order, the first entity
//! that sets the key winning:
//!
//! 1. user U and client C, 2. user U and the default client, 3. user U,
//! 4. the default user and client C, 5. the default user and the default client,
//! 6. the default user, 7. client C, 8. the default client.
//!
//! Clients that match one entity share its rate where the entity names them by its default:
//! a quota on user U is shared by all U's clients; a quota on the default user holds for each
//! user apart ([`SensorKey`]).
//!
//! Enforcement (Kafka's, KIP-219): the rate is recorded when a request is handled; a client
//! over its quota gets its response at once with `throttle_time_ms` set, and the connection
//! reads nothing more from it for that long. A throttled consumer fetch gets no records.

pub mod admin;
pub mod rate;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use rate::Rate;

/// The quota keys weir enforces (`controller_mutation_rate` is accepted and kept, not
/// enforced).
pub const PRODUCER_BYTE_RATE: &str = "producer_byte_rate";
pub const CONSUMER_BYTE_RATE: &str = "consumer_byte_rate";
pub const REQUEST_PERCENTAGE: &str = "request_percentage";
pub const CONTROLLER_MUTATION_RATE: &str = "controller_mutation_rate";
pub const KEYS: [&str; 4] = [
    PRODUCER_BYTE_RATE,
    CONSUMER_BYTE_RATE,
    REQUEST_PERCENTAGE,
    CONTROLLER_MUTATION_RATE,
];

/// Kafka's entity types.
pub const USER: &str = "user";
pub const CLIENT_ID: &str = "client-id";

/// One side of an entity: a name, or the default (a null name on the wire).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum EntityName {
    Default,
    Name(String),
}

impl EntityName {
    pub fn from_wire(name: Option<&str>) -> EntityName {
        match name {
            None => EntityName::Default,
            Some(n) => EntityName::Name(n.to_string()),
        }
    }

    pub fn to_wire(&self) -> Option<&str> {
        match self {
            EntityName::Default => None,
            EntityName::Name(n) => Some(n),
        }
    }
}

/// What a quota is set on: a user, a client id, or both.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct QuotaEntity {
    pub user: Option<EntityName>,
    pub client_id: Option<EntityName>,
}

/// Every quota set: entity to key to value.
pub type QuotaConfigs = BTreeMap<QuotaEntity, BTreeMap<String, f64>>;

/// Whose rate a request counts in: the user and/or client id of the entity that set the quota
/// (None where that entity does not name the side).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SensorKey {
    pub user: Option<String>,
    pub client_id: Option<String>,
}

/// The quota on `key` for (user, client id), with whose rate it is measured on; None when
/// no entity sets it.
pub fn resolve(
    configs: &QuotaConfigs,
    user: &str,
    client_id: &str,
    key: &str,
) -> Option<(f64, SensorKey)> {
    use EntityName::{Default as D, Name as N};
    let u = || N(user.to_string());
    let c = || N(client_id.to_string());
    let order = [
        (Some(u()), Some(c())),
        (Some(u()), Some(D)),
        (Some(u()), None),
        (Some(D), Some(c())),
        (Some(D), Some(D)),
        (Some(D), None),
        (None, Some(c())),
        (None, Some(D)),
    ];
    for (eu, ec) in order {
        let has_user = eu.is_some();
        let has_client = ec.is_some();
        let entity = QuotaEntity {
            user: eu,
            client_id: ec,
        };
        if let Some(v) = configs.get(&entity).and_then(|m| m.get(key)) {
            return Some((
                *v,
                SensorKey {
                    user: has_user.then(|| user.to_string()),
                    client_id: has_client.then(|| client_id.to_string()),
                },
            ));
        }
    }
    None
}

/// The quota kinds enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Produce,
    Fetch,
    Request,
}

impl Kind {
    pub fn key(self) -> &'static str {
        match self {
            Kind::Produce => PRODUCER_BYTE_RATE,
            Kind::Fetch => CONSUMER_BYTE_RATE,
            Kind::Request => REQUEST_PERCENTAGE,
        }
    }
}

/// The rates of every client with a quota, by kind and [`SensorKey`]. Entries idle for the
/// kept windows are dropped when the map is swept (every [`SWEEP_EVERY`] recordings), so
/// it holds only clients seen in the last 11 seconds.
#[derive(Default)]
pub struct Throttles {
    rates: Mutex<Rates>,
}

/// The rates, and how many recordings were made (for the sweeps).
#[derive(Default)]
struct Rates {
    by_key: HashMap<(Kind, SensorKey), Rate>,
    recorded: u64,
}

/// Recordings between two sweeps of idle entries.
const SWEEP_EVERY: u64 = 10_000;

impl Throttles {
    /// Records `value` for (user, client id) under `kind`'s quota, if one is set, and
    /// answers how long the client is to be held back (0 within its quota).
    pub fn record(
        &self,
        configs: &QuotaConfigs,
        kind: Kind,
        user: &str,
        client_id: &str,
        value: f64,
        now_ms: i64,
    ) -> i64 {
        let Some((quota, key)) = resolve(configs, user, client_id, kind.key()) else {
            return 0;
        };
        let mut rates = self.rates.lock().unwrap_or_else(|p| p.into_inner());
        rates.recorded += 1;
        if rates.recorded % SWEEP_EVERY == 0 {
            rates.by_key.retain(|_, r| !r.idle(now_ms));
        }
        let rate = rates.by_key.entry((kind, key)).or_default();
        rate.record(now_ms, value);
        let throttle = rate.throttle_ms(now_ms, quota);
        if throttle > 0 && kind == Kind::Fetch {
            // A throttled fetch is answered without records: what was not sent is not
            // counted (Kafka's unrecord).
            rate.record(now_ms, -value);
        }
        throttle
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(user: Option<Option<&str>>, client: Option<Option<&str>>) -> QuotaEntity {
        QuotaEntity {
            user: user.map(EntityName::from_wire),
            client_id: client.map(EntityName::from_wire),
        }
    }

    /// Kafka's precedence: each row adds one entity; the most specific one set wins.
    #[test]
    fn the_most_specific_entity_wins() {
        let rows: [(QuotaEntity, f64, Option<&str>, Option<&str>); 8] = [
            (entity(None, Some(None)), 8.0, None, Some("c")),
            (entity(None, Some(Some("c"))), 7.0, None, Some("c")),
            (entity(Some(None), None), 6.0, Some("u"), None),
            (entity(Some(None), Some(None)), 5.0, Some("u"), Some("c")),
            (
                entity(Some(None), Some(Some("c"))),
                4.0,
                Some("u"),
                Some("c"),
            ),
            (entity(Some(Some("u")), None), 3.0, Some("u"), None),
            (
                entity(Some(Some("u")), Some(None)),
                2.0,
                Some("u"),
                Some("c"),
            ),
            (
                entity(Some(Some("u")), Some(Some("c"))),
                1.0,
                Some("u"),
                Some("c"),
            ),
        ];
        let mut configs = QuotaConfigs::new();
        for (e, v, user, client) in rows {
            configs
                .entry(e)
                .or_default()
                .insert(PRODUCER_BYTE_RATE.into(), v);
            let (got, key) = resolve(&configs, "u", "c", PRODUCER_BYTE_RATE).unwrap();
            assert_eq!(got, v);
            assert_eq!(key.user.as_deref(), user);
            assert_eq!(key.client_id.as_deref(), client);
        }
        // Other users and clients fall to the defaults.
        assert_eq!(
            resolve(&configs, "v", "d", PRODUCER_BYTE_RATE).unwrap().0,
            5.0
        );
        // Another key is unset.
        assert!(resolve(&configs, "u", "c", CONSUMER_BYTE_RATE).is_none());
        assert!(resolve(&QuotaConfigs::new(), "u", "c", PRODUCER_BYTE_RATE).is_none());
    }

    #[test]
    fn clients_share_a_users_quota_and_not_a_default_ones() {
        let mut configs = QuotaConfigs::new();
        configs
            .entry(entity(Some(Some("alice")), None))
            .or_default()
            .insert(PRODUCER_BYTE_RATE.into(), 1000.0);
        configs
            .entry(entity(Some(None), None))
            .or_default()
            .insert(PRODUCER_BYTE_RATE.into(), 1000.0);
        let t = Throttles::default();
        // Two of alice's clients share: 10 s worth together, then one byte more is over.
        assert_eq!(
            t.record(&configs, Kind::Produce, "alice", "a", 5000.0, 0),
            0
        );
        assert_eq!(
            t.record(&configs, Kind::Produce, "alice", "b", 5000.0, 0),
            0
        );
        assert!(t.record(&configs, Kind::Produce, "alice", "b", 1000.0, 0) > 0);
        // Bob and carol each have their own default quota.
        assert_eq!(
            t.record(&configs, Kind::Produce, "bob", "a", 10_000.0, 0),
            0
        );
        assert_eq!(
            t.record(&configs, Kind::Produce, "carol", "a", 10_000.0, 0),
            0
        );
        // No quota on fetches: nothing recorded, never throttled.
        assert_eq!(t.record(&configs, Kind::Fetch, "alice", "a", 1e12, 0), 0);
    }

    #[test]
    fn a_throttled_fetch_is_not_counted() {
        let mut configs = QuotaConfigs::new();
        configs
            .entry(entity(None, Some(Some("c"))))
            .or_default()
            .insert(CONSUMER_BYTE_RATE.into(), 1000.0);
        let t = Throttles::default();
        assert_eq!(t.record(&configs, Kind::Fetch, "u", "c", 9000.0, 0), 0);
        let first = t.record(&configs, Kind::Fetch, "u", "c", 9000.0, 0);
        assert!(first > 0);
        // The throttled 9000 bytes were not sent: the same answer again.
        assert_eq!(t.record(&configs, Kind::Fetch, "u", "c", 9000.0, 0), first);
        // A small one fits.
        assert_eq!(t.record(&configs, Kind::Fetch, "u", "c", 1000.0, 0), 0);
    }
}
