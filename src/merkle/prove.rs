//! Roots and proofs computed from stored complete-subtree hashes.
//!
//! Every function here reads O(log n) node hashes through a [`NodeReader`] and holds
//! O(log n) hashes in memory, whatever the size of the log.

use super::hash::{Hash, HashProfile};
use super::proof::{ConsistencyProof, InclusionProof};
use super::tree::{NodeId, decompose, split_point};

/// Read access to the complete-subtree hashes of a log (see [`NodeId`]).
///
/// A disk store implements this with one positioned read per node at
/// [`NodeId::stored_index`]; proof generation never asks for a node outside the tree of
/// [`NodeReader::tree_size`] leaves.
pub trait NodeReader {
    /// What a failed read reports.
    type Error;

    /// Number of leaves currently stored.
    fn tree_size(&self) -> u64;

    /// The hash of one complete subtree.
    ///
    /// # Errors
    /// Whatever the storage reports for a failed or impossible read.
    fn read_node(&self, id: NodeId) -> Result<Hash, Self::Error>;

    /// Reads several nodes into `out`, in order; a store may override this to batch I/O.
    ///
    /// # Errors
    /// As [`NodeReader::read_node`].
    fn read_nodes(&self, ids: &[NodeId], out: &mut Vec<Hash>) -> Result<(), Self::Error> {
        for &id in ids {
            out.push(self.read_node(id)?);
        }
        Ok(())
    }
}

/// Why a root or proof could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProveError<E> {
    /// The requested tree size is larger than the log.
    #[error("tree size {requested} is beyond the log size {available}")]
    SizeBeyondLog {
        /// Size asked for.
        requested: u64,
        /// Size of the log.
        available: u64,
    },
    /// The leaf is not in the tree of the requested size.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// Leaf asked for.
        index: u64,
        /// Tree size asked for.
        size: u64,
    },
    /// Consistency from the empty tree proves nothing and is not produced.
    #[error("no consistency proof from an empty tree")]
    EmptyOldTree,
    /// The old size is larger than the new one.
    #[error("old size {old} exceeds new size {new}")]
    OldSizeExceedsNew {
        /// Old size asked for.
        old: u64,
        /// New size asked for.
        new: u64,
    },
    /// The node store failed.
    #[error("node store: {0}")]
    Read(E),
}

fn check_size<R: NodeReader>(reader: &R, size: u64) -> Result<(), ProveError<R::Error>> {
    let available = reader.tree_size();
    if size > available {
        return Err(ProveError::SizeBeyondLog {
            requested: size,
            available,
        });
    }
    Ok(())
}

/// Hash of the RFC 6962 subtree over leaves `[start, end)`, `start < end`: the right fold of
/// its complete subtrees.
fn range_hash<R: NodeReader>(
    profile: HashProfile,
    reader: &R,
    start: u64,
    end: u64,
) -> Result<Hash, R::Error> {
    let ids: Vec<NodeId> = decompose(start, end).collect();
    let mut hashes = Vec::with_capacity(ids.len());
    reader.read_nodes(&ids, &mut hashes)?;
    Ok(fold_right(profile, &hashes))
}

/// The hash of a range from its complete subtrees' hashes, left to right.
fn fold_right(profile: HashProfile, hashes: &[Hash]) -> Hash {
    let mut iter = hashes.iter().rev();
    // A non-empty range has at least one node; the empty range is handled by callers.
    let mut acc = iter.next().copied().unwrap_or_else(|| profile.empty_root());
    for left in iter {
        acc = profile.node_hash(left, &acc);
    }
    acc
}

/// The hashes of several ranges, their nodes read in one call (one query for a database).
fn ranges_hashes<R: NodeReader>(
    profile: HashProfile,
    reader: &R,
    ranges: impl Iterator<Item = (u64, u64)>,
) -> Result<Vec<Hash>, ProveError<R::Error>> {
    let per_range: Vec<Vec<NodeId>> = ranges.map(|(a, b)| decompose(a, b).collect()).collect();
    let all: Vec<NodeId> = per_range.iter().flatten().copied().collect();
    let mut hashes = Vec::with_capacity(all.len());
    reader
        .read_nodes(&all, &mut hashes)
        .map_err(ProveError::Read)?;
    let mut start = 0;
    Ok(per_range
        .iter()
        .map(|ids| {
            start += ids.len();
            // A reader that returned fewer hashes than asked breaks its contract: its proof
            // comes out wrong (and fails verification) rather than panicking here.
            fold_right(profile, hashes.get(start - ids.len()..start).unwrap_or(&[]))
        })
        .collect())
}

/// The root of the tree of the first `size` leaves.
///
/// # Errors
/// [`ProveError::SizeBeyondLog`], or [`ProveError::Read`] from the store.
pub fn root_at<R: NodeReader>(
    profile: HashProfile,
    reader: &R,
    size: u64,
) -> Result<Hash, ProveError<R::Error>> {
    check_size(reader, size)?;
    if size == 0 {
        return Ok(profile.empty_root());
    }
    range_hash(profile, reader, 0, size).map_err(ProveError::Read)
}

