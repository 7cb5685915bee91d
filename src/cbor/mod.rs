//! Deterministic CBOR: canonical encoding and a strict decoder.
//!
//! Encoding follows RFC 8949 §4.2.1 (core deterministic encoding): shortest heads, definite
//! lengths, map keys sorted by their encoded bytes, no floats, no tags. The decoder accepts
//! exactly that and nothing else: non-shortest integers, indefinite lengths, unsorted or
//! duplicate keys, tags, floats, simple values other than `false`/`true`/`null`, invalid
//! UTF-8, trailing bytes, nesting deeper than [`Limits::max_depth`] and inputs over
//! [`Limits::max_len`] are each rejected with their own [`CborError`]. Typed decoding then
//! rejects unknown or missing fields, and finally re-encodes the value and requires the
//! input bytes back.
//!
//! **Invariant** (tested and fuzzed): if `from_slice(b)` succeeds then `to_vec(&value) == b`.
//!
//! `ciborium` provides the generic value model; reading and writing bytes is ours, because
//! `ciborium` accepts non-canonical input and does not sort map keys. Typed values go
//! straight between bytes and serde (`de`, `ser`) without a value tree in between.

mod de;
mod decode;
mod encode;
mod raw;
mod ser;
pub(crate) mod value;

pub(crate) use self::value::{parse_value, value_to_vec};
pub(crate) use decode::{check, first_item_len, head_at};
pub(crate) use encode::{
    write_array_head, write_bstr, write_bstr_head, write_map_head, write_tstr, write_uint,
};
pub(crate) use raw::Raw;

#[cfg(test)]
mod tests;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Bounds on what the decoder accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest input in bytes; default 64 KiB.
    pub max_len: usize,
    /// Deepest nesting of arrays and maps; default 16.
    pub max_depth: usize,
}

/// Default input limit: 64 KiB.
pub const DEFAULT_MAX_LEN: usize = 64 * 1024;
/// Default nesting limit.
pub const DEFAULT_MAX_DEPTH: usize = 16;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_len: DEFAULT_MAX_LEN,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

impl Limits {
    /// Limits with another maximum length.
    #[must_use]
    pub const fn with_max_len(self, max_len: usize) -> Self {
        Self { max_len, ..self }
    }

    /// Limits with another maximum depth.
    #[must_use]
    pub const fn with_max_depth(self, max_depth: usize) -> Self {
        Self { max_depth, ..self }
    }
}

/// Why bytes are not acceptable CBOR, or a value could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CborError {
    /// The input is longer than the limit.
    #[error("input is {len} bytes, over the {max}-byte limit")]
    TooLarge {
        /// Input length.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// The input ends inside an item (or declares more items than it could hold).
    #[error("input truncated at byte {offset}")]
    Truncated {
        /// Where the incomplete item starts.
        offset: usize,
    },
    /// Bytes follow the single top-level item.
    #[error("trailing bytes at byte {offset}")]
    TrailingBytes {
        /// First trailing byte.
        offset: usize,
    },
    /// An integer, length or tag uses a longer head than needed.
    #[error("non-shortest integer encoding at byte {offset}")]
    NonShortestInteger {
        /// The head's position.
        offset: usize,
    },
    /// An indefinite-length string, array or map.
    #[error("indefinite length at byte {offset}")]
    IndefiniteLength {
        /// The head's position.
        offset: usize,
    },
    /// A reserved additional-information value (28 to 30).
    #[error("reserved additional information at byte {offset}")]
    Reserved {
        /// The head's position.
        offset: usize,
    },
    /// A "break" outside an indefinite-length item.
    #[error("unexpected break at byte {offset}")]
    UnexpectedBreak {
        /// Its position.
        offset: usize,
    },
    /// Map keys out of order.
    #[error("map keys not in canonical order at byte {offset}")]
    UnsortedKeys {
        /// The out-of-order key.
        offset: usize,
    },
    /// The same map key twice.
    #[error("duplicate map key at byte {offset}")]
    DuplicateKey {
        /// The repeated key.
        offset: usize,
    },
    /// A tag (none are used in this crate's payloads).
    #[error("tag {tag} at byte {offset} is not allowed")]
    Tag {
        /// Its position.
        offset: usize,
        /// The tag number.
        tag: u64,
    },
    /// A floating-point value.
    #[error("floating-point value at byte {offset} is not allowed")]
    Float {
        /// Its position.
        offset: usize,
    },
    /// A simple value other than false, true or null.
    #[error("simple value {value} at byte {offset} is not allowed")]
    UnsupportedSimple {
        /// Its position.
        offset: usize,
        /// The simple value.
        value: u8,
    },
    /// A text string that is not UTF-8.
    #[error("invalid UTF-8 in text string at byte {offset}")]
    InvalidUtf8 {
        /// The string's position.
        offset: usize,
    },
    /// Nesting deeper than the limit.
    #[error("nesting deeper than {max} at byte {offset}")]
    TooDeep {
        /// The item that went too deep.
        offset: usize,
        /// Limit.
        max: usize,
    },
    /// Well-formed CBOR that does not match the expected structure: an unknown, missing or
    /// mistyped field.
    #[error("schema: {0}")]
    Schema(String),
    /// Structurally canonical bytes whose typed value encodes differently (for example an
    /// explicit `null` where the canonical form omits the field).
    #[error("not the canonical encoding of its value")]
    NotCanonical,
}

