//! Proofs asked for beyond the log, and proofs that do not lead where they claim.

use warrant_ledger::merkle::{
    Hash, HashProfile, MemoryNodes, NodeId, NodeReader, ProveError, TreeHead, VerifyError,
    prove_consistency, prove_inclusion, root_at, verify_consistency, verify_inclusion,
};

use crate::{Reached, err, reach};

const P: HashProfile = HashProfile::Sha256;

pub(crate) fn reach_all(seen: &mut Reached) {
    prove_errors(seen);
    verify_errors(seen);
    tile_path_errors(seen);
}

/// Tile paths a client may send: each malformed part named.
fn tile_path_errors(seen: &mut Reached) {
    use warrant_ledger::merkle::{Tile, TilePathError};
    reach!(
        seen,
        TilePathError::NotATile,
        err(Tile::parse("tiles/0/000"))
    );
    reach!(seen, TilePathError::Level, err(Tile::parse("tile/64/000")));
    reach!(
        seen,
        TilePathError::Index,
        err(Tile::parse("tile/0/x000/001"))
    );
    reach!(
        seen,
        TilePathError::Width,
        err(Tile::parse("tile/0/000.p/256"))
    );
}

fn tree(n: u64) -> MemoryNodes {
    let mut nodes = MemoryNodes::new(P);
    for i in 0..n {
        nodes.append(&i.to_be_bytes());
    }
    nodes
}

/// A node store whose disk has failed.
struct Failing(MemoryNodes);

impl NodeReader for Failing {
    type Error = std::io::ErrorKind;
    fn tree_size(&self) -> u64 {
        self.0.tree_size()
    }
    fn read_node(&self, _id: NodeId) -> Result<Hash, Self::Error> {
        Err(std::io::ErrorKind::Other)
    }
}

fn prove_errors(seen: &mut Reached) {
    let t = tree(7);
    reach!(
        seen,
        ProveError::SizeBeyondLog,
        err(prove_inclusion(P, &t, 0, 8))
    );
    reach!(
        seen,
        ProveError::IndexOutOfRange,
        err(prove_inclusion(P, &t, 5, 5))
    );
    reach!(
        seen,
        ProveError::EmptyOldTree,
        err(prove_consistency(P, &t, 0, 7))
    );
    reach!(
        seen,
        ProveError::OldSizeExceedsNew,
        err(prove_consistency(P, &t, 6, 5))
    );
    reach!(
        seen,
        ProveError::Read,
        err(root_at(P, &Failing(tree(7)), 7))
    );
}

fn head(t: &MemoryNodes, size: u64) -> TreeHead {
    TreeHead {
        size,
        root: root_at(P, t, size).expect("root"),
    }
}

fn verify_errors(seen: &mut Reached) {
    let t = tree(7);
    let leaf = P.leaf_hash(&2u64.to_be_bytes());
    let proof = prove_inclusion(P, &t, 2, 7).expect("prove");
    let h7 = head(&t, 7);
    let h3 = head(&t, 3);
    assert!(
        verify_inclusion(P, &leaf, &proof, &h7).is_ok(),
        "the honest proof verifies"
    );
    let mut out_of_range = proof.clone();
    out_of_range.leaf_index = 7;
    reach!(
        seen,
        VerifyError::IndexOutOfRange,
        err(verify_inclusion(P, &leaf, &out_of_range, &h7))
    );
    reach!(
        seen,
        VerifyError::SizeMismatch,
        err(verify_inclusion(P, &leaf, &proof, &h3))
    );
    let mut short = proof.clone();
    short.path.pop();
    reach!(
        seen,
        VerifyError::PathLength,
        err(verify_inclusion(P, &leaf, &short, &h7))
    );
    let other = P.leaf_hash(b"not the leaf");
    reach!(
        seen,
        VerifyError::RootMismatch,
        err(verify_inclusion(P, &other, &proof, &h7))
    );

    let c = prove_consistency(P, &t, 3, 7).expect("prove");
    assert!(
        verify_consistency(P, &c, &h3, &h7).is_ok(),
        "the honest proof verifies"
    );
    let mut from_empty = c.clone();
    from_empty.old_size = 0;
    let h0 = TreeHead {
        size: 0,
        root: P.empty_root(),
    };
    reach!(
        seen,
        VerifyError::EmptyOldTree,
        err(verify_consistency(P, &from_empty, &h0, &h7))
    );
    let mut backwards = c.clone();
    (backwards.old_size, backwards.new_size) = (7, 3);
    reach!(
        seen,
        VerifyError::OldSizeExceedsNew,
        err(verify_consistency(P, &backwards, &h7, &h3))
    );
    // The old head of another tree: the path leads to the new root but not to its root.
    let forked = TreeHead {
        size: 3,
        root: P.leaf_hash(b"a forked tree"),
    };
    reach!(
        seen,
        VerifyError::OldRootMismatch,
        err(verify_consistency(P, &c, &forked, &h7))
    );
}
