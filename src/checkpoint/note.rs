//! C2SP `signed-note`: parsing, signing and verification with Ed25519 keys.
//!
//! A note is UTF-8 text ending in a newline, a blank line, then one signature line per
//! signature: `— <key name> <base64(key id ‖ signature)>\n` (the dash is U+2014). Each
//! signature covers the text including its final newline and nothing after it.
//!
//! Verification follows Go's `sumdb/note.Open`: signatures by unknown keys are kept but not
//! trusted, a bad signature by a known key rejects the whole note, and at least one known key
//! must have signed. Repeated signatures by the same key count once.

use ed25519_dalek::Signature;

use super::key::{NoteSigner, NoteVerifier, is_valid_key_name, key_id_hex};
use crate::encoding::{b64_decode, b64_encode};

/// Largest note accepted, in bytes. A checkpoint with 100 signatures is under 20 KiB.
pub const MAX_NOTE_LEN: usize = 64 * 1024;
/// Most signature lines accepted in one note (Go's `sumdb/note` limit).
pub const MAX_SIGNATURES: usize = 100;
const SIG_PREFIX: &str = "\u{2014} ";
const ED25519_SIG_LEN: usize = 64;

/// Why a note was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The note is longer than [`MAX_NOTE_LEN`].
    #[error("note is {len} bytes, over the {max}-byte limit")]
    TooLarge {
        /// Length received.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// The note is not valid UTF-8.
    #[error("note is not valid UTF-8")]
    NotUtf8,
    /// The note contains an ASCII control character other than newline.
    #[error("control character {byte:#04x} at byte {offset}")]
    ControlCharacter {
        /// Offending byte.
        byte: u8,
        /// Its position.
        offset: usize,
    },
    /// No blank line separates the text from signatures, or no signature follows it.
    #[error("note has no signature block after a blank line")]
    NoSignatureBlock,
    /// A signature line is not `— name base64`.
    #[error("malformed signature line {line}")]
    MalformedSignatureLine {
        /// 1-based line number within the signature block.
        line: usize,
    },
    /// A signature line's payload is not valid base64.
    #[error("signature line {line} is not valid base64")]
    BadBase64 {
        /// 1-based line number within the signature block.
        line: usize,
    },
    /// More signature lines than [`MAX_SIGNATURES`].
    #[error("note has {count} signatures, over the limit of {max}")]
    TooManySignatures {
        /// Lines found.
        count: usize,
        /// Limit.
        max: usize,
    },
    /// A known key's signature does not verify; the note is rejected whatever else signed it.
    #[error("invalid signature by known key {name}+{key_id}")]
    InvalidSignature {
        /// Key name.
        name: String,
        /// Key id, 8 hex digits.
        key_id: String,
    },
    /// Nothing verified, and a signature carries a known key name with another key id.
    #[error("signature by {name} has key id {key_id}, which no trusted key has")]
    UnknownKeyId {
        /// Key name.
        name: String,
        /// Key id found, 8 hex digits.
        key_id: String,
    },
    /// No signature by any trusted key.
    #[error("note is not signed by any trusted key")]
    NoTrustedSignature,
    /// Text given for signing is not a valid note text.
    #[error("invalid note text: {0}")]
    InvalidText(&'static str),
}

/// One signature of a note, before or after verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name written on the line.
    pub name: String,
    /// Key id, the first four payload bytes.
    pub key_id: u32,
    /// Signature bytes after the key id (64 bytes for Ed25519).
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// Parses one signature line (`— <name> <base64>`, without its newline).
    pub(crate) fn parse_line(line: &str) -> Option<Self> {
        parse_signature_line(line, 1).ok()
    }

    pub(crate) fn line(&self) -> String {
        let mut payload = self.key_id.to_be_bytes().to_vec();
        payload.extend_from_slice(&self.signature);
        format!("{SIG_PREFIX}{} {}\n", self.name, b64_encode(&payload))
    }
}

/// A note whose syntax is valid; its signatures are not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

/// A note with at least one valid signature by a trusted key and no invalid one.
///
/// Only [`Note::verify`] (or [`open`]) makes one, so holding it means the check was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNote {
    text: String,
    verified: Vec<NoteSignature>,
    unverified: Vec<NoteSignature>,
}

