//! Items kept encoded. A [`Raw`] field decodes to the exact bytes of one item of checked input
//! and encodes them back verbatim, so a large container can be decoded shallowly and its parts
//! decoded later, each strictly and on any thread.
//!
//! Canonical form is not lost: the container's bytes passed the structural checks as a whole,
//! the container's round trip covers everything outside its `Raw` parts, and each part gets
//! its own full strict decode (round trip included) when it is read.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The newtype-struct name through which the decoder and encoder recognise a [`Raw`]. Like
/// ciborium's `@@TAG@@`, it is reserved: no other type may use it.
pub(crate) const RAW_NAME: &str = "@@WARRANT_RAW@@";

/// The encoded bytes of one item of input that [`super::from_slice_borrowed`] checked.
///
/// Crate-private on purpose: decoded through the strict decoder, its bytes are always one
/// item that passed the structural checks, which is what makes writing them back verbatim
/// canonical. (A serde deserializer that hands a newtype struct borrowed bytes could fill one
/// with anything; nothing in the crate does that.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Raw<'a>(&'a [u8]);

impl<'a> Raw<'a> {
    /// The item's encoding.
    pub(crate) fn bytes(self) -> &'a [u8] {
        self.0
    }
}

/// What the encoder writes without a head of its own.
struct Verbatim<'a>(&'a [u8]);

impl Serialize for Verbatim<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

impl Serialize for Raw<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(RAW_NAME, &Verbatim(self.0))
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw<'de>;
    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("an item read by the strict CBOR decoder")
    }
    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Raw<'de>, E> {
        Ok(Raw(v))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Raw<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_newtype_struct(RAW_NAME, RawVisitor)
    }
}
