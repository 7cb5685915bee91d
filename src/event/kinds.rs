//! The bodies of the twelve event kinds (`docs/event-model.md`). Field names are the wire names.
//!
//! Fields are declared in wire order, the canonical order of their keys (shorter names
//! first, then alphabetical): serde writes a struct's fields in declaration order, so the
//! strict decode's re-encoding then has nothing to sort (a fifth of an event's decode
//! time when they were in reading order; `docs/performance.md`). A test keeps it so.
//!
//! Times are [`Timestamp`]s: integer milliseconds since the Unix epoch on the wire. Secrets, tokens and instructions
//! are never carried, only their digests.

use serde::{Deserialize, Serialize};

use super::types::{Digest, EventRef, Timestamp, WorkloadId};

/// A policy version: id, revision and the digest of its exact content.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRef {
    /// Policy identifier, e.g. `payments/transfer`.
    pub id: String,
    /// BLAKE3 of the policy's content (bundle, Cedar policy set…).
    pub digest: Digest,
    /// Revision, e.g. a bundle revision or git commit.
    pub revision: String,
}

/// `PolicyRegistered`: a policy version enters the log (ledger-level, no task).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRegistered {
    /// Engine, e.g. `opa` or `cedar`.
    pub engine: String,
    /// The policy version.
    pub policy: PolicyRef,
    /// Rule ids the policy defines.
    pub rule_ids: Vec<String>,
    /// From when decisions may cite it.
    pub effective_from: Timestamp,
}

/// A human principal and how they authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HumanPrincipal {
    /// Subject id at the identity provider.
    pub id: String,
    /// Whether multi-factor authentication was used.
    pub mfa: bool,
    /// The identity provider (issuer URL).
    pub issuer: String,
    /// When they authenticated.
    pub auth_time: Timestamp,
    /// Authentication methods (`amr`), e.g. `pwd`, `hwk`, `otp`.
    pub auth_methods: Vec<String>,
    /// Assurance level (`acr`), e.g. `aal2`.
    pub assurance_level: String,
}

/// How a task started.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskInitiation {
    /// A human asked for it.
    Human,
    /// A schedule a human set up.
    Scheduled,
    /// Another agent spawned it.
    AgentSpawned,
}

/// A four-step scale, used for a task's risk tier and a trust signal's severity.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

/// Risk tier of a task.
pub type RiskTier = Level;

/// Severity of a trust signal.
pub type Severity = Level;

/// `TaskOpened`: the human intent a task starts from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskOpened {
    /// Declared purpose.
    pub purpose: String,
    /// Who asked.
    pub principal: HumanPrincipal,
    /// Risk tier.
    pub risk_tier: RiskTier,
    /// Data classification, e.g. `pii`, `financial`.
    pub data_class: String,
    /// When the task's authority ends.
    pub expires_at: Timestamp,
    /// How it started.
    pub initiation: TaskInitiation,
    /// When the human confirmed it.
    pub confirmed_at: Timestamp,
    /// The most any actor of the task may do.
    pub scope_ceiling: Vec<String>,
    /// Digest of the original instruction.
    pub instruction_digest: Digest,
    /// Digest of the interpretation the human confirmed.
    pub interpretation_digest: Digest,
}

/// Who delegates: a human or a workload.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Delegator {
    /// A human principal, by id.
    Human {
        /// The human's id.
        id: String,
    },
    /// A workload, by id.
    Workload {
        /// The workload's id.
        id: WorkloadId,
    },
}

impl Delegator {
    /// The delegating human's or workload's id.
    #[must_use]
    pub fn id(&self) -> &str {
        match self {
            Self::Human { id } => id,
            Self::Workload { id } => id.as_str(),
        }
    }
}

/// A workload and the instance of it that acts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadRef {
    /// Workload id (SPIFFE-style).
    pub id: WorkloadId,
    /// The instance of a shared pool.
    pub instance: String,
    /// Trust domain, e.g. `bank.example`.
    pub trust_domain: String,
}

/// How authority passes.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DelegationMode {
    /// The delegatee acts as itself on the delegator's behalf (RFC 8693 `act`).
    Delegation,
    /// The delegatee acts as the delegator; recorded, but fails audit.
    Impersonation,
}

/// `DelegationGranted`: authority passes to a workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DelegationGranted {
    /// Delegation or impersonation.
    pub mode: DelegationMode,
    /// What may be done.
    pub scope: Vec<String>,
    /// Who receives.
    pub delegatee: WorkloadRef,
    /// Who delegates.
    pub delegator: Delegator,
    /// Until when.
    pub expires_at: Timestamp,
    /// Whether the delegatee is in another trust domain.
    pub cross_domain: bool,
}

