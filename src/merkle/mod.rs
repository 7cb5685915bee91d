//! The RFC 6962 Merkle tree in two hash profiles: roots, inclusion and consistency proofs
//! for any past tree size, and their verification.
//!
//! Generation reads complete-subtree hashes through a [`NodeReader`] (O(log n) reads, memory
//! independent of the log size); [`MemoryNodes`] is the in-memory reader. Verification
//! needs no reader at all.
//!
//! ```
//! use warrant_ledger::merkle::{
//!     HashProfile, MemoryNodes, TreeHead, prove_consistency, prove_inclusion, root_at,
//!     verify_consistency, verify_inclusion,
//! };
//!
//! let profile = HashProfile::Sha256;
//! let mut nodes = MemoryNodes::new(profile);
//! for entry in [&b"alpha"[..], b"beta", b"gamma", b"delta", b"epsilon"] {
//!     nodes.append(entry);
//! }
//! // In practice the tree heads come from signed checkpoints.
//! let head3 = TreeHead { size: 3, root: root_at(profile, &nodes, 3)? };
//! let head5 = TreeHead { size: 5, root: root_at(profile, &nodes, 5)? };
//!
//! // "gamma" is leaf 2 of the tree of size 3, and that tree is a prefix of the tree of size 5.
//! let inclusion = prove_inclusion(profile, &nodes, 2, 3)?;
//! verify_inclusion(profile, &profile.leaf_hash(b"gamma"), &inclusion, &head3)?;
//! let consistency = prove_consistency(profile, &nodes, 3, 5)?;
//! verify_consistency(profile, &consistency, &head3, &head5)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod batch;
mod hash;
mod memory;
mod proof;
mod prove;
mod tiles;
mod tree;
mod verify;

pub use batch::verify_inclusions;
pub use hash::{HASH_LEN, Hash, HashLengthError, HashProfile, UnknownProfileError};
pub use memory::{Frontier, MemoryNodes, MissingNode, completed_nodes};
pub use proof::{
    ConsistencyProof, InclusionProof, MAX_CONSISTENCY_PATH, MAX_INCLUSION_PATH, ProofDecodeError,
};
pub use prove::{NodeReader, ProveError, prove_consistency, prove_inclusion, root_at};
pub use tiles::{MAX_TILE_LEVEL, TILE_HEIGHT, TILE_WIDTH, Tile, TileKind, TilePathError};
pub use tree::{NodeId, stored_count};
pub use verify::{
    TreeHead, VerifyError, root_from_inclusion, verify_consistency, verify_inclusion,
};
