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
    use warrant_ledger::event::{EventId, TaskId};
    use warrant_ledger::merkle::{Hash, NodeId};
    use warrant_ledger::store::{NewEntry, Storage, StoreError};
    struct Lossy(MemoryStore);
    impl Storage for Lossy {
        fn profile(&self) -> HashProfile {
            self.0.profile()
        }
        fn size(&self) -> u64 {
            self.0.size()
        }
        fn append(&self, batch: &[NewEntry<'_>]) -> Result<u64, StoreError> {
            self.0.append(batch)
        }
        fn entry(&self, index: u64) -> Result<Vec<u8>, StoreError> {
            let mut e = self.0.entry(index)?;
            if index == 70 {
                e[0] ^= 1;
            }
            Ok(e)
        }
        fn node(&self, id: NodeId) -> Result<Hash, StoreError> {
            self.0.node(id)
        }
        fn find_event(&self, id: &EventId) -> Result<Option<u64>, StoreError> {
            self.0.find_event(id)
        }
        fn task_entries(&self, task: &TaskId) -> Result<Vec<u64>, StoreError> {
            self.0.task_entries(task)
        }
        fn put_checkpoint(&self, size: u64, note: &[u8]) -> Result<(), StoreError> {
            self.0.put_checkpoint(size, note)
        }
        fn checkpoint(&self, size: u64) -> Result<Option<Vec<u8>>, StoreError> {
            self.0.checkpoint(size)
        }
        fn checkpoint_sizes(&self) -> Result<Vec<u64>, StoreError> {
            self.0.checkpoint_sizes()
        }
    }
    let entries = conformance::sample_entries(100, &|i| format!("entry {i}").into_bytes());
    let broken = conformance::check(
        &|| Lossy(MemoryStore::new(HashProfile::Sha256)),
        None,
        &entries,
    )
    .expect_err("a store that alters an entry fails");
    assert_eq!(broken.check, "entry");
}
