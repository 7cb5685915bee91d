//! One governed task: intent → delegation → decision → approval (for high risk) →
//! just-in-time credential → action → revocation → close; and the ways it goes wrong.

use super::Deployment;
use super::workloads::*;
use crate::envelope::{EnvelopeError, VerifiedEvent};
use crate::event::*;

/// What happens in a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scenario {
    /// Everything in order.
    Compliant,
    /// The action runs after its credential expired (fails B5).
    ExpiredCredential,
    /// The action runs after its credential was revoked (fails B5).
    RevokedCredential,
    /// The agent approves its own action (fails B7).
    SelfApproval,
    /// The action uses a permission outside the credential's scope (fails B6).
    OutOfScope,
    /// The credential is never revoked and outlives the task (fails B10).
    NeverRevoked,
    /// The decision cites a policy version that was never registered (fails B4).
    UnregisteredPolicy,
}

impl Scenario {
    /// Every scenario, compliant first.
    pub const ALL: [Self; 7] = [
        Self::Compliant,
        Self::ExpiredCredential,
        Self::RevokedCredential,
        Self::SelfApproval,
        Self::OutOfScope,
        Self::NeverRevoked,
        Self::UnregisteredPolicy,
    ];

    /// The check this scenario should fail, if any.
    #[must_use]
    pub const fn expected_failure(self) -> Option<&'static str> {
        match self {
            Self::Compliant => None,
            Self::ExpiredCredential | Self::RevokedCredential => Some("B5"),
            Self::SelfApproval => Some("B7"),
            Self::OutOfScope => Some("B6"),
            Self::NeverRevoked => Some("B10"),
            Self::UnregisteredPolicy => Some("B4"),
        }
    }

    /// A short description.
    #[must_use]
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Compliant => "compliant transfer",
            Self::ExpiredCredential => "action with an expired credential",
            Self::RevokedCredential => "action with a revoked credential",
            Self::SelfApproval => "agent approving its own action",
            Self::OutOfScope => "action outside the granted scope",
            Self::NeverRevoked => "credential never revoked",
            Self::UnregisteredPolicy => "decision citing an unregistered policy version",
        }
    }
}

/// The policy version every decision cites.
#[must_use]
pub fn registered_policy() -> PolicyRef {
    PolicyRef {
        id: "payments/transfer".into(),
        revision: "2026-11-01.3".into(),
        digest: Digest::of(b"payments/transfer policy bundle 2026-11-01.3"),
    }
}

/// The events of one task, in the order they are logged.
pub struct TaskRun {
    /// The task.
    pub task: TaskId,
    /// Signed events in log order.
    pub events: Vec<VerifiedEvent>,
}

fn r(e: &VerifiedEvent) -> EventRef {
    e.event().reference(e.digest())
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| (*x).to_owned()).collect()
}

