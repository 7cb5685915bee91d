//! Deterministic sample events, one per kind, shared by the integration tests. They back
//! `examples/events/*.json` and `tests/vectors/events/`.
#![allow(dead_code)]

use std::collections::BTreeMap;

use ed25519_dalek::SigningKey;
use uuid::Uuid;
use warrant_ledger::checkpoint::NoteSigner;
use warrant_ledger::envelope::EmitterChain;
use warrant_ledger::event::*;
use warrant_ledger::ledger::{Ledger, TimeBounds};
use warrant_ledger::merkle::{Hash, HashProfile, NodeId};
use warrant_ledger::store::{MemoryStore, NewEntry, Storage, StoreError};
use warrant_ledger::trust::{TrustPolicy, public_key_base64};

/// The fixed test key of the committed vectors: seed = 32 bytes of 0x2a. Never use it for
/// anything else.
pub(crate) fn test_key() -> SigningKey {
    SigningKey::from_bytes(&[0x2a; 32])
}

/// A UUIDv7 with a fixed timestamp prefix and `n` in its random tail.
pub(crate) fn uuid7(n: u128) -> Uuid {
    Uuid::from_u128(0x0193_5f3a_1c00_7000_8000_0000_0000_0000 | n)
}

pub(crate) const T0: u64 = 1_732_780_800_000;

fn d(tag: &str) -> Digest {
    Digest::of(tag.as_bytes())
}

fn r(n: u128, tag: &str) -> EventRef {
    EventRef {
        id: EventId(uuid7(n)),
        digest: d(tag),
    }
}

fn w(s: &str) -> WorkloadId {
    WorkloadId::new(s).expect("valid workload id")
}

fn policy() -> PolicyRef {
    PolicyRef {
        id: "payments/transfer".into(),
        revision: "2026-11-01.3".into(),
        digest: d("policy bundle"),
    }
}

