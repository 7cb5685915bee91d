//! COSE_Sign1 envelopes (RFC 9052) around events, signed with Ed25519 (EdDSA, alg -8).
//!
//! ```text
//! envelope = #6.18([ protected: bstr .cbor header, unprotected: {}, payload: bstr, signature: bstr .size 64 ])
//! ```
//!
//! The whole envelope is canonical CBOR and is parsed strictly, so one signed event has
//! exactly one byte encoding (the log leaf). Signatures are checked over the exact protected
//! and payload bytes received, never a re-encoding. The protected header binds the emitter
//! (`iss`) and task (`sub`), which must equal the event's own `emitter` and `task`.
//!
//! [`VerifiedEvent`] can only be obtained from [`sign`] or a verification function.

pub(crate) mod batch;
mod chain;
mod header;

pub(crate) use header::sig_structure;
mod sequence;

pub use chain::EmitterChain;
/// The Ed25519 key types an emitter signs with and a trust policy pins (re-exported, so that
/// naming them needs no dependency of one's own).
pub use ed25519_dalek::{SigningKey, VerifyingKey};
pub use sequence::{SequenceError, SequenceReader};

/// A fresh Ed25519 signing key from the operating system's random source.
///
/// # Panics
/// If the operating system cannot provide randomness: continuing with a predictable key would
/// be worse than stopping.
#[must_use]
pub fn generate_key() -> SigningKey {
    crate::keys::generate_signing_key()
}

use std::sync::Arc;

use ciborium::Value;
use ed25519_dalek::Signature;
use ed25519_dalek::ed25519::signature::{Keypair, Signer};

pub use header::{ALG_EDDSA, CONTENT_TYPE, KEY_ID_LEN, Protected, event_key_id};

use crate::cbor::{self, CborError, Limits};
use crate::event::{DecodeError, Digest, Event};

const TAG_COSE_SIGN1: u8 = 0xd2;
/// Batches larger than this are split; a failing batch is re-checked one by one. Pippenger's
/// multi-scalar multiplication costs less per point as the batch grows: the 100 000-event
/// audit's median ratio to raw batch verification went from 0.757 at 256 to 0.852–0.936 at
/// 2 048 in alternating runs (`docs/performance.md`). The price is the re-check: one bad signature
/// costs up to 2 048 `verify_strict` calls (about 0.1 s of CPU here) instead of 256. An
/// all-bad input costs the same at any size.
pub(crate) const BATCH_CHUNK: usize = 2048;

