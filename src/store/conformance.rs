//! The contract of [`Storage`] as checks any implementation can run on itself: the memory
//! and file stores pass them (`tests/storage_conformance.rs`), and a new backend (a
//! database) should before it holds a log.
//!
//! ```
//! use warrant_ledger::merkle::HashProfile;
//! use warrant_ledger::store::{MemoryStore, conformance};
//!
//! let entries = conformance::sample_entries(40, &|i| format!("entry {i}").into_bytes());
//! conformance::check(&|| MemoryStore::new(HashProfile::Sha256), None, &entries)?;
//! # Ok::<(), conformance::Violation>(())
//! ```

use super::{NewEntry, Storage, StoreError, StoreNodes};
use crate::event::{EventId, TaskId};
use crate::merkle::{MemoryNodes, prove_consistency, prove_inclusion, root_at};

/// A broken rule: which check, and what was seen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("storage conformance, {check}: {detail}")]
pub struct Violation {
    /// The check.
    pub check: &'static str,
    /// What was seen.
    pub detail: String,
}

fn fail(check: &'static str, detail: impl Into<String>) -> Violation {
    Violation {
        check,
        detail: detail.into(),
    }
}

/// An entry the suite appends, owning its bytes.
#[derive(Debug, Clone)]
pub struct SampleEntry {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Its event id.
    pub event_id: EventId,
    /// Its task (every third entry has none; the others spread over three tasks).
    pub task: Option<TaskId>,
}

impl SampleEntry {
    /// The entry as a store appends it, its leaf hashed under `profile`.
    #[must_use]
    pub fn as_new(&self, profile: crate::merkle::HashProfile) -> NewEntry<'_> {
        NewEntry {
            bytes: &self.bytes,
            leaf: profile.leaf_hash(&self.bytes),
            event_id: self.event_id,
            task: self.task,
        }
    }
}

/// `n` entries whose bytes `make(i)` gives, with fresh event ids and tasks spread as
/// [`SampleEntry::task`] says. A store that reads keys back from the bytes (the file store,
/// on recovery) needs real envelopes from `make`.
#[must_use]
pub fn sample_entries(n: usize, make: &dyn Fn(usize) -> Vec<u8>) -> Vec<SampleEntry> {
    let tasks = [TaskId::new_v7(), TaskId::new_v7(), TaskId::new_v7()];
    (0..n)
        .map(|i| SampleEntry {
            bytes: make(i),
            event_id: EventId::new_v7(),
            task: (i % 3 != 0).then(|| tasks[i % 3]),
        })
        .collect()
}

/// Runs every check: each on a store from `fresh`, and, with `reopen`, again on the store
/// reopened after the appends (what a restart must keep).
///
/// # Errors
/// The first [`Violation`].
pub fn check<S: Storage>(
    fresh: &dyn Fn() -> S,
    reopen: Option<&dyn Fn(S) -> S>,
    entries: &[SampleEntry],
) -> Result<(), Violation> {
    empty(&fresh())?;
    let store = fresh();
    append_in_batches(&store, entries)?;
    reads(&store, entries)?;
    checkpoints(&store)?;
    if let Some(reopen) = reopen {
        let store = reopen(store);
        reads(&store, entries)?;
        let sizes = store
            .checkpoint_sizes()
            .map_err(|e| fail("reopen", e.to_string()))?;
        if sizes != [1, 3, 5] {
            return Err(fail(
                "reopen",
                format!("checkpoint sizes {sizes:?} after reopening"),
            ));
        }
    }
    Ok(())
}

fn empty<S: Storage>(store: &S) -> Result<(), Violation> {
    let c = "empty store";
    if store.size() != 0 {
        return Err(fail(c, format!("size {}", store.size())));
    }
    if !matches!(store.entry(0), Err(StoreError::OutOfRange { .. })) {
        return Err(fail(c, "entry 0 is not OutOfRange"));
    }
    let none = store.find_event(&EventId::new_v7());
    let sizes = store.checkpoint_sizes();
    match (none, sizes) {
        (Ok(None), Ok(s)) if s.is_empty() => Ok(()),
        other => Err(fail(c, format!("{other:?}"))),
    }
}

/// `find_events` answers several ids at once, in the order asked, unknown ones `None`
/// (every entry's id backwards, with a fresh id between each pair).
fn find_events_in_order<S: Storage>(store: &S, entries: &[SampleEntry]) -> Result<(), Violation> {
    let mut ids = Vec::new();
    let mut want = Vec::new();
    for (i, e) in entries.iter().enumerate().rev() {
        ids.extend([e.event_id, EventId::new_v7()]);
        want.extend([Some(i as u64), None]);
    }
    match store.find_events(&ids) {
        Ok(got) if got == want => Ok(()),
        other => Err(fail("find_events", format!("{:?}", other.map(|g| g.len())))),
    }
}

