//! The live state behind the gate: for each task the gate may still be asked about, the
//! events its rules need, kept as events are appended.
//!
//! Which tasks: those that start with a `TaskOpened` (any other task fails B1 for good, so
//! every request in it is denied without its events), until they are closed and none of
//! their credentials is left to revoke. Memory therefore follows the open tasks, not the log.
//!
//! Which events: all of a task's but its actions. The rules need only one thing of earlier
//! actions, the approvals their successful executions spent (B7), which is recorded as each
//! action is applied; the actions themselves are dropped.

use std::collections::HashMap;

use super::feed::Credentials;
use crate::event::{ActionOutcome, Body, Digest, Event, EventId, TaskId, Timestamp};
use crate::governance::{At, Logged, Spent, Task, spend};
use crate::trust::Governance;

/// An event held for the gate.
#[derive(Debug)]
pub(crate) struct Held {
    pub index: u64,
    pub event: Box<Event>,
    pub digest: Digest,
}

impl Held {
    fn logged(&self) -> Logged<'_> {
        Logged {
            index: self.index,
            event: &self.event,
            digest: self.digest,
            // Held as it is appended: its time is the ledger's own to bound, at append.
            logged_by: None,
        }
    }
}

/// One task the gate follows.
#[derive(Debug, Default)]
pub(crate) struct LiveTask {
    /// Its events but its actions, in log order.
    pub events: Vec<Held>,
    /// The approvals its actions spent.
    pub spent: Spent,
    /// Its close: log index, time and event id.
    pub closed: Option<(u64, Timestamp, EventId)>,
}

impl LiveTask {
    /// The checks' view of the task.
    pub(crate) fn view<'a>(&'a self, policies: &'a [Held], gov: &'a Governance) -> Task<'a> {
        Task::new(
            self.events.iter().map(Held::logged).collect(),
            policies.iter().map(Held::logged).collect(),
            gov,
        )
    }

    /// The human whose intent opened the task.
    pub(crate) fn principal(&self) -> Option<&str> {
        match &self.events.first()?.event.body {
            Body::TaskOpened(o) => Some(o.principal.id.as_str()),
            _ => None,
        }
    }
}

/// Every task the gate follows, the registered policies, and the credentials to revoke.
#[derive(Debug, Default)]
pub(crate) struct LiveState {
    pub tasks: HashMap<TaskId, LiveTask>,
    pub policies: Vec<Held>,
    pub credentials: Credentials,
    /// The log size this state reflects.
    pub size: u64,
    /// Whether it was built from the log: a state not loaded yet is built at the first
    /// question, and commits leave it alone until then.
    pub loaded: bool,
}

/// Where a task's first entry is in the log, if it has one (the store's task index).
pub(crate) type FirstEntry<'a> =
    dyn Fn(TaskId) -> Result<Option<u64>, crate::store::StoreError> + 'a;

impl LiveState {
    /// Takes in entry `index` (the next one: entries are applied in log order).
    ///
    /// # Errors
    /// A store error from `first_entry`, which is asked only when a task is opened.
    pub(crate) fn apply(
        &mut self,
        held: Held,
        gov: &Governance,
        first_entry: &FirstEntry<'_>,
    ) -> Result<(), crate::store::StoreError> {
        self.size = self.size.max(held.index + 1);
        let Some(task) = held.event.task else {
            if matches!(held.event.body, Body::PolicyRegistered(_)) {
                self.policies.push(held);
            }
            return Ok(());
        };
        if let std::collections::hash_map::Entry::Vacant(v) = self.tasks.entry(task) {
            // A task is followed from its intent, when the intent is its first entry.
            let opens = matches!(held.event.body, Body::TaskOpened(_))
                && first_entry(task)? == Some(held.index);
            if !opens {
                return Ok(());
            }
            v.insert(LiveTask::default());
        }
        self.add(task, held, gov);
        Ok(())
    }

    fn add(&mut self, task: TaskId, held: Held, gov: &Governance) {
        let Some(live) = self.tasks.get_mut(&task) else {
            return;
        };
        if let Body::ActionExecuted(a) = &held.event.body {
            // Only an action citing an approval can spend one (B7 needs the citation).
            if a.outcome != ActionOutcome::Blocked && a.approval.is_some() {
                let mut spent = std::mem::take(&mut live.spent);
                let at = At {
                    index: held.index,
                    event: &held.event,
                    body: a,
                };
                spend(&live.view(&self.policies, gov), at, &mut spent);
                live.spent = spent;
            }
            return;
        }
        if let Body::TaskClosed(_) = held.event.body {
            live.closed
                .get_or_insert((held.index, held.event.time, held.event.id));
        }
        self.credentials.observe(task, live, &held);
        live.events.push(held);
        if live.closed.is_some() && !self.credentials.holds(task) {
            self.tasks.remove(&task);
        }
    }
}
