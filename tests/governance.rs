//! The governance verdict: every demo scenario fails exactly the check it should, and every
//! compliant task passes every check, at both risk levels.

mod common;

use warrant_ledger::audit::{self, Status, Verdict};
use warrant_ledger::checkpoint::NoteSigner;
use warrant_ledger::demo::{Deployment, Scenario, run_task};

const ORIGIN: &str = "bank.example/agent-ledger";
const T0: u64 = 1_764_320_400_000;

#[test]
fn each_scenario_fails_exactly_its_check() {
    let dep = Deployment::new([9; 32]);
    let dir = tempfile::tempdir().expect("tempdir");
    // Fixed keys, the same as the bundle fuzz target's, so a bundle from here seeds it.
    let log_key =
        NoteSigner::new(ORIGIN, ed25519_dalek::SigningKey::from_bytes(&[7; 32])).expect("key");
    let (ledger, trust) = common::demo_ledger(&dep, dir.path(), log_key, T0);
    let mut runs = Vec::new();
    for (n, scenario) in Scenario::ALL.iter().enumerate() {
        for high_risk in [true, false] {
            if scenario.needs_high_risk() && !high_risk {
                continue; // Only high-risk tasks need approval and MFA.
            }
            let run = run_task(
                &dep,
                *scenario,
                n as u64,
                ts(T0 + 100_000 * n as u64),
                high_risk,
            )
            .expect("task");
            let refs: Vec<&[u8]> = run.events.iter().map(|e| e.bytes()).collect();
            ledger.append_batch(&refs).expect("append");
            runs.push((*scenario, high_risk, run.task));
        }
    }
    for (scenario, high_risk, task) in runs {
        let bundle = ledger.export_bundle(&task, None).expect("export");
        if std::env::var_os("UPDATE_VECTORS").is_some()
            && scenario == Scenario::Compliant
            && high_risk
        {
            let seed = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/fuzz/seeds/bundle_decode/compliant.bundle"
            );
            std::fs::write(seed, &bundle).expect("write fuzz seed");
        }
        let report = audit::verify(&bundle, &trust, &[]).expect("audit");
        let failed = report.failed();
        match scenario.expected_failure() {
            [] => {
                assert_eq!(
                    report.verdict,
                    Verdict::Pass,
                    "{scenario:?} high={high_risk}: {report:#?}"
                );
                assert!(
                    report
                        .checks
                        .iter()
                        .all(|c| c.status != Status::Warn || c.id == "A5"),
                    "{scenario:?}: {report:#?}"
                );
                assert_eq!(
                    report.check("B7").expect("B7").status,
                    if high_risk {
                        Status::Pass
                    } else {
                        Status::NotApplicable
                    }
                );
            }
            // This log signs its checkpoints now, long after the tasks' times (2025): by
            // then the future close's credential had expired, so only A5 shows the lie.
            // The demo logs its tasks as they run, and B10 shows it too.
            _ if scenario == Scenario::FutureClose => assert_eq!(failed, ["A5"]),
            ids => assert_eq!(failed, ids, "{scenario:?} high={high_risk}: {report:#?}"),
        }
        assert_eq!(report.checks.len(), 16, "A1–A5 and B1–B11");
    }
}

// One test (or more) per rule of issue 23, each the compliant story with one minimal
// dishonest change that must fail exactly the check named, and, where the rule has one, an
// honest variant that must pass.

mod story;

use story::*;
use warrant_ledger::demo::workloads::{AGENT, FRONT_DOOR, PDP, STS, VENDOR_AGENT};
use warrant_ledger::event::*;
use warrant_ledger::trust::{PartnerEntry, TierEntry, TrustDocument};

/// Asserts that `story`, audited under the deployment's policy as `edit` changes it, fails
/// exactly `checks` (none: it passes); returns the report.
fn expect_under(
    story: &Story,
    edit: impl FnOnce(&mut TrustDocument),
    checks: &[&str],
) -> audit::Report {
    let report = story.audit_with(edit);
    assert_eq!(report.failed(), checks, "{report:#?}");
    report
}

