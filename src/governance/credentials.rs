//! B5 (the credential an action used), B9 (trust signals revoke what they concern) and B10
//! (the task closed and no credential outlived it).

use super::{At, Finding, Task, binding, first_action, subset, verdict};
use super::{Check, Status, check};
use crate::event::*;
use crate::trust::identity;

/// The allow decision of this task, logged before it, that credential `c` was issued under.
fn issuing_decision<'a>(
    t: &Task<'a>,
    c: At<'_, CredentialIssued>,
) -> Option<At<'a, PolicyDecision>> {
    t.find_body(&c.body.decision, Body::as_policy_decision)
        .filter(|d| d.index < c.index && d.body.effect == Effect::Allow)
}

/// Why a credential has no issuing decision.
const NO_ISSUING_ALLOW: &str =
    "was not issued under an allow decision of this task logged before it";

/// Why credential `cred` exceeds what `issuing` granted: scopes it did not grant, or a
/// lifetime (`expires_at − not_before`) longer than `cap`.
fn beyond_grant(cred: &Credential, issuing: &PolicyDecision, cap: Option<u64>) -> Option<String> {
    if !subset(&cred.scopes, &issuing.obligations.granted_scope) {
        return Some("carries scopes the decision it was issued under did not grant".to_owned());
    }
    let lifetime = cred.expires_at.millis_since(cred.not_before);
    let cap = cap.filter(|cap| lifetime > *cap)?;
    Some(format!(
        "lives {} s, longer than the {} s allowed",
        lifetime / 1000,
        cap / 1000
    ))
}

/// Whether a delegation of this task logged before `before` names the holder's workload
/// and instance: a pool's instances share a workload id, and a credential belongs to the
/// instance the task was delegated to.
fn delegated_instance(t: &Task<'_>, holder: &Holder, before: u64) -> bool {
    t.delegations_to(holder.id.as_str())
        .iter()
        .any(|d| d.index < before && d.body.delegatee.instance == holder.instance)
}

/// The longest lifetime allowed a credential issued under `issuing` and used under
/// `binding` (every decision binding the action, none for an issuance judged on its own):
/// each decision's cap, or where it sets none the task tier's, and the smallest of them
/// (`None`: unbounded).
fn ttl_cap<'d>(
    t: &Task<'_>,
    issuing: &'d PolicyDecision,
    binding: impl IntoIterator<Item = &'d PolicyDecision>,
) -> Option<u64> {
    let tier = t.tier().max_credential_ttl_ms;
    let cap = |d: &PolicyDecision| d.obligations.max_credential_ttl_ms.or(tier);
    std::iter::once(issuing)
        .chain(binding)
        .filter_map(cap)
        .min()
}

/// Why the credential cannot have been alive, and this holder's, when action `a` started.
fn holder_or_time_problem(
    t: &Task<'_>,
    c: At<'_, CredentialIssued>,
    index: u64,
    a: &ActionExecuted,
) -> Option<String> {
    let (body, cred) = (c.body, &c.body.credential);
    let why = if c.index > index {
        "was issued after the action".to_owned()
    } else if c.event.time > a.started_at {
        "was issued after the action started".to_owned()
    } else if a.actor_chain.last().map(String::as_str) != Some(body.holder.id.as_str()) {
        "was issued to another holder".to_owned()
    } else if body.holder.instance != a.instance {
        format!(
            "was issued to instance {}, but instance {} acted",
            body.holder.instance, a.instance
        )
    } else if !delegated_instance(t, &body.holder, c.index) {
        "was issued to an instance of its holder that no earlier delegation names".to_owned()
    } else if !(cred.not_before <= a.started_at && a.started_at < cred.expires_at) {
        "was not valid (expired or not yet valid) when the action started".to_owned()
    } else if t
        .revocations_of(&cred.id)
        .iter()
        .any(|r| r.body.effective_at <= a.started_at)
    {
        // Wherever the revocation is logged: one logged after the action but effective
        // before it means the action used a dead credential.
        "was revoked before the action".to_owned()
    } else {
        return None;
    };
    Some(why)
}

