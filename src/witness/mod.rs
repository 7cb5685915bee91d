//! A C2SP `tlog-witness`: it cosigns a log's checkpoint only after checking it is
//! consistent with the last one it cosigned for that log, so that a log cannot show one
//! tree to some and another to others (a split view) without a witness refusing.
//!
//! [`Witness::add_checkpoint`] is the protocol's `add-checkpoint` on a request body; the
//! HTTP service around it is `witness::serve` (feature `server`) and `warrant witness
//! serve`. State is one small file per log, replaced atomically and synced before the
//! cosignature is returned (`state.rs`). `docs/witnessing.md` has the protocol and policy.

mod cosigner;
mod request;
mod state;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use crate::checkpoint::{
    CheckpointError, Note, NoteError, NoteSigner, NoteVerifier, open_checkpoint,
};
use crate::merkle::{ConsistencyProof, HashProfile, TreeHead, verify_consistency};

pub(crate) use cosigner::accept as accept_cosignatures;
pub use cosigner::{
    CosignError, Cosigner, MAX_LINES_PER_WITNESS, SizeHint, conflict_size, request_body,
};
pub use request::MAX_PROOF_LINES;
pub(crate) use request::parse as parse_request;
use state::LogState;

/// A log the witness follows: its origin, the keys its checkpoints are signed with, and
/// its hash profile (SHA-256 is `tlog-witness`'s; a BLAKE3 log's proofs use BLAKE3).
#[derive(Debug, Clone)]
pub struct WitnessedLog {
    /// The checkpoint origin.
    pub origin: String,
    /// Keys whose signature makes a checkpoint the log's (any one suffices).
    pub verifiers: Vec<NoteVerifier>,
    /// How the log hashes.
    pub profile: HashProfile,
}

