//! Hash values and the two hash profiles of a log.

use core::fmt;
use core::str::FromStr;

use sha2::Digest as _;
use subtle::ConstantTimeEq as _;

use crate::encoding::{hex_decode_array, hex_encode};

/// Length in bytes of every hash in both profiles.
pub const HASH_LEN: usize = 32;

/// A 32-byte tree hash (leaf hash, interior node or root).
///
/// Equality is constant-time: roots and hashes received from an attacker are compared with
/// `==`, and a timing side channel must not reveal how many leading bytes matched.
#[derive(Clone, Copy, Eq)]
pub struct Hash([u8; HASH_LEN]);

impl Hash {
    /// Wraps raw hash bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; HASH_LEN]) -> Self {
        Self(bytes)
    }

    /// Parses a hash from a slice that must be exactly [`HASH_LEN`] bytes.
    ///
    /// # Errors
    /// [`HashLengthError`] when the slice has another length.
    pub fn try_from_slice(bytes: &[u8]) -> Result<Self, HashLengthError> {
        <[u8; HASH_LEN]>::try_from(bytes)
            .map(Self)
            .map_err(|_| HashLengthError { len: bytes.len() })
    }

    /// Parses 64 hex digits (either case).
    ///
    /// # Errors
    /// [`HashLengthError`] when the text is not exactly 64 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, HashLengthError> {
        hex_decode_array(text).map(Self).ok_or(HashLengthError {
            len: text.len() / 2,
        })
    }

    /// The raw bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; HASH_LEN] {
        &self.0
    }

    /// Lowercase hex, the form every CLI output and JSON document uses.
    #[must_use]
    pub fn to_hex(&self) -> String {
        hex_encode(&self.0)
    }

    /// The hash as four words: compared in constant time in four steps instead of the
    /// thirty-two of a byte-wise comparison (which was most of an audit's proof checking).
    fn words(&self) -> [u64; 4] {
        let mut words = [0; 4];
        for (w, bytes) in words.iter_mut().zip(self.0.chunks_exact(8)) {
            *w = u64::from_le_bytes(bytes.try_into().unwrap_or_default());
        }
        words
    }
}

impl PartialEq for Hash {
    fn eq(&self, other: &Self) -> bool {
        self.words().ct_eq(&other.words()).into()
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// A byte string or hex text that is not a 32-byte hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a hash must be {HASH_LEN} bytes, got {len}")]
pub struct HashLengthError {
    /// The length that was found (in bytes; for hex input, half the text length).
    pub len: usize,
}

/// The hash function of a log, fixed when the log is created.
///
/// Both profiles build the RFC 6962 §2.1 tree: `leaf = H(0x00 ‖ entry)`,
/// `node = H(0x01 ‖ left ‖ right)`, empty tree `= H("")`. [`HashProfile::Sha256`] is
/// byte-compatible with Certificate Transparency and Go's `sumdb/tlog`.
///
/// # Security
/// Nothing in a hash says which profile made it. A verifier must take the profile from the
/// trust policy it pins for the log, never from the data it is verifying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum HashProfile {
    /// BLAKE3 with 32-byte output: the default.
    #[default]
    Blake3,
    /// SHA-256, exactly RFC 6962.
    Sha256,
}

const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

impl HashProfile {
    /// The profile's name as used in files and on the command line: `blake3` or `sha256`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Blake3 => "blake3",
            Self::Sha256 => "sha256",
        }
    }

    /// `H(0x00 ‖ entry)`.
    #[must_use]
    pub fn leaf_hash(self, entry: &[u8]) -> Hash {
        self.hash_parts(&[&[LEAF_PREFIX], entry])
    }

    /// `H(0x01 ‖ left ‖ right)`.
    #[must_use]
    pub fn node_hash(self, left: &Hash, right: &Hash) -> Hash {
        self.hash_parts(&[&[NODE_PREFIX], &left.0, &right.0])
    }

    /// The root of the empty tree, `H("")`.
    #[must_use]
    pub fn empty_root(self) -> Hash {
        self.hash_parts(&[])
    }

    fn hash_parts(self, parts: &[&[u8]]) -> Hash {
        match self {
            Self::Blake3 => {
                let mut h = blake3::Hasher::new();
                for p in parts {
                    h.update(p);
                }
                Hash(*h.finalize().as_bytes())
            }
            Self::Sha256 => {
                let mut h = sha2::Sha256::new();
                for p in parts {
                    h.update(p);
                }
                Hash(h.finalize().into())
            }
        }
    }
}

impl fmt::Display for HashProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A hash profile name other than `blake3` or `sha256`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown hash profile {0:?} (expected \"blake3\" or \"sha256\")")]
pub struct UnknownProfileError(pub String);

impl FromStr for HashProfile {
    type Err = UnknownProfileError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "blake3" => Ok(Self::Blake3),
            "sha256" => Ok(Self::Sha256),
            other => Err(UnknownProfileError(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_rfc6962_known_values() {
        let p = HashProfile::Sha256;
        assert_eq!(
            p.empty_root().to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // Leaf hash of the empty entry: root of the one-leaf tree in the RFC 6962 golden set.
        assert_eq!(
            p.leaf_hash(b"").to_hex(),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn blake3_uses_the_same_domain_separation() {
        let p = HashProfile::Blake3;
        assert_eq!(p.leaf_hash(b"x").0, *blake3::hash(b"\x00x").as_bytes());
        let (a, b) = (p.leaf_hash(b"a"), p.leaf_hash(b"b"));
        let mut cat = vec![1u8];
        cat.extend_from_slice(&a.0);
        cat.extend_from_slice(&b.0);
        assert_eq!(p.node_hash(&a, &b).0, *blake3::hash(&cat).as_bytes());
        assert_eq!(p.empty_root().0, *blake3::hash(b"").as_bytes());
    }

    #[test]
    fn equality_sees_every_byte() {
        let h = HashProfile::Blake3.leaf_hash(b"e");
        assert_eq!(h, Hash::from_bytes(h.0));
        for i in 0..HASH_LEN {
            for bit in [0x01, 0x80] {
                let mut other = h.0;
                other[i] ^= bit;
                assert_ne!(h, Hash::from_bytes(other), "byte {i} bit {bit:#x}");
            }
        }
    }

    #[test]
    fn profiles_never_agree() {
        assert_ne!(
            HashProfile::Blake3.leaf_hash(b"e"),
            HashProfile::Sha256.leaf_hash(b"e")
        );
    }

    #[test]
    fn parsing() {
        assert_eq!("sha256".parse::<HashProfile>(), Ok(HashProfile::Sha256));
        assert_eq!("blake3".parse::<HashProfile>(), Ok(HashProfile::Blake3));
        assert!("SHA256".parse::<HashProfile>().is_err());
        assert_eq!(
            Hash::try_from_slice(&[0; 31]),
            Err(HashLengthError { len: 31 })
        );
        let h = HashProfile::Sha256.empty_root();
        assert_eq!(Hash::from_hex(&h.to_hex()), Ok(h));
        assert_eq!(Hash::from_hex(&h.to_hex().to_uppercase()), Ok(h));
        assert!(Hash::from_hex("zz").is_err());
        assert!(Hash::from_hex(&"g".repeat(64)).is_err());
    }
}
