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
//! // An empty trust policy pins no emitter, so this ledger accepts no event: the crate's
//! // front page builds one that pins a deployment's components.
//! let note = ledger.checkpoint()?; // the empty log's checkpoint, signed when it was created
//! assert!(String::from_utf8_lossy(&note).starts_with("example.com/agents\n0\n"));
//! # drop(ledger);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod clock;
mod commit;
mod copy;
mod error;
mod export;
mod fsck;
mod live;
#[cfg(feature = "postgres")]
mod pg;
mod receipts;
mod rotate;
mod tiles;
mod time;
mod witness;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use self::clock::{Clock, SystemClock};
use self::commit::{Committer, Prepared};
pub use self::copy::CopyReport;
pub use self::error::{AppendError, DescriptorError, LedgerError, SharedStoreError};
pub use self::time::{EARLIEST, TimeBounds, TimeError};
pub use self::witness::WitnessOutcome;
use crate::cbor::Limits;
use crate::checkpoint::{Checkpoint, NoteSigner, NoteVerifier, open_checkpoint};
use crate::envelope::{self, VerifiedEvent};
use crate::event::{Digest, EventId, TaskId, Timestamp};
use crate::merkle::{ConsistencyProof, HashProfile, InclusionProof, root_at};
use crate::store::{FaultHook, FileStore, FsckReport, KeysFn, Storage, StoreError, StoreNodes};
use crate::trust::{TrustError, TrustPolicy};

/// An append-only log of signed governance events, durable on local disk.
pub struct Ledger<S: Storage = FileStore> {
    store: S,
    origin: String,
    /// The log's signing key; `None` for a ledger opened read-only.
    log_key: Option<NoteSigner>,
    /// The current key's verifier.
    verifier: NoteVerifier,
    /// The keys the log rotated away from, oldest first: its older checkpoints open under
    /// them (`log.pub` lists them before the current key).
    retired: Vec<NoteVerifier>,
    trust: TrustPolicy,
    limits: Limits,
    committer: Committer,
    clock: Arc<dyn Clock>,
    /// The times appends accept.
    bounds: TimeBounds,
    /// When the log was created: its first checkpoint's signed time, if it has one.
    created: Option<Timestamp>,
    /// What the runtime gate knows (`gate`), kept as entries are committed.
    live: live::Live,
    /// Held from reading a size's stored checkpoint to storing one for it: two signers of
    /// one size, or a signer and a caller storing witnesses' cosignatures, never overwrite
    /// each other's note with one that lacks what the other added.
    checkpoint_lock: std::sync::Mutex<()>,
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
/// The log's verifier key, so that a reader without the signing key can open checkpoints.
const VERIFIER_FILE: &str = "log.pub";

/// A task as the log holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskSummary {
    /// The task.
    pub task: TaskId,
    /// How many entries it has.
    pub entries: u64,
    /// The index of its first entry.
    pub first: u64,
    /// The index of its last entry.
    pub last: u64,
}

/// Why one entry of a batch is refused.
enum Refused {
    Trust(TrustError),
    Time(TimeError),
}

impl Refused {
    fn at(self, position: usize) -> AppendError {
        match self {
            Self::Trust(source) => AppendError::Rejected { position, source },
            Self::Time(source) => AppendError::Time { position, source },
        }
    }
}

/// The task id ledger-level events (policy registrations) are indexed under: the nil UUID,
/// which no event may use as its task.
pub const LEDGER_LEVEL_TASK: TaskId = TaskId(uuid::Uuid::nil());

fn index_task(task: Option<TaskId>) -> TaskId {
    task.unwrap_or(LEDGER_LEVEL_TASK)
}

/// Writes a descriptor file durably.
fn write_descriptor(dir: &Path, name: &str, text: &str) -> Result<(), StoreError> {
    std::fs::write(dir.join(name), text)?;
    std::fs::File::open(dir.join(name)).and_then(|f| f.sync_all())?;
    Ok(())
}

