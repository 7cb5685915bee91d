//! A governed task told step by step, for scenario tests of the auditor: the compliant
//! high-risk story of the demo deployment, with a hook that may alter any body before it is
//! signed and a hook that may log more events after any step. Every story is appended to a
//! fresh ledger, exported and audited, so a scenario exercises exactly what an auditor sees.
// Shared by several test crates, each using part of it.
#![allow(dead_code)]

use std::collections::HashMap;

use warrant_ledger::audit::{self, Report};
use warrant_ledger::checkpoint::NoteSigner;
use warrant_ledger::demo::workloads::*;
use warrant_ledger::demo::{Deployment, registered_policy};
use warrant_ledger::envelope::{EmitterChain, VerifiedEvent};
use warrant_ledger::event::*;
use warrant_ledger::gate::{ActionRequest, Admission, GateError};
use warrant_ledger::ledger::{Ledger, LedgerError};
use warrant_ledger::trust::{TrustDocument, TrustPolicy};

pub(crate) const ORIGIN: &str = "bank.example/agent-ledger";
pub(crate) const T0: u64 = 1_764_320_400_000;
pub(crate) const HUMAN: &str = "user1@bank.example";
pub(crate) const APPROVER: &str = "approver@bank.example";
pub(crate) const ACTION: &str = "payments:transfer";
pub(crate) const ACCOUNT: &str = "account:DE89-0001";
pub(crate) const ROLE: &str = "payments-approver";
pub(crate) const CRED: &str = "cred-1";
/// Another workload of the deployment's trust domain (an orchestrating agent).
pub(crate) const ORCHESTRATOR: &str = "spiffe://bank.example/agent/orchestrator";

/// The steps of the compliant story, in log order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Step {
    Opened,
    Delegated,
    Decided,
    Requested,
    Resolved,
    Issued,
    Acted,
    Revoked,
    Closed,
}

pub(crate) fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| (*x).to_owned()).collect()
}

pub(crate) fn r(e: &VerifiedEvent) -> EventRef {
    e.event().reference(e.digest())
}

/// The story so far: signed events in log order, and the reference of each step's event.
pub(crate) struct Story {
    dep: Deployment,
    task: TaskId,
    chains: HashMap<&'static str, EmitterChain<ed25519_dalek::SigningKey>>,
    pub events: Vec<VerifiedEvent>,
    steps: HashMap<Step, EventRef>,
    /// Steps logged at another time than the compliant story's (ms after `T0`).
    pub times: HashMap<Step, u64>,
    /// Steps signed by another emitter than the compliant story's.
    pub signers: HashMap<Step, &'static str>,
    /// The ledger's clock (ms since the epoch): what its checkpoints are stamped with.
    pub clock_ms: Option<u64>,
    /// Sign a checkpoint after this many of the story's events are logged (and before the
    /// rest).
    pub checkpoint_after: Option<usize>,
}

impl Story {
    pub(crate) fn new() -> Self {
        Self {
            dep: Deployment::new([5; 32]),
            task: TaskId::new_v7(),
            chains: HashMap::new(),
            events: Vec::new(),
            steps: HashMap::new(),
            times: HashMap::new(),
            signers: HashMap::new(),
            clock_ms: None,
            checkpoint_after: None,
        }
    }

    /// Signs and logs `body` as `who` at time `at` (ms after `T0`).
    pub(crate) fn emit(&mut self, who: &'static str, at: u64, body: Body) -> EventRef {
        let (dep, task) = (&self.dep, self.task);
        let chain = self
            .chains
            .entry(who)
            .or_insert_with(|| dep.chain(who, Some(task)));
        let event = chain.emit(body, ts(T0 + at), vec![]).expect("sign");
        let reference = r(&event);
        self.events.push(event);
        reference
    }

    /// The reference of a step's event.
    pub(crate) fn step(&self, step: Step) -> EventRef {
        self.steps[&step]
    }

    fn record(&mut self, step: Step, who: &'static str, at: u64, body: Body) {
        let reference = self.emit(who, at, body);
        self.steps.insert(step, reference);
    }