fn expect(story: &Story, checks: &[&str]) -> audit::Report {
    expect_under(story, |_| {}, checks)
}

/// The reason a failed check gives.
fn reason(report: &audit::Report, id: &str) -> String {
    report.check(id).expect("check").reason.clone()
}

fn nothing(_: &mut Body) {}

/// The compliant story with the steps named logged at other times (ms after `T0`).
fn retimed(times: &[(Step, u64)]) -> Story {
    let mut story = Story::new();
    story.times.extend(times.iter().copied());
    story.play(&nothing, &mut |_, _| {});
    story
}

// Rule 1: time across emitters.

#[test]
fn rule_1_an_action_before_the_human_confirmed_fails_b2() {
    let story = Story::tweaked(&|b| {
        if let Body::TaskOpened(o) = b {
            o.confirmed_at = ts(T0 + 10_001);
        }
    });
    let report = expect(&story, &["B2"]);
    assert!(reason(&report, "B2").contains("before the human confirmed"));
}

#[test]
fn rule_1_a_decision_made_after_the_action_started_fails_b3() {
    // The credential, issued at 5 000 ms under it, came before the decision too (B5).
    let report = expect(&retimed(&[(Step::Decided, 10_001)]), &["B3", "B5"]);
    assert!(reason(&report, "B3").contains("made after the action started"));
    // Made at the very instant the action started is in time (and the credential issued
    // under it then too).
    expect(
        &retimed(&[(Step::Decided, 10_000), (Step::Issued, 10_000)]),
        &[],
    );
}

#[test]
fn rule_1_an_approval_resolved_after_the_action_started_fails_b7() {
    let late = retimed(&[(Step::Resolved, 10_001)]);
    // The credential, issued at 5 000 ms, came before its approval too (B5).
    let report = expect(&late, &["B5", "B7"]);
    assert!(reason(&report, "B7").contains("resolved after the action started"));
}

#[test]
fn rule_1_a_credential_issued_after_the_action_started_fails_b5() {
    // Logged before the action and valid from 5 000 ms, but issued at 10 001 ms.
    let report = expect(&retimed(&[(Step::Issued, 10_001)]), &["B5"]);
    assert!(reason(&report, "B5").contains("issued after the action started"));
}

// Rule 2: event times are bounded by the log's signed time.

#[test]
fn rule_2_a_close_dated_ten_years_ahead_fails_a5() {
    let mut story = Story::new();
    story.times.insert(Step::Closed, 3_652 * 86_400_000);
    story.play(
        &|b| {
            // The credential is never revoked: the future close makes it look expired.
            if let Body::CredentialRevoked(r) = b {
                r.credential_id = "cred-unrelated".into();
            }
        },
        &mut |_, _| {},
    );
    let report = expect(&story, &["A5"]);
    assert!(reason(&report, "A5").contains("later than the log signed"));
}

#[test]
fn rule_2_the_skew_is_the_policys_and_exact() {
    // The ledger signs its checkpoint at T0 + 100 s; the close claims a later time.
    let at = |close: u64| {
        let mut story = Story::new();
        story.clock_ms = Some(T0 + 100_000);
        story.times.insert(Step::Closed, close);
        story.play(&nothing, &mut |_, _| {});
        story
    };
    // Signed times are seconds: the log signed within the second it names.
    expect(&at(100_999 + 300_000), &[]);
    expect(&at(101_000 + 300_000), &["A5"]);
    expect_under(
        &at(100_999 + 300_000),
        |doc| doc.governance.clock_skew_ms = Some(0),
        &["A5"],
    );
    expect_under(
        &at(100_999),
        |doc| doc.governance.clock_skew_ms = Some(0),
        &[],
    );
}

