//! The runtime gate: the governance chain checked *before* an action runs, and the
//! credentials that must be revoked now (`docs/gate.md`).
//!
//! A ledger keeps, for each open task, the events the governance rules need, updated as
//! events are appended ([`crate::ledger::Ledger::admit`],
//! [`crate::ledger::Ledger::due_revocations`]). The gate judges a request with the auditor's
//! own rules (one implementation, in `governance`), on the events logged so far: it
//! allows exactly what the auditor, given the same events, would find no fault with. What
//! it cannot know yet (a revocation logged later but dated earlier, whether the task will
//! close) is in `docs/gate.md`.
//!
//! This module holds the types of the gate's questions and answers, and the live state
//! behind them; the ledger answers.

pub(crate) mod admit;
mod feed;
pub(crate) mod snapshot;
pub(crate) mod state;

use serde::{Deserialize, Serialize};

pub(crate) use self::snapshot::{read_snapshot, write_snapshot};
use crate::event::{ActionInitiation, EventError, EventId, EventRef, Operation, TaskId, Timestamp};

/// What a gateway asks before it lets an agent act: what the `ActionExecuted` it would then
/// record carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ActionRequest {
    /// The task the action is for.
    pub task: TaskId,
    /// The human, then each workload down to the one that would act.
    pub actor_chain: Vec<String>,
    /// The acting workload's instance.
    pub instance: String,
    /// What it would do.
    pub operation: Operation,
    /// The credential it presents.
    pub credential_id: String,
    /// When it would start.
    pub at: Timestamp,
    /// How it came about (`agent_planned` when absent).
    #[serde(default = "agent_planned")]
    pub initiation: ActionInitiation,
    /// Whether the agent considers it within the human's confirmed instruction (`true`
    /// when absent).
    #[serde(default = "yes")]
    pub within_confirmed_scope: bool,
    /// The decisions it relies on; when absent, every decision of the task is considered
    /// and the admission names those that cover it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decisions: Option<Vec<EventRef>>,
    /// The approval it relies on; when absent and one is needed, the gate looks for one
    /// among the task's granted approvals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<EventRef>,
    /// Judge the action as citing exactly `decisions` and `approval` (no approval when
    /// absent), as a recorded action is judged; `false` when absent: the gate finds them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub as_cited: bool,
}

const fn agent_planned() -> ActionInitiation {
    ActionInitiation::AgentPlanned
}

const fn yes() -> bool {
    true
}

impl ActionRequest {
    /// A request with the defaults: agent-planned, within the confirmed scope, decisions
    /// and approval found by the gate.
    #[must_use]
    pub fn new(
        task: TaskId,
        actor_chain: Vec<String>,
        instance: String,
        operation: Operation,
        credential_id: String,
        at: Timestamp,
    ) -> Self {
        Self {
            task,
            actor_chain,
            instance,
            operation,
            credential_id,
            at,
            initiation: agent_planned(),
            within_confirmed_scope: true,
            decisions: None,
            approval: None,
            as_cited: false,
        }
    }
}

/// One rule a request breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Denial {
    /// The auditor's check id (`B5`).
    pub check: String,
    /// Why.
    pub reason: String,
    /// The events that show it.
    pub events: Vec<EventId>,
}

/// The gate's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Admission {
    /// Whether the action may run: no rule is broken.
    pub allowed: bool,
    /// Every rule broken, in check order (empty when allowed).
    pub denials: Vec<Denial>,
    /// The decisions that cover the action, for its `decisions`.
    pub decisions: Vec<EventRef>,
    /// The approval it relies on, for its `approval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<EventRef>,
    /// The other events the answer rests on (the intent, the delegations of the actor
    /// chain, the credential's issuance), for its `refs`.
    pub relied_on: Vec<EventRef>,
    /// The log size the answer was given at: it judged the events below it.
    pub log_size: u64,
}

impl Admission {
    /// The check ids of the denials, in order: an `ActionExecuted`'s `blocked_by`.
    #[must_use]
    pub fn blocked_by(&self) -> Vec<String> {
        self.denials.iter().map(|d| d.check.clone()).collect()
    }
}

/// A request the gate cannot judge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GateError {
    /// A field of the request breaks the event model's rules for an `ActionExecuted`
    /// (an empty or malformed identifier).
    #[error("the request is malformed: {0}")]
    Request(EventError),
    /// The request is dated where the ledger accepts no event (seconds for milliseconds,
    /// far ahead of its clock, before the log existed).
    #[error("the request's time: {0}")]
    Time(#[from] crate::ledger::TimeError),
}

/// Why a credential must be revoked now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "cause")]
#[non_exhaustive]
pub enum DueCause {
    /// Its task closed (the close event).
    TaskClosed {
        /// The `TaskClosed` event.
        event: EventId,
    },
    /// A trust signal concerns it, its holder or the task's human.
    TrustSignal {
        /// The `TrustSignal` event.
        event: EventId,
    },
    /// No delegation to its holder's instance is in force any more.
    DelegationExpired {
        /// When the last of them expired.
        at: Timestamp,
    },
    /// It expired and was never revoked.
    Expired {
        /// Its expiry.
        at: Timestamp,
    },
}

/// A credential that must be revoked now, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DueRevocation {
    /// Its task.
    pub task: TaskId,
    /// The credential id.
    pub credential_id: String,
    /// The `CredentialIssued` event.
    pub issued: EventRef,
    /// Why now.
    pub cause: DueCause,
}