    /// The compliant high-risk story (approval required, quorum 1), with `tweak` applied to
    /// every body before it is signed and `after` called after every step.
    pub(crate) fn play(
        &mut self,
        tweak: &dyn Fn(&mut Body),
        after: &mut dyn FnMut(Step, &mut Story),
    ) {
        for step in [
            Step::Opened,
            Step::Delegated,
            Step::Decided,
            Step::Requested,
            Step::Resolved,
            Step::Issued,
            Step::Acted,
            Step::Revoked,
            Step::Closed,
        ] {
            let (who, at, mut body) = self.default_body(step);
            tweak(&mut body);
            let at = self.times.get(&step).copied().unwrap_or(at);
            let who = self.signers.get(&step).copied().unwrap_or(who);
            self.record(step, who, at, body);
            after(step, self);
        }
    }

    /// Plays the compliant story with `tweak` and nothing added.
    pub(crate) fn tweaked(tweak: &dyn Fn(&mut Body)) -> Self {
        let mut story = Self::new();
        story.play(tweak, &mut |_, _| {});
        story
    }

    /// The compliant story's signer, time (ms after `T0`) and body for `step`.
    pub(crate) fn default_body(&self, step: Step) -> (&'static str, u64, Body) {
        match step {
            Step::Opened => (FRONT_DOOR, 1_000, opened()),
            Step::Delegated => (FRONT_DOOR, 1_500, delegation(human(), AGENT)),
            Step::Decided => (PDP, 2_000, decision()),
            Step::Requested => (APPROVALS, 3_000, self.request(self.step(Step::Decided))),
            Step::Resolved => (APPROVALS, 4_000, self.resolution(APPROVER)),
            Step::Issued => (STS, 5_000, self.credential()),
            Step::Acted => (GATEWAY, 10_400, self.action()),
            Step::Revoked => (STS, 20_000, revocation(20_000)),
            Step::Closed => (FRONT_DOOR, 30_000, self.close()),
        }
    }

    pub(crate) fn request(&self, decision: EventRef) -> Body {
        Body::ApprovalRequested(ApprovalRequested {
            approval_id: "apr-1".into(),
            decision,
            action_digest: action_digest(ACTION, &s(&[ACCOUNT])),
            required_role: ROLE.into(),
            quorum: 1,
            expires_at: ts(T0 + 900_000),
        })
    }

    /// A granted resolution of the story's request by `approver`.
    pub(crate) fn resolution(&self, approver: &str) -> Body {
        Body::ApprovalResolved(ApprovalResolved {
            approval_id: "apr-1".into(),
            request: self.step(Step::Requested),
            outcome: ApprovalOutcome::Granted,
            approver: Approver {
                id: approver.into(),
                roles: s(&[ROLE]),
                issuer: IDP.into(),
            },
            valid_until: ts(T0 + 900_000),
        })
    }

    fn approval(&self) -> Option<EventRef> {
        self.steps.get(&Step::Resolved).copied()
    }

    fn credential(&self) -> Body {
        Body::CredentialIssued(CredentialIssued {
            credential: Credential {
                id: CRED.into(),
                cred_type: "oauth_access_token".into(),
                value_digest: Digest::of(b"token"),
                issuer: "https://sts.bank.example".into(),
                audience: "https://payments.bank.example".into(),
                scopes: s(&[ACTION]),
                not_before: ts(T0 + 5_000),
                expires_at: ts(T0 + 305_000),
                bound_key_digest: None,
            },
            holder: Holder {
                id: WorkloadId::new(AGENT).expect("id"),
                instance: "pool-a/1".into(),
            },
            decision: self.step(Step::Decided),
            approval: self.approval(),
        })
    }

    fn action(&self) -> Body {
        Body::ActionExecuted(ActionExecuted {
            action_id: "act-1".into(),
            actor_chain: s(&[HUMAN, AGENT]),
            instance: "pool-a/1".into(),
            operation: Operation {
                service: "https://payments.bank.example".into(),
                name: ACTION.into(),
                resources: s(&[ACCOUNT]),
                permissions_used: s(&[ACTION]),
            },
            request_digest: Digest::of(b"request"),
            response_digest: Digest::of(b"response"),
            credential_id: CRED.into(),
            decisions: vec![self.step(Step::Decided)],
            approval: self.approval(),
            initiation: ActionInitiation::AgentPlanned,
            within_confirmed_scope: true,
            outcome: ActionOutcome::Success,
            blocked_by: Vec::new(),
            started_at: ts(T0 + 10_000),
            ended_at: ts(T0 + 10_400),
        })
    }

