//! One governed task: intent → delegation → decision → approval (for high risk) →
//! just-in-time credential → action → revocation → close, each step signed by the service
//! that performs it, and bent where the scenario says.

use ed25519_dalek::SigningKey;

use super::workloads::*;
use super::{Deployment, Scenario};
use crate::envelope::{EmitterChain, EnvelopeError, VerifiedEvent};
use crate::event::*;

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

fn workload(id: &str) -> Result<WorkloadId, EnvelopeError> {
    WorkloadId::new(id).map_err(|e| {
        let e = EventError::BadIdentifier {
            field: "emitter",
            value: e.0,
        };
        EnvelopeError::Payload(e.into())
    })
}

const ACTION: &str = "payments:transfer";
const SERVICE: &str = "https://payments.bank.example";
const TEN_YEARS_MS: u64 = 3_652 * 86_400_000;

/// A task in the making: the services' chains, what is logged so far, and the facts the
/// later steps cite.
pub(super) struct Run<'d> {
    dep: &'d Deployment,
    scenario: Scenario,
    n: u64,
    t0: Timestamp,
    high_risk: bool,
    pub(super) task: TaskId,
    chains: Vec<(&'static str, EmitterChain<SigningKey>)>,
    pub(super) events: Vec<VerifiedEvent>,
    human: String,
    agent: &'static str,
    /// The instance the task is delegated to, and a second one (only for `OtherInstance`).
    instances: [String; 2],
    account: String,
}

impl<'d> Run<'d> {
    fn is(&self, scenario: Scenario) -> bool {
        self.scenario == scenario
    }

    /// `ms` after the task's start.
    pub(super) fn at(&self, ms: u64) -> Timestamp {
        self.t0.plus_ms(ms)
    }

    /// Signs `body` as `who` at `at` ms after t0 and logs it.
    pub(super) fn emit(
        &mut self,
        who: &'static str,
        at: u64,
        body: Body,
        refs: Vec<EventRef>,
    ) -> Result<EventRef, EnvelopeError> {
        let k = match self.chains.iter().position(|(w, _)| *w == who) {
            Some(k) => k,
            None => {
                self.chains
                    .push((who, self.dep.chain(who, Some(self.task))));
                self.chains.len() - 1
            }
        };
        let event = self.chains[k].1.emit(body, self.t0.plus_ms(at), refs)?;
        let reference = r(&event);
        self.events.push(event);
        Ok(reference)
    }

    fn opened(&mut self) -> Result<EventRef, EnvelopeError> {
        let (n, t0) = (self.n, self.t0);
        let body = Body::TaskOpened(TaskOpened {
            principal: HumanPrincipal {
                id: self.human.clone(),
                issuer: IDP.into(),
                auth_methods: if self.is(Scenario::NoMfa) {
                    s(&["pwd"])
                } else {
                    s(&["pwd", "hwk"])
                },
                auth_time: t0,
                assurance_level: "aal2".into(),
                mfa: !self.is(Scenario::NoMfa),
            },
            instruction_digest: Digest::of(format!("pay invoice {n}").as_bytes()),
            interpretation_digest: Digest::of(
                format!("transfer for invoice {n} to ACME").as_bytes(),
            ),
            confirmed_at: t0.plus_ms(1_000),
            purpose: "vendor payment".into(),
            data_class: "financial".into(),
            scope_ceiling: s(&[ACTION, "payments:read"]),
            risk_tier: if self.high_risk {
                Level::High
            } else {
                Level::Low
            },
            expires_at: t0.plus_ms(3_600_000),
            initiation: TaskInitiation::Human,
        });
        self.emit(FRONT_DOOR, 1_000, body, vec![])
    }

    /// The human's delegation to the agent instance `k` (the agent signs it itself when it
    /// grants itself the human's authority).
    fn delegated(
        &mut self,
        k: usize,
        at: u64,
        opened: EventRef,
    ) -> Result<EventRef, EnvelopeError> {
        let foreign = self.is(Scenario::ForeignAgent);
        let body = Body::DelegationGranted(DelegationGranted {
            delegator: Delegator::Human {
                id: self.human.clone(),
            },
            delegatee: WorkloadRef {
                id: workload(self.agent)?,
                trust_domain: if foreign {
                    "agents.vendor.example".into()
                } else {
                    "bank.example".into()
                },
                instance: self.instances[k].clone(),
            },
            scope: s(&[ACTION, "payments:read"]),
            expires_at: self.t0.plus_ms(3_600_000),
            mode: DelegationMode::Delegation,
            // The lie ForeignAgent tells: its own flag says "not cross-domain".
            cross_domain: false,
        });
        let signer = if self.is(Scenario::AgentDelegatesForHuman) {
            AGENT
        } else {
            FRONT_DOOR
        };
        self.emit(signer, at, body, vec![opened])
    }

