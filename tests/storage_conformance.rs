//! The shared `Storage` conformance suite (`store::conformance`) on every store this crate
//! has: memory and file, both hash profiles; the file store also after reopening.
//! PostgreSQL passes the same suite in tests/pg_store.rs.

mod common;

use std::sync::Arc;

use warrant_ledger::cbor::Limits;
use warrant_ledger::envelope;
use warrant_ledger::merkle::HashProfile;
use warrant_ledger::store::conformance::{self, SampleEntry};
use warrant_ledger::store::{FileStore, KeysFn, MemoryStore};

/// Signed envelopes with the event ids and tasks their bytes carry (a store that re-reads
/// keys from the bytes finds the same).
fn envelopes(n: usize) -> Vec<SampleEntry> {
    common::conformance_entries(n)
}

fn keys() -> KeysFn {
    Arc::new(|bytes: &[u8]| {
        let e = envelope::decode_unverified(bytes, Limits::default()).ok()?;
        Some((e.id, e.task))
    })
}

#[test]
fn the_memory_store_conforms() {
    for profile in [HashProfile::Sha256, HashProfile::Blake3] {
        let entries = conformance::sample_entries(150, &|i| format!("entry {i}").into_bytes());
        conformance::check(&|| MemoryStore::new(profile), None, &entries).expect("conforms");
    }
}

#[test]
fn the_file_store_conforms_and_keeps_everything_across_a_reopen() {
    let tmp = tempfile::tempdir().expect("dir");
    let entries = envelopes(150);
    for profile in [HashProfile::Sha256, HashProfile::Blake3] {
        let counter = std::sync::atomic::AtomicUsize::new(0);
        let base = tmp.path().join(profile.name());
        let fresh = || {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            FileStore::create(&base.join(n.to_string()), profile, keys(), None).expect("create")
        };
        let reopen = |store: FileStore| {
            let dir = store.dir().to_path_buf();
            drop(store);
            FileStore::open(&dir, keys(), None).expect("reopen")
        };
        conformance::check(&fresh, Some(&reopen), &entries).expect("conforms");
    }
}

/// The suite catches a store that breaks the contract: one whose entries come back altered.
#[test]
fn the_suite_fails_a_store_that_breaks_the_contract() {
    let entries = conformance::sample_entries(100, &|i| format!("entry {i}").into_bytes());
    let broken = conformance::check(
        &|| common::Lossy::new(MemoryStore::new(HashProfile::Sha256), 70),
        None,
        &entries,
    )
    .expect_err("a store that alters an entry fails");
    assert_eq!(broken.check, "entry");
}
