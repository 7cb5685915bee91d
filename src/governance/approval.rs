//! B7: where the covering decision (or the task's risk tier) requires approval, granted
//! approvals by enough different humans with the required role cover the exact action,
//! before it started and before its credential was issued; B11: overrides carry a post-hoc
//! approval.

use std::collections::{BTreeSet, HashMap};

use super::{At, Finding, Task, binding, coverings, verdict};
use super::{Check, Status, check};
use crate::event::*;
use crate::trust::ApprovalReuse;

/// What an approval of one action must satisfy.
pub(super) struct Need<'t> {
    /// The decisions binding the action: the approval request must be for one of them.
    decisions: Vec<EventId>,
    /// The roles an approver must hold (every role a binding decision or the tier names).
    roles: Vec<&'t str>,
    /// The fewest distinct approvers.
    quorum: u32,
    /// The task's human principal, who may not approve their own task.
    principal: &'t str,
    /// The action, its log index and its digest.
    action: &'t ActionExecuted,
    index: u64,
    digest: Digest,
}

/// What approval action `a` (logged at `index`) needs, if it needs one: the strictest
/// requirement of every decision binding it (`super::binding`: cited or not, in any order),
/// at least the tier's quorum; or, where none requires one but the task's risk tier does,
/// the tier's. `None` also where no cited decision covers the action, or too many decisions were
/// logged for it to weigh (B3 fails it).
pub(super) fn need_of<'t>(
    t: &'t Task<'_>,
    o: &'t TaskOpened,
    index: u64,
    a: &'t ActionExecuted,
) -> Option<Need<'t>> {
    coverings(t, index, a).next()?;
    // Too many decisions to weigh fails B3; B7 has nothing more to say.
    let binding = binding(t, index, a).ok()?;
    let tier = t.gov.tier(o.risk_tier);
    let required: Vec<&ApprovalRequirement> = binding
        .iter()
        .filter_map(|d| d.body.obligations.approval.as_ref())
        .collect();
    if required.is_empty() && !tier.approval {
        return None;
    }
    let mut roles: Vec<&str> = required.iter().map(|r| r.role.as_str()).collect();
    if required.is_empty() {
        roles.extend(tier.approval_role.as_deref());
    }
    roles.sort_unstable();
    roles.dedup();
    let quorum = required
        .iter()
        .map(|r| r.quorum)
        .fold(tier.approval_quorum, u32::max);
    Some(Need {
        decisions: binding.iter().map(|d| d.event.id).collect(),
        roles,
        quorum,
        principal: &o.principal.id,
        action: a,
        index,
        digest: action_digest(&a.operation.name, &a.operation.resources),
    })
}

/// Why one resolution does not count towards the action's approval, if it does not.
fn resolution_problem(
    t: &Task<'_>,
    need: &Need<'_>,
    r: At<'_, ApprovalResolved>,
    q: &ApprovalRequested,
) -> Option<&'static str> {
    let (a, b) = (need.action, r.body);
    let human = t.is_human(&b.approver.id, Some(&b.approver.issuer))
        && !a
            .actor_chain
            .iter()
            .skip(1)
            .any(|w| t.maybe_same_person(w, &b.approver.id));
    if r.index > need.index {
        Some("the approval was logged after the action")
    } else if r.event.time > a.started_at {
        Some("the approval was resolved after the action started")
    } else if b.outcome != ApprovalOutcome::Granted {
        Some("the approval was not granted")
    } else if !human {
        Some("the approver is not a human by the trust policy's identity rules")
    } else if t.maybe_same_person(&b.approver.id, need.principal) {
        Some("the requester approved their own action")
    } else if !need
        .roles
        .iter()
        .all(|role| b.approver.roles.iter().any(|x| x == role))
    {
        Some("the approver does not hold the required role")
    } else if b.valid_until < a.started_at || r.event.time >= q.expires_at {
        Some("the approval lapsed, or came after its request expired")
    } else if !need.decisions.contains(&q.decision.id) {
        Some("the approval was requested for another decision")
    } else if q.action_digest != need.digest {
        Some("the approval was for another action or other resources")
    } else {
        None
    }
}