    /// An allow decision for `action` granting `grant`, with the approval obligation of a
    /// high-risk task (for the transfer) and a TTL cap (unless `capped` is false).
    fn decision(&self, action: &str, grant: &[&str], capped: bool) -> Body {
        let n = self.n;
        let transfer = action == ACTION;
        let mut rule = if self.high_risk {
            "require_approval_large"
        } else {
            "allow_small_transfer"
        };
        if self.is(Scenario::UnknownRule) && transfer {
            rule = "allow_everything";
        }
        let mut policy = registered_policy();
        if self.is(Scenario::UnregisteredPolicy) {
            policy.revision = "2026-12-24.1-hotfix".into();
            policy.digest = Digest::of(b"an unreviewed policy bundle");
        }
        Body::PolicyDecision(PolicyDecision {
            decision_id: format!("dec-{n}-{action}"),
            policy,
            request: DecisionRequest {
                principal: self.human.clone(),
                actor_chain: vec![self.human.clone(), self.agent.into()],
                action: action.into(),
                resources: vec![self.account.clone()],
                context_digest: Digest::of(b"ctx"),
            },
            input_digest: Digest::of(format!("input {n} {action}").as_bytes()),
            effect: Effect::Allow,
            rule_ids: s(&[rule]),
            obligations: Obligations {
                approval: (self.high_risk && transfer).then(|| ApprovalRequirement {
                    role: "payments-approver".into(),
                    quorum: 1,
                    separation_of_duties: true,
                }),
                max_credential_ttl_ms: capped.then_some(300_000),
                granted_scope: s(grant),
            },
            valid_until: self.t0.plus_ms(600_000),
        })
    }

    fn approval_request(&mut self, decided: EventRef) -> Result<EventRef, EnvelopeError> {
        let body = Body::ApprovalRequested(ApprovalRequested {
            approval_id: format!("apr-{}", self.n),
            decision: decided,
            action_digest: action_digest(ACTION, std::slice::from_ref(&self.account)),
            required_role: "payments-approver".into(),
            quorum: 1,
            expires_at: self.t0.plus_ms(900_000),
        });
        self.emit(APPROVALS, 3_000, body, vec![])
    }

    fn approval_granted(&mut self, asked: EventRef) -> Result<EventRef, EnvelopeError> {
        let approver = match self.scenario {
            Scenario::SelfApproval => self.agent.to_owned(),
            Scenario::ServiceAccountApprover => "payments-bot@bank.example".to_owned(),
            _ => "approver@bank.example".to_owned(),
        };
        let body = Body::ApprovalResolved(ApprovalResolved {
            approval_id: format!("apr-{}", self.n),
            request: asked,
            outcome: ApprovalOutcome::Granted,
            approver: Approver {
                id: approver,
                roles: s(&["payments-approver"]),
                issuer: IDP.into(),
            },
            valid_until: self.t0.plus_ms(900_000),
        });
        self.emit(APPROVALS, 4_000, body, vec![])
    }

    /// The credential, issued at `at` under `decision` to the first instance.
    fn issued(
        &mut self,
        at: u64,
        decision: EventRef,
        approval: Option<EventRef>,
    ) -> Result<EventRef, EnvelopeError> {
        let not_before = self.t0.plus_ms(at);
        let lifetime = match self.scenario {
            Scenario::ExpiredCredential => 2_000,
            Scenario::ReadOnlyGrant => 86_400_000,
            _ => 300_000,
        };
        let body = Body::CredentialIssued(CredentialIssued {
            credential: Credential {
                id: format!("cred-{}", self.n),
                cred_type: "oauth_access_token".into(),
                value_digest: Digest::of(format!("token {}", self.n).as_bytes()),
                issuer: "https://sts.bank.example".into(),
                audience: SERVICE.into(),
                scopes: s(&[ACTION]),
                not_before,
                expires_at: not_before.plus_ms(lifetime),
                bound_key_digest: Some(Digest::of(b"dpop key")),
            },
            holder: Holder {
                id: workload(self.agent)?,
                instance: self.instances[0].clone(),
            },
            decision,
            approval,
        });
        self.emit(STS, at, body, vec![])
    }

