//! Group commit: appenders verify in their own threads, queue what they want written, and
//! one of them (the leader) writes everything queued in one store append (one round of
//! fsyncs), then wakes the others with their results.

use std::collections::{HashMap, HashSet};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use super::{AppendError, SharedStoreError};
use crate::event::{Digest, Event, EventId, TaskId};
use crate::merkle::Hash;
use crate::store::{NewEntry, Storage};

/// A verified entry waiting to be written.
pub(super) struct Prepared {
    pub bytes: Vec<u8>,
    pub leaf: Hash,
    pub id: EventId,
    pub task: Option<TaskId>,
    /// The decoded event and its digest, for the gate's live state once it is written.
    pub event: Box<Event>,
    pub digest: Digest,
}

/// Told every entry a group wrote, in log order, before any appender of the group returns.
pub(super) type Observer<'a> = dyn Fn(Vec<(u64, Prepared)>) + 'a;

type Outcome = Result<Vec<u64>, AppendError>;

#[derive(Default)]
struct Queue {
    next_ticket: u64,
    waiting: Vec<(u64, Vec<Prepared>)>,
    done: HashMap<u64, Outcome>,
    leader_active: bool,
}

#[derive(Default)]
pub(super) struct Committer {
    queue: Mutex<Queue>,
    wake: Condvar,
}