#[test]
fn rule_2_an_action_claiming_to_start_after_the_log_signed_it_fails_a5() {
    let mut story = Story::new();
    story.clock_ms = Some(T0 + 20_000);
    story.play(
        &|b| {
            if let Body::ActionExecuted(a) = b {
                (a.started_at, a.ended_at) = (ts(T0 + 900_000), ts(T0 + 900_001));
            }
        },
        &mut |_, _| {},
    );
    let report = story.audit();
    assert!(report.failed().contains(&"A5"), "{report:#?}");
    assert!(reason(&report, "A5").contains("started_at"));
}

// Rule 3: a retired key cannot sign new history by backdating.

/// The story with the gateway's key retired at T0 + 50 s in the auditor's policy, and a
/// checkpoint signed at T0 + 1 000 s after the first `split` events were logged.
fn retired_gateway_key(split: usize) -> audit::Report {
    logged_late(split).audit_with(retire_gateway_key)
}

#[test]
fn rule_3_an_event_logged_after_its_key_retired_fails_a2() {
    // The action (event 7 of 10) claims T0 + 10.4 s, when the key was valid, but entered the
    // log after a checkpoint signed at T0 + 1 000 s, long after the key retired.
    let report = retired_gateway_key(6);
    assert_eq!(report.failed(), ["A2"], "{report:#?}");
    assert!(reason(&report, "A2").contains("retired"));
    // Logged before that checkpoint: nothing shows it came late.
    let honest = retired_gateway_key(9);
    assert_eq!(honest.failed(), Vec::<&str>::new(), "{honest:#?}");
}

#[test]
fn rule_3_the_ledger_refuses_an_event_whose_key_retired_before_now() {
    use warrant_ledger::checkpoint::NoteSigner;
    use warrant_ledger::ledger::{AppendError, Ledger, TimeBounds};
    use warrant_ledger::trust::{TrustError, TrustPolicy};
    let story = Story::tweaked(&nothing);
    let dep = warrant_ledger::demo::Deployment::new([5; 32]);
    let log = NoteSigner::generate(ORIGIN).expect("key");
    let mut doc = dep.trust_document(ORIGIN, "blake3", &log.verifier().to_string());
    for e in &mut doc.emitters {
        e.keys[0].not_after = Some(T0 + 50_000);
    }
    let trust = TrustPolicy::try_from(doc).expect("trust");
    let dir = tempfile::tempdir().expect("tempdir");
    let now = std::sync::Arc::new(|| T0 + 1_000_000);
    let ledger = Ledger::create(
        dir.path(),
        ORIGIN,
        warrant_ledger::merkle::HashProfile::Blake3,
        log,
        trust,
    )
    .expect("ledger")
    .with_time_bounds(TimeBounds::history())
    .with_clock(now);
    let err = ledger.append(story.events[0].bytes()).expect_err("refused");
    assert!(matches!(
        err,
        AppendError::Rejected {
            source: TrustError::KeyRetiredBeforeLogged { .. },
            ..
        }
    ));
    assert_eq!(ledger.size(), 0);
    let ledger = ledger.with_clock(std::sync::Arc::new(|| T0 + 60_000));
    assert_eq!(
        ledger.append(story.events[0].bytes()),
        Ok(0),
        "within the skew"
    );
}

// Rule 4: credential expiry is exclusive.

#[test]
fn rule_4_an_action_starting_exactly_at_expiry_fails_b5() {
    let expiring = |at: u64| {
        Story::tweaked(&move |b| {
            if let Body::CredentialIssued(c) = b {
                c.credential.expires_at = ts(T0 + at);
            }
        })
    };
    expect(&expiring(10_000), &["B5"]);
    expect(&expiring(10_001), &[]);
}

// Rule 5: trust domains come from identities.

