//! Asking witnesses to cosign the ledger's latest checkpoint (C2SP `tlog-witness`), and
//! keeping their cosignatures on the stored note, which bundles then carry.

use std::sync::PoisonError;

use super::{Ledger, LedgerError};
use crate::checkpoint::{Checkpoint, CheckpointError, Note, NoteSignature};
use crate::store::Storage;
use crate::witness::{CosignError, Cosigner, accept_cosignatures, request_body};

/// What [`Ledger::witness`] obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WitnessOutcome {
    /// The size of the checkpoint sent.
    pub size: u64,
    /// The stored note, with every cosignature it now carries.
    pub note: Vec<u8>,
    /// The witnesses that cosigned it, by [`Cosigner::name`].
    pub cosigned: Vec<String>,
    /// The witnesses that did not, and why.
    pub refused: Vec<(String, CosignError)>,
}

impl<S: Storage> Ledger<S> {
    /// Sends the latest checkpoint (signing one first if the log grew) to each witness with
    /// a consistency proof from the size it holds, and stores the note with the
    /// cosignatures they return; bundles exported afterwards carry it.
    ///
    /// A witness that refuses does not stop the others: it is listed in
    /// [`WitnessOutcome::refused`]. A witness that holds a larger tree, or another tree of
    /// the same size ([`CosignError::Ahead`], [`CosignError::Fork`]), has seen something
    /// this log does not contain: treat it as an incident.
    ///
    /// # Errors
    /// [`LedgerError`] when no checkpoint can be had or the cosigned note cannot be stored
    /// (a read-only ledger stores nothing).
    pub fn witness(&self, witnesses: &[&dyn Cosigner]) -> Result<WitnessOutcome, LedgerError> {
        let signed = self.checkpoint()?;
        let sent = Note::parse(&signed).map_err(CheckpointError::Note)?;
        let size = Checkpoint::parse(sent.text())?.size;
        // The witnesses are asked without a lock (they may be slow); their lines are merged
        // into the note as stored now, which another caller may have cosigned meanwhile.
        let answers: Vec<_> = witnesses
            .iter()
            .map(|w| {
                (
                    w.name(),
                    w.key().is_some(),
                    self.ask(*w, &signed, sent.text(), size),
                )
            })
            .collect();
        let _held = self
            .checkpoint_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let stored = self
            .store
            .checkpoint(size)?
            .unwrap_or_else(|| signed.clone());
        let before = Note::parse(&stored).map_err(CheckpointError::Note)?;
        let mut note = before.clone();
        let mut outcome = WitnessOutcome {
            size,
            note: Vec::new(),
            cosigned: Vec::new(),
            refused: Vec::new(),
        };
        for (name, checked, answer) in answers {
            match answer.and_then(|lines| self.merged(&note, lines, checked).ok_or_else(unusable)) {
                Ok(n) => {
                    note = n;
                    outcome.cosigned.push(name);
                }
                Err(e) => outcome.refused.push((name, e)),
            }
        }
        if note != before {
            self.store.put_checkpoint(size, &note.to_bytes())?;
        }
        outcome.note = note.to_bytes();
        Ok(outcome)
    }

    /// One witness: first from the size it last reported, then once more from the size its
    /// 409 names.
    fn ask(
        &self,
        w: &dyn Cosigner,
        note: &[u8],
        text: &str,
        size: u64,
    ) -> Result<Vec<NoteSignature>, CosignError> {
        let mut old = w.size_hint().min(size);
        for _ in 0..2 {
            let proof = if old > 0 && old < size {
                self.prove_consistency(old, size)
                    .map_err(|e| CosignError::Unreachable(format!("no proof from {old}: {e}")))?
                    .path
            } else {
                Vec::new()
            };
            match w.add_checkpoint(&request_body(old, &proof, note)) {
                Ok(answer) => {
                    w.set_size_hint(size);
                    return accept_cosignatures(&answer, text, w.key().as_ref());
                }
                Err(CosignError::Refused {
                    status: 409,
                    size: Some(held),
                    ..
                }) => {
                    w.set_size_hint(held);
                    if held > size {
                        return Err(CosignError::Ahead {
                            witness: held,
                            log: size,
                        });
                    }
                    if held == old {
                        return Err(CosignError::Fork(held));
                    }
                    old = held;
                }
                Err(e) => return Err(e),
            }
        }
        Err(CosignError::BadAnswer(
            "the witness's size changed between two requests".to_owned(),
        ))
    }

    /// `note` with `lines` added, if the result still opens under the log key: a witness's
    /// answer may not break the note for everyone (a line in the log's name, or one that
    /// pushes it past the signature limit). Lines `checked` against the witness's key
    /// replace an earlier line of that key; unchecked ones (a witness asked by URL alone)
    /// are only added where the note has none, so that an impostor answering in another
    /// witness's name cannot push out its valid cosignature.
    fn merged(&self, note: &Note, lines: Vec<NoteSignature>, checked: bool) -> Option<Note> {
        if lines.iter().any(|l| l.name == self.origin) {
            return None;
        }
        let mut next = note.clone();
        for l in lines {
            let present = next
                .signatures()
                .iter()
                .any(|s| s.name == l.name && s.key_id == l.key_id);
            if checked || !present {
                next.put_signature(l);
            }
        }
        let bytes = next.to_bytes();
        self.open_own(&bytes).ok()?;
        Some(next)
    }
}

fn unusable() -> CosignError {
    CosignError::BadAnswer("its lines would make the note fail to open".to_owned())
}