/// Why an envelope was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The envelope does not start with the COSE_Sign1 tag (18).
    #[error("not a tagged COSE_Sign1")]
    NotTagged,
    /// The envelope is not canonical CBOR (or over the size limit).
    #[error("envelope encoding: {0}")]
    Cbor(#[from] CborError),
    /// The envelope is not `[bstr, {}, bstr, bstr(64)]`.
    #[error("envelope structure: {0}")]
    Structure(&'static str),
    /// The protected header is not the one this crate defines.
    #[error("protected header: {0}")]
    Header(&'static str),
    /// The key id does not belong to the key given for verification.
    #[error("key id does not match the verification key")]
    KeyIdMismatch,
    /// The signature does not verify (strict Ed25519).
    #[error("signature does not verify")]
    BadSignature,
    /// The payload is not a valid event.
    #[error("payload: {0}")]
    Payload(#[from] DecodeError),
    /// The header's `iss` is not the event's emitter.
    #[error("header iss {header:?} is not the event emitter {event:?}")]
    IssuerMismatch {
        /// `iss` in the header.
        header: String,
        /// `emitter` in the event.
        event: String,
    },
    /// The header's `sub` is not the event's task.
    #[error("header sub does not match the event task")]
    SubjectMismatch,
    /// The signer failed.
    #[error("signer: {0}")]
    Signer(#[source] SignerError),
    /// The signer returned a signature that does not verify under its own key: a remote
    /// signer is trusted with a key, not with correctness.
    #[error("the signer's signature does not verify under its key")]
    SignerBadSignature,
}

/// What a signer reported when it failed, shared so that [`EnvelopeError`] stays `Clone`.
#[derive(Debug, Clone)]
pub struct SignerError(Arc<ed25519_dalek::SignatureError>);

impl SignerError {
    /// The signer's own error.
    #[must_use]
    pub fn inner(&self) -> &ed25519_dalek::SignatureError {
        &self.0
    }
}

impl core::fmt::Display for SignerError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SignerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&*self.0)
    }
}

/// Two signer errors are equal when they are the same failure.
impl PartialEq for SignerError {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SignerError {}

/// An event whose envelope signature verified, with the exact envelope bytes.
///
/// `B` holds the bytes: owned (`Vec<u8>`, the default, what a ledger stores) or borrowed
/// from the input (`&[u8]`: an auditor reading a bundle keeps its envelopes where they lie,
/// rather than an allocation and a copy per envelope; `docs/performance.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEvent<B = Vec<u8>> {
    bytes: B,
    /// Boxed: verified events travel through several vectors on their way to the store, and
    /// moving the whole decoded event with them cost ingest measurably (`docs/performance.md`).
    event: Box<Event>,
    kid: [u8; KEY_ID_LEN],
    /// [`Digest::of_envelope`] of `bytes`, computed on first use (ingest never needs it;
    /// audits and chains ask for it several times).
    digest: std::sync::OnceLock<Digest>,
}

impl<B: AsRef<[u8]>> VerifiedEvent<B> {
    /// The exact COSE_Sign1 bytes (the log entry).
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        self.bytes.as_ref()
    }

    /// The decoded event.
    #[must_use]
    pub const fn event(&self) -> &Event {
        &self.event
    }

    /// The signing key's id.
    #[must_use]
    pub const fn key_id(&self) -> [u8; KEY_ID_LEN] {
        self.kid
    }

    /// What other events' `refs` and `prev` cite: [`Digest::of_envelope`] of the bytes.
    #[must_use]
    pub fn digest(&self) -> Digest {
        *self
            .digest
            .get_or_init(|| Digest::of_envelope(self.bytes.as_ref()))
    }

    /// Gives up the bytes.
    #[must_use]
    pub fn into_bytes(self) -> B {
        self.bytes
    }

    /// Gives up the decoded event and the bytes.
    #[must_use]
    pub fn into_parts(self) -> (Box<Event>, B) {
        (self.event, self.bytes)
    }
}

impl VerifiedEvent<&[u8]> {
    /// The same event with its own copy of the bytes.
    #[must_use]
    pub fn into_owned(self) -> VerifiedEvent {
        VerifiedEvent {
            bytes: self.bytes.to_vec(),
            event: self.event,
            kid: self.kid,
            digest: self.digest,
        }
    }
}

/// An envelope whose structure and header parsed, before any cryptography.
#[derive(Debug, Clone)]
pub struct ParsedEnvelope<'a> {
    bytes: &'a [u8],
    header: Protected,
    /// The `Sig_structure` up to the payload; the payload's bytes complete it.
    tbs_head: Vec<u8>,
    payload: &'a [u8],
    signature: Signature,
}

impl ParsedEnvelope<'_> {
    /// What the protected header says (unauthenticated until verified).
    #[must_use]
    pub const fn header(&self) -> &Protected {
        &self.header
    }

    /// The bytes the signature covers (the COSE `Sig_structure`), assembled: verification
    /// hashes them in place, in two pieces.
    #[must_use]
    pub fn signed_bytes(&self) -> Vec<u8> {
        [self.tbs_head.as_slice(), self.payload].concat()
    }

    /// The signature.
    #[must_use]
    pub const fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Decodes the payload **without** checking the signature: for display only.
    ///
    /// # Errors
    /// [`DecodeError`] for a payload that is not a valid event.
    pub fn payload_unverified(&self, limits: Limits) -> Result<Event, DecodeError> {
        Event::from_cbor_with(self.payload, limits)
    }
}

