//! Kafka's `__consumer_offsets` records: the keys and values a group coordinator appends for
//! every offset commit and every group state change, byte for byte as Kafka 4.1 writes them,
//! so that tools reading the topic (Burrow, `kafka-console-consumer --formatter
//! OffsetsMessageFormatter` / `GroupMetadataMessageFormatter`) understand weir's, and weir
//! reads Kafka's. Pure: encoding and decoding only.
//!
//! Every key and value starts with an int16 version. Strings are int16-length UTF-8 (-1:
//! null), bytes int32-length; from value version 4 (flexible) they are compact (unsigned
//! varint length + 1, 0: null) and every struct ends with tagged fields.
//!
//! Keys (never flexible):
//! - offset commit, version 0 or 1 (Kafka 4.1 writes 1): `group` string, `topic` string,
//!   `partition` int32;
//! - group metadata, version 2: `group` string;
//! - versions 3 and up are the records of the newer group protocols (KIP-848, share and
//!   streams groups): [`RecordError::OtherKey`], for a loader to skip.
//!
//! Offset commit value (Kafka 4.1 writes version 4, or 1 when an expire timestamp is set):
//! `offset` int64, `leaderEpoch` int32 (v3+), `metadata` string, `commitTimestamp` int64,
//! `expireTimestamp` int64 (v1 only); in v4 the tagged field 0 is the topic id (16 bytes),
//! written when known.
//!
//! Group metadata value (Kafka 4.1 writes version 3): `protocolType` string, `generation`
//! int32, `protocol` nullable string, `leader` nullable string, `currentStateTimestamp` int64
//! (v2+), `members` int32-count array of: `memberId` string, `groupInstanceId` nullable
//! string (v3+), `clientId` string, `clientHost` string, `rebalanceTimeout` int32 (v1+),
//! `sessionTimeout` int32, `subscription` bytes, `assignment` bytes.
//!
//! A null value (a tombstone) deletes the key's offset or group; the caller sees it as
//! `None` and never decodes it.

use bytes::{Buf, BufMut, Bytes};

/// Key version of an offset commit as Kafka 4.1 writes it.
pub const OFFSET_KEY_VERSION: i16 = 1;
/// Key version of a group's metadata.
pub const GROUP_KEY_VERSION: i16 = 2;
/// Offset commit value version without an expire timestamp (the first flexible one).
pub const OFFSET_VALUE_VERSION: i16 = 4;
/// Offset commit value version with one (the old OffsetCommit v1 `commit_timestamp` form).
pub const OFFSET_VALUE_EXPIRING_VERSION: i16 = 1;
/// Group metadata value version.
pub const GROUP_VALUE_VERSION: i16 = 3;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("record truncated")]
    Truncated,
    #[error("invalid string (not UTF-8 or a negative length)")]
    BadString,
    #[error("unknown {what} version {version}")]
    UnknownVersion { what: &'static str, version: i16 },
    /// A key of another record type (the newer group protocols'): not ours to load.
    #[error("a key of another record type (version {0})")]
    OtherKey(i16),
    #[error("{0} bytes left over after the record")]
    Trailing(usize),
}

/// A `__consumer_offsets` record key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupKey {
    Offset {
        group: String,
        topic: String,
        partition: i32,
    },
    Group {
        group: String,
    },
}

