//! Governance scenarios beyond the demo's: each departs from the compliant story in one way
//! and must fail exactly the checks named (or pass, where the departure is legitimate).

mod common;
mod story;

use story::*;
use warrant_ledger::audit::{Status, Verdict};
use warrant_ledger::demo::workloads::*;
use warrant_ledger::event::*;

/// Asserts that `story` fails exactly `checks` (none: the verdict passes).
fn expect(story: &Story, checks: &[&str]) {
    let report = story.audit();
    assert_eq!(report.failed(), checks, "{report:#?}");
    let pass = if checks.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    assert_eq!(report.verdict, pass);
}

fn nothing(_: &mut Body) {}

#[test]
fn the_compliant_story_passes() {
    expect(&Story::tweaked(&nothing), &[]);
}

#[test]
fn a_low_risk_story_needs_no_approval() {
    let mut story = Story::new();
    story.play(
        &|b| match b {
            Body::TaskOpened(o) => o.risk_tier = Level::Low,
            Body::PolicyDecision(d) => d.obligations.approval = None,
            Body::ActionExecuted(a) => a.approval = None,
            Body::CredentialIssued(c) => c.approval = None,
            _ => {}
        },
        &mut |_, _| {},
    );
    expect(&story, &[]);
    assert_eq!(
        story.audit().check("B7").expect("B7").status,
        warrant_ledger::audit::Status::NotApplicable,
        "an approval logged though not required is not judged"
    );
}

// B1: the intent.

#[test]
fn an_agent_spawned_task_is_not_a_human_intent() {
    let story = Story::tweaked(&|b| {
        if let Body::TaskOpened(o) = b {
            o.initiation = TaskInitiation::AgentSpawned;
        }
    });
    expect(&story, &["B1"]);
}

#[test]
fn an_unauthenticated_intent_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::TaskOpened(o) = b {
            o.principal.auth_methods.clear();
        }
    });
    expect(&story, &["B1"]);
}

#[test]
fn a_high_risk_intent_without_mfa_fails_and_a_low_risk_one_passes() {
    let story = Story::tweaked(&|b| {
        if let Body::TaskOpened(o) = b {
            o.principal.mfa = false;
        }
    });
    expect(&story, &["B1"]);
    let low = Story::tweaked(&|b| match b {
        Body::TaskOpened(o) => {
            o.principal.mfa = false;
            o.risk_tier = Level::Low;
        }
        Body::PolicyDecision(d) => d.obligations.approval = None,
        _ => {}
    });
    expect(&low, &[]);
}

#[test]
fn a_task_opened_twice_fails() {
    let mut story = Story::new();
    story.play(&nothing, &mut |step, s| {
        if step == Step::Delegated {
            s.emit(FRONT_DOOR, 1_600, opened());
        }
    });
    expect(&story, &["B1"]);
}

// B2: actors trace back to the human.

#[test]
fn a_delegation_through_an_orchestrator_passes() {
    expect(&two_hops(|_| {}), &[]);
}

#[test]
fn an_expired_link_in_a_delegation_path_fails() {
    expect(&two_hops(|d| d.expires_at = ts(T0 + 5_000)), &["B2"]);
}

#[test]
fn a_sub_delegation_wider_than_its_parent_fails_scope() {
    expect(&two_hops(|d| d.scope = s(&["payments:read"])), &["B6"]);
}

#[test]
fn a_delegation_loop_without_the_human_fails() {
    // The orchestrator's delegation comes from the agent, whose delegation comes from the
    // orchestrator: a cycle that never reaches the human (B2). The agent delegated before
    // anyone delegated to it, so it gave what it did not hold (B6).
    let story = two_hops(|d| {
        d.delegator = Delegator::Workload {
            id: WorkloadId::new(AGENT).expect("id"),
        };
    });
    expect(&story, &["B2", "B6"]);
}

