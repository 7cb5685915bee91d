//! C2SP `tlog-cosignature` v1 (Ed25519): a timestamped signature over a checkpoint.
//!
//! ```text
//! signature line: — <name> base64(key id ‖ timestamp (u64, big-endian) ‖ Ed25519 signature)
//! key id:         SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[..4]
//! signed message: "cosignature/v1\ntime <timestamp>\n" ‖ checkpoint note text
//! ```
//!
//! The log signs its own checkpoints this way too, with its log key under its origin, so
//! that a checkpoint carries the time the log signed it (`docs/checkpoint-format.md`). The
//! two signatures of one key cannot be confused: a note signature signs the checkpoint text,
//! whose second line is a tree size, while a cosignature's message has `time …` there.

use core::fmt;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use super::key::{KeyError, NoteSigner, NoteVerifier, key_id_for, key_id_hex, parse_key_parts};
use super::note::{NoteError, NoteSignature};
use crate::encoding::b64_encode;

/// The signature-type byte of Ed25519 cosignatures (`cosignature/v1`).
pub const ALG_COSIGNATURE_V1: u8 = 0x04;
/// Largest timestamp a cosignature may carry (the spec's 2^63 − 1).
pub const MAX_TIMESTAMP: u64 = (1 << 63) - 1;
const PAYLOAD_LEN: usize = 8 + 64;

/// The key id of an Ed25519 cosigner: SHA-256(name ‖ `\n` ‖ 0x04 ‖ public key)[..4].
#[must_use]
pub fn cosigner_key_id(name: &str, key: &VerifyingKey) -> u32 {
    key_id_for(name, ALG_COSIGNATURE_V1, key)
}

/// A witness's public key in the form C2SP `tlog-cosignature` publishes and
/// `tlog-policy` pins: `name+hex8+base64(0x04 ‖ Ed25519 key)`, the key id computed with the
/// signature-type byte 0x04.
#[derive(Clone, PartialEq, Eq)]
pub struct CosignerVerifier(NoteVerifier);

impl CosignerVerifier {
    /// The cosigner key of `key` under `name`.
    ///
    /// # Errors
    /// [`KeyError::InvalidName`].
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self, KeyError> {
        NoteVerifier::new(name, key).map(Self)
    }

    /// Parses `name+hex8+base64(0x04 ‖ key)`, checking the key id.
    ///
    /// # Errors
    /// Any [`KeyError`]; [`KeyError::UnknownAlgorithm`] for a note key (0x01): a witness
    /// key and a log key are not interchangeable in a policy.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let (name, found, raw) =
            parse_key_parts(text.trim_end_matches(['\n', '\r']), ALG_COSIGNATURE_V1)?;
        let key = VerifyingKey::from_bytes(&raw).map_err(|_| KeyError::BadPublicKey)?;
        if key.is_weak() {
            return Err(KeyError::BadPublicKey);
        }
        let v = Self::new(&name, key)?;
        let computed = v.key_id();
        if computed != found {
            return Err(KeyError::KeyIdMismatch { found, computed });
        }
        Ok(v)
    }

    /// The key name (the witness's name in its cosignature lines).
    #[must_use]
    pub fn name(&self) -> &str {
        self.0.name()
    }

    /// The cosigner key id (signature type 0x04).
    #[must_use]
    pub fn key_id(&self) -> u32 {
        cosigner_key_id(self.0.name(), self.0.key())
    }

    /// The Ed25519 public key.
    #[must_use]
    pub const fn key(&self) -> &VerifyingKey {
        self.0.key()
    }

    /// The earliest time this witness cosigned `text` among `signatures`, as
    /// [`cosigned_time`].
    ///
    /// # Errors
    /// As [`cosigned_time`].
    pub fn cosigned_time(
        &self,
        text: &str,
        signatures: &[NoteSignature],
    ) -> Result<Option<u64>, NoteError> {
        cosigned_time(&self.0, text, signatures)
    }
}

impl From<&NoteSigner> for CosignerVerifier {
    fn from(signer: &NoteSigner) -> Self {
        Self(signer.verifier())
    }
}

/// The same key and name, as a witness's cosigner key.
impl From<&NoteVerifier> for CosignerVerifier {
    fn from(v: &NoteVerifier) -> Self {
        Self(v.clone())
    }
}

impl fmt::Display for CosignerVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = vec![ALG_COSIGNATURE_V1];
        raw.extend_from_slice(self.key().as_bytes());
        write!(
            f,
            "{}+{:08x}+{}",
            self.name(),
            self.key_id(),
            b64_encode(&raw)
        )
    }
}

impl fmt::Debug for CosignerVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CosignerVerifier({self})")
    }
}

/// The message a `cosignature/v1` signs.
fn message(timestamp: u64, text: &str) -> Vec<u8> {
    format!("cosignature/v1\ntime {timestamp}\n{text}").into_bytes()
}

/// A `cosignature/v1` signature line by `key` under `name` over the note text `text`.
pub(crate) fn cosign(name: &str, key: &SigningKey, text: &str, timestamp: u64) -> NoteSignature {
    let signature = key.sign(&message(timestamp, text)).to_bytes();
    let mut payload = timestamp.to_be_bytes().to_vec();
    payload.extend_from_slice(&signature);
    NoteSignature {
        name: name.to_owned(),
        key_id: cosigner_key_id(name, &key.verifying_key()),
        signature: payload,
    }
}

impl NoteSigner {
    /// This key's `cosignature/v1` over `text` at `timestamp` (seconds since the epoch).
    pub(crate) fn cosign(&self, text: &str, timestamp: u64) -> NoteSignature {
        cosign(self.name(), self.signing_key(), text, timestamp)
    }
}