impl GroupKey {
    /// The group the record belongs to (what places it on a partition).
    pub fn group(&self) -> &str {
        match self {
            GroupKey::Offset { group, .. } | GroupKey::Group { group } => group,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        match self {
            GroupKey::Offset {
                group,
                topic,
                partition,
            } => {
                out.put_i16(OFFSET_KEY_VERSION);
                put_str(&mut out, group);
                put_str(&mut out, topic);
                out.put_i32(*partition);
            }
            GroupKey::Group { group } => {
                out.put_i16(GROUP_KEY_VERSION);
                put_str(&mut out, group);
            }
        }
        out
    }

    pub fn decode(mut b: &[u8]) -> Result<GroupKey, RecordError> {
        let version = get_i16(&mut b)?;
        let key = match version {
            0 | 1 => GroupKey::Offset {
                group: get_str(&mut b)?,
                topic: get_str(&mut b)?,
                partition: get_i32(&mut b)?,
            },
            2 => GroupKey::Group {
                group: get_str(&mut b)?,
            },
            v if v > 2 => return Err(RecordError::OtherKey(v)),
            v => {
                return Err(RecordError::UnknownVersion {
                    what: "key",
                    version: v,
                })
            }
        };
        done(b)?;
        Ok(key)
    }
}

/// A committed offset (the value of [`GroupKey::Offset`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetValue {
    pub offset: i64,
    /// -1: unknown.
    pub leader_epoch: i32,
    pub metadata: String,
    pub commit_timestamp: i64,
    /// Set only by the old OffsetCommit v1 form (a retention of its own).
    pub expire_timestamp: Option<i64>,
    /// The topic's id (v4's tagged field 0), when known.
    pub topic_id: Option<uuid::Uuid>,
}

impl OffsetValue {
    /// Encodes as Kafka 4.1 does: version 4, or version 1 (no leader epoch, no topic id) when
    /// an expire timestamp is set.
    pub fn encode(&self) -> Vec<u8> {
        self.encode_as(OFFSET_VALUE_VERSION)
    }

    /// Encodes as version `version` (3 or 4), or as version 1 when an expire timestamp is set
    /// (whatever `version`). Version 3 is what Kafka 2.1 to 3.9 write: version 4's fields
    /// without the topic id, not flexible (int16-length metadata, no tagged fields).
    pub fn encode_as(&self, version: i16) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 + self.metadata.len());
        match self.expire_timestamp {
            None if version == 3 => {
                out.put_i16(3);
                out.put_i64(self.offset);
                out.put_i32(self.leader_epoch);
                put_str(&mut out, &self.metadata);
                out.put_i64(self.commit_timestamp);
            }
            Some(expire) => {
                out.put_i16(OFFSET_VALUE_EXPIRING_VERSION);
                out.put_i64(self.offset);
                put_str(&mut out, &self.metadata);
                out.put_i64(self.commit_timestamp);
                out.put_i64(expire);
            }
            None => {
                out.put_i16(OFFSET_VALUE_VERSION);
                out.put_i64(self.offset);
                out.put_i32(self.leader_epoch);
                put_compact_str(&mut out, &self.metadata);
                out.put_i64(self.commit_timestamp);
                match self.topic_id.filter(|id| !id.is_nil()) {
                    Some(id) => {
                        // One tagged field: tag 0, 16 bytes.
                        out.put_slice(&[1, 0, 16]);
                        out.put_slice(id.as_bytes());
                    }
                    None => out.put_u8(0),
                }
            }
        }
        out
    }

    /// Decodes versions 0-4.
    pub fn decode(mut b: &[u8]) -> Result<OffsetValue, RecordError> {
        let version = get_i16(&mut b)?;
        if !(0..=4).contains(&version) {
            return Err(RecordError::UnknownVersion {
                what: "offset commit value",
                version,
            });
        }
        let flexible = version >= 4;
        let offset = get_i64(&mut b)?;
        let leader_epoch = if version >= 3 { get_i32(&mut b)? } else { -1 };
        let metadata = get_string(&mut b, flexible)?.unwrap_or_default();
        let commit_timestamp = get_i64(&mut b)?;
        let expire_timestamp = if version == 1 {
            Some(get_i64(&mut b)?)
        } else {
            None
        };
        let mut topic_id = None;
        if flexible {
            for_tagged(&mut b, |tag, data| {
                if tag == 0 && data.len() == 16 {
                    topic_id = uuid::Uuid::from_slice(data).ok();
                }
            })?;
        }
        done(b)?;
        Ok(OffsetValue {
            offset,
            leader_epoch,
            metadata,
            commit_timestamp,
            expire_timestamp,
            topic_id,
        })
    }
}