/// Why the credential did not permit what action `a` (logged at `index`) did, beyond who
/// held it and when.
fn grant_problem(
    t: &Task<'_>,
    c: At<'_, CredentialIssued>,
    index: u64,
    a: &ActionExecuted,
) -> Option<String> {
    let cred = &c.body.credential;
    if cred.audience != a.operation.service {
        return Some(format!(
            "is for audience {}, not the service the action called ({})",
            cred.audience, a.operation.service
        ));
    }
    let Some(issuing) = issuing_decision(t, c) else {
        return Some(NO_ISSUING_ALLOW.to_owned());
    };
    // Too many decisions to weigh fails B3; the cap is then the issuing decision's alone.
    let binding = binding(t, index, a).unwrap_or_default();
    let cap = ttl_cap(t, issuing.body, binding.iter().map(|d| d.body));
    beyond_grant(cred, issuing.body, cap)
}

/// B5 for one action: the credential it used was issued in this task, by the time the
/// action started, to its acting workload and instance, under an allow decision granting
/// its scopes, for the service called; was valid and unrevoked then; and lives no longer
/// than the decisions (or the risk tier) allow.
pub(super) fn b5_action(t: &Task<'_>, index: u64, a: &ActionExecuted) -> Option<Finding> {
    let Some(&c) = t.credential_by_id.get(a.credential_id.as_str()) else {
        return Some((
            vec![],
            format!("credential {} was not issued in this task", a.credential_id),
        ));
    };
    let why = holder_or_time_problem(t, c, index, a).or_else(|| grant_problem(t, c, index, a))?;
    Some((
        vec![c.event.id],
        format!("credential {} {why}", c.body.credential.id),
    ))
}

/// Why issuance `c` exceeds its grant, used or not (an agent can present a token outside
/// the gateway): its id was issued before; it was not issued under an allow decision of
/// this task, made and logged before it and still valid then; to the workload that decision
/// was asked for, at an instance a delegation names; within the scopes it granted and the
/// lifetime it (or the tier) allows; and after the granted approval the decision or the tier
/// requires.
fn issuance_problem(t: &Task<'_>, c: At<'_, CredentialIssued>) -> Option<String> {
    let (body, cred) = (c.body, &c.body.credential);
    if t.credential_by_id
        .get(cred.id.as_str())
        .is_some_and(|first| first.index != c.index)
    {
        return Some("was issued twice: one id names one credential".to_owned());
    }
    let Some(d) = issuing_decision(t, c) else {
        return Some(NO_ISSUING_ALLOW.to_owned());
    };
    let why = if d.event.time > c.event.time {
        "was issued before the decision it cites was made".to_owned()
    } else if d.body.valid_until < c.event.time {
        "was issued after the decision it cites had lapsed".to_owned()
    } else if d.body.request.actor_chain.last().map(String::as_str) != Some(body.holder.id.as_str())
    {
        "was issued to a workload the decision it cites was not asked for".to_owned()
    } else if !delegated_instance(t, &body.holder, c.index) {
        "was issued to an instance of its holder that no earlier delegation names".to_owned()
    } else if let Some(why) = beyond_grant(cred, d.body, ttl_cap(t, d.body, [])) {
        why
    } else if needs_approval(t, d.body) && !approved_before(t, c, d.body) {
        "was issued without a granted approval of its decision, resolved before it".to_owned()
    } else {
        return None;
    };
    Some(why)
}

/// Whether a credential issued under decision `d` needs an approval first.
fn needs_approval(t: &Task<'_>, d: &PolicyDecision) -> bool {
    d.obligations.approval.is_some() || t.tier().approval
}

/// Whether issuance `c` cites a granted approval, logged and resolved before it, of an
/// allow decision for the same action as `decision` (the one it was issued under, or one
/// binding the same operation).
fn approved_before(t: &Task<'_>, c: At<'_, CredentialIssued>, decision: &PolicyDecision) -> bool {
    t.granted_approval(c.body.approval.as_ref())
        .is_some_and(|(r, q, approved)| {
            q.index < r.index
                && r.index < c.index
                && r.event.time <= c.event.time
                && approved.body.request.action == decision.request.action
                && approved.body.request.resources == decision.request.resources
        })
}

