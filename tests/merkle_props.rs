//! The fast Merkle code against a direct transcription of RFC 9162 §2.1 (recursive, O(n) per
//! call) and against `rs_merkle`, in both profiles; every valid proof verifies and every
//! single-bit mutation of a proof, root, index or size is rejected.

use proptest::prelude::*;
use warrant_ledger::merkle::{
    ConsistencyProof, Hash, HashProfile, InclusionProof, MemoryNodes, TreeHead, VerifyError,
    prove_consistency, prove_inclusion, root_at, verify_consistency, verify_inclusion,
    verify_inclusions,
};

/// RFC 9162 §2.1.1, MTH(D[n]).
fn mth(p: HashProfile, leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => p.empty_root(),
        1 => leaves[0],
        n => {
            let k = largest_pow2_below(n);
            p.node_hash(&mth(p, &leaves[..k]), &mth(p, &leaves[k..]))
        }
    }
}

fn largest_pow2_below(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// RFC 9162 §2.1.3.1, PATH(m, D[n]).
fn path(p: HashProfile, m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return vec![];
    }
    let k = largest_pow2_below(n);
    if m < k {
        let mut v = path(p, m, &leaves[..k]);
        v.push(mth(p, &leaves[k..]));
        v
    } else {
        let mut v = path(p, m - k, &leaves[k..]);
        v.push(mth(p, &leaves[..k]));
        v
    }
}

/// RFC 9162 §2.1.4.1, SUBPROOF(m, D[n], b).
fn subproof(p: HashProfile, m: usize, leaves: &[Hash], b: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if b { vec![] } else { vec![mth(p, leaves)] };
    }
    let k = largest_pow2_below(n);
    if m <= k {
        let mut v = subproof(p, m, &leaves[..k], b);
        v.push(mth(p, &leaves[k..]));
        v
    } else {
        let mut v = subproof(p, m - k, &leaves[k..], false);
        v.push(mth(p, &leaves[..k]));
        v
    }
}

fn profile() -> impl Strategy<Value = HashProfile> {
    prop_oneof![Just(HashProfile::Blake3), Just(HashProfile::Sha256)]
}

fn build(p: HashProfile, n: usize) -> (MemoryNodes, Vec<Hash>) {
    let mut nodes = MemoryNodes::new(p);
    let mut leaves = Vec::with_capacity(n);
    for i in 0..n {
        let entry = format!("entry {i}");
        leaves.push(p.leaf_hash(entry.as_bytes()));
        nodes.append(entry.as_bytes());
    }
    (nodes, leaves)
}