/// Parses an envelope's structure and protected header; no signature check yet.
///
/// # Errors
/// [`EnvelopeError::NotTagged`], [`EnvelopeError::Cbor`], [`EnvelopeError::Structure`] or
/// [`EnvelopeError::Header`].
pub fn parse(bytes: &[u8], limits: Limits) -> Result<ParsedEnvelope<'_>, EnvelopeError> {
    let (protected, payload, signature) = split(bytes, limits)?;
    let header = Protected::decode(protected)?;
    let tbs_head = header::sig_structure_head(protected, payload.len());
    Ok(ParsedEnvelope {
        bytes,
        header,
        tbs_head,
        payload,
        signature,
    })
}

/// The structural part of [`parse`]: the protected header's bytes, the payload and the
/// signature, borrowed from the received bytes (nothing is decoded into a value tree).
fn split(bytes: &[u8], limits: Limits) -> Result<(&[u8], &[u8], Signature), EnvelopeError> {
    if bytes.len() > limits.max_len {
        return Err(CborError::TooLarge {
            len: bytes.len(),
            max: limits.max_len,
        }
        .into());
    }
    let rest = match bytes.split_first() {
        Some((&TAG_COSE_SIGN1, rest)) => rest,
        _ => return Err(EnvelopeError::NotTagged),
    };
    let items =
        cbor::array_elements(rest, limits)?.ok_or(EnvelopeError::Structure("not an array"))?;
    let [protected, unprotected, payload, sig]: [&[u8]; 4] = items
        .try_into()
        .map_err(|_| EnvelopeError::Structure("not four elements"))?;
    let wrong = || EnvelopeError::Structure("element of the wrong type");
    let protected = cbor::byte_string(protected).ok_or_else(wrong)?;
    let payload = cbor::byte_string(payload).ok_or_else(wrong)?;
    let sig = cbor::byte_string(sig).ok_or_else(wrong)?;
    match unprotected.first().map(|b| b >> 5) {
        Some(5) if unprotected == [0xa0] => {}
        Some(5) => return Err(EnvelopeError::Structure("unprotected header must be empty")),
        _ => return Err(wrong()),
    }
    let signature = Signature::from_slice(sig)
        .map_err(|_| EnvelopeError::Structure("signature must be 64 bytes"))?;
    Ok((protected, payload, signature))
}

impl<'a> ParsedEnvelope<'a> {
    /// Decodes the payload and checks it against the header: the step after the signature.
    fn finish(self, limits: Limits) -> Result<VerifiedEvent<&'a [u8]>, EnvelopeError> {
        let event = Event::from_cbor_with(self.payload, limits)?;
        if self.header.issuer != event.emitter.as_str() {
            return Err(EnvelopeError::IssuerMismatch {
                header: self.header.issuer,
                event: event.emitter.to_string(),
            });
        }
        if self.header.subject != event.task.map(|t| t.to_string()) {
            return Err(EnvelopeError::SubjectMismatch);
        }
        Ok(VerifiedEvent {
            bytes: self.bytes,
            event: Box::new(event),
            kid: self.header.kid,
            digest: std::sync::OnceLock::new(),
        })
    }

    /// Strict Ed25519 verification of this envelope under `key`, then payload decoding.
    ///
    /// # Errors
    /// [`EnvelopeError::KeyIdMismatch`], [`EnvelopeError::BadSignature`], or a payload error.
    pub fn verify(
        self,
        key: &VerifyingKey,
        limits: Limits,
    ) -> Result<VerifiedEvent, EnvelopeError> {
        self.verify_in_place(key, limits)
            .map(VerifiedEvent::into_owned)
    }

    /// [`ParsedEnvelope::verify`], the event keeping the envelope's bytes where they lie.
    fn verify_in_place(
        self,
        key: &VerifyingKey,
        limits: Limits,
    ) -> Result<VerifiedEvent<&'a [u8]>, EnvelopeError> {
        if self.header.kid != event_key_id(key) {
            return Err(EnvelopeError::KeyIdMismatch);
        }
        key.verify_strict(&self.signed_bytes(), &self.signature)
            .map_err(|_| EnvelopeError::BadSignature)?;
        self.finish(limits)
    }
}