/// A resolution and the request it answers.
type Answered<'a> = (At<'a, ApprovalResolved>, &'a ApprovalRequested);

/// The resolution the action cites and its request, or why it does not count.
fn cited_approval<'a>(
    t: &Task<'a>,
    need: &Need<'_>,
) -> Result<Answered<'a>, (Vec<EventId>, &'static str)> {
    let cited = need.action.approval.as_ref();
    let Some(r) = cited.and_then(|r| t.find_body(r, Body::as_approval_resolved)) else {
        return Err((
            vec![],
            "the action required approval, but cites no approval",
        ));
    };
    let request = t.find_body(&r.body.request, Body::as_approval_requested);
    let Some(q) = request.filter(|q| q.index < r.index) else {
        return Err((
            vec![r.event.id],
            "the approval answers no request of this task logged before it",
        ));
    };
    match resolution_problem(t, need, r, q.body) {
        Some(why) => Err((vec![r.event.id], why)),
        None => Ok((r, q.body)),
    }
}

/// B7 for one action that needs approval: the id of the request whose granted resolutions
/// approve it, or why it has none. The credential the action used must have been issued
/// after the cited approval was granted (just in time: after the decision and its approval).
pub(super) fn b7_action(t: &Task<'_>, need: &Need<'_>) -> Result<EventId, Finding> {
    let fail = |(ids, why): (Vec<EventId>, &str)| (ids, why.to_owned());
    let (r, q) = cited_approval(t, need).map_err(fail)?;
    // Quorum: distinct persons (by the identity rules' person key: two spellings of one
    // person are one approver) whose resolutions of the same request all count.
    let approvers: BTreeSet<String> = t
        .resolutions_of(r.body.request.id)
        .iter()
        .filter(|&&other| {
            other.body.request == r.body.request && resolution_problem(t, need, other, q).is_none()
        })
        .map(|other| t.ids.person_key(&other.body.approver.id).into_owned())
        .collect();
    let quorum = need.quorum.max(q.quorum).max(1);
    if approvers.len() < quorum as usize {
        return Err(fail((
            vec![r.event.id],
            "fewer distinct approvers than the required quorum",
        )));
    }
    let cred = t.credential_by_id.get(need.action.credential_id.as_str());
    if let Some(c) = cred.filter(|c| c.index < r.index || c.event.time < r.event.time) {
        return Err(fail((
            vec![c.event.id, r.event.id],
            "the credential the action used was issued before the approval was granted",
        )));
    }
    Ok(r.body.request.id)
}

/// Approval requests already spent by a successful execution, each with the first action
/// that spent it, for the actions logged so far.
pub(crate) type Spent = HashMap<EventId, EventId>;

/// The approval request a successful action spends, if it needed one and B7's rules found
/// one.
fn spends(t: &Task<'_>, o: &TaskOpened, a: At<'_, ActionExecuted>) -> Option<EventId> {
    if a.body.outcome != ActionOutcome::Success {
        return None;
    }
    b7_action(t, &need_of(t, o, a.index, a.body)?).ok()
}

/// Records the request action `a` spends, if it spends one (judged under the task's intent
/// when that was logged before it).
pub(crate) fn spend(t: &Task<'_>, a: At<'_, ActionExecuted>, spent: &mut Spent) {
    let Some(o) = t.opened.filter(|o| o.index < a.index) else {
        return;
    };
    if let Some(request) = spends(t, o.body, a) {
        spent.entry(request).or_insert(a.event.id);
    }
}