fn flip(h: &Hash, bit: usize) -> Hash {
    let mut b = *h.as_bytes();
    b[(bit / 8) % 32] ^= 1 << (bit % 8);
    Hash::from_bytes(b)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn agrees_with_rfc9162_reference(p in profile(), n in 1usize..3000, seed in any::<u64>()) {
        let (nodes, leaves) = build(p, n);
        // A handful of sizes, indices and size pairs per tree keeps the O(n) reference cheap.
        for j in 0..4u64 {
            let size = 1 + (seed.rotate_left(16 * j as u32) as usize % n);
            let index = (seed >> 7) as usize % size;
            let old = 1 + (seed >> 13) as usize % size;
            let root = root_at(p, &nodes, size as u64).expect("root");
            prop_assert_eq!(root, mth(p, &leaves[..size]));
            let incl = prove_inclusion(p, &nodes, index as u64, size as u64).expect("incl");
            prop_assert_eq!(&incl.path, &path(p, index, &leaves[..size]));
            let cons = prove_consistency(p, &nodes, old as u64, size as u64).expect("cons");
            prop_assert_eq!(&cons.path, &subproof(p, old, &leaves[..size], true));
        }
    }

    #[test]
    fn valid_proofs_verify_and_every_bit_flip_is_rejected(
        p in profile(), n in 1u64..700, a in any::<u64>(), b in any::<u64>(), bit in 0usize..256,
    ) {
        let (nodes, leaves) = build(p, n as usize);
        let size = 1 + a % n;
        let index = b % size;
        let head = TreeHead { size, root: root_at(p, &nodes, size).expect("root") };
        let leaf = leaves[index as usize];
        let proof = prove_inclusion(p, &nodes, index, size).expect("prove");
        prop_assert_eq!(verify_inclusion(p, &leaf, &proof, &head), Ok(()));

        for j in 0..proof.path.len() {
            let mut bad = proof.clone();
            bad.path[j] = flip(&bad.path[j], bit);
            prop_assert!(verify_inclusion(p, &leaf, &bad, &head).is_err());
        }
        let bad_head = TreeHead { root: flip(&head.root, bit), ..head };
        prop_assert_eq!(verify_inclusion(p, &leaf, &proof, &bad_head), Err(VerifyError::RootMismatch));
        prop_assert!(verify_inclusion(p, &flip(&leaf, bit), &proof, &head).is_err());
        for k in 0..64 {
            let bad = InclusionProof { leaf_index: index ^ (1 << k), ..proof.clone() };
            prop_assert!(verify_inclusion(p, &leaf, &bad, &head).is_err(), "index bit {}", k);
            let bad = InclusionProof { tree_size: size ^ (1 << k), ..proof.clone() };
            prop_assert!(verify_inclusion(p, &leaf, &bad, &head).is_err(), "size bit {}", k);
            let moved = TreeHead { size: size ^ (1 << k), ..head };
            prop_assert!(verify_inclusion(p, &leaf, &proof, &moved).is_err(), "head size bit {}", k);
        }
        let mut longer = proof.clone();
        longer.path.push(head.root);
        prop_assert!(verify_inclusion(p, &leaf, &longer, &head).is_err());
        if let Some(shorter) = proof.path.split_last().map(|(_, s)| s.to_vec()) {
            let bad = InclusionProof { path: shorter, ..proof.clone() };
            prop_assert!(verify_inclusion(p, &leaf, &bad, &head).is_err());
        }
    }

    #[test]
    fn consistency_verifies_and_every_bit_flip_is_rejected(
        p in profile(), n in 1u64..700, a in any::<u64>(), b in any::<u64>(), bit in 0usize..256,
    ) {
        let (nodes, _) = build(p, n as usize);
        let new = 1 + a % n;
        let old = 1 + b % new;
        let head = |s| TreeHead { size: s, root: root_at(p, &nodes, s).expect("root") };
        let (oh, nh) = (head(old), head(new));
        let proof = prove_consistency(p, &nodes, old, new).expect("prove");
        prop_assert_eq!(verify_consistency(p, &proof, &oh, &nh), Ok(()));
        for j in 0..proof.path.len() {
            let mut bad = proof.clone();
            bad.path[j] = flip(&bad.path[j], bit);
            prop_assert!(verify_consistency(p, &bad, &oh, &nh).is_err());
        }
        let flipped = |h: TreeHead| TreeHead { root: flip(&h.root, bit), ..h };
        prop_assert!(verify_consistency(p, &proof, &flipped(oh), &nh).is_err());
        prop_assert!(verify_consistency(p, &proof, &oh, &flipped(nh)).is_err());
        for k in 0..64 {
            let bad = ConsistencyProof { old_size: old ^ (1 << k), ..proof.clone() };
            prop_assert!(verify_consistency(p, &bad, &oh, &nh).is_err());
            let bad = ConsistencyProof { new_size: new ^ (1 << k), ..proof.clone() };
            prop_assert!(verify_consistency(p, &bad, &oh, &nh).is_err());
        }
        let mut longer = proof.clone();
        longer.path.push(nh.root);
        prop_assert!(verify_consistency(p, &longer, &oh, &nh).is_err());
        if !proof.path.is_empty() {
            let mut shorter = proof.clone();
            shorter.path.remove(0);
            prop_assert!(verify_consistency(p, &shorter, &oh, &nh).is_err());
        }
    }

    #[test]
    fn proof_codec_round_trips(index in any::<u64>(), size in any::<u64>(), k in 0usize..=64) {
        let path: Vec<Hash> = (0..k).map(|i| Hash::from_bytes([i as u8; 32])).collect();
        let p = InclusionProof { leaf_index: index, tree_size: size, path: path.clone() };
        prop_assert_eq!(InclusionProof::from_bytes(&p.to_bytes()), Ok(p));
        let c = ConsistencyProof { old_size: index, new_size: size, path };
        prop_assert_eq!(ConsistencyProof::from_bytes(&c.to_bytes()), Ok(c));
    }

    #[test]
    fn proof_decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(p) = InclusionProof::from_bytes(&bytes) {
            prop_assert_eq!(p.to_bytes(), bytes.clone());
        }
        if let Ok(c) = ConsistencyProof::from_bytes(&bytes) {
            prop_assert_eq!(c.to_bytes(), bytes);
        }
    }
}