    /// A `TaskClosed` whose manifest names every emitter's last event so far.
    pub(crate) fn close(&self) -> Body {
        let mut manifest: Vec<ManifestEntry> = self
            .chains
            .values()
            .filter_map(EmitterChain::manifest_entry)
            .collect();
        manifest.sort_by(|a, b| a.emitter.as_str().cmp(b.emitter.as_str()));
        Body::TaskClosed(TaskClosed {
            outcome: TaskOutcome::Completed,
            manifest,
            credentials_open: vec![],
        })
    }

    /// Appends the story (after the registered policy) to a fresh ledger and exports the
    /// task's bundle; returns it with the auditor's trust document.
    pub(crate) fn export(&self) -> (Vec<u8>, TrustDocument) {
        let dir = tempfile::tempdir().expect("tempdir");
        let log_key = NoteSigner::generate(ORIGIN).expect("log key");
        let doc = self
            .dep
            .trust_document(ORIGIN, "blake3", &log_key.verifier().to_string());
        let (ledger, _) = crate::common::demo_ledger_with_clock(
            &self.dep,
            dir.path(),
            log_key,
            T0,
            self.clock_ms,
        );
        let bytes: Vec<&[u8]> = self.events.iter().map(VerifiedEvent::bytes).collect();
        let split = self.checkpoint_after.unwrap_or(bytes.len());
        ledger.append_batch(&bytes[..split]).expect("append");
        if self.checkpoint_after.is_some() {
            ledger.checkpoint().expect("checkpoint");
        }
        ledger.append_batch(&bytes[split..]).expect("append");
        let bundle = ledger.export_bundle(&self.task, None).expect("export");
        (bundle, doc)
    }

    /// Audits the story's bundle as the deployment's auditor would.
    pub(crate) fn audit(&self) -> Report {
        self.audit_with(|_| {})
    }

    /// Audits the story's bundle under the deployment's trust policy as `edit` changes it;
    /// and checks that the runtime gate, asked before each action as the story is logged,
    /// answered as the auditor judges that action ([`Story::assert_gate_agrees`]).
    pub(crate) fn audit_with(&self, edit: impl FnOnce(&mut TrustDocument)) -> Report {
        let (bundle, mut doc) = self.export();
        edit(&mut doc);
        let trust = TrustPolicy::try_from(doc).expect("trust");
        let report = audit::verify(&bundle, &trust, &[]).expect("audit");
        assert_actions_agree_with_checks(&report);
        self.assert_gate_agrees(&trust, &report);
        report
    }

    /// A fresh ledger in `dir` for the story's deployment, its policy registered, under its
    /// trust policy, with a clock at `T0` (or the story's).
    pub(crate) fn ledger(&self, dir: &std::path::Path) -> Ledger {
        let log_key = NoteSigner::generate(ORIGIN).expect("log key");
        crate::common::demo_ledger_with_clock(&self.dep, dir, log_key, T0, self.clock_ms).0
    }

    /// The deployment's trust policy (its log pinned under a fresh key: what matters to the
    /// gate is its governance section).
    pub(crate) fn trust(&self) -> TrustPolicy {
        TrustPolicy::try_from(self.trust_document()).expect("trust")
    }

    /// The deployment's trust document (its log pinned under a fresh key).
    pub(crate) fn trust_document(&self) -> TrustDocument {
        let log_key = NoteSigner::generate(ORIGIN).expect("log key");
        self.dep
            .trust_document(ORIGIN, "blake3", &log_key.verifier().to_string())
    }

    /// The story's task.
    pub(crate) fn task(&self) -> TaskId {
        self.task
    }