impl Committer {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // The queue is only mutated in short sections that cannot panic half-way.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues one unit (all-or-nothing) and returns its indices once durable.
    pub(super) fn submit(
        &self,
        store: &dyn Storage,
        unit: Vec<Prepared>,
        observe: &Observer<'_>,
    ) -> Outcome {
        let mut q = self.lock();
        let ticket = q.next_ticket;
        q.next_ticket += 1;
        q.waiting.push((ticket, unit));
        loop {
            if let Some(result) = q.done.remove(&ticket) {
                return result;
            }
            if q.leader_active {
                q = self.wake.wait(q).unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            q.leader_active = true;
            let group = std::mem::take(&mut q.waiting);
            drop(q);
            let results = commit_group(store, group, observe);
            q = self.lock();
            q.done.extend(results);
            q.leader_active = false;
            self.wake.notify_all();
        }
    }
}

/// Where an entry of a unit goes.
#[derive(Clone, Copy)]
enum Slot {
    /// Written by this group.
    New,
    /// Byte-identical bytes are in the log already at this index (an idempotent retry).
    Stored(u64),
    /// Byte-identical bytes are an entry of an earlier unit of this group (unit, position):
    /// a retry that arrived while its first attempt still waited for its commit.
    SameAs(usize, usize),
}

type Accepted = (u64, Vec<Prepared>, Vec<Slot>);

/// Resolves duplicates, then writes every surviving unit in one append.
fn commit_group(
    store: &dyn Storage,
    group: Vec<(u64, Vec<Prepared>)>,
    observe: &Observer<'_>,
) -> Vec<(u64, Outcome)> {
    let mut results = Vec::with_capacity(group.len());
    let mut accepted: Vec<Accepted> = Vec::new();
    let mut seen: HashMap<EventId, (usize, usize)> = HashMap::new();
    for (ticket, unit) in group {
        match resolve_duplicates(store, &unit, &seen, &accepted) {
            Ok(slots) => {
                for (position, (p, slot)) in unit.iter().zip(&slots).enumerate() {
                    if matches!(slot, Slot::New) {
                        seen.insert(p.id, (accepted.len(), position));
                    }
                }
                accepted.push((ticket, unit, slots));
            }
            Err(e) => results.push((ticket, Err(e))),
        }
    }
    let batch: Vec<NewEntry<'_>> = accepted
        .iter()
        .flat_map(|(_, unit, slots)| unit.iter().zip(slots))
        .filter(|(_, slot)| matches!(slot, Slot::New))
        .map(|(p, _)| NewEntry {
            bytes: &p.bytes,
            leaf: p.leaf,
            event_id: p.id,
            task: p.task,
        })
        .collect();
    match store.append(&batch) {
        Ok(next) => {
            drop(batch);
            let (indices, written) = assign(accepted, next);
            results.extend(indices.into_iter().map(|(t, i)| (t, Ok(i))));
            observe(written);
        }
        Err(e) => {
            // One failure, reported to every append of the group.
            let shared = SharedStoreError(std::sync::Arc::new(e));
            for (ticket, _, _) in accepted {
                results.push((ticket, Err(AppendError::Store(shared.clone()))));
            }
        }
    }
    results
}

/// Each accepted unit's indices (new entries numbered from `next` in order), and the
/// entries written, for the observer.
#[allow(clippy::type_complexity)]
fn assign(accepted: Vec<Accepted>, mut next: u64) -> (Vec<(u64, Vec<u64>)>, Vec<(u64, Prepared)>) {
    let mut out: Vec<(u64, Vec<u64>)> = Vec::with_capacity(accepted.len());
    let mut written = Vec::new();
    for (ticket, unit, slots) in accepted {
        let mut indices = Vec::with_capacity(unit.len());
        for (p, slot) in unit.into_iter().zip(slots) {
            indices.push(match slot {
                Slot::Stored(index) => index,
                // An earlier unit: its indices are assigned already.
                Slot::SameAs(k, position) => out[k].1[position],
                Slot::New => {
                    written.push((next, p));
                    next += 1;
                    next - 1
                }
            });
        }
        out.push((ticket, indices));
    }
    (out, written)
}

/// Where each entry of a unit goes ([`Slot`]). The same id twice in the unit, or an id an
/// earlier unit of the group carries with other bytes, rejects the unit
/// ([`AppendError::DuplicateInBatch`]); an id in the log with other bytes rejects it too
/// ([`AppendError::DuplicateEventId`]).
fn resolve_duplicates(
    store: &dyn Storage,
    unit: &[Prepared],
    seen: &HashMap<EventId, (usize, usize)>,
    accepted: &[Accepted],
) -> Result<Vec<Slot>, AppendError> {
    // The log's entries for the unit's ids, in one lookup (one query for a database).
    let ids: Vec<EventId> = unit.iter().map(|p| p.id).collect();
    let in_log = store.find_events(&ids)?;
    let mut in_unit = HashSet::new();
    let mut out = Vec::with_capacity(unit.len());
    for ((position, p), in_log) in unit.iter().enumerate().zip(in_log) {
        if !in_unit.insert(p.id) {
            return Err(AppendError::DuplicateInBatch { position });
        }
        if let Some(&(k, at)) = seen.get(&p.id) {
            if accepted[k].1[at].bytes != p.bytes {
                return Err(AppendError::DuplicateInBatch { position });
            }
            out.push(Slot::SameAs(k, at));
            continue;
        }
        match in_log {
            None => out.push(Slot::New),
            Some(existing) => {
                let stored = store.entry(existing)?;
                if stored == p.bytes {
                    out.push(Slot::Stored(existing));
                } else {
                    return Err(AppendError::DuplicateEventId { position, existing });
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cbor::Limits;
    use crate::merkle::HashProfile;
    use crate::store::MemoryStore;

    fn prepared(bytes: &[u8]) -> Prepared {
        let event = crate::envelope::decode_unverified(bytes, Limits::default()).expect("vector");
        Prepared {
            bytes: bytes.to_vec(),
            leaf: HashProfile::Sha256.leaf_hash(bytes),
            id: event.id,
            task: event.task,
            event: Box::new(event),
            digest: Digest::of_envelope(bytes),
        }
    }

    fn vector(kind: &str) -> Vec<u8> {
        let path = format!(
            "{}/tests/vectors/events/{kind}.cose.hex",
            env!("CARGO_MANIFEST_DIR")
        );
        let hex = std::fs::read_to_string(path).expect("vector file");
        crate::encoding::hex_decode(hex.trim()).expect("hex")
    }

    /// A client's retry can reach the queue while its first attempt still waits there: both
    /// are in one group. The retry must get the first attempt's index, not a refusal, or a
    /// client that timed out would be told its event is a duplicate of itself.
    #[test]
    fn a_retry_committed_with_its_first_attempt_shares_its_index() {
        let store = MemoryStore::new(HashProfile::Sha256);
        let (a, b) = (vector("TaskOpened"), vector("ActionExecuted"));
        let mut other = a.clone();
        *other.last_mut().expect("bytes") ^= 1;
        let group = vec![
            (1, vec![prepared(&a), prepared(&b)]),
            (2, vec![prepared(&b)]),
            (3, vec![prepared(&other)]),
            (4, vec![prepared(&a), prepared(&a)]),
        ];
        let results: HashMap<u64, Outcome> =
            commit_group(&store, group, &|_| {}).into_iter().collect();
        assert_eq!(results[&1], Ok(vec![0, 1]));
        assert_eq!(results[&2], Ok(vec![1]));
        // Another envelope with a's id, and a's id twice in one unit, are still refused.
        assert_eq!(
            results[&3],
            Err(AppendError::DuplicateInBatch { position: 0 })
        );
        assert_eq!(
            results[&4],
            Err(AppendError::DuplicateInBatch { position: 1 })
        );
        assert_eq!(store.size(), 2);
        // Once written, a resubmission resolves from the store.
        let later = commit_group(&store, vec![(5, vec![prepared(&b), prepared(&a)])], &|_| {});
        assert_eq!(later, vec![(5, Ok(vec![1, 0]))]);
        assert_eq!(store.size(), 2);
    }
}
