//! `Bundle::from_cbor` reads a bundle shallowly, then each entry on its own (in parallel for
//! large bundles). The plain serde decode of the whole bundle in one pass is its oracle: both
//! must accept exactly the same bytes and give the same bundle, under single-byte mutations
//! and truncations of real bundles, small and large.

mod common;

use warrant_ledger::bundle::{Bundle, MAX_BUNDLE_LEN};
use warrant_ledger::cbor::{self, Limits};
use warrant_ledger::envelope;
use warrant_ledger::merkle::HashProfile;

fn oracle(bytes: &[u8]) -> Option<Bundle> {
    let b: Bundle =
        cbor::from_slice_with(bytes, Limits::default().with_max_len(MAX_BUNDLE_LEN)).ok()?;
    (b.version == warrant_ledger::bundle::BUNDLE_VERSION).then_some(b)
}

/// A bundle of the sample task, with `extra` more entries of it beyond the samples.
fn bundle(extra: u64) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = common::sample_ledger(dir.path(), HashProfile::Blake3);
    let events = common::sample_events();
    let key = common::test_key();
    let signed: Vec<Vec<u8>> = events
        .iter()
        .map(|e| envelope::sign(e, &key).expect("sign").into_bytes())
        .collect();
    let refs: Vec<&[u8]> = signed.iter().map(Vec::as_slice).collect();
    ledger.append_batch(&refs).expect("append");
    let task = events[1].task.expect("task");
    let more: Vec<Vec<u8>> = (0..extra)
        .map(|_| {
            let mut e = events[1].clone();
            e.id = warrant_ledger::event::EventId::new_v7();
            envelope::sign(&e, &key).expect("sign").into_bytes()
        })
        .collect();
    for chunk in more.chunks(512) {
        let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
        ledger.append_batch(&refs).expect("append more");
    }
    ledger.export_bundle(&task, None).expect("export")
}

fn agree(bytes: &[u8], what: &str) -> bool {
    let (a, b) = (Bundle::from_cbor(bytes).ok(), oracle(bytes));
    assert_eq!(a, b, "{what}");
    a.is_some()
}

#[test]
fn shallow_then_per_entry_decoding_agrees_with_the_one_pass_decode() {
    let bytes = bundle(0);
    assert!(agree(&bytes, "the bundle itself"));
    let mut accepted = 0;
    for i in 0..bytes.len() {
        for mask in [0x01u8, 0x20, 0x80, 0xff] {
            let mut m = bytes.clone();
            m[i] ^= mask;
            accepted += usize::from(agree(&m, &format!("byte {i} ^ {mask:#x}")));
        }
        assert!(!agree(&bytes[..i], &format!("truncated to {i}")));
    }
    // Flips inside envelopes and hashes still decode: not every comparison is two rejections.
    assert!(accepted > 1000, "{accepted}");
}

#[test]
fn large_bundles_decode_in_parallel_to_the_same_result() {
    let bytes = bundle(1500);
    let decoded = Bundle::from_cbor(&bytes).expect("decodes");
    assert!(decoded.entries.len() > 1500, "{}", decoded.entries.len());
    assert!(agree(&bytes, "the large bundle"));
    // An unknown field in the last entry (decoded by another thread than the first), which
    // only that entry's own decode can see: the bundle must be refused, not shortened.
    let key = b"\x65index";
    let at = bytes
        .windows(key.len())
        .rposition(|w| w == key)
        .expect("an index key");
    let mut m = bytes.clone();
    m[at + 1] = b'j';
    assert!(!agree(&m, "unknown field in the last entry"));
    // Mutations spread over the whole bundle, so some land in every part of the entries.
    for i in (0..bytes.len()).step_by(bytes.len() / 101) {
        let mut m = bytes.clone();
        m[i] ^= 0x80;
        agree(&m, &format!("byte {i} ^ 0x80"));
    }
}
