//! Arbitrary bytes into the proof decoders and verifiers: no panic, and decoded proofs
//! re-encode to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warrant_ledger::merkle::{
    ConsistencyProof, Hash, HashProfile, InclusionProof, TreeHead, verify_consistency,
    verify_inclusion,
};

fuzz_target!(|data: &[u8]| {
    let root = Hash::from_bytes([7; 32]);
    for p in [HashProfile::Blake3, HashProfile::Sha256] {
        if let Ok(proof) = InclusionProof::from_bytes(data) {
            assert_eq!(proof.to_bytes(), data);
            let head = TreeHead { size: proof.tree_size, root };
            let _ = verify_inclusion(p, &root, &proof, &head);
        }
        if let Ok(proof) = ConsistencyProof::from_bytes(data) {
            assert_eq!(proof.to_bytes(), data);
            let old = TreeHead { size: proof.old_size, root };
            let new = TreeHead { size: proof.new_size, root };
            let _ = verify_consistency(p, &proof, &old, &new);
        }
    }
});
