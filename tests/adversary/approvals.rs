//! The approval service lies: it signs requests and resolutions, so it can count an
//! approver who may not approve, approve another action, approve late, or resolve a request
//! after it expired.

use crate::story::*;
use crate::{fails, passes};
use warrant_ledger::demo::workloads::*;
use warrant_ledger::event::*;

fn resolved(edit: impl Fn(&mut ApprovalResolved) + 'static) -> Story {
    Story::tweaked(&move |b| {
        if let Body::ApprovalResolved(r) = b {
            edit(r);
        }
    })
}

#[test]
fn counts_an_approver_without_the_role() {
    fails(
        &resolved(|r| r.approver.roles = s(&["payments-viewer"])),
        "B7",
    );
}

#[test]
fn resolves_after_the_action_started() {
    let mut story = Story::new();
    story.times.insert(Step::Resolved, 10_001);
    story.play(&|_| {}, &mut |_, _| {});
    fails(&story, "B7");
}

#[test]
fn resolves_after_the_request_expired() {
    let story = Story::tweaked(&|b| {
        if let Body::ApprovalRequested(q) = b {
            q.expires_at = ts(T0 + 3_500);
        }
    });
    fails(&story, "B7");
}

#[test]
fn counts_the_acting_agent_as_approver() {
    fails(
        &resolved(|r| {
            r.approver.id = AGENT.into();
        }),
        "B7",
    );
}

#[test]
fn counts_an_approver_from_an_unlisted_identity_provider() {
    fails(
        &resolved(|r| r.approver.issuer = "https://idp.evil.example".into()),
        "B7",
    );
}

#[test]
fn an_approval_that_lapsed_before_the_action() {
    fails(&resolved(|r| r.valid_until = ts(T0 + 9_000)), "B7");
}

#[test]
fn a_denial_stands_under_a_decision_that_needs_no_approval() {
    // Low risk: the decision needs no approval, but one was asked and a second approver
    // denied it after the first granted it. The action runs without citing any approval:
    // the denial stands (only a new approval, granted after it, would supersede it).
    let story = crate::with_after_low_risk(Step::Resolved, |s| {
        let mut denied = s.resolution("approver2@bank.example");
        if let Body::ApprovalResolved(r) = &mut denied {
            r.outcome = ApprovalOutcome::Denied;
        }
        s.emit(APPROVALS, 4_100, denied);
    });
    fails(&story, "B8");
}

#[test]
fn an_approval_of_a_deny_supersedes_nothing() {
    // A deny, then an "approval" requested on that deny, cited by the action.
    let story = Story::tweaked(&|b| {
        if let Body::PolicyDecision(d) = b {
            d.effect = Effect::Deny;
        }
    });
    fails(&story, "B8");
}

#[test]
fn approves_an_override_post_hoc_without_the_role_its_request_names() {
    let story = overridden_with(
        "supervisor@bank.example",
        b"suspicious payee",
        Some((APPROVER, 13_000)),
        |r| r.approver.roles = s(&["payments-viewer"]),
    );
    fails(&story, "B11");
}

// Honest twins.

#[test]
fn honest_override_approved_post_hoc_with_the_role_passes() {
    passes(&overridden(
        "supervisor@bank.example",
        b"suspicious payee",
        Some((APPROVER, 13_000)),
    ));
}

#[test]
fn honest_quorum_of_two_distinct_approvers_passes() {
    passes(&crate::quorum_of_two_with("approver2@bank.example"));
}
