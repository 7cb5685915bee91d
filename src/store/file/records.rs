//! Byte layouts of data-file frames and index records (see `docs/storage-format.md`).

use crate::merkle::Hash;
#[cfg(test)]
use crate::merkle::HashProfile;

/// Frame header: length (u32 LE) and check (u32 LE).
pub(super) const FRAME_HEADER: u64 = 8;
/// One index record: data offset (u64 LE), previous entry of the same task (u64 LE).
pub(super) const INDEX_RECORD: u64 = 16;
/// `prev_in_task` value for "none".
pub(super) const NO_PREV: u64 = u64::MAX;

/// The check of a frame: the first four bytes of the entry's leaf hash in the store's
/// profile, as u32 LE. The appender has that hash already, and it ties the frame to the tree:
/// a damaged length or byte changes the bytes read, and so the hash.
pub(super) fn frame_check(leaf: &Hash) -> u32 {
    let b = leaf.as_bytes();
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// Appends the frame of `bytes`, whose leaf hash is `leaf`, to `out`.
pub(super) fn push_frame(out: &mut Vec<u8>, bytes: &[u8], leaf: &Hash) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(&frame_check(leaf).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// Splits a frame header into (length, check).
pub(super) fn parse_frame_header(h: [u8; 8]) -> (u32, u32) {
    (
        u32::from_le_bytes([h[0], h[1], h[2], h[3]]),
        u32::from_le_bytes([h[4], h[5], h[6], h[7]]),
    )
}

/// An index record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct IndexRecord {
    pub offset: u64,
    pub prev_in_task: u64,
}

impl IndexRecord {
    pub(super) fn to_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.offset.to_le_bytes());
        b[8..].copy_from_slice(&self.prev_in_task.to_le_bytes());
        b
    }

    pub(super) fn from_bytes(b: &[u8; 16]) -> Self {
        let mut o = [0u8; 8];
        let mut p = [0u8; 8];
        o.copy_from_slice(&b[..8]);
        p.copy_from_slice(&b[8..]);
        Self {
            offset: u64::from_le_bytes(o),
            prev_in_task: u64::from_le_bytes(p),
        }
    }
}

/// Position in the nodes file of complete subtree `(level, index)`, `level >= 1`.
///
/// Only subtrees of two or more leaves are stored (leaf hashes are recomputed from entries),
/// in the order appends complete them: before the nodes completed by leaf `m` come
/// `m - popcount(m)` nodes, and a node at `level` is the `level`-th completed by its last leaf
/// `m = (index + 1) · 2^level − 1`.
pub(super) fn node_position(level: u8, index: u64) -> Option<u64> {
    let width = 1u64.checked_shl(u32::from(level))?;
    let m = index.checked_add(1)?.checked_mul(width)? - 1;
    (m - u64::from(m.count_ones())).checked_add(u64::from(level) - 1)
}

/// Number of stored node hashes for a log of `size` entries.
pub(super) const fn nodes_for(size: u64) -> u64 {
    size - size.count_ones() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_positions_follow_append_order() {
        let mut next = 0;
        for leaf in 0..2000u64 {
            let mut level = 1u8;
            while (leaf + 1) % (1 << level) == 0 {
                assert_eq!(
                    node_position(level, leaf >> level),
                    Some(next),
                    "leaf {leaf} level {level}"
                );
                next += 1;
                level += 1;
            }
            assert_eq!(nodes_for(leaf + 1), next);
        }
        assert_eq!(node_position(64, 0), None);
    }

    #[test]
    fn frames_and_records_round_trip() {
        let p = HashProfile::Blake3;
        let mut out = Vec::new();
        push_frame(&mut out, b"hello", &p.leaf_hash(b"hello"));
        let (len, check) = parse_frame_header(out[..8].try_into().expect("8"));
        assert_eq!((len, check), (5, frame_check(&p.leaf_hash(b"hello"))));
        assert_ne!(
            frame_check(&p.leaf_hash(b"hello")),
            frame_check(&p.leaf_hash(b"hellp"))
        );
        let r = IndexRecord {
            offset: 77,
            prev_in_task: NO_PREV,
        };
        assert_eq!(IndexRecord::from_bytes(&r.to_bytes()), r);
    }
}
