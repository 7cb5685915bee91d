//! Checking many inclusion proofs against one tree head, sharing the work they have in
//! common.
//!
//! Proofs of nearby leaves meet low in the tree: leaves 6 and 7 share every node from their
//! parent up. Once a leaf's fold reaches a node that the previous verified proof also
//! computed (same level, same position, same hash) and the rest of both paths is the same,
//! the rest of the fold is the same computation on the same inputs, so it leads to the same
//! root, which for that proof was the right one. Nothing is assumed beyond that: the result
//! for every proof is exactly what [`verify_inclusion`](super::verify_inclusion) gives
//! (tested against it on random trees and corrupted proofs).

use super::hash::{Hash, HashProfile};
use super::verify::{TreeHead, fold_border, inner_step, path_shape};

/// The previous verified proof: its leaf index, its path and the node its fold reached after
/// each inner step (`nodes[i]` is at level `i + 1`).
struct Trail<'a> {
    index: u64,
    inner: usize,
    path: &'a [Hash],
    nodes: Vec<Hash>,
}

impl Trail<'_> {
    /// Whether a proof of leaf `index` with `inner` inner steps, at node `acc` after inner
    /// step `i`, with `path`, goes on exactly as this trail did.
    fn continues(&self, index: u64, inner: usize, i: usize, acc: &Hash, path: &[Hash]) -> bool {
        self.inner == inner
            && self.index >> (i + 1) == index >> (i + 1)
            && self.nodes[i] == *acc
            && self.path[i + 1..] == path[i + 1..]
    }
}

/// Whether each `(leaf hash, leaf index, path)` is an inclusion proof in the tree `head`;
/// fastest when the items come in index order.
pub fn verify_inclusions<'a>(
    profile: HashProfile,
    head: &TreeHead,
    items: impl IntoIterator<Item = (Hash, u64, &'a [Hash])>,
) -> Vec<bool> {
    let mut last: Option<Trail<'a>> = None;
    items
        .into_iter()
        .map(|(leaf, index, path)| {
            match verify_one(profile, head, leaf, index, path, last.as_ref()) {
                Some(trail) => {
                    last = Some(trail);
                    true
                }
                None => false,
            }
        })
        .collect()
}

/// The trail of a proof that verifies, `None` for one that does not.
fn verify_one<'a>(
    profile: HashProfile,
    head: &TreeHead,
    leaf: Hash,
    index: u64,
    path: &'a [Hash],
    prev: Option<&Trail<'_>>,
) -> Option<Trail<'a>> {
    if index >= head.size {
        return None;
    }
    let (inner, border) = path_shape(index, head.size);
    if inner + border != path.len() {
        return None;
    }
    let mut nodes = Vec::with_capacity(inner);
    let mut acc = leaf;
    for (i, sibling) in path[..inner].iter().enumerate() {
        acc = inner_step(profile, &acc, sibling, index, i);
        nodes.push(acc);
        if let Some(t) = prev.filter(|t| t.continues(index, inner, i, &acc, path)) {
            // From here on the fold is `t`'s, which reached the root.
            nodes.extend_from_slice(&t.nodes[i + 1..]);
            return Some(Trail {
                index,
                inner,
                path,
                nodes,
            });
        }
    }
    (fold_border(profile, acc, &path[inner..]) == head.root).then_some(Trail {
        index,
        inner,
        path,
        nodes,
    })
}
