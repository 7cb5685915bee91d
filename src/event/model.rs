//! The event: common fields, the kind-specific body, and structural validation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::kinds::{
    ActionExecuted, ActionOutcome, ApprovalRequested, ApprovalResolved, CredentialIssued,
    CredentialRevoked, DelegationGranted, Override, PolicyDecision, PolicyRegistered, TaskClosed,
    TaskOpened, TrustSignal,
};
use super::types::{
    Assurance, Digest, EventId, EventRef, TaskId, Timestamp, WorkloadId, is_valid_id,
};

/// The schema version this crate writes and reads.
///
/// Version 2 (this one) added the acting instance of an action, the approver's identity
/// provider, and instance-scoped and workload-compromise trust signals; version 1 events
/// are refused (`docs/event-model.md`, "Versions").
pub const SCHEMA_VERSION: u32 = 3;
/// Most causal references one event may carry.
pub const MAX_REFS: usize = 64;
/// Most extension entries one event may carry.
pub const MAX_EXT: usize = 32;

/// The kind-specific part of an event. On the wire: a map with one key, the kind's name.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)] // Events are built once and moved, never stored by the million.
pub enum Body {
    /// A policy version enters the log.
    PolicyRegistered(PolicyRegistered),
    /// The human intent a task starts from.
    TaskOpened(TaskOpened),
    /// Authority passes to a workload.
    DelegationGranted(DelegationGranted),
    /// The policy decision point decided.
    PolicyDecision(PolicyDecision),
    /// A human approval is asked for.
    ApprovalRequested(ApprovalRequested),
    /// A human approval is answered.
    ApprovalResolved(ApprovalResolved),
    /// A just-in-time credential was issued.
    CredentialIssued(CredentialIssued),
    /// An action was executed.
    ActionExecuted(ActionExecuted),
    /// Trust changed.
    TrustSignal(TrustSignal),
    /// A credential was revoked.
    CredentialRevoked(CredentialRevoked),
    /// The task ended.
    TaskClosed(TaskClosed),
    /// A human overrode the agent.
    Override(Override),
}

/// The name of an event kind, as used in trust policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Kind {
    /// `PolicyRegistered`.
    PolicyRegistered,
    /// `TaskOpened`.
    TaskOpened,
    /// `DelegationGranted`.
    DelegationGranted,
    /// `PolicyDecision`.
    PolicyDecision,
    /// `ApprovalRequested`.
    ApprovalRequested,
    /// `ApprovalResolved`.
    ApprovalResolved,
    /// `CredentialIssued`.
    CredentialIssued,
    /// `ActionExecuted`.
    ActionExecuted,
    /// `TrustSignal`.
    TrustSignal,
    /// `CredentialRevoked`.
    CredentialRevoked,
    /// `TaskClosed`.
    TaskClosed,
    /// `Override`.
    Override,
}

impl Kind {
    /// Every kind, in the order of `docs/event-model.md`.
    pub const ALL: [Self; 12] = [
        Self::PolicyRegistered,
        Self::TaskOpened,
        Self::DelegationGranted,
        Self::PolicyDecision,
        Self::ApprovalRequested,
        Self::ApprovalResolved,
        Self::CredentialIssued,
        Self::ActionExecuted,
        Self::TrustSignal,
        Self::CredentialRevoked,
        Self::TaskClosed,
        Self::Override,
    ];

    /// The kind's wire name, e.g. `TaskOpened`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::PolicyRegistered => "PolicyRegistered",
            Self::TaskOpened => "TaskOpened",
            Self::DelegationGranted => "DelegationGranted",
            Self::PolicyDecision => "PolicyDecision",
            Self::ApprovalRequested => "ApprovalRequested",
            Self::ApprovalResolved => "ApprovalResolved",
            Self::CredentialIssued => "CredentialIssued",
            Self::ActionExecuted => "ActionExecuted",
            Self::TrustSignal => "TrustSignal",
            Self::CredentialRevoked => "CredentialRevoked",
            Self::TaskClosed => "TaskClosed",
            Self::Override => "Override",
        }
    }

    /// Ledger-level kinds belong to no task.
    #[must_use]
    pub const fn is_ledger_level(self) -> bool {
        matches!(self, Self::PolicyRegistered)
    }
}

