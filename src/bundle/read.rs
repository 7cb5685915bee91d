//! Reading a bundle without copying it: the bundle is decoded shallowly, its entries kept
//! encoded, then every entry is decoded strictly on its own, on all cores for a large bundle.
//! Envelopes and the checkpoint stay borrowed from the input.
//!
//! This accepts exactly what decoding [`Bundle`] in one go accepts (tested on mutations in
//! `tests/bundle_oracle.rs`, and fuzzed): the shallow round trip covers everything but the
//! entries' contents (checked in place, see `cbor::raw`), and each entry has its own round
//! trip. A refused bundle is decoded again the long way, the whole input through the
//! structural checks first, so that the error names the first rule broken.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::{
    BUNDLE_VERSION, Bundle, BundleConsistency, BundleEntry, BundleError, Bytes, LogDescriptor,
    MAX_BUNDLE_LEN, NodeHash,
};
use crate::cbor::{self, CborError, Limits, Raw};
use crate::event::TaskId;
use crate::merkle::Hash;

/// Bytes borrowed from the input, as a CBOR byte string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ByteSlice<'a>(pub &'a [u8]);

impl Serialize for ByteSlice<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

struct ByteSliceVisitor;

impl<'de> Visitor<'de> for ByteSliceVisitor {
    type Value = ByteSlice<'de>;
    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a byte string")
    }
    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<ByteSlice<'de>, E> {
        Ok(ByteSlice(v))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for ByteSlice<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_bytes(ByteSliceVisitor)
    }
}

/// The bundle as it is on the wire, entries still encoded. Field names, types and order are
/// those of [`Bundle`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Shallow<'a> {
    log: LogDescriptor,
    task: TaskId,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    earlier: Vec<BundleConsistency>,
    #[serde(borrow)]
    entries: Vec<Raw<'a>>,
    version: u32,
    #[serde(borrow)]
    policies: Vec<Raw<'a>>,
    #[serde(borrow)]
    checkpoint: ByteSlice<'a>,
}

/// One entry, its envelope borrowed. Fields as in [`BundleEntry`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EntryRef<'a> {
    pub index: u64,
    /// [`NodeHash`]es, unwrapped: the auditor folds them where they are.
    #[serde(with = "hash_list")]
    pub proof: Vec<Hash>,
    #[serde(borrow)]
    pub envelope: ByteSlice<'a>,
}

/// A proof's hashes on the wire as [`NodeHash`]es: an array of 32-byte byte strings.
mod hash_list {
    use serde::de::{Deserializer, SeqAccess, Visitor};
    use serde::{Serializer, ser::SerializeSeq};

    use super::{Hash, NodeHash};

    pub(super) fn serialize<S: Serializer>(hashes: &[Hash], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(hashes.len()))?;
        for h in hashes {
            seq.serialize_element(&NodeHash(*h))?;
        }
        seq.end()
    }

    struct HashesVisitor;

    impl<'de> Visitor<'de> for HashesVisitor {
        type Value = Vec<Hash>;
        fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str("an array of 32-byte hashes")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Hash>, A::Error> {
            // The decoder's size hint is bounded by the input, not by what a header claims.
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            while let Some(NodeHash(h)) = seq.next_element()? {
                out.push(h);
            }
            Ok(out)
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Hash>, D::Error> {
        d.deserialize_seq(HashesVisitor)
    }
}

/// A decoded bundle that borrows its envelopes and checkpoint from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BundleRef<'a> {
    pub log: LogDescriptor,
    pub task: TaskId,
    pub entries: Vec<EntryRef<'a>>,
    pub policies: Vec<EntryRef<'a>>,
    pub checkpoint: &'a [u8],
    pub earlier: Vec<BundleConsistency>,
}

/// Entries per thread below which a bundle's entries are decoded on the calling thread.
const PARALLEL_MIN: usize = 1024;

fn limits() -> Limits {
    Limits::default().with_max_len(MAX_BUNDLE_LEN)
}

/// Each entry decoded strictly (the typed decode and its round trip), over the pool.
fn entries<'a>(raw: &[Raw<'a>]) -> Result<Vec<EntryRef<'a>>, CborError> {
    let decode = |part: &[Raw<'a>]| -> Vec<Result<EntryRef<'a>, CborError>> {
        part.iter()
            .map(|r| cbor::from_slice_borrowed(r.bytes(), limits()))
            .collect()
    };
    crate::parallel::map_parts(raw, PARALLEL_MIN, decode)
        .into_iter()
        .collect()
}

impl<'a> BundleRef<'a> {
    /// Strictly decodes a bundle.
    ///
    /// # Errors
    /// [`BundleError`]: an encoding error of the bundle outside its entries, else the first
    /// entry's in order, else a wrong version.
    pub(crate) fn decode(bytes: &'a [u8]) -> Result<Self, BundleError> {
        let shallow: Shallow<'a> = cbor::from_slice_borrowed(bytes, limits())?;
        let entries = entries(&shallow.entries)?;
        let policies = self::entries(&shallow.policies)?;
        if shallow.version != BUNDLE_VERSION {
            return Err(BundleError::Version(shallow.version));
        }
        Ok(Self::from_parts(shallow, entries, policies))
    }

    fn from_parts(
        shallow: Shallow<'a>,
        entries: Vec<EntryRef<'a>>,
        policies: Vec<EntryRef<'a>>,
    ) -> Self {
        Self {
            log: shallow.log,
            task: shallow.task,
            entries,
            policies,
            checkpoint: shallow.checkpoint.0,
            earlier: shallow.earlier,
        }
    }

    /// The owned bundle.
    pub(crate) fn to_bundle(&self) -> Bundle {
        let own = |e: &EntryRef<'_>| BundleEntry {
            index: e.index,
            proof: e.proof.iter().copied().map(NodeHash).collect(),
            envelope: Bytes(e.envelope.0.to_vec()),
        };
        Bundle {
            log: self.log.clone(),
            task: self.task,
            entries: self.entries.iter().map(own).collect(),
            version: BUNDLE_VERSION,
            policies: self.policies.iter().map(own).collect(),
            checkpoint: Bytes(self.checkpoint.to_vec()),
            earlier: self.earlier.clone(),
        }
    }
}
