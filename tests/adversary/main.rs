//! The red-team suite: attacks designed from the attacker model (`docs/threat-model.md`,
//! "Governance"), grouped by the party that lies. Each is the compliant story of
//! `tests/story/` with one minimal change; each asserts that the verdict fails with the
//! check that covers it and, where the gate can know before the action, that the gate
//! denies the action naming that check. Every group has honest twins that must pass.
//! `docs/audit-checks.md` ("The red-team suite") maps each attack to its check.

#[path = "../common/mod.rs"]
mod common;
#[path = "../story/mod.rs"]
mod story;

mod agent;
mod approvals;
mod front_door;
mod gateway;
mod humans;
mod pdp;
mod retired_key;
mod token_service;

use story::*;
use warrant_ledger::audit::{Report, Status, Verdict};
use warrant_ledger::event::*;
use warrant_ledger::trust::TrustDocument;

/// Asserts that `story` fails `check` (among possibly others that the same change breaks)
/// and that, where an action breaks it, the gate asked before that action denied it naming
/// `check`. Returns the report.
pub(crate) fn fails(story: &Story, check: &str) -> Report {
    fails_under(story, |_| {}, check)
}

/// As [`fails`], under the deployment's trust policy as `edit` changes it.
pub(crate) fn fails_under(
    story: &Story,
    edit: impl FnOnce(&mut TrustDocument) + Clone,
    check: &str,
) -> Report {
    let report = story.audit_with(edit.clone());
    assert_eq!(report.verdict, Verdict::Fail, "{report:#?}");
    assert_eq!(
        report.check(check).map(|c| c.status),
        Some(Status::Fail),
        "expected {check} to fail: {report:#?}"
    );
    let breaking: Vec<&str> = report
        .actions
        .iter()
        .filter(|a| !a.blocked() && a.breaks.iter().any(|b| b == check))
        .map(|a| a.event.as_str())
        .collect();
    if !breaking.is_empty() {
        let mut doc = story.trust_document();
        edit(&mut doc);
        let trust = warrant_ledger::trust::TrustPolicy::try_from(doc).expect("trust");
        if let Some(answers) = story.gate_answers(&trust) {
            let denied = answers.iter().any(|(id, admission)| {
                breaking.contains(&id.to_string().as_str())
                    && !admission.allowed
                    && admission.blocked_by().iter().any(|c| c == check)
            });
            assert!(
                denied,
                "the gate did not deny with {check}: {answers:#?} {report:#?}"
            );
        }
    }
    report
}

/// As [`fails`], for an attack the gate cannot see before the action (the evidence that
/// shows it is logged after the action): only the auditor is asked.
pub(crate) fn fails_after_the_fact(story: &Story, check: &str) -> Report {
    let report = story.audit();
    assert_eq!(report.verdict, Verdict::Fail, "{report:#?}");
    assert_eq!(
        report.check(check).map(|c| c.status),
        Some(Status::Fail),
        "expected {check} to fail: {report:#?}"
    );
    report
}

/// Asserts that `story` passes every check.
pub(crate) fn passes(story: &Story) -> Report {
    passes_under(story, |_| {})
}

/// As [`passes`], under the trust policy as `edit` changes it.
pub(crate) fn passes_under(story: &Story, edit: impl FnOnce(&mut TrustDocument)) -> Report {
    let report = story.audit_with(edit);
    assert_eq!(report.failed(), Vec::<&str>::new(), "{report:#?}");
    assert_eq!(report.verdict, Verdict::Pass);
    report
}

/// The compliant story with nothing changed.
pub(crate) fn nothing(_: &mut Body) {}

/// The compliant story with `add` called after `step` (to log more events).
pub(crate) fn with_after(step: Step, add: impl Fn(&mut Story)) -> Story {
    let mut story = Story::new();
    story.play(&nothing, &mut |at, s| {
        if at == step {
            add(s);
        }
    });
    story
}

/// The low-risk story with `add` called after `step`.
pub(crate) fn with_after_low_risk(step: Step, add: impl Fn(&mut Story)) -> Story {
    let mut story = Story::new();
    story.play(&low_risk, &mut |at, s| {
        if at == step {
            add(s);
        }
    });
    story
}

/// The compliant story at low risk (no approval needed, none logged).
pub(crate) fn low_risk(b: &mut Body) {
    match b {
        Body::TaskOpened(o) => {
            o.risk_tier = Level::Low;
            o.principal.mfa = false;
        }
        Body::PolicyDecision(d) => d.obligations.approval = None,
        Body::ActionExecuted(a) => a.approval = None,
        Body::CredentialIssued(c) => c.approval = None,
        _ => {}
    }
}

/// The story's decision, changed by `edit`.
pub(crate) fn decision_with(edit: impl Fn(&mut PolicyDecision)) -> Body {
    let mut body = decision();
    if let Body::PolicyDecision(d) = &mut body {
        edit(d);
    }
    body
}

/// A deny decision for the story's action (requiring nothing).
pub(crate) fn deny() -> Body {
    decision_with(|d| {
        d.effect = Effect::Deny;
        d.obligations.approval = None;
    })
}

/// The story with a quorum of two met by the story's approver and `second`.
pub(crate) fn quorum_of_two_with(second: &'static str) -> Story {
    let mut story = Story::new();
    story.play(
        &|b| {
            if let Body::ApprovalRequested(q) = b {
                q.quorum = 2;
            }
        },
        &mut |step, s| {
            if step == Step::Resolved {
                s.emit(
                    warrant_ledger::demo::workloads::APPROVALS,
                    4_100,
                    s.resolution(second),
                );
            }
        },
    );
    story
}

/// A trust signal about `subject` from the identity provider.
pub(crate) fn signal(subject: &str, instance: Option<&str>, kind: SignalType) -> Body {
    Body::TrustSignal(TrustSignal {
        source: warrant_ledger::demo::workloads::IDP.into(),
        signal: kind,
        subject: subject.into(),
        instance: instance.map(Into::into),
        severity: Level::High,
    })
}
