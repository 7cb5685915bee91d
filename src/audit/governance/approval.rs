//! B7: where the covering decision required approval, granted approvals by enough different
//! humans with the required role cover the exact action; an approval covering several
//! successful executions is a warning.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{Task, coverings, is_workload_id, verdict};
use crate::audit::{Check, Status, check};
use crate::event::*;

/// What an approval of one action must satisfy.
struct Need<'t> {
    /// The action's covering decisions: the approval request must be for one of them.
    decisions: Vec<EventId>,
    requirement: &'t ApprovalRequirement,
    /// The task's human principal, who may not approve their own task.
    principal: &'t str,
    /// The action, its log index and its digest.
    action: &'t ActionExecuted,
    index: u64,
    digest: Digest,
}

/// The request an `ApprovalResolved` answers, if it is an `ApprovalRequested` of the task.
fn request_of<'a>(t: &Task<'a>, r: &ApprovalResolved) -> Option<&'a ApprovalRequested> {
    t.find(&r.request).and_then(|(_, q)| match &q.body {
        Body::ApprovalRequested(body) => Some(body),
        _ => None,
    })
}

/// Why one resolution (logged at `ri`, at time `at`) does not count towards the action's
/// approval, if it does not.
fn resolution_problem(
    need: &Need<'_>,
    (ri, at, r): (u64, u64, &ApprovalResolved),
    q: &ApprovalRequested,
) -> Option<&'static str> {
    let a = need.action;
    let workload =
        is_workload_id(&r.approver.id) || a.actor_chain.iter().skip(1).any(|w| w == &r.approver.id);
    if ri > need.index {
        Some("the approval was logged after the action")
    } else if r.outcome != ApprovalOutcome::Granted {
        Some("the approval was not granted")
    } else if workload {
        Some("the approval was given by a workload (the agent approved its own action)")
    } else if r.approver.id == need.principal {
        Some("the requester approved their own action")
    } else if !r.approver.roles.contains(&need.requirement.role) {
        Some("the approver does not hold the required role")
    } else if r.valid_until < a.started_at || at > q.expires_at {
        Some("the approval lapsed, or came after its request expired")
    } else if !need.decisions.contains(&q.decision.id) {
        Some("the approval was requested for another decision")
    } else if q.action_digest != need.digest {
        Some("the approval was for another action or other resources")
    } else {
        None
    }
}

/// The approval request whose granted resolutions approve the action `need` describes, or
/// why it has none.
fn approval_of(t: &Task<'_>, need: &Need<'_>) -> Result<EventId, (Vec<EventId>, &'static str)> {
    let cited = need.action.approval.as_ref().and_then(|r| t.find(r));
    let Some((ri, re, r)) = cited.and_then(|(ri, re)| match &re.body {
        Body::ApprovalResolved(r) => Some((ri, re, r)),
        _ => None,
    }) else {
        return Err((
            vec![],
            "the decision required approval, but the action cites no approval",
        ));
    };
    let Some(q) = request_of(t, r) else {
        return Err((vec![re.id], "the approval answers no request of this task"));
    };
    if let Some(why) = resolution_problem(need, (ri, re.time, r), q) {
        return Err((vec![re.id], why));
    }
    // Quorum: distinct approvers whose resolutions of the same request all count.
    let approvers: BTreeSet<&str> = t
        .resolutions_of(r.request.id)
        .iter()
        .filter(|&&(i, e, other)| {
            other.request == r.request && resolution_problem(need, (i, e.time, other), q).is_none()
        })
        .map(|(_, _, other)| other.approver.id.as_str())
        .collect();
    let quorum = need.requirement.quorum.max(q.quorum).max(1);
    if approvers.len() < quorum as usize {
        return Err((
            vec![re.id],
            "fewer distinct approvers than the required quorum",
        ));
    }
    Ok(r.request.id)
}

