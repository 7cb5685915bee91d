//! Verification of inclusion and consistency proofs (RFC 9162 §2.1.3.2 and §2.1.4.2).
//!
//! Both functions first derive the exact path length from the sizes and reject any other
//! length before hashing anything, so a proof with extra, missing or reordered-away hashes
//! fails fast and no input can make them index out of bounds. Roots are compared in
//! constant time ([`Hash`]'s `==`).
//!
//! A root alone does not fix a tree size: leaf 0's path in a tree of 5 leaves has the same
//! shape as in a tree of 7, so the same proof "verifies" for both sizes. What binds a size to
//! a root is a signed checkpoint; verification therefore takes a [`TreeHead`] (the pair the
//! checkpoint signs) and rejects any proof that claims another size.
//!
//! # What success does not imply
//! A verified inclusion proof says the leaf hash is in the tree with that root; it says
//! nothing about who signed the root (see [`crate::checkpoint`]) or whether the hash
//! profile is the one the log was created with: the profile comes from the caller's pins.

use super::hash::{Hash, HashProfile};
use super::proof::{ConsistencyProof, InclusionProof};

/// A tree size and the root of the tree of that size, as a checkpoint signs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeHead {
    /// Number of leaves.
    pub size: u64,
    /// Root of the tree of `size` leaves.
    pub root: Hash,
}

/// Why a proof did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The leaf index is not below the tree size.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// Claimed leaf index.
        index: u64,
        /// Claimed tree size.
        size: u64,
    },
    /// Consistency from the empty tree is rejected by convention (it proves nothing).
    #[error("consistency from an empty tree is not accepted")]
    EmptyOldTree,
    /// The old size is larger than the new one.
    #[error("old size {old} exceeds new size {new}")]
    OldSizeExceedsNew {
        /// Claimed old size.
        old: u64,
        /// Claimed new size.
        new: u64,
    },
    /// The proof is for another tree size than the tree head it is checked against.
    #[error("proof is for tree size {proof} but the tree head has size {head}")]
    SizeMismatch {
        /// Size the proof claims.
        proof: u64,
        /// Size of the tree head.
        head: u64,
    },
    /// The path has the wrong number of hashes for the sizes it claims.
    #[error("proof has {actual} hashes where the sizes require {expected}")]
    PathLength {
        /// Length the sizes imply.
        expected: usize,
        /// Length received.
        actual: usize,
    },
    /// The path leads to another root (inclusion) or another new root (consistency).
    #[error("computed root does not match the expected root")]
    RootMismatch,
    /// The consistency path does not lead to the old root.
    #[error("computed old root does not match the expected old root")]
    OldRootMismatch,
}

/// Splits an inclusion path for leaf `index` in a tree of `size > index` leaves into its
/// inner part (siblings below the point where the leaf's path leaves the right edge) and its
/// border part (left siblings along the right edge).
pub(super) fn path_shape(index: u64, size: u64) -> (usize, usize) {
    let inner = (64 - (index ^ (size - 1)).leading_zeros()) as usize;
    // `inner <= 64`; shifting by 64 is defined as "no bits left" here.
    let above = index.checked_shr(inner as u32).unwrap_or(0);
    (inner, above.count_ones() as usize)
}

/// One step of the inner part at level `i`: bit `i` of `index` says whether the sibling is
/// on the left.
pub(super) fn inner_step(
    profile: HashProfile,
    acc: &Hash,
    sibling: &Hash,
    index: u64,
    i: usize,
) -> Hash {
    if (index >> i) & 1 == 1 {
        profile.node_hash(sibling, acc)
    } else {
        profile.node_hash(acc, sibling)
    }
}

/// Folds the inner part.
fn fold_inner(profile: HashProfile, seed: Hash, path: &[Hash], index: u64) -> Hash {
    path.iter().enumerate().fold(seed, |acc, (i, sib)| {
        inner_step(profile, &acc, sib, index, i)
    })
}

/// Folds only the left siblings of the inner part: the subtree that existed at the old size.
fn fold_inner_left(profile: HashProfile, seed: Hash, path: &[Hash], index: u64) -> Hash {
    path.iter()
        .enumerate()
        .filter(|(i, _)| (index >> i) & 1 == 1)
        .fold(seed, |acc, (_, sib)| profile.node_hash(sib, &acc))
}

/// Folds the border: every border sibling is on the left.
pub(super) fn fold_border(profile: HashProfile, seed: Hash, path: &[Hash]) -> Hash {
    path.iter()
        .fold(seed, |acc, sib| profile.node_hash(sib, &acc))
}

fn check_size(proof: u64, head: u64) -> Result<(), VerifyError> {
    if proof == head {
        Ok(())
    } else {
        Err(VerifyError::SizeMismatch { proof, head })
    }
}

