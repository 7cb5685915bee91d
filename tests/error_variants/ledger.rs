//! A ledger and its store refusing: bad events, wrong keys, damaged or failing storage,
//! forked checkpoints, read-only handles.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use warrant_ledger::checkpoint::NoteSigner;
use warrant_ledger::envelope;
use warrant_ledger::event::{EventId, TaskId, Timestamp};
use warrant_ledger::ledger::{
    AppendError, DescriptorError, Ledger, LedgerError, TimeBounds, read_origin,
};
use warrant_ledger::merkle::HashProfile;
use warrant_ledger::store::{FaultHook, FileStore, KeysFn, MemoryStore, Op, Storage, StoreError};

use crate::common::{self, ORIGIN};
use crate::{Reached, err, reach};

pub(crate) fn reach_all(seen: &mut Reached) {
    append_errors(seen);
    ledger_errors(seen);
    tile_errors(seen);
    descriptor_errors(seen);
    store_errors(seen);
    copy_errors(seen);
}

/// Fails every store operation once armed, as a full disk would.
struct FullDisk(AtomicBool);

impl FaultHook for FullDisk {
    fn before(&self, _op: Op, file: &str) -> io::Result<()> {
        if self.0.load(Ordering::SeqCst) {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                format!("{file}: full"),
            ));
        }
        Ok(())
    }
}

/// Sample event `n`, signed by the test key.
fn signed(n: usize) -> Vec<u8> {
    let e = &common::sample_events()[n];
    envelope::sign(e, &common::test_key())
        .expect("sign")
        .into_bytes()
}

fn append_errors(seen: &mut Reached) {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = common::sample_ledger(dir.path(), HashProfile::Blake3);
    reach!(
        seen,
        AppendError::Rejected,
        err(ledger.append(b"not an envelope"))
    );
    let mut ahead = common::sample_events().remove(1);
    ahead.retime(Timestamp::now().plus_ms(86_400_000));
    let ahead = envelope::sign(&ahead, &common::test_key()).expect("sign");
    reach!(seen, AppendError::Time, err(ledger.append(ahead.bytes())));
    let first = signed(1);
    ledger.append(&first).expect("append");
    let mut same_id = common::sample_events().remove(1);
    same_id.ext.insert("retry".into(), "other bytes".into());
    let same_id = envelope::sign(&same_id, &common::test_key()).expect("sign");
    reach!(
        seen,
        AppendError::DuplicateEventId,
        err(ledger.append(same_id.bytes()))
    );
    let second = signed(2);
    reach!(
        seen,
        AppendError::DuplicateInBatch,
        err(ledger.append_batch(&[&second, &second]))
    );
    drop(ledger);

    let ro = Ledger::open_read_only(dir.path()).expect("read-only");
    reach!(seen, AppendError::ReadOnly, err(ro.append(&second)));
    drop(ro);

    let hook = Arc::new(FullDisk(AtomicBool::new(false)));
    let ledger = Ledger::open_with_hook(
        dir.path(),
        common::log_key(),
        common::sample_trust(),
        Some(hook.clone()),
    )
    .expect("open")
    .with_time_bounds(TimeBounds::history());
    hook.0.store(true, Ordering::SeqCst);
    let failed = err(ledger.append(&second));
    reach!(seen, AppendError::Store, failed);
    let AppendError::Store(io_error) = failed else {
        unreachable!()
    };
    reach!(seen, StoreError::Io, *io_error.0);
    hook.0.store(false, Ordering::SeqCst);
    let AppendError::Store(poisoned) = err(ledger.append(&signed(3))) else {
        panic!("a store error")
    };
    reach!(seen, StoreError::Poisoned, *poisoned.0);
}

fn ledger_errors(seen: &mut Reached) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ledger, _) = crate::sample_bundle(dir.path());
    reach!(
        seen,
        LedgerError::Store,
        err(Ledger::open(
            dir.path(),
            common::log_key(),
            common::sample_trust()
        ))
    );
    reach!(seen, LedgerError::Prove, err(ledger.prove_inclusion(5, 1)));
    let empty = tempfile::tempdir().expect("tempdir");
    reach!(
        seen,
        LedgerError::NotALedger,
        err(Ledger::open_read_only(empty.path()))
    );
    let task = common::sample_events()[1].task.expect("task");
    reach!(
        seen,
        LedgerError::UnknownTask,
        err(ledger.export_bundle(&TaskId::new_v7(), None))
    );
    reach!(
        seen,
        LedgerError::ForeignCheckpoint,
        err(ledger.export_bundle(&task, Some(b"not a checkpoint")))
    );
    // The same log key signing another history: a fork.
    let fork_dir = tempfile::tempdir().expect("tempdir");
    let fork = common::sample_ledger(fork_dir.path(), HashProfile::Blake3);
    fork.append(&signed(2)).expect("append");
    let forked = fork.checkpoint().expect("checkpoint");
    reach!(
        seen,
        LedgerError::NotAPrefix,
        err(ledger.export_bundle(&task, Some(&forked)))
    );
    drop(ledger);
    let impostor = NoteSigner::generate(ORIGIN).expect("key");
    reach!(
        seen,
        LedgerError::KeyMismatch,
        err(Ledger::open(dir.path(), impostor, common::sample_trust()))
    );

    let store = MemoryStore::new(HashProfile::Blake3);
    let verifier = common::log_key().verifier();
    store.put_checkpoint(0, b"not a note").expect("put");
    let keyless = Ledger::without_key(store, ORIGIN, verifier.clone());
    reach!(seen, LedgerError::Checkpoint, err(keyless.creation_time()));
    let keyless = Ledger::without_key(MemoryStore::new(HashProfile::Blake3), ORIGIN, verifier);
    reach!(seen, LedgerError::NoCheckpoint, err(keyless.checkpoint()));

    // Bytes in the store that are not an envelope (written past the ledger): the gate,
    // which reads entries back, says which.
    let store = MemoryStore::new(HashProfile::Blake3);
    let junk = b"not an envelope";
    store
        .append(&[warrant_ledger::store::NewEntry {
            bytes: junk,
            leaf: HashProfile::Blake3.leaf_hash(junk),
            event_id: EventId::new_v7(),
            task: Some(task),
        }])
        .expect("store append");
    let damaged = Ledger::with_store(store, ORIGIN, common::log_key(), common::sample_trust());
    reach!(seen, LedgerError::Entry, err(damaged.followed_tasks()));
}