/// Why a witness refused a checkpoint, each with the HTTP status the protocol assigns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// The body is not an `add-checkpoint` request, or its old size is past the
    /// checkpoint's (400).
    #[error("malformed request: {0}")]
    Malformed(&'static str),
    /// The checkpoint does not parse (400).
    #[error("the checkpoint does not parse: {0}")]
    Checkpoint(#[source] CheckpointError),
    /// The witness does not follow this origin (404).
    #[error("unknown log {0:?}")]
    UnknownLog(String),
    /// No signature verifies against the log's keys, or one by its key is invalid (403).
    #[error("the checkpoint is not signed by the log: {0}")]
    NotSigned(#[source] NoteError),
    /// The old size is not the size of the latest checkpoint cosigned for this log (409,
    /// with that size), or the checkpoint has that size and another root (409: a fork).
    #[error("conflict: the latest cosigned checkpoint of this log has size {size}")]
    Conflict {
        /// The size the witness holds.
        size: u64,
    },
    /// The consistency proof does not lead from the cosigned tree to this one (422).
    #[error("the consistency proof does not verify")]
    BadProof,
    /// The state could not be read or written (500); nothing was cosigned.
    #[error("witness state: {0}")]
    Storage(#[source] std::io::Error),
}

impl WitnessError {
    /// The HTTP status `tlog-witness` gives this refusal.
    #[must_use]
    pub const fn status(&self) -> u16 {
        match self {
            Self::Malformed(_) | Self::Checkpoint(_) => 400,
            Self::NotSigned(_) => 403,
            Self::UnknownLog(_) => 404,
            Self::Conflict { .. } => 409,
            Self::BadProof => 422,
            Self::Storage(_) => 500,
        }
    }
}

/// A witness: its key, the logs it follows, and its state directory.
pub struct Witness {
    signer: NoteSigner,
    logs: HashMap<String, WitnessedLog>,
    dir: PathBuf,
    /// Held from reading a log's state to storing the new one: two requests can never both
    /// pass the old-size check and then roll the state back (the race the spec describes).
    lock: Mutex<()>,
    clock: Box<dyn Fn() -> u64 + Send + Sync>,
}

impl Witness {
    /// A witness signing with `signer`, following `logs`, keeping its state in `dir`
    /// (created if missing).
    ///
    /// # Errors
    /// [`WitnessError::Storage`] if the directory cannot be created.
    pub fn open(
        dir: &Path,
        signer: NoteSigner,
        logs: Vec<WitnessedLog>,
    ) -> Result<Self, WitnessError> {
        std::fs::create_dir_all(dir).map_err(WitnessError::Storage)?;
        Ok(Self {
            signer,
            logs: logs.into_iter().map(|l| (l.origin.clone(), l)).collect(),
            dir: dir.to_path_buf(),
            lock: Mutex::new(()),
            clock: Box::new(|| crate::event::Timestamp::now().as_millis() / 1000),
        })
    }

    /// The witness's verifier key (what a trust policy pins for it).
    #[must_use]
    pub fn verifier(&self) -> NoteVerifier {
        self.signer.verifier()
    }

    /// The size of the latest checkpoint cosigned for `origin` (0 if none).
    ///
    /// # Errors
    /// [`WitnessError::Storage`].
    pub fn size(&self, origin: &str) -> Result<u64, WitnessError> {
        let state = state::load(&self.dir, origin).map_err(WitnessError::Storage)?;
        Ok(state.map_or(0, |s| s.size))
    }

    /// `add-checkpoint`: checks the request and, if it passes, records the checkpoint and
    /// returns the cosignature line(s) (`— <name> <base64>\n`).
    ///
    /// # Errors
    /// [`WitnessError`]; nothing is recorded or cosigned.
    pub fn add_checkpoint(&self, body: &[u8]) -> Result<Vec<u8>, WitnessError> {
        let req = request::parse(body).map_err(WitnessError::Malformed)?;
        let note = Note::parse(req.checkpoint)
            .map_err(|e| WitnessError::Checkpoint(CheckpointError::Note(e)))?;
        let origin = note.text().lines().next().unwrap_or_default();
        let log = self
            .logs
            .get(origin)
            .ok_or_else(|| WitnessError::UnknownLog(origin.to_owned()))?;
        let opened =
            open_checkpoint(req.checkpoint, &log.origin, &log.verifiers).map_err(|e| match e {
                CheckpointError::Note(n) => WitnessError::NotSigned(n),
                other => WitnessError::Checkpoint(other),
            })?;
        let head = opened.tree_head();
        if req.old > head.size {
            return Err(WitnessError::Malformed(
                "the old size is past the checkpoint's",
            ));
        }
        let _held = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        let stored = state::load(&self.dir, origin).map_err(WitnessError::Storage)?;
        check(log.profile, stored, req.old, &req.proof, &head)?;
        let time = (self.clock)().max(stored.map_or(0, |s| s.time));
        let new = LogState {
            size: head.size,
            root: head.root,
            time,
        };
        state::store(&self.dir, origin, &new).map_err(WitnessError::Storage)?;
        Ok(self.signer.cosign(note.text(), time).line().into_bytes())
    }
}

/// The protocol's checks of a signed checkpoint against what the witness holds.
fn check(
    profile: HashProfile,
    stored: Option<LogState>,
    old: u64,
    proof: &[crate::merkle::Hash],
    head: &TreeHead,
) -> Result<(), WitnessError> {
    let held = stored.map_or(0, |s| s.size);
    if old != held {
        return Err(WitnessError::Conflict { size: held });
    }
    let Some(stored) = stored.filter(|s| s.size > 0) else {
        // Nothing cosigned yet (or only the empty tree): the first checkpoint is taken on
        // trust, as the protocol says, with an empty proof.
        if !proof.is_empty() {
            return Err(WitnessError::BadProof);
        }
        if head.size == 0 && head.root != profile.empty_root() {
            return Err(WitnessError::BadProof);
        }
        return Ok(());
    };
    if head.size == stored.size {
        // The same size again: the same tree, or a fork.
        if head.root != stored.root || !proof.is_empty() {
            return Err(WitnessError::Conflict { size: held });
        }
        return Ok(());
    }
    let consistency = ConsistencyProof {
        old_size: stored.size,
        new_size: head.size,
        path: proof.to_vec(),
    };
    let old_head = TreeHead {
        size: stored.size,
        root: stored.root,
    };
    verify_consistency(profile, &consistency, &old_head, head).map_err(|_| WitnessError::BadProof)
}