/// The story with the agent replaced by `agent` everywhere, its delegation changed by `hop`.
fn with_agent(agent: &'static str, hop: impl Fn(&mut DelegationGranted) + 'static) -> Story {
    Story::tweaked(&move |b| match b {
        Body::DelegationGranted(d) => {
            d.delegatee.id = WorkloadId::new(agent).expect("id");
            hop(d);
        }
        Body::PolicyDecision(d) => d.request.actor_chain = s(&[HUMAN, agent]),
        Body::CredentialIssued(c) => c.holder.id = WorkloadId::new(agent).expect("id"),
        Body::ActionExecuted(a) => a.actor_chain = s(&[HUMAN, agent]),
        _ => {}
    })
}

fn vendor(cross_domain: bool) -> Story {
    with_agent(VENDOR_AGENT, move |d| {
        d.delegatee.trust_domain = "agents.vendor.example".into();
        d.cross_domain = cross_domain;
    })
}

fn partner(scopes: &[&str]) -> impl FnOnce(&mut TrustDocument) {
    let scopes = s(scopes);
    move |doc| {
        doc.governance.partners.push(PartnerEntry {
            trust_domain: "agents.vendor.example".into(),
            scopes,
        });
    }
}

#[test]
fn rule_5_a_foreign_agent_is_cross_domain_whatever_its_flag_says() {
    let report = expect(&vendor(false), &["B2"]);
    assert!(reason(&report, "B2").contains("another trust domain"));
    // Declared honestly, it still needs a partner in the trust policy.
    let report = expect(&vendor(true), &["B2"]);
    assert!(reason(&report, "B2").contains("names no partner"));
}

#[test]
fn rule_5_a_partner_may_be_delegated_what_the_policy_names() {
    expect_under(&vendor(true), partner(&[ACTION, "payments:read"]), &[]);
    let report = expect_under(&vendor(true), partner(&["payments:read"]), &["B2"]);
    assert!(reason(&report, "B2").contains("more than the trust policy allows"));
}

#[test]
fn rule_5_a_declared_trust_domain_must_be_the_ids() {
    let story = with_agent(VENDOR_AGENT, |d| d.cross_domain = true);
    expect_under(&story, partner(&[ACTION, "payments:read"]), &["B2"]);
    // The deployment's own domains may be pinned explicitly: the agent's is then foreign.
    expect_under(
        &Story::tweaked(&nothing),
        |doc| doc.governance.trust_domains = Some(s(&["corp.example"])),
        &["B2"],
    );
}

// Rule 6: who may delegate for whom.

#[test]
fn rule_6_an_agent_cannot_grant_itself_a_humans_authority() {
    let mut story = Story::new();
    story.play(
        &|b| {
            // The front door delegates to someone else.
            if let Body::DelegationGranted(d) = b {
                d.delegatee.id = WorkloadId::new(ORCHESTRATOR).expect("id");
            }
        },
        &mut |step, s| {
            if step == Step::Delegated {
                // The agent (self-reported) signs "the human delegates to me".
                s.emit(AGENT, 1_600, delegation(human(), AGENT));
            }
        },
    );
    let report = expect(&story, &["B2"]);
    assert!(
        reason(&report, "B2").contains("self-reported"),
        "{report:#?}"
    );
}

#[test]
fn rule_6_a_workload_delegates_only_for_itself() {
    // Through an orchestrator, recorded by the front door: passes.
    expect(&two_hops(|_| {}), &[]);
    // The agent signs "the orchestrator delegates to me": it is not the orchestrator.
    let mut story = Story::new();
    story.play(
        &|b| match b {
            Body::ActionExecuted(a) => a.actor_chain = s(&[HUMAN, ORCHESTRATOR, AGENT]),
            Body::PolicyDecision(d) => d.request.actor_chain = s(&[HUMAN, ORCHESTRATOR, AGENT]),
            Body::DelegationGranted(d) => d.delegatee.instance = "pool-a/9".into(),
            _ => {}
        },
        &mut |step, s| {
            if step == Step::Opened {
                s.emit(FRONT_DOOR, 1_200, delegation(human(), ORCHESTRATOR));
            }
            if step == Step::Delegated {
                let from = Delegator::Workload {
                    id: WorkloadId::new(ORCHESTRATOR).expect("id"),
                };
                let mut body = delegation(from, AGENT);
                if let Body::DelegationGranted(d) = &mut body {
                    d.scope = vec![ACTION.to_owned()];
                }
                s.emit(AGENT, 1_600, body);
            }
        },
    );
    let report = expect(&story, &["B2"]);
    assert!(
        reason(&report, "B2").contains("which it is not"),
        "{report:#?}"
    );
}