    /// The gate's answer before each action of the story (blocked attempts aside), replayed
    /// into a fresh ledger judging under `trust`; `None` when that ledger refuses one of the
    /// story's events (the story then tests the ledger's checks, not the gate).
    pub(crate) fn gate_answers(&self, trust: &TrustPolicy) -> Option<Vec<(EventId, Admission)>> {
        let dir = tempfile::tempdir().expect("tempdir");
        let ledger = self.ledger(dir.path()).with_trust(trust.clone());
        let mut answers = Vec::new();
        for e in &self.events {
            if let Body::ActionExecuted(a) = &e.event().body
                && a.outcome != ActionOutcome::Blocked
            {
                let task = e.event().task.expect("task");
                match ledger.admit(&request_for(task, a)) {
                    Ok(admission) => answers.push((e.event().id, admission)),
                    // A start the ledger would not log (before 2001): the gate refuses to
                    // judge it at all, stricter than the auditor.
                    Err(LedgerError::Gate(GateError::Time(_))) => {}
                    Err(e) => panic!("admit: {e}"),
                }
            }
            ledger.append(e.bytes()).ok()?;
        }
        Some(answers)
    }

    /// For every action of the story: the gate, asked with exactly the events logged before
    /// it, denied it exactly when the auditor (on the finished task) finds a governance rule
    /// it breaks, and named the same rules, save where the gate could not know
    /// (`docs/gate.md`): a revocation logged after the action but effective before it.
    pub(crate) fn assert_gate_agrees(&self, trust: &TrustPolicy, report: &Report) {
        let Some(answers) = self.gate_answers(trust) else {
            return;
        };
        for (id, admission) in answers {
            let Some(judged) = report.actions.iter().find(|a| a.event == id.to_string()) else {
                // Its event failed an integrity check: the auditor does not judge it.
                continue;
            };
            let gate = admission.blocked_by();
            if gate == judged.breaks {
                assert_eq!(admission.allowed, gate.is_empty());
                continue;
            }
            let extra: Vec<&String> = judged.breaks.iter().filter(|c| !gate.contains(c)).collect();
            let subset = gate.iter().all(|c| judged.breaks.contains(c));
            // What the gate cannot know: a revocation logged later but effective before the
            // action. What it does not hold: the events of a task it does not follow (one
            // that does not start with its intent, B1; one closed and done, B10), for which
            // it names that one rule.
            // Likewise a trust signal logged after the action but dated before it.
            let later = |check: &str| match check {
                "B5" => self.revoked_later_with_effect_before(id),
                "B9" => self.signalled_later_dated_before(id),
                _ => false,
            };
            let known = (!extra.is_empty() && extra.iter().all(|c| later(c)) && subset)
                || ((gate == ["B1"] || gate == ["B10"]) && subset);
            assert!(
                known,
                "the gate said {gate:?} ({admission:#?}), the auditor {:?} for action {id}",
                judged.breaks
            );
        }
    }

    /// Whether a trust signal logged after action `id` is dated no later than its start.
    fn signalled_later_dated_before(&self, id: EventId) -> bool {
        let Some(pos) = self.events.iter().position(|e| e.event().id == id) else {
            return false;
        };
        let Body::ActionExecuted(a) = &self.events[pos].event().body else {
            return false;
        };
        self.events[pos + 1..].iter().any(|e| {
            matches!(e.event().body, Body::TrustSignal(_)) && e.event().time <= a.started_at
        })
    }

    /// Whether the credential of action `id` has a revocation logged after the action that
    /// took effect before it started.
    fn revoked_later_with_effect_before(&self, id: EventId) -> bool {
        let Some(pos) = self.events.iter().position(|e| e.event().id == id) else {
            return false;
        };
        let Body::ActionExecuted(a) = &self.events[pos].event().body else {
            return false;
        };
        self.events[pos + 1..].iter().any(|e| {
            matches!(&e.event().body, Body::CredentialRevoked(r)
                if r.credential_id == a.credential_id && r.effective_at <= a.started_at)
        })
    }
}

/// The task's human as a delegator.
pub(crate) fn human() -> Delegator {
    Delegator::Human { id: HUMAN.into() }
}