/// The successful executions under one approval request: how many, and the first two (the
/// warning names those; a long task may have thousands, which need not be kept).
#[derive(Default)]
struct Uses {
    count: usize,
    first: Vec<EventId>,
}

impl Uses {
    fn add(&mut self, action: EventId) {
        self.count += 1;
        if self.first.len() < 2 {
            self.first.push(action);
        }
    }
}

pub(super) fn b7(t: &Task<'_>) -> Check {
    let Some((_, _, o)) = t.opened() else {
        return check("B7", Status::NotApplicable, &[], "no intent");
    };
    let mut checked = 0;
    // Successful actions per approval request. The approval binds the action's name and
    // resources, not one request, so a second successful execution under it is not proof of
    // a replay (a batch job may be approved once for many); it is worth an auditor's look.
    let mut uses: BTreeMap<EventId, Uses> = BTreeMap::new();
    for (i, e, a) in t.actions() {
        // The first covering decision's requirement applies; a request for any of them will do.
        let covering: Vec<_> = coverings(t, i, a).collect();
        let Some((_, _, d)) = covering.first() else {
            continue;
        };
        let Some(requirement) = &d.obligations.approval else {
            continue;
        };
        checked += 1;
        let need = Need {
            decisions: covering.iter().map(|(_, de, _)| de.id).collect(),
            requirement,
            principal: &o.principal.id,
            action: a,
            index: i,
            digest: action_digest(&a.operation.name, &a.operation.resources),
        };
        let request = match approval_of(t, &need) {
            Ok(request) => request,
            Err((mut ids, why)) => {
                ids.insert(0, e.id);
                return check("B7", Status::Fail, &ids, why);
            }
        };
        if a.outcome == ActionOutcome::Success {
            uses.entry(request).or_default().add(e.id);
        }
    }
    if let Some(reused) = uses.values().find(|u| u.count > 1) {
        let why = format!(
            "every action that required approval has one, but one approval covers {} successful executions of its action",
            reused.count
        );
        return check("B7", Status::Warn, &reused.first, why);
    }
    verdict(
        "B7",
        checked,
        None,
        "every action that required approval has one from enough different humans with the role, for the exact action",
        "no action required approval",
    )
}

/// Whether override `o` (event `oe`) has its post-hoc approval: a granted resolution of a
/// request (`asks`: request ids by the event their `decision` refers to) for the override,
/// by a human other than the one who overrode, resolved by the override's
/// `post_hoc_approval_due`.
fn post_hoc_approved(
    t: &Task<'_>,
    asks: &HashMap<EventId, Vec<EventId>>,
    oe: &Event,
    o: &Override,
) -> bool {
    let requests = asks.get(&oe.id).map_or(&[][..], Vec::as_slice);
    requests.iter().any(|&q| {
        t.resolutions_of(q).iter().any(|(_, re, r)| {
            r.outcome == ApprovalOutcome::Granted
                && t.find(&r.request).is_some()
                && r.approver.id != o.principal
                && !is_workload_id(&r.approver.id)
                && re.time <= o.post_hoc_approval_due
        })
    })
}

pub(super) fn b11(t: &Task<'_>) -> Check {
    let overrides = t.of(|b| {
        if let Body::Override(o) = b {
            Some(o)
        } else {
            None
        }
    });
    let mut asks: HashMap<EventId, Vec<EventId>> = HashMap::new();
    for (_, v) in &t.events {
        if let Body::ApprovalRequested(q) = &v.event().body {
            asks.entry(q.decision.id).or_default().push(v.event().id);
        }
    }
    let finding = overrides
        .iter()
        .find(|(_, oe, o)| !post_hoc_approved(t, &asks, oe, o))
        .map(|(_, oe, _)| {
            let why = "an override has no granted post-hoc approval by another human, in time";
            (vec![oe.id], why.to_owned())
        });
    verdict(
        "B11",
        overrides.len(),
        finding,
        "every override carries a granted post-hoc approval by another human, in time",
        "no overrides",
    )
}