impl VerifiedNote {
    /// The signed text, ending in a newline.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Signatures by trusted keys, all valid.
    #[must_use]
    pub fn verified(&self) -> &[NoteSignature] {
        &self.verified
    }

    /// Signatures by keys the caller did not supply; not checked.
    #[must_use]
    pub fn unverified(&self) -> &[NoteSignature] {
        &self.unverified
    }
}

fn check_chars(bytes: &[u8]) -> Result<&str, NoteError> {
    let text = core::str::from_utf8(bytes).map_err(|_| NoteError::NotUtf8)?;
    match bytes.iter().position(|&b| b < 0x20 && b != b'\n') {
        Some(offset) => Err(NoteError::ControlCharacter {
            byte: bytes[offset],
            offset,
        }),
        None => Ok(text),
    }
}

fn parse_signature_line(line: &str, number: usize) -> Result<NoteSignature, NoteError> {
    let malformed = NoteError::MalformedSignatureLine { line: number };
    let rest = line.strip_prefix(SIG_PREFIX).ok_or(malformed.clone())?;
    let (name, b64) = rest.split_once(' ').ok_or(malformed.clone())?;
    if !is_valid_key_name(name) || b64.contains(' ') {
        return Err(malformed);
    }
    let payload = b64_decode(b64).ok_or(NoteError::BadBase64 { line: number })?;
    // A payload must hold a key id and at least one signature byte.
    if payload.len() < 5 {
        return Err(malformed);
    }
    let (id, signature) = payload.split_at(4);
    Ok(NoteSignature {
        name: name.to_owned(),
        key_id: u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
        signature: signature.to_vec(),
    })
}

impl Note {
    /// Parses a note's syntax without checking signatures.
    ///
    /// # Errors
    /// [`NoteError::TooLarge`], [`NoteError::NotUtf8`], [`NoteError::ControlCharacter`],
    /// [`NoteError::NoSignatureBlock`], [`NoteError::MalformedSignatureLine`],
    /// [`NoteError::BadBase64`] or [`NoteError::TooManySignatures`].
    pub fn parse(bytes: &[u8]) -> Result<Self, NoteError> {
        if bytes.len() > MAX_NOTE_LEN {
            return Err(NoteError::TooLarge {
                len: bytes.len(),
                max: MAX_NOTE_LEN,
            });
        }
        let all = check_chars(bytes)?;
        // The signature block starts after the last blank line (as Go's `note.Open`).
        let split = all.rfind("\n\n").ok_or(NoteError::NoSignatureBlock)?;
        let (text, block) = (&all[..=split], &all[split + 2..]);
        if block.is_empty() || !block.ends_with('\n') {
            return Err(NoteError::NoSignatureBlock);
        }
        let lines: Vec<&str> = block[..block.len() - 1].split('\n').collect();
        if lines.len() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures {
                count: lines.len(),
                max: MAX_SIGNATURES,
            });
        }
        let signatures = lines
            .iter()
            .enumerate()
            .map(|(i, line)| parse_signature_line(line, i + 1))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The text part, ending in a newline.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signatures in the order they appear.
    #[must_use]
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Checks the signatures against `verifiers` (see the module documentation).
    ///
    /// # Errors
    /// [`NoteError::InvalidSignature`], [`NoteError::UnknownKeyId`] or
    /// [`NoteError::NoTrustedSignature`].
    pub fn verify(&self, verifiers: &[NoteVerifier]) -> Result<VerifiedNote, NoteError> {
        let mut verified: Vec<NoteSignature> = Vec::new();
        let mut unverified = Vec::new();
        let mut wrong_id = None;
        for sig in &self.signatures {
            let known = verifiers
                .iter()
                .find(|v| v.name() == sig.name && v.key_id() == sig.key_id);
            let Some(v) = known else {
                if wrong_id.is_none() && verifiers.iter().any(|v| v.name() == sig.name) {
                    wrong_id = Some(sig.clone());
                }
                unverified.push(sig.clone());
                continue;
            };
            if verified
                .iter()
                .any(|s| s.name == sig.name && s.key_id == sig.key_id)
            {
                continue;
            }
            if !ed25519_ok(v, self.text.as_bytes(), &sig.signature) {
                return Err(NoteError::InvalidSignature {
                    name: sig.name.clone(),
                    key_id: key_id_hex(sig.key_id),
                });
            }
            verified.push(sig.clone());
        }
        match (verified.is_empty(), wrong_id) {
            (false, _) => Ok(VerifiedNote {
                text: self.text.clone(),
                verified,
                unverified,
            }),
            (true, Some(s)) => Err(NoteError::UnknownKeyId {
                name: s.name,
                key_id: key_id_hex(s.key_id),
            }),
            (true, None) => Err(NoteError::NoTrustedSignature),
        }
    }

    /// Serialises the note: text, blank line, signature lines.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.text.clone();
        out.push('\n');
        for s in &self.signatures {
            out.push_str(&s.line());
        }
        out.into_bytes()
    }

    /// Adds `signer`'s signature, replacing an earlier one by the same key.
    pub fn add_signature(&mut self, signer: &NoteSigner) {
        let (name, key_id) = (signer.name().to_owned(), signer.key_id());
        self.signatures
            .retain(|s| !(s.name == name && s.key_id == key_id));
        let signature = signer.sign(self.text.as_bytes()).to_vec();
        self.signatures.push(NoteSignature {
            name,
            key_id,
            signature,
        });
    }
}