/// Runs task number `n` of a scenario starting at time `t0` (ms); `high_risk` tasks need an
/// approval. Returns the signed events in log order.
///
/// # Errors
/// Only if signing fails.
#[allow(clippy::too_many_lines)] // One task, told in order, reads best in one place.
pub fn run_task(
    dep: &Deployment,
    scenario: Scenario,
    n: u64,
    t0: u64,
    high_risk: bool,
) -> Result<TaskRun, EnvelopeError> {
    let task = TaskId::new_v7();
    let (mut front, mut pdp, mut approvals, mut sts, mut gw) = (
        dep.chain(FRONT_DOOR, Some(task)),
        dep.chain(PDP, Some(task)),
        dep.chain(APPROVALS, Some(task)),
        dep.chain(STS, Some(task)),
        dep.chain(GATEWAY, Some(task)),
    );
    let human = format!("user{}@bank.example", n % 7);
    let instance = format!("pool-a/{}", n % 3);
    let account = format!("account:DE89-{:04}", n % 10_000);
    let action = "payments:transfer";
    let mut events = Vec::new();

    let opened = front.emit(
        Body::TaskOpened(TaskOpened {
            principal: HumanPrincipal {
                id: human.clone(),
                issuer: "https://idp.bank.example".into(),
                auth_methods: s(&["pwd", "hwk"]),
                auth_time: t0,
                assurance_level: "aal2".into(),
                mfa: true,
            },
            instruction_digest: Digest::of(format!("pay invoice {n}").as_bytes()),
            interpretation_digest: Digest::of(
                format!("transfer for invoice {n} to ACME").as_bytes(),
            ),
            confirmed_at: t0 + 1_000,
            purpose: "vendor payment".into(),
            data_class: "financial".into(),
            scope_ceiling: s(&["payments:transfer", "payments:read"]),
            risk_tier: if high_risk { Level::High } else { Level::Low },
            expires_at: t0 + 3_600_000,
            initiation: TaskInitiation::Human,
        }),
        t0 + 1_000,
        vec![],
    )?;
    let delegated = front.emit(
        Body::DelegationGranted(DelegationGranted {
            delegator: Delegator::Human { id: human.clone() },
            delegatee: WorkloadRef {
                id: WorkloadId::new(AGENT).map_err(|e| EnvelopeError::Signer(e.to_string()))?,
                trust_domain: "bank.example".into(),
                instance: instance.clone(),
            },
            scope: s(&["payments:transfer", "payments:read"]),
            expires_at: t0 + 3_600_000,
            mode: DelegationMode::Delegation,
            cross_domain: false,
        }),
        t0 + 1_500,
        vec![r(&opened)],
    )?;
    let mut policy = registered_policy();
    if scenario == Scenario::UnregisteredPolicy {
        policy.revision = "2026-12-24.1-hotfix".into();
        policy.digest = Digest::of(b"an unreviewed policy bundle");
    }
    let decided = pdp.emit(
        Body::PolicyDecision(PolicyDecision {
            decision_id: format!("dec-{n}"),
            policy,
            request: DecisionRequest {
                principal: human.clone(),
                actor_chain: vec![human.clone(), AGENT.into()],
                action: action.into(),
                resources: vec![account.clone()],
                context_digest: Digest::of(b"ctx"),
            },
            input_digest: Digest::of(format!("input {n}").as_bytes()),
            effect: Effect::Allow,
            rule_ids: s(&[if high_risk {
                "require_approval_large"
            } else {
                "allow_small_transfer"
            }]),
            obligations: Obligations {
                approval: high_risk.then(|| ApprovalRequirement {
                    role: "payments-approver".into(),
                    quorum: 1,
                    separation_of_duties: true,
                }),
                max_credential_ttl_ms: Some(300_000),
                granted_scope: s(&["payments:transfer"]),
            },
            valid_until: t0 + 600_000,
        }),
        t0 + 2_000,
        vec![r(&delegated)],
    )?;
    events.extend([opened, delegated, decided.clone()]);

    let mut approval = None;
    if high_risk {
        let asked = approvals.emit(
            Body::ApprovalRequested(ApprovalRequested {
                approval_id: format!("apr-{n}"),
                decision: r(&decided),
                action_digest: action_digest(action, std::slice::from_ref(&account)),
                required_role: "payments-approver".into(),
                quorum: 1,
                expires_at: t0 + 900_000,
            }),
            t0 + 3_000,
            vec![],
        )?;
        let approver = if scenario == Scenario::SelfApproval {
            AGENT.to_owned()
        } else {
            "approver@bank.example".to_owned()
        };
        let granted = approvals.emit(
            Body::ApprovalResolved(ApprovalResolved {
                approval_id: format!("apr-{n}"),
                request: r(&asked),
                outcome: ApprovalOutcome::Granted,
                approver: Approver {
                    id: approver,
                    roles: s(&["payments-approver"]),
                },
                valid_until: t0 + 900_000,
            }),
            t0 + 4_000,
            vec![],
        )?;
        approval = Some(r(&granted));
        events.extend([asked, granted]);
    }

    let cred_id = format!("cred-{n}");
    let not_before = t0 + 5_000;
    let expires_at = if scenario == Scenario::ExpiredCredential {
        not_before + 2_000
    } else {
        not_before + 300_000
    };
    let issued = sts.emit(
        Body::CredentialIssued(CredentialIssued {
            credential: Credential {
                id: cred_id.clone(),
                cred_type: "oauth_access_token".into(),
                value_digest: Digest::of(format!("token {n}").as_bytes()),
                issuer: "https://sts.bank.example".into(),
                audience: "https://payments.bank.example".into(),
                scopes: s(&["payments:transfer"]),
                not_before,
                expires_at,
                bound_key_digest: Some(Digest::of(b"dpop key")),
            },
            holder: Holder {
                id: WorkloadId::new(AGENT).map_err(|e| EnvelopeError::Signer(e.to_string()))?,
                instance,
            },
            decision: r(&decided),
            approval,
        }),
        not_before,
        vec![],
    )?;
    let revoke = |sts: &mut crate::envelope::EmitterChain<_>, reason, at, refs| {
        sts.emit(
            Body::CredentialRevoked(CredentialRevoked {
                credential_id: cred_id.clone(),
                reason,
                trigger: None,
                effective_at: at,
            }),
            at,
            refs,
        )
    };
    events.push(issued.clone());
    if scenario == Scenario::RevokedCredential {
        events.push(revoke(
            &mut sts,
            RevocationReason::Manual,
            t0 + 8_000,
            vec![r(&issued)],
        )?);
    }
    let used = if scenario == Scenario::OutOfScope {
        s(&["payments:transfer", "payments:admin"])
    } else {
        s(&["payments:transfer"])
    };
    let acted = gw.emit(
        Body::ActionExecuted(ActionExecuted {
            action_id: format!("act-{n}"),
            actor_chain: vec![human.clone(), AGENT.into()],
            operation: Operation {
                service: "payments".into(),
                name: action.into(),
                resources: vec![account],
                permissions_used: used,
            },
            request_digest: Digest::of(format!("request {n}").as_bytes()),
            response_digest: Digest::of(format!("response {n}").as_bytes()),
            credential_id: cred_id.clone(),
            decisions: vec![r(&decided)],
            approval,
            initiation: ActionInitiation::AgentPlanned,
            within_confirmed_scope: true,
            outcome: ActionOutcome::Success,
            started_at: t0 + 10_000,
            ended_at: t0 + 10_400,
        }),
        t0 + 10_400,
        vec![r(&issued)],
    )?;
    events.push(acted.clone());
    if !matches!(
        scenario,
        Scenario::NeverRevoked | Scenario::RevokedCredential
    ) {
        events.push(revoke(
            &mut sts,
            RevocationReason::TaskClosed,
            t0 + 20_000,
            vec![r(&acted)],
        )?);
    }
    let manifest = [&pdp, &approvals, &sts, &gw, &front]
        .iter()
        .filter_map(|c| c.manifest_entry())
        .collect();
    let open = if scenario == Scenario::NeverRevoked {
        vec![cred_id]
    } else {
        vec![]
    };
    let last = events.last().map(r).into_iter().collect();
    events.push(front.emit(
        Body::TaskClosed(TaskClosed {
            outcome: TaskOutcome::Completed,
            manifest,
            credentials_open: open,
        }),
        t0 + 30_000,
        last,
    )?);
    Ok(TaskRun { task, events })
}