/// `rs_merkle` with RFC 6962 interior hashing: leaves are passed in already hashed, and
/// `concat_and_hash` (its default: hash of left ‖ right, or promote a lone left node) feeds
/// `hash`, which adds the 0x01 node prefix.
macro_rules! rs_hasher {
    ($name:ident, $profile:expr) => {
        #[derive(Clone)]
        struct $name;
        impl rs_merkle::Hasher for $name {
            type Hash = [u8; 32];
            fn hash(data: &[u8]) -> [u8; 32] {
                let (l, r) = data.split_at(32);
                let l = Hash::try_from_slice(l).expect("32");
                let r = Hash::try_from_slice(r).expect("32");
                *$profile.node_hash(&l, &r).as_bytes()
            }
        }
    };
}
rs_hasher!(RsSha, HashProfile::Sha256);
rs_hasher!(RsBlake, HashProfile::Blake3);

fn rs_oracle<H: rs_merkle::Hasher<Hash = [u8; 32]>>(p: HashProfile, n: usize, probe: usize) {
    let (nodes, leaves) = build(p, n);
    let raw: Vec<[u8; 32]> = leaves.iter().map(|h| *h.as_bytes()).collect();
    let tree = rs_merkle::MerkleTree::<H>::from_leaves(&raw);
    let root = root_at(p, &nodes, n as u64).expect("root");
    assert_eq!(tree.root(), Some(*root.as_bytes()), "root, n={n}");
    let index = probe % n;
    let theirs = tree.proof(&[index]).proof_hashes().to_vec();
    let ours = prove_inclusion(p, &nodes, index as u64, n as u64).expect("prove");
    let ours: Vec<[u8; 32]> = ours.path.iter().map(|h| *h.as_bytes()).collect();
    assert_eq!(ours, theirs, "path, n={n} index={index}");
}

#[test]
fn rs_merkle_oracle_agrees_on_roots_and_paths() {
    for n in (1..300).chain([511, 512, 513, 1000, 1023, 1024, 1025, 2047, 3000]) {
        rs_oracle::<RsSha>(HashProfile::Sha256, n, n * 7919 + 13);
        rs_oracle::<RsBlake>(HashProfile::Blake3, n, n * 104_729 + 1);
    }
}

#[test]
fn empty_tree_and_edges() {
    for p in [HashProfile::Blake3, HashProfile::Sha256] {
        let (nodes, _) = build(p, 5);
        assert_eq!(root_at(p, &nodes, 0), Ok(p.empty_root()));
        assert!(root_at(p, &nodes, 6).is_err());
        assert!(prove_inclusion(p, &nodes, 5, 5).is_err());
        assert!(prove_inclusion(p, &nodes, 0, 6).is_err());
        assert!(prove_consistency(p, &nodes, 0, 3).is_err());
        assert!(prove_consistency(p, &nodes, 4, 3).is_err());
        assert!(prove_consistency(p, &nodes, 3, 6).is_err());
        let same = prove_consistency(p, &nodes, 5, 5).expect("equal sizes");
        assert!(same.path.is_empty());
    }
}

