//! Evidence bundles: everything an auditor needs to check one task offline.
//!
//! ```cddl
//! bundle = {
//!   version: 2,
//!   log: { origin: tstr, hash: "blake3" / "sha256" },   ; must match what the auditor pins
//!   checkpoint: bstr,                 ; the signed checkpoint note the proofs lead to
//!   task: bstr .size 16,
//!   entries: [* entry],               ; the task's entries, by ascending index
//!   policies: [* entry],              ; PolicyRegistered entries the task's decisions cite
//!   ? earlier: [+ { old_checkpoint: bstr, proof: [* hash] }],  ; older checkpoints, ascending
//! }
//! entry = { index: uint, envelope: bstr, proof: [* hash] }  ; inclusion proof at the checkpoint size
//! hash = bstr .size 32
//! ```
//!
//! Canonical CBOR, decoded strictly (see [`crate::cbor`]) with a size limit of
//! [`MAX_BUNDLE_LEN`]. Nothing in a bundle is trusted: the auditor checks every signature,
//! proof and checkpoint against what it pins (see `docs/bundle-format.md`).

mod read;

pub(crate) use read::BundleRef;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::cbor::{self, CborError};
use crate::event::TaskId;
use crate::merkle::Hash;

/// The bundle format version this crate writes and reads.
pub const BUNDLE_VERSION: u32 = 2;
/// Largest bundle accepted: 1 GiB.
pub const MAX_BUNDLE_LEN: usize = 1 << 30;

/// Bytes that serialise as a CBOR byte string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bytes(pub Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

struct BytesVisitor;

impl Visitor<'_> for BytesVisitor {
    type Value = Bytes;
    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a byte string")
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Bytes, E> {
        Ok(Bytes(v.to_vec()))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_bytes(BytesVisitor)
    }
}

/// A 32-byte tree hash as a CBOR byte string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeHash(pub Hash);

impl Serialize for NodeHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0.as_bytes())
    }
}

struct NodeHashVisitor;

impl Visitor<'_> for NodeHashVisitor {
    type Value = NodeHash;
    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a 32-byte hash")
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<NodeHash, E> {
        Hash::try_from_slice(v).map(NodeHash).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for NodeHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_bytes(NodeHashVisitor)
    }
}

/// Which log a bundle comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogDescriptor {
    /// The log's checkpoint origin.
    pub origin: String,
    /// Hash profile name (`blake3` or `sha256`).
    pub hash: String,
}

/// One log entry with its inclusion proof.
///
/// Fields are declared in canonical key order (shorter keys first, then bytewise), so the
/// encoder finds them sorted; the order on the wire does not depend on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleEntry {
    /// Index in the log.
    pub index: u64,
    /// Inclusion proof in the tree of the bundle's checkpoint.
    pub proof: Vec<NodeHash>,
    /// The exact COSE_Sign1 bytes.
    pub envelope: Bytes,
}

/// An older checkpoint of the log and a consistency proof from it to the bundle's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleConsistency {
    /// The older signed checkpoint note.
    pub old_checkpoint: Bytes,
    /// Consistency proof from its size to the bundle checkpoint's size.
    pub proof: Vec<NodeHash>,
}

/// An evidence bundle for one task. Fields in canonical key order, as in [`BundleEntry`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// The log.
    pub log: LogDescriptor,
    /// The task.
    pub task: TaskId,
    /// Older checkpoints, by ascending size, each with a consistency proof to `checkpoint`:
    /// those around each entry (when it entered the log) and one the auditor holds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier: Vec<BundleConsistency>,
    /// The task's entries.
    pub entries: Vec<BundleEntry>,
    /// Always [`BUNDLE_VERSION`].
    pub version: u32,
    /// Registered policies the task's decisions cite.
    pub policies: Vec<BundleEntry>,
    /// The signed checkpoint note the proofs lead to.
    pub checkpoint: Bytes,
}

/// Why bytes are not a bundle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// Not canonical CBOR of a bundle.
    #[error("bundle encoding: {0}")]
    Cbor(#[from] CborError),
    /// Another format version.
    #[error("unsupported bundle version {0}")]
    Version(u32),
}

impl Bundle {
    /// The canonical CBOR encoding.
    ///
    /// # Errors
    /// Only serde failures.
    pub fn to_cbor(&self) -> Result<Vec<u8>, CborError> {
        cbor::to_vec(self)
    }

    /// Whether bytes starting with `prefix` can be a bundle at all: a canonical bundle is a
    /// map of six or seven entries whose first key is `log`. Refuses only what
    /// [`Bundle::from_cbor`] refuses, so a reader can turn away a large input that is not a
    /// bundle from its first five bytes, before reading the rest.
    #[must_use]
    pub fn may_start_with(prefix: &[u8]) -> bool {
        const LOG: [u8; 4] = [0x63, b'l', b'o', b'g'];
        match prefix.split_first() {
            None => true,
            Some((&head, rest)) => {
                matches!(head, 0xa6 | 0xa7) && LOG.starts_with(&rest[..rest.len().min(4)])
            }
        }
    }

    /// Strictly decodes a bundle.
    ///
    /// # Errors
    /// [`BundleError`].
    pub fn from_cbor(bytes: &[u8]) -> Result<Self, BundleError> {
        BundleRef::decode(bytes).map(|b| b.to_bundle())
    }
}
