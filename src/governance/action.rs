//! One action judged by every governance rule that concerns it, on the events logged before
//! it: what the runtime gate asks before an action runs (`crate::gate`), and what the auditor
//! reports for each action of a finished task. One function for both, so that the gate and
//! the auditor cannot disagree on a rule, only on what they know (`docs/gate.md`).

use super::Status;
use super::actors::{b2_action, b6_action, path_of};
use super::approval::{Spent, b7_action, need_of, reuse_problem};
use super::credentials::{b5_action, b9_action};
use super::intent::intent_problem;
use super::{
    Denies, Finding, Task, b3_action, b8_action, covering, coverings, denies, registration_problem,
};
use crate::event::{ActionExecuted, EventId};

/// A rule an action breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Breach {
    /// The check's number (`5` for B5).
    pub check: u8,
    /// The events that show it.
    pub events: Vec<EventId>,
    /// Why.
    pub reason: String,
}

/// A task made ready to judge actions: the deny decisions by action and resource, indexed
/// once.
pub(crate) struct Judge<'t, 'a> {
    t: &'t Task<'a>,
    denies: Denies<'a>,
}

impl<'t, 'a> Judge<'t, 'a> {
    pub(crate) fn new(t: &'t Task<'a>) -> Self {
        Self {
            t,
            denies: denies(t),
        }
    }

    /// Every rule that action `a`, logged (or about to be logged) at `index`, breaks, in
    /// check order. `spent`: the approvals that successful executions before it spent.
    pub(crate) fn action(&self, index: u64, a: &ActionExecuted, spent: &Spent) -> Vec<Breach> {
        let t = self.t;
        let mut found: Vec<(u8, Option<Finding>)> = Vec::with_capacity(4);
        // The intent must be logged before the action; a later one cannot authorise it, and
        // without one nothing else can be judged (whose task, which tier).
        let Some(o) = t.opened.filter(|o| o.index < index) else {
            let why = "no intent was logged before the action";
            return vec![Breach {
                check: 1,
                events: vec![],
                reason: why.into(),
            }];
        };
        found.push((1, intent_problem(t, o).map(|why| (vec![o.event.id], why))));
        found.push((2, b2_action(t, o.body, index, a)));
        found.push((3, b3_action(t, index, a)));
        let decision = covering(t, index, a);
        found.push((
            4,
            decision.and_then(|d| registration_problem(t, d).map(|why| (vec![d.event.id], why))),
        ));
        found.push((5, b5_action(t, index, a)));
        found.push((6, b6_action(t, o.body, index, a)));
        found.push((7, self.approval(o.body, index, a, spent)));
        found.push((8, b8_action(t, &self.denies, index, a)));
        found.push((9, b9_action(t, index, a)));
        let closed = t.closed.filter(|c| c.index < index);
        found.push((
            10,
            closed.map(|c| (vec![c.event.id], "the task closed before the action".into())),
        ));
        found
            .into_iter()
            .filter_map(|(check, f)| {
                f.map(|(events, reason)| Breach {
                    check,
                    events,
                    reason,
                })
            })
            .collect()
    }

    /// The events a judgement of action `a` (at `index`) rests on: the decisions that cover
    /// it; and the intent, the delegations of its actor chain and its credential's issuance.
    pub(crate) fn support(&self, index: u64, a: &ActionExecuted) -> (Vec<EventId>, Vec<EventId>) {
        let t = self.t;
        let decisions = coverings(t, index, a).map(|d| d.event.id).collect();
        let mut others = Vec::new();
        if let Some(o) = t.opened.filter(|o| o.index < index) {
            others.push(o.event.id);
        }
        if let Ok(path) = path_of(t, index, a) {
            others.extend(path.iter().map(|d| d.event.id));
        }
        let credential = t.credential_by_id.get(a.credential_id.as_str());
        if let Some(c) = credential.filter(|c| c.index < index) {
            others.push(c.event.id);
        }
        (decisions, others)
    }

    /// B7 for one action: the approval it needs, not spent already where the tier forbids
    /// reuse.
    fn approval(
        &self,
        o: &crate::event::TaskOpened,
        index: u64,
        a: &ActionExecuted,
        spent: &Spent,
    ) -> Option<Finding> {
        let need = need_of(self.t, o, index, a)?;
        match b7_action(self.t, &need) {
            Err(finding) => Some(finding),
            Ok(request) => match reuse_problem(self.t, request, spent)? {
                (Status::Fail, finding) => Some(finding),
                _ => None,
            },
        }
    }
}