#[test]
fn a_delegation_graph_too_large_to_search_fails() {
    // 4 097 expired delegations from the human to the agent, logged before the valid one:
    // the search gives up (and says so) rather than cost time quadratic in the bundle.
    let mut story = Story::new();
    story.play(&nothing, &mut |step, s| {
        if step == Step::Opened {
            for _ in 0..4_097 {
                let mut body = delegation(human(), AGENT);
                if let Body::DelegationGranted(d) = &mut body {
                    d.expires_at = ts(T0 + 1_100);
                }
                s.emit(FRONT_DOOR, 1_100, body);
            }
        }
    });
    let report = story.audit();
    assert_eq!(report.failed(), ["B2"], "{report:#?}");
    let b2 = report.check("B2").expect("B2");
    assert!(b2.reason.contains("more than 4096 delegations"), "{b2:?}");
}

/// The story with `extra` more allow decisions for its action logged before its own.
fn with_extra_decisions(extra: usize) -> Story {
    let mut story = Story::new();
    story.play(&nothing, &mut |step, s| {
        if step == Step::Delegated {
            for _ in 0..extra {
                s.emit(PDP, 1_800, decision());
            }
        }
    });
    story
}

#[test]
fn more_decisions_for_one_action_than_the_judge_weighs_fails() {
    // Every decision for the action's name binds it, so the judge weighs them all for every
    // action; past 4 096 it gives up (and says so) rather than cost time quadratic in the
    // bundle. At 4 096 it weighs them.
    let report = with_extra_decisions(4_096).audit();
    assert_eq!(report.failed(), ["B3"], "{report:#?}");
    let b3 = report.check("B3").expect("B3");
    assert!(b3.reason.contains("more than 4096 decisions"), "{b3:?}");
    expect(&with_extra_decisions(4_095), &[]);
}

#[test]
fn a_later_valid_delegation_replaces_an_expired_one() {
    let mut story = Story::new();
    story.play(
        &|b| {
            if let Body::DelegationGranted(d) = b {
                d.expires_at = ts(T0 + 1_800);
            }
        },
        &mut |step, s| {
            if step == Step::Delegated {
                s.emit(FRONT_DOOR, 1_900, delegation(human(), AGENT));
            }
        },
    );
    expect(&story, &[]);
}

#[test]
fn an_impersonation_grant_fails_even_unused() {
    let mut story = Story::new();
    story.play(&nothing, &mut |step, s| {
        if step == Step::Delegated {
            let mut body = delegation(human(), ORCHESTRATOR);
            if let Body::DelegationGranted(d) = &mut body {
                d.mode = DelegationMode::Impersonation;
            }
            s.emit(FRONT_DOOR, 1_600, body);
        }
    });
    expect(&story, &["B2"]);
}

#[test]
fn a_delegation_from_another_human_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::DelegationGranted(d) = b {
            d.delegator = Delegator::Human {
                id: "mallory@bank.example".into(),
            };
        }
    });
    expect(&story, &["B2"]);
}

#[test]
fn a_cross_domain_delegation_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::DelegationGranted(d) = b {
            d.cross_domain = true;
        }
    });
    expect(&story, &["B2"]);
}

#[test]
fn acting_after_the_intent_expired_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::TaskOpened(o) = b {
            o.expires_at = ts(T0 + 9_000);
        }
    });
    expect(&story, &["B2"]);
}

#[test]
fn an_actor_chain_not_starting_with_the_human_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::ActionExecuted(a) = b {
            a.actor_chain = s(&["mallory@bank.example", AGENT]);
        }
    });
    // The decision was asked for another chain (B3).
    expect(&story, &["B2", "B3"]);
}

// B3 and B8: decisions.

#[test]
fn an_action_citing_no_decision_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::ActionExecuted(a) = b {
            a.decisions.clear();
        }
    });
    expect(&story, &["B3"]);
}

#[test]
fn an_action_after_its_decision_lapsed_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::PolicyDecision(d) = b {
            d.valid_until = ts(T0 + 9_000);
        }
    });
    expect(&story, &["B3"]);
}

#[test]
fn an_action_under_a_decision_for_another_human_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::PolicyDecision(d) = b {
            d.request.principal = "mallory@bank.example".into();
        }
    });
    expect(&story, &["B3"]);
}

