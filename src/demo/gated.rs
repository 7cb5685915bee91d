//! A demo task run as the services of a deployment with a runtime gate run it: each step
//! logged as it happens, the gateway asking the gate before the agent acts (and recording a
//! blocked attempt when it is denied), and the token service revoking what the revocation
//! feed says is due once the task closes.

use super::task::{Run, TaskRun};
use super::workloads::STS;
use super::{Deployment, Scenario};
use crate::envelope::{EnvelopeError, VerifiedEvent};
use crate::event::{
    ActionExecuted, ActionOutcome, Body, CredentialRevoked, EventRef, RevocationReason, TaskId,
    Timestamp,
};
use crate::gate::{ActionRequest, Admission, DueRevocation};

/// A task under way. Between its phases, [`TaskInProgress::unlogged`] gives what its services
/// emitted since the last call, to be appended before the next phase.
pub struct TaskInProgress<'d> {
    run: Run<'d>,
    decided: EventRef,
    approval: Option<EventRef>,
    issued: EventRef,
    logged: usize,
}

impl<'d> TaskInProgress<'d> {
    /// Task number `n` of `scenario` from `t0`, run up to the moment its agent is about to
    /// act: intent, delegation, decision, approval, credential.
    ///
    /// # Errors
    /// Only if signing fails.
    pub fn start(
        dep: &'d Deployment,
        scenario: Scenario,
        n: u64,
        t0: Timestamp,
        high_risk: bool,
    ) -> Result<Self, EnvelopeError> {
        let mut run = Run::new(dep, scenario, n, t0, high_risk);
        let (decided, approval, issued) = run.prepare()?;
        Ok(Self {
            run,
            decided,
            approval,
            issued,
            logged: 0,
        })
    }

    /// The task.
    #[must_use]
    pub const fn task(&self) -> TaskId {
        self.run.task
    }

    /// The events emitted since the last call, in order.
    pub fn unlogged(&mut self) -> &[VerifiedEvent] {
        let from = self.logged;
        self.logged = self.run.events.len();
        &self.run.events[from..]
    }

    fn action(&self) -> ActionExecuted {
        self.run.action(self.decided, self.approval)
    }

    /// What the gateway asks the gate: the action as the agent would take it, leaving the
    /// gate to find the decisions and the approval that cover it.
    #[must_use]
    pub fn request(&self) -> ActionRequest {
        let a = self.action();
        let mut req = ActionRequest::new(
            self.run.task,
            a.actor_chain,
            a.instance,
            a.operation,
            a.credential_id,
            a.started_at,
        );
        req.initiation = a.initiation;
        req
    }

    /// The gateway records the action: run (citing what the gate found, when it asked), or
    /// blocked with the checks the gate named.
    ///
    /// # Errors
    /// Only if signing fails.
    pub fn act(&mut self, admission: Option<&Admission>) -> Result<(), EnvelopeError> {
        let mut action = self.action();
        match admission {
            Some(a) if a.allowed => {
                action.decisions.clone_from(&a.decisions);
                action.approval = a.approval;
            }
            Some(a) => {
                action.outcome = ActionOutcome::Blocked;
                action.blocked_by = a.blocked_by();
            }
            None => {}
        }
        let acted = self.run.acted(action, self.issued)?;
        self.run.wind_up(acted)
    }

    /// The token service answers the feed: it revokes `due` (one of this task's credentials)
    /// a second after the task closed, within the auditor's grace.
    ///
    /// # Errors
    /// Only if signing fails.
    pub fn revoke(&mut self, due: &DueRevocation) -> Result<(), EnvelopeError> {
        let at = self.run.close_at() + 1_000;
        let body = Body::CredentialRevoked(CredentialRevoked {
            credential_id: due.credential_id.clone(),
            reason: RevocationReason::TaskClosed,
            trigger: None,
            effective_at: self.run.at(at),
        });
        self.run.emit(STS, at, body, vec![due.issued]).map(|_| ())
    }

    /// The task's events, in log order.
    #[must_use]
    pub fn finish(self) -> TaskRun {
        TaskRun {
            task: self.run.task,
            events: self.run.events,
        }
    }
}