pub(super) fn b5(t: &Task<'_>) -> Check {
    let issued = t.credentials.iter().find_map(|&c| {
        issuance_problem(t, c).map(|why| {
            let id = &c.body.credential.id;
            (vec![c.event.id], format!("credential {id} {why}"))
        })
    });
    let finding = issued.or_else(|| first_action(t, |a| b5_action(t, a.index, a.body)));
    verdict(
        "B5",
        t.actions.len() + t.credentials.len(),
        finding,
        "every credential was issued within its decision's grant (holder, scope, TTL, approval); every action used a live, unrevoked one issued in this task to its acting instance, for the service called",
        "no actions and no credentials",
    )
}

/// Whether signal `s` is about the holder of credential `c`: its workload, and the instance
/// the signal names if it names one.
fn about_holder(s: &TrustSignal, c: &CredentialIssued) -> bool {
    c.holder.id.as_str() == s.subject && s.instance.as_ref().is_none_or(|i| *i == c.holder.instance)
}

/// Whether trust signal `s` concerns credential `c`: by its id, its holder (every instance,
/// or the one the signal names), or the task's `principal` (a revoked session ends everything
/// done for that human), however the signal spells the human (possibly the same person, by
/// the identity rules' person key: a signal errs towards concerning).
pub(crate) fn concerns(principal: Option<&str>, s: &TrustSignal, c: &CredentialIssued) -> bool {
    c.credential.id == s.subject || about_holder(s, c) || about_human(principal, s)
}

/// Whether signal `s` is about the task's human.
fn about_human(principal: Option<&str>, s: &TrustSignal) -> bool {
    principal.is_some_and(|p| identity::maybe_same_person(p, &s.subject))
}

/// Whether signal `s` ends the authority credential `c` would carry: the holder (the
/// workload, or the instance it names) reported compromised, or the session of the task's
/// human or of the holder revoked. No credential may be issued under that authority
/// afterwards, whichever kind of signal ended it.
pub(crate) fn ends_authority(
    principal: Option<&str>,
    s: &TrustSignal,
    c: &CredentialIssued,
) -> bool {
    match s.signal {
        SignalType::WorkloadCompromised => about_holder(s, c),
        SignalType::SessionRevoked => about_holder(s, c) || about_human(principal, s),
        _ => false,
    }
}

/// Whether signal `s` reports the holder of credential `c` (the workload, or the instance
/// it names) compromised: no credential may be issued to it afterwards.
pub(crate) fn reports_holder_compromised(s: &TrustSignal, c: &CredentialIssued) -> bool {
    s.signal == SignalType::WorkloadCompromised && about_holder(s, c)
}

/// B9 for one action: it used no credential that a trust signal concerns, logged after the
/// credential was issued and either logged before the action or dated no later than its
/// start (a signal dated before an action taints it even when logged after it); nor one
/// issued after a signal that ended its authority.
pub(super) fn b9_action(t: &Task<'_>, index: u64, a: &ActionExecuted) -> Option<Finding> {
    let c = t.credential_by_id.get(a.credential_id.as_str())?;
    let (s, why) = t.signals.iter().find_map(|s| {
        let before_action = s.index < index || s.event.time <= a.started_at;
        if s.index > c.index && before_action && concerns(t.principal(), s.body, c.body) {
            Some((s, "was used after the trust signal"))
        } else if s.index < c.index && ends_authority(t.principal(), s.body, c.body) {
            Some((s, "was issued after a trust signal ended its holder's authority (reported compromised, or a session revoked)"))
        } else {
            None
        }
    })?;
    Some((
        vec![s.event.id, c.event.id],
        format!("credential {} {why}", a.credential_id),
    ))
}