fn descriptor_errors(seen: &mut Reached) {
    let dir = tempfile::tempdir().expect("tempdir");
    let descriptor = |e: LedgerError| match e {
        LedgerError::Descriptor { source, .. } => source,
        other => panic!("not a descriptor error: {other:?}"),
    };
    reach!(seen, LedgerError::Descriptor, err(read_origin(dir.path())));
    reach!(
        seen,
        DescriptorError::Io,
        descriptor(err(read_origin(dir.path())))
    );
    std::fs::write(dir.path().join("origin"), "two\nlines\n").expect("write");
    reach!(
        seen,
        DescriptorError::NotOneLine,
        descriptor(err(read_origin(dir.path())))
    );
    let ledger_dir = tempfile::tempdir().expect("tempdir");
    drop(common::sample_ledger(
        ledger_dir.path(),
        HashProfile::Blake3,
    ));
    std::fs::write(ledger_dir.path().join("log.pub"), "not a key\n").expect("write");
    let e = err(Ledger::open_read_only(ledger_dir.path()));
    reach!(seen, DescriptorError::Key, descriptor(e));
}

fn no_keys() -> KeysFn {
    Arc::new(|_: &[u8]| None)
}

/// A copy into a store that does not read back what it was given.
fn copy_errors(seen: &mut Reached) {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = common::sample_ledger(dir.path(), HashProfile::Sha256);
    ledger.append(&signed(1)).expect("append");
    let lying = common::Lossy::new(MemoryStore::new(HashProfile::Sha256), 0);
    reach!(
        seen,
        LedgerError::CopyDiffers,
        err(ledger.copy_into(&lying))
    );
}

fn store_errors(seen: &mut Reached) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path: &Path = dir.path();
    let store = FileStore::create(path, HashProfile::Sha256, no_keys(), None).expect("create");
    reach!(
        seen,
        StoreError::Locked,
        err(FileStore::open(path, no_keys(), None))
    );
    reach!(seen, StoreError::OutOfRange, err(store.entry(0)));
    drop(store);
    reach!(
        seen,
        StoreError::Exists,
        err(FileStore::create(
            path,
            HashProfile::Sha256,
            no_keys(),
            None
        ))
    );
    let ro = FileStore::open_read_only(path, no_keys()).expect("read-only");
    reach!(
        seen,
        StoreError::ReadOnly,
        err(ro.put_checkpoint(0, b"note"))
    );
    drop(ro);
    // A store file that is not what its name says.
    let meta = std::fs::read_dir(path)
        .expect("list")
        .map(|e| e.expect("entry").path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("meta"))
        })
        .expect("a meta file");
    std::fs::write(&meta, b"not a store").expect("write");
    reach!(
        seen,
        StoreError::Corrupt,
        err(FileStore::open(path, no_keys(), None))
    );
}

/// Tiles the log does not hold whole, and an entry bundle that cannot carry its entry (a
/// log filled through the library with a larger envelope limit than the server's).
fn tile_errors(seen: &mut Reached) {
    use warrant_ledger::cbor::Limits;
    use warrant_ledger::merkle::{Tile, TileKind};
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = common::sample_ledger(dir.path(), HashProfile::Sha256)
        .with_limits(Limits::default().with_max_len(1 << 20));
    let mut event = common::sample_events().remove(1);
    event.ext.insert("note".into(), "x".repeat(70_000));
    let big = envelope::sign(&event, &common::test_key()).expect("sign");
    assert!(big.bytes().len() > 65_535);
    ledger.append(big.bytes()).expect("append");
    let hashes = Tile {
        kind: TileKind::Hashes { level: 0 },
        index: 0,
        width: 2,
    };
    reach!(seen, LedgerError::TileOutOfRange, err(ledger.tile(&hashes)));
    let bundle = Tile {
        kind: TileKind::Entries,
        index: 0,
        width: 1,
    };
    reach!(
        seen,
        LedgerError::EntryTooLongForBundle,
        err(ledger.tile(&bundle))
    );
    // The one-entry hash tile is served: it is the entry's leaf hash.
    let one = Tile { width: 1, ..hashes };
    assert_eq!(
        ledger.tile(&one).expect("tile"),
        HashProfile::Sha256.leaf_hash(big.bytes()).as_bytes()
    );
}
