//! B5 (the credential an action used), B9 (trust signals revoke what they concern) and B10
//! (the task closed and no credential outlived it).

use super::{At, Finding, Task, covering, first_action, subset, verdict};
use crate::audit::{Check, Status, check};
use crate::event::*;

/// The allow decision of this task, logged before it, that credential `c` was issued under.
fn issuing_decision<'a>(t: &Task<'a>, c: At<'_, CredentialIssued>) -> Option<&'a PolicyDecision> {
    t.find_body(&c.body.decision, Body::as_policy_decision)
        .filter(|d| d.index < c.index && d.body.effect == Effect::Allow)
        .map(|d| d.body)
}

/// Whether a delegation of this task logged before `before` names the holder's workload
/// and instance: a pool's instances share a workload id, and a credential belongs to the
/// instance the task was delegated to.
fn delegated_instance(t: &Task<'_>, holder: &Holder, before: u64) -> bool {
    t.delegations_to(holder.id.as_str())
        .iter()
        .any(|d| d.index < before && d.body.delegatee.instance == holder.instance)
}

/// The longest lifetime allowed a credential issued under `issuing` and used under the
/// action's covering decision: each decision's cap, or where it sets none the task tier's,
/// and the smaller of the two (`None`: unbounded).
fn ttl_cap(
    t: &Task<'_>,
    issuing: &PolicyDecision,
    covering: Option<&PolicyDecision>,
) -> Option<u64> {
    let tier = t.tier().max_credential_ttl_ms;
    let cap = |d: &PolicyDecision| d.obligations.max_credential_ttl_ms.or(tier);
    match (cap(issuing), covering.and_then(cap)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
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
        return Some(
            "was not issued under an allow decision of this task logged before it".to_owned(),
        );
    };
    if !subset(&cred.scopes, &issuing.obligations.granted_scope) {
        return Some("carries scopes the decision it was issued under did not grant".to_owned());
    }
    let cap = ttl_cap(t, issuing, covering(t, index, a).map(|d| d.body))?;
    let lifetime = cred.expires_at.millis_since(cred.not_before);
    (lifetime > cap).then(|| {
        format!(
            "lives {} s, longer than the {} s allowed",
            lifetime / 1000,
            cap / 1000
        )
    })
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

pub(super) fn b5(t: &Task<'_>) -> Check {
    let finding = first_action(t, |a| b5_action(t, a.index, a.body));
    verdict(
        "B5",
        t.actions.len(),
        finding,
        "every action used a live, unrevoked credential issued in this task to its acting instance, for the service called, within its grant and the allowed TTL",
        "no actions",
    )
}

/// Whether trust signal `s` concerns credential `c`: by its id, its holder (every instance,
/// or the one the signal names), or the task's `principal` (a revoked session ends everything
/// done for that human).
pub(crate) fn concerns(principal: Option<&str>, s: &TrustSignal, c: &CredentialIssued) -> bool {
    let holder = c.holder.id.as_str() == s.subject
        && s.instance.as_ref().is_none_or(|i| *i == c.holder.instance);
    c.credential.id == s.subject || holder || principal == Some(s.subject.as_str())
}

/// Whether signal `s` reports the holder of credential `c` (the workload, or the instance
/// it names) compromised: no credential may be issued to it afterwards.
pub(crate) fn reports_holder_compromised(s: &TrustSignal, c: &CredentialIssued) -> bool {
    s.signal == SignalType::WorkloadCompromised
        && c.holder.id.as_str() == s.subject
        && s.instance.as_ref().is_none_or(|i| *i == c.holder.instance)
}

/// B9 for one action: it used no credential that a trust signal logged before it concerns
/// (logged after the credential was issued), nor one issued to a workload already reported
/// compromised.
pub(super) fn b9_action(t: &Task<'_>, index: u64, a: &ActionExecuted) -> Option<Finding> {
    let c = t.credential_by_id.get(a.credential_id.as_str())?;
    let (s, why) = t
        .signals
        .iter()
        .take_while(|s| s.index < index)
        .find_map(|s| {
            if s.index > c.index && concerns(t.principal(), s.body, c.body) {
                Some((s, "was used after the trust signal"))
            } else if s.index < c.index && reports_holder_compromised(s.body, c.body) {
                Some((s, "was issued to a workload reported compromised"))
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
                reports_holder_compromised(s.body, c.body)
                    .then_some("was issued to a workload reported compromised")
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
    let grace_end = close.event.time.plus_ms(t.gov.revocation_grace_ms());
    let ended_by_close =
        |r: &At<'_, CredentialRevoked>| r.index < close.index || r.body.effective_at <= grace_end;
    let outliving: Vec<EventId> = t
        .credentials
        .iter()
        .filter(|c| {
            c.body.credential.expires_at > close.event.time
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
