//! The ledger: validate, then write; checkpoints; proofs; queries; fsck.
//!
//! ```
//! use warrant_ledger::checkpoint::NoteSigner;
//! use warrant_ledger::ledger::Ledger;
//! use warrant_ledger::merkle::HashProfile;
//! use warrant_ledger::trust::TrustPolicy;
//!
//! let dir = std::env::temp_dir().join(format!("warrant-doc-{}", std::process::id()));
//! let key = NoteSigner::generate("example.com/agents")?;
//! let ledger = Ledger::create(&dir, "example.com/agents", HashProfile::Blake3, key, TrustPolicy::default())?;
//! let note = ledger.checkpoint()?; // a signed checkpoint of the empty log
//! assert!(String::from_utf8_lossy(&note).starts_with("example.com/agents\n0\n"));
//! # drop(ledger);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod commit;

use std::path::Path;
use std::sync::Arc;

use self::commit::{Committer, Prepared};
use crate::cbor::Limits;
use crate::checkpoint::{Checkpoint, NoteSigner, open_checkpoint};
use crate::envelope::{self, VerifiedEvent};
use crate::event::{EventId, TaskId};
use crate::merkle::{ConsistencyProof, HashProfile, InclusionProof, ProveError, root_at};
use crate::store::{FaultHook, FileStore, FsckReport, KeysFn, Storage, StoreError, StoreNodes};
use crate::trust::{TrustError, TrustPolicy};

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
    Store(String),
}

/// Why a ledger operation other than append failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A proof could not be made (bad index or sizes).
    #[error("{0}")]
    Prove(String),
    /// The ledger directory's descriptor is missing or malformed.
    #[error("ledger descriptor: {0}")]
    Descriptor(String),
    /// A checkpoint could not be signed.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
}

impl From<ProveError<StoreError>> for LedgerError {
    fn from(e: ProveError<StoreError>) -> Self {
        match e {
            ProveError::Read(s) => Self::Store(s),
            other => Self::Prove(other.to_string()),
        }
    }
}

/// Where a ledger reads the time: the system clock by default, a fixed or stepped one in
/// tests and simulations.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
}

/// The system clock (a clock set before 1970 reads 0).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

impl<F: Fn() -> u64 + Send + Sync> Clock for F {
    fn now_ms(&self) -> u64 {
        self()
    }
}

/// An append-only log of signed governance events, durable on local disk.
pub struct Ledger<S: Storage = FileStore> {
    store: S,
    origin: String,
    log_key: NoteSigner,
    trust: TrustPolicy,
    limits: Limits,
    committer: Committer,
    clock: Arc<dyn Clock>,
}

/// Event id and task of an envelope, without verifying it (for store indexing).
fn keys_of(bytes: &[u8]) -> Option<(EventId, Option<TaskId>)> {
    let (id, task) =
        envelope::keys_unverified(bytes, Limits::default().with_max_len(usize::MAX)).ok()?;
    Some((id, Some(index_task(task))))
}

fn keys_fn() -> KeysFn {
    Arc::new(keys_of)
}

const ORIGIN_FILE: &str = "origin";

/// The task id ledger-level events (policy registrations) are indexed under: the nil UUID,
/// which no event may use as its task.
pub const LEDGER_LEVEL_TASK: TaskId = TaskId(uuid::Uuid::nil());

fn index_task(task: Option<TaskId>) -> TaskId {
    task.unwrap_or(LEDGER_LEVEL_TASK)
}

impl Ledger<FileStore> {
    /// Creates a ledger in `dir`.
    ///
    /// # Errors
    /// [`LedgerError::Descriptor`] for an invalid origin, or a store error (the directory
    /// already holds a ledger, or I/O).
    pub fn create(
        dir: &Path,
        origin: &str,
        profile: HashProfile,
        log_key: NoteSigner,
        trust: TrustPolicy,
    ) -> Result<Self, LedgerError> {
        Self::create_with_hook(dir, origin, profile, log_key, trust, None)
    }

