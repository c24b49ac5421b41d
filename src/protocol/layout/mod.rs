//! The wire layout of every request body weir accepts, and a walker that bounds every
//! length in a body BEFORE kafka-protocol decodes it.
//!
//! # Why
//!
//! kafka-protocol (0.15.1, and at least up to 0.18) decodes an array with
//! `Vec::with_capacity(n)`, where `n` is the element count exactly as it came off the wire:
//! an `Int32` for a classic array, an unsigned varint minus one for a compact array. A
//! 19-byte Metadata v0 request whose topic count is `0x7fffffff` makes it ask the allocator
//! for ~154 GB, and the process aborts. Every other connection dies with it.
//!
//! # The invariant
//!
//! [`check`] walks a body exactly as Kafka's schema (and kafka-protocol's generated
//! decoders) do and refuses it unless, at every array, `count × (smallest encoding of one
//! element) <= bytes remaining` after the length. Every element of every array weir accepts
//! takes at least one byte (a unit test proves it for every API and version), so an accepted
//! body never claims more elements than it has bytes, and no capacity kafka-protocol reserves
//! can exceed the frame size (itself bounded by `socket.request.max.bytes`) times the size of
//! one decoded element. String and bytes lengths are held to the bytes remaining too, and a
//! negative length is refused unless it is the null marker of a nullable field.
//!
//! The walker is never stricter than kafka-protocol: whatever kafka-protocol decodes, [`check`]
//! accepts (it refuses only what kafka-protocol would also fail on after its allocation, or
//! fail on outright). It is sometimes more lenient (it does not check UTF-8, nor that a known
//! tagged field appears only at the versions that define it); the decoder still refuses those.
//! Trailing bytes after the body are ignored, as kafka-protocol ignores them.
//!
//! # Primitive encodings (all integers big-endian)
//!
//! ```text
//! INT8 / BOOLEAN     1 byte
//! INT16              2 bytes          INT32   4 bytes        INT64   8 bytes
//! UUID               16 bytes
//! UNSIGNED_VARINT    1..=5 bytes, 7 bits per byte, least significant group first; the high
//!                    bit of a byte means "another byte follows". As kafka-protocol does, a
//!                    fifth byte always ends the number (its high bit is ignored) and bits
//!                    past 32 are dropped.
//! STRING             INT16 length n, then n bytes; NULLABLE_STRING: n = -1 is null
//! COMPACT_STRING     UNSIGNED_VARINT n+1, then n bytes; 0 is null (nullable only)
//! BYTES              INT32 length n, then n bytes; nullable: n = -1 is null
//! COMPACT_BYTES      UNSIGNED_VARINT n+1, then n bytes; 0 is null (nullable only)
//! ARRAY              INT32 count n, then n elements; nullable: n = -1 is null
//! COMPACT_ARRAY      UNSIGNED_VARINT n+1, then n elements; 0 is null (nullable only)
//! NULLABLE STRUCT    INT8 marker: 1 = the struct follows; anything else = null
//! TAGGED_FIELDS      UNSIGNED_VARINT count, then per field: UNSIGNED_VARINT tag,
//!                    UNSIGNED_VARINT size, then the field (size bytes)
//! ```
//!
//! From a message's first flexible version on, strings, bytes and arrays use the compact
//! forms and every struct (the body itself and each element) ends with a tagged-fields
//! section. A tag the layout knows at that version is walked by its type, as kafka-protocol
//! does (it ignores the announced size); any other tag is skipped by its size.

mod requests;
#[cfg(test)]
mod samples;
#[cfg(test)]
mod samples_next;
#[cfg(test)]
mod samples_security;
#[cfg(test)]
mod samples_txn;
#[cfg(test)]
mod tests;

use kafka_protocol::messages::ApiKey;

use super::ProtocolError;

