//! Exporting a task's evidence bundle (`docs/bundle-format.md`).

use std::collections::BTreeMap;

use crate::bundle::{
    BUNDLE_VERSION, Bundle, BundleConsistency, BundleEntry, Bytes, LogDescriptor, NodeHash,
};
use crate::cbor::Limits;

use crate::envelope;
use crate::event::{Body, Digest, TaskId};
use crate::ledger::{LEDGER_LEVEL_TASK, Ledger, LedgerError};
use crate::store::{Storage, StoreError};

impl<S: Storage> Ledger<S> {
    fn bundle_entry(&self, index: u64, size: u64) -> Result<BundleEntry, LedgerError> {
        let proof = self.prove_inclusion(index, size)?;
        Ok(BundleEntry {
            index,
            envelope: Bytes(self.entry(index)?),
            proof: proof.path.into_iter().map(NodeHash).collect(),
        })
    }

    /// Exports the evidence bundle of `task`: a fresh checkpoint (signed if the log grew),
    /// the task's entries with inclusion proofs, the registered policies its decisions cite,
    /// and the older checkpoints around each entry (the latest before it and the first after
    /// it), each with a consistency proof, so that an auditor can bound when every entry
    /// entered the log. Given an older checkpoint note of this log (one the auditor holds),
    /// a consistency proof from it is included too.
    ///
    /// # Errors
    /// [`LedgerError::UnknownTask`] when the log (up to the checkpoint) holds no entry of
    /// the task; [`LedgerError::ForeignCheckpoint`] if `since` is not signed by this log,
    /// [`LedgerError::NotAPrefix`] if it is newer than the bundle's checkpoint or its root is
    /// not this log's; other [`LedgerError`]s.
    pub fn export_bundle(
        &self,
        task: &TaskId,
        since: Option<&[u8]>,
    ) -> Result<Vec<u8>, LedgerError> {
        self.export_bundle_with_progress(task, since, &|_, _| {})
    }

    /// As [`Ledger::export_bundle`], telling `progress` how many of the task's entries have
    /// their proofs, and of how many (every few thousand).
    ///
    /// # Errors
    /// As [`Ledger::export_bundle`].
    pub fn export_bundle_with_progress(
        &self,
        task: &TaskId,
        since: Option<&[u8]>,
        progress: &dyn Fn(u64, u64),
    ) -> Result<Vec<u8>, LedgerError> {
        let note = self.checkpoint()?;
        let head = self.open_own(&note)?.tree_head();
        let indices: Vec<u64> = self
            .task_entries(task)?
            .into_iter()
            .filter(|&i| i < head.size)
            .collect();
        if indices.is_empty() {
            return Err(LedgerError::UnknownTask(*task));
        }
        let total = indices.len() as u64;
        let entries = (0..)
            .zip(&indices)
            .map(|(k, &i)| {
                if k % 4096 == 0 {
                    progress(k, total);
                }
                self.bundle_entry(i, head.size)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let policies = self.cited_policy_entries(&entries, head.size)?;
        let logged: Vec<u64> = entries.iter().chain(&policies).map(|e| e.index).collect();
        let earlier = self.earlier_checkpoints(&logged, head.size, since)?;
        let bundle = Bundle {
            version: BUNDLE_VERSION,
            log: LogDescriptor {
                origin: self.origin().to_owned(),
                hash: self.profile().name().to_owned(),
            },
            checkpoint: Bytes(note),
            task: *task,
            earlier,
            entries,
            policies,
        };
        // A bundle holds byte strings, text and integers only: nothing serde can fail on, no
        // float or tag, no map whose keys could collide.
        Ok(bundle
            .to_cbor()
            .unwrap_or_else(|e| unreachable!("a bundle always encodes: {e}")))
    }

    /// The registration entries of the policies the task's decisions cite.
    fn cited_policy_entries(
        &self,
        entries: &[BundleEntry],
        size: u64,
    ) -> Result<Vec<BundleEntry>, LedgerError> {
        let cited = cited_policies(entries);
        let mut policies = Vec::new();
        for index in self
            .task_entries(&LEDGER_LEVEL_TASK)?
            .into_iter()
            .filter(|&i| i < size)
        {
            let bytes = self.entry(index)?;
            if let Some(Body::PolicyRegistered(p)) = payload(&bytes).map(|e| e.body)
                && cited.contains(&p.policy.digest)
            {
                policies.push(self.bundle_entry(index, size)?);
            }
        }
        Ok(policies)
    }

    /// The stored checkpoints just before and just after each logged index (below `size`),
    /// and `since`, each with a consistency proof to `size`, by ascending size.
    fn earlier_checkpoints(
        &self,
        logged: &[u64],
        size: u64,
        since: Option<&[u8]>,
    ) -> Result<Vec<BundleConsistency>, LedgerError> {
        let stored = self.store().checkpoint_sizes()?;
        let mut wanted = BTreeMap::new();
        for &index in logged {
            // The latest checkpoint not including the entry, and the first one including it.
            let after = stored.partition_point(|&s| s <= index);
            let around = [after.checked_sub(1), Some(after)];
            for &s in around.iter().flatten().filter_map(|&k| stored.get(k)) {
                if s < size {
                    wanted.insert(s, None);
                }
            }
        }
        if let Some(old) = since {
            let head = self
                .open_own(old)
                .map_err(LedgerError::ForeignCheckpoint)?
                .tree_head();
            // Checked here even at the bundle's size, where no proof is made: a checkpoint
            // the log key signed over another tree of that size is a fork to report.
            if head.size > size || self.root(head.size)? != head.root {
                return Err(LedgerError::NotAPrefix {
                    size: head.size,
                    tree_size: size,
                });
            }
            if head.size != size {
                // A checkpoint at the bundle's size needs no proof; a newer one is refused.
                wanted.entry(head.size).or_insert(Some(old.to_vec()));
            }
        }
        let mut out = Vec::with_capacity(wanted.len());
        for (s, note) in wanted {
            let note = match note {
                Some(n) => n,
                None => self
                    .store()
                    .checkpoint(s)?
                    .ok_or_else(|| StoreError::Corrupt(format!("checkpoint {s} vanished")))?,
            };
            out.push(self.consistency_from(&note, size)?);
        }
        Ok(out)
    }

    fn consistency_from(
        &self,
        old_note: &[u8],
        size: u64,
    ) -> Result<BundleConsistency, LedgerError> {
        let old = self
            .open_own(old_note)
            .map_err(LedgerError::ForeignCheckpoint)?
            .tree_head();
        if old.size > size || self.root(old.size)? != old.root {
            return Err(LedgerError::NotAPrefix {
                size: old.size,
                tree_size: size,
            });
        }
        let path = if old.size == 0 {
            Vec::new()
        } else {
            self.prove_consistency(old.size, size)?.path
        };
        Ok(BundleConsistency {
            old_checkpoint: Bytes(old_note.to_vec()),
            proof: path.into_iter().map(NodeHash).collect(),
        })
    }
}

/// The decoded event of an envelope, unverified: export only selects entries by it.
fn payload(bytes: &[u8]) -> Option<crate::event::Event> {
    envelope::decode_unverified(bytes, Limits::default().with_max_len(usize::MAX)).ok()
}

/// Content digests of the policies the task's decisions cite.
fn cited_policies(entries: &[BundleEntry]) -> Vec<Digest> {
    entries
        .iter()
        .filter_map(|e| match payload(&e.envelope.0)?.body {
            Body::PolicyDecision(d) => Some(d.policy.digest),
            _ => None,
        })
        .collect()
}