/// The origin of the ledger in `dir`; [`LedgerError::NotALedger`] for a directory without
/// one.
fn ledger_origin(dir: &Path) -> Result<String, LedgerError> {
    if !dir.join(ORIGIN_FILE).is_file() {
        return Err(LedgerError::NotALedger(PathBuf::from(dir)));
    }
    read_origin(dir)
}

/// Checks that `key` is the ledger's: named after its origin and, where the ledger recorded
/// its verifier key, that key.
fn check_key(dir: &Path, origin: &str, key: &NoteSigner) -> Result<(), LedgerError> {
    let mismatch = |expected: String| LedgerError::KeyMismatch {
        key: key.verifier().to_string(),
        expected,
    };
    if key.name() != origin {
        return Err(mismatch(format!("origin {origin}")));
    }
    match std::fs::read_to_string(dir.join(VERIFIER_FILE)) {
        // The last line is the current key; earlier ones were rotated away from.
        Ok(text) if text.lines().last() != Some(key.verifier().to_string().as_str()) => {
            Err(mismatch(text.lines().last().unwrap_or_default().to_owned()))
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::Io(e).into()),
    }
}

/// The verifier keys recorded in `dir`: the current one, and those rotated away from
/// (oldest first).
fn read_verifiers(dir: &Path) -> Result<(NoteVerifier, Vec<NoteVerifier>), LedgerError> {
    let bad = |source: DescriptorError| LedgerError::Descriptor {
        file: VERIFIER_FILE,
        source,
    };
    let text = std::fs::read_to_string(dir.join(VERIFIER_FILE)).map_err(|e| bad(e.into()))?;
    parse_verifiers(&text).map_err(bad)
}

/// The `log.pub` text: one verifier key a line, oldest first; the current one is the last.
fn parse_verifiers(text: &str) -> Result<(NoteVerifier, Vec<NoteVerifier>), DescriptorError> {
    let mut keys = text
        .lines()
        .map(NoteVerifier::parse)
        .collect::<Result<Vec<_>, _>>()?;
    let current = keys.pop().ok_or(DescriptorError::NotOneLine)?;
    Ok((current, keys))
}

/// A valid origin, and a log key named after it.
fn check_origin_and_key(origin: &str, log_key: &NoteSigner) -> Result<(), LedgerError> {
    if !valid_origin(origin) {
        return Err(LedgerError::Descriptor {
            file: ORIGIN_FILE,
            source: DescriptorError::NotOneLine,
        });
    }
    if log_key.name() != origin {
        return Err(LedgerError::KeyMismatch {
            key: log_key.verifier().to_string(),
            expected: format!("origin {origin}"),
        });
    }
    Ok(())
}

/// An origin is one non-empty line without control characters.
fn valid_origin(origin: &str) -> bool {
    !origin.is_empty() && !origin.contains(|c: char| c.is_control())
}

impl Ledger<FileStore> {
    /// Creates a ledger in `dir`, logged under `origin` and signed by `log_key` (whose name
    /// must be the origin).
    ///
    /// # Errors
    /// [`LedgerError::Descriptor`] for an invalid origin, [`LedgerError::KeyMismatch`] for a
    /// key named otherwise, or a store error (the directory already holds a ledger, or I/O).
    pub fn create(
        dir: &Path,
        origin: &str,
        profile: HashProfile,
        log_key: NoteSigner,
        trust: TrustPolicy,
    ) -> Result<Self, LedgerError> {
        Self::create_with_hook(dir, origin, profile, log_key, trust, None)
    }