/// The type of one field on the wire. String, bytes and array types switch to their compact
/// encodings at the message's first flexible version.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ty {
    I8,
    I16,
    I32,
    I64,
    Uuid,
    Bool,
    /// STRING / COMPACT_STRING, never null.
    Str,
    /// A string that may be null.
    NStr,
    /// BYTES / COMPACT_BYTES, never null.
    Bytes,
    /// Bytes that may be null (Produce records).
    NBytes,
    /// An array of the given element type, never null.
    Array(&'static Ty),
    /// An array that may be null.
    NArray(&'static Ty),
    /// A nested struct, inline (a tagged field's value, or an array element).
    Struct(&'static [Field]),
    /// A nullable struct behind an INT8 presence marker.
    OptStruct(&'static [Field]),
}

/// One field of a struct: present in versions `since..=until`, in the tagged-fields section
/// (under `tag`) or in line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) since: i16,
    pub(crate) until: i16,
    pub(crate) tag: Option<u32>,
    pub(crate) ty: Ty,
}

/// A field present in every version; narrow it with [`Field::since`] and [`Field::until`].
pub(crate) const fn f(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        since: 0,
        until: i16::MAX,
        tag: None,
        ty,
    }
}

impl Field {
    pub(crate) const fn since(mut self, version: i16) -> Field {
        self.since = version;
        self
    }
    pub(crate) const fn until(mut self, version: i16) -> Field {
        self.until = version;
        self
    }
    /// A tagged field (only meaningful in flexible versions).
    pub(crate) const fn tag(mut self, tag: u32) -> Field {
        self.tag = Some(tag);
        self
    }
    pub(crate) fn present(&self, version: i16) -> bool {
        self.since <= version && version <= self.until
    }
}

/// One request body: its API, the highest version described, the first flexible version
/// (`i16::MAX` if none), and its top-level fields.
#[derive(Debug)]
pub(crate) struct Message {
    pub(crate) key: ApiKey,
    pub(crate) max: i16,
    pub(crate) flexible: i16,
    pub(crate) body: &'static [Field],
}

/// The layout weir holds for `key`, if any.
pub(crate) fn message(key: ApiKey) -> Option<&'static Message> {
    requests::MESSAGES.iter().find(|m| m.key == key)
}

/// Refuses a request body whose lengths cannot be honest (see the module doc) before
/// kafka-protocol decodes it. `Err` closes the connection, as Kafka does for a request it
/// cannot parse. `Ok` gives an upper bound on the heap memory decoding it takes, beyond
/// the body's own bytes (see [`decoded_size`]).
pub fn check(key: ApiKey, version: i16, body: &[u8]) -> Result<usize, ProtocolError> {
    let mut w = Walker::new(key, version, body)?;
    w.run()?;
    Ok(w.decoded)
}

/// Walks `body` and returns how many bytes the request occupies (trailing bytes are left).
#[cfg(test)]
pub(crate) fn walk(key: ApiKey, version: i16, body: &[u8]) -> Result<usize, ProtocolError> {
    Walker::new(key, version, body)?.run()
}

/// What one unknown tagged field may cost once decoded: kafka-protocol keeps them in a
/// `BTreeMap<i32, Bytes>` per struct, whose first entry allocates a whole node (11 slots).
pub(crate) const UNKNOWN_TAG_BYTES: usize = 512;

/// An upper bound on the bytes one decoded value of `ty` takes inline (in its struct, or in
/// the buffer of the `Vec` holding an array's elements), at any version: kafka-protocol's
/// structs hold the fields of every version. Strings and bytes are `Bytes` views of the
/// request (32 bytes, no copy; counted as 40), arrays are `Vec`s (24; counted as 32), a
/// struct is its fields each padded to 8 bytes plus its map of unknown tagged fields (24)
/// and 8 of slack. Array elements count in
/// the walk, [`UNKNOWN_TAG_BYTES`] per unknown tag: summed, the bound on what decoding a body
/// allocates. A unit test holds this above `size_of` of the decoded element types.
pub(crate) fn decoded_size(ty: &Ty) -> usize {
    match ty {
        Ty::I8 | Ty::Bool => 1,
        Ty::I16 => 2,
        Ty::I32 => 4,
        Ty::I64 => 8,
        Ty::Uuid => 16,
        Ty::Str | Ty::NStr | Ty::Bytes | Ty::NBytes => 40,
        Ty::Array(_) | Ty::NArray(_) => 32,
        Ty::Struct(fields) => struct_size(fields),
        Ty::OptStruct(fields) => struct_size(fields) + 8,
    }
}

fn struct_size(fields: &[Field]) -> usize {
    let inline: usize = fields
        .iter()
        .map(|f| decoded_size(&f.ty).next_multiple_of(8))
        .sum();
    inline + 24 + 8
}

/// The fewest bytes `ty` can occupy at `version`; an array's count is held to the bytes
/// remaining divided by this for its element type.
pub(crate) fn min_size(ty: &Ty, version: i16, flexible: bool) -> usize {
    match ty {
        Ty::I8 | Ty::Bool | Ty::OptStruct(_) => 1,
        Ty::I16 => 2,
        Ty::I32 => 4,
        Ty::I64 => 8,
        Ty::Uuid => 16,
        Ty::Str | Ty::NStr if !flexible => 2,
        Ty::Bytes | Ty::NBytes | Ty::Array(_) | Ty::NArray(_) if !flexible => 4,
        Ty::Str | Ty::NStr | Ty::Bytes | Ty::NBytes | Ty::Array(_) | Ty::NArray(_) => 1,
        Ty::Struct(fields) => {
            let inline: usize = fields
                .iter()
                .filter(|f| f.tag.is_none() && f.present(version))
                .map(|f| min_size(&f.ty, version, flexible))
                .sum();
            inline + usize::from(flexible)
        }
    }
}