/// Allow or deny.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Allowed.
    Allow,
    /// Denied.
    Deny,
}

/// What a decision was asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// The action, e.g. `payments:transfer`.
    pub action: String,
    /// The human principal on whose behalf.
    pub principal: String,
    /// The resources.
    pub resources: Vec<String>,
    /// Actors from the human down to the acting workload.
    pub actor_chain: Vec<String>,
    /// Digest of the request context.
    pub context_digest: Digest,
}

/// A human approval the decision requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRequirement {
    /// Role the approver must hold.
    pub role: String,
    /// Number of approvals needed.
    pub quorum: u32,
    /// Whether the approver must differ from the requester.
    pub separation_of_duties: bool,
}

/// Conditions attached to an allow.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Obligations {
    /// A human approval, when required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalRequirement>,
    /// Scope the decision grants.
    pub granted_scope: Vec<String>,
    /// Longest lifetime of a credential issued under this decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_credential_ttl_ms: Option<u64>,
}

/// `PolicyDecision`: what the policy decision point decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDecision {
    /// Allow or deny.
    pub effect: Effect,
    /// The policy version that decided.
    pub policy: PolicyRef,
    /// What was asked.
    pub request: DecisionRequest,
    /// Rules that determined the effect.
    pub rule_ids: Vec<String>,
    /// Decision id (e.g. OPA `decision_id`).
    pub decision_id: String,
    /// Conditions.
    pub obligations: Obligations,
    /// Until when the decision may be relied on.
    pub valid_until: Timestamp,
    /// Digest of the full decision input.
    pub input_digest: Digest,
}

/// `ApprovalRequested`: a human approval is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRequested {
    /// Approvals required.
    pub quorum: u32,
    /// The decision (or, for a post-hoc approval, the override) that requires it.
    pub decision: EventRef,
    /// When the request lapses.
    pub expires_at: Timestamp,
    /// Approval id.
    pub approval_id: String,
    /// Digest of the exact action to approve (see [`crate::event::action_digest`]).
    pub action_digest: Digest,
    /// Role required.
    pub required_role: String,
}

/// Result of an approval.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalOutcome {
    /// Granted.
    Granted,
    /// Denied.
    Denied,
    /// Lapsed without an answer.
    Expired,
}

/// A human who approved or denied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approver {
    /// The human's id at the identity provider.
    pub id: String,
    /// Their roles at the time.
    pub roles: Vec<String>,
    /// The identity provider that authenticated them (issuer URL): with the trust policy's
    /// human identity rules, it decides whether the approver is a person.
    pub issuer: String,
}

/// `ApprovalResolved`: the approval service records the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalResolved {
    /// The answer.
    pub outcome: ApprovalOutcome,
    /// The request it answers.
    pub request: EventRef,
    /// Who answered.
    pub approver: Approver,
    /// Approval id.
    pub approval_id: String,
    /// Until when a grant may be used.
    pub valid_until: Timestamp,
}

/// A credential, described without its secret value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    /// Credential id (e.g. access key id, token `jti`).
    pub id: String,
    /// Who issued it.
    pub issuer: String,
    /// What it permits.
    pub scopes: Vec<String>,
    /// Who accepts it.
    pub audience: String,
    /// Type, e.g. `oauth_access_token`, `aws_sts`.
    pub cred_type: String,
    /// Valid until.
    pub expires_at: Timestamp,
    /// Valid from.
    pub not_before: Timestamp,
    /// Digest of the secret value.
    pub value_digest: Digest,
    /// Digest of the key it is bound to (proof of possession), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound_key_digest: Option<Digest>,
}

/// A holder workload instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holder {
    /// Workload id.
    pub id: WorkloadId,
    /// Instance.
    pub instance: String,
}

/// `CredentialIssued`: the token service issued a just-in-time credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialIssued {
    /// Who holds it.
    pub holder: Holder,
    /// The approval it was issued under, if one was required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<EventRef>,
    /// The decision it was issued under.
    pub decision: EventRef,
    /// The credential.
    pub credential: Credential,
}

/// The operation an action performed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    /// Operation, e.g. `payments:transfer` (the decision's `action`).
    pub name: String,
    /// Service called.
    pub service: String,
    /// Resources touched.
    pub resources: Vec<String>,
    /// Permissions exercised.
    pub permissions_used: Vec<String>,
}