/// One body per kind, with the emitter and assurance that would sign it.
pub(crate) fn sample_bodies() -> Vec<(Body, &'static str, Assurance)> {
    let agent = "spiffe://bank.example/agent/payments";
    vec![
        (
            Body::PolicyRegistered(PolicyRegistered {
                policy: policy(),
                engine: "opa".into(),
                rule_ids: vec![
                    "allow_small_transfer".into(),
                    "require_approval_large".into(),
                ],
                effective_from: ts(T0),
            }),
            "spiffe://bank.example/policy-registry",
            Assurance::Enforced,
        ),
        (
            Body::TaskOpened(TaskOpened {
                principal: HumanPrincipal {
                    id: "alice@bank.example".into(),
                    issuer: "https://idp.bank.example".into(),
                    auth_methods: vec!["pwd".into(), "hwk".into()],
                    auth_time: ts(T0 + 1_000),
                    assurance_level: "aal2".into(),
                    mfa: true,
                },
                instruction_digest: d("pay invoice 1142"),
                interpretation_digest: d("transfer 4200 EUR to ACME"),
                confirmed_at: ts(T0 + 2_000),
                purpose: "vendor payment".into(),
                data_class: "financial".into(),
                scope_ceiling: vec!["payments:transfer".into(), "payments:read".into()],
                risk_tier: RiskTier::High,
                expires_at: ts(T0 + 3_600_000),
                initiation: TaskInitiation::Human,
            }),
            "spiffe://bank.example/front-door",
            Assurance::Enforced,
        ),
        (
            Body::DelegationGranted(DelegationGranted {
                delegator: Delegator::Human {
                    id: "alice@bank.example".into(),
                },
                delegatee: WorkloadRef {
                    id: w(agent),
                    trust_domain: "bank.example".into(),
                    instance: "pool-a/3".into(),
                },
                scope: vec!["payments:transfer".into()],
                expires_at: ts(T0 + 3_600_000),
                mode: DelegationMode::Delegation,
                cross_domain: false,
            }),
            "spiffe://bank.example/front-door",
            Assurance::Enforced,
        ),
        (
            Body::PolicyDecision(PolicyDecision {
                decision_id: "dec-7781".into(),
                policy: policy(),
                request: DecisionRequest {
                    principal: "alice@bank.example".into(),
                    actor_chain: vec!["alice@bank.example".into(), agent.into()],
                    action: "payments:transfer".into(),
                    resources: vec!["account:DE89-0001".into()],
                    context_digest: d("ctx"),
                },
                input_digest: d("input"),
                effect: Effect::Allow,
                rule_ids: vec!["require_approval_large".into()],
                obligations: Obligations {
                    approval: Some(ApprovalRequirement {
                        role: "payments-approver".into(),
                        quorum: 1,
                        separation_of_duties: true,
                    }),
                    max_credential_ttl_ms: Some(300_000),
                    granted_scope: vec!["payments:transfer".into()],
                },
                valid_until: ts(T0 + 600_000),
            }),
            "spiffe://bank.example/pdp",
            Assurance::Enforced,
        ),
        (
            Body::ApprovalRequested(ApprovalRequested {
                approval_id: "apr-19".into(),
                decision: r(4, "decision envelope"),
                action_digest: action_digest("payments:transfer", &["account:DE89-0001".into()]),
                required_role: "payments-approver".into(),
                quorum: 1,
                expires_at: ts(T0 + 900_000),
            }),
            "spiffe://bank.example/approvals",
            Assurance::Enforced,
        ),
        (
            Body::ApprovalResolved(ApprovalResolved {
                approval_id: "apr-19".into(),
                request: r(5, "approval request envelope"),
                outcome: ApprovalOutcome::Granted,
                approver: Approver {
                    id: "bob@bank.example".into(),
                    roles: vec!["payments-approver".into()],
                    issuer: "https://idp.bank.example".into(),
                },
                valid_until: ts(T0 + 900_000),
            }),
            "spiffe://bank.example/approvals",
            Assurance::Enforced,
        ),
        (
            Body::CredentialIssued(CredentialIssued {
                credential: Credential {
                    id: "cred-5f2c".into(),
                    cred_type: "oauth_access_token".into(),
                    value_digest: d("token"),
                    issuer: "https://sts.bank.example".into(),
                    audience: "https://payments.bank.example".into(),
                    scopes: vec!["payments:transfer".into()],
                    not_before: ts(T0 + 10_000),
                    expires_at: ts(T0 + 310_000),
                    bound_key_digest: Some(d("dpop key")),
                },
                holder: Holder {
                    id: w(agent),
                    instance: "pool-a/3".into(),
                },
                decision: r(4, "decision envelope"),
                approval: Some(r(6, "approval envelope")),
            }),
            "spiffe://bank.example/sts",
            Assurance::Enforced,
        ),
        (
            Body::ActionExecuted(ActionExecuted {
                action_id: "act-1".into(),
                actor_chain: vec!["alice@bank.example".into(), agent.into()],
                instance: "pool-a/3".into(),
                operation: Operation {
                    service: "https://payments.bank.example".into(),
                    name: "payments:transfer".into(),
                    resources: vec!["account:DE89-0001".into()],
                    permissions_used: vec!["payments:transfer".into()],
                },
                request_digest: d("request"),
                response_digest: d("response"),
                credential_id: "cred-5f2c".into(),
                decisions: vec![r(4, "decision envelope")],
                approval: Some(r(6, "approval envelope")),
                initiation: ActionInitiation::AgentPlanned,
                within_confirmed_scope: true,
                outcome: ActionOutcome::Success,
                blocked_by: Vec::new(),
                started_at: ts(T0 + 20_000),
                ended_at: ts(T0 + 20_250),
            }),
            "spiffe://bank.example/gateway",
            Assurance::Enforced,
        ),
        (
            Body::TrustSignal(TrustSignal {
                source: "https://idp.bank.example".into(),
                signal: SignalType::RiskChange,
                subject: "alice@bank.example".into(),
                instance: None,
                severity: Severity::Medium,
            }),
            "spiffe://bank.example/risk",
            Assurance::Enforced,
        ),
        (
            Body::CredentialRevoked(CredentialRevoked {
                credential_id: "cred-5f2c".into(),
                reason: RevocationReason::TaskClosed,
                trigger: None,
                effective_at: ts(T0 + 30_000),
            }),
            "spiffe://bank.example/sts",
            Assurance::Enforced,
        ),
        (
            Body::TaskClosed(TaskClosed {
                outcome: TaskOutcome::Completed,
                manifest: vec![ManifestEntry {
                    emitter: w("spiffe://bank.example/gateway"),
                    last_eseq: 0,
                    last_digest: d("action envelope"),
                }],
                credentials_open: vec![],
            }),
            "spiffe://bank.example/front-door",
            Assurance::Enforced,
        ),
        (
            Body::Override(Override {
                principal: "carol@bank.example".into(),
                action: OverrideAction::Stop,
                target: r(8, "action envelope"),
                justification_digest: d("suspicious pattern"),
                post_hoc_approval_due: ts(T0 + 86_400_000),
            }),
            "spiffe://bank.example/front-door",
            Assurance::Enforced,
        ),
    ]
}