/// What the walker saw at one value (kept in tests, for the tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    /// A fixed-size value, a present struct.
    Value,
    /// A null string, bytes, array or struct.
    Null,
    /// A string/bytes length or an array count.
    Len(u64),
}

/// One field visit, for the tests: where the field starts, how wide its length prefix is.
#[cfg(test)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    pub(crate) field: &'static Field,
    pub(crate) at: usize,
    pub(crate) prefix: usize,
    pub(crate) compact: bool,
    pub(crate) seen: Seen,
}

pub(crate) struct Walker<'a> {
    msg: &'static Message,
    version: i16,
    flexible: bool,
    buf: &'a [u8],
    pos: usize,
    /// The heap decoding takes, as far as walked (see [`decoded_size`]).
    decoded: usize,
    #[cfg(test)]
    pub(crate) marks: Vec<Mark>,
    /// Tests only: hold array counts to the bytes remaining, ignoring element sizes.
    #[cfg(test)]
    pub(crate) lenient: bool,
}

impl<'a> Walker<'a> {
    pub(crate) fn new(key: ApiKey, version: i16, buf: &'a [u8]) -> Result<Self, ProtocolError> {
        let msg = message(key)
            .ok_or_else(|| ProtocolError::Decode(format!("{key:?}: no wire layout")))?;
        if !(0..=msg.max).contains(&version) {
            return Err(ProtocolError::Decode(format!(
                "{key:?} v{version}: no wire layout for this version"
            )));
        }
        Ok(Walker {
            msg,
            version,
            flexible: version >= msg.flexible,
            buf,
            pos: 0,
            decoded: 0,
            #[cfg(test)]
            marks: Vec::new(),
            #[cfg(test)]
            lenient: false,
        })
    }

    /// Walks the whole body; returns how many bytes it occupies.
    pub(crate) fn run(&mut self) -> Result<usize, ProtocolError> {
        self.fields(self.msg.body)?;
        Ok(self.pos)
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn err(&self, field: &Field, what: std::fmt::Arguments<'_>) -> ProtocolError {
        ProtocolError::Decode(format!(
            "{:?} v{} {}: {what}",
            self.msg.key, self.version, field.name
        ))
    }

    /// Consumes `n` bytes, refusing a body that ends first.
    fn take(&mut self, field: &Field, n: usize) -> Result<&'a [u8], ProtocolError> {
        if n > self.remaining() {
            return Err(self.err(
                field,
                format_args!(
                    "truncated: {n} bytes needed, {} remaining",
                    self.remaining()
                ),
            ));
        }
        let bytes = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(bytes)
    }

    fn int(&mut self, field: &Field, n: usize) -> Result<i64, ProtocolError> {
        let mut v: i64 = 0;
        for (i, b) in self.take(field, n)?.iter().enumerate() {
            // Sign-extend from the first byte.
            v = if i == 0 {
                i64::from(*b as i8)
            } else {
                (v << 8) | i64::from(*b)
            };
        }
        Ok(v)
    }

