//! `fsck` above the store: every entry's signature under the trust policy, and every stored
//! checkpoint signed by the log key, stamped with its time and matching the log; and the
//! gate's snapshot, naming the tasks the log gives.

use super::{Ledger, LedgerError};
use crate::checkpoint::{NoteSignature, VerifiedCheckpoint, cosigner_key_id, open_checkpoint};
use crate::envelope;
use crate::store::{FsckReport, Storage};
use crate::trust::TrustError;

/// A problem found: the file, the offset (or entry index) and what is wrong.
type Problem = Option<(String, u64, String)>;

impl<S: Storage> Ledger<S> {
    /// The checks above the store's own (`Storage::fsck` comes first, in `Ledger::fsck`):
    /// each entry's signature, then each checkpoint.
    pub(super) fn fsck_above_store(
        &self,
        mut report: FsckReport,
        progress: &dyn Fn(u64),
    ) -> Result<FsckReport, LedgerError> {
        if report.problem.is_none() {
            report.problem = match self.fsck_events(progress)? {
                Some(p) => Some(p),
                None => self.fsck_checkpoints()?.or(self.fsck_live_snapshot()?),
            };
        }
        Ok(report)
    }

    /// Every entry's signature; `progress` counts on from the store's pass (the size).
    fn fsck_events(&self, progress: &dyn Fn(u64)) -> Result<Problem, LedgerError> {
        let size = self.store.size();
        for index in 0..size {
            if index % 4096 == 0 {
                progress(size + index);
            }
            let bytes = self.store.entry(index)?;
            if let Err(e) = envelope::parse(&bytes, self.limits)
                .map_err(TrustError::from)
                .and_then(|p| {
                    let key = self.trust.key_for(&p.header().issuer, &p.header().kid)?.key;
                    Ok(p.verify(&key, self.limits)?)
                })
            {
                return Ok(Some((
                    "entries.dat".into(),
                    index,
                    format!("entry {index}: {e}"),
                )));
            }
        }
        Ok(None)
    }

    /// Why a stored checkpoint is not as this ledger stores them (its note signature, its
    /// signed time, and witnesses' cosignatures), if it is not: a damaged line of the log's
    /// could otherwise pass as another key's, which a note reader ignores. Witness lines are
    /// `cosignature/v1`-shaped and never in the log's name ([`Ledger::witness`] stores no
    /// other); those of witnesses the trust policy pins must verify.
    fn foreign_signature(&self, cp: &VerifiedCheckpoint) -> Option<&'static str> {
        let keys = self.verifiers();
        let time_ids: Vec<u32> = keys
            .iter()
            .map(|v| cosigner_key_id(v.name(), v.key()))
            .collect();
        let lines = cp.note().unverified();
        let by_log = |s: &&NoteSignature| s.name == self.origin;
        let witness_shaped = |s: &NoteSignature| s.signature.len() == 8 + 64;
        if cp.log_time().is_none() {
            Some("checkpoint carries no signed time")
        } else if lines
            .iter()
            .filter(by_log)
            .any(|s| !time_ids.contains(&s.key_id))
            || !lines.iter().filter(|s| !by_log(s)).all(witness_shaped)
        {
            Some("checkpoint carries a signature line the log did not write")
        } else if !self
            .trust
            .witness_policy()
            .judge(cp.note().text(), lines)
            .invalid
            .is_empty()
        {
            Some("a pinned witness's cosignature does not verify")
        } else {
            None
        }
    }

    fn fsck_checkpoints(&self) -> Result<Problem, LedgerError> {
        let verifiers = self.verifiers();
        for size in self.store.checkpoint_sizes()? {
            let file = format!("checkpoints/{size}.note");
            let Some(note) = self.store.checkpoint(size)? else {
                continue;
            };
            let cp = match open_checkpoint(&note, &self.origin, &verifiers) {
                Ok(cp) => cp,
                Err(e) => return Ok(Some((file, 0, e.to_string()))),
            };
            if let Some(why) = self.foreign_signature(&cp) {
                return Ok(Some((file, 0, why.into())));
            }
            let head = cp.tree_head();
            if head.size != size || size > self.store.size() || head.root != self.root(size)? {
                return Ok(Some((file, 0, "checkpoint does not match the log".into())));
            }
        }
        Ok(None)
    }
}
