//! An in-memory node store: the stored-hash layout in a `Vec`.

use super::hash::{Hash, HashProfile};
use super::prove::NodeReader;
use super::tree::NodeId;

/// All complete-subtree hashes of a log, held in memory in [`NodeId::stored_index`] order.
///
/// Appending a leaf costs one leaf hash plus one node hash per subtree it completes
/// (amortised two hashes), and the store holds `2n - popcount(n)` hashes.
#[derive(Debug, Clone)]
pub struct MemoryNodes {
    profile: HashProfile,
    size: u64,
    hashes: Vec<Hash>,
}

/// A node outside the stored tree was asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("node at level {} index {} is not stored", .0.level, .0.index)]
pub struct MissingNode(pub NodeId);

impl MemoryNodes {
    /// An empty store for `profile`.
    #[must_use]
    pub const fn new(profile: HashProfile) -> Self {
        Self {
            profile,
            size: 0,
            hashes: Vec::new(),
        }
    }

    /// The hash profile the store was created with.
    #[must_use]
    pub const fn profile(&self) -> HashProfile {
        self.profile
    }

    /// Hashes `entry` as a leaf and appends it; returns the leaf index.
    pub fn append(&mut self, entry: &[u8]) -> u64 {
        self.append_leaf_hash(self.profile.leaf_hash(entry))
    }

    /// Appends an already computed leaf hash; returns the leaf index.
    pub fn append_leaf_hash(&mut self, leaf: Hash) -> u64 {
        let index = self.size;
        // Cannot fail: every left sibling of a new leaf's path was stored by an earlier append.
        let nodes =
            completed_nodes(index, leaf, self.profile, |id| self.read_node(id)).unwrap_or_default();
        self.hashes.push(leaf);
        self.hashes.extend(nodes);
        self.size += 1;
        index
    }

    fn stored(&self, id: NodeId) -> Option<Hash> {
        let i = usize::try_from(id.stored_index()?).ok()?;
        self.hashes.get(i).copied()
    }

    /// The stored hashes in order; their count is `2n - popcount(n)`.
    #[must_use]
    pub fn stored_hashes(&self) -> &[Hash] {
        &self.hashes
    }
}

/// The hashes of the complete subtrees that leaf `index` (with hash `leaf`) completes, lowest
/// first, reading the left siblings through `left_sibling`. This is the shared append rule of
/// every node store: the returned hashes go right after `leaf` in stored order.
///
/// # Errors
/// Whatever `left_sibling` reports.
pub fn completed_nodes<E>(
    index: u64,
    leaf: Hash,
    profile: HashProfile,
    mut left_sibling: impl FnMut(NodeId) -> Result<Hash, E>,
) -> Result<Vec<Hash>, E> {
    let mut out = Vec::new();
    let mut acc = leaf;
    let mut level = 0u8;
    // Leaf `index` completes level `l + 1` exactly when bit `l` of `index` is set along an
    // unbroken run of set low bits.
    while (index >> level) & 1 == 1 {
        let sibling = NodeId {
            level,
            index: (index >> level) - 1,
        };
        let left = left_sibling(sibling)?;
        acc = profile.node_hash(&left, &acc);
        out.push(acc);
        level += 1;
    }
    Ok(out)
}

impl NodeReader for MemoryNodes {
    type Error = MissingNode;

    fn tree_size(&self) -> u64 {
        self.size
    }

    fn read_node(&self, id: NodeId) -> Result<Hash, MissingNode> {
        // A node is stored exactly when its last leaf is: `stored_count` grows with size, so
        // any node reaching past the tree has a stored index at or beyond `hashes.len()`.
        self.stored(id).ok_or(MissingNode(id))
    }
}

/// The right edge of a tree: the hash of the complete subtree at each level that the
/// binary expansion of the size calls for. It is all an appender needs to compute the node
/// hashes each new leaf completes, without reading anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frontier {
    profile: HashProfile,
    size: u64,
    levels: Vec<Option<Hash>>,
}

impl Frontier {
    /// The frontier of the empty tree.
    #[must_use]
    pub fn new(profile: HashProfile) -> Self {
        Self {
            profile,
            size: 0,
            levels: vec![None; 65],
        }
    }

    /// The frontier of a tree of `size` leaves, reading its complete right-edge subtrees
    /// (one per set bit of `size`) through `read`.
    ///
    /// # Errors
    /// Whatever `read` reports.
    pub fn load<E>(
        profile: HashProfile,
        size: u64,
        mut read: impl FnMut(NodeId) -> Result<Hash, E>,
    ) -> Result<Self, E> {
        let mut f = Self::new(profile);
        f.size = size;
        for level in 0..64u8 {
            if (size >> level) & 1 == 1 {
                f.levels[usize::from(level)] = Some(read(NodeId {
                    level,
                    index: (size >> level) - 1,
                })?);
            }
        }
        Ok(f)
    }

    /// Adds the next leaf; returns the hashes of the subtrees it completes, lowest first
    /// (the order they are stored in).
    pub fn push(&mut self, leaf: Hash) -> Vec<Hash> {
        let levels = &self.levels;
        // Cannot fail: a set bit of `size` at `level` means the frontier holds that level.
        let parents = completed_nodes(self.size, leaf, self.profile, |id| {
            levels[usize::from(id.level)].ok_or(())
        })
        .unwrap_or_default();
        for slot in &mut self.levels[..=parents.len()] {
            *slot = None;
        }
        self.levels[parents.len()] = Some(parents.last().copied().unwrap_or(leaf));
        self.size += 1;
        parents
    }

    /// Number of leaves pushed or loaded.
    #[must_use]
    pub const fn size(&self) -> u64 {
        self.size
    }
}
