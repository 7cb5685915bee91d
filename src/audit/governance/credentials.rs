//! B5 (the credential an action used), B9 (trust signals revoke what they concern) and B10
//! (the task closed and no credential outlived it).

use std::collections::HashMap;

use super::actors::acting_workload;
use super::{Task, verdict};
use crate::audit::{Check, Status, check};
use crate::event::*;

type Issued<'a> = (u64, &'a Event, &'a CredentialIssued);

/// Credentials issued in the task, by id (the first issuance of an id counts).
pub(super) fn by_id<'a>(t: &Task<'a>) -> HashMap<&'a str, Issued<'a>> {
    let mut map = HashMap::new();
    for (i, e, c) in t.credentials() {
        map.entry(c.credential.id.as_str()).or_insert((i, e, c));
    }
    map
}

/// Revocations in the task, by credential id, in log order.
fn revocations_by_id<'a>(t: &Task<'a>) -> HashMap<&'a str, Vec<(u64, &'a CredentialRevoked)>> {
    let mut map: HashMap<&str, Vec<_>> = HashMap::new();
    for (i, _, r) in t.revocations() {
        map.entry(r.credential_id.as_str())
            .or_default()
            .push((i, r));
    }
    map
}

/// The allow decision of this task a credential was issued under.
fn issuing_decision<'a>(t: &Task<'a>, c: &CredentialIssued) -> Option<&'a PolicyDecision> {
    t.find(&c.decision).and_then(|(_, de)| match &de.body {
        Body::PolicyDecision(d) if d.effect == Effect::Allow => Some(d),
        _ => None,
    })
}

/// Whether a delegation of this task logged before `before` names the holder's workload
/// and instance: a pool's instances share a workload id, and a credential belongs to the
/// instance the task was delegated to.
fn delegated_instance(t: &Task<'_>, holder: &Holder, before: u64) -> bool {
    t.delegations_to(holder.id.as_str())
        .iter()
        .any(|(i, _, d)| *i < before && d.delegatee.instance == holder.instance)
}

/// Why credential `c` (logged at `ci`) could not carry action `a` (logged at `i`), if it
/// could not. A revocation counts from its effective time wherever it is logged: one
/// logged after the action but effective before it means the action used a dead credential.
fn credential_problem(
    t: &Task<'_>,
    (ci, c): (u64, &CredentialIssued),
    (i, a): (u64, &ActionExecuted),
    revoked: Option<&Vec<(u64, &CredentialRevoked)>>,
) -> Option<&'static str> {
    let cred = &c.credential;
    let decision = issuing_decision(t, c);
    if ci > i {
        Some("was issued after the action")
    } else if acting_workload(a) != Some(c.holder.id.as_str()) {
        Some("was issued to another holder")
    } else if !delegated_instance(t, &c.holder, ci) {
        Some("was issued to an instance of its holder that no earlier delegation names")
    } else if !(cred.not_before <= a.started_at && a.started_at <= cred.expires_at) {
        Some("was not valid (expired or not yet valid) when the action started")
    } else if revoked.is_some_and(|rs| rs.iter().any(|(_, r)| r.effective_at <= a.started_at)) {
        Some("was revoked before the action")
    } else if decision.is_none() {
        Some("was not issued under an allow decision of this task")
    } else if decision
        .and_then(|d| d.obligations.max_credential_ttl_ms)
        .is_some_and(|max| cred.expires_at.saturating_sub(cred.not_before) > max)
    {
        Some("lives longer than the decision allows")
    } else {
        None
    }
}

pub(super) fn b5(t: &Task<'_>) -> Check {
    let creds = by_id(t);
    let revocations = revocations_by_id(t);
    let actions = t.actions();
    let finding = actions.iter().find_map(|&(i, e, a)| {
        let Some(&(ci, ce, c)) = creds.get(a.credential_id.as_str()) else {
            return Some((
                vec![e.id],
                format!("credential {} was not issued in this task", a.credential_id),
            ));
        };
        let revoked = revocations.get(c.credential.id.as_str());
        let why = credential_problem(t, (ci, c), (i, a), revoked)?;
        Some((
            vec![e.id, ce.id],
            format!("credential {} {why}", c.credential.id),
        ))
    });
    verdict(
        "B5",
        actions.len(),
        finding,
        "every action used a live, unrevoked credential issued in this task to its holder, within the allowed TTL",
        "no actions",
    )
}

