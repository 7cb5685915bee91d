//! The policy decision point lies: it signs decisions (and the registry registers
//! policies), so it can cite an unregistered revision or rule, decide for someone else, or
//! issue a later, looser decision to shed an obligation or lift a deny.

use crate::story::*;
use crate::{decision_with, deny, fails, low_risk, passes, with_after, with_after_low_risk};
use warrant_ledger::demo::workloads::*;
use warrant_ledger::event::*;

fn decided(edit: impl Fn(&mut PolicyDecision) + 'static) -> Story {
    Story::tweaked(&move |b| {
        if let Body::PolicyDecision(d) = b {
            edit(d);
        }
    })
}

#[test]
fn cites_an_unregistered_revision() {
    fails(&decided(|d| d.policy.revision = "rev-999".into()), "B4");
}

#[test]
fn cites_a_rule_the_policy_does_not_define() {
    fails(&decided(|d| d.rule_ids = s(&["allow_everything"])), "B4");
}

#[test]
fn decides_for_another_human() {
    fails(
        &decided(|d| d.request.principal = "mallory@bank.example".into()),
        "B3",
    );
}

#[test]
fn decides_for_a_lookalike_of_the_human() {
    fails(
        &decided(|d| d.request.principal = "user1@bаnk.example".into()),
        "B3",
    );
}

#[test]
fn decision_lapsed_before_the_action() {
    fails(&decided(|d| d.valid_until = ts(T0 + 9_000)), "B3");
}

#[test]
fn grants_more_than_the_delegation() {
    let story = Story::tweaked(&|b| match b {
        Body::PolicyDecision(d) => d.obligations.granted_scope = s(&[ACTION, "payments:admin"]),
        Body::DelegationGranted(d) => d.scope = s(&[ACTION]),
        _ => {}
    });
    fails(&story, "B6");
}

#[test]
fn a_later_looser_decision_sheds_the_approval() {
    // The first decision requires approval; a second one for the same operation does not,
    // and the action cites only it, with no approval.
    let looser = decision_with(|d| d.obligations.approval = None);
    let story = with_second_decision(Step::Resolved, 4_200, looser, |b, l| {
        if let Body::ActionExecuted(a) = b {
            a.decisions = vec![l];
            a.approval = None;
        }
    });
    fails(&story, "B7");
}

#[test]
fn a_later_looser_decision_lifts_the_ttl_cap() {
    // The first decision caps credentials at 300 s; a later one for the same operation at
    // 900 s; the credential, issued under the later one, lives 600 s.
    let looser = decision_with(|d| d.obligations.max_credential_ttl_ms = Some(900_000));
    let story = with_second_decision(Step::Decided, 2_100, looser, |b, l| match b {
        Body::CredentialIssued(c) => {
            c.decision = l;
            c.credential.expires_at = ts(T0 + 605_000);
        }
        Body::ActionExecuted(a) => a.decisions = vec![l],
        _ => {}
    });
    fails(&story, "B5");
}

#[test]
fn a_later_allow_lifts_a_deny_without_a_new_approval() {
    // Low risk (no approval): deny, then allow; the action runs under the allow.
    let story = with_after_low_risk(Step::Delegated, |s| {
        s.emit(PDP, 1_800, deny());
    });
    fails(&story, "B8");
}

#[test]
fn a_deny_after_the_allow_stands() {
    fails(
        &with_after(Step::Issued, |s| {
            s.emit(PDP, 6_000, deny());
        }),
        "B8",
    );
}

// Honest twins.

#[test]
fn honest_deny_then_allow_with_a_new_approval_passes() {
    // The deny comes first; the allow that follows requires approval, which a human grants
    // after the deny: the explicit new approval supersedes the refusal.
    passes(&with_after(Step::Delegated, |s| {
        s.emit(PDP, 1_800, deny());
    }));
}

#[test]
fn honest_low_risk_task_passes() {
    passes(&Story::tweaked(&low_risk));
}
