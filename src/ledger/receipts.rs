//! An entry's proof in the standard formats of `crate::receipt`, against the latest
//! checkpoint the ledger serves.

use super::{Ledger, LedgerError};
use crate::envelope::sig_structure;
use crate::merkle::{Hash, HashProfile, TreeHead};
use crate::receipt::{CoseReceipt, TlogProof};
use crate::store::{Storage, StoreError};

impl<S: Storage> Ledger<S> {
    /// A C2SP `tlog-proof` of entry `index`: its inclusion path to the latest checkpoint,
    /// and that checkpoint's note with every cosignature it carries.
    ///
    /// # Errors
    /// [`LedgerError::NotSha256`] for a BLAKE3 log, [`LedgerError::NoCheckpoint`],
    /// [`LedgerError::Prove`] for an index past the checkpoint, or a store error.
    pub fn tlog_proof(&self, index: u64) -> Result<Vec<u8>, LedgerError> {
        self.sha256_only("tlog-proof")?;
        let (note, _, path) = self.latest_inclusion(index)?;
        Ok(TlogProof {
            extra: None,
            index,
            path,
            checkpoint: note,
        }
        .to_text())
    }

    /// A COSE Receipt (RFC 9942) of entry `index` in the tree of the latest checkpoint,
    /// signed now by the log key over that tree's root.
    ///
    /// # Errors
    /// As [`Ledger::tlog_proof`], and [`StoreError::ReadOnly`] without the log key.
    pub fn cose_receipt(&self, index: u64) -> Result<Vec<u8>, LedgerError> {
        self.sha256_only("a COSE Receipt")?;
        let key = self.log_key.as_ref().ok_or(StoreError::ReadOnly)?;
        let (_, head, path) = self.latest_inclusion(index)?;
        let mut receipt = CoseReceipt {
            kid: key.key_id().to_be_bytes(),
            tree_size: head.size,
            leaf_index: index,
            path,
            signature: [0; 64],
        };
        // The log key signs a COSE Sig_structure (it starts 0x84 0x6a "Signature1"): never
        // a note text (UTF-8, its origin first) nor a cosignature message.
        receipt.signature = key.sign(&sig_structure(&receipt.protected(), head.root.as_bytes()));
        Ok(receipt.to_bytes())
    }

    /// The latest checkpoint's note, its tree head, and entry `index`'s path to its root.
    fn latest_inclusion(&self, index: u64) -> Result<(Vec<u8>, TreeHead, Vec<Hash>), LedgerError> {
        let note = self.latest_checkpoint()?.ok_or(LedgerError::NoCheckpoint)?;
        let head = self.open_own(&note)?.tree_head();
        let path = self.prove_inclusion(index, head.size)?.path;
        Ok((note, head, path))
    }

    fn sha256_only(&self, format: &'static str) -> Result<(), LedgerError> {
        if self.profile() == HashProfile::Sha256 {
            Ok(())
        } else {
            Err(LedgerError::NotSha256(format))
        }
    }
}
