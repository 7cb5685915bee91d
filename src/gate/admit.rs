//! Judging a request: the action the request describes, judged by the auditor's rules
//! (`governance::Judge`) on the events of its task logged so far.

use super::state::LiveState;
use super::{ActionRequest, Admission, Denial, GateError};
use crate::event::{
    ActionExecuted, ActionOutcome, Digest, EventError, EventId, EventRef, is_valid_id,
};
use crate::governance::{Breach, Judge, Task};
use crate::trust::Governance;

/// What the gate knows of a task it does not follow.
pub(crate) enum Unfollowed {
    /// The log has no entry of it.
    Unknown,
    /// Its first entry is its intent: it was followed, closed, and its credentials are done.
    Closed,
    /// Its first entry is not an intent: it fails B1 for good.
    NoIntentFirst,
}

/// The `ActionExecuted` the request describes, about to be logged.
fn as_action(
    req: &ActionRequest,
    decisions: Vec<EventRef>,
    approval: Option<EventRef>,
) -> ActionExecuted {
    ActionExecuted {
        outcome: ActionOutcome::Success,
        approval,
        ended_at: req.at,
        instance: req.instance.clone(),
        action_id: String::new(),
        decisions,
        operation: req.operation.clone(),
        blocked_by: Vec::new(),
        initiation: req.initiation,
        started_at: req.at,
        actor_chain: req.actor_chain.clone(),
        credential_id: req.credential_id.clone(),
        request_digest: Digest::of(b""),
        response_digest: Digest::of(b""),
        within_confirmed_scope: req.within_confirmed_scope,
    }
}

/// The identifiers the event model requires of an `ActionExecuted`.
pub(crate) fn check_request(req: &ActionRequest) -> Result<(), GateError> {
    for (field, value) in [
        ("credential_id", req.credential_id.as_str()),
        ("instance", req.instance.as_str()),
    ] {
        if !is_valid_id(value) {
            return Err(GateError::Request(EventError::BadIdentifier {
                field,
                value: value.to_owned(),
            }));
        }
    }
    Ok(())
}

fn denial(b: Breach) -> Denial {
    Denial {
        check: format!("B{}", b.check),
        reason: b.reason,
        events: b.events,
    }
}

/// The answer for a task the gate does not follow.
pub(crate) fn unfollowed(what: Unfollowed, log_size: u64) -> Admission {
    let (check, reason) = match what {
        Unfollowed::Unknown => ("B1", "no intent was logged for this task"),
        Unfollowed::Closed => ("B10", "the task closed before the action"),
        Unfollowed::NoIntentFirst => (
            "B1",
            "the task does not start from an intent recorded by an enforcing component",
        ),
    };
    Admission {
        allowed: false,
        denials: vec![Denial {
            check: check.to_owned(),
            reason: reason.to_owned(),
            events: Vec::new(),
        }],
        decisions: Vec::new(),
        approval: None,
        relied_on: Vec::new(),
        log_size,
    }
}

/// Judges `req` against a task the gate follows.
pub(crate) fn admit_followed(
    state: &LiveState,
    gov: &Governance,
    req: &ActionRequest,
) -> Admission {
    let live = &state.tasks[&req.task];
    let t = live.view(&state.policies, gov);
    let judge = Judge::new(&t);
    let index = state.size;
    let decisions = req.decisions.clone().unwrap_or_else(|| t.decision_refs());
    let mut action = as_action(req, decisions, req.approval);
    let mut breaches = judge.action(index, &action, &live.spent);
    let without_approval =
        !req.as_cited && req.approval.is_none() && breaches.iter().any(|b| b.check == 7);
    if let Some((approval, better)) = without_approval
        .then(|| find_approval(&t, &judge, index, &action, &live.spent))
        .flatten()
    {
        action.approval = Some(approval);
        breaches = better;
    }
    let (covering, others) = judge.support(index, &action);
    let refs = |ids: Vec<EventId>| -> Vec<EventRef> {
        ids.into_iter().filter_map(|id| t.reference(id)).collect()
    };
    Admission {
        allowed: breaches.is_empty(),
        denials: breaches.into_iter().map(denial).collect(),
        decisions: refs(covering),
        approval: action.approval,
        relied_on: refs(others),
        log_size: index,
    }
}

/// The first granted approval of the task under which the action passes B7, with the
/// judgement it then gets.
fn find_approval(
    t: &Task<'_>,
    judge: &Judge<'_, '_>,
    index: u64,
    action: &ActionExecuted,
    spent: &crate::governance::Spent,
) -> Option<(EventRef, Vec<Breach>)> {
    let mut candidate = action.clone();
    t.granted_approvals().into_iter().find_map(|r| {
        candidate.approval = Some(r);
        let breaches = judge.action(index, &candidate, spent);
        (!breaches.iter().any(|b| b.check == 7)).then_some((r, breaches))
    })
}