/// The encoded elements of `bytes` if it is one array in core deterministic encoding
/// (structural checks only: text inside is not checked for UTF-8); `None` if it is another
/// kind of item.
pub(crate) fn array_elements(
    bytes: &[u8],
    limits: Limits,
) -> Result<Option<Vec<&[u8]>>, CborError> {
    decode::check(bytes, limits)?;
    let Some((4, count, mut at)) = decode::head_at(bytes, 0) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for _ in 0..count {
        // Checked above: every element is complete and within `bytes`.
        let len = decode::first_item_len(&bytes[at..], limits)?;
        out.push(&bytes[at..at + len]);
        at += len;
    }
    Ok(Some(out))
}

/// The content of an encoded byte string, or `None` for another kind of item.
pub(crate) fn byte_string(item: &[u8]) -> Option<&[u8]> {
    match decode::head_at(item, 0)? {
        (2, len, at) => item.get(at..at.checked_add(usize::try_from(len).ok()?)?),
        _ => None,
    }
}

/// Splits a CBOR sequence (RFC 8742) of tagged COSE_Sign1 envelopes into its items, each
/// checked against the structural rules (text is checked for UTF-8 when the item is
/// parsed); an item may start with the tag byte `0xd2`.
///
/// # Errors
/// The first item's [`CborError`] (offsets relative to that item).
pub fn split_envelopes(bytes: &[u8], limits: Limits) -> Result<Vec<&[u8]>, CborError> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let tag = usize::from(rest[0] == 0xd2);
        let len = tag + decode::first_item_len(&rest[tag..], limits)?;
        if len > limits.max_len {
            return Err(CborError::TooLarge {
                len,
                max: limits.max_len,
            });
        }
        out.push(&rest[..len]);
        rest = &rest[len..];
    }
    Ok(out)
}

/// Canonical encoding of a serde value.
///
/// # Errors
/// [`CborError::Schema`] when serde cannot represent the value, [`CborError::Float`] or
/// [`CborError::Tag`] for what has no encoding here, [`CborError::DuplicateKey`] for a map
/// whose keys collide.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CborError> {
    encode_with_capacity(value, 1024)
}

fn encode_with_capacity<T: Serialize + ?Sized>(value: &T, n: usize) -> Result<Vec<u8>, CborError> {
    let mut enc = ser::Encoder::with_capacity(n);
    value.serialize(&mut enc)?;
    Ok(enc.out)
}

/// Strictly decodes a serde value with the default [`Limits`].
///
/// # Errors
/// Any [`CborError`].
pub fn from_slice<T: Serialize + DeserializeOwned>(bytes: &[u8]) -> Result<T, CborError> {
    from_slice_with(bytes, Limits::default())
}

/// Strictly decodes a serde value: the structural checks, then the typed value read straight
/// from the bytes, then the round trip.
///
/// # Errors
/// Any [`CborError`].
pub fn from_slice_with<T: Serialize + DeserializeOwned>(
    bytes: &[u8],
    limits: Limits,
) -> Result<T, CborError> {
    from_slice_borrowed(bytes, limits)
}