    /// As [`Ledger::create`], with the clock the ledger reads from its creation on (its
    /// first checkpoint, which records when it was created, included).
    ///
    /// # Errors
    /// As [`Ledger::create`].
    pub fn create_with_clock(
        dir: &Path,
        origin: &str,
        profile: HashProfile,
        log_key: NoteSigner,
        trust: TrustPolicy,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, LedgerError> {
        Self::create_inner(dir, origin, profile, log_key, trust, None, clock)
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
        Self::create_inner(
            dir,
            origin,
            profile,
            log_key,
            trust,
            hook,
            Arc::new(SystemClock),
        )
    }

    fn create_inner(
        dir: &Path,
        origin: &str,
        profile: HashProfile,
        log_key: NoteSigner,
        trust: TrustPolicy,
        hook: Option<Arc<dyn FaultHook>>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, LedgerError> {
        check_origin_and_key(origin, &log_key)?;
        if dir.join(ORIGIN_FILE).exists() {
            return Err(StoreError::Exists.into());
        }
        let store = FileStore::create(dir, profile, keys_fn(), hook)?;
        // The verifier first: a directory with an origin file is a ledger, and a ledger's
        // readers find its verifier key.
        write_descriptor(dir, VERIFIER_FILE, &format!("{}\n", log_key.verifier()))?;
        write_descriptor(dir, ORIGIN_FILE, &format!("{origin}\n"))?;
        let mut ledger = Self::with_store(store, origin, log_key, trust).with_clock(clock);
        ledger.load_live()?;
        // The empty log's checkpoint records when the log was created: no entry can have
        // entered it before.
        ledger.checkpoint()?;
        ledger.created = ledger.creation_time()?;
        Ok(ledger)
    }

    /// Opens the ledger in `dir` to append, recovering from a crash if needed.
    ///
    /// # Errors
    /// [`LedgerError::NotALedger`], [`LedgerError::KeyMismatch`] when `log_key` is not the
    /// ledger's (named otherwise than its origin, or another key than the one it was created
    /// with), [`LedgerError::Descriptor`], or a store error ([`StoreError::Locked`] if
    /// another process has it open).
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
        let origin = ledger_origin(dir)?;
        check_key(dir, &origin, &log_key)?;
        let (_, retired) = read_verifiers(dir)?;
        let store = FileStore::open(dir, keys_fn(), hook)?;
        let mut ledger = Self::with_store(store, &origin, log_key, trust).with_retired(retired);
        ledger.created = ledger.creation_time()?;
        // The writer hosts the gate: its state is built now and kept on every commit.
        ledger.load_live()?;
        Ok(ledger)
    }

    /// Opens the ledger in `dir` to read, beside its writer if it has one: no signing key,
    /// no lock, nothing written. It serves the log as committed when it opened (see
    /// [`Ledger::refresh`]); proofs and bundles are made against the latest checkpoint the
    /// writer signed. Events are not re-verified on the way out, so no trust policy is
    /// needed (give one with [`Ledger::with_trust`] for [`Ledger::fsck`]'s signature checks).
    ///
    /// # Errors
    /// [`LedgerError::NotALedger`], [`LedgerError::Descriptor`] (a ledger without its
    /// `log.pub`, or with a malformed one), or a store error.
    pub fn open_read_only(dir: &Path) -> Result<Self, LedgerError> {
        let origin = ledger_origin(dir)?;
        let (verifier, retired) = read_verifiers(dir)?;
        let store = FileStore::open_read_only(dir, keys_fn())?;
        Ok(Self::without_key(store, &origin, verifier).with_retired(retired))
    }

    /// Opens the ledger in `dir` with the writer's exclusive lock but without its signing
    /// key, recovering from a crash as [`Ledger::open`] does: for `fsck` and other checks
    /// that must see the store while nobody writes. It cannot append or sign.
    ///
    /// # Errors
    /// As [`Ledger::open_read_only`], and [`StoreError::Locked`] while a writer has it open.
    pub fn open_exclusive(dir: &Path, trust: TrustPolicy) -> Result<Self, LedgerError> {
        let origin = ledger_origin(dir)?;
        let (verifier, retired) = read_verifiers(dir)?;
        let store = FileStore::open(dir, keys_fn(), None)?;
        Ok(Self::without_key(store, &origin, verifier)
            .with_retired(retired)
            .with_trust(trust))
    }

    /// Re-checks every stored record, hash, table and checkpoint; names the first problem.
    ///
    /// # Errors
    /// Only I/O errors that stop the check.
    pub fn fsck(&self) -> Result<FsckReport, LedgerError> {
        self.fsck_with_progress(&|_| {})
    }

    /// As [`Ledger::fsck`], telling `progress` how far it is, counting each entry twice (the
    /// store's pass, then the signatures): from 0 to twice the size.
    ///
    /// # Errors
    /// As [`Ledger::fsck`].
    pub fn fsck_with_progress(&self, progress: &dyn Fn(u64)) -> Result<FsckReport, LedgerError> {
        let report = self.store.fsck_with_progress(progress)?;
        self.fsck_above_store(report, progress)
    }
}

/// Reads the origin a ledger directory was created with.
///
/// # Errors
/// [`LedgerError::Descriptor`].
pub fn read_origin(dir: &Path) -> Result<String, LedgerError> {
    let bad = |source: DescriptorError| LedgerError::Descriptor {
        file: ORIGIN_FILE,
        source,
    };
    let text = std::fs::read_to_string(dir.join(ORIGIN_FILE)).map_err(|e| bad(e.into()))?;
    let origin = text.strip_suffix('\n').unwrap_or(&text);
    if !valid_origin(origin) {
        return Err(bad(DescriptorError::NotOneLine));
    }
    Ok(origin.to_owned())
}

impl<S: Storage> Ledger<S> {
    /// A ledger over any storage backend.
    pub fn with_store(store: S, origin: &str, log_key: NoteSigner, trust: TrustPolicy) -> Self {
        Self {
            store,
            origin: origin.to_owned(),
            verifier: log_key.verifier(),
            retired: Vec::new(),
            log_key: Some(log_key),
            trust,
            limits: Limits::default(),
            committer: Committer::default(),
            clock: Arc::new(SystemClock),
            bounds: TimeBounds::default(),
            created: None,
            live: live::Live::default(),
            checkpoint_lock: std::sync::Mutex::new(()),
        }
    }