#[test]
fn an_action_under_a_decision_about_another_agent_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::PolicyDecision(d) = b {
            d.request.actor_chain = s(&[HUMAN, ORCHESTRATOR]);
        }
    });
    // The credential was issued to the agent under a decision asked for the orchestrator
    // (B5).
    expect(&story, &["B3", "B5"]);
}

#[test]
fn an_action_under_a_decision_with_another_policy_digest_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::PolicyDecision(d) = b {
            d.policy.digest = Digest::of(b"another policy text");
        }
    });
    expect(&story, &["B4"]);
}

#[test]
fn an_action_on_other_resources_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::PolicyDecision(d) = b {
            d.request.resources = s(&["account:DE89-0002"]);
        }
    });
    expect(&story, &["B3"]);
}

#[test]
fn an_action_after_a_later_deny_fails() {
    let mut story = Story::new();
    story.play(&nothing, &mut |step, s| {
        if step == Step::Issued {
            let mut body = decision();
            if let Body::PolicyDecision(d) = &mut body {
                d.effect = Effect::Deny;
                d.obligations.approval = None;
            }
            s.emit(PDP, 6_000, body);
        }
    });
    expect(&story, &["B8"]);
}

#[test]
fn a_deny_re_evaluated_to_allow_does_not_taint_the_action() {
    let mut story = Story::new();
    story.play(&nothing, &mut |step, s| {
        if step == Step::Delegated {
            let mut body = decision();
            if let Body::PolicyDecision(d) = &mut body {
                d.effect = Effect::Deny;
                d.obligations.approval = None;
            }
            s.emit(PDP, 1_800, body);
        }
    });
    let report = story.audit();
    assert_eq!(report.failed(), Vec::<&str>::new(), "{report:#?}");
    assert_eq!(
        report.check("B8").expect("B8").status,
        warrant_ledger::audit::Status::Pass
    );
}

#[test]
fn an_action_citing_only_a_deny_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::PolicyDecision(d) = b {
            d.effect = Effect::Deny;
        }
    });
    // Not covered (B3), run after a deny (B8), and its credential was issued under no allow
    // decision (B5).
    expect(&story, &["B3", "B5", "B8"]);
}

// B5: the credential.

#[test]
fn a_credential_living_longer_than_allowed_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::CredentialIssued(c) = b {
            c.credential.expires_at = ts(T0 + 905_000);
        }
    });
    expect(&story, &["B5"]);
}

#[test]
fn a_credential_issued_to_another_workload_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::CredentialIssued(c) = b {
            c.holder.id = WorkloadId::new(ORCHESTRATOR).expect("id");
        }
    });
    expect(&story, &["B5"]);
}

#[test]
fn a_credential_issued_to_an_instance_never_delegated_to_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::CredentialIssued(c) = b {
            c.holder.instance = "pool-b/9".into();
        }
    });
    expect(&story, &["B5"]);
}

#[test]
fn a_credential_not_yet_valid_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::CredentialIssued(c) = b {
            c.credential.not_before = ts(T0 + 11_000);
        }
    });
    expect(&story, &["B5"]);
}

#[test]
fn a_credential_of_another_task_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::ActionExecuted(a) = b {
            a.credential_id = "cred-of-another-task".into();
        }
    });
    expect(&story, &["B5"]);
}

#[test]
fn a_revocation_logged_late_but_effective_before_the_action_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::CredentialRevoked(r) = b {
            r.effective_at = ts(T0 + 8_000);
        }
    });
    expect(&story, &["B5"]);
}

// B6: scope only narrows.

#[test]
fn a_credential_wider_than_the_grant_fails() {
    // Wider than the decision it was issued under (B5) and than the covering one (B6): here
    // the same decision.
    let story = Story::tweaked(&|b| {
        if let Body::CredentialIssued(c) = b {
            c.credential.scopes = s(&[ACTION, "payments:read"]);
        }
    });
    expect(&story, &["B5", "B6"]);
}