/// The sample event of each kind, in DESIGN §4 order.
pub(crate) fn sample_events() -> Vec<Event> {
    let task = TaskId(uuid7(0xffff));
    sample_bodies()
        .into_iter()
        .enumerate()
        .map(|(i, (body, emitter, assurance))| {
            let ledger = body.kind().is_ledger_level();
            let eseq = if i % 2 == 0 { 0 } else { 3 };
            let mut ext = BTreeMap::new();
            if body.kind() == Kind::ActionExecuted {
                ext.insert(
                    "trace_id".to_owned(),
                    "4bf92f3577b34da6a3ce929d0e0e4736".to_owned(),
                );
            }
            Event {
                v: SCHEMA_VERSION,
                id: EventId(uuid7(i as u128 + 1)),
                task: if ledger { None } else { Some(task) },
                emitter: w(emitter),
                eseq,
                prev: (eseq > 0).then(|| d("previous envelope")),
                time: ts(T0 + 1_000 * i as u64),
                refs: if i >= 4 {
                    vec![r(4, "decision envelope")]
                } else {
                    vec![]
                },
                assurance,
                body,
                ext,
            }
        })
        .collect()
}

// Ledger fixtures.

pub(crate) const ORIGIN: &str = "example.com/agents";

/// A new ledger in `dir` under [`ORIGIN`], [`log_key`] and [`sample_trust`].
pub(crate) fn sample_ledger(dir: &std::path::Path, profile: HashProfile) -> Ledger {
    Ledger::create(dir, ORIGIN, profile, log_key(), sample_trust())
        .expect("create ledger")
        .with_time_bounds(TimeBounds::history())
}

/// A new Blake3 ledger in `dir` for the demo deployment `dep`, logged under `log_key`'s
/// origin, with the deployment's policy registered at `at`; and the auditor's trust policy.
pub(crate) fn demo_ledger(
    dep: &warrant_ledger::demo::Deployment,
    dir: &std::path::Path,
    log_key: NoteSigner,
    at: u64,
) -> (Ledger, TrustPolicy) {
    demo_ledger_with_clock(dep, dir, log_key, at, None)
}

