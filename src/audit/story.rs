//! A task's governance chain told as a story: one line per verified event, in log order
//! (human → agent → decision → approval → credential → action → revocation → close), each
//! with the checks that judge that step.

use super::Audited;
use super::{Check, Status};
use crate::event::{ActionOutcome, Body, Kind, Timestamp};

/// One step of the chain, as its verified event tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoryLine {
    /// The event's id (hyphenated UUID).
    pub event: String,
    /// Its log index.
    pub index: u64,
    /// The time its emitter signed it (ms since the Unix epoch): the story shows when each
    /// step says it happened, which the time checks (A5, B1–B7) compare across emitters.
    pub time: Timestamp,
    /// The step: `human`, `agent`, `decision`, `approval`, `credential`, `action`,
    /// `signal`, `revocation`, `close`, `override`, `policy`.
    pub step: &'static str,
    /// What the event says, in one line.
    pub text: String,
    /// The checks that judge this step, with their outcome: those that judge its kind, then
    /// any other check that names this event.
    pub checks: Vec<(String, Status)>,
}

/// The checks that judge an event of this body (none for a blocked attempt: it is no
/// action).
fn judged_by(body: &Body) -> &'static [&'static str] {
    if matches!(body, Body::ActionExecuted(a) if a.outcome == ActionOutcome::Blocked) {
        return &[];
    }
    match body.kind() {
        Kind::PolicyRegistered => &["B4"],
        Kind::TaskOpened => &["B1"],
        Kind::DelegationGranted => &["B2"],
        Kind::PolicyDecision => &["B3", "B4", "B8"],
        Kind::ApprovalRequested | Kind::ApprovalResolved => &["B7"],
        Kind::CredentialIssued => &["B5", "B10"],
        Kind::ActionExecuted => &["B2", "B3", "B5", "B6", "B7", "B8"],
        Kind::TrustSignal => &["B9"],
        Kind::CredentialRevoked => &["B5", "B9", "B10"],
        Kind::TaskClosed => &["A4", "B10"],
        Kind::Override => &["B11"],
    }
}

/// The step's name and one line saying what the event states.
fn describe(body: &Body) -> (&'static str, String) {
    match body {
        Body::PolicyRegistered(p) => (
            "policy",
            format!(
                "{} rev {} registered ({})",
                p.policy.id, p.policy.revision, p.engine
            ),
        ),
        Body::TaskOpened(t) => (
            "human",
            format!(
                "{} signed in at {} ({}), asked for \"{}\", {:?} risk",
                t.principal.id,
                t.principal.issuer,
                t.principal.auth_methods.join("+"),
                t.purpose,
                t.risk_tier
            ),
        ),
        Body::DelegationGranted(d) => (
            "agent",
            format!(
                "{} instance {} acts for {}, scope {:?}, {:?}",
                d.delegatee.id,
                d.delegatee.instance,
                d.delegator.id(),
                d.scope,
                d.mode
            ),
        ),
        Body::PolicyDecision(d) => (
            "decision",
            format!(
                "{:?} {} on {:?} under {} rev {}",
                d.effect, d.request.action, d.request.resources, d.policy.id, d.policy.revision
            ),
        ),
        Body::ApprovalRequested(a) => (
            "approval",
            format!(
                "requested from role {} (quorum {})",
                a.required_role, a.quorum
            ),
        ),
        Body::ApprovalResolved(a) => (
            "approval",
            format!(
                "{:?} by {} {:?}",
                a.outcome, a.approver.id, a.approver.roles
            ),
        ),
        Body::CredentialIssued(c) => (
            "credential",
            format!(
                "{} to {} {:?}, valid {} s",
                c.credential.id,
                c.holder.id,
                c.credential.scopes,
                c.credential
                    .expires_at
                    .millis_since(c.credential.not_before)
                    / 1000
            ),
        ),
        Body::ActionExecuted(a) if a.outcome == ActionOutcome::Blocked => (
            "attempt",
            format!(
                "{} on {:?} with {}, blocked by the gate ({}): no action",
                a.operation.name,
                a.operation.resources,
                a.credential_id,
                a.blocked_by.join(", ")
            ),
        ),
        Body::ActionExecuted(a) => (
            "action",
            format!(
                "{} on {:?} using {:?} with {}, {:?}",
                a.operation.name,
                a.operation.resources,
                a.operation.permissions_used,
                a.credential_id,
                a.outcome
            ),
        ),
        Body::TrustSignal(s) => (
            "signal",
            format!("{:?} about {} from {}", s.signal, s.subject, s.source),
        ),
        Body::CredentialRevoked(c) => (
            "revocation",
            format!("{} ({:?})", c.credential_id, c.reason),
        ),
        Body::TaskClosed(c) => (
            "close",
            format!(
                "{:?}, credentials left open: {:?}",
                c.outcome, c.credentials_open
            ),
        ),
        Body::Override(o) => ("override", format!("{:?} by {}", o.action, o.principal)),
    }
}

/// The story of the verified events (log index, event) under the report's checks.
pub(super) fn tell(events: &[(u64, &Audited<'_>)], checks: &[Check]) -> Vec<StoryLine> {
    events
        .iter()
        .map(|&(index, v)| {
            let e = v.event();
            let id = e.id.to_string();
            let (step, text) = describe(&e.body);
            let by_kind = judged_by(&e.body);
            let judging = checks
                .iter()
                .filter(|c| by_kind.contains(&c.id.as_str()))
                .chain(
                    checks
                        .iter()
                        .filter(|c| !by_kind.contains(&c.id.as_str()) && c.events.contains(&id)),
                )
                .map(|c| (c.id.clone(), c.status))
                .collect();
            StoryLine {
                event: id,
                index,
                time: e.time,
                step,
                text,
                checks: judging,
            }
        })
        .collect()
}
