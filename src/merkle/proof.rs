//! Proof values and their strict binary form.
//!
//! Byte layout (all integers big-endian), documented in `docs/proof-format.md`:
//!
//! ```text
//! inclusion:   leaf_index u64 ‖ tree_size u64 ‖ count u8 ‖ count × 32-byte hash
//! consistency: old_size   u64 ‖ new_size  u64 ‖ count u8 ‖ count × 32-byte hash
//! ```
//!
//! Decoding rejects truncation, trailing bytes and counts above the longest proof a 64-bit
//! tree can need; it does not check the count against the sizes, which verification does.

use super::hash::{HASH_LEN, Hash};

/// The longest inclusion path in a tree of fewer than 2^64 leaves.
pub const MAX_INCLUSION_PATH: usize = 64;
/// The longest consistency path between two trees of fewer than 2^64 leaves.
pub const MAX_CONSISTENCY_PATH: usize = 2 * 64;

/// Proof that the leaf at `leaf_index` is in the tree of `tree_size` leaves (RFC 9162 §2.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    /// Zero-based index of the leaf.
    pub leaf_index: u64,
    /// Size of the tree whose root the path leads to.
    pub tree_size: u64,
    /// Sibling hashes, from the leaf upwards.
    pub path: Vec<Hash>,
}

/// Proof that the tree of `old_size` leaves is a prefix of the tree of `new_size` leaves
/// (RFC 9162 §2.1.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// Size of the older tree; at least 1 (see [`super::verify_consistency`]).
    pub old_size: u64,
    /// Size of the newer tree.
    pub new_size: u64,
    /// The RFC 9162 consistency path.
    pub path: Vec<Hash>,
}

/// Why proof bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofDecodeError {
    /// The input ended before the structure did.
    #[error("proof truncated: need {needed} bytes, have {have}")]
    Truncated {
        /// Bytes the header promises.
        needed: usize,
        /// Bytes present.
        have: usize,
    },
    /// Bytes follow the last hash.
    #[error("{0} trailing bytes after the proof")]
    TrailingBytes(usize),
    /// More hashes than any proof in a 64-bit tree can have.
    #[error("proof claims {count} hashes, more than the maximum {max}")]
    TooManyHashes {
        /// Declared count.
        count: usize,
        /// Maximum for this proof type.
        max: usize,
    },
}

const HEADER_LEN: usize = 8 + 8 + 1;

fn encode(a: u64, b: u64, path: &[Hash]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + path.len() * HASH_LEN);
    out.extend_from_slice(&a.to_be_bytes());
    out.extend_from_slice(&b.to_be_bytes());
    // Cannot truncate: both proof types are bounded well below 256 hashes by construction,
    // and `encode` is only called on proofs this crate generated or decoded.
    out.push(u8::try_from(path.len()).unwrap_or(u8::MAX));
    for h in path {
        out.extend_from_slice(h.as_bytes());
    }
    out
}

fn decode(bytes: &[u8], max: usize) -> Result<(u64, u64, Vec<Hash>), ProofDecodeError> {
    let truncated = |needed| ProofDecodeError::Truncated {
        needed,
        have: bytes.len(),
    };
    let header = bytes
        .get(..HEADER_LEN)
        .ok_or_else(|| truncated(HEADER_LEN))?;
    let (a, rest) = header.split_at(8);
    let (b, count) = rest.split_at(8);
    let count = usize::from(count[0]);
    if count > max {
        return Err(ProofDecodeError::TooManyHashes { count, max });
    }
    let needed = HEADER_LEN + count * HASH_LEN;
    let body = bytes
        .get(HEADER_LEN..needed)
        .ok_or_else(|| truncated(needed))?;
    if bytes.len() > needed {
        return Err(ProofDecodeError::TrailingBytes(bytes.len() - needed));
    }
    let path = body
        .chunks_exact(HASH_LEN)
        .filter_map(|c| Hash::try_from_slice(c).ok())
        .collect();
    Ok((be_u64(a), be_u64(b), path))
}

fn be_u64(bytes: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    buf.copy_from_slice(bytes);
    u64::from_be_bytes(buf)
}

impl InclusionProof {
    /// The binary form described in the module documentation.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self.leaf_index, self.tree_size, &self.path)
    }

    /// Strictly decodes the binary form.
    ///
    /// # Errors
    /// [`ProofDecodeError`] for truncated input, trailing bytes or an impossible count.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ProofDecodeError> {
        let (leaf_index, tree_size, path) = decode(bytes, MAX_INCLUSION_PATH)?;
        Ok(Self {
            leaf_index,
            tree_size,
            path,
        })
    }
}

impl ConsistencyProof {
    /// The binary form described in the module documentation.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self.old_size, self.new_size, &self.path)
    }

    /// Strictly decodes the binary form.
    ///
    /// # Errors
    /// [`ProofDecodeError`] for truncated input, trailing bytes or an impossible count.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ProofDecodeError> {
        let (old_size, new_size, path) = decode(bytes, MAX_CONSISTENCY_PATH)?;
        Ok(Self {
            old_size,
            new_size,
            path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(b: u8) -> Hash {
        Hash::from_bytes([b; 32])
    }

    #[test]
    fn round_trip() {
        let p = InclusionProof {
            leaf_index: 5,
            tree_size: 9,
            path: vec![h(1), h(2)],
        };
        assert_eq!(InclusionProof::from_bytes(&p.to_bytes()), Ok(p));
        let c = ConsistencyProof {
            old_size: 3,
            new_size: 7,
            path: vec![h(3)],
        };
        assert_eq!(ConsistencyProof::from_bytes(&c.to_bytes()), Ok(c));
    }

    #[test]
    fn rejections() {
        let p = InclusionProof {
            leaf_index: 1,
            tree_size: 2,
            path: vec![h(1)],
        }
        .to_bytes();
        assert_eq!(
            InclusionProof::from_bytes(&p[..10]),
            Err(ProofDecodeError::Truncated {
                needed: 17,
                have: 10
            })
        );
        assert_eq!(
            InclusionProof::from_bytes(&p[..p.len() - 1]),
            Err(ProofDecodeError::Truncated {
                needed: 49,
                have: 48
            })
        );
        let mut long = p.clone();
        long.push(0);
        assert_eq!(
            InclusionProof::from_bytes(&long),
            Err(ProofDecodeError::TrailingBytes(1))
        );
        let mut many = p;
        many[16] = 65;
        assert_eq!(
            InclusionProof::from_bytes(&many),
            Err(ProofDecodeError::TooManyHashes { count: 65, max: 64 })
        );
        many[16] = 129;
        assert_eq!(
            ConsistencyProof::from_bytes(&many),
            Err(ProofDecodeError::TooManyHashes {
                count: 129,
                max: 128
            })
        );
    }
}