    /// A ledger over any storage backend without its signing key: it reads, proves and
    /// exports against stored checkpoints, and neither appends nor signs.
    pub fn without_key(store: S, origin: &str, verifier: NoteVerifier) -> Self {
        Self {
            store,
            origin: origin.to_owned(),
            verifier,
            retired: Vec::new(),
            log_key: None,
            trust: TrustPolicy::default(),
            limits: Limits::default(),
            committer: Committer::default(),
            clock: Arc::new(SystemClock),
            bounds: TimeBounds::default(),
            created: None,
            live: live::Live::default(),
            checkpoint_lock: std::sync::Mutex::new(()),
        }
    }

    /// Sets the trust policy appends (and `fsck`) check events against.
    #[must_use]
    pub fn with_trust(mut self, trust: TrustPolicy) -> Self {
        self.trust = trust;
        // The gate's state was judged under the old policy (the approvals actions spent).
        self.unload_live();
        self
    }

    /// For a ledger opened read-only beside a writer, catches up with what the writer has
    /// committed since; returns the size.
    ///
    /// # Errors
    /// A store error.
    pub fn refresh(&self) -> Result<u64, LedgerError> {
        Ok(self.store.refresh()?)
    }

    /// Sets the times appends accept ([`TimeBounds::default`]: five minutes ahead of the
    /// clock at most, and no earlier than five minutes before the log was created).
    #[must_use]
    pub const fn with_time_bounds(mut self, bounds: TimeBounds) -> Self {
        self.bounds = bounds;
        self
    }

    /// When the log was created: the signed time of its checkpoint of size 0, which a ledger
    /// signs when it is created.
    ///
    /// # Errors
    /// A store error, or [`LedgerError::Checkpoint`] for a checkpoint that does not open.
    pub fn creation_time(&self) -> Result<Option<Timestamp>, LedgerError> {
        let Some(note) = self.store.checkpoint(0)? else {
            return Ok(None);
        };
        let opened = self.open_own(&note)?;
        Ok(opened
            .log_time()
            .map(|s| Timestamp::from_millis(s.saturating_mul(1000))))
    }