#[test]
fn rule_6_a_workload_delegates_only_what_it_holds_even_unused() {
    // The agent sub-delegates the admin permission, which nobody gave it, to an orchestrator
    // that never acts.
    let mut story = Story::new();
    story.play(&nothing, &mut |step, s| {
        if step == Step::Delegated {
            let from = Delegator::Workload {
                id: WorkloadId::new(AGENT).expect("id"),
            };
            let mut body = delegation(from, ORCHESTRATOR);
            if let Body::DelegationGranted(d) = &mut body {
                d.scope = vec!["payments:admin".to_owned()];
            }
            s.emit(AGENT, 1_600, body);
        }
    });
    let report = expect(&story, &["B6"]);
    assert!(reason(&report, "B6").contains("did not hold"));
}

// Rule 7: every actor of the chain traces back, not only the last.

#[test]
fn rule_7_an_actor_with_no_delegation_in_the_chain_fails_b2() {
    // The human delegated straight to the agent; the chain names an orchestrator between
    // them that nobody delegated to.
    let story = Story::tweaked(&|b| match b {
        Body::ActionExecuted(a) => a.actor_chain = s(&[HUMAN, ORCHESTRATOR, AGENT]),
        Body::PolicyDecision(d) => d.request.actor_chain = s(&[HUMAN, ORCHESTRATOR, AGENT]),
        _ => {}
    });
    let report = expect(&story, &["B2"]);
    assert!(reason(&report, "B2").contains("without a signed delegation"));
}

// Rule 8: shared agent pools.

#[test]
fn rule_8_a_credential_of_one_instance_used_by_another_fails_b5() {
    let mut story = Story::new();
    story.play(
        &|b| {
            if let Body::ActionExecuted(a) = b {
                a.instance = "pool-a/2".into();
            }
        },
        &mut |step, s| {
            if step == Step::Delegated {
                let mut body = delegation(human(), AGENT);
                if let Body::DelegationGranted(d) = &mut body {
                    d.delegatee.instance = "pool-a/2".into();
                }
                s.emit(FRONT_DOOR, 1_600, body);
            }
        },
    );
    let report = expect(&story, &["B5"]);
    assert!(reason(&report, "B5").contains("instance pool-a/2 acted"));
}

#[test]
fn rule_8_an_instance_nobody_delegated_to_cannot_act() {
    let story = Story::tweaked(&|b| match b {
        Body::ActionExecuted(a) => a.instance = "pool-a/2".into(),
        Body::CredentialIssued(c) => c.holder.instance = "pool-a/2".into(),
        _ => {}
    });
    // No delegation names pool-a/2 (B2), nor did any before the credential was issued to it
    // (B5).
    expect(&story, &["B2", "B5"]);
}

fn signal(subject: &str, instance: Option<&str>, kind: SignalType) -> Body {
    Body::TrustSignal(TrustSignal {
        source: "https://idp.bank.example".into(),
        signal: kind,
        subject: subject.into(),
        instance: instance.map(Into::into),
        severity: Level::High,
    })
}

/// The story with `body` signalled by the front door right after the credential is issued.
fn signalled(body: Body) -> Story {
    let mut story = Story::new();
    story.play(&nothing, &mut |step, s| {
        if step == Step::Issued {
            s.emit(FRONT_DOOR, 6_000, body.clone());
        }
    });
    story
}