#[test]
fn a_grant_wider_than_the_delegation_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::DelegationGranted(d) = b {
            d.scope = s(&["payments:read"]);
        }
    });
    expect(&story, &["B6"]);
}

#[test]
fn a_delegation_wider_than_the_ceiling_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::TaskOpened(o) = b {
            o.scope_ceiling = s(&["payments:read"]);
        }
    });
    expect(&story, &["B6"]);
}

#[test]
fn an_action_outside_the_confirmed_scope_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::ActionExecuted(a) = b {
            a.within_confirmed_scope = false;
        }
    });
    expect(&story, &["B6"]);
}

// B7: approval.

/// The story with a decision asking for a quorum of `quorum`, and `extra` more granted
/// resolutions of the request, by the approvers named.
fn quorum(quorum: u32, extra: &[&'static str]) -> Story {
    let mut story = Story::new();
    story.play(
        &|b| {
            if let Body::PolicyDecision(d) = b
                && let Some(a) = &mut d.obligations.approval
            {
                a.quorum = quorum;
            }
        },
        &mut |step, s| {
            if step == Step::Resolved {
                for (k, approver) in extra.iter().enumerate() {
                    let body = s.resolution(approver);
                    s.emit(APPROVALS, 4_100 + k as u64, body);
                }
            }
        },
    );
    story
}

#[test]
fn a_quorum_of_two_needs_two_approvers() {
    expect(&quorum(2, &[]), &["B7"]);
    expect(&quorum(2, &[APPROVER]), &["B7"]);
    expect(&quorum(2, &["second-approver@bank.example"]), &[]);
}

#[test]
fn a_denied_approval_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::ApprovalResolved(r) = b {
            r.outcome = ApprovalOutcome::Denied;
        }
    });
    // The action had no granted approval (B7), ran after a refusal of it (B8), and its
    // credential was issued without one (B5).
    expect(&story, &["B5", "B7", "B8"]);
}

#[test]
fn an_approver_without_the_role_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::ApprovalResolved(r) = b {
            r.approver.roles = s(&["payments-viewer"]);
        }
    });
    expect(&story, &["B7"]);
}

#[test]
fn the_requester_approving_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::ApprovalResolved(r) = b {
            r.approver.id = HUMAN.into();
        }
    });
    expect(&story, &["B7"]);
}

#[test]
fn an_approval_after_its_request_expired_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::ApprovalRequested(q) = b {
            q.expires_at = ts(T0 + 3_500);
        }
    });
    expect(&story, &["B7"]);
}

#[test]
fn an_approval_of_other_resources_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::ApprovalRequested(q) = b {
            q.action_digest = action_digest(ACTION, &s(&["account:DE89-0002"]));
        }
    });
    expect(&story, &["B7"]);
}

/// The request for approval cites the second decision instead of the first.
fn request_cites(b: &mut Body, other: EventRef) {
    if let Body::ApprovalRequested(q) = b {
        q.decision = other;
    }
}

#[test]
fn an_approval_requested_for_another_decision_fails() {
    // A second allow decision, for another account; the approval request cites it, while
    // the action (and its credential) cite the first.
    let mut other_account = decision();
    if let Body::PolicyDecision(d) = &mut other_account {
        d.request.resources = s(&["account:DE89-0002"]);
    }
    let story = with_second_decision(Step::Decided, 2_500, other_account, request_cites);
    // Nor was the credential issued after an approval of its own decision (B5).
    expect(&story, &["B5", "B7"]);
}

#[test]
fn an_approval_of_an_identical_decision_the_action_does_not_cite_counts() {
    // Every allow decision for the same human, chain, action and resource binds the
    // action, cited or not: an approval of any of them approves the exact action.
    let story = with_second_decision(Step::Decided, 2_500, decision(), request_cites);
    expect(&story, &[]);
}

#[test]
fn an_approval_for_a_second_covering_decision_passes() {
    // The action cites two allow decisions; the approval was asked for the second.
    let story = with_second_decision(Step::Decided, 2_500, decision(), |b, o| {
        request_cites(b, o);
        if let Body::ActionExecuted(a) = b {
            a.decisions.push(o);
        }
    });
    expect(&story, &[]);
}