/// An inclusion proof for leaf `index` in the tree of the first `size` leaves.
///
/// # Errors
/// [`ProveError::SizeBeyondLog`], [`ProveError::IndexOutOfRange`], or a store error.
pub fn prove_inclusion<R: NodeReader>(
    profile: HashProfile,
    reader: &R,
    index: u64,
    size: u64,
) -> Result<InclusionProof, ProveError<R::Error>> {
    check_size(reader, size)?;
    if index >= size {
        return Err(ProveError::IndexOutOfRange { index, size });
    }
    // Walk down from the root, noting the sibling of each subtree containing the leaf.
    let mut siblings = Vec::with_capacity(64);
    let (mut lo, mut hi) = (0, size);
    while hi - lo > 1 {
        let mid = lo + split_point(hi - lo);
        if index < mid {
            siblings.push((mid, hi));
            hi = mid;
        } else {
            siblings.push((lo, mid));
            lo = mid;
        }
    }
    let path = ranges_hashes(profile, reader, siblings.into_iter().rev())?;
    Ok(InclusionProof {
        leaf_index: index,
        tree_size: size,
        path,
    })
}

/// A consistency proof from the tree of `old` leaves to the tree of `new` leaves.
///
/// `old == new` gives an empty proof; `old == 0` is refused (see
/// [`super::verify_consistency`] for the convention).
///
/// # Errors
/// [`ProveError::EmptyOldTree`], [`ProveError::OldSizeExceedsNew`],
/// [`ProveError::SizeBeyondLog`], or a store error.
pub fn prove_consistency<R: NodeReader>(
    profile: HashProfile,
    reader: &R,
    old: u64,
    new: u64,
) -> Result<ConsistencyProof, ProveError<R::Error>> {
    check_size(reader, new)?;
    if old == 0 {
        return Err(ProveError::EmptyOldTree);
    }
    if old > new {
        return Err(ProveError::OldSizeExceedsNew { old, new });
    }
    // RFC 9162 SUBPROOF, unrolled: `tail` collects what each level appends after the
    // recursive part, `head` is the old subtree's own hash when it is not the old root.
    let (mut lo, mut hi, mut m) = (0, new, old);
    let mut is_old_root = true;
    let mut tail = Vec::with_capacity(64);
    let mut head = None;
    while m != hi - lo {
        let k = split_point(hi - lo);
        if m <= k {
            tail.push((lo + k, hi));
            hi = lo + k;
        } else {
            tail.push((lo, lo + k));
            lo += k;
            m -= k;
            is_old_root = false;
        }
    }
    if !is_old_root {
        head = Some((lo, hi));
    }
    let ranges = head.into_iter().chain(tail.into_iter().rev());
    let path = ranges_hashes(profile, reader, ranges)?;
    Ok(ConsistencyProof {
        old_size: old,
        new_size: new,
        path,
    })
}

#[cfg(test)]
mod tests {
    use core::cell::Cell;

    use super::*;

    /// A reader for a tree of any size that stores nothing: each node's "hash" is derived from
    /// its address. It counts reads, to show generation cost grows with log n, not n.
    struct Synthetic {
        size: u64,
        reads: Cell<usize>,
    }

    impl NodeReader for Synthetic {
        type Error = core::convert::Infallible;
        fn tree_size(&self) -> u64 {
            self.size
        }
        fn read_node(&self, id: NodeId) -> Result<Hash, Self::Error> {
            self.reads.set(self.reads.get() + 1);
            let mut b = [0u8; 32];
            b[..8].copy_from_slice(&id.index.to_be_bytes());
            b[8] = id.level;
            Ok(Hash::from_bytes(b))
        }
    }

    #[test]
    fn reads_are_logarithmic_even_for_huge_trees() {
        let p = HashProfile::Blake3;
        for size in [1u64 << 24, (1 << 40) - 1, 10_000_019, u64::MAX >> 2] {
            let r = Synthetic {
                size,
                reads: Cell::new(0),
            };
            let bits = 64 - size.leading_zeros() as usize;
            for index in [0, size / 3, size - 1] {
                r.reads.set(0);
                let proof = prove_inclusion(p, &r, index, size).expect("infallible");
                assert!(proof.path.len() <= bits);
                // One read per complete sibling, plus the decomposition of the single
                // right-edge sibling: at most two per level.
                assert!(
                    r.reads.get() <= 2 * bits,
                    "inclusion reads {} at {size}",
                    r.reads.get()
                );
                r.reads.set(0);
                prove_consistency(p, &r, index + 1, size).expect("infallible");
                assert!(
                    r.reads.get() <= 3 * bits,
                    "consistency reads {} at {size}",
                    r.reads.get()
                );
            }
            r.reads.set(0);
            root_at(p, &r, size).expect("infallible");
            assert!(r.reads.get() <= bits);
        }
    }
}
