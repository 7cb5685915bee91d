//! The log's side of `tlog-witness`: what it asks a witness, and what it accepts back.

use core::sync::atomic::{AtomicU64, Ordering};

use super::{Witness, WitnessError};
use crate::checkpoint::{CosignerVerifier, NoteSignature};
use crate::encoding::{b64_encode, canonical_u64};
use crate::merkle::Hash;

/// A witness as a log sees it: something that takes an `add-checkpoint` body and answers
/// with cosignature lines or a refusal. The HTTP client (feature `client`) and an
/// in-process [`Witness`] are both one.
pub trait Cosigner: Send + Sync {
    /// How to name it in reports (its URL, or its key name).
    fn name(&self) -> String;

    /// Its key, if known: then only lines that verify under it are accepted.
    fn key(&self) -> Option<CosignerVerifier> {
        None
    }

    /// `add-checkpoint` on `body` (see [`request_body`]); the answer's cosignature lines.
    ///
    /// # Errors
    /// [`CosignError`].
    fn add_checkpoint(&self, body: &[u8]) -> Result<Vec<u8>, CosignError>;

    /// The size the witness last reported holding for the log (a first guess at `old`).
    fn size_hint(&self) -> u64 {
        0
    }

    /// Records the size the witness holds after an answer.
    fn set_size_hint(&self, _size: u64) {}
}

/// Why a witness did not cosign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CosignError {
    /// The witness answered with a refusal (`size` is the body of a 409: the size it holds).
    #[error("refused ({status}): {message}")]
    Refused {
        /// The HTTP status (or the one the protocol gives an in-process refusal).
        status: u16,
        /// For a 409, the size of the latest checkpoint the witness cosigned.
        size: Option<u64>,
        /// The witness's words.
        message: String,
    },
    /// No answer (connection, timeouts, retries exhausted).
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// The witness holds a larger tree than this log's: this log lost entries, or the
    /// witness was shown another branch.
    #[error("the witness holds size {witness}, past this log's {log}: the log was cut or forked")]
    Ahead {
        /// The witness's size.
        witness: u64,
        /// The log's.
        log: u64,
    },
    /// The same size with another root: the witness cosigned another tree at this size.
    #[error("the witness cosigned another tree of size {0}: the log forked")]
    Fork(u64),
    /// The answer is not cosignature lines (or not by the witness's known key, or too many).
    #[error("unusable answer: {0}")]
    BadAnswer(String),
}

/// Most cosignature lines accepted from one witness's answer: a witness has one key per
/// algorithm; a long answer would only crowd the note towards its signature limit.
pub const MAX_LINES_PER_WITNESS: usize = 4;

/// An `add-checkpoint` request body: `old <size>`, the proof's hashes in base64, an empty
/// line, the checkpoint note.
#[must_use]
pub fn request_body(old: u64, proof: &[Hash], note: &[u8]) -> Vec<u8> {
    let mut out = format!("old {old}\n").into_bytes();
    for h in proof {
        out.extend_from_slice(b64_encode(h.as_bytes()).as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(note);
    out
}

/// The size in a 409 body (`<size>\n`).
#[must_use]
pub fn conflict_size(body: &str) -> Option<u64> {
    canonical_u64(body.strip_suffix('\n').unwrap_or(body))
}

/// The cosignature lines of an answer: well-formed signature lines, at most
/// [`MAX_LINES_PER_WITNESS`], each a `cosignature/v1` over `text` by `key` when it is known.
///
/// # Errors
/// [`CosignError::BadAnswer`].
pub(crate) fn accept(
    answer: &[u8],
    text: &str,
    key: Option<&CosignerVerifier>,
) -> Result<Vec<NoteSignature>, CosignError> {
    let bad = |why: &str| CosignError::BadAnswer(why.to_owned());
    let answer = std::str::from_utf8(answer).map_err(|_| bad("not UTF-8"))?;
    let lines: Vec<&str> = answer.lines().collect();
    if lines.is_empty() || lines.len() > MAX_LINES_PER_WITNESS {
        return Err(bad("not 1 to 4 cosignature lines"));
    }
    let sigs = lines
        .iter()
        .map(|l| NoteSignature::parse_line(l).ok_or_else(|| bad("not a signature line")))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(key) = key {
        match key.cosigned_time(text, &sigs) {
            Ok(Some(_)) if sigs.iter().all(|s| s.name == key.name()) => {}
            _ => return Err(bad("no valid cosignature by the witness's key")),
        }
    }
    Ok(sigs)
}

impl Cosigner for Witness {
    fn name(&self) -> String {
        self.verifier().name().to_owned()
    }

    fn key(&self) -> Option<CosignerVerifier> {
        Some(CosignerVerifier::from(&self.verifier()))
    }

    fn add_checkpoint(&self, body: &[u8]) -> Result<Vec<u8>, CosignError> {
        Self::add_checkpoint(self, body).map_err(|e| CosignError::Refused {
            status: e.status(),
            size: match e {
                WitnessError::Conflict { size } => Some(size),
                _ => None,
            },
            message: e.to_string(),
        })
    }
}

/// A size hint kept by a client between calls.
#[derive(Debug, Default)]
pub struct SizeHint(AtomicU64);

impl SizeHint {
    /// The hint.
    #[must_use]
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Sets the hint.
    pub fn set(&self, size: u64) {
        self.0.store(size, Ordering::Relaxed);
    }
}