#[test]
fn rule_8_a_signal_about_one_instance_concerns_only_its_credentials() {
    let anomaly = |instance| signal(AGENT, instance, SignalType::Anomaly);
    // About the instance that holds the credential, which is then used: B9.
    expect(&signalled(anomaly(Some("pool-a/1"))), &["B9"]);
    // About another instance: the credential is not concerned.
    expect(&signalled(anomaly(Some("pool-a/2"))), &[]);
    // About every instance of the workload: concerned.
    expect(&signalled(anomaly(None)), &["B9"]);
}

#[test]
fn rule_8_a_compromised_workload_gets_no_new_credential() {
    // The compromise is reported before the credential is issued: nothing it held then,
    // but the credential issued afterwards is refused.
    let mut story = Story::new();
    story.play(&nothing, &mut |step, s| {
        if step == Step::Resolved {
            s.emit(
                FRONT_DOOR,
                4_500,
                signal(AGENT, Some("pool-a/1"), SignalType::WorkloadCompromised),
            );
        }
    });
    let report = expect(&story, &["B9"]);
    assert!(reason(&report, "B9").contains("reported compromised"));
    // Another instance compromised: the credential of pool-a/1 is fine.
    let mut story = Story::new();
    story.play(&nothing, &mut |step, s| {
        if step == Step::Resolved {
            s.emit(
                FRONT_DOOR,
                4_500,
                signal(AGENT, Some("pool-a/7"), SignalType::WorkloadCompromised),
            );
        }
    });
    expect(&story, &[]);
}

// Rule 9: the TTL cap and the scopes come from the decisions that granted them.

/// The story with a second allow decision for the transfer, logged before the first, whose
/// obligations `grant` sets; the credential is issued under it.
fn issued_under(grant: impl Fn(&mut PolicyDecision) + 'static, lifetime: u64) -> Story {
    let other = std::cell::Cell::new(None);
    let mut story = Story::new();
    story.play(
        &|b| {
            if let (Body::CredentialIssued(c), Some(o)) = (&mut *b, other.get()) {
                c.decision = o;
                c.credential.expires_at = c.credential.not_before.plus_ms(lifetime);
            }
        },
        &mut |step, s| {
            if step == Step::Delegated {
                let mut body = decision();
                if let Body::PolicyDecision(d) = &mut body {
                    d.decision_id = "dec-other".into();
                    grant(d);
                }
                other.set(Some(s.emit(PDP, 1_900, body)));
            }
        },
    );
    story
}

#[test]
fn rule_9_a_transfer_credential_under_a_read_only_decision_fails_b5() {
    let read_only = |d: &mut PolicyDecision| {
        d.request.action = "payments:read".into();
        d.obligations.granted_scope = s(&["payments:read"]);
        d.obligations.max_credential_ttl_ms = None;
    };
    let report = expect(&issued_under(read_only, 86_400_000), &["B5"]);
    assert!(reason(&report, "B5").contains("did not grant"));
}

#[test]
fn rule_9_the_covering_decisions_ttl_cap_applies_to_the_credential() {
    // Issued under an uncapped decision that grants the transfer, used under the covering
    // decision that caps credentials at 300 s.
    let uncapped = |d: &mut PolicyDecision| d.obligations.max_credential_ttl_ms = None;
    let report = expect(&issued_under(uncapped, 86_400_000), &["B5"]);
    // Judged at issuance first: longer than the tier's 900 s, so longer than 300 s too.
    assert!(reason(&report, "B5").contains("s allowed"), "{report:#?}");
    expect(&issued_under(uncapped, 300_000), &[]);
}