pub(crate) fn opened() -> Body {
    Body::TaskOpened(TaskOpened {
        principal: HumanPrincipal {
            id: HUMAN.into(),
            issuer: "https://idp.bank.example".into(),
            auth_methods: s(&["pwd", "hwk"]),
            auth_time: ts(T0),
            assurance_level: "aal2".into(),
            mfa: true,
        },
        instruction_digest: Digest::of(b"pay invoice 1"),
        interpretation_digest: Digest::of(b"transfer for invoice 1 to ACME"),
        confirmed_at: ts(T0 + 1_000),
        purpose: "vendor payment".into(),
        data_class: "financial".into(),
        scope_ceiling: s(&[ACTION, "payments:read"]),
        risk_tier: Level::High,
        expires_at: ts(T0 + 3_600_000),
        initiation: TaskInitiation::Human,
    })
}

/// A delegation to `to` with the intent's whole ceiling, for an hour.
pub(crate) fn delegation(from: Delegator, to: &str) -> Body {
    Body::DelegationGranted(DelegationGranted {
        delegator: from,
        delegatee: WorkloadRef {
            id: WorkloadId::new(to).expect("id"),
            trust_domain: "bank.example".into(),
            instance: "pool-a/1".into(),
        },
        scope: s(&[ACTION, "payments:read"]),
        expires_at: ts(T0 + 3_600_000),
        mode: DelegationMode::Delegation,
        cross_domain: false,
    })
}

/// An allow decision for the story's action that requires one approval.
pub(crate) fn decision() -> Body {
    Body::PolicyDecision(PolicyDecision {
        decision_id: "dec-1".into(),
        policy: registered_policy(),
        request: DecisionRequest {
            principal: HUMAN.into(),
            actor_chain: s(&[HUMAN, AGENT]),
            action: ACTION.into(),
            resources: s(&[ACCOUNT]),
            context_digest: Digest::of(b"ctx"),
        },
        input_digest: Digest::of(b"input"),
        effect: Effect::Allow,
        rule_ids: s(&["require_approval_large"]),
        obligations: Obligations {
            approval: Some(ApprovalRequirement {
                role: ROLE.into(),
                quorum: 1,
                separation_of_duties: true,
            }),
            max_credential_ttl_ms: Some(300_000),
            granted_scope: s(&[ACTION]),
        },
        valid_until: ts(T0 + 600_000),
    })
}

/// The revocation of the story's credential, effective at `at` ms after `T0`.
pub(crate) fn revocation(at: u64) -> Body {
    Body::CredentialRevoked(CredentialRevoked {
        credential_id: CRED.into(),
        reason: RevocationReason::TaskClosed,
        trigger: None,
        effective_at: ts(T0 + at),
    })
}

/// The instant `ms` milliseconds after the epoch.
pub(crate) fn ts(ms: u64) -> Timestamp {
    Timestamp::from_millis(ms)
}

/// The story with the agent acting for an orchestrator the human delegated to; `hop` alters
/// the orchestrator's own delegation.
pub(crate) fn two_hops(hop: impl Fn(&mut DelegationGranted)) -> Story {
    two_hops_signed_by(FRONT_DOOR, hop)
}

/// As [`two_hops`], with the orchestrator's delegation to the agent signed by `signer`.
pub(crate) fn two_hops_signed_by(
    signer: &'static str,
    hop: impl Fn(&mut DelegationGranted),
) -> Story {
    let mut story = Story::new();
    story.signers.insert(Step::Delegated, signer);
    story.play(
        &|b| match b {
            Body::DelegationGranted(d) => {
                d.delegator = Delegator::Workload {
                    id: WorkloadId::new(ORCHESTRATOR).expect("id"),
                };
                d.scope = s(&[ACTION]);
            }
            Body::ActionExecuted(a) => a.actor_chain = s(&[HUMAN, ORCHESTRATOR, AGENT]),
            // The decision is asked for the chain that acts.
            Body::PolicyDecision(d) => d.request.actor_chain = s(&[HUMAN, ORCHESTRATOR, AGENT]),
            _ => {}
        },
        &mut |step, s| {
            if step == Step::Opened {
                let mut body = delegation(human(), ORCHESTRATOR);
                if let Body::DelegationGranted(d) = &mut body {
                    hop(d);
                }
                s.emit(FRONT_DOOR, 1_200, body);
            }
        },
    );
    story
}

