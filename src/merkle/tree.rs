//! Tree-shape arithmetic: complete subtrees, their addresses and the stored-hash layout.
//!
//! A *complete subtree* of a log is a perfect binary tree over the leaves
//! `[index << level, (index + 1) << level)`. Every RFC 6962 subtree that a proof needs is
//! either complete or lies on the right edge of the tree, where it is a fold of at most 64
//! complete subtrees (one per set bit of its width). Stores therefore only keep complete
//! subtrees, about two hashes per leaf.

/// The address of a complete subtree: `2^level` leaves starting at leaf `index << level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height above the leaves; leaves are level 0.
    pub level: u8,
    /// Position among the subtrees of that level, counted from the left.
    pub index: u64,
}

impl NodeId {
    /// The leaf at `index`.
    #[must_use]
    pub const fn leaf(index: u64) -> Self {
        Self { level: 0, index }
    }

    /// Position of this node in the stored-hash sequence.
    ///
    /// Hashes are stored in the order they become known while appending: leaf `n`'s hash,
    /// then the hash of every complete subtree that leaf `n` completes, lowest first. This is
    /// the layout of Go's `sumdb/tlog`. Before leaf `n` come `2n - popcount(n)` hashes (each
    /// leaf `j` adds `1 + trailing_zeros(j + 1)` of them), and a node at `level` is the
    /// `level`-th hash written by its last leaf, `((index + 1) << level) - 1`.
    ///
    /// Returns `None` when the position does not fit in a `u64` (a tree of over 2^62 leaves).
    #[must_use]
    pub fn stored_index(self) -> Option<u64> {
        let width = 1u64.checked_shl(u32::from(self.level))?;
        let last_leaf = self.index.checked_add(1)?.checked_mul(width)? - 1;
        stored_count(last_leaf)?.checked_add(u64::from(self.level))
    }
}

/// Number of stored hashes in a log of `size` leaves: `2 * size - popcount(size)`.
#[must_use]
pub fn stored_count(size: u64) -> Option<u64> {
    size.checked_mul(2)
        .map(|d| d - u64::from(size.count_ones()))
}

/// The largest power of two strictly smaller than `n` (the RFC 6962 split point); `n >= 2`.
pub(crate) fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// The complete subtrees that make up leaves `[start, end)`, left to right.
///
/// Holds for any range where `start` is a multiple of the largest power of two not above
/// `end - start`, which is true of every subtree in an RFC 6962 tree. The range's hash is
/// the right fold of these nodes' hashes.
pub(crate) fn decompose(start: u64, end: u64) -> impl Iterator<Item = NodeId> {
    let mut at = start;
    let mut remaining = end.saturating_sub(start);
    core::iter::from_fn(move || {
        if remaining == 0 {
            return None;
        }
        let level = 63 - remaining.leading_zeros();
        let width = 1u64 << level;
        let node = NodeId {
            level: level as u8,
            index: at >> level,
        };
        at += width;
        remaining -= width;
        Some(node)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_index_matches_append_order() {
        // Replays appends and checks that each completed node lands at its stored index.
        let mut next = 0u64;
        for leaf in 0..1000u64 {
            assert_eq!(NodeId::leaf(leaf).stored_index(), Some(next));
            next += 1;
            let mut level = 0u8;
            while (leaf + 1) % (1 << (level + 1)) == 0 {
                level += 1;
                let node = NodeId {
                    level,
                    index: leaf >> level,
                };
                assert_eq!(node.stored_index(), Some(next));
                next += 1;
            }
            assert_eq!(stored_count(leaf + 1), Some(next));
        }
    }

    #[test]
    fn stored_index_overflow_is_none() {
        assert_eq!(
            NodeId {
                level: 64,
                index: 0
            }
            .stored_index(),
            None
        );
        assert_eq!(
            NodeId {
                level: 0,
                index: u64::MAX
            }
            .stored_index(),
            None
        );
        assert_eq!(stored_count(u64::MAX), None);
    }

    #[test]
    fn split_points() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(u64::MAX), 1 << 63);
    }

    #[test]
    fn decomposition() {
        let nodes: Vec<_> = decompose(8, 15).collect();
        assert_eq!(
            nodes,
            vec![
                NodeId { level: 2, index: 2 },
                NodeId { level: 1, index: 6 },
                NodeId {
                    level: 0,
                    index: 14
                }
            ]
        );
        assert_eq!(decompose(4, 4).count(), 0);
        assert_eq!(
            decompose(0, 16).collect::<Vec<_>>(),
            vec![NodeId { level: 4, index: 0 }]
        );
    }
}