impl core::fmt::Display for Kind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

impl core::str::FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown event kind {s:?}"))
    }
}

/// `Body::as_*` (the body of one kind, or `None`) and `Body: From<each kind>` (so that
/// `chain.emit(opened.into(), …)` needs no wrapping by hand).
macro_rules! body_accessors {
    ($($name:ident => $kind:ident),* $(,)?) => {
        impl Body {
            $(
                #[doc = concat!("The `", stringify!($kind), "` body, if this is one.")]
                #[must_use]
                pub const fn $name(&self) -> Option<&$kind> {
                    match self {
                        Self::$kind(b) => Some(b),
                        _ => None,
                    }
                }
            )*
        }

        $(
            impl From<$kind> for Body {
                fn from(body: $kind) -> Self {
                    Self::$kind(body)
                }
            }
        )*
    };
}

body_accessors! {
    as_policy_registered => PolicyRegistered,
    as_task_opened => TaskOpened,
    as_delegation_granted => DelegationGranted,
    as_policy_decision => PolicyDecision,
    as_approval_requested => ApprovalRequested,
    as_approval_resolved => ApprovalResolved,
    as_credential_issued => CredentialIssued,
    as_action_executed => ActionExecuted,
    as_trust_signal => TrustSignal,
    as_credential_revoked => CredentialRevoked,
    as_task_closed => TaskClosed,
    as_override => Override,
}

impl Body {
    /// Every time the body holds (when a human authenticated, until when a decision is
    /// valid, when an action started…), for tools that move a whole event in time.
    pub fn times_mut(&mut self) -> Vec<&mut Timestamp> {
        match self {
            Self::PolicyRegistered(p) => vec![&mut p.effective_from],
            Self::TaskOpened(t) => vec![
                &mut t.principal.auth_time,
                &mut t.expires_at,
                &mut t.confirmed_at,
            ],
            Self::DelegationGranted(d) => vec![&mut d.expires_at],
            Self::PolicyDecision(d) => vec![&mut d.valid_until],
            Self::ApprovalRequested(a) => vec![&mut a.expires_at],
            Self::ApprovalResolved(a) => vec![&mut a.valid_until],
            Self::CredentialIssued(c) => {
                vec![&mut c.credential.expires_at, &mut c.credential.not_before]
            }
            Self::ActionExecuted(a) => vec![&mut a.ended_at, &mut a.started_at],
            Self::CredentialRevoked(c) => vec![&mut c.effective_at],
            Self::TaskClosed(_) | Self::TrustSignal(_) => vec![],
            Self::Override(o) => vec![&mut o.post_hoc_approval_due],
        }
    }

    /// This body's kind.
    #[must_use]
    pub const fn kind(&self) -> Kind {
        match self {
            Self::PolicyRegistered(_) => Kind::PolicyRegistered,
            Self::TaskOpened(_) => Kind::TaskOpened,
            Self::DelegationGranted(_) => Kind::DelegationGranted,
            Self::PolicyDecision(_) => Kind::PolicyDecision,
            Self::ApprovalRequested(_) => Kind::ApprovalRequested,
            Self::ApprovalResolved(_) => Kind::ApprovalResolved,
            Self::CredentialIssued(_) => Kind::CredentialIssued,
            Self::ActionExecuted(_) => Kind::ActionExecuted,
            Self::TrustSignal(_) => Kind::TrustSignal,
            Self::CredentialRevoked(_) => Kind::CredentialRevoked,
            Self::TaskClosed(_) => Kind::TaskClosed,
            Self::Override(_) => Kind::Override,
        }
    }
}