/// The request a gateway would have made before action `a` ran: the same actors, operation,
/// credential and start, citing the same decisions and approval.
pub(crate) fn request_for(task: TaskId, a: &ActionExecuted) -> ActionRequest {
    let mut req = ActionRequest::new(
        task,
        a.actor_chain.clone(),
        a.instance.clone(),
        a.operation.clone(),
        a.credential_id.clone(),
        a.started_at,
    );
    req.initiation = a.initiation;
    req.within_confirmed_scope = a.within_confirmed_scope;
    req.decisions = Some(a.decisions.clone());
    req.approval = a.approval;
    req.as_cited = true;
    req
}

/// Every rule the report says an action that ran breaks is a failed check of the report.
pub(crate) fn assert_actions_agree_with_checks(report: &Report) {
    for a in report.actions.iter().filter(|a| !a.blocked()) {
        for id in &a.breaks {
            let status = report.check(id).map(|c| c.status);
            assert_eq!(
                status,
                Some(audit::Status::Fail),
                "action {} breaks {id}: {report:#?}",
                a.event
            );
        }
    }
}

/// The compliant story with a second decision `second` logged by the PDP right after step
/// `after`, at `at` ms after `T0`; `tweak` alters each body signed after it, given the
/// second decision's reference.
pub(crate) fn with_second_decision(
    after: Step,
    at: u64,
    second: Body,
    tweak: impl Fn(&mut Body, EventRef),
) -> Story {
    let other = std::cell::Cell::new(None);
    let mut story = Story::new();
    story.play(
        &|b| {
            if let Some(o) = other.get() {
                tweak(b, o);
            }
        },
        &mut |step, st| {
            if step == after {
                other.set(Some(st.emit(PDP, at, second.clone())));
            }
        },
    );
    story
}

/// The story with `principal` stopping the agent after its action, justified by
/// `justification`; with `approver`, a post-hoc approval by them resolved at the time given
/// (ms after `T0`; the override is due a day later).
pub(crate) fn overridden(
    principal: &str,
    justification: &[u8],
    approver: Option<(&str, u64)>,
) -> Story {
    overridden_with(principal, justification, approver, |_| {})
}

/// As [`overridden`], with the post-hoc approval altered by `resolve` before it is signed.
pub(crate) fn overridden_with(
    principal: &str,
    justification: &[u8],
    approver: Option<(&str, u64)>,
    resolve: impl Fn(&mut ApprovalResolved),
) -> Story {
    let mut story = Story::new();
    story.play(&|_| {}, &mut |step, s| {
        if step != Step::Acted {
            return;
        }
        let target = s.step(Step::Acted);
        let overridden = s.emit(
            FRONT_DOOR,
            11_000,
            Body::Override(Override {
                principal: principal.to_owned(),
                action: OverrideAction::Stop,
                target,
                justification_digest: Digest::of(justification),
                post_hoc_approval_due: ts(T0 + 86_400_000),
            }),
        );
        let Some((approver, at)) = approver else {
            return;
        };
        let asked = s.emit(APPROVALS, 12_000, s.request(overridden));
        let mut resolved = s.resolution(approver);
        if let Body::ApprovalResolved(r) = &mut resolved {
            r.request = asked;
            resolve(r);
        }
        s.emit(APPROVALS, at, resolved);
    });
    story
}

/// The story with the ledger's clock at `T0` + 1 000 s and a checkpoint signed after the
/// first `split` events were logged: those after it entered the log long after they claim.
pub(crate) fn logged_late(split: usize) -> Story {
    let mut story = Story::new();
    story.clock_ms = Some(T0 + 1_000_000);
    story.checkpoint_after = Some(split);
    story.play(&|_| {}, &mut |_, _| {});
    story
}

/// Retires the gateway's key at `T0` + 50 s in a trust document.
pub(crate) fn retire_gateway_key(doc: &mut TrustDocument) {
    let gw = doc
        .emitters
        .iter_mut()
        .find(|e| e.workload == GATEWAY)
        .expect("gateway");
    gw.keys[0].not_after = Some(T0 + 50_000);
}