    /// As [`Ledger::create`], with a fault-injection hook on every store write (for tests).
    ///
    /// # Errors
    /// As [`Ledger::create`].
    pub fn create_with_hook(
        dir: &Path,
        origin: &str,
        profile: HashProfile,
        log_key: NoteSigner,
        trust: TrustPolicy,
        hook: Option<Arc<dyn FaultHook>>,
    ) -> Result<Self, LedgerError> {
        if origin.is_empty() || origin.contains(|c: char| c.is_control()) {
            return Err(LedgerError::Descriptor(
                "origin must be a non-empty line".into(),
            ));
        }
        if dir.join(ORIGIN_FILE).exists() {
            return Err(StoreError::Exists.into());
        }
        let store = FileStore::create(dir, profile, keys_fn(), hook)?;
        std::fs::write(dir.join(ORIGIN_FILE), format!("{origin}\n")).map_err(StoreError::Io)?;
        std::fs::File::open(dir.join(ORIGIN_FILE))
            .and_then(|f| f.sync_all())
            .map_err(StoreError::Io)?;
        Ok(Self::with_store(store, origin, log_key, trust))
    }

    /// Opens the ledger in `dir`, recovering from a crash if needed.
    ///
    /// # Errors
    /// [`LedgerError::Descriptor`], or a store error ([`StoreError::Locked`] if another
    /// process has it open).
    pub fn open(dir: &Path, log_key: NoteSigner, trust: TrustPolicy) -> Result<Self, LedgerError> {
        Self::open_with_hook(dir, log_key, trust, None)
    }

    /// As [`Ledger::open`], with a fault-injection hook.
    ///
    /// # Errors
    /// As [`Ledger::open`].
    pub fn open_with_hook(
        dir: &Path,
        log_key: NoteSigner,
        trust: TrustPolicy,
        hook: Option<Arc<dyn FaultHook>>,
    ) -> Result<Self, LedgerError> {
        let origin = read_origin(dir)?;
        let store = FileStore::open(dir, keys_fn(), hook)?;
        Ok(Self::with_store(store, &origin, log_key, trust))
    }

    /// Re-checks every stored record, hash, table and checkpoint; names the first problem.
    ///
    /// # Errors
    /// Only I/O errors that stop the check.
    pub fn fsck(&self) -> Result<FsckReport, LedgerError> {
        let mut report = self.store.fsck()?;
        if report.problem.is_some() {
            return Ok(report);
        }
        report.problem = self.fsck_events()?.or(self.fsck_checkpoints()?);
        Ok(report)
    }
}

/// Reads the origin a ledger directory was created with.
///
/// # Errors
/// [`LedgerError::Descriptor`].
pub fn read_origin(dir: &Path) -> Result<String, LedgerError> {
    let text = std::fs::read_to_string(dir.join(ORIGIN_FILE)).map_err(|e| {
        LedgerError::Descriptor(format!("{}: {e}", dir.join(ORIGIN_FILE).display()))
    })?;
    let origin = text.strip_suffix('\n').unwrap_or(&text);
    if origin.is_empty() || origin.contains('\n') {
        return Err(LedgerError::Descriptor(
            "origin file must hold one non-empty line".into(),
        ));
    }
    Ok(origin.to_owned())
}

impl<S: Storage> Ledger<S> {
    /// A ledger over any storage backend.
    pub fn with_store(store: S, origin: &str, log_key: NoteSigner, trust: TrustPolicy) -> Self {
        Self {
            store,
            origin: origin.to_owned(),
            log_key,
            trust,
            limits: Limits::default(),
            committer: Committer::default(),
            clock: Arc::new(SystemClock),
        }
    }

    /// Sets the clock checkpoints are stamped with (the system clock by default).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sets the decoding limits (the maximum envelope size, 64 KiB by default).
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The log origin.
    #[must_use]
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The hash profile.
    #[must_use]
    pub fn profile(&self) -> HashProfile {
        self.store.profile()
    }