/// Decodes an envelope's event **without** checking its signature: for indexing, selecting
/// and naming entries, never for trusting them.
///
/// # Errors
/// Any parse or payload error of [`parse`] and [`ParsedEnvelope::payload_unverified`].
pub fn decode_unverified(bytes: &[u8], limits: Limits) -> Result<Event, EnvelopeError> {
    Ok(parse(bytes, limits)?.payload_unverified(limits)?)
}

/// The event id and task of an envelope this crate already accepted, read without decoding
/// the protected header or the rest of the payload, or checking anything beyond the
/// envelope's structure and well-formed CBOR: a store rebuilding
/// its index after a crash does this for every replayed entry, and a full strict decode was
/// most of that time. On an envelope [`decode_unverified`] accepts, the keys are the ones it
/// gives (tested); on any other bytes the result means nothing.
///
/// # Errors
/// [`EnvelopeError`] when even the structure or the two fields cannot be read.
pub(crate) fn keys_unverified(
    bytes: &[u8],
    limits: Limits,
) -> Result<(crate::event::EventId, Option<crate::event::TaskId>), EnvelopeError> {
    /// The two fields, any others skipped.
    #[derive(serde::Deserialize)]
    struct Keys {
        id: crate::event::EventId,
        #[serde(default)]
        task: Option<crate::event::TaskId>,
    }
    // Only the payload is needed: the header is not decoded, no `Sig_structure` is built.
    let (_, payload, _) = split(bytes, limits)?;
    let keys: Keys = cbor::read_fields(payload, limits)?;
    Ok((keys.id, keys.task))
}

/// Verifies an envelope under one public key (strict Ed25519), with the default limits.
///
/// # Errors
/// Any [`EnvelopeError`] but `Signer`.
pub fn verify(bytes: &[u8], key: &VerifyingKey) -> Result<VerifiedEvent, EnvelopeError> {
    parse(bytes, Limits::default())?.verify(key, Limits::default())
}

/// Verifies many envelopes, each under its own key, with Ed25519 batch verification and a
/// strict one-by-one fallback for any batch that fails, so the result for each envelope is
/// the one [`verify`] would give it.
///
/// # Security
/// The batch ([`batch::verify_all`]) and [`verify`] (`verify_strict`) agree on every
/// signature an RFC 8032 signer produces and on every "Taming the many EdDSAs" vector. A
/// signature crafted with a small-order component in `R` by the holder of a prime-order key
/// fails strict verification always and passes the batch about half the time: it can only
/// concern the signer's own events. See `docs/what-verify-proves.md`.
pub fn verify_batch(items: &[(&[u8], &VerifyingKey)]) -> Vec<Result<VerifiedEvent, EnvelopeError>> {
    let limits = Limits::default();
    let parsed = items
        .iter()
        .map(|(bytes, key)| parse(bytes, limits).map(|p| (p, **key)))
        .collect();
    verify_parsed_batch(parsed, limits)
}

