//! The policy decision point lies: it signs decisions (and the registry registers
//! policies), so it can cite an unregistered revision or rule, decide for someone else, or
//! issue a later, looser decision to shed an obligation or lift a deny.

use crate::story::*;
use crate::{decision_with, fails, low_risk, passes};
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
    let looser = std::cell::Cell::new(None);
    let mut only_looser = Story::new();
    only_looser.play(
        &|b| {
            if let (Body::ActionExecuted(a), Some(l)) = (b, looser.get()) {
                a.decisions = vec![l];
                a.approval = None;
            }
        },
        &mut |step, s| {
            if step == Step::Resolved {
                looser.set(Some(s.emit(
                    PDP,
                    4_200,
                    decision_with(|d| d.obligations.approval = None),
                )));
            }
        },
    );
    fails(&only_looser, "B7");
}

#[test]
fn a_later_looser_decision_lifts_the_ttl_cap() {
    // The first decision caps credentials at 300 s; a later one for the same operation at
    // 900 s; the credential, issued under the later one, lives 600 s.
    let looser = std::cell::Cell::new(None);
    let mut story = Story::new();
    story.play(
        &|b| match (b, looser.get()) {
            (Body::CredentialIssued(c), Some(l)) => {
                c.decision = l;
                c.credential.expires_at = ts(T0 + 605_000);
            }
            (Body::ActionExecuted(a), Some(l)) => a.decisions = vec![l],
            _ => {}
        },
        &mut |step, s| {
            if step == Step::Decided {
                looser.set(Some(s.emit(
                    PDP,
                    2_100,
                    decision_with(|d| d.obligations.max_credential_ttl_ms = Some(900_000)),
                )));
            }
        },
    );
    fails(&story, "B5");
}

#[test]
fn a_later_allow_lifts_a_deny_without_a_new_approval() {
    // Low risk (no approval): deny, then allow; the action runs under the allow.
    let mut story = Story::new();
    story.play(&low_risk, &mut |step, s| {
        if step == Step::Delegated {
            s.emit(
                PDP,
                1_800,
                decision_with(|d| {
                    d.effect = Effect::Deny;
                    d.obligations.approval = None;
                }),
            );
        }
    });
    fails(&story, "B8");
}

#[test]
fn a_deny_after_the_allow_stands() {
    let mut story = Story::new();
    story.play(&|_| {}, &mut |step, s| {
        if step == Step::Issued {
            s.emit(
                PDP,
                6_000,
                decision_with(|d| {
                    d.effect = Effect::Deny;
                    d.obligations.approval = None;
                }),
            );
        }
    });
    fails(&story, "B8");
}

// Honest twins.

#[test]
fn honest_deny_then_allow_with_a_new_approval_passes() {
    // The deny comes first; the allow that follows requires approval, which a human grants
    // after the deny: the explicit new approval supersedes the refusal.
    let mut story = Story::new();
    story.play(&|_| {}, &mut |step, s| {
        if step == Step::Delegated {
            s.emit(
                PDP,
                1_800,
                decision_with(|d| {
                    d.effect = Effect::Deny;
                    d.obligations.approval = None;
                }),
            );
        }
    });
    passes(&story);
}

#[test]
fn honest_low_risk_task_passes() {
    passes(&Story::tweaked(&low_risk));
}