    /// Why the ledger refuses a verified event's time at `now`, if it does.
    fn check_time(&self, ev: &VerifiedEvent, now: Timestamp) -> Result<(), TimeError> {
        self.bounds.check(ev.event().time, now, self.created)
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

    /// The log's checkpoint verifier key (the current one, after a rotation).
    #[must_use]
    pub fn verifier(&self) -> NoteVerifier {
        self.verifier.clone()
    }

    /// Every key the log has signed checkpoints with: those it rotated away from, oldest
    /// first, then the current one. Its stored checkpoints open under these.
    #[must_use]
    pub fn verifiers(&self) -> Vec<NoteVerifier> {
        let mut all = self.retired.clone();
        all.push(self.verifier.clone());
        all
    }

    /// Keys the log rotated away from (see [`Ledger::verifiers`]).
    #[must_use]
    pub fn with_retired(mut self, retired: Vec<NoteVerifier>) -> Self {
        self.retired = retired;
        self
    }

    /// Opens one of this log's stored checkpoint notes under any of its keys.
    pub(crate) fn open_own(
        &self,
        note: &[u8],
    ) -> Result<crate::checkpoint::VerifiedCheckpoint, crate::checkpoint::CheckpointError> {
        open_checkpoint(note, &self.origin, &self.verifiers())
    }

    /// Whether the ledger was opened without its signing key (it cannot append or sign).
    #[must_use]
    pub const fn is_read_only(&self) -> bool {
        self.log_key.is_none()
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
        let (event, bytes) = ev.into_parts();
        let leaf = profile.leaf_hash(&bytes);
        // An event's digest is its BLAKE3 leaf hash: a BLAKE3 log has computed it already.
        let digest = match profile {
            HashProfile::Blake3 => Digest(*leaf.as_bytes()),
            _ => Digest::of_envelope(&bytes),
        };
        Prepared {
            leaf,
            bytes,
            id,
            task,
            event,
            digest,
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
        if self.is_read_only() {
            return Err(AppendError::ReadOnly);
        }
        let now = Timestamp::from_millis(self.clock.now_ms());
        let ev = self
            .trust
            .verify_event(bytes, self.limits)
            .and_then(|ev| self.trust.check_logged_at(&ev, now).map(|()| ev))
            .map_err(|source| AppendError::Rejected {
                position: 0,
                source,
            })?;
        self.check_time(&ev, now)
            .map_err(|source| AppendError::Time {
                position: 0,
                source,
            })?;
        let unit = vec![Self::prepare(ev, self.profile())];
        Ok(self
            .committer
            .submit(&self.store, unit, &|w| self.observe(w))?[0])
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
        if self.is_read_only() {
            return Err(AppendError::ReadOnly);
        }
        let mut unit = Vec::with_capacity(items.len());
        for (position, p) in self.prepare_parallel(items).into_iter().enumerate() {
            unit.push(p.map_err(|refused| refused.at(position))?);
        }
        self.committer
            .submit(&self.store, unit, &|w| self.observe(w))
    }

    /// Verifies and prepares (leaf hash included) on all cores: the leaf hash, a BLAKE3 or
    /// SHA-256 pass over each envelope, would otherwise run on the appending thread alone.
    fn prepare_parallel(&self, items: &[&[u8]]) -> Vec<Result<Prepared, Refused>> {
        let profile = self.profile();
        let now = Timestamp::from_millis(self.clock.now_ms());
        let parts = crate::trust::verify_in_parallel(items, |part| {
            let verified = self.trust.verify_events(part, self.limits);
            let prepare = |v: Result<VerifiedEvent, TrustError>| {
                let ev = v?;
                self.trust.check_logged_at(&ev, now)?;
                Ok((ev.event().time, Self::prepare(ev, profile)))
            };
            verified.into_iter().map(prepare).collect()
        });
        parts
            .into_iter()
            .map(|r| {
                let (time, prepared) = r.map_err(Refused::Trust)?;
                self.bounds
                    .check(time, now, self.created)
                    .map_err(Refused::Time)?;
                Ok(prepared)
            })
            .collect()
    }

    /// Signs a checkpoint for the current size if the log grew since the last one (all are
    /// kept), and returns the latest checkpoint note. A read-only ledger signs nothing: it
    /// returns the latest stored checkpoint.
    ///
    /// The note carries the time it was signed (the log key's `cosignature/v1`, from the
    /// ledger's [`Clock`], never earlier than the previous checkpoint's): an auditor bounds
    /// when each event entered the log by the checkpoints around it (checks A2 and A5), so
    /// the more often checkpoints are signed, the tighter those bounds.
    ///
    /// # Errors
    /// [`LedgerError`].
    pub fn checkpoint(&self) -> Result<Vec<u8>, LedgerError> {
        let _held = self
            .checkpoint_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let size = self.store.size();
        if let Some(note) = self.store.checkpoint(size)? {
            return Ok(note);
        }
        let Some(log_key) = &self.log_key else {
            return self.latest_checkpoint()?.ok_or(LedgerError::NoCheckpoint);
        };
        let root = root_at(self.profile(), &StoreNodes(&self.store), size)?;
        let body = Checkpoint {
            origin: self.origin.clone(),
            size,
            root,
            extensions: Vec::new(),
        };
        let now = self.clock.now_ms() / 1000;
        let time = self.latest_log_time()?.map_or(now, |last| now.max(last));
        let note = body.sign_timestamped(log_key, time)?;
        self.store.put_checkpoint(size, &note)?;
        // The gate's snapshot is a cache: a failure to write it costs a slower open (which
        // then reads more of the log), never a wrong state, so it does not fail the
        // checkpoint; the next checkpoint writes it again.
        let _ = self.save_live();
        Ok(note)
    }

    /// The signed time of the latest stored checkpoint, if it has one.
    fn latest_log_time(&self) -> Result<Option<u64>, LedgerError> {
        let Some(note) = self.latest_checkpoint()? else {
            return Ok(None);
        };
        let opened = self.open_own(&note)?;
        Ok(opened.log_time())
    }

    /// The latest stored checkpoint of the log this ledger serves, if any.
    ///
    /// A reader beside the writer may find newer checkpoints on disk, signed after it opened
    /// (or last refreshed) for entries it does not serve yet; it ignores them until
    /// [`Ledger::refresh`], so that everything it answers (proofs, bundles) is within one
    /// checkpoint it can prove against.
    ///
    /// # Errors
    /// A store error.
    pub fn latest_checkpoint(&self) -> Result<Option<Vec<u8>>, LedgerError> {
        match self.latest_checkpoint_size()? {
            Some(size) => Ok(self.store.checkpoint(size)?),
            None => Ok(None),
        }
    }

    /// The size of [`Ledger::latest_checkpoint`]: the tree that proofs and bundles from this
    /// ledger are made against by default.
    ///
    /// # Errors
    /// A store error.
    pub fn latest_checkpoint_size(&self) -> Result<Option<u64>, LedgerError> {
        // The size first: a checkpoint signed after this read is ignored, never half-seen.
        let size = self.store.size();
        let sizes = self.store.checkpoint_sizes()?;
        Ok(sizes.into_iter().rev().find(|&s| s <= size))
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

    /// Every task of the log, in the order each first appears, with how many entries it has
    /// and the indices of its first and last. Reads every entry's header: time linear in the
    /// log (`progress` is told how many entries it has read, every few thousand).
    ///
    /// # Errors
    /// A store error.
    pub fn tasks(&self, progress: &dyn Fn(u64)) -> Result<Vec<TaskSummary>, LedgerError> {
        let mut order: Vec<TaskSummary> = Vec::new();
        let mut seen: std::collections::HashMap<TaskId, usize> = std::collections::HashMap::new();
        for index in 0..self.store.size() {
            if index % 4096 == 0 {
                progress(index);
            }
            let Some((_, Some(task))) = keys_of(&self.store.entry(index)?) else {
                continue;
            };
            if task == LEDGER_LEVEL_TASK {
                continue;
            }
            let k = *seen.entry(task).or_insert_with(|| {
                order.push(TaskSummary {
                    task,
                    entries: 0,
                    first: index,
                    last: index,
                });
                order.len() - 1
            });
            order[k].entries += 1;
            order[k].last = index;
        }
        Ok(order)
    }

    /// Indices of a task's entries, ascending ([`LEDGER_LEVEL_TASK`] lists the ledger-level
    /// entries, such as policy registrations).
    ///
    /// # Errors
    /// A store error.
    pub fn task_entries(&self, task: &TaskId) -> Result<Vec<u64>, LedgerError> {
        Ok(self.store.task_entries(task)?)
    }
}
