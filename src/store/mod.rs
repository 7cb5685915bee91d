//! Where the log lives: a narrow [`Storage`] trait, [`MemoryStore`], and [`FileStore`], the
//! embedded default (byte layout in `docs/storage-format.md`).
//!
//! The trait is what a database backend (PostgreSQL, say) would implement: append a batch
//! durably (a crash part-way leaves a prefix of it), read entries and complete-subtree
//! hashes, look up an event id or a task, keep checkpoints. It knows nothing about
//! signatures or proofs.

pub mod conformance;
mod file;
mod memory;
#[cfg(feature = "postgres")]
mod pg;
#[cfg(feature = "postgres")]
mod pg_tls;
#[cfg(feature = "postgres")]
pub(crate) use pg_tls::connect as pg_connect;

use std::io;

pub use file::{FaultHook, FileStore, FsckReport, KeysFn, Op};
pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use pg::{PG_SCHEMA_VERSION, PgDescriptor, PgStore};

use crate::event::{EventId, TaskId};
use crate::merkle::{Hash, HashProfile, NodeId};

/// One entry to append, with the keys the store indexes it by.
#[derive(Debug, Clone, Copy)]
pub struct NewEntry<'a> {
    /// The exact entry bytes (a COSE_Sign1 envelope).
    pub bytes: &'a [u8],
    /// Its leaf hash in the store's profile.
    pub leaf: Hash,
    /// The event id (for duplicate detection).
    pub event_id: EventId,
    /// The task, if any (for listing a task's entries).
    pub task: Option<TaskId>,
}

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// An operating-system I/O error (disk full, permission…).
    #[error("i/o: {0}")]
    Io(#[from] io::Error),
    /// Another process holds the store's write lock.
    #[error("store is locked by another writer")]
    Locked,
    /// The store's files are not a store of this version, or disagree with each other.
    #[error("corrupt store: {0}")]
    Corrupt(String),
    /// An index or tree size beyond the log.
    #[error("index {index} is beyond the log size {size}")]
    OutOfRange {
        /// Asked for.
        index: u64,
        /// Log size.
        size: u64,
    },
    /// An earlier write failed; the store refuses further writes until reopened, because
    /// its in-memory state may no longer match the disk.
    #[error("store is poisoned by an earlier write failure; reopen it")]
    Poisoned,
    /// The directory already holds a store.
    #[error("a store already exists there")]
    Exists,
    /// The store was opened read-only.
    #[error("the store is open read-only")]
    ReadOnly,
    /// The database refused or failed an operation (connection lost, a constraint, a
    /// restart); the transaction, if one was open, did not commit.
    #[cfg(feature = "postgres")]
    #[error("database: {0}")]
    Database(String),
    /// Another process became the log's sequencer since this one did (`PgStore::lead`):
    /// this batch was not committed. Stop appending; a new leader has taken over.
    #[cfg(feature = "postgres")]
    #[error("deposed: another leader took over this log")]
    Deposed,
}

/// The storage backend of a ledger.
///
/// Implementations must make [`Storage::append`] durable when it returns, must never serve
/// an entry that is not, and after a crash during an append must hold a prefix of what was
/// appended (some or none of the unfinished batch's entries, in order, each intact: the
/// file store's commit point is per entry; see `docs/storage-format.md`).
pub trait Storage: Send + Sync {
    /// The hash profile node hashes are computed with.
    fn profile(&self) -> HashProfile;

    /// Number of durable entries.
    fn size(&self) -> u64;

    /// Appends a batch; returns the index of its first entry once the batch is durable.
    ///
    /// # Errors
    /// [`StoreError`]; after an I/O error the store is [`StoreError::Poisoned`].
    fn append(&self, batch: &[NewEntry<'_>]) -> Result<u64, StoreError>;

    /// The bytes of entry `index`.
    ///
    /// # Errors
    /// [`StoreError::OutOfRange`] or an I/O error.
    fn entry(&self, index: u64) -> Result<Vec<u8>, StoreError>;

    /// The hash of a complete subtree within the current log.
    ///
    /// # Errors
    /// [`StoreError::OutOfRange`] or an I/O error.
    fn node(&self, id: NodeId) -> Result<Hash, StoreError>;

    /// The hashes of several complete subtrees, appended to `out` in the order of `ids` (a
    /// proof's nodes: a database reads them in one query).
    ///
    /// # Errors
    /// As [`Storage::node`].
    fn nodes(&self, ids: &[NodeId], out: &mut Vec<Hash>) -> Result<(), StoreError> {
        for &id in ids {
            out.push(self.node(id)?);
        }
        Ok(())
    }

    /// The index of the entry with this event id, if any. May read candidate entries.
    ///
    /// # Errors
    /// An I/O error.
    fn find_event(&self, id: &EventId) -> Result<Option<u64>, StoreError>;

    /// [`Storage::find_event`] for each of `ids`, in their order (a database answers them
    /// in one query).
    ///
    /// # Errors
    /// As [`Storage::find_event`].
    fn find_events(&self, ids: &[EventId]) -> Result<Vec<Option<u64>>, StoreError> {
        ids.iter().map(|id| self.find_event(id)).collect()
    }

    /// Indices of a task's entries, ascending.
    ///
    /// # Errors
    /// An I/O error.
    fn task_entries(&self, task: &TaskId) -> Result<Vec<u64>, StoreError>;

    /// Stores a signed checkpoint note for tree size `size` (durably).
    ///
    /// # Errors
    /// An I/O error.
    fn put_checkpoint(&self, size: u64, note: &[u8]) -> Result<(), StoreError>;

    /// The checkpoint for exactly `size`, if one was stored.
    ///
    /// # Errors
    /// An I/O error.
    fn checkpoint(&self, size: u64) -> Result<Option<Vec<u8>>, StoreError>;

    /// Sizes of all stored checkpoints, ascending.
    ///
    /// # Errors
    /// An I/O error.
    fn checkpoint_sizes(&self) -> Result<Vec<u64>, StoreError>;

    /// For a store opened read-only beside a writer, catches up with what the writer has
    /// committed since; returns the size. A writable store is always current.
    ///
    /// # Errors
    /// An I/O error.
    fn refresh(&self) -> Result<u64, StoreError> {
        Ok(self.size())
    }

    /// Keeps the gate's snapshot of the tasks it follows (a cache: see `gate`), replacing
    /// the previous one. A store without a place for it keeps nothing, and opening then
    /// rebuilds the gate's state by reading every entry.
    ///
    /// # Errors
    /// An I/O error.
    fn put_live_snapshot(&self, bytes: &[u8]) -> Result<(), StoreError> {
        let _ = bytes;
        Ok(())
    }

    /// The gate's snapshot, if one was kept.
    ///
    /// # Errors
    /// An I/O error.
    fn live_snapshot(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(None)
    }
}

/// A [`crate::merkle::NodeReader`] over any storage, for proofs.
pub struct StoreNodes<'a, S: ?Sized>(pub &'a S);

impl<S: Storage + ?Sized> crate::merkle::NodeReader for StoreNodes<'_, S> {
    type Error = StoreError;

    fn tree_size(&self) -> u64 {
        self.0.size()
    }

    fn read_node(&self, id: NodeId) -> Result<Hash, StoreError> {
        self.0.node(id)
    }

    fn read_nodes(&self, ids: &[NodeId], out: &mut Vec<Hash>) -> Result<(), StoreError> {
        self.0.nodes(ids, out)
    }
}