    /// An UNSIGNED_VARINT read exactly as kafka-protocol reads it (see the module doc).
    fn uvarint(&mut self, field: &Field) -> Result<u32, ProtocolError> {
        let mut value: u32 = 0;
        for i in 0..5 {
            let b = self.take(field, 1)?[0];
            value |= u32::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                break;
            }
        }
        Ok(value)
    }

    /// Reads a length prefix: `None` for null. Non-nullable fields refuse the null marker,
    /// and every field refuses other negative lengths.
    fn length(
        &mut self,
        field: &Field,
        width: usize,
        nullable: bool,
    ) -> Result<Option<u64>, ProtocolError> {
        let n = if self.flexible {
            match self.uvarint(field)? {
                0 => None,
                n => Some(u64::from(n - 1)),
            }
        } else {
            match self.int(field, width)? {
                -1 => None,
                n if n < 0 => {
                    return Err(self.err(field, format_args!("negative length {n}")));
                }
                n => Some(n as u64),
            }
        };
        if n.is_none() && !nullable {
            return Err(self.err(field, format_args!("null in a non-nullable field")));
        }
        Ok(n)
    }

    fn fields(&mut self, fields: &'static [Field]) -> Result<(), ProtocolError> {
        for field in fields {
            if field.tag.is_none() && field.present(self.version) {
                self.value(field, &field.ty)?;
            }
        }
        if self.flexible {
            self.tagged(fields)?;
        }
        Ok(())
    }

    /// A tagged-fields section; `fields` supplies the tags known at this version.
    fn tagged(&mut self, fields: &'static [Field]) -> Result<(), ProtocolError> {
        const SECTION: Field = f("tagged fields", Ty::Bytes);
        let count = self.uvarint(&SECTION)?;
        for _ in 0..count {
            let tag = self.uvarint(&SECTION)?;
            let size = self.uvarint(&SECTION)? as usize;
            match fields
                .iter()
                .find(|f| f.tag == Some(tag) && f.present(self.version))
            {
                Some(known) => self.value(known, &known.ty)?,
                None => {
                    self.take(&SECTION, size)?;
                    self.decoded = self.decoded.saturating_add(UNKNOWN_TAG_BYTES);
                }
            }
        }
        Ok(())
    }

    /// Walks one field's value, recording the visit in tests.
    fn value(&mut self, field: &'static Field, ty: &'static Ty) -> Result<(), ProtocolError> {
        #[cfg(test)]
        let (at, index) = (self.pos, self.marks.len());
        #[cfg(test)]
        self.marks.push(Mark {
            field,
            at,
            prefix: 0,
            compact: self.flexible,
            seen: Seen::Value,
        });
        let _seen = self.raw(field, ty)?;
        #[cfg(test)]
        {
            let fixed = if matches!(ty, Ty::Str | Ty::NStr) {
                2
            } else {
                4
            };
            let mark = &mut self.marks[index];
            mark.seen = _seen;
            let is_length = matches!(
                ty,
                Ty::Str | Ty::NStr | Ty::Bytes | Ty::NBytes | Ty::Array(_) | Ty::NArray(_)
            );
            mark.prefix = match (is_length, self.flexible) {
                (false, _) => 0,
                (true, false) => fixed,
                // The varint ends at the first byte below 0x80, or after five bytes.
                (true, true) => (0..5)
                    .find(|i| self.buf[at + i] < 0x80)
                    .map_or(5, |i| i + 1),
            };
        }
        Ok(())
    }

    /// Walks one value of type `ty` (a field's, or an array element's).
    fn raw(&mut self, field: &'static Field, ty: &'static Ty) -> Result<Seen, ProtocolError> {
        let fixed = match ty {
            Ty::I8 | Ty::Bool => 1,
            Ty::I16 => 2,
            Ty::I32 => 4,
            Ty::I64 => 8,
            Ty::Uuid => 16,
            _ => 0,
        };
        Ok(match ty {
            Ty::I8 | Ty::Bool | Ty::I16 | Ty::I32 | Ty::I64 | Ty::Uuid => {
                self.take(field, fixed)?;
                Seen::Value
            }
            Ty::Str | Ty::NStr | Ty::Bytes | Ty::NBytes => {
                let (width, nullable) = match ty {
                    Ty::Str => (2, false),
                    Ty::NStr => (2, true),
                    Ty::Bytes => (4, false),
                    _ => (4, true),
                };
                let n = self.length(field, width, nullable)?;
                if let Some(n) = n {
                    let remaining = self.remaining();
                    if n > remaining as u64 {
                        return Err(self.err(
                            field,
                            format_args!("length {n} exceeds the {remaining} bytes remaining"),
                        ));
                    }
                    self.pos += n as usize;
                }
                n.map_or(Seen::Null, Seen::Len)
            }
            Ty::Array(elem) | Ty::NArray(elem) => {
                let n = self.length(field, 4, matches!(ty, Ty::NArray(_)))?;
                if let Some(n) = n {
                    self.array(field, elem, n)?;
                }
                n.map_or(Seen::Null, Seen::Len)
            }
            Ty::Struct(fields) => {
                self.fields(fields)?;
                Seen::Value
            }
            Ty::OptStruct(fields) => {
                if self.take(field, 1)?[0] == 1 {
                    self.fields(fields)?;
                    Seen::Value
                } else {
                    Seen::Null
                }
            }
        })
    }

    fn array(
        &mut self,
        field: &'static Field,
        elem: &'static Ty,
        n: u64,
    ) -> Result<(), ProtocolError> {
        let min = min_size(elem, self.version, self.flexible).max(1);
        #[cfg(test)]
        let min = if self.lenient { 1 } else { min };
        let remaining = self.remaining();
        if n.saturating_mul(min as u64) > remaining as u64 {
            return Err(if min == 1 {
                self.err(
                    field,
                    format_args!("array length {n} exceeds the {remaining} bytes remaining"),
                )
            } else {
                self.err(
                    field,
                    format_args!(
                        "array length {n} exceeds the {remaining} bytes remaining \
                         (each element takes at least {min})"
                    ),
                )
            });
        }
        // n is at most the body's length here: no overflow in practice, saturating anyway.
        let bytes = (n as usize).saturating_mul(decoded_size(elem));
        self.decoded = self.decoded.saturating_add(bytes);
        for _ in 0..n {
            self.raw(field, elem)?;
        }
        Ok(())
    }
}