/// A governance event: the payload an emitter signs. Fields are in wire order (see
/// `kinds`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Schema version, [`SCHEMA_VERSION`].
    pub v: u32,
    /// Unique id (UUIDv7).
    pub id: EventId,
    /// Extension entries (text to text), for fields later versions may add. Verification of
    /// the signature and chain never depends on them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ext: BTreeMap<String, String>,
    /// The kind-specific part.
    pub body: Body,
    /// Position among this emitter's events in this task (or among its ledger-level
    /// events), from 0 with no gaps.
    pub eseq: u64,
    /// Digest of this emitter's previous event in the task; absent exactly when `eseq` is 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<Digest>,
    /// Causal references to earlier events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refs: Vec<EventRef>,
    /// The task; absent exactly for ledger-level kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskId>,
    /// Emitter's clock.
    pub time: Timestamp,
    /// The emitting workload; must be the identity that signs the envelope.
    pub emitter: WorkloadId,
    /// Enforced or self-reported.
    pub assurance: Assurance,
}

/// An event that is well-formed CBOR but breaks a rule of the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// Another schema version.
    #[error("unsupported schema version {0}")]
    Version(u32),
    /// The id is not a UUIDv7.
    #[error("event id {0} is not a UUIDv7")]
    NotUuidV7(EventId),
    /// A task event without a task, or a ledger-level event with one.
    #[error("{kind} events {}", if kind.is_ledger_level() { "must not carry a task" } else { "need a task" })]
    TaskPresence {
        /// The kind.
        kind: Kind,
    },
    /// The task id is the nil UUID, which the ledger reserves for ledger-level events.
    #[error("the nil UUID is not a task id")]
    NilTask,
    /// `prev` present at `eseq` 0, or absent after it.
    #[error("prev must be absent exactly when eseq is 0 (eseq {eseq})")]
    ChainStart {
        /// The event's eseq.
        eseq: u64,
    },
    /// Too many refs or extension entries.
    #[error("too many {what}: {count} (limit {max})")]
    TooMany {
        /// `refs` or `ext`.
        what: &'static str,
        /// Count found.
        count: usize,
        /// Limit.
        max: usize,
    },
    /// `blocked_by` on an action that ran, or a blocked attempt without it, or naming
    /// something other than governance checks B1–B11 in increasing order.
    #[error(
        "blocked_by must list governance checks (B1-B11, increasing) exactly when the outcome is blocked: {0}"
    )]
    Blocked(&'static str),
    /// An identifier field is empty, too long or has spaces or control characters.
    #[error("invalid identifier in {field}: {value:?}")]
    BadIdentifier {
        /// Which field.
        field: &'static str,
        /// The value.
        value: String,
    },
}

fn check_id(field: &'static str, value: &str) -> Result<(), EventError> {
    if is_valid_id(value) {
        Ok(())
    } else {
        Err(EventError::BadIdentifier {
            field,
            value: value.to_owned(),
        })
    }
}

/// The number of a governance check id (`B7` → 7), if it is one of B1–B11.
#[must_use]
pub fn governance_check_number(id: &str) -> Option<u8> {
    let n: u8 = id.strip_prefix('B')?.parse().ok()?;
    // `parse` accepts "+7" and "07": only the canonical spelling names a check.
    (format!("B{n}") == id && (1..=11).contains(&n)).then_some(n)
}

/// `blocked_by` is present exactly for a blocked attempt, and lists governance checks in
/// increasing order (one spelling for one set: the event is signed as encoded).
fn check_blocked(a: &ActionExecuted) -> Result<(), EventError> {
    let blocked = a.outcome == ActionOutcome::Blocked;
    if blocked == a.blocked_by.is_empty() {
        return Err(EventError::Blocked(if blocked {
            "a blocked attempt names no check"
        } else {
            "an action that ran names checks that blocked it"
        }));
    }
    let mut last = 0;
    for id in &a.blocked_by {
        match governance_check_number(id) {
            Some(n) if n > last => last = n,
            Some(_) => return Err(EventError::Blocked("checks out of order or repeated")),
            None => return Err(EventError::Blocked("not a governance check id")),
        }
    }
    Ok(())
}

impl Event {
    /// This event's kind.
    #[must_use]
    pub const fn kind(&self) -> Kind {
        self.body.kind()
    }

    /// Every reference this event makes: its `refs` and those inside its body (a decision,
    /// approval, request, trigger or target it cites).
    #[must_use]
    pub fn all_refs(&self) -> Vec<EventRef> {
        self.iter_all_refs().collect()
    }