/// One proof of a batch, maybe spoiled: 0 keeps it, 1 flips a bit of one sibling, 2 flips a
/// bit of the leaf, 3 claims the next index, 4 drops the last hash, 5 swaps in the path of
/// another leaf.
fn spoil(
    p: HashProfile,
    nodes: &MemoryNodes,
    leaves: &[Hash],
    index: u64,
    how: u8,
    at: usize,
) -> (Hash, u64, Vec<Hash>) {
    let n = leaves.len() as u64;
    let mut path = prove_inclusion(p, nodes, index, n).expect("prove").path;
    let mut leaf = leaves[index as usize];
    let mut claimed = index;
    match how {
        1 if !path.is_empty() => {
            let i = at % path.len();
            path[i] = flip(&path[i], at);
        }
        2 => leaf = flip(&leaf, at),
        3 => claimed = index + 1,
        4 => {
            path.pop();
        }
        5 => {
            path = prove_inclusion(p, nodes, (index + 1 + at as u64) % n, n)
                .expect("prove")
                .path
        }
        _ => {}
    }
    (leaf, claimed, path)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The shared-work batch check gives, for every proof, exactly what the one-proof check
    /// gives: on valid proofs in and out of order, repeated leaves, and every kind of spoiled
    /// proof mixed among them.
    #[test]
    fn batch_inclusion_agrees_with_one_by_one(
        n in 1usize..400,
        picks in proptest::collection::vec((any::<u64>(), 0u8..12, any::<usize>()), 1..60),
        sorted in any::<bool>(),
        sha in any::<bool>(),
    ) {
        let p = if sha { HashProfile::Sha256 } else { HashProfile::Blake3 };
        let (nodes, leaves) = build(p, n);
        let head = TreeHead { size: n as u64, root: root_at(p, &nodes, n as u64).expect("root") };
        let mut picks = picks;
        if sorted {
            picks.sort_by_key(|(i, _, _)| i % n as u64);
        }
        let items: Vec<(Hash, u64, Vec<Hash>)> = picks
            .iter()
            .map(|&(i, how, at)| spoil(p, &nodes, &leaves, i % n as u64, how, at))
            .collect();
        let batch = verify_inclusions(p, &head, items.iter().map(|(l, i, path)| (*l, *i, path.as_slice())));
        let single: Vec<bool> = items
            .iter()
            .map(|(l, i, path)| {
                let proof = InclusionProof { leaf_index: *i, tree_size: n as u64, path: path.clone() };
                verify_inclusion(p, l, &proof, &head).is_ok()
            })
            .collect();
        prop_assert_eq!(batch, single);
    }
}

#[test]
fn batch_inclusion_checks_every_leaf_of_a_tree() {
    for n in [1usize, 2, 3, 7, 8, 9, 100, 1000] {
        let p = HashProfile::Blake3;
        let (nodes, leaves) = build(p, n);
        let head = TreeHead {
            size: n as u64,
            root: root_at(p, &nodes, n as u64).expect("root"),
        };
        let proofs: Vec<Vec<Hash>> = (0..n as u64)
            .map(|i| prove_inclusion(p, &nodes, i, n as u64).expect("prove").path)
            .collect();
        let all = verify_inclusions(
            p,
            &head,
            leaves
                .iter()
                .zip(&proofs)
                .enumerate()
                .map(|(i, (l, path))| (*l, i as u64, path.as_slice())),
        );
        assert!(all.iter().all(|ok| *ok), "n={n}");
        // One bad sibling high up in one proof in the middle fails that proof alone, though
        // its neighbours share every node below it.
        if n > 4 {
            let mut bad = proofs.clone();
            let m = n / 2;
            let top = bad[m].len() - 1;
            bad[m][top] = flip(&bad[m][top], 3);
            let got = verify_inclusions(
                p,
                &head,
                leaves
                    .iter()
                    .zip(&bad)
                    .enumerate()
                    .map(|(i, (l, path))| (*l, i as u64, path.as_slice())),
            );
            let failed: Vec<usize> = got
                .iter()
                .enumerate()
                .filter(|(_, ok)| !**ok)
                .map(|(i, _)| i)
                .collect();
            assert_eq!(failed, vec![m], "n={n}");
        }
    }
}

#[test]
fn batch_inclusion_does_not_reuse_a_trail_at_another_position() {
    // Leaf 0's own leaf and path, claimed for leaf 2: the fold reaches the same first node as
    // leaf 0's proof did, with the same hashes above, but one level up leaf 2's node is a
    // right child where leaf 0's is a left one, so the fold turns the other way and fails.
    let p = HashProfile::Blake3;
    let (nodes, leaves) = build(p, 8);
    let head = TreeHead {
        size: 8,
        root: root_at(p, &nodes, 8).expect("root"),
    };
    let path0 = prove_inclusion(p, &nodes, 0, 8).expect("prove").path;
    let path2 = prove_inclusion(p, &nodes, 2, 8).expect("prove").path;
    let got = verify_inclusions(
        p,
        &head,
        [
            (leaves[0], 0, path0.as_slice()),
            (leaves[0], 2, path0.as_slice()),
            (leaves[2], 2, path2.as_slice()),
        ],
    );
    assert_eq!(got, vec![true, false, true]);
}