/// [`from_slice_with`] for values that borrow from `bytes`.
pub(crate) fn from_slice_borrowed<'a, T: Serialize + Deserialize<'a>>(
    bytes: &'a [u8],
    limits: Limits,
) -> Result<T, CborError> {
    if let Some(typed) = read_and_round_trip(bytes, limits) {
        return Ok(typed);
    }
    // Refused: decode again the long way, which names the first rule the bytes break.
    let typed: T = read_fields(bytes, limits)?;
    // The round trip is the last word on canonical form: anything the structural checks
    // cannot see (explicit nulls, alternative spellings serde would normalise) ends here.
    if !encodes_to(&typed, bytes)? {
        return Err(CborError::NotCanonical);
    }
    Ok(typed)
}

/// The accepting path of the strict decode, without the structural pass where it adds
/// nothing: when the typed value re-encodes to exactly `bytes`, the bytes are the canonical
/// encoding our encoder writes, which is every rule the structural pass checks. Items kept
/// encoded ([`Raw`]) are the exception (the re-encoding compares them as they are), so a
/// read that handed one out still takes the structural pass. `None` for anything refused,
/// and the caller decodes again to say why; the bounded decoder makes reading unchecked
/// bytes safe (every length is checked, nesting is limited).
fn read_and_round_trip<'a, T: Serialize + Deserialize<'a>>(
    bytes: &'a [u8],
    limits: Limits,
) -> Option<T> {
    if bytes.len() > limits.max_len {
        return None;
    }
    let mut decoder = de::Decoder::bounded(bytes, limits.max_depth);
    let typed = T::deserialize(&mut decoder).ok()?;
    if !decoder.at_end() {
        return None;
    }
    if decoder.saw_raw() && decode::check(bytes, limits).is_err() {
        return None;
    }
    encodes_to(&typed, bytes).ok()?.then_some(typed)
}

/// Reads the fields `T` names out of checked CBOR, with no round trip. Alone it is only for
/// re-reading items this crate already accepted strictly (the index keys of a store's own
/// entries), never for accepting input: `T` may skip fields, so it accepts far more than
/// [`from_slice_with`], which adds the round trip.
pub(crate) fn read_fields<'a, T: Deserialize<'a>>(
    bytes: &'a [u8],
    limits: Limits,
) -> Result<T, CborError> {
    decode::check(bytes, limits)?;
    let mut decoder = de::Decoder::new(bytes);
    let typed = T::deserialize(&mut decoder)?;
    if !decoder.at_end() {
        return Err(CborError::TrailingBytes { offset: 0 });
    }
    Ok(typed)
}

/// Largest scratch encoder kept for the next round trip on this thread.
const SCRATCH_KEEP: usize = 1 << 20;

thread_local! {
    /// The round trip's encoder, reused so that strict decoding allocates only what it
    /// returns (a fresh encoder per decode was a third of the round trip's cost).
    static SCRATCH: std::cell::RefCell<ser::Encoder> =
        std::cell::RefCell::new(ser::Encoder::with_capacity(0));
}

/// Whether `value` encodes to exactly `bytes`.
fn encodes_to<T: Serialize + ?Sized>(value: &T, bytes: &[u8]) -> Result<bool, CborError> {
    SCRATCH.with(|cell| {
        // Busy only if a `Serialize` impl itself decodes; then use a fresh encoder.
        let Ok(mut enc) = cell.try_borrow_mut() else {
            return Ok(encode_with_capacity(value, bytes.len())? == bytes);
        };
        // Raw items are checked in place, not copied (`ser::Encoder::matches`); if the
        // encoder had to move bytes across one, encode again in full. The one fast path kept
        // of the strict readers, for its measured saving on the audit (`docs/performance.md`,
        // "One strict reader per format").
        enc.set_comparing(true);
        let mut same = value
            .serialize(&mut *enc)
            .map(|()| enc.gaps_usable() && enc.matches(bytes));
        if !enc.gaps_usable() {
            enc.set_comparing(false);
            same = value.serialize(&mut *enc).map(|()| enc.out == bytes);
        }
        if enc.capacity() > SCRATCH_KEEP {
            *enc = ser::Encoder::with_capacity(0);
        }
        same
    })
}
