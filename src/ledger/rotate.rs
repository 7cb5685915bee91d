//! Log-key rotation: the log moves to a new checkpoint key with one checkpoint signed by
//! both, so that an auditor can pin the old key up to that size and the new one from it,
//! and every bundle made before the rotation still verifies after it.

use std::path::Path;
use std::sync::PoisonError;

use super::{Ledger, LedgerError, VERIFIER_FILE};
use crate::checkpoint::{Note, NoteSigner};
use crate::store::{FileStore, Storage as _, StoreError};

impl Ledger<FileStore> {
    /// Rotates the log's checkpoint key to `new` (named after the origin) and returns the
    /// size of the bridging checkpoint: the latest, now signed (and timestamped) by both the
    /// old key and `new`. From then on checkpoints are signed by `new` alone, and
    /// [`Ledger::open`] takes only `new`.
    ///
    /// The auditor's trust policy then pins the old key with `until_size` = that size and
    /// `new` with `from_size` = that size (`docs/trust-policy.md`). `log.pub` lists every
    /// key, oldest first, so readers open the checkpoints each signed.
    ///
    /// # Errors
    /// [`LedgerError::KeyMismatch`] for a key named otherwise or the current key again,
    /// [`StoreError::ReadOnly`] without the current key, or a store error.
    pub fn rotate_log_key(mut self, new: NoteSigner) -> Result<(Self, u64), LedgerError> {
        let Some(old) = self.log_key.clone() else {
            return Err(StoreError::ReadOnly.into());
        };
        if new.name() != self.origin || new.verifier() == self.verifier {
            return Err(LedgerError::KeyMismatch {
                key: new.verifier().to_string(),
                expected: format!("a new key named {}", self.origin),
            });
        }
        let bridge = self.checkpoint()?;
        // The new key is listed before it signs anything: a reader never finds a note
        // signed by a key it has not been told of.
        let mut listed: Vec<String> = self.verifiers().iter().map(ToString::to_string).collect();
        listed.push(new.verifier().to_string());
        write_list(self.store.dir(), &listed)?;
        let held = self
            .checkpoint_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut note = Note::parse(&bridge).map_err(crate::checkpoint::CheckpointError::Note)?;
        let opened = self.open_own(&bridge)?;
        let size = opened.tree_head().size;
        note.add_signature(&new);
        note.add_cosignature(&new, opened.log_time().unwrap_or_default());
        self.store.put_checkpoint(size, &note.to_bytes())?;
        drop(held);
        self.retired.push(old.verifier());
        self.verifier = new.verifier();
        self.log_key = Some(new);
        Ok((self, size))
    }
}

/// Replaces `log.pub` with `keys`, one a line, atomically and durably.
fn write_list(dir: &Path, keys: &[String]) -> Result<(), StoreError> {
    let tmp = dir.join(format!(".{VERIFIER_FILE}.tmp"));
    std::fs::write(&tmp, keys.join("\n") + "\n")?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, dir.join(VERIFIER_FILE))?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}
