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

/// Resolves duplicates, then writes every surviving unit in one append.
fn commit_group(
    store: &dyn Storage,
    group: Vec<(u64, Vec<Prepared>)>,
    observe: &Observer<'_>,
) -> Vec<(u64, Outcome)> {
    let mut results = Vec::with_capacity(group.len());
    let mut accepted: Vec<(u64, Vec<Prepared>, Vec<Option<u64>>)> = Vec::new();
    let mut seen: HashSet<EventId> = HashSet::new();
    for (ticket, unit) in group {
        match resolve_duplicates(store, &unit, &seen) {
            Ok(existing) => {
                for (p, e) in unit.iter().zip(&existing) {
                    if e.is_none() {
                        seen.insert(p.id);
                    }
                }
                accepted.push((ticket, unit, existing));
            }
            Err(e) => results.push((ticket, Err(e))),
        }
    }
    let batch: Vec<NewEntry<'_>> = accepted
        .iter()
        .flat_map(|(_, unit, existing)| unit.iter().zip(existing).filter(|(_, e)| e.is_none()))
        .map(|(p, _)| NewEntry {
            bytes: &p.bytes,
            leaf: p.leaf,
            event_id: p.id,
            task: p.task,
        })
        .collect();
    match store.append(&batch) {
        Ok(mut next) => {
            drop(batch);
            let mut written = Vec::new();
            for (ticket, unit, existing) in accepted {
                let mut indices = Vec::with_capacity(unit.len());
                for (p, e) in unit.into_iter().zip(existing) {
                    indices.push(e.unwrap_or_else(|| {
                        written.push((next, p));
                        next += 1;
                        next - 1
                    }));
                }
                results.push((ticket, Ok(indices)));
            }
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

/// For each entry of a unit: `Some(index)` if byte-identical bytes are already in the log
/// (an idempotent retry), `None` if new. A different entry with a known id rejects the unit.
fn resolve_duplicates(
    store: &dyn Storage,
    unit: &[Prepared],
    seen: &HashSet<EventId>,
) -> Result<Vec<Option<u64>>, AppendError> {
    let mut in_unit = HashSet::new();
    let mut out = Vec::with_capacity(unit.len());
    for (position, p) in unit.iter().enumerate() {
        if !in_unit.insert(p.id) || seen.contains(&p.id) {
            return Err(AppendError::DuplicateInBatch { position });
        }
        match store.find_event(&p.id)? {
            None => out.push(None),
            Some(existing) => {
                let stored = store.entry(existing)?;
                if stored == p.bytes {
                    out.push(Some(existing));
                } else {
                    return Err(AppendError::DuplicateEventId { position, existing });
                }
            }
        }
    }
    Ok(out)
}
