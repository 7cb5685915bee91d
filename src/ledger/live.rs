//! The ledger's side of the runtime gate (`gate`): the live state kept as entries are
//! committed, rebuilt on open from the snapshot written at each checkpoint, and the
//! questions it answers (admit a request; which credentials to revoke now).

use std::sync::{Condvar, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use super::commit::Prepared;
use super::{Ledger, LedgerError};
use crate::envelope;
use crate::event::{Body, Digest, TaskId, Timestamp};
use crate::gate::admit::{Unfollowed, admit_followed, check_request, unfollowed};
use crate::gate::snapshot::Snapshot;
use crate::gate::state::{Held, LiveState};
use crate::gate::{
    ActionRequest, Admission, DueRevocation, GateError, read_snapshot, write_snapshot,
};
use crate::store::{Storage, StoreError};

/// The live state and a signal for those waiting for the log to grow.
#[derive(Default)]
pub(super) struct Live {
    state: RwLock<LiveState>,
    /// Held while the state is built, so that it is built once.
    loading: Mutex<()>,
    grown: Mutex<u64>,
    grew: Condvar,
}

impl Live {
    fn read(&self) -> RwLockReadGuard<'_, LiveState> {
        // The state is changed only by `apply`, which leaves it whole between entries.
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, LiveState> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn announce(&self, size: u64) {
        let mut grown = self.grown.lock().unwrap_or_else(PoisonError::into_inner);
        *grown = (*grown).max(size);
        self.grew.notify_all();
    }
}

/// Entry `index` as the gate holds it: decoded (its signature was verified when it was
/// appended), with its digest.
fn held<S: Storage>(store: &S, index: u64) -> Result<Held, LedgerError> {
    let bytes = store.entry(index)?;
    let event = envelope::decode_unverified(&bytes, crate::cbor::Limits::default())
        .map_err(|source| LedgerError::Entry { index, source })?;
    Ok(Held {
        index,
        event: Box::new(event),
        digest: Digest::of_envelope(&bytes),
    })
}

impl<S: Storage> Ledger<S> {
    /// Where `task`'s first entry is.
    fn first_entry(&self, task: TaskId) -> Result<Option<u64>, StoreError> {
        Ok(self.store.task_entries(&task)?.first().copied())
    }

    /// Applies entries from where the state is up to `size`, reading them from the store.
    fn catch_up(&self, state: &mut LiveState, size: u64) -> Result<(), LedgerError> {
        let gov = self.trust.governance();
        for index in state.size..size {
            let h = held(&self.store, index)?;
            state.apply(h, gov, &|t| self.first_entry(t))?;
        }
        state.size = state.size.max(size);
        Ok(())
    }

    /// The observer of commits: applies what a group wrote, in log order.
    pub(super) fn observe(&self, written: Vec<(u64, Prepared)>) {
        let Some(first) = written.first().map(|(i, _)| *i) else {
            return;
        };
        let mut state = self.live.write();
        let gov = self.trust.governance();
        // A state not built yet is built at the first question; one behind the log catches
        // up first, and a failure to read leaves it behind, to catch up at the next one.
        if !state.loaded || (state.size < first && self.catch_up(&mut state, first).is_err()) {
            return;
        }
        let mut end = state.size;
        for (index, p) in written {
            if index < state.size {
                continue;
            }
            let h = Held {
                index,
                event: p.event,
                digest: p.digest,
            };
            if state.apply(h, gov, &|t| self.first_entry(t)).is_err() {
                break;
            }
            end = index + 1;
        }
        drop(state);
        self.live.announce(end);
    }

    /// Builds the live state: from the snapshot of the tasks the gate followed, when the
    /// store kept one that reads, and the entries logged since; otherwise from every entry.
    pub(super) fn load_live(&self) -> Result<(), LedgerError> {
        let mut state = LiveState {
            loaded: true,
            ..LiveState::default()
        };
        let snapshot = self
            .store
            .live_snapshot()?
            .and_then(|b| read_snapshot(&b).ok())
            .filter(|s| s.size <= self.store.size());
        if let Some(s) = snapshot {
            self.load_snapshot(&mut state, &s)?;
        }
        self.catch_up(&mut state, self.store.size())?;
        *self.live.write() = state;
        Ok(())
    }

    fn load_snapshot(&self, state: &mut LiveState, s: &Snapshot) -> Result<(), LedgerError> {
        let gov = self.trust.governance();
        let no_lookup = |_| Ok(None);
        for &index in s.policies.iter().filter(|&&i| i < s.size) {
            state.apply(held(&self.store, index)?, gov, &no_lookup)?;
        }
        for task in &s.tasks {
            let entries = self.store.task_entries(task)?;
            let first = entries.first().copied();
            for index in entries.into_iter().take_while(|&i| i < s.size) {
                state.apply(held(&self.store, index)?, gov, &|_| Ok(first))?;
            }
        }
        state.size = s.size;
        Ok(())
    }

    /// `fsck` of the gate's snapshot, if the store kept one: it reads, and names the tasks
    /// and policies that reading the log up to its size gives.
    pub(super) fn fsck_live_snapshot(&self) -> Result<Option<(String, u64, String)>, LedgerError> {
        let Some(bytes) = self.store.live_snapshot()? else {
            return Ok(None);
        };
        let problem = |why: String| Ok(Some(("live.snap".to_owned(), 0, why)));
        let s = match read_snapshot(&bytes) {
            Ok(s) => s,
            Err(e) => return problem(e.to_string()),
        };
        if s.size > self.store.size() {
            return problem(format!(
                "the snapshot is of {} entries, more than the log has",
                s.size
            ));
        }
        let mut state = LiveState {
            loaded: true,
            ..LiveState::default()
        };
        self.catch_up(&mut state, s.size)?;
        let mut tasks: Vec<TaskId> = state.tasks.keys().copied().collect();
        let mut listed = s.tasks.clone();
        tasks.sort_unstable();
        listed.sort_unstable();
        let policies: Vec<u64> = state.policies.iter().map(|p| p.index).collect();
        if tasks != listed || policies != s.policies {
            return problem("the snapshot's tasks or policies are not those the log gives".into());
        }
        Ok(None)
    }

    /// Forgets the live state, to be built again at the next question (the trust policy
    /// it was judged under changed).
    pub(super) fn unload_live(&mut self) {
        *self.live.write() = LiveState::default();
    }

    /// Writes the snapshot of the tasks the gate follows (at each checkpoint), if it has
    /// built its state.
    pub(super) fn save_live(&self) -> Result<(), LedgerError> {
        let state = self.live.read();
        if !state.loaded {
            return Ok(());
        }
        let snapshot = Snapshot {
            size: state.size,
            policies: state.policies.iter().map(|p| p.index).collect(),
            tasks: state.tasks.keys().copied().collect(),
        };
        drop(state);
        self.store.put_live_snapshot(&write_snapshot(&snapshot))?;
        Ok(())
    }

    /// Builds the live state if it is not yet, and brings it up to the log (a reader's log
    /// grows under it).
    fn current(&self) -> Result<(), LedgerError> {
        if !self.live.read().loaded {
            let _one = self
                .live
                .loading
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if !self.live.read().loaded {
                self.load_live()?;
            }
        }
        let size = self.store.size();
        if self.live.read().size < size {
            let mut state = self.live.write();
            self.catch_up(&mut state, size)?;
        }
        Ok(())
    }

    /// Asks the runtime gate whether an action may run now: the governance rules the
    /// auditor applies to an action (B1–B10, `docs/gate.md`), applied to the request on the
    /// events of its task logged so far. The answer names every rule broken, and the events
    /// an allowed action should cite. It writes nothing.
    ///
    /// # Errors
    /// [`GateError`] inside [`LedgerError::Gate`] for a request that cannot be judged (a
    /// malformed identifier; a time the ledger would not log), or a store error.
    pub fn admit(&self, req: &ActionRequest) -> Result<Admission, LedgerError> {
        check_request(req)?;
        let now = Timestamp::from_millis(self.clock.now_ms());
        self.bounds
            .check(req.at, now, self.created)
            .map_err(GateError::Time)?;
        self.current()?;
        let state = self.live.read();
        if state.tasks.contains_key(&req.task) {
            return Ok(admit_followed(&state, self.trust.governance(), req));
        }
        let size = state.size;
        drop(state);
        Ok(unfollowed(self.unfollowed(req.task)?, size))
    }

    /// What the log says of a task the gate does not follow.
    fn unfollowed(&self, task: TaskId) -> Result<Unfollowed, LedgerError> {
        let Some(first) = self.first_entry(task)? else {
            return Ok(Unfollowed::Unknown);
        };
        let opened = matches!(held(&self.store, first)?.event.body, Body::TaskOpened(_));
        Ok(if opened {
            Unfollowed::Closed
        } else {
            Unfollowed::NoIntentFirst
        })
    }

    /// The credentials that must be revoked at `now`, and why: their task closed, a trust
    /// signal concerns them, their holder's delegation ended, or they expired without being
    /// revoked. A token service revokes each and logs the `CredentialRevoked`, which takes
    /// it off this list.
    ///
    /// # Errors
    /// A store error while catching up with the log.
    pub fn due_revocations(&self, now: Timestamp) -> Result<Vec<DueRevocation>, LedgerError> {
        self.current()?;
        Ok(self.live.read().credentials.due(now))
    }

    /// How many tasks the gate follows (open tasks, and closed ones with a credential still
    /// to revoke).
    ///
    /// # Errors
    /// A store error while building the state or catching up with the log.
    pub fn followed_tasks(&self) -> Result<usize, LedgerError> {
        self.current()?;
        Ok(self.live.read().tasks.len())
    }

    /// Waits until the log has more than `size` entries, or `timeout` passes; returns the
    /// size then. For a token service following [`Ledger::due_revocations`] in the appending
    /// process (a reader in another process polls [`Ledger::refresh`] instead).
    pub fn wait_for_growth(&self, size: u64, timeout: Duration) -> u64 {
        let grown = self
            .live
            .grown
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (grown, _) = self
            .live
            .grew
            .wait_timeout_while(grown, timeout, |g| (*g).max(self.store.size()) <= size)
            .unwrap_or_else(PoisonError::into_inner);
        (*grown).max(self.store.size())
    }
}