/// How an action came about.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionInitiation {
    /// The human asked for exactly this.
    HumanDirect,
    /// The agent planned it to fulfil the intent.
    AgentPlanned,
    /// The agent decided on its own.
    AgentAutonomous,
}

/// Result of an action.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionOutcome {
    /// Succeeded.
    Success,
    /// Failed.
    Failure,
    /// Never ran: the runtime gate refused it (`blocked_by` says which checks). An attempt,
    /// recorded as evidence; it used no credential and spent no approval.
    Blocked,
}

/// `ActionExecuted`: the gateway (or the agent) records an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionExecuted {
    /// Result.
    pub outcome: ActionOutcome,
    /// The approval that covers it, if one was required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<EventRef>,
    /// End.
    pub ended_at: Timestamp,
    /// The instance of the acting workload (the last of `actor_chain`) that acted: in a
    /// shared agent pool, the credential it used must have been issued to this instance.
    pub instance: String,
    /// Action id.
    pub action_id: String,
    /// Decisions that cover it.
    pub decisions: Vec<EventRef>,
    /// What was done.
    pub operation: Operation,
    /// For a blocked attempt, the governance checks the gate found failing (`B2`, `B5`, …),
    /// in increasing order; empty for an action that ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked_by: Vec<String>,
    /// How it came about.
    pub initiation: ActionInitiation,
    /// Start.
    pub started_at: Timestamp,
    /// Actors from the human down to the acting workload.
    pub actor_chain: Vec<String>,
    /// The credential presented.
    pub credential_id: String,
    /// Digest of the request.
    pub request_digest: Digest,
    /// Digest of the response.
    pub response_digest: Digest,
    /// Whether the actor considers it within the confirmed interpretation.
    pub within_confirmed_scope: bool,
}

/// Kind of trust signal (OpenID CAEP/SSF).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalType {
    /// The human's session was revoked.
    SessionRevoked,
    /// A risk level changed.
    RiskChange,
    /// An anomaly was detected.
    Anomaly,
    /// A credential may be compromised.
    CredentialCompromise,
    /// A workload (or one instance of it) may be compromised: its credentials must be
    /// revoked, and no credential may be issued to it for the rest of the task.
    WorkloadCompromised,
}

/// `TrustSignal`: something changed trust during the task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustSignal {
    /// What it is.
    pub signal: SignalType,
    /// Who raised it.
    pub source: String,
    /// Whom it concerns: a principal, workload or credential id.
    pub subject: String,
    /// When `subject` is a workload: the one instance concerned (absent: every instance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// How bad.
    pub severity: Severity,
}

/// Why a credential was revoked.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    /// The task ended.
    TaskClosed,
    /// A trust signal.
    TrustSignal,
    /// The policy changed.
    PolicyChanged,
    /// By hand.
    Manual,
}

/// `CredentialRevoked`: the token service revoked a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialRevoked {
    /// Why.
    pub reason: RevocationReason,
    /// The event that triggered it (a trust signal, a task close), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<EventRef>,
    /// From when it no longer works.
    pub effective_at: Timestamp,
    /// Credential id.
    pub credential_id: String,
}

/// How a task ended.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskOutcome {
    /// Done.
    Completed,
    /// Failed.
    Failed,
    /// Stopped before the end.
    Aborted,
}

/// One emitter's last event in the task, for completeness checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    /// The emitter.
    pub emitter: WorkloadId,
    /// Its last `eseq` in the task.
    pub last_eseq: u64,
    /// Digest of that last event.
    pub last_digest: Digest,
}

/// `TaskClosed`: the task ends, with a manifest of what each emitter logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskClosed {
    /// How it ended.
    pub outcome: TaskOutcome,
    /// Per-emitter last events (excluding this one).
    pub manifest: Vec<ManifestEntry>,
    /// Credentials still valid at close.
    pub credentials_open: Vec<String>,
}

/// What an override does.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideAction {
    /// Break-glass: act outside normal policy.
    BreakGlass,
    /// Stop the agent.
    Stop,
}

/// `Override`: a human intervenes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// Break-glass or stop.
    pub action: OverrideAction,
    /// The event it concerns.
    pub target: EventRef,
    /// The human's id.
    pub principal: String,
    /// Digest of the written justification.
    pub justification_digest: Digest,
    /// When the post-hoc approval is due. The approval itself is an `ApprovalRequested`
    /// whose `decision` refers to this override, answered by an `ApprovalResolved`.
    pub post_hoc_approval_due: Timestamp,
}