/// One long compliant task with `actions` actions under a single decision, approval and
/// credential (for benchmarking audits of large bundles).
///
/// # Errors
/// Only if signing fails.
pub fn run_long_task(dep: &Deployment, actions: u64, t0: u64) -> Result<TaskRun, EnvelopeError> {
    let base = run_task(dep, Scenario::Compliant, 0, t0, true)?;
    // Reuse the compliant task's first six events (intent to credential) and repeat its
    // action, then revoke and close with a matching manifest.
    let task = base.task;
    let mut events: Vec<VerifiedEvent> = base.events[..6].to_vec();
    let Body::ActionExecuted(template) = base.events[6].event().body.clone() else {
        return Err(EnvelopeError::Signer("unexpected task shape".into()));
    };
    let mut gw = dep.chain(GATEWAY, Some(task));
    for k in 0..actions {
        let mut a = template.clone();
        a.action_id = format!("act-{k}");
        a.request_digest = Digest::of(&k.to_le_bytes());
        events.push(gw.emit(Body::ActionExecuted(a), t0 + 10_400 + k, vec![])?);
    }
    let mut sts = dep.chain(STS, Some(task));
    let mut front = dep.chain(FRONT_DOOR, Some(task));
    // Replay the other emitters' chains so eseq/prev continue from the reused events.
    for e in &events[..6] {
        let chain = match e.event().emitter.as_str() {
            STS => &mut sts,
            FRONT_DOOR => &mut front,
            _ => continue,
        };
        chain.resume_after(e);
    }
    let cred = match &events[5].event().body {
        Body::CredentialIssued(c) => c.credential.id.clone(),
        _ => return Err(EnvelopeError::Signer("unexpected task shape".into())),
    };
    events.push(sts.emit(
        Body::CredentialRevoked(CredentialRevoked {
            credential_id: cred,
            reason: RevocationReason::TaskClosed,
            trigger: None,
            effective_at: t0 + 200_000,
        }),
        t0 + 200_000,
        vec![],
    )?);
    let mut manifest = Vec::new();
    for (emitter, last) in [(PDP, &events[2]), (APPROVALS, &events[4])] {
        manifest.push(ManifestEntry {
            emitter: WorkloadId::new(emitter).map_err(|e| EnvelopeError::Signer(e.to_string()))?,
            last_eseq: last.event().eseq,
            last_digest: last.digest(),
        });
    }
    manifest.extend(
        [&sts, &gw, &front]
            .iter()
            .filter_map(|c| c.manifest_entry()),
    );
    events.push(front.emit(
        Body::TaskClosed(TaskClosed {
            outcome: TaskOutcome::Completed,
            manifest,
            credentials_open: vec![],
        }),
        t0 + 210_000,
        vec![],
    )?);
    Ok(TaskRun { task, events })
}

/// The policy registry's registration of [`registered_policy`], effective from `at`.
///
/// # Errors
/// Only if signing fails.
pub fn registration_event(dep: &Deployment, at: u64) -> Result<VerifiedEvent, EnvelopeError> {
    let policy = PolicyRegistered {
        policy: registered_policy(),
        engine: "opa".into(),
        rule_ids: vec![
            "allow_small_transfer".into(),
            "require_approval_large".into(),
        ],
        effective_from: at,
    };
    dep.chain(REGISTRY, None)
        .emit(Body::PolicyRegistered(policy), at, vec![])
}
