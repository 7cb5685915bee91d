//! The agent (and each pool instance) lies: it signs only its own delegations, so its
//! attacks are what it delegates and what it does with what it holds, as the gateway records
//! it honestly.

use crate::story::*;
use crate::{fails, passes, with_after};
use warrant_ledger::demo::workloads::*;
use warrant_ledger::event::*;

fn workload(id: &str) -> WorkloadId {
    WorkloadId::new(id).expect("id")
}

#[test]
fn sub_delegates_a_scope_it_never_held() {
    // The orchestrator holds only the read scope; it hands the agent the transfer.
    fails(&two_hops(|d| d.scope = s(&["payments:read"])), "B6");
}

#[test]
fn signs_the_humans_delegation_itself() {
    let mut forged = Story::new();
    forged.play(
        &|b| {
            if let Body::DelegationGranted(d) = b {
                // The front door's delegation names another instance; the agent's own
                // (self-reported) one names the instance that acts.
                d.delegatee.instance = "pool-z/9".into();
            }
        },
        &mut |step, s| {
            if step == Step::Opened {
                s.emit(AGENT, 1_100, delegation(human(), AGENT));
            }
        },
    );
    fails(&forged, "B2");
}

#[test]
fn delegates_on_behalf_of_another_workload() {
    // The agent signs the orchestrator's delegation to itself.
    fails(&two_hops_signed_by(AGENT, |_| {}), "B2");
}

#[test]
fn another_instance_uses_the_credential() {
    let story = Story::tweaked(&|b| {
        if let Body::ActionExecuted(a) = b {
            a.instance = "pool-a/2".into();
        }
    });
    fails(&story, "B5");
}

#[test]
fn presents_a_credential_of_another_task() {
    let story = Story::tweaked(&|b| {
        if let Body::ActionExecuted(a) = b {
            a.credential_id = "cred-of-another-task".into();
        }
    });
    fails(&story, "B5");
}

#[test]
fn calls_another_service_with_the_token() {
    let story = Story::tweaked(&|b| {
        if let Body::ActionExecuted(a) = b {
            a.operation.service = "https://ledger.bank.example".into();
        }
    });
    fails(&story, "B5");
}

#[test]
fn acts_after_its_credential_expired() {
    let story = Story::tweaked(&|b| {
        if let Body::CredentialIssued(c) = b {
            c.credential.expires_at = ts(T0 + 9_000);
        }
    });
    fails(&story, "B5");
}

#[test]
fn acts_after_its_delegation_expired() {
    let story = Story::tweaked(&|b| {
        if let Body::DelegationGranted(d) = b {
            d.expires_at = ts(T0 + 9_000);
        }
    });
    fails(&story, "B2");
}

#[test]
fn acts_outside_the_confirmed_scope() {
    let story = Story::tweaked(&|b| {
        if let Body::ActionExecuted(a) = b {
            a.within_confirmed_scope = false;
        }
    });
    fails(&story, "B6");
}

#[test]
fn uses_a_permission_its_credential_lacks() {
    let story = Story::tweaked(&|b| {
        if let Body::ActionExecuted(a) = b {
            a.operation.permissions_used = s(&[ACTION, "payments:admin"]);
        }
    });
    fails(&story, "B6");
}

#[test]
fn acts_on_another_account() {
    let story = Story::tweaked(&|b| {
        if let Body::ActionExecuted(a) = b {
            a.operation.resources = s(&["account:DE89-0002"]);
        }
    });
    fails(&story, "B3");
}

#[test]
fn runs_the_approved_payment_twice() {
    let story = with_after(Step::Acted, |s| {
        let (who, _, body) = s.default_body(Step::Acted);
        let mut body = body;
        if let Body::ActionExecuted(a) = &mut body {
            a.action_id = "act-2".into();
            a.started_at = ts(T0 + 11_000);
            a.ended_at = ts(T0 + 11_400);
        }
        s.emit(who, 11_400, body);
    });
    fails(&story, "B7");
}

#[test]
fn acts_after_the_close_even_inside_the_grace() {
    // Logged after the close, 1 s after it: the revocation grace is not the agent's.
    let story = with_after(Step::Closed, |s| {
        let (who, _, mut body) = s.default_body(Step::Acted);
        if let Body::ActionExecuted(a) = &mut body {
            a.action_id = "act-late".into();
            a.started_at = ts(T0 + 30_500);
            a.ended_at = ts(T0 + 31_000);
        }
        s.emit(who, 31_000, body);
    });
    fails(&story, "B10");
}

#[test]
fn delegates_to_a_domain_nobody_declared() {
    let story = Story::tweaked(&|b| match b {
        Body::DelegationGranted(d) => {
            d.delegatee.id = workload("spiffe://rogue.example/agent");
            d.delegatee.trust_domain = "rogue.example".into();
            d.cross_domain = true;
        }
        Body::ActionExecuted(a) => a.actor_chain = s(&[HUMAN, "spiffe://rogue.example/agent"]),
        Body::PolicyDecision(d) => {
            d.request.actor_chain = s(&[HUMAN, "spiffe://rogue.example/agent"]);
        }
        Body::CredentialIssued(c) => c.holder.id = workload("spiffe://rogue.example/agent"),
        _ => {}
    });
    fails(&story, "B2");
}

// Honest twins.

#[test]
fn honest_orchestrator_sub_delegation_passes() {
    passes(&two_hops(|_| {}));
}

#[test]
fn honest_retry_after_a_failed_execution_passes() {
    // The first execution failed (spent nothing); the retry succeeds under the same approval.
    let mut story = Story::new();
    story.times.insert(Step::Acted, 12_400);
    story.play(
        &|b| {
            if let Body::ActionExecuted(a) = b {
                a.started_at = ts(T0 + 12_000);
                a.ended_at = ts(T0 + 12_400);
            }
        },
        &mut |step, s| {
            if step == Step::Issued {
                let (who, _, mut body) = s.default_body(Step::Acted);
                if let Body::ActionExecuted(a) = &mut body {
                    a.action_id = "act-0".into();
                    a.outcome = ActionOutcome::Failure;
                }
                s.emit(who, 10_400, body);
            }
        },
    );
    passes(&story);
}
