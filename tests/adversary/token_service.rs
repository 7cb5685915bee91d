//! The token service lies: it signs issuances and revocations, so it can issue beyond the
//! grant (to a token used outside the gateway), issue twice under one id, issue early or to
//! the wrong holder, and revoke on paper only.

use crate::story::*;
use crate::{fails, passes, with_after};
use warrant_ledger::demo::workloads::*;
use warrant_ledger::event::*;

/// The compliant story plus a second credential, never used by any recorded action,
/// issued right after the first and changed by `edit`.
fn unused_second(edit: impl Fn(&mut CredentialIssued) + 'static) -> Story {
    with_after(Step::Issued, move |s| {
        let (_, _, mut body) = s.default_body(Step::Issued);
        if let Body::CredentialIssued(c) = &mut body {
            c.credential.id = "cred-2".into();
            edit(c);
        }
        s.emit(STS, 5_100, body);
        // Revoked with the first, so B10 has nothing to say about it.
        let mut revoked = revocation(20_000);
        if let Body::CredentialRevoked(r) = &mut revoked {
            r.credential_id = "cred-2".into();
        }
        s.emit(STS, 5_200, revoked);
    })
}

#[test]
fn issues_an_unused_token_wider_than_the_grant() {
    fails(
        &unused_second(|c| c.credential.scopes = s(&[ACTION, "payments:admin"])),
        "B5",
    );
}

#[test]
fn issues_an_unused_token_living_longer_than_allowed() {
    fails(
        &unused_second(|c| c.credential.expires_at = ts(T0 + 86_400_000)),
        "B5",
    );
}

#[test]
fn issues_an_unused_token_to_another_workload() {
    fails(
        &unused_second(|c| c.holder.id = WorkloadId::new(GATEWAY).expect("id")),
        "B5",
    );
}

#[test]
fn issues_an_unused_token_without_the_approval() {
    fails(&unused_second(|c| c.approval = None), "B5");
}

#[test]
fn issues_an_unused_token_to_an_undelegated_instance() {
    fails(
        &unused_second(|c| c.holder.instance = "pool-b/7".into()),
        "B5",
    );
}

#[test]
fn issues_one_credential_id_twice() {
    fails(&unused_second(|c| c.credential.id = CRED.into()), "B5");
}

#[test]
fn issues_before_the_decision_was_made() {
    let mut story = Story::new();
    story.times.insert(Step::Decided, 4_900);
    story.times.insert(Step::Issued, 4_800);
    story.play(&|_| {}, &mut |_, _| {});
    fails(&story, "B5");
}

#[test]
fn revokes_on_paper_only() {
    // Logged before the close, but effective a day later: the credential outlived the task.
    let story = Story::tweaked(&|b| {
        if let Body::CredentialRevoked(r) = b {
            r.effective_at = ts(T0 + 86_400_000);
        }
    });
    fails(&story, "B10");
}

#[test]
fn never_revokes() {
    let mut story = Story::new();
    story.play(&|_| {}, &mut |_, _| {});
    story
        .events
        .retain(|e| !matches!(e.event().body, Body::CredentialRevoked(_)));
    fails(&story, "B10");
}

#[test]
fn issues_after_the_workload_was_reported_compromised() {
    let story = with_after(Step::Resolved, |s| {
        s.emit(
            FRONT_DOOR,
            4_500,
            crate::signal(AGENT, None, SignalType::WorkloadCompromised),
        );
    });
    fails(&story, "B9");
}

#[test]
fn issues_after_the_humans_session_was_revoked() {
    let story = with_after(Step::Resolved, |s| {
        s.emit(
            FRONT_DOOR,
            4_500,
            crate::signal(HUMAN, None, SignalType::SessionRevoked),
        );
    });
    fails(&story, "B9");
}

#[test]
fn issues_for_another_service() {
    let story = Story::tweaked(&|b| {
        if let Body::CredentialIssued(c) = b {
            c.credential.audience = "https://ledger.bank.example".into();
        }
    });
    fails(&story, "B5");
}

// Honest twins.

#[test]
fn honest_revocation_the_close_triggered_within_the_grace_passes() {
    // The credential is revoked only after the close, effective 3 s after it: the token
    // service's latency, within the 5 s grace. (The story's own revocation step revokes an
    // id never issued, which concerns nothing.)
    let mut story = Story::new();
    story.play(
        &|b| {
            if let Body::CredentialRevoked(r) = b {
                r.credential_id = "cred-never-issued".into();
            }
        },
        &mut |step, s| {
            if step == Step::Closed {
                s.emit(STS, 33_000, revocation(33_000));
            }
        },
    );
    passes(&story);
}

#[test]
fn honest_second_credential_within_the_grant_passes() {
    passes(&unused_second(|_| {}));
}