/// What the tier makes of an action under an approval an earlier successful execution
/// already spent (`None`: the tier allows it). The approval binds the action's name and
/// resources, not one request, so a batch job may be approved once for many; in a
/// payments-like service a second execution is the replay an auditor must see. A retry after
/// a failed execution spends nothing.
pub(super) fn reuse_problem(
    t: &Task<'_>,
    request: EventId,
    spent: &Spent,
) -> Option<(Status, Finding)> {
    let &first = spent.get(&request)?;
    let status = match t.tier().approval_reuse {
        ApprovalReuse::Allow => return None,
        ApprovalReuse::Warn => Status::Warn,
        _ => Status::Fail,
    };
    let why = "the approval was already spent by an earlier successful execution of its action";
    Some((status, (vec![first], why.to_owned())))
}

pub(super) fn b7(t: &Task<'_>) -> Check {
    let Some(o) = t.opened else {
        return check("B7", Status::NotApplicable, &[], "no intent");
    };
    let mut checked = 0;
    let mut spent = Spent::new();
    let mut warning = None;
    for &a in &t.actions {
        let Some(need) = need_of(t, o.body, a.index, a.body) else {
            continue;
        };
        checked += 1;
        let (status, (mut ids, why)) = match b7_action(t, &need) {
            Err(finding) => (Status::Fail, finding),
            Ok(request) => match reuse_problem(t, request, &spent) {
                None => {
                    spend(t, a, &mut spent);
                    continue;
                }
                Some(problem) => problem,
            },
        };
        ids.insert(0, a.event.id);
        let found = check("B7", status, &ids, why);
        if status == Status::Fail {
            return found;
        }
        warning.get_or_insert(found);
    }
    warning.unwrap_or_else(|| {
        verdict(
            "B7",
            checked,
            None,
            "every action that required approval has one from enough different humans with the role, for the exact action, before it and its credential",
            "no action required approval",
        )
    })
}

/// Approval requests by the id of the event their `decision` refers to.
type Asks<'a> = HashMap<EventId, Vec<At<'a, ApprovalRequested>>>;

/// Whether override `o` has its post-hoc approval: a granted resolution of a request
/// (`asks`) for the override, by a human other than the one who overrode, holding the role
/// the request names, resolved by the override's `post_hoc_approval_due`.
fn post_hoc_approved(t: &Task<'_>, asks: &Asks<'_>, o: At<'_, Override>) -> bool {
    let requests = asks.get(&o.event.id).map_or(&[][..], Vec::as_slice);
    requests.iter().any(|q| {
        t.resolutions_of(q.event.id).iter().any(|r| {
            let b = r.body;
            b.outcome == ApprovalOutcome::Granted
                && t.find(&b.request).is_some()
                && !t.maybe_same_person(&b.approver.id, &o.body.principal)
                && t.is_human(&b.approver.id, Some(&b.approver.issuer))
                && b.approver.roles.contains(&q.body.required_role)
                && r.event.time <= o.body.post_hoc_approval_due
        })
    })
}

/// Why an override fails B11, if it does.
fn override_problem(t: &Task<'_>, asks: &Asks<'_>, o: At<'_, Override>) -> Option<&'static str> {
    if !t.is_human(&o.body.principal, None) {
        Some("an override's principal is not a human by the trust policy's identity rules")
    } else if o.body.justification_digest == Digest::of(b"") {
        Some("an override's justification is empty")
    } else if !post_hoc_approved(t, asks, o) {
        Some(
            "an override has no granted post-hoc approval by another human with the role its request names, in time",
        )
    } else {
        None
    }
}

pub(super) fn b11(t: &Task<'_>) -> Check {
    let overrides = super::of(&t.events, Body::as_override);
    let mut asks: Asks<'_> = HashMap::new();
    for q in super::of(&t.events, Body::as_approval_requested) {
        asks.entry(q.body.decision.id).or_default().push(q);
    }
    let finding = overrides
        .iter()
        .find_map(|&o| override_problem(t, &asks, o).map(|why| (vec![o.event.id], why.to_owned())));
    verdict(
        "B11",
        overrides.len(),
        finding,
        "every override is a human's, justified, with a granted post-hoc approval by another human holding the role its request names, in time",
        "no overrides",
    )
}