/// The compliant story with a second, successful execution of the same action under the
/// same approval and credential, logged right after the first, whose outcome is `first`.
fn acted_twice(first: ActionOutcome) -> Story {
    let mut story = Story::new();
    story.play(
        &|b| {
            if let Body::ActionExecuted(a) = b {
                a.outcome = first;
            }
        },
        &mut |step, s| {
            if step == Step::Acted {
                let (who, at, mut body) = s.default_body(Step::Acted);
                if let Body::ActionExecuted(a) = &mut body {
                    a.action_id = "act-2".into();
                    (a.started_at, a.ended_at) = (ts(T0 + 10_500), ts(T0 + 10_900));
                }
                s.emit(who, at + 500, body);
            }
        },
    );
    story
}

#[test]
fn one_approval_for_two_successful_executions_is_what_the_tier_says() {
    use warrant_ledger::trust::{ApprovalReuse, TierEntry};
    let story = acted_twice(ActionOutcome::Success);
    // A high-risk task's default: a failure.
    let b7 = story.audit().check("B7").expect("B7").clone();
    assert_eq!(b7.status, Status::Fail, "{b7:?}");
    assert!(b7.reason.contains("already spent"), "{b7:?}");
    assert_eq!(b7.events.len(), 2, "both executions are named");
    // Tiers below `high` must be at least as lenient (the policy refuses anything else).
    let with = |reuse| {
        story.audit_with(|doc| {
            let tier = Some(TierEntry {
                approval_reuse: Some(reuse),
                ..TierEntry::default()
            });
            let tiers = &mut doc.governance.tiers;
            (tiers.low, tiers.medium, tiers.high) = (tier.clone(), tier.clone(), tier);
        })
    };
    let warned = with(ApprovalReuse::Warn);
    assert_eq!(warned.verdict, Verdict::Pass);
    assert_eq!(warned.check("B7").expect("B7").status, Status::Warn);
    assert_eq!(
        with(ApprovalReuse::Allow).check("B7").expect("B7").status,
        Status::Pass
    );
}

#[test]
fn a_retry_after_a_failed_attempt_reuses_the_approval_without_a_warning() {
    let story = acted_twice(ActionOutcome::Failure);
    expect(&story, &[]);
    assert_eq!(story.audit().check("B7").expect("B7").status, Status::Pass);
}

// B9: trust signals.

fn signal(subject: &str) -> Body {
    Body::TrustSignal(TrustSignal {
        source: "https://idp.bank.example".into(),
        signal: SignalType::SessionRevoked,
        subject: subject.into(),
        instance: None,
        severity: Level::High,
    })
}

#[test]
fn a_credential_used_after_a_trust_signal_fails() {
    let mut story = Story::new();
    story.play(&nothing, &mut |step, s| {
        if step == Step::Issued {
            s.emit(FRONT_DOOR, 6_000, signal(HUMAN));
        }
    });
    expect(&story, &["B9"]);
}

#[test]
fn a_trust_signal_after_the_action_with_revocation_passes() {
    let mut story = Story::new();
    story.play(&nothing, &mut |step, s| {
        if step == Step::Acted {
            s.emit(FRONT_DOOR, 12_000, signal(CRED));
        }
    });
    expect(&story, &[]);
}

#[test]
fn a_credential_never_revoked_after_a_trust_signal_fails() {
    // The credential expires before the close (B10 holds) but outlives the signal unrevoked.
    let mut story = Story::new();
    story.play(
        &|b| {
            if let Body::CredentialRevoked(r) = b {
                r.credential_id = "cred-unrelated".into();
            }
            if let Body::CredentialIssued(c) = b {
                c.credential.expires_at = ts(T0 + 25_000);
            }
        },
        &mut |step, s| {
            if step == Step::Acted {
                s.emit(FRONT_DOOR, 12_000, signal(AGENT));
            }
        },
    );
    expect(&story, &["B9"]);
}

// A5: times are sane.