impl Note {
    /// Adds a signature line, replacing an earlier one by the same key (name and key id).
    pub(crate) fn put_signature(&mut self, sig: NoteSignature) {
        self.signatures
            .retain(|s| !(s.name == sig.name && s.key_id == sig.key_id));
        self.signatures.push(sig);
    }

    /// Adds `signer`'s C2SP `cosignature/v1` at `timestamp` (seconds since the epoch); see
    /// [`super::cosigned_time`].
    pub fn add_cosignature(&mut self, signer: &NoteSigner, timestamp: u64) {
        let line = signer.cosign(&self.text, timestamp);
        self.signatures.push(line);
    }
}

/// Strict Ed25519 verification: rejects non-canonical encodings and small-order keys.
fn ed25519_ok(v: &NoteVerifier, msg: &[u8], sig: &[u8]) -> bool {
    if sig.len() != ED25519_SIG_LEN {
        return false;
    }
    Signature::from_slice(sig).is_ok_and(|s| v.key().verify_strict(msg, &s).is_ok())
}

/// Signs `text` with every signer and returns the note bytes.
///
/// # Errors
/// [`NoteError::InvalidText`] when the text is empty, does not end in a newline, contains a
/// blank line or a control character, and [`NoteError::TooLarge`] when the note would not
/// be accepted by [`Note::parse`].
pub fn sign(text: &str, signers: &[&NoteSigner]) -> Result<Vec<u8>, NoteError> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(NoteError::InvalidText(
            "text must be non-empty and end with a newline",
        ));
    }
    if text.contains("\n\n") {
        return Err(NoteError::InvalidText("text must not contain a blank line"));
    }
    if check_chars(text.as_bytes()).is_err() {
        return Err(NoteError::InvalidText(
            "text must not contain control characters",
        ));
    }
    if signers.is_empty() || signers.len() > MAX_SIGNATURES {
        return Err(NoteError::InvalidText(
            "between 1 and 100 signers are needed",
        ));
    }
    let mut note = Note {
        text: text.to_owned(),
        signatures: Vec::new(),
    };
    for s in signers {
        note.add_signature(s);
    }
    let bytes = note.to_bytes();
    if bytes.len() > MAX_NOTE_LEN {
        return Err(NoteError::TooLarge {
            len: bytes.len(),
            max: MAX_NOTE_LEN,
        });
    }
    Ok(bytes)
}

/// Parses and verifies a note in one step.
///
/// # Errors
/// Any error of [`Note::parse`] or [`Note::verify`].
pub fn open(bytes: &[u8], verifiers: &[NoteVerifier]) -> Result<VerifiedNote, NoteError> {
    Note::parse(bytes)?.verify(verifiers)
}