    /// The action the agent is about to take, citing `decided` and `approval`.
    pub(super) fn action(&self, decided: EventRef, approval: Option<EventRef>) -> ActionExecuted {
        let (n, t0) = (self.n, self.t0);
        let acting = usize::from(self.is(Scenario::OtherInstance));
        let used = if self.is(Scenario::OutOfScope) {
            s(&[ACTION, "payments:admin"])
        } else {
            s(&[ACTION])
        };
        ActionExecuted {
            action_id: format!("act-{n}"),
            actor_chain: vec![self.human.clone(), self.agent.into()],
            instance: self.instances[acting].clone(),
            operation: Operation {
                service: SERVICE.into(),
                name: ACTION.into(),
                resources: vec![self.account.clone()],
                permissions_used: used,
            },
            request_digest: Digest::of(format!("request {n}").as_bytes()),
            response_digest: Digest::of(format!("response {n}").as_bytes()),
            credential_id: format!("cred-{n}"),
            decisions: vec![decided],
            approval,
            initiation: ActionInitiation::AgentPlanned,
            within_confirmed_scope: true,
            outcome: ActionOutcome::Success,
            blocked_by: Vec::new(),
            started_at: t0.plus_ms(10_000),
            ended_at: t0.plus_ms(10_400),
        }
    }

    /// The gateway records `action` (run, or blocked), citing the credential's issuance.
    pub(super) fn acted(
        &mut self,
        action: ActionExecuted,
        issued: EventRef,
    ) -> Result<EventRef, EnvelopeError> {
        self.emit(GATEWAY, 10_400, Body::ActionExecuted(action), vec![issued])
    }

    pub(super) fn revoked(
        &mut self,
        at: u64,
        reason: RevocationReason,
        cause: EventRef,
    ) -> Result<EventRef, EnvelopeError> {
        let body = Body::CredentialRevoked(CredentialRevoked {
            credential_id: format!("cred-{}", self.n),
            reason,
            trigger: None,
            effective_at: self.t0.plus_ms(at),
        });
        self.emit(STS, at, body, vec![cause])
    }

    /// When the task closes, in ms after t0.
    pub(super) fn close_at(&self) -> u64 {
        if self.is(Scenario::FutureClose) {
            TEN_YEARS_MS
        } else {
            30_000
        }
    }

    pub(super) fn closed(&mut self) -> Result<EventRef, EnvelopeError> {
        let mut manifest: Vec<ManifestEntry> = self
            .chains
            .iter()
            .filter_map(|(_, c)| c.manifest_entry())
            .collect();
        manifest.sort_by(|a, b| a.emitter.cmp(&b.emitter));
        let open = if matches!(self.scenario, Scenario::NeverRevoked) {
            vec![format!("cred-{}", self.n)]
        } else {
            vec![]
        };
        let last = self.events.last().map(r).into_iter().collect();
        let at = self.close_at();
        let body = Body::TaskClosed(TaskClosed {
            outcome: TaskOutcome::Completed,
            manifest,
            credentials_open: open,
        });
        self.emit(FRONT_DOOR, at, body, last)
    }

    /// Intent, delegation(s) and decision(s): the transfer decision, and the one the
    /// credential is issued under (the same, but for `ReadOnlyGrant`).
    fn authorise(&mut self) -> Result<(EventRef, EventRef), EnvelopeError> {
        let opened = self.opened()?;
        let delegated = self.delegated(0, 1_500, opened)?;
        if self.is(Scenario::OtherInstance) {
            self.delegated(1, 1_600, opened)?;
        }
        let mut issuing = None;
        if self.is(Scenario::ReadOnlyGrant) {
            let body = self.decision("payments:read", &["payments:read"], false);
            issuing = Some(self.emit(PDP, 1_900, body, vec![delegated])?);
        }
        let at = if self.is(Scenario::DecisionAfterStart) {
            11_000
        } else {
            2_000
        };
        let body = self.decision(ACTION, &[ACTION], true);
        let decided = self.emit(PDP, at, body, vec![delegated])?;
        Ok((decided, issuing.unwrap_or(decided)))
    }

    /// Everything up to the action: intent, delegation, decision, approval (high risk),
    /// credential, and the early revocation of `RevokedCredential`. Returns the transfer
    /// decision, the approval and the credential's issuance.
    pub(super) fn prepare(
        &mut self,
    ) -> Result<(EventRef, Option<EventRef>, EventRef), EnvelopeError> {
        let (decided, issuing) = self.authorise()?;
        let (issued, approval) = if self.high_risk {
            let asked = self.approval_request(decided)?;
            if self.is(Scenario::CredentialBeforeApproval) {
                let issued = self.issued(3_500, issuing, None)?;
                (issued, Some(self.approval_granted(asked)?))
            } else {
                let granted = self.approval_granted(asked)?;
                (self.issued(5_000, issuing, Some(granted))?, Some(granted))
            }
        } else {
            (self.issued(5_000, issuing, None)?, None)
        };
        if self.is(Scenario::RevokedCredential) {
            self.revoked(8_000, RevocationReason::Manual, issued)?;
        }
        Ok((decided, approval, issued))
    }

