//! C2SP `tlog-checkpoint` bodies and their verification as signed notes.
//!
//! ```text
//! <origin>\n
//! <tree size, decimal, no leading zeros>\n
//! <base64 root hash>\n
//! [extension line\n]...
//! ```

use super::key::{NoteSigner, NoteVerifier};
use super::note::{self, Note, NoteError, VerifiedNote};
use crate::encoding::{b64_decode, b64_encode};
use crate::merkle::{Hash, TreeHead};

/// Why a checkpoint was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The signed note itself was rejected.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The body has fewer than three lines.
    #[error("checkpoint body needs origin, size and root lines")]
    MissingLine,
    /// The origin line is empty.
    #[error("checkpoint origin is empty")]
    EmptyOrigin,
    /// The origin is not the one the verifier expects.
    #[error("checkpoint origin {found:?} is not the expected {expected:?}")]
    OriginMismatch {
        /// Origin the caller pinned.
        expected: String,
        /// Origin in the checkpoint.
        found: String,
    },
    /// The size line is not a canonical decimal `u64`.
    #[error("checkpoint size {0:?} is not a decimal integer without leading zeros")]
    BadSize(String),
    /// The root line is not base64 of a 32-byte hash.
    #[error("checkpoint root is not the base64 of a 32-byte hash")]
    BadRoot,
    /// An extension line is empty.
    #[error("checkpoint extension line {0} is empty")]
    EmptyExtension(usize),
}

/// The body of a checkpoint: which log, how big, its root, and optional extension lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line (conventionally the log's name or URL prefix).
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// Root of the tree of `size` leaves.
    pub root: Hash,
    /// Further non-empty lines, passed through unchanged.
    pub extensions: Vec<String>,
}

fn parse_size(line: &str) -> Result<u64, CheckpointError> {
    let canonical = !line.is_empty()
        && line.bytes().all(|b| b.is_ascii_digit())
        && (line == "0" || !line.starts_with('0'));
    canonical
        .then(|| line.parse().ok())
        .flatten()
        .ok_or_else(|| CheckpointError::BadSize(line.to_owned()))
}

impl Checkpoint {
    /// The note text of this checkpoint.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            b64_encode(self.root.as_bytes())
        );
        for e in &self.extensions {
            text.push_str(e);
            text.push('\n');
        }
        text
    }

    /// Parses a checkpoint body (a note's text, ending in a newline).
    ///
    /// # Errors
    /// [`CheckpointError::MissingLine`], [`CheckpointError::EmptyOrigin`],
    /// [`CheckpointError::BadSize`], [`CheckpointError::BadRoot`] or
    /// [`CheckpointError::EmptyExtension`].
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::MissingLine)?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::MissingLine);
        };
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        let size = parse_size(size)?;
        let root = b64_decode(root)
            .and_then(|r| Hash::try_from_slice(&r).ok())
            .ok_or(CheckpointError::BadRoot)?;
        let mut extensions = Vec::new();
        for (i, line) in lines.enumerate() {
            if line.is_empty() {
                return Err(CheckpointError::EmptyExtension(i + 1));
            }
            extensions.push(line.to_owned());
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// The tree head this checkpoint commits to.
    #[must_use]
    pub const fn tree_head(&self) -> TreeHead {
        TreeHead {
            size: self.size,
            root: self.root,
        }
    }

    /// Signs the checkpoint with every signer; returns the note bytes.
    ///
    /// # Errors
    /// [`CheckpointError::Note`] when the text is not a valid note text (an origin with a
    /// control character, say) or there is no signer.
    pub fn sign(&self, signers: &[&NoteSigner]) -> Result<Vec<u8>, CheckpointError> {
        if self.origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        Ok(note::sign(&self.to_text(), signers)?)
    }

    /// Signs the checkpoint as its log does: the log key's note signature, and the same
    /// key's C2SP `cosignature/v1` at `timestamp` (seconds since the epoch), so that the
    /// note carries the time the log signed it ([`VerifiedCheckpoint::log_time`]).
    ///
    /// # Errors
    /// As [`Checkpoint::sign`], and [`NoteError::InvalidText`] for a timestamp over
    /// [`super::MAX_TIMESTAMP`].
    pub fn sign_timestamped(
        &self,
        log_key: &NoteSigner,
        timestamp: u64,
    ) -> Result<Vec<u8>, CheckpointError> {
        if timestamp > super::MAX_TIMESTAMP {
            return Err(NoteError::InvalidText("timestamp over 2^63 - 1").into());
        }
        let mut note = Note::parse(&self.sign(&[log_key])?)?;
        note.add_cosignature(log_key, timestamp);
        let bytes = note.to_bytes();
        if bytes.len() > note::MAX_NOTE_LEN {
            return Err(NoteError::TooLarge {
                len: bytes.len(),
                max: note::MAX_NOTE_LEN,
            }
            .into());
        }
        Ok(bytes)
    }
}

/// A checkpoint whose note verified under a trusted key and whose origin is the expected one.
///
/// Only [`open_checkpoint`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    checkpoint: Checkpoint,
    note: VerifiedNote,
    log_time: Option<u64>,
}

impl VerifiedCheckpoint {
    /// The checkpoint body.
    #[must_use]
    pub const fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The verified note (text and signatures).
    #[must_use]
    pub const fn note(&self) -> &VerifiedNote {
        &self.note
    }

    /// The tree head the checkpoint commits to.
    #[must_use]
    pub const fn tree_head(&self) -> TreeHead {
        self.checkpoint.tree_head()
    }

    /// When the log says it signed the checkpoint (seconds since the epoch): the earliest
    /// `cosignature/v1` timestamp by a verifying log key, or `None` if the note has none.
    /// The log's word, not an outside witness's.
    #[must_use]
    pub const fn log_time(&self) -> Option<u64> {
        self.log_time
    }
}

/// Verifies a signed checkpoint note for the log `origin` under `verifiers`.
///
/// # Errors
/// [`CheckpointError::Note`] for any note rejection, [`CheckpointError::OriginMismatch`],
/// or a body error from [`Checkpoint::parse`].
///
/// # Security
/// Checks the signature and the origin only. Whether the log behaves append-only is for
/// consistency proofs between checkpoints; whether others saw the same checkpoint is for
/// witnesses.
pub fn open_checkpoint(
    bytes: &[u8],
    origin: &str,
    verifiers: &[NoteVerifier],
) -> Result<VerifiedCheckpoint, CheckpointError> {
    let parsed = Note::parse(bytes)?;
    let note = parsed.verify(verifiers)?;
    let checkpoint = Checkpoint::parse(note.text())?;
    if checkpoint.origin != origin {
        return Err(CheckpointError::OriginMismatch {
            expected: origin.to_owned(),
            found: checkpoint.origin,
        });
    }
    let mut log_time: Option<u64> = None;
    for v in verifiers {
        if let Some(t) = super::cosigned_time(v, note.text(), parsed.signatures())? {
            log_time = Some(log_time.map_or(t, |e| e.min(t)));
        }
    }
    Ok(VerifiedCheckpoint {
        checkpoint,
        note,
        log_time,
    })
}