/// One member of a classic group (in [`GroupValue`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberValue {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub rebalance_timeout: i32,
    pub session_timeout: i32,
    pub subscription: Bytes,
    pub assignment: Bytes,
}

/// A classic group's state (the value of [`GroupKey::Group`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupValue {
    pub protocol_type: String,
    pub generation: i32,
    pub protocol: Option<String>,
    pub leader: Option<String>,
    /// -1: unknown.
    pub current_state_timestamp: i64,
    pub members: Vec<MemberValue>,
}

impl GroupValue {
    /// Encodes as version 3, as Kafka 4.1 does.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        out.put_i16(GROUP_VALUE_VERSION);
        put_str(&mut out, &self.protocol_type);
        out.put_i32(self.generation);
        put_nullable_str(&mut out, self.protocol.as_deref());
        put_nullable_str(&mut out, self.leader.as_deref());
        out.put_i64(self.current_state_timestamp);
        out.put_i32(self.members.len() as i32);
        for m in &self.members {
            put_str(&mut out, &m.member_id);
            put_nullable_str(&mut out, m.group_instance_id.as_deref());
            put_str(&mut out, &m.client_id);
            put_str(&mut out, &m.client_host);
            out.put_i32(m.rebalance_timeout);
            out.put_i32(m.session_timeout);
            out.put_i32(m.subscription.len() as i32);
            out.put_slice(&m.subscription);
            out.put_i32(m.assignment.len() as i32);
            out.put_slice(&m.assignment);
        }
        out
    }

    /// Decodes versions 0-4. A member count is checked against the bytes left before any
    /// allocation (each member takes at least 18 bytes), so a hostile count cannot allocate.
    pub fn decode(mut b: &[u8]) -> Result<GroupValue, RecordError> {
        let version = get_i16(&mut b)?;
        if !(0..=4).contains(&version) {
            return Err(RecordError::UnknownVersion {
                what: "group metadata value",
                version,
            });
        }
        let flexible = version >= 4;
        let protocol_type = get_string(&mut b, flexible)?.ok_or(RecordError::BadString)?;
        let generation = get_i32(&mut b)?;
        let protocol = get_string(&mut b, flexible)?;
        let leader = get_string(&mut b, flexible)?;
        let current_state_timestamp = if version >= 2 { get_i64(&mut b)? } else { -1 };
        let count = get_len(&mut b, flexible)?.unwrap_or(0);
        if count > b.len() / 18 + 1 {
            return Err(RecordError::Truncated);
        }
        let mut members = Vec::with_capacity(count);
        for _ in 0..count {
            let member_id = get_string(&mut b, flexible)?.ok_or(RecordError::BadString)?;
            let group_instance_id = if version >= 3 {
                get_string(&mut b, flexible)?
            } else {
                None
            };
            let client_id = get_string(&mut b, flexible)?.ok_or(RecordError::BadString)?;
            let client_host = get_string(&mut b, flexible)?.ok_or(RecordError::BadString)?;
            let session_then_rebalance = version == 0;
            let (rebalance_timeout, session_timeout) = if session_then_rebalance {
                let s = get_i32(&mut b)?;
                (s, s)
            } else {
                (get_i32(&mut b)?, get_i32(&mut b)?)
            };
            let subscription = get_bytes(&mut b, flexible)?;
            let assignment = get_bytes(&mut b, flexible)?;
            if flexible {
                skip_tagged(&mut b)?;
            }
            members.push(MemberValue {
                member_id,
                group_instance_id,
                client_id,
                client_host,
                rebalance_timeout,
                session_timeout,
                subscription,
                assignment,
            });
        }
        if flexible {
            skip_tagged(&mut b)?;
        }
        done(b)?;
        Ok(GroupValue {
            protocol_type,
            generation,
            protocol,
            leader,
            current_state_timestamp,
            members,
        })
    }
}

pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    out.put_i16(s.len().min(i16::MAX as usize) as i16);
    out.put_slice(&s.as_bytes()[..s.len().min(i16::MAX as usize)]);
}