#[test]
fn an_action_ending_before_it_starts_fails() {
    let story = Story::tweaked(&|b| {
        if let Body::ActionExecuted(a) = b {
            a.ended_at = a.started_at.minus_ms(1);
        }
    });
    expect(&story, &["A5"]);
}

// B10 and B11.

/// The compliant story with `late` logged after the close.
fn after_close(late: Step, who: &'static str, tweak: impl Fn(&mut Body)) -> Story {
    let mut story = Story::new();
    story.play(
        &|b| {
            if matches!(b, Body::CredentialRevoked(_)) && late == Step::Revoked {
                // Only the late revocation below revokes the credential.
                *b = revocation(1);
                if let Body::CredentialRevoked(r) = b {
                    r.credential_id = "cred-unrelated".into();
                }
            }
        },
        &mut |step, s| {
            if step == Step::Closed {
                let (_, _, mut body) = s.default_body(late);
                tweak(&mut body);
                s.emit(who, 31_000, body);
            }
        },
    );
    story
}

#[test]
fn acting_after_the_close_fails() {
    let story = after_close(Step::Acted, GATEWAY, |b| {
        if let Body::ActionExecuted(a) = b {
            (a.started_at, a.ended_at) = (ts(T0 + 30_500), ts(T0 + 30_900));
        }
    });
    // The credential was revoked before the late action too (B5), and the late action is a
    // second execution under the one approval, which a high-risk task does not allow (B7).
    expect(&story, &["B5", "B7", "B10"]);
}

#[test]
fn a_revocation_the_close_triggered_may_follow_it() {
    let story = after_close(Step::Revoked, STS, |b| {
        if let Body::CredentialRevoked(r) = b {
            r.effective_at = ts(T0 + 30_000);
        }
    });
    expect(&story, &[]);
}

#[test]
fn a_revocation_effective_after_the_close_counts_only_within_the_grace() {
    // The close is at 30 000 ms; the default grace is 5 s.
    let within = |at| {
        after_close(Step::Revoked, STS, move |b| {
            if let Body::CredentialRevoked(r) = b {
                r.effective_at = ts(T0 + at);
            }
        })
    };
    expect(&within(31_000), &[]);
    expect(&within(35_000), &[]);
    expect(&within(35_001), &["B10"]);
    // The grace is a policy setting.
    let report = within(31_000).audit_with(|doc| doc.governance.revocation_grace_ms = Some(0));
    assert_eq!(report.failed(), ["B10"], "{report:#?}");
}

#[test]
fn a_task_never_closed_fails() {
    let mut story = Story::new();
    story.play(&nothing, &mut |_, _| {});
    story.events.pop();
    expect(&story, &["B10"]);
}

const SUPERVISOR: &str = "supervisor@bank.example";

/// The story with a supervisor stopping the agent after its action; with `approver`, a
/// post-hoc approval resolved at `at` ms after `T0` (the override is due a day later).
fn overridden_by_supervisor(approver: Option<&'static str>, at: u64) -> Story {
    overridden(SUPERVISOR, b"suspicious payee", approver.map(|a| (a, at)))
}

#[test]
fn an_override_needs_a_post_hoc_approval() {
    expect(&overridden_by_supervisor(None, 0), &["B11"]);
    expect(&overridden_by_supervisor(Some(APPROVER), 13_000), &[]);
}

#[test]
fn an_override_approved_by_its_own_author_or_late_fails() {
    expect(
        &overridden_by_supervisor(Some(SUPERVISOR), 13_000),
        &["B11"],
    );
    expect(
        &overridden_by_supervisor(Some(APPROVER), 86_400_001),
        &["B11"],
    );
}

#[test]
fn a_revocation_logged_before_the_close_counts_whatever_its_clock_says() {
    // The token service's clock runs ahead of the front door's: its revocation, logged
    // before the close, says it took effect after the close's time.
    let story = Story::tweaked(&|b| {
        if let Body::CredentialRevoked(r) = b {
            r.effective_at = ts(T0 + 31_000);
        }
    });
    expect(&story, &[]);
}