#[test]
fn rule_9_and_14_the_tier_caps_a_credential_when_no_decision_does() {
    let uncapped = |lifetime: u64| {
        Story::tweaked(&move |b| match b {
            Body::PolicyDecision(d) => d.obligations.max_credential_ttl_ms = None,
            Body::CredentialIssued(c) => c.credential.expires_at = ts(T0 + 5_000 + lifetime),
            _ => {}
        })
    };
    // A high-risk task: 15 minutes by default.
    expect(&uncapped(900_000), &[]);
    let report = expect(&uncapped(900_001), &["B5"]);
    assert!(reason(&report, "B5").contains("900 s allowed"));
    // A tier setting.
    expect_under(
        &uncapped(900_000),
        |doc| {
            doc.governance.tiers.high = Some(TierEntry {
                max_credential_ttl_ms: Some(600_000),
                ..TierEntry::default()
            });
            doc.governance.tiers.critical = doc.governance.tiers.high.clone();
        },
        &["B5"],
    );
}

// Rule 10: the audience is the service called.

#[test]
fn rule_10_a_credential_for_another_service_fails_b5() {
    let story = Story::tweaked(&|b| {
        if let Body::CredentialIssued(c) = b {
            c.credential.audience = "https://ledger.bank.example".into();
        }
    });
    let report = expect(&story, &["B5"]);
    assert!(reason(&report, "B5").contains("audience"));
}

// Rule 11: a decision's rules exist in the registered revision.

#[test]
fn rule_11_a_decision_citing_an_unknown_rule_fails_b4() {
    let story = Story::tweaked(&|b| {
        if let Body::PolicyDecision(d) = b {
            d.rule_ids.push("allow_everything".into());
        }
    });
    let report = expect(&story, &["B4"]);
    assert!(reason(&report, "B4").contains("allow_everything"));
}

// Rule 12: an override is a human's, and justified.

/// The story overridden by `principal` with `justification`, approved post hoc in time.
fn overridden_by(principal: &str, justification: &[u8]) -> Story {
    overridden(principal, justification, Some((APPROVER, 13_000)))
}

#[test]
fn rule_12_an_override_by_a_workload_or_unjustified_fails_b11() {
    expect(
        &overridden_by("supervisor@bank.example", b"suspicious payee"),
        &[],
    );
    let report = expect(&overridden_by(AGENT, b"suspicious payee"), &["B11"]);
    assert!(reason(&report, "B11").contains("not a human"));
    let report = expect(&overridden_by("supervisor@bank.example", b""), &["B11"]);
    assert!(reason(&report, "B11").contains("justification is empty"));
}

// Rule 13: who is a human is the trust policy's to say.

fn approved_by(approver: &'static str, issuer: &'static str) -> Story {
    Story::tweaked(&move |b| {
        if let Body::ApprovalResolved(r) = b {
            r.approver.id = approver.into();
            r.approver.issuer = issuer.into();
        }
    })
}

#[test]
fn rule_13_a_service_account_named_like_a_person_cannot_approve() {
    let idp = warrant_ledger::demo::workloads::IDP;
    expect(&approved_by("approver@bank.example", idp), &[]);
    let report = expect(&approved_by("payments-bot@bank.example", idp), &["B7"]);
    assert!(reason(&report, "B7").contains("not a human"));
    // A person's id, vouched for by an identity provider the policy does not name.
    expect(
        &approved_by("approver@bank.example", "https://idp.evil.example"),
        &["B7"],
    );
}

#[test]
fn rule_13_without_human_rules_nobody_is_a_human() {
    let report = expect_under(
        &Story::tweaked(&nothing),
        |doc| doc.governance.humans = None,
        &["B1", "B7"],
    );
    assert!(reason(&report, "B1").contains("names no human identities"));
    // The intent's principal is judged too.
    let story = Story::tweaked(&|b| {
        if let Body::TaskOpened(o) = b {
            o.principal.issuer = "https://idp.evil.example".into();
        }
    });
    expect(&story, &["B1"]);
}

// Rule 14: controls sized to the risk tier.