/// Checks one cosignature line (already matched to `verifier`'s name and cosigner key id)
/// over `text`; returns its timestamp.
fn check(verifier: &NoteVerifier, text: &str, sig: &NoteSignature) -> Result<u64, NoteError> {
    let invalid = || NoteError::InvalidSignature {
        name: sig.name.clone(),
        key_id: key_id_hex(sig.key_id),
    };
    if sig.signature.len() != PAYLOAD_LEN {
        return Err(invalid());
    }
    let (ts, signature) = sig.signature.split_at(8);
    let mut be = [0; 8];
    be.copy_from_slice(ts);
    let timestamp = u64::from_be_bytes(be);
    if timestamp > MAX_TIMESTAMP {
        return Err(invalid());
    }
    let ok = Signature::from_slice(signature).is_ok_and(|s| {
        verifier
            .key()
            .verify_strict(&message(timestamp, text), &s)
            .is_ok()
    });
    if ok { Ok(timestamp) } else { Err(invalid()) }
}

/// The earliest timestamp among the valid `cosignature/v1` lines of `verifier`'s key in
/// `signatures` over `text`, or `None` when it made none.
///
/// # Errors
/// [`NoteError::InvalidSignature`] when a line of that key does not verify: a bad signature
/// by a known key rejects the whole note, as for note signatures.
pub fn cosigned_time(
    verifier: &NoteVerifier,
    text: &str,
    signatures: &[NoteSignature],
) -> Result<Option<u64>, NoteError> {
    let id = cosigner_key_id(verifier.name(), verifier.key());
    let mut earliest: Option<u64> = None;
    for sig in signatures
        .iter()
        .filter(|s| s.name == verifier.name() && s.key_id == id)
    {
        let t = check(verifier, text, sig)?;
        earliest = Some(earliest.map_or(t, |e| e.min(t)));
    }
    Ok(earliest)
}

#[cfg(test)]
mod tests {
    use sha2::{Digest as _, Sha256};

    use super::*;
    use crate::checkpoint::Note;

    fn signer() -> NoteSigner {
        NoteSigner::new("example.com/log", SigningKey::from_bytes(&[3; 32])).expect("name")
    }

    const TEXT: &str = "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    #[test]
    fn a_cosignature_gives_its_time_and_every_bit_counts() {
        let s = signer();
        let sig = s.cosign(TEXT, 1_700_000_000);
        let v = s.verifier();
        assert_eq!(
            cosigned_time(&v, TEXT, std::slice::from_ref(&sig)),
            Ok(Some(1_700_000_000))
        );
        for bit in 0..sig.signature.len() * 8 {
            let mut bad = sig.clone();
            bad.signature[bit / 8] ^= 1 << (bit % 8);
            assert!(cosigned_time(&v, TEXT, &[bad]).is_err(), "bit {bit}");
        }
        let other = "example.com/log\n6\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        assert!(cosigned_time(&v, other, &[sig]).is_err());
    }

    #[test]
    fn a_note_signature_is_not_a_cosignature_and_the_earliest_time_counts() {
        let s = signer();
        let mut note =
            Note::parse(&crate::checkpoint::sign(TEXT, &[&s]).expect("sign")).expect("parse");
        // The note signature has the 0x01 key id: it is not read as a cosignature.
        assert_eq!(
            cosigned_time(&s.verifier(), TEXT, note.signatures()),
            Ok(None)
        );
        note.add_cosignature(&s, 20);
        note.add_cosignature(&s, 10);
        let again = Note::parse(&note.to_bytes()).expect("parse");
        assert_eq!(
            cosigned_time(&s.verifier(), TEXT, again.signatures()),
            Ok(Some(10))
        );
        // Go's rules still hold: the note verifies by its note signature, and the
        // cosignatures (another key id) are kept unverified.
        let verified = again.verify(&[s.verifier()]).expect("verify");
        assert_eq!(verified.unverified().len(), 2);
    }

    #[test]
    fn a_cosigner_key_round_trips_and_is_not_a_note_key() {
        let s = signer();
        let c = CosignerVerifier::from(&s);
        let text = c.to_string();
        assert_eq!(CosignerVerifier::parse(&text), Ok(c.clone()));
        assert_eq!(c.key_id(), cosigner_key_id(s.name(), s.verifier().key()));
        // The note key (0x01) and the cosigner key (0x04) are not interchangeable.
        assert_eq!(
            CosignerVerifier::parse(&s.verifier().to_string()),
            Err(KeyError::UnknownAlgorithm(0x01))
        );
        assert_eq!(
            NoteVerifier::parse(&text),
            Err(KeyError::UnknownAlgorithm(ALG_COSIGNATURE_V1))
        );
        // A key id that does not match.
        let (head, tail) = text.split_at(s.name().len() + 1);
        let wrong = format!("{head}00000000{}", &tail[8..]);
        assert!(matches!(
            CosignerVerifier::parse(&wrong),
            Err(KeyError::KeyIdMismatch { .. })
        ));
    }

    #[test]
    fn the_key_id_uses_the_cosignature_algorithm_byte() {
        let s = signer();
        let v = s.verifier();
        assert_ne!(cosigner_key_id(v.name(), v.key()), v.key_id());
        let mut h = Sha256::new();
        h.update(b"example.com/log\n\x04");
        h.update(v.key().as_bytes());
        let d = h.finalize();
        assert_eq!(
            cosigner_key_id(v.name(), v.key()),
            u32::from_be_bytes([d[0], d[1], d[2], d[3]])
        );
    }
}