fn check_len(expected: usize, actual: usize) -> Result<(), VerifyError> {
    if expected == actual {
        Ok(())
    } else {
        Err(VerifyError::PathLength { expected, actual })
    }
}

/// The root an inclusion proof leads to, after its shape has been checked.
///
/// # Errors
/// [`VerifyError::IndexOutOfRange`] or [`VerifyError::PathLength`].
pub fn root_from_inclusion(
    profile: HashProfile,
    leaf_hash: &Hash,
    proof: &InclusionProof,
) -> Result<Hash, VerifyError> {
    let (index, size) = (proof.leaf_index, proof.tree_size);
    if index >= size {
        return Err(VerifyError::IndexOutOfRange { index, size });
    }
    let (inner, border) = path_shape(index, size);
    check_len(inner + border, proof.path.len())?;
    let (inner_path, border_path) = proof.path.split_at(inner);
    let acc = fold_inner(profile, *leaf_hash, inner_path, index);
    Ok(fold_border(profile, acc, border_path))
}

/// Checks that `leaf_hash` is the leaf at `proof.leaf_index` of the tree `head`.
///
/// # Errors
/// [`VerifyError::SizeMismatch`], [`VerifyError::IndexOutOfRange`],
/// [`VerifyError::PathLength`] or [`VerifyError::RootMismatch`].
pub fn verify_inclusion(
    profile: HashProfile,
    leaf_hash: &Hash,
    proof: &InclusionProof,
    head: &TreeHead,
) -> Result<(), VerifyError> {
    check_size(proof.tree_size, head.size)?;
    if root_from_inclusion(profile, leaf_hash, proof)? == head.root {
        Ok(())
    } else {
        Err(VerifyError::RootMismatch)
    }
}

/// Checks that the tree `old` is a prefix of the tree `new`.
///
/// # Convention for the empty tree
/// `old_size == 0` is always rejected with [`VerifyError::EmptyOldTree`], even `0 → 0`:
/// every tree extends the empty tree, so such a proof carries no information, and accepting
/// it would let a caller believe it checked something. This matches Go's `sumdb/tlog` and
/// the transparency-dev test vectors. Callers that hold an empty checkpoint have nothing to
/// check and should skip the call.
///
/// Equal sizes require an empty path and equal roots.
///
/// # Errors
/// [`VerifyError::SizeMismatch`], [`VerifyError::EmptyOldTree`],
/// [`VerifyError::OldSizeExceedsNew`], [`VerifyError::PathLength`],
/// [`VerifyError::OldRootMismatch`] or [`VerifyError::RootMismatch`].
pub fn verify_consistency(
    profile: HashProfile,
    proof: &ConsistencyProof,
    old_head: &TreeHead,
    new_head: &TreeHead,
) -> Result<(), VerifyError> {
    check_size(proof.old_size, old_head.size)?;
    check_size(proof.new_size, new_head.size)?;
    let (old_root, new_root) = (&old_head.root, &new_head.root);
    let (old, new, path) = (proof.old_size, proof.new_size, proof.path.as_slice());
    if old == 0 {
        return Err(VerifyError::EmptyOldTree);
    }
    if old > new {
        return Err(VerifyError::OldSizeExceedsNew { old, new });
    }
    if old == new {
        check_len(0, path.len())?;
        return if old_root == new_root {
            Ok(())
        } else {
            Err(VerifyError::RootMismatch)
        };
    }
    // The old tree's last leaf is `old - 1`. Its `shift` lowest levels lie inside a complete
    // subtree of width 2^shift that both trees share, so the walk starts from that subtree's
    // hash: the old root itself when the old tree is exactly that subtree, else path[0].
    let shift = old.trailing_zeros();
    let (inner, border) = path_shape(old - 1, new);
    // Cannot underflow: old < new forces (old-1) and (new-1) to differ at a bit >= shift.
    let inner = inner - shift as usize;
    let (seed, rest) = if old == 1 << shift {
        (*old_root, path)
    } else {
        match path.split_first() {
            Some((first, rest)) => (*first, rest),
            None => {
                return Err(VerifyError::PathLength {
                    expected: 1 + inner + border,
                    actual: 0,
                });
            }
        }
    };
    check_len(inner + border, rest.len())?;
    let index = (old - 1) >> shift;
    let (inner_path, border_path) = rest.split_at(inner);
    let old_calc = fold_border(
        profile,
        fold_inner_left(profile, seed, inner_path, index),
        border_path,
    );
    if old_calc != *old_root {
        return Err(VerifyError::OldRootMismatch);
    }
    let new_calc = fold_border(
        profile,
        fold_inner(profile, seed, inner_path, index),
        border_path,
    );
    if new_calc != *new_root {
        return Err(VerifyError::RootMismatch);
    }
    Ok(())
}