/// As [`verify_batch`], for envelopes already parsed, each with the key to check it under.
pub fn verify_parsed_batch(
    items: Vec<Result<(ParsedEnvelope<'_>, VerifyingKey), EnvelopeError>>,
    limits: Limits,
) -> Vec<Result<VerifiedEvent, EnvelopeError>> {
    verify_parsed_batch_as(items, limits, VerifiedEvent::into_owned)
}

/// [`verify_parsed_batch`], each verified event passed through `keep` (which may copy its
/// bytes or leave them borrowed).
pub(crate) fn verify_parsed_batch_as<'a, B>(
    items: Vec<Result<(ParsedEnvelope<'a>, VerifyingKey), EnvelopeError>>,
    limits: Limits,
    keep: fn(VerifiedEvent<&'a [u8]>) -> VerifiedEvent<B>,
) -> Vec<Result<VerifiedEvent<B>, EnvelopeError>> {
    let mut out = Vec::with_capacity(items.len());
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        let chunk: Vec<_> = items.by_ref().take(BATCH_CHUNK).collect();
        out.extend(verify_chunk(chunk, limits, keep));
    }
    out
}

fn verify_chunk<'a, B>(
    chunk: Vec<Result<(ParsedEnvelope<'a>, VerifyingKey), EnvelopeError>>,
    limits: Limits,
    keep: fn(VerifiedEvent<&'a [u8]>) -> VerifiedEvent<B>,
) -> Vec<Result<VerifiedEvent<B>, EnvelopeError>> {
    // The last key judged and whether it is weak: a chunk's envelopes come from a few
    // emitters, and the check (three point doublings) made per item showed in ingest's
    // profile (`docs/performance.md`).
    let mut last: Option<([u8; 32], bool)> = None;
    let checked: Vec<Result<(ParsedEnvelope<'_>, VerifyingKey), EnvelopeError>> = chunk
        .into_iter()
        .map(|item| {
            let (p, key) = item?;
            if p.header.kid != event_key_id(&key) {
                return Err(EnvelopeError::KeyIdMismatch);
            }
            let weak = match last {
                Some((bytes, weak)) if bytes == *key.as_bytes() => weak,
                _ => {
                    let weak = key.is_weak();
                    last = Some((*key.as_bytes(), weak));
                    weak
                }
            };
            // verify_strict rejects weak keys up front; keep the batch to keys it accepts.
            if weak {
                return Err(EnvelopeError::BadSignature);
            }
            Ok((p, key))
        })
        .collect();
    let ok: Vec<batch::SignedParts<'_>> = checked
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|(p, key)| ([p.tbs_head.as_slice(), p.payload], &p.signature, key))
        .collect();
    let batch_ok = !ok.is_empty() && batch::verify_all_parts(&ok);
    checked
        .into_iter()
        .map(|item| {
            let (p, key) = item?;
            if batch_ok {
                p.finish(limits).map(keep)
            } else {
                p.verify_in_place(&key, limits).map(keep)
            }
        })
        .collect()
}

/// Signs `event` with `signer` (any `Signer`, so a KMS or HSM can be plugged in) and returns
/// the envelope, verified.
///
/// # Errors
/// [`EnvelopeError::Payload`] if the event breaks a model rule, [`EnvelopeError::Signer`] if
/// the signer fails, [`EnvelopeError::SignerBadSignature`] if it returns a signature that
/// does not verify.
pub fn sign<S>(event: &Event, signer: &S) -> Result<VerifiedEvent, EnvelopeError>
where
    S: Signer<Signature> + Keypair<VerifyingKey = VerifyingKey>,
{
    event.validate().map_err(DecodeError::from)?;
    let payload = event.to_cbor()?;
    let key = signer.verifying_key();
    let protected = Protected {
        kid: event_key_id(&key),
        issuer: event.emitter.to_string(),
        subject: event.task.map(|t| t.to_string()),
    }
    .encode()?;
    let tbs = header::sig_structure(&protected, &payload);
    let signature = signer
        .try_sign(&tbs)
        .map_err(|e| EnvelopeError::Signer(SignerError(Arc::new(e))))?;
    // A remote signer is trusted with a key, not with correctness: check what it returned.
    key.verify_strict(&tbs, &signature)
        .map_err(|_| EnvelopeError::SignerBadSignature)?;
    let array = Value::Array(vec![
        Value::Bytes(protected),
        Value::Map(Vec::new()),
        Value::Bytes(payload),
        Value::Bytes(signature.to_bytes().to_vec()),
    ]);
    let mut bytes = vec![TAG_COSE_SIGN1];
    bytes.extend(cbor::value_to_vec(&array)?);
    Ok(VerifiedEvent {
        bytes,
        event: Box::new(event.clone()),
        kid: event_key_id(&key),
        digest: std::sync::OnceLock::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed envelope vectors, one per kind.
    fn vectors() -> Vec<Vec<u8>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/events");
        let mut out: Vec<Vec<u8>> = std::fs::read_dir(dir)
            .expect("vectors")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.to_string_lossy().ends_with(".cose.hex"))
            .map(|p| {
                let text = std::fs::read_to_string(p).expect("read");
                crate::encoding::hex_decode(text.trim()).expect("hex")
            })
            .collect();
        out.sort();
        out
    }

    /// The batch path hashes the `Sig_structure` in two pieces; a mistake there would be
    /// hidden by the strict fallback (same verdicts, only slower), so this checks the batch
    /// verdict itself: the pieces of every vector verify, are exactly the bytes the signature
    /// covers, and a changed byte in either piece fails.
    #[test]
    fn the_batch_path_verifies_the_two_pieces_of_the_signed_bytes() {
        let limits = Limits::default();
        // The vectors' key: seed 32 bytes of 0x2a (tests/common).
        let key = ed25519_dalek::SigningKey::from_bytes(&[0x2a; 32]).verifying_key();
        for bytes in vectors() {
            let p = parse(&bytes, limits).expect("vector parses");
            let pieces = [p.tbs_head.as_slice(), p.payload];
            let (protected, payload, _) = split(&bytes, limits).expect("splits");
            assert_eq!(pieces.concat(), header::sig_structure(protected, payload));
            assert!(key.verify_strict(&pieces.concat(), &p.signature).is_ok());
            assert!(batch::verify_all_parts(&[(pieces, &p.signature, &key)]));
            for piece in 0..2 {
                let mut head = p.tbs_head.clone();
                let mut payload = p.payload.to_vec();
                let target = if piece == 0 { &mut head } else { &mut payload };
                let last = target.len() - 1;
                target[last] ^= 1;
                let changed = [head.as_slice(), payload.as_slice()];
                assert!(
                    !batch::verify_all_parts(&[(changed, &p.signature, &key)]),
                    "piece {piece}"
                );
            }
        }
    }

    /// More envelopes than one chunk holds, one bad signature in the second chunk: exactly
    /// that one fails, every other envelope verifies, and results stay in input order.
    #[test]
    fn a_bad_signature_fails_only_itself_across_chunks() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[0x2a; 32]).verifying_key();
        let good = vectors();
        let mut bad = good[0].clone();
        let n = bad.len();
        bad[n - 3] ^= 1; // inside the signature
        let bad_at = BATCH_CHUNK + 7;
        let items: Vec<(&[u8], &VerifyingKey)> = (0..2 * BATCH_CHUNK + 5)
            .map(|i| {
                let bytes = if i == bad_at {
                    &bad
                } else {
                    &good[i % good.len()]
                };
                (bytes.as_slice(), &key)
            })
            .collect();
        let results = verify_batch(&items);
        assert_eq!(results.len(), items.len());
        for (i, (r, (bytes, _))) in results.iter().zip(&items).enumerate() {
            match r {
                Ok(ev) => assert_eq!(ev.bytes(), *bytes, "entry {i} in order"),
                Err(e) => assert_eq!(
                    (i, e),
                    (bad_at, &EnvelopeError::BadSignature),
                    "only the tampered entry fails"
                ),
            }
        }
        assert!(results[bad_at].is_err());
    }

    #[test]
    fn index_keys_are_the_decoded_ones() {
        let limits = Limits::default();
        let all = vectors();
        assert_eq!(all.len(), 12, "one vector per kind");
        let mut ledger_level = 0;
        for bytes in &all {
            let event = decode_unverified(bytes, limits).expect("vector decodes");
            ledger_level += usize::from(event.task.is_none());
            assert_eq!(keys_unverified(bytes, limits), Ok((event.id, event.task)));
            // Every byte mutation: the keys never panic, and agree whenever the event decodes.
            for i in 0..bytes.len() {
                for mask in [0x01, 0x20, 0x80, 0xff] {
                    let mut m = bytes.clone();
                    m[i] ^= mask;
                    let keys = keys_unverified(&m, limits);
                    if let Ok(e) = decode_unverified(&m, limits) {
                        assert_eq!(keys, Ok((e.id, e.task)), "byte {i} ^ {mask:#x}");
                    }
                }
            }
        }
        assert!(ledger_level > 0, "an event without a task is covered");
    }
}
