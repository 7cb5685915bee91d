//! The generic-value side of the codec: ciborium's `Value` parsed from, and written as,
//! core deterministic encoding. Used inside the crate for headers and identities, and by its
//! tests and fuzz targets as an oracle (through `internals`); not part of the API, so that a
//! ciborium release is never a breaking change of ours.

use serde::Deserialize as _;

use super::{CborError, Limits, de, decode, encode};

/// Parses bytes in core deterministic encoding into a generic value.
///
/// # Errors
/// Every structural [`CborError`] variant.
pub fn parse_value(bytes: &[u8], limits: Limits) -> Result<ciborium::Value, CborError> {
    decode::check(bytes, limits)?;
    ciborium::Value::deserialize(&mut de::Decoder::new(bytes))
}

/// Canonical encoding of a generic value.
///
/// # Errors
/// [`CborError::Float`], [`CborError::Tag`] or [`CborError::DuplicateKey`] for values that
/// have no canonical encoding here.
pub fn value_to_vec(value: &ciborium::Value) -> Result<Vec<u8>, CborError> {
    let mut out = Vec::new();
    encode::write(&mut out, value)?;
    Ok(out)
}