/// As [`demo_ledger`], with the ledger's clock given: created at `at` and reading
/// `clock_ms` (ms since the epoch) afterwards. It accepts any event time (the tests feed the
/// auditor what a careless ledger would let through).
pub(crate) fn demo_ledger_with_clock(
    dep: &warrant_ledger::demo::Deployment,
    dir: &std::path::Path,
    log_key: NoteSigner,
    at: u64,
    clock_ms: Option<u64>,
) -> (Ledger, TrustPolicy) {
    let origin = log_key.verifier().name().to_owned();
    let doc = dep.trust_document(&origin, "blake3", &log_key.verifier().to_string());
    let trust = TrustPolicy::try_from(doc).expect("trust");
    type Clock = std::sync::Arc<dyn warrant_ledger::ledger::Clock>;
    let (created, then): (Clock, Clock) = match clock_ms {
        Some(now) => (
            std::sync::Arc::new(move || at),
            std::sync::Arc::new(move || now),
        ),
        None => (
            std::sync::Arc::new(warrant_ledger::ledger::SystemClock),
            std::sync::Arc::new(warrant_ledger::ledger::SystemClock),
        ),
    };
    let ledger = Ledger::create_with_clock(
        dir,
        &origin,
        HashProfile::Blake3,
        log_key,
        trust.clone(),
        created,
    )
    .expect("create")
    .with_clock(then)
    .with_time_bounds(TimeBounds::lenient());
    let policy = warrant_ledger::demo::registration_event(dep, ts(at)).expect("policy");
    ledger.append(policy.bytes()).expect("register");
    (ledger, trust)
}

pub(crate) fn log_key() -> NoteSigner {
    NoteSigner::new(ORIGIN, ed25519_dalek::SigningKey::from_bytes(&[0x11; 32])).expect("signer")
}

/// A policy trusting the test key for a gateway emitter (enforced, most kinds).
pub(crate) fn trust() -> TrustPolicy {
    TrustPolicy::from_toml(&trust_toml()).expect("trust")
}

/// [`trust`] as TOML.
pub(crate) fn trust_toml() -> String {
    let pk = public_key_base64(&test_key().verifying_key());
    format!(
        "version = 1\n[[emitters]]\nworkload = \"spiffe://bank.example/gateway\"\nassurance = \"enforced\"\nkinds = [\"ActionExecuted\", \"TrustSignal\", \"TaskClosed\"]\nkeys = [{{ public_key = \"{pk}\" }}]\n"
    )
}

pub(crate) fn signal_body(n: u64) -> Body {
    Body::TrustSignal(TrustSignal {
        source: format!("src{n}"),
        signal: SignalType::Anomaly,
        subject: "alice".into(),
        instance: None,
        severity: Severity::Low,
    })
}

/// `n` signed events spread over `tasks` tasks.
pub(crate) fn events(n: usize, tasks: usize) -> Vec<Vec<u8>> {
    let w = WorkloadId::new("spiffe://bank.example/gateway").expect("id");
    let mut chains: Vec<_> = (0..tasks)
        .map(|_| {
            EmitterChain::for_task(test_key(), w.clone(), TaskId::new_v7(), Assurance::Enforced)
        })
        .collect();
    (0..n)
        .map(|i| {
            chains[i % tasks]
                .emit(signal_body(i as u64), ts(T0 + i as u64), vec![])
                .expect("sign")
                .into_bytes()
        })
        .collect()
}

/// A trust policy pinning the test key for every emitter of the sample events, each allowed
/// the kinds it signs there.
pub(crate) fn sample_trust() -> TrustPolicy {
    TrustPolicy::try_from(sample_trust_document()).expect("sample trust")
}

