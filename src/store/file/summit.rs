//! The upper levels of the tree, kept in memory.
//!
//! An inclusion proof reads one hash per level. `nodes.dat` holds them in completion order,
//! so the low levels of a proof's path sit next to each other (the nodes of a subtree of
//! 2^ℓ leaves fill 2^ℓ − 1 consecutive slots), but each node of an upper level sits in a
//! page of its own, far from the others. Under page-cache pressure, as during and after a
//! large ingest, those pages are the ones evicted, and a proof right after a 10^7-entry
//! ingest cost several times what it costs with the files cached (`docs/performance.md`).
//!
//! Nodes of level [`FROM`] and up are kept here once written by an append or read by anyone:
//! about one node per 2^(FROM−1) = 512 entries, 33 bytes each (0.6 MB at 10^7 entries).
//! They are hashes of complete subtrees within the committed log, which never change, so a
//! cached hash is always the stored one. It is a cache only: nothing is persisted, `fsck`
//! reads the file, and a store just opened fills it as proofs read.

use std::sync::{PoisonError, RwLock};

use crate::merkle::{Hash, NodeId};

/// The lowest level kept.
pub(super) const FROM: u8 = 10;

/// Hashes of levels [`FROM`] and up, by level then index; `None` where not yet seen.
#[derive(Default)]
pub(super) struct Summit {
    levels: RwLock<Vec<Vec<Option<Hash>>>>,
}

impl Summit {
    /// The cached hash of `id`, if any.
    pub(super) fn get(&self, id: NodeId) -> Option<Hash> {
        let level = usize::from(id.level.checked_sub(FROM)?);
        let index = usize::try_from(id.index).ok()?;
        let levels = self.levels.read().unwrap_or_else(PoisonError::into_inner);
        *levels.get(level)?.get(index)?
    }

    /// Records the hash of `id`, which must be a complete subtree of the committed log (so
    /// `id.index` is below `size / 2^level` and the memory stays proportional to the log).
    /// Levels below [`FROM`] are ignored.
    pub(super) fn put(&self, id: NodeId, hash: Hash) {
        let (Some(level), Ok(index)) = (id.level.checked_sub(FROM), usize::try_from(id.index))
        else {
            return;
        };
        let level = usize::from(level);
        // Only whole vectors are replaced under the lock, so a panic cannot leave it torn.
        let mut levels = self.levels.write().unwrap_or_else(PoisonError::into_inner);
        if levels.len() <= level {
            levels.resize_with(level + 1, Vec::new);
        }
        let row = &mut levels[level];
        if row.len() <= index {
            row.resize(index + 1, None);
        }
        row[index] = Some(hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(level: u8, index: u64) -> NodeId {
        NodeId { level, index }
    }

    #[test]
    fn keeps_upper_levels_only() {
        let s = Summit::default();
        let h = Hash::from_bytes([7; 32]);
        s.put(id(FROM - 1, 0), h);
        assert_eq!(s.get(id(FROM - 1, 0)), None);
        s.put(id(FROM, 3), h);
        s.put(id(FROM + 2, 0), Hash::from_bytes([9; 32]));
        assert_eq!(s.get(id(FROM, 3)), Some(h));
        assert_eq!(s.get(id(FROM, 2)), None);
        assert_eq!(s.get(id(FROM, 4)), None);
        assert_eq!(s.get(id(FROM + 1, 0)), None);
        assert_eq!(s.get(id(FROM + 2, 0)), Some(Hash::from_bytes([9; 32])));
        assert_eq!(s.get(id(u8::MAX, u64::MAX)), None);
    }
}