    /// After the action: the token service revokes the credential (unless the scenario
    /// forgets to, or revoked it already), and the front door closes the task.
    pub(super) fn wind_up(&mut self, acted: EventRef) -> Result<(), EnvelopeError> {
        let unrevoked = matches!(
            self.scenario,
            Scenario::NeverRevoked | Scenario::RevokedCredential | Scenario::FutureClose
        );
        if !unrevoked {
            self.revoked(20_000, RevocationReason::TaskClosed, acted)?;
        }
        self.closed()?;
        Ok(())
    }

    /// A task of `scenario`, number `n`, from `t0`, nothing logged yet.
    pub(super) fn new(
        dep: &'d Deployment,
        scenario: Scenario,
        n: u64,
        t0: Timestamp,
        high_risk: bool,
    ) -> Self {
        Run {
            dep,
            scenario,
            n,
            t0,
            high_risk,
            task: TaskId::new_v7(),
            chains: Vec::new(),
            events: Vec::new(),
            human: format!("user{}@bank.example", n % 7),
            agent: if scenario == Scenario::ForeignAgent {
                VENDOR_AGENT
            } else {
                AGENT
            },
            instances: [
                format!("pool-a/{}", n % 3),
                format!("pool-a/{}", (n + 1) % 3),
            ],
            account: format!("account:DE89-{:04}", n % 10_000),
        }
    }
}

/// Runs task number `n` of a scenario starting at `t0`, with no gate before its action;
/// `high_risk` tasks need an approval. Returns the signed events in log order.
///
/// # Errors
/// Only if signing fails.
pub fn run_task(
    dep: &Deployment,
    scenario: Scenario,
    n: u64,
    t0: Timestamp,
    high_risk: bool,
) -> Result<TaskRun, EnvelopeError> {
    let mut run = Run::new(dep, scenario, n, t0, high_risk);
    let (decided, approval, issued) = run.prepare()?;
    let action = run.action(decided, approval);
    let acted = run.acted(action, issued)?;
    run.wind_up(acted)?;
    Ok(TaskRun {
        task: run.task,
        events: run.events,
    })
}

/// One long compliant task with `actions` actions under a single decision, approval and
/// credential (for benchmarking audits of large bundles). It is high-risk, so an auditor
/// passes it only where the trust policy allows an approval to cover many executions
/// (`approval_reuse` of the `high` tier).
///
/// # Errors
/// Only if signing fails.
pub fn run_long_task(
    dep: &Deployment,
    actions: u64,
    t0: Timestamp,
) -> Result<TaskRun, EnvelopeError> {
    let base = run_task(dep, Scenario::Compliant, 0, t0, true)?;
    // Reuse the compliant task's first six events (intent to credential) and repeat its
    // action, then revoke and close with a matching manifest.
    let task = base.task;
    let mut events: Vec<VerifiedEvent> = base.events[..6].to_vec();
    // The compliant task's shape is the demo's own: its seventh event is the action.
    let Body::ActionExecuted(template) = base.events[6].event().body.clone() else {
        unreachable!("the compliant task's seventh event is its action")
    };
    let mut gw = dep.chain(GATEWAY, Some(task));
    for k in 0..actions {
        let mut a = template.clone();
        a.action_id = format!("act-{k}");
        a.request_digest = Digest::of(&k.to_le_bytes());
        events.push(gw.emit(Body::ActionExecuted(a), t0.plus_ms(10_400 + k), vec![])?);
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
        _ => unreachable!("the compliant task's sixth event is its credential"),
    };
    events.push(sts.emit(
        Body::CredentialRevoked(CredentialRevoked {
            credential_id: cred,
            reason: RevocationReason::TaskClosed,
            trigger: None,
            effective_at: t0.plus_ms(200_000),
        }),
        t0.plus_ms(200_000),
        vec![],
    )?);
    let mut manifest = Vec::new();
    for (emitter, last) in [(PDP, &events[2]), (APPROVALS, &events[4])] {
        manifest.push(ManifestEntry {
            emitter: workload(emitter)?,
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
        t0.plus_ms(210_000),
        vec![],
    )?);
    Ok(TaskRun { task, events })
}

/// The policy registry's registration of [`registered_policy`], effective from `at`.
///
/// # Errors
/// Only if signing fails.
pub fn registration_event(dep: &Deployment, at: Timestamp) -> Result<VerifiedEvent, EnvelopeError> {
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