pub(crate) fn put_compact_str(out: &mut Vec<u8>, s: &str) {
    put_uvarint(out, s.len() as u64 + 1);
    out.put_slice(s.as_bytes());
}

pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.put_u8((v as u8) | 0x80);
        v >>= 7;
    }
    out.put_u8(v as u8);
}

pub(crate) fn put_nullable_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => put_str(out, s),
        None => out.put_i16(-1),
    }
}

pub(crate) fn need(b: &[u8], n: usize) -> Result<(), RecordError> {
    if b.len() < n {
        Err(RecordError::Truncated)
    } else {
        Ok(())
    }
}

pub(crate) fn get_i16(b: &mut &[u8]) -> Result<i16, RecordError> {
    need(b, 2)?;
    Ok(b.get_i16())
}

pub(crate) fn get_i32(b: &mut &[u8]) -> Result<i32, RecordError> {
    need(b, 4)?;
    Ok(b.get_i32())
}

pub(crate) fn get_i64(b: &mut &[u8]) -> Result<i64, RecordError> {
    need(b, 8)?;
    Ok(b.get_i64())
}

pub(crate) fn get_uvarint(b: &mut &[u8]) -> Result<u64, RecordError> {
    let mut value = 0u64;
    for shift in (0..35).step_by(7) {
        need(b, 1)?;
        let byte = b.get_u8();
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(RecordError::Truncated)
}

/// A length: int16 (strings) or int32 (arrays, bytes) in the old versions is handled by the
/// callers; in flexible versions an unsigned varint holding length + 1 (0: null).
pub(crate) fn get_len(b: &mut &[u8], flexible: bool) -> Result<Option<usize>, RecordError> {
    if flexible {
        let n = get_uvarint(b)?;
        return Ok(n.checked_sub(1).map(|n| n as usize));
    }
    let n = get_i32(b)?;
    Ok(usize::try_from(n).ok())
}

pub(crate) fn get_string(b: &mut &[u8], flexible: bool) -> Result<Option<String>, RecordError> {
    let len = if flexible {
        get_len(b, true)?
    } else {
        let n = get_i16(b)?;
        if n < -1 {
            return Err(RecordError::BadString);
        }
        usize::try_from(n).ok()
    };
    let Some(len) = len else {
        return Ok(None);
    };
    need(b, len)?;
    let s = std::str::from_utf8(&b[..len]).map_err(|_| RecordError::BadString)?;
    let s = s.to_string();
    b.advance(len);
    Ok(Some(s))
}

pub(crate) fn get_str(b: &mut &[u8]) -> Result<String, RecordError> {
    get_string(b, false)?.ok_or(RecordError::BadString)
}

pub(crate) fn get_bytes(b: &mut &[u8], flexible: bool) -> Result<Bytes, RecordError> {
    let Some(len) = get_len(b, flexible)? else {
        return Ok(Bytes::new());
    };
    need(b, len)?;
    let out = Bytes::copy_from_slice(&b[..len]);
    b.advance(len);
    Ok(out)
}

pub(crate) fn skip_tagged(b: &mut &[u8]) -> Result<(), RecordError> {
    for_tagged(b, |_, _| {})
}

/// Reads a tagged-field section, handing each (tag, data) to `f`.
pub(crate) fn for_tagged(b: &mut &[u8], mut f: impl FnMut(u64, &[u8])) -> Result<(), RecordError> {
    let count = get_uvarint(b)?;
    for _ in 0..count {
        let tag = get_uvarint(b)?;
        let size = usize::try_from(get_uvarint(b)?).map_err(|_| RecordError::Truncated)?;
        need(b, size)?;
        f(tag, &b[..size]);
        b.advance(size);
    }
    Ok(())
}

pub(crate) fn done(b: &[u8]) -> Result<(), RecordError> {
    if b.is_empty() {
        Ok(())
    } else {
        Err(RecordError::Trailing(b.len()))
    }
}

#[cfg(test)]
#[path = "records_tests.rs"]
mod tests;