    /// The number of entries.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.store.size()
    }

    /// The log's checkpoint verifier key.
    #[must_use]
    pub fn verifier(&self) -> crate::checkpoint::NoteVerifier {
        self.log_key.verifier()
    }

    /// The trust policy entries are checked against.
    #[must_use]
    pub const fn trust(&self) -> &TrustPolicy {
        &self.trust
    }

    /// The storage backend.
    #[must_use]
    pub const fn store(&self) -> &S {
        &self.store
    }

    fn prepare(ev: VerifiedEvent, profile: HashProfile) -> Prepared {
        let (id, task) = (ev.event().id, Some(index_task(ev.event().task)));
        let bytes = ev.into_bytes();
        Prepared {
            leaf: profile.leaf_hash(&bytes),
            bytes,
            id,
            task,
        }
    }

    /// Appends one envelope: strict decoding, signature and trust-policy checks, duplicate
    /// check, then a durable write. Returns its index once it is durable.
    ///
    /// Byte-identical resubmission returns the existing index; another envelope reusing an
    /// event id is refused.
    ///
    /// # Errors
    /// [`AppendError`]; the ledger is unchanged (see [`AppendError::Store`]).
    pub fn append(&self, bytes: &[u8]) -> Result<u64, AppendError> {
        let now = self.clock.now_ms();
        let ev = self
            .trust
            .verify_event(bytes, self.limits)
            .and_then(|ev| self.trust.check_logged_at(&ev, now).map(|()| ev))
            .map_err(|source| AppendError::Rejected {
                position: 0,
                source,
            })?;
        let unit = vec![Self::prepare(ev, self.profile())];
        Ok(self.committer.submit(&self.store, unit)?[0])
    }

    /// Appends a batch, all or nothing, verifying signatures in batches on all cores.
    ///
    /// A crash before it returns can leave a prefix of the batch in the log (never a gap,
    /// never a damaged entry); calling it again with the same items returns the indices of
    /// those and appends the rest.
    ///
    /// # Errors
    /// The first [`AppendError`]; then nothing of the batch is written.
    pub fn append_batch(&self, items: &[&[u8]]) -> Result<Vec<u64>, AppendError> {
        let mut unit = Vec::with_capacity(items.len());
        for (position, p) in self.prepare_parallel(items).into_iter().enumerate() {
            unit.push(p.map_err(|source| AppendError::Rejected { position, source })?);
        }
        self.committer.submit(&self.store, unit)
    }

    /// Verifies and prepares (leaf hash included) on all cores: the leaf hash, a BLAKE3 or
    /// SHA-256 pass over each envelope, would otherwise run on the appending thread alone.
    fn prepare_parallel(&self, items: &[&[u8]]) -> Vec<Result<Prepared, TrustError>> {
        let profile = self.profile();
        let now = self.clock.now_ms();
        crate::trust::verify_in_parallel(items, |part| {
            let verified = self.trust.verify_events(part, self.limits);
            let prepare = |v: Result<VerifiedEvent, _>| {
                let ev = v?;
                self.trust.check_logged_at(&ev, now)?;
                Ok(Self::prepare(ev, profile))
            };
            verified.into_iter().map(prepare).collect()
        })
    }

    /// Signs a checkpoint for the current size if the log grew since the last one (all are
    /// kept), and returns the latest checkpoint note.
    ///
    /// The note carries the time it was signed (the log key's `cosignature/v1`, from the
    /// ledger's [`Clock`], never earlier than the previous checkpoint's): an auditor bounds
    /// when each event entered the log by the checkpoints around it (checks A2 and A5), so
    /// the more often checkpoints are signed, the tighter those bounds.
    ///
    /// # Errors
    /// [`LedgerError`].
    pub fn checkpoint(&self) -> Result<Vec<u8>, LedgerError> {
        let size = self.store.size();
        if let Some(note) = self.store.checkpoint(size)? {
            return Ok(note);
        }
        let root = root_at(self.profile(), &StoreNodes(&self.store), size)?;
        let body = Checkpoint {
            origin: self.origin.clone(),
            size,
            root,
            extensions: Vec::new(),
        };
        let now = self.clock.now_ms() / 1000;
        let time = self.latest_log_time()?.map_or(now, |last| now.max(last));
        let note = body
            .sign_timestamped(&self.log_key, time)
            .map_err(|e| LedgerError::Checkpoint(e.to_string()))?;
        self.store.put_checkpoint(size, &note)?;
        Ok(note)
    }

    /// The signed time of the latest stored checkpoint, if it has one.
    fn latest_log_time(&self) -> Result<Option<u64>, LedgerError> {
        let Some(note) = self.latest_checkpoint()? else {
            return Ok(None);
        };
        let opened = open_checkpoint(&note, &self.origin, &[self.log_key.verifier()])
            .map_err(|e| LedgerError::Checkpoint(e.to_string()))?;
        Ok(opened.log_time())
    }

    /// The latest stored checkpoint, if any.
    ///
    /// # Errors
    /// A store error.
    pub fn latest_checkpoint(&self) -> Result<Option<Vec<u8>>, LedgerError> {
        match self.store.checkpoint_sizes()?.last() {
            Some(&size) => Ok(self.store.checkpoint(size)?),
            None => Ok(None),
        }
    }

    /// Inclusion proof of entry `index` in the tree of `size` entries.
    ///
    /// # Errors
    /// [`LedgerError::Prove`] for a bad index or size, or a store error.
    pub fn prove_inclusion(&self, index: u64, size: u64) -> Result<InclusionProof, LedgerError> {
        Ok(crate::merkle::prove_inclusion(
            self.profile(),
            &StoreNodes(&self.store),
            index,
            size,
        )?)
    }

    /// Consistency proof from the tree of `old` entries to the tree of `new` entries.
    ///
    /// # Errors
    /// [`LedgerError::Prove`] for bad sizes (including `old == 0`), or a store error.
    pub fn prove_consistency(&self, old: u64, new: u64) -> Result<ConsistencyProof, LedgerError> {
        Ok(crate::merkle::prove_consistency(
            self.profile(),
            &StoreNodes(&self.store),
            old,
            new,
        )?)
    }

    /// The root of the tree of `size` entries.
    ///
    /// # Errors
    /// As for proofs.
    pub fn root(&self, size: u64) -> Result<crate::merkle::Hash, LedgerError> {
        Ok(root_at(self.profile(), &StoreNodes(&self.store), size)?)
    }

    /// The entry at `index` (exact envelope bytes).
    ///
    /// # Errors
    /// A store error.
    pub fn entry(&self, index: u64) -> Result<Vec<u8>, LedgerError> {
        Ok(self.store.entry(index)?)
    }

    /// Indices of a task's entries, ascending ([`LEDGER_LEVEL_TASK`] lists the ledger-level
    /// entries, such as policy registrations).
    ///
    /// # Errors
    /// A store error.
    pub fn task_entries(&self, task: &TaskId) -> Result<Vec<u64>, LedgerError> {
        Ok(self.store.task_entries(task)?)
    }

    fn fsck_events(&self) -> Result<Option<(String, u64, String)>, LedgerError> {
        for index in 0..self.store.size() {
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

    /// Why a stored checkpoint is not exactly as this ledger signs them (its note signature
    /// and its signed time, nothing else), if it is not: a damaged signature line could
    /// otherwise pass as another key's, which a note reader ignores.
    fn foreign_signature(
        &self,
        cp: &crate::checkpoint::VerifiedCheckpoint,
    ) -> Option<&'static str> {
        let v = self.log_key.verifier();
        let time_id = crate::checkpoint::cosigner_key_id(v.name(), v.key());
        if cp.log_time().is_none() {
            Some("checkpoint carries no signed time")
        } else if cp
            .note()
            .unverified()
            .iter()
            .any(|s| s.name != v.name() || s.key_id != time_id)
        {
            Some("checkpoint carries a signature line the log did not write")
        } else {
            None
        }
    }

    fn fsck_checkpoints(&self) -> Result<Option<(String, u64, String)>, LedgerError> {
        let verifier = [self.log_key.verifier()];
        for size in self.store.checkpoint_sizes()? {
            let file = format!("checkpoints/{size}.note");
            let Some(note) = self.store.checkpoint(size)? else {
                continue;
            };
            let cp = match open_checkpoint(&note, &self.origin, &verifier) {
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