/// The document behind [`sample_trust`].
pub(crate) fn sample_trust_document() -> warrant_ledger::trust::TrustDocument {
    let pk = public_key_base64(&test_key().verifying_key());
    let mut kinds: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (body, emitter, _) in sample_bodies() {
        kinds.entry(emitter).or_default().push(body.kind().name());
    }
    kinds
        .entry("spiffe://bank.example/gateway")
        .or_default()
        .extend(["ActionExecuted", "TrustSignal", "TaskClosed"]);
    // The sample events' people: alice asks, bob approves.
    let mut toml = String::from(
        "version = 1\n[governance.humans]\nissuers = [\"https://idp.bank.example\"]\nids = [\"*@bank.example\"]\n",
    );
    for (emitter, ks) in kinds {
        let mut ks = ks;
        ks.sort_unstable();
        ks.dedup();
        let list = ks
            .iter()
            .map(|k| format!("\"{k}\""))
            .collect::<Vec<_>>()
            .join(", ");
        toml.push_str(&format!(
            "\n[[emitters]]\nworkload = \"{emitter}\"\nassurance = \"enforced\"\nkinds = [{list}]\nkeys = [{{ public_key = \"{pk}\" }}]\n"
        ));
    }
    toml::from_str(&toml).expect("sample trust document")
}

/// The instant `ms` milliseconds after the epoch.
pub(crate) fn ts(ms: u64) -> Timestamp {
    Timestamp::from_millis(ms)
}

/// Appends demo task `n` (compliant, high risk, starting at `t0 + 100 s × n`) to `ledger`;
/// its task id.
pub(crate) fn append_demo_task(
    dep: &warrant_ledger::demo::Deployment,
    ledger: &Ledger,
    n: u64,
    t0: u64,
) -> warrant_ledger::event::TaskId {
    let run = warrant_ledger::demo::run_task(
        dep,
        warrant_ledger::demo::Scenario::Compliant,
        n,
        ts(t0 + 100_000 * n),
        true,
    )
    .expect("task");
    let refs: Vec<&[u8]> = run.events.iter().map(|e| e.bytes()).collect();
    ledger.append_batch(&refs).expect("append");
    run.task
}

/// [`events`] as conformance-suite entries, with the event ids and tasks their bytes carry
/// (a store that re-reads keys from the bytes finds the same).
pub(crate) fn conformance_entries(
    n: usize,
) -> Vec<warrant_ledger::store::conformance::SampleEntry> {
    events(n, 3)
        .into_iter()
        .map(|bytes| {
            let event = warrant_ledger::envelope::decode_unverified(
                &bytes,
                warrant_ledger::cbor::Limits::default(),
            )
            .expect("event");
            warrant_ledger::store::conformance::SampleEntry {
                event_id: event.id,
                task: event.task,
                bytes,
            }
        })
        .collect()
}

/// A store that breaks the storage contract: entry `altered` comes back with its first bit
/// flipped (for tests that must catch a lying backend).
pub(crate) struct Lossy {
    inner: MemoryStore,
    altered: u64,
}

impl Lossy {
    pub(crate) const fn new(inner: MemoryStore, altered: u64) -> Self {
        Self { inner, altered }
    }
}

impl Storage for Lossy {
    fn profile(&self) -> HashProfile {
        self.inner.profile()
    }
    fn size(&self) -> u64 {
        self.inner.size()
    }
    fn append(&self, batch: &[NewEntry<'_>]) -> Result<u64, StoreError> {
        self.inner.append(batch)
    }
    fn entry(&self, index: u64) -> Result<Vec<u8>, StoreError> {
        let mut e = self.inner.entry(index)?;
        if index == self.altered {
            e[0] ^= 1;
        }
        Ok(e)
    }
    fn node(&self, id: NodeId) -> Result<Hash, StoreError> {
        self.inner.node(id)
    }
    fn find_event(&self, id: &EventId) -> Result<Option<u64>, StoreError> {
        self.inner.find_event(id)
    }
    fn task_entries(&self, task: &TaskId) -> Result<Vec<u64>, StoreError> {
        self.inner.task_entries(task)
    }
    fn put_checkpoint(&self, size: u64, note: &[u8]) -> Result<(), StoreError> {
        self.inner.put_checkpoint(size, note)
    }
    fn checkpoint(&self, size: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.checkpoint(size)
    }
    fn checkpoint_sizes(&self) -> Result<Vec<u64>, StoreError> {
        self.inner.checkpoint_sizes()
    }
}