/// After a trust signal: each concerned credential issued before it that had not expired
/// by its time is revoked in the task (a revocation logged before the signal counts); after
/// a workload is reported compromised, no credential is issued to it (or to the instance
/// named).
fn unanswered_signal(t: &Task<'_>) -> Option<Finding> {
    t.signals.iter().find_map(|s| {
        t.credentials.iter().find_map(|c| {
            let cred = &c.body.credential;
            let why = if c.index < s.index {
                let live = cred.expires_at > s.event.time;
                let revoked = !t.revocations_of(&cred.id).is_empty();
                (concerns(t.principal(), s.body, c.body) && live && !revoked)
                    .then_some("was not revoked after the trust signal")
            } else {
                ends_authority(t.principal(), s.body, c.body)
                    .then_some("was issued after a trust signal ended its holder's authority (reported compromised, or a session revoked)")
            }?;
            Some((
                vec![s.event.id, c.event.id],
                format!("credential {} {why}", cred.id),
            ))
        })
    })
}

pub(super) fn b9(t: &Task<'_>) -> Check {
    let checked = t
        .signals
        .iter()
        .map(|s| {
            t.credentials
                .iter()
                .filter(|c| concerns(t.principal(), s.body, c.body))
                .count()
        })
        .sum::<usize>();
    let finding =
        unanswered_signal(t).or_else(|| first_action(t, |a| b9_action(t, a.index, a.body)));
    verdict(
        "B9",
        checked,
        finding,
        "credentials affected by trust signals were revoked and not used again",
        "no trust signals affecting credentials",
    )
}

/// B10. The task closed; after the close nothing acted and no credential was issued; every
/// credential had expired by the close's time or was revoked: before the close (log order
/// decides, whatever the token service's clock says against the front door's), or after it
/// with effect within the revocation grace of the close's time (a token service revoking
/// *because* the task closed cannot stamp the close's own instant).
pub(super) fn b10(t: &Task<'_>) -> Check {
    let Some(close) = t.closed else {
        return check("B10", Status::Fail, &[], "the task was never closed");
    };
    let late = t.events.iter().find(|l| {
        l.index > close.index
            && matches!(
                l.event.body,
                Body::ActionExecuted(_) | Body::CredentialIssued(_)
            )
    });
    if let Some(l) = late {
        let why = "an action ran or a credential was issued after the task closed";
        return check("B10", Status::Fail, &[close.event.id, l.event.id], why);
    }
    // An action that started after the close's time ran outside the task, wherever it is
    // logged; the revocation grace is for the token service's latency, not the agent's.
    let after = t
        .actions
        .iter()
        .find(|a| a.body.started_at > close.event.time);
    if let Some(a) = after {
        let why = "an action started after the task closed";
        return check("B10", Status::Fail, &[close.event.id, a.event.id], why);
    }
    // A revocation counts by when it takes effect, not by where it is logged: one logged
    // before the close but effective long after it left the credential live.
    let grace_end = close.event.time.plus_ms(t.gov.revocation_grace_ms());
    let ended_by_close = |r: &At<'_, CredentialRevoked>| r.body.effective_at <= grace_end;
    // A credential counts as expired at the close only by the earlier of the close's own
    // time and the latest the log can have taken it in: a close dated ahead (within the
    // clock skew A5 tolerates) does not make a live credential look expired.
    let logged_by = t
        .events
        .binary_search_by_key(&close.index, |l| l.index)
        .ok()
        .and_then(|k| t.events[k].logged_by);
    let closed_at = logged_by.map_or(close.event.time, |by| close.event.time.min(by));
    let outliving: Vec<EventId> = t
        .credentials
        .iter()
        .filter(|c| {
            c.body.credential.expires_at > closed_at
                && !t
                    .revocations_of(&c.body.credential.id)
                    .iter()
                    .any(ended_by_close)
        })
        .map(|c| c.event.id)
        .collect();
    if outliving.is_empty() {
        check(
            "B10",
            Status::Pass,
            &[close.event.id],
            "the task closed and every credential was revoked or had expired",
        )
    } else {
        check(
            "B10",
            Status::Fail,
            &outliving,
            "a credential outlived the task: neither revoked nor expired at close",
        )
    }
}
