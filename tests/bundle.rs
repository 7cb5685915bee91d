//! Evidence bundles: export from a ledger, then check every piece of it independently.

mod common;

use common::ORIGIN;
use warrant_ledger::bundle::{Bundle, BundleError};
use warrant_ledger::cbor::CborError;
use warrant_ledger::checkpoint::open_checkpoint;
use warrant_ledger::envelope;
use warrant_ledger::event::Kind;
use warrant_ledger::ledger::{Ledger, TimeBounds};
use warrant_ledger::merkle::{
    HashProfile, InclusionProof, TreeHead, verify_consistency, verify_inclusion,
};

#[test]
fn exported_bundle_carries_verifiable_entries_policies_and_consistency() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = common::sample_ledger(dir.path(), HashProfile::Sha256);
    let events = common::sample_events();
    let signed: Vec<Vec<u8>> = events
        .iter()
        .map(|e| {
            envelope::sign(e, &common::test_key())
                .expect("sign")
                .into_bytes()
        })
        .collect();
    // Unrelated traffic before and after, so indices and proofs are not trivial.
    let noise = common::events(5, 2);
    for b in &noise[..3] {
        ledger.append(b).expect("noise");
    }
    let refs: Vec<&[u8]> = signed.iter().map(Vec::as_slice).collect();
    ledger.append_batch(&refs[..6]).expect("first half");
    let old_note = ledger.checkpoint().expect("old checkpoint");
    ledger.append_batch(&refs[6..]).expect("second half");
    for b in &noise[3..] {
        ledger.append(b).expect("noise");
    }
    let task = events[1].task.expect("task");
    let bytes = ledger
        .export_bundle(&task, Some(&old_note))
        .expect("export");

    let bundle = Bundle::from_cbor(&bytes).expect("decodes");
    assert_eq!(bundle.to_cbor().expect("encode"), bytes, "canonical");
    assert_eq!(
        (
            bundle.log.origin.as_str(),
            bundle.log.hash.as_str(),
            bundle.task
        ),
        (ORIGIN, "sha256", task)
    );
    let head = open_checkpoint(&bundle.checkpoint.0, ORIGIN, &[ledger.verifier()])
        .expect("checkpoint")
        .tree_head();
    assert_eq!(head.size, 3 + 12 + 2);
    // Every task event, in log order, each with a proof that verifies.
    assert_eq!(
        bundle.entries.len(),
        11,
        "all task events but the ledger-level registration"
    );
    for e in bundle.entries.iter().chain(&bundle.policies) {
        let proof = InclusionProof {
            leaf_index: e.index,
            tree_size: head.size,
            path: e.proof.iter().map(|h| h.0).collect(),
        };
        let leaf = HashProfile::Sha256.leaf_hash(&e.envelope.0);
        verify_inclusion(HashProfile::Sha256, &leaf, &proof, &head).expect("inclusion");
        assert_eq!(ledger.entry(e.index).expect("entry"), e.envelope.0);
    }
    let policy = envelope::verify(
        &bundle.policies[0].envelope.0,
        &common::test_key().verifying_key(),
    )
    .expect("policy");
    assert_eq!(
        (bundle.policies.len(), policy.event().kind()),
        (1, Kind::PolicyRegistered)
    );
    // The empty log's (when the log was created: the latest before the first half), and
    // the one signed while the task was logged: the latest before its second half, the
    // first after its first half, and the one the auditor asked about.
    let [created, c] = bundle.earlier.as_slice() else {
        panic!("two earlier checkpoints: {:?}", bundle.earlier.len());
    };
    assert!(
        String::from_utf8_lossy(&created.old_checkpoint.0).starts_with("example.com/agents\n0\n")
    );
    assert_eq!(c.old_checkpoint.0, old_note);
    let old = open_checkpoint(&c.old_checkpoint.0, ORIGIN, &[ledger.verifier()])
        .expect("old")
        .tree_head();
    let proof = warrant_ledger::merkle::ConsistencyProof {
        old_size: old.size,
        new_size: head.size,
        path: c.proof.iter().map(|h| h.0).collect(),
    };
    verify_consistency(HashProfile::Sha256, &proof, &old, &head).expect("consistent");
    assert_ne!(
        old,
        TreeHead {
            size: head.size,
            root: head.root
        }
    );

    // A checkpoint from another log is refused for --since.
    let other = tempfile::tempdir().expect("tempdir");
    let foreign = Ledger::create(
        other.path(),
        ORIGIN,
        HashProfile::Sha256,
        warrant_ledger::checkpoint::NoteSigner::generate(ORIGIN).expect("key"),
        common::sample_trust(),
    )
    .expect("create")
    .with_time_bounds(TimeBounds::history());
    assert!(
        ledger
            .export_bundle(&task, Some(&foreign.checkpoint().expect("note")))
            .is_err()
    );
}

#[test]
fn bundle_decoding_is_strict() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = common::sample_ledger(dir.path(), HashProfile::Blake3);
    let signed = envelope::sign(&common::sample_events()[1], &common::test_key())
        .expect("sign")
        .into_bytes();
    ledger.append(&signed).expect("append");
    let task = common::sample_events()[1].task.expect("task");
    let bytes = ledger.export_bundle(&task, None).expect("export");
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(matches!(
        Bundle::from_cbor(&trailing),
        Err(BundleError::Cbor(CborError::TrailingBytes { .. }))
    ));
    assert!(matches!(
        Bundle::from_cbor(&bytes[..bytes.len() - 1]),
        Err(BundleError::Cbor(_))
    ));
    let mut b = Bundle::from_cbor(&bytes).expect("decodes");
    b.version = 1;
    assert_eq!(
        Bundle::from_cbor(&b.to_cbor().expect("encode")),
        Err(BundleError::Version(1))
    );
    // A proof hash of the wrong length is a schema error, not a panic.
    let mut v = warrant_ledger::internals::parse_value(
        &bytes,
        warrant_ledger::cbor::Limits::default().with_max_len(1 << 20),
    )
    .expect("value");
    let entries = field(&mut v, "entries");
    let ciborium::Value::Array(list) = entries else {
        panic!("entries is an array")
    };
    *field(&mut list[0], "proof") =
        ciborium::Value::Array(vec![ciborium::Value::Bytes(vec![1; 31])]);
    let bad = warrant_ledger::internals::value_to_vec(&v).expect("encode");
    assert!(matches!(
        Bundle::from_cbor(&bad),
        Err(BundleError::Cbor(CborError::Schema(_)))
    ));
}

/// The value under text key `key` of a map value.
fn field<'a>(map: &'a mut ciborium::Value, key: &str) -> &'a mut ciborium::Value {
    let ciborium::Value::Map(entries) = map else {
        panic!("not a map")
    };
    let (_, v) = entries
        .iter_mut()
        .find(|(k, _)| k == &ciborium::Value::Text(key.into()))
        .expect("key present");
    v
}