/// B9. A trust signal concerns a credential by its id, its holder, or the task's principal
/// (a revoked session ends everything done for that human). Each concerned credential
/// issued before the signal and still unexpired at it must be revoked somewhere in the task
/// (a revocation logged before the signal counts), and none may be used by an action logged
/// after the signal.
pub(super) fn b9(t: &Task<'_>) -> Check {
    let signals = t.of(|b| {
        if let Body::TrustSignal(s) = b {
            Some(s)
        } else {
            None
        }
    });
    let creds = t.credentials();
    let revocations = revocations_by_id(t);
    // The last action to use each credential: "used after the signal" is one comparison.
    let mut last_use: HashMap<&str, u64> = HashMap::new();
    for (ai, _, a) in t.actions() {
        last_use.insert(a.credential_id.as_str(), ai);
    }
    let principal = t.principal();
    let mut checked = 0;
    for (si, se, s) in &signals {
        let concerned = |c: &CredentialIssued| {
            c.credential.id == s.subject
                || c.holder.id.as_str() == s.subject
                || principal == Some(s.subject.as_str())
        };
        for (_, ce, c) in creds.iter().filter(|(ci, _, c)| ci < si && concerned(c)) {
            checked += 1;
            let id = c.credential.id.as_str();
            let revoked = revocations.contains_key(id);
            let expired = c.credential.expires_at <= se.time;
            let used_after = last_use.get(id).is_some_and(|ai| ai > si);
            let why = if used_after {
                "was used after the trust signal"
            } else if !revoked && !expired {
                "was not revoked after the trust signal"
            } else {
                continue;
            };
            return check(
                "B9",
                Status::Fail,
                &[se.id, ce.id],
                format!("credential {id} {why}"),
            );
        }
    }
    verdict(
        "B9",
        checked,
        None,
        "credentials affected by trust signals were revoked and not used again",
        "no trust signals affecting credentials",
    )
}

/// B10. The task closed; after the close nothing acted and no credential was issued; every
/// credential had expired by the close's time or was revoked: before the close, or after it
/// with effect by then (as a revocation the close triggered would be).
pub(super) fn b10(t: &Task<'_>) -> Check {
    let Some((ci, ce, _)) = t.closed() else {
        return check("B10", Status::Fail, &[], "the task was never closed");
    };
    let late = t.events.iter().find(|(i, v)| {
        *i > ci
            && matches!(
                v.event().body,
                Body::ActionExecuted(_) | Body::CredentialIssued(_)
            )
    });
    if let Some((_, v)) = late {
        let why = "an action ran or a credential was issued after the task closed";
        return check("B10", Status::Fail, &[ce.id, v.event().id], why);
    }
    let revocations = revocations_by_id(t);
    // Log order decides where it can: a revocation logged before the close ended the
    // credential in time, whatever the token service's clock says against the front door's.
    // One logged after the close counts only if it took effect by the close's time.
    let ended_by_close = |ri: u64, r: &CredentialRevoked| ri < ci || r.effective_at <= ce.time;
    let outliving: Vec<EventId> = t
        .credentials()
        .into_iter()
        .filter(|(_, _, c)| {
            c.credential.expires_at > ce.time
                && !revocations
                    .get(c.credential.id.as_str())
                    .is_some_and(|rs| rs.iter().any(|&(ri, r)| ended_by_close(ri, r)))
        })
        .map(|(_, e, _)| e.id)
        .collect();
    if outliving.is_empty() {
        check(
            "B10",
            Status::Pass,
            &[ce.id],
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
