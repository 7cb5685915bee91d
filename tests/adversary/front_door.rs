//! The front door and identity provider lie: they sign the intent, the human's delegation,
//! the close and trust signals, so they can open a task for no authenticated person, date a
//! delegation or close conveniently, or bury a signal.

use crate::story::*;
use crate::{fails, passes, signal, with_after};
use warrant_ledger::audit::Status;
use warrant_ledger::demo::workloads::*;
use warrant_ledger::event::*;

fn opened_with(edit: impl Fn(&mut TaskOpened) + 'static) -> Story {
    Story::tweaked(&move |b| {
        if let Body::TaskOpened(o) = b {
            edit(o);
        }
    })
}

#[test]
fn opens_a_high_risk_task_without_mfa() {
    fails(&opened_with(|o| o.principal.mfa = false), "B1");
}

#[test]
fn opens_a_task_for_an_excluded_service_account_in_capitals() {
    fails(
        &opened_with(|o| o.principal.id = "SVC-PAYMENTS@bank.example".into()),
        "B1",
    );
}

#[test]
fn opens_a_task_for_an_id_with_an_invisible_character() {
    fails(
        &opened_with(|o| o.principal.id = "user1\u{2060}@bank.example".into()),
        "B1",
    );
}

#[test]
fn opens_a_task_from_an_unlisted_identity_provider() {
    fails(
        &opened_with(|o| o.principal.issuer = "https://idp.evil.example".into()),
        "B1",
    );
}

#[test]
fn opens_a_task_an_agent_spawned() {
    fails(
        &opened_with(|o| o.initiation = TaskInitiation::AgentSpawned),
        "B1",
    );
}

#[test]
fn dates_the_humans_delegation_after_the_action() {
    // Logged before the action, dated after it started: authority came too late.
    let mut story = Story::new();
    story.times.insert(Step::Delegated, 10_200);
    story.play(&|_| {}, &mut |_, _| {});
    fails(&story, "B2");
}

#[test]
fn dates_a_session_revocation_before_the_action_but_logs_it_after() {
    // The session was revoked at 8 s (before the action at 10 s), logged only after it.
    let story = with_after(Step::Acted, |s| {
        let mut body = signal(HUMAN, None, SignalType::SessionRevoked);
        if let Body::TrustSignal(t) = &mut body {
            t.source = IDP.into();
        }
        s.emit(FRONT_DOOR, 8_000, body);
    });
    crate::fails_after_the_fact(&story, "B9");
}

#[test]
fn revokes_the_session_under_another_spelling() {
    // The signal names the human in capitals: it still concerns their task.
    let story = with_after(Step::Issued, |s| {
        s.emit(
            FRONT_DOOR,
            6_000,
            signal("USER1@BANK.EXAMPLE", None, SignalType::SessionRevoked),
        );
    });
    fails(&story, "B9");
}

#[test]
fn closes_before_the_action_it_dates_later() {
    // The close is dated 9 s, the action started at 10 s (logged before the close).
    let mut story = Story::new();
    story.times.insert(Step::Closed, 9_500);
    story.times.insert(Step::Revoked, 9_400);
    story.play(
        &|b| {
            if let Body::CredentialRevoked(r) = b {
                r.effective_at = ts(T0 + 9_400);
            }
        },
        &mut |_, _| {},
    );
    fails(&story, "B10");
}

/// The story logged by a ledger whose clock reads 31 s, its close dated at `closed` ms and
/// its credential (issued at 5 s) expiring at `expires` ms, never revoked.
fn closed_at(closed: u64, expires: u64) -> Story {
    let mut story = Story::new();
    story.clock_ms = Some(T0 + 31_000);
    story.times.insert(Step::Closed, closed);
    story.play(
        &|b| match b {
            Body::CredentialRevoked(r) => r.credential_id = "cred-never-issued".into(),
            Body::CredentialIssued(c) => c.credential.expires_at = ts(T0 + expires),
            _ => {}
        },
        &mut |_, _| {},
    );
    story
}

#[test]
fn dates_the_close_ahead_within_the_skew_to_hide_a_live_credential() {
    // The credential lives until 305 s; the close, logged by 32 s, claims 306 s: inside the
    // 5-minute skew A5 tolerates, so only B10's own bound catches it.
    let report = fails(&closed_at(306_000, 305_000), "B10");
    assert_eq!(report.check("A5").map(|c| c.status), Some(Status::Pass));
}

// Honest twins.

#[test]
fn honest_credential_expired_before_the_close_passes() {
    // Expired at 25 s, the close dated 30 s and logged by 32 s: nothing to revoke.
    passes(&closed_at(30_000, 25_000));
}

#[test]
fn honest_partner_delegation_passes() {
    let story = Story::tweaked(&|b| match b {
        Body::DelegationGranted(d) => {
            d.delegatee.id = WorkloadId::new(VENDOR_AGENT).expect("id");
            d.delegatee.trust_domain = "agents.vendor.example".into();
            d.cross_domain = true;
            d.scope = s(&[ACTION]);
        }
        Body::ActionExecuted(a) => a.actor_chain = s(&[HUMAN, VENDOR_AGENT]),
        Body::PolicyDecision(d) => d.request.actor_chain = s(&[HUMAN, VENDOR_AGENT]),
        Body::CredentialIssued(c) => c.holder.id = WorkloadId::new(VENDOR_AGENT).expect("id"),
        _ => {}
    });
    crate::passes_under(&story, |doc| {
        doc.governance.partners = vec![warrant_ledger::trust::PartnerEntry {
            trust_domain: "agents.vendor.example".into(),
            scopes: s(&[ACTION]),
        }];
    });
}

#[test]
fn honest_signal_about_another_human_concerns_nothing() {
    let story = with_after(Step::Issued, |s| {
        s.emit(
            FRONT_DOOR,
            6_000,
            signal(
                "someone.else@bank.example",
                None,
                SignalType::SessionRevoked,
            ),
        );
    });
    passes(&story);
}