fn tier(level: Level) -> Story {
    Story::tweaked(&move |b| {
        if let Body::TaskOpened(o) = b {
            o.risk_tier = level;
            o.principal.mfa = false;
        }
    })
}

#[test]
fn rule_14_critical_is_never_judged_more_leniently_than_high() {
    // Without MFA, both fail B1 (before, a critical task passed with no warning).
    let high = expect(&tier(Level::High), &["B1"]);
    let critical = expect(&tier(Level::Critical), &["B1"]);
    assert!(reason(&critical, "B1").contains("critical risk"));
    assert!(reason(&high, "B1").contains("high risk"));
    // And a policy that tries to relax critical below high is refused.
    let (_, mut doc) = Story::tweaked(&nothing).export();
    doc.governance.tiers.critical = Some(TierEntry {
        mfa: Some(false),
        ..TierEntry::default()
    });
    assert!(warrant_ledger::trust::TrustPolicy::try_from(doc).is_err());
}

#[test]
fn rule_14_the_tier_requires_approval_whatever_the_decision_says() {
    let no_obligation = |risk: Level| {
        Story::tweaked(&move |b| match b {
            Body::TaskOpened(o) => o.risk_tier = risk,
            Body::PolicyDecision(d) => d.obligations.approval = None,
            Body::ActionExecuted(a) => a.approval = None,
            _ => {}
        })
    };
    let report = expect(&no_obligation(Level::High), &["B7"]);
    assert!(reason(&report, "B7").contains("cites no approval"));
    expect(&no_obligation(Level::Medium), &[]);
}

#[test]
fn rule_14_tier_quorum_and_authentication_age_are_settings() {
    let quorum_two = |doc: &mut TrustDocument| {
        let t = Some(TierEntry {
            approval_quorum: Some(2),
            ..TierEntry::default()
        });
        (doc.governance.tiers.high, doc.governance.tiers.critical) = (t.clone(), t);
    };
    expect_under(&Story::tweaked(&nothing), quorum_two, &["B7"]);
    // Confirmed 1 s after authenticating: within a 60 s limit, not within 0.5 s.
    let age = |max: u64| {
        move |doc: &mut TrustDocument| {
            let t = Some(TierEntry {
                max_auth_age_ms: Some(max),
                ..TierEntry::default()
            });
            (doc.governance.tiers.high, doc.governance.tiers.critical) = (t.clone(), t);
        }
    };
    expect_under(&Story::tweaked(&nothing), age(60_000), &[]);
    expect_under(&Story::tweaked(&nothing), age(500), &["B1"]);
}

// Rule 15: just in time means after the approval.

#[test]
fn rule_15_a_credential_issued_before_the_approval_fails_b7() {
    // Issued (logged and dated) between the request and the resolution.
    let mut story = Story::new();
    story.times.insert(Step::Issued, 3_500);
    story.play(
        &|b| {
            if let Body::CredentialIssued(c) = b {
                c.approval = None;
                c.credential.not_before = ts(T0 + 3_500);
            }
        },
        &mut |_, _| {},
    );
    // The story logs the credential after the resolution; move it before.
    let issued = story.events.remove(5);
    story.events.insert(4, issued);
    let report = story.audit();
    assert!(report.failed().contains(&"B7"), "{report:#?}");
    assert!(reason(&report, "B7").contains("issued before the approval"));
}

// The false positive removed: a revocation the close triggered, effective a moment after it.

#[test]
fn a_revocation_triggered_by_the_close_passes_within_the_grace() {
    let mut story = Story::new();
    story.play(
        &|b| {
            if let Body::CredentialRevoked(r) = b {
                r.credential_id = "cred-unrelated".into();
            }
        },
        &mut |step, s| {
            if step == Step::Closed {
                let mut late = revocation(30_400);
                if let Body::CredentialRevoked(r) = &mut late {
                    r.reason = RevocationReason::TaskClosed;
                }
                s.emit(STS, 30_400, late);
            }
        },
    );
    expect(&story, &[]);
}
