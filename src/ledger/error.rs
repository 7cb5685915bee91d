//! Why a ledger operation failed.

use std::path::PathBuf;
use std::sync::Arc;

use crate::checkpoint::CheckpointError;
use crate::envelope::EnvelopeError;
use crate::event::TaskId;
use crate::gate::GateError;
use crate::merkle::ProveError;
use crate::store::StoreError;
use crate::trust::TrustError;

/// A storage failure shared by every append of one group commit (each gets the same one).
#[derive(Debug, Clone)]
pub struct SharedStoreError(pub Arc<StoreError>);

impl core::fmt::Display for SharedStoreError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SharedStoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// Two shared store errors are equal when they are the same failure (one group commit's).
impl PartialEq for SharedStoreError {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SharedStoreError {}

/// Why an append was refused. Nothing is written when an append fails, except as stated for
/// [`AppendError::Store`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppendError {
    /// The envelope failed decoding, verification or the trust policy.
    #[error("entry {position}: {source}")]
    Rejected {
        /// Position in the batch (0 for a single append).
        position: usize,
        /// Why.
        source: TrustError,
    },
    /// The event's time is implausible (before 2001, ahead of the ledger's clock, before the
    /// ledger was created): see [`super::TimeBounds`].
    #[error("entry {position}: {source}")]
    Time {
        /// Position in the batch (0 for a single append).
        position: usize,
        /// Which bound.
        source: super::TimeError,
    },
    /// Another entry with the same event id is already in the log.
    #[error(
        "entry {position}: event id already in the log at index {existing} with different bytes"
    )]
    DuplicateEventId {
        /// Position in the batch.
        position: usize,
        /// Index of the existing entry.
        existing: u64,
    },
    /// The same event id twice in one batch, or in two batches committed together.
    #[error("entry {position}: event id repeated within the batch")]
    DuplicateInBatch {
        /// Position in the batch.
        position: usize,
    },
    /// Storage failed. The batch may or may not be durable (the commit point may have passed
    /// before the failure); retrying the same bytes is safe (it returns the existing index).
    #[error("storage: {0}")]
    Store(#[source] SharedStoreError),
    /// The ledger was opened read-only.
    #[error("the ledger is open read-only")]
    ReadOnly,
}

impl From<StoreError> for AppendError {
    fn from(e: StoreError) -> Self {
        Self::Store(SharedStoreError(Arc::new(e)))
    }
}

/// Why a ledger operation other than append failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A proof could not be made: a bad index or tree sizes.
    #[error("{0}")]
    Prove(#[source] ProveError<core::convert::Infallible>),
    /// The directory holds no ledger.
    #[error("{} is not a ledger (no origin file)", .0.display())]
    NotALedger(PathBuf),
    /// A descriptor file of the ledger directory (`origin`, `log.pub`) is malformed.
    #[error("ledger descriptor {file}: {source}")]
    Descriptor {
        /// The file.
        file: &'static str,
        /// What is wrong with it.
        #[source]
        source: DescriptorError,
    },
    /// The log key given is not this ledger's: another name than its origin, or another key
    /// than its `log.pub`.
    #[error("the log key {key} is not this ledger's ({expected})")]
    KeyMismatch {
        /// The key's verifier string.
        key: String,
        /// What the ledger expects: its origin, or its verifier key.
        expected: String,
    },
    /// The log holds no entry of this task.
    #[error("no entry of task {0} in the log")]
    UnknownTask(TaskId),
    /// Read-only, and no checkpoint is stored yet: nothing to prove against.
    #[error("no checkpoint has been signed yet")]
    NoCheckpoint,
    /// A checkpoint could not be signed or opened.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// The older checkpoint given for a consistency proof is not signed by this log's key
    /// under its origin, or does not parse.
    #[error("the older checkpoint is not of this log: {0}")]
    ForeignCheckpoint(#[source] CheckpointError),
    /// The older checkpoint is signed by this log, but the log's tree does not extend it to
    /// the bundle's size: it is larger than the bundle, or its root is not this log's at its
    /// size (the log key signed a fork).
    #[error(
        "the older checkpoint at size {size} is not a prefix of this log's tree at size {tree_size}"
    )]
    NotAPrefix {
        /// The older checkpoint's size.
        size: u64,
        /// The size of the tree the proof was asked for.
        tree_size: u64,
    },
    /// A stored entry does not decode (the store is damaged: `fsck` names where).
    #[error("entry {index} does not decode: {source}")]
    Entry {
        /// Its index.
        index: u64,
        /// Why.
        #[source]
        source: EnvelopeError,
    },
    /// The log does not (yet) hold the whole tile asked for.
    #[error("the log of {size} entries does not hold that tile")]
    TileOutOfRange {
        /// The log's size.
        size: u64,
    },
    /// An entry bundle cannot carry an entry longer than 65,535 bytes (its length is a
    /// `u16`); the entry is served alone instead.
    #[error("entry {index} is {len} bytes, too long for an entry bundle (65,535 at most)")]
    EntryTooLongForBundle {
        /// The entry's index.
        index: u64,
        /// Its length.
        len: usize,
    },
    /// The runtime gate cannot judge the request.
    #[error("gate: {0}")]
    Gate(#[from] GateError),
    /// A copy of the ledger (`warrant migrate`) does not hold what the original holds; the
    /// destination is left without its descriptor, so it is not taken for a ledger.
    #[error("the copy differs from the original: {0}")]
    CopyDiffers(String),
    /// The database holds a log but no ledger descriptor (origin, log keys): a ledger
    /// created or copied there did not finish.
    #[cfg(feature = "postgres")]
    #[error("the database holds no complete ledger (its creation or copy did not finish)")]
    IncompleteDatabase,
    /// A standard proof format (`tlog-proof`, COSE Receipt) was asked of a BLAKE3 log: they
    /// are defined for SHA-256 trees only.
    #[error("{0} is defined for SHA-256 logs; this log uses BLAKE3")]
    NotSha256(&'static str),
}

/// What is wrong with a ledger descriptor file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DescriptorError {
    /// It cannot be read.
    #[error("reading it: {0}")]
    Io(#[from] std::io::Error),
    /// The origin is not one non-empty line without control characters.
    #[error("the origin must be one non-empty line without control characters")]
    NotOneLine,
    /// The verifier key does not parse.
    #[error("{0}")]
    Key(#[from] crate::checkpoint::KeyError),
}

impl From<ProveError<StoreError>> for LedgerError {
    fn from(e: ProveError<StoreError>) -> Self {
        use ProveError as P;
        Self::Prove(match e {
            P::Read(s) => return Self::Store(s),
            P::SizeBeyondLog {
                requested,
                available,
            } => P::SizeBeyondLog {
                requested,
                available,
            },
            P::IndexOutOfRange { index, size } => P::IndexOutOfRange { index, size },
            P::EmptyOldTree => P::EmptyOldTree,
            P::OldSizeExceedsNew { old, new } => P::OldSizeExceedsNew { old, new },
        })
    }
}
