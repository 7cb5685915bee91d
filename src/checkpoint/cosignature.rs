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

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use super::key::{NoteSigner, NoteVerifier, key_id_for, key_id_hex};
use super::note::{NoteError, NoteSignature};

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
