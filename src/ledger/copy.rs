//! Copying a ledger into another store (`warrant migrate`): every entry in order, every
//! stored checkpoint, then a check that both hold the same log.
//!
//! The destination is complete only once its descriptor (origin, log keys) is written,
//! last: a copy interrupted part-way is not a ledger anyone opens by mistake.

use std::path::Path;

use super::{
    Ledger, LedgerError, ORIGIN_FILE, VERIFIER_FILE, index_task, keys_fn, write_descriptor,
};
use crate::cbor::Limits;
use crate::envelope;
use crate::merkle::root_at;
use crate::store::{FileStore, NewEntry, Storage, StoreError, StoreNodes};

/// What a copy moved, and checked equal on both sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CopyReport {
    /// Entries copied.
    pub entries: u64,
    /// Checkpoints copied, each byte for byte, with the same root at its size on both sides.
    pub checkpoints: usize,
}

/// Entries appended per batch of the destination.
const COPY_BATCH: usize = 4096;

impl<S: Storage> Ledger<S> {
    /// Copies this log into `to`, an empty store of the same profile (of any backend), and
    /// checks the copy: every entry read back byte for byte, every checkpoint, the roots.
    /// The caller keeps writers away from this ledger meanwhile (opens it exclusively) and
    /// records the ledger's origin and keys beside the copy ([`Ledger::create_copy`] does
    /// all of it for a directory).
    ///
    /// # Errors
    /// [`StoreError::Exists`] if `to` is not empty, [`LedgerError::CopyDiffers`] if the
    /// copy does not read back as the original, [`LedgerError::Entry`] for an entry that
    /// does not decode, or a store error.
    pub fn copy_into<T: Storage>(&self, to: &T) -> Result<CopyReport, LedgerError> {
        if to.size() != 0 || !to.checkpoint_sizes()?.is_empty() {
            return Err(StoreError::Exists.into());
        }
        let size = self.size();
        let mut next = 0;
        while next < size {
            let end = size.min(next + COPY_BATCH as u64);
            let bytes = (next..end)
                .map(|i| self.store.entry(i))
                .collect::<Result<Vec<_>, _>>()?;
            let batch = self.new_entries(next, &bytes)?;
            let first = to.append(&batch)?;
            // Read back while the original bytes are in hand: each entry is read from the
            // source once, and a destination that does not return what it was given is
            // caught here.
            for (index, original) in (first..).zip(&bytes) {
                if to.entry(index)? != *original {
                    return Err(LedgerError::CopyDiffers(format!("entry {index}")));
                }
            }
            next = end;
        }
        let sizes = self.store.checkpoint_sizes()?;
        for &at in &sizes {
            if let Some(note) = self.store.checkpoint(at)? {
                to.put_checkpoint(at, &note)?;
            }
        }
        self.check_copy(to, &sizes)?;
        Ok(CopyReport {
            entries: size,
            checkpoints: sizes.len(),
        })
    }

    /// The store's view of entries `first..` (leaf hash, event id, task), as an append
    /// computes it; an entry that does not decode stops the copy.
    fn new_entries<'a>(
        &self,
        first: u64,
        bytes: &'a [Vec<u8>],
    ) -> Result<Vec<NewEntry<'a>>, LedgerError> {
        let profile = self.profile();
        let limits = Limits::default().with_max_len(usize::MAX);
        (first..)
            .zip(bytes)
            .map(|(index, b)| {
                let (event_id, task) = envelope::keys_unverified(b, limits)
                    .map_err(|source| LedgerError::Entry { index, source })?;
                Ok(NewEntry {
                    bytes: b,
                    leaf: profile.leaf_hash(b),
                    event_id,
                    task: Some(index_task(task)),
                })
            })
            .collect()
    }

    /// Both stores hold the same tree (the entries were compared as they were copied), and
    /// every stored checkpoint identically, each opening under this log's keys and signing
    /// the root both trees have at its size.
    fn check_copy<T: Storage>(&self, to: &T, sizes: &[u64]) -> Result<(), LedgerError> {
        let size = self.size();
        let differs = |what: String| LedgerError::CopyDiffers(what);
        if to.size() != size {
            return Err(differs(format!("{} entries, not {size}", to.size())));
        }
        for &at in sizes {
            let (ours, theirs) = (self.store.checkpoint(at)?, to.checkpoint(at)?);
            let Some(note) = ours.filter(|n| Some(n) == theirs.as_ref()) else {
                return Err(differs(format!("the checkpoint at size {at}")));
            };
            let signed = self.open_own(&note)?.tree_head();
            let copied = root_at(self.profile(), &StoreNodes(to), at)?;
            if signed.size != at || signed.root != self.root(at)? || signed.root != copied {
                return Err(differs(format!("the root at size {at}")));
            }
        }
        let copied = root_at(self.profile(), &StoreNodes(to), size)?;
        if copied != self.root(size)? {
            return Err(differs(format!("the root at size {size}")));
        }
        Ok(())
    }
}

impl Ledger<FileStore> {
    /// Creates a ledger in `dir` holding a copy of `from` (its entries, checkpoints, origin
    /// and log keys), checked as [`CopyReport`] says; returned opened exclusively, without
    /// a signing key. `from` must not be written meanwhile (open it exclusively).
    ///
    /// # Errors
    /// [`StoreError::Exists`] if `dir` holds a store, [`LedgerError::CopyDiffers`] if the
    /// check fails, or a store error.
    pub fn create_copy<S: Storage>(
        dir: &Path,
        from: &Ledger<S>,
    ) -> Result<(Self, CopyReport), LedgerError> {
        if dir.join(ORIGIN_FILE).exists() {
            return Err(StoreError::Exists.into());
        }
        let store = FileStore::create(dir, from.profile(), keys_fn(), None)?;
        let report = from.copy_into(&store)?;
        let keys: Vec<String> = from.verifiers().iter().map(ToString::to_string).collect();
        write_descriptor(dir, VERIFIER_FILE, &(keys.join("\n") + "\n"))?;
        write_descriptor(dir, ORIGIN_FILE, &format!("{}\n", from.origin()))?;
        let ledger = Self::without_key(store, from.origin(), from.verifier())
            .with_retired(from.retired.clone());
        Ok((ledger, report))
    }
}

#[cfg(feature = "postgres")]
impl Ledger<crate::store::PgStore> {
    /// Creates a ledger in the PostgreSQL database `config` names (it must hold none)
    /// holding a copy of `from`, as [`Ledger::create_copy`] does for a directory; the
    /// descriptor is stored last.
    ///
    /// # Errors
    /// [`StoreError::Exists`] if the database holds a log, [`LedgerError::CopyDiffers`],
    /// or a store error.
    pub fn create_copy_in_postgres<S: Storage>(
        config: &str,
        from: &Ledger<S>,
    ) -> Result<(Self, CopyReport), LedgerError> {
        let store = crate::store::PgStore::create(config, from.profile())?;
        let report = from.copy_into(&store)?;
        let keys: Vec<String> = from.verifiers().iter().map(ToString::to_string).collect();
        store.put_descriptor(&crate::store::PgDescriptor {
            origin: from.origin().to_owned(),
            log_keys: keys.join("\n") + "\n",
        })?;
        let ledger = Self::without_key(store, from.origin(), from.verifier())
            .with_retired(from.retired.clone());
        Ok((ledger, report))
    }
}