/// Appends in batches of 1, 7, 64, … entries; each append returns the first index, the
/// size follows.
fn append_in_batches<S: Storage>(store: &S, entries: &[SampleEntry]) -> Result<(), Violation> {
    let c = "append";
    let profile = store.profile();
    let mut at = 0;
    for (k, len) in [1usize, 7, 64, 3, 128].iter().cycle().enumerate() {
        if at >= entries.len() {
            break;
        }
        let end = (at + len + k % 2).min(entries.len());
        let batch: Vec<NewEntry<'_>> = entries[at..end].iter().map(|e| e.as_new(profile)).collect();
        let first = store.append(&batch).map_err(|e| fail(c, e.to_string()))?;
        if first != at as u64 || store.size() != end as u64 {
            return Err(fail(
                c,
                format!(
                    "first {first}, size {} after appending [{at}, {end})",
                    store.size()
                ),
            ));
        }
        at = end;
    }
    Ok(())
}

/// Entries byte for byte, lookups, and roots and proofs at every past size equal to an
/// in-memory tree of the same entries.
fn reads<S: Storage>(store: &S, entries: &[SampleEntry]) -> Result<(), Violation> {
    let profile = store.profile();
    let mut tree = MemoryNodes::new(profile);
    for (i, e) in entries.iter().enumerate() {
        let got = store
            .entry(i as u64)
            .map_err(|err| fail("entry", err.to_string()))?;
        if got != e.bytes {
            return Err(fail("entry", format!("entry {i} differs")));
        }
        if store.find_event(&e.event_id).ok().flatten() != Some(i as u64) {
            return Err(fail("find_event", format!("entry {i}'s event id")));
        }
        tree.append(&e.bytes);
    }
    let n = entries.len() as u64;
    if !matches!(store.entry(n), Err(StoreError::OutOfRange { .. })) {
        return Err(fail("entry", "the entry past the end is not OutOfRange"));
    }
    find_events_in_order(store, entries)?;
    for task in entries.iter().filter_map(|e| e.task) {
        let want: Vec<u64> = (0..n)
            .filter(|&i| entries[i as usize].task == Some(task))
            .collect();
        if store.task_entries(&task).ok() != Some(want) {
            return Err(fail("task_entries", format!("task {task}")));
        }
    }
    proofs(store, &tree, n)
}

fn proofs<S: Storage>(store: &S, tree: &MemoryNodes, n: u64) -> Result<(), Violation> {
    let profile = store.profile();
    let nodes = StoreNodes(store);
    let mismatch = |what: &str, size: u64| fail("proofs", format!("{what} at size {size}"));
    for size in 1..=n {
        if root_at(profile, &nodes, size).ok() != root_at(profile, tree, size).ok() {
            return Err(mismatch("root", size));
        }
        let index = size / 2;
        if prove_inclusion(profile, &nodes, index, size).ok()
            != prove_inclusion(profile, tree, index, size).ok()
        {
            return Err(mismatch("inclusion proof", size));
        }
        let old = size.div_ceil(3);
        if prove_consistency(profile, &nodes, old, size).ok()
            != prove_consistency(profile, tree, old, size).ok()
        {
            return Err(mismatch("consistency proof", size));
        }
    }
    Ok(())
}

/// Checkpoints stored in any order list ascending; one stored again for a size replaces it.
fn checkpoints<S: Storage>(store: &S) -> Result<(), Violation> {
    let c = "checkpoints";
    let put = |size: u64, note: &[u8]| {
        store
            .put_checkpoint(size, note)
            .map_err(|e| fail(c, e.to_string()))
    };
    put(5, b"five\n")?;
    put(1, b"one\n")?;
    put(3, b"three\n")?;
    put(3, b"three, cosigned\n")?;
    let sizes = store
        .checkpoint_sizes()
        .map_err(|e| fail(c, e.to_string()))?;
    if sizes != [1, 3, 5] {
        return Err(fail(c, format!("sizes {sizes:?}")));
    }
    let got = store.checkpoint(3).map_err(|e| fail(c, e.to_string()))?;
    if got.as_deref() != Some(&b"three, cosigned\n"[..]) {
        return Err(fail(
            c,
            "the note stored again for size 3 did not replace the first",
        ));
    }
    if store
        .checkpoint(4)
        .map_err(|e| fail(c, e.to_string()))?
        .is_some()
    {
        return Err(fail(c, "a note for a size never stored"));
    }
    Ok(())
}
