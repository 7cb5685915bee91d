//! [`EmitterChain`]: builds and signs one emitter's events for one task, filling in the
//! fields that are easy to get wrong by hand (id, `eseq`, `prev`).

use std::collections::BTreeMap;

use ed25519_dalek::ed25519::signature::{Keypair, Signer};
use ed25519_dalek::{Signature, VerifyingKey};

use super::{EnvelopeError, VerifiedEvent, sign};
use crate::event::{
    Assurance, Body, Digest, Event, EventId, EventRef, ManifestEntry, SCHEMA_VERSION, TaskId,
    Timestamp, WorkloadId,
};

/// One emitter's sequence of events within one task (or its ledger-level events).
///
/// ```
/// use warrant_ledger::envelope::EmitterChain;
/// use warrant_ledger::event::*;
///
/// let key = warrant_ledger::keys::generate_signing_key();
/// let pdp = WorkloadId::new("spiffe://bank.example/pdp")?;
/// let mut chain = EmitterChain::for_task(key, pdp, TaskId::new_v7(), Assurance::Enforced);
/// let signal = Body::TrustSignal(TrustSignal {
///     source: "idp".into(),
///     signal: SignalType::RiskChange,
///     subject: "alice".into(),
///     instance: None,
///     severity: Severity::Low,
/// });
/// let first = chain.emit(signal.clone(), Timestamp::from_millis(1_700_000_000_000), vec![])?;
/// let second = chain.emit(signal, Timestamp::from_millis(1_700_000_000_001), vec![])?;
/// assert_eq!(second.event().eseq, 1);
/// assert_eq!(second.event().prev, Some(first.digest()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct EmitterChain<S> {
    signer: S,
    emitter: WorkloadId,
    task: Option<TaskId>,
    assurance: Assurance,
    next_eseq: u64,
    prev: Option<Digest>,
}

impl<S> EmitterChain<S>
where
    S: Signer<Signature> + Keypair<VerifyingKey = VerifyingKey>,
{
    /// A chain for `emitter`'s events in `task`.
    pub const fn for_task(
        signer: S,
        emitter: WorkloadId,
        task: TaskId,
        assurance: Assurance,
    ) -> Self {
        Self {
            signer,
            emitter,
            task: Some(task),
            assurance,
            next_eseq: 0,
            prev: None,
        }
    }

    /// A chain for `emitter`'s ledger-level events (policy registrations).
    pub const fn ledger_level(signer: S, emitter: WorkloadId, assurance: Assurance) -> Self {
        Self {
            signer,
            emitter,
            task: None,
            assurance,
            next_eseq: 0,
            prev: None,
        }
    }

    /// Builds, signs and records the next event with a fresh UUIDv7 id.
    ///
    /// # Errors
    /// As [`sign`]; on error the chain is unchanged.
    pub fn emit(
        &mut self,
        body: Body,
        time: Timestamp,
        refs: Vec<EventRef>,
    ) -> Result<VerifiedEvent, EnvelopeError> {
        self.emit_with_id(EventId::new_v7(), body, time, refs)
    }

    /// As [`EmitterChain::emit`] with a caller-chosen id (for reproducible test vectors).
    ///
    /// # Errors
    /// As [`sign`]; on error the chain is unchanged.
    pub fn emit_with_id(
        &mut self,
        id: EventId,
        body: Body,
        time: Timestamp,
        refs: Vec<EventRef>,
    ) -> Result<VerifiedEvent, EnvelopeError> {
        let event = Event {
            v: SCHEMA_VERSION,
            id,
            task: self.task,
            emitter: self.emitter.clone(),
            eseq: self.next_eseq,
            prev: self.prev,
            time,
            refs,
            assurance: self.assurance,
            body,
            ext: BTreeMap::new(),
        };
        let signed = sign(&event, &self.signer)?;
        self.next_eseq += 1;
        self.prev = Some(signed.digest());
        Ok(signed)
    }

    /// Continues the chain after `event`, an event this emitter already logged in this task
    /// (for a service that restarts and picks up where it left off).
    pub fn resume_after(&mut self, event: &VerifiedEvent) {
        self.next_eseq = event.event().eseq + 1;
        self.prev = Some(event.digest());
    }

    /// The emitter.
    pub const fn emitter(&self) -> &WorkloadId {
        &self.emitter
    }

    /// The last event's `eseq` and digest, for a `TaskClosed` manifest; `None` before the first.
    pub fn last(&self) -> Option<(u64, Digest)> {
        self.prev.map(|d| (self.next_eseq - 1, d))
    }

    /// This emitter's entry in a `TaskClosed` manifest: its last event so far; `None` before
    /// the first.
    pub fn manifest_entry(&self) -> Option<ManifestEntry> {
        self.last().map(|(last_eseq, last_digest)| ManifestEntry {
            emitter: self.emitter.clone(),
            last_eseq,
            last_digest,
        })
    }
}