    /// [`Event::all_refs`] without collecting them (an auditor walks them for every event).
    pub fn iter_all_refs(&self) -> impl Iterator<Item = EventRef> + '_ {
        let (many, few): (&[EventRef], [Option<EventRef>; 2]) = match &self.body {
            Body::ApprovalRequested(a) => (&[], [Some(a.decision), None]),
            Body::ApprovalResolved(a) => (&[], [Some(a.request), None]),
            Body::CredentialIssued(c) => (&[], [Some(c.decision), c.approval]),
            Body::ActionExecuted(a) => (&a.decisions, [a.approval, None]),
            Body::CredentialRevoked(c) => (&[], [c.trigger, None]),
            Body::Override(o) => (&[], [Some(o.target), None]),
            _ => (&[], [None, None]),
        };
        self.refs
            .iter()
            .chain(many)
            .copied()
            .chain(few.into_iter().flatten())
    }

    /// A reference to this event, given the digest of its signed envelope.
    #[must_use]
    pub const fn reference(&self, envelope_digest: Digest) -> EventRef {
        EventRef {
            id: self.id,
            digest: envelope_digest,
        }
    }

    /// Moves the event to `time`, and every time of its body by as much, so that what it says
    /// about its own moments holds (for replaying a recorded event now: a fixture, an
    /// example). Times saturate at the epoch and at the last representable instant.
    pub fn retime(&mut self, time: Timestamp) {
        let (from, to) = (self.time.as_millis(), time.as_millis());
        let shift = |t: &mut Timestamp| {
            *t = if to >= from {
                t.plus_ms(to - from)
            } else {
                t.minus_ms(from - to)
            };
        };
        for t in self.body.times_mut() {
            shift(t);
        }
        self.time = time;
    }

    /// Checks the model's structural rules (not the governance checks, which need the whole
    /// task: see the auditor).
    ///
    /// # Errors
    /// The first [`EventError`] found.
    pub fn validate(&self) -> Result<(), EventError> {
        if self.v != SCHEMA_VERSION {
            return Err(EventError::Version(self.v));
        }
        if self.id.0.get_version_num() != 7 {
            return Err(EventError::NotUuidV7(self.id));
        }
        let kind = self.kind();
        if self.task.is_some() == kind.is_ledger_level() {
            return Err(EventError::TaskPresence { kind });
        }
        if self.task.is_some_and(|t| t.0.is_nil()) {
            return Err(EventError::NilTask);
        }
        if (self.eseq == 0) != self.prev.is_none() {
            return Err(EventError::ChainStart { eseq: self.eseq });
        }
        if self.refs.len() > MAX_REFS {
            return Err(EventError::TooMany {
                what: "refs",
                count: self.refs.len(),
                max: MAX_REFS,
            });
        }
        if self.ext.len() > MAX_EXT {
            return Err(EventError::TooMany {
                what: "ext",
                count: self.ext.len(),
                max: MAX_EXT,
            });
        }
        for key in self.ext.keys() {
            check_id("ext key", key)?;
        }
        self.validate_body_ids()
    }

    fn validate_body_ids(&self) -> Result<(), EventError> {
        match &self.body {
            Body::TaskOpened(t) => check_id("principal.id", &t.principal.id),
            Body::PolicyRegistered(p) => check_id("policy.id", &p.policy.id),
            Body::PolicyDecision(d) => check_id("policy.id", &d.policy.id),
            Body::ApprovalResolved(a) => check_id("approver.id", &a.approver.id)
                .and_then(|()| check_id("approver.issuer", &a.approver.issuer)),
            Body::CredentialIssued(c) => check_id("credential.id", &c.credential.id),
            Body::ActionExecuted(a) => check_id("credential_id", &a.credential_id)
                .and_then(|()| check_id("instance", &a.instance))
                .and_then(|()| check_blocked(a)),
            Body::TrustSignal(t) => t
                .instance
                .as_deref()
                .map_or(Ok(()), |i| check_id("instance", i)),
            Body::CredentialRevoked(c) => check_id("credential_id", &c.credential_id),
            Body::Override(o) => check_id("principal", &o.principal),
            _ => Ok(()),
        }
    }
}