// Adversarial times: every time field of every body set from extremes and near values must
// give a full report, never a panic (debug builds would also catch an overflow).

/// Sets every time field of `b` from `pick` (called once per field, in a fixed order).
fn retime(b: &mut Body, pick: &mut dyn FnMut() -> Timestamp) {
    match b {
        Body::TaskOpened(o) => {
            (o.principal.auth_time, o.confirmed_at, o.expires_at) = (pick(), pick(), pick());
        }
        Body::DelegationGranted(d) => d.expires_at = pick(),
        Body::PolicyDecision(d) => d.valid_until = pick(),
        Body::ApprovalRequested(q) => q.expires_at = pick(),
        Body::ApprovalResolved(r) => r.valid_until = pick(),
        Body::CredentialIssued(c) => {
            (c.credential.not_before, c.credential.expires_at) = (pick(), pick());
        }
        Body::ActionExecuted(a) => (a.started_at, a.ended_at) = (pick(), pick()),
        Body::CredentialRevoked(r) => r.effective_at = pick(),
        _ => {}
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    #[test]
    fn any_times_give_a_report(times in proptest::collection::vec(
        proptest::prop_oneof![
            proptest::prelude::Just(0u64),
            proptest::prelude::Just(u64::MAX),
            proptest::prelude::Just(T0),
            0u64..T0 + 1_000_000,
        ],
        16,
    )) {
        let next = std::cell::Cell::new(0usize);
        let story = Story::tweaked(&|b| {
            retime(b, &mut || {
                let k = next.get();
                next.set(k + 1);
                ts(times[k % times.len()])
            });
        });
        let report = story.audit();
        proptest::prop_assert_eq!(report.checks.len(), 16);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]

    /// Any subset of the story's events (with an extra approval, trust signal and override,
    /// so every check has links to lose) gives a full report, and a report that passes only
    /// when nothing was dropped.
    #[test]
    fn any_subset_of_a_task_gives_a_report(keep in proptest::collection::vec(
        proptest::bool::weighted(0.8),
        16,
    )) {
        let mut story = Story::new();
        story.play(&nothing, &mut |step, s| match step {
            Step::Resolved => {
                let body = s.resolution("second-approver@bank.example");
                s.emit(APPROVALS, 4_100, body);
            }
            Step::Acted => {
                s.emit(FRONT_DOOR, 12_000, signal(CRED));
            }
            _ => {}
        });
        let all = story.events.len();
        let mut k = 0;
        story.events.retain(|_| {
            k += 1;
            keep[(k - 1) % keep.len()]
        });
        proptest::prop_assume!(!story.events.is_empty());
        let report = story.audit();
        proptest::prop_assert_eq!(report.checks.len(), 16);
        if story.events.len() < all {
            proptest::prop_assert_eq!(report.verdict, Verdict::Fail);
        }
    }
}

#[test]
fn the_story_tells_each_step_with_the_checks_that_judge_it() {
    let story = quorum(2, &[]);
    let (bundle, doc) = story.export();
    let trust = warrant_ledger::trust::TrustPolicy::try_from(doc).expect("trust");
    let (report, lines) =
        warrant_ledger::audit::verify_with_story(&bundle, &trust, &[]).expect("audit");
    assert_eq!(report.failed(), ["B7"]);
    let steps: Vec<&str> = lines.iter().map(|l| l.step).collect();
    assert_eq!(
        steps,
        [
            "policy",
            "human",
            "agent",
            "decision",
            "approval",
            "approval",
            "credential",
            "action",
            "revocation",
            "close"
        ]
    );
    let fail = warrant_ledger::audit::Status::Fail;
    let action = lines.iter().find(|l| l.step == "action").expect("action");
    assert!(
        action.checks.contains(&("B7".to_owned(), fail)),
        "{action:?}"
    );
    let human = lines.iter().find(|l| l.step == "human").expect("human");
    assert_eq!(
        human.checks,
        [("B1".to_owned(), warrant_ledger::audit::Status::Pass)]
    );
    assert!(lines.windows(2).all(|w| w[0].index < w[1].index));
}
