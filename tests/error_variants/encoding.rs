//! Bytes that are not what they claim: CBOR, events, envelopes, sequences, bundles, proofs.

use std::io;

use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use warrant_ledger::bundle::{Bundle, BundleError};
use warrant_ledger::cbor::{self, CborError, Limits};
use warrant_ledger::envelope::{self, EnvelopeError, SequenceError, SequenceReader};
use warrant_ledger::event::{
    DecodeError, Digest, Event, EventError, EventId, MAX_EXT, MAX_REFS, TaskId,
};
use warrant_ledger::internals::parse_value;
use warrant_ledger::merkle::{ConsistencyProof, InclusionProof, ProofDecodeError};

use crate::common;
use crate::{Reached, err, reach};

pub(crate) fn reach_all(seen: &mut Reached) {
    cbor_errors(seen);
    event_errors(seen);
    envelope_errors(seen);
    signer_errors(seen);
    sequence_errors(seen);
    bundle_errors(seen);
    proof_decode_errors(seen);
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// A typed value whose optional field is omitted when absent (so an explicit null is not
/// its canonical form).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sparse {
    a: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    b: Option<u8>,
}

fn cbor_errors(seen: &mut Reached) {
    let parse = |s: &str| err(parse_value(&hex(s), Limits::default()));
    let short = Limits::default().with_max_len(2);
    reach!(
        seen,
        CborError::TooLarge,
        err(parse_value(&[0x43, 1, 2, 3], short))
    );
    reach!(seen, CborError::Truncated, parse("18"));
    reach!(seen, CborError::TrailingBytes, parse("00 00"));
    reach!(seen, CborError::NonShortestInteger, parse("1817"));
    reach!(seen, CborError::IndefiniteLength, parse("9f ff"));
    reach!(seen, CborError::Reserved, parse("1c"));
    reach!(seen, CborError::UnexpectedBreak, parse("ff"));
    reach!(seen, CborError::UnsortedKeys, parse("a2 6162 01 6161 02"));
    reach!(seen, CborError::DuplicateKey, parse("a2 6161 01 6161 02"));
    reach!(seen, CborError::Tag, parse("c1 00"));
    reach!(seen, CborError::Float, parse("f93c00"));
    reach!(seen, CborError::UnsupportedSimple, parse("f7"));
    reach!(seen, CborError::InvalidUtf8, parse("62 c328"));
    reach!(
        seen,
        CborError::TooDeep,
        parse(&format!("{}00", "81".repeat(17)))
    );
    let unknown_field = hex("a2 6161 01 6163 02");
    reach!(
        seen,
        CborError::Schema,
        err(cbor::from_slice::<Sparse>(&unknown_field))
    );
    let explicit_null = hex("a2 6161 01 6162 f6");
    reach!(
        seen,
        CborError::NotCanonical,
        err(cbor::from_slice::<Sparse>(&explicit_null))
    );
}

fn event_errors(seen: &mut Reached) {
    let mut events = common::sample_events();
    let policy = events.remove(0);
    let task_event = events.remove(0);
    let action = events
        .iter()
        .find(|e| e.body.as_action_executed().is_some())
        .expect("a sample action")
        .clone();
    let broken = |f: &dyn Fn(&mut Event)| {
        let mut e = task_event.clone();
        f(&mut e);
        err(e.validate())
    };
    reach!(seen, EventError::Version, broken(&|e| e.v = 1));
    reach!(
        seen,
        EventError::NotUuidV7,
        broken(&|e| e.id = EventId(uuid::Uuid::from_u128(1)))
    );
    reach!(seen, EventError::TaskPresence, broken(&|e| e.task = None));
    reach!(
        seen,
        EventError::NilTask,
        broken(&|e| e.task = Some(TaskId(uuid::Uuid::nil())))
    );
    reach!(seen, EventError::ChainStart, broken(&|e| e.prev = None));
    reach!(
        seen,
        EventError::TooMany,
        broken(&|e| e.refs = vec![e.reference(Digest::of(b"x")); MAX_REFS + 1])
    );
    let _ = MAX_EXT;
    reach!(
        seen,
        EventError::BadIdentifier,
        broken(&|e| {
            e.ext.insert("has space".into(), "v".into());
        })
    );
    let mut blocked = action;
    if let Some(a) = blocked.body.as_action_executed() {
        assert!(a.blocked_by.is_empty(), "the sample action ran");
    }
    blocked.body = {
        let mut body = blocked.body.clone();
        if let warrant_ledger::event::Body::ActionExecuted(a) = &mut body {
            a.blocked_by = vec!["B1".into()];
        }
        body
    };
    reach!(seen, EventError::Blocked, err(blocked.validate()));

    reach!(seen, DecodeError::Cbor, err(Event::from_cbor(&[0xff])));
    let mut old = policy;
    old.v = 1;
    let bytes = old.to_cbor().expect("an invalid event still encodes");
    reach!(seen, DecodeError::Model, err(Event::from_cbor(&bytes)));
}

/// Builds an envelope by hand around any payload and protected header, signed by `key`.
pub(crate) fn forge(protected: &ciborium::Value, payload: &[u8], key: &SigningKey) -> Vec<u8> {
    use ciborium::Value as V;
    use ed25519_dalek::Signer as _;
    use warrant_ledger::internals::value_to_vec;
    let p = value_to_vec(protected).expect("header");
    let tbs = value_to_vec(&V::Array(vec![
        V::Text("Signature1".into()),
        V::Bytes(p.clone()),
        V::Bytes(vec![]),
        V::Bytes(payload.to_vec()),
    ]))
    .expect("tbs");
    let sig = key.sign(&tbs);
    let arr = V::Array(vec![
        V::Bytes(p),
        V::Map(vec![]),
        V::Bytes(payload.to_vec()),
        V::Bytes(sig.to_bytes().to_vec()),
    ]);
    let mut out = vec![0xd2];
    out.extend(value_to_vec(&arr).expect("envelope"));
    out
}

/// The protected header this crate writes, with `iss` and `sub` as given.
fn header(kid: &[u8], iss: &str, sub: Option<&str>) -> ciborium::Value {
    use ciborium::Value as V;
    let mut claims = vec![(V::Integer(1.into()), V::Text(iss.into()))];
    if let Some(s) = sub {
        claims.push((V::Integer(2.into()), V::Text(s.into())));
    }
    V::Map(vec![
        (V::Integer(1.into()), V::Integer((-8).into())),
        (V::Integer(3.into()), V::Text(envelope::CONTENT_TYPE.into())),
        (V::Integer(4.into()), V::Bytes(kid.to_vec())),
        (V::Integer(15.into()), V::Map(claims)),
    ])
}

fn envelope_errors(seen: &mut Reached) {
    let signer = common::test_key();
    let key = signer.verifying_key();
    let e = common::sample_events().remove(1);
    let good = envelope::sign(&e, &signer).expect("sign").into_bytes();
    let verify = |b: &[u8]| err(envelope::verify(b, &key));
    reach!(seen, EnvelopeError::NotTagged, verify(&good[1..]));
    reach!(seen, EnvelopeError::Cbor, verify(&[0xd2]));
    reach!(seen, EnvelopeError::Structure, verify(&[0xd2, 0x80]));
    let mut sig64 = vec![0xd2, 0x84, 0x41, 0x01, 0xa0, 0x40, 0x58, 0x40];
    sig64.extend([0u8; 64]);
    reach!(seen, EnvelopeError::Header, verify(&sig64));
    let other = SigningKey::from_bytes(&[9; 32]).verifying_key();
    reach!(
        seen,
        EnvelopeError::KeyIdMismatch,
        err(envelope::verify(&good, &other))
    );
    let mut flipped = good.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    reach!(seen, EnvelopeError::BadSignature, verify(&flipped));
    let mut invalid = e.clone();
    invalid.v = 1;
    reach!(
        seen,
        EnvelopeError::Payload,
        err(envelope::sign(&invalid, &signer))
    );

    let payload = e.to_cbor().expect("cbor");
    let kid = envelope::event_key_id(&key);
    let (iss, sub) = (e.emitter.to_string(), e.task.map(|t| t.to_string()));
    let wrong_iss = forge(
        &header(&kid, "spiffe://other", sub.as_deref()),
        &payload,
        &signer,
    );
    reach!(seen, EnvelopeError::IssuerMismatch, verify(&wrong_iss));
    let no_sub = forge(&header(&kid, &iss, None), &payload, &signer);
    reach!(seen, EnvelopeError::SubjectMismatch, verify(&no_sub));
}

/// A remote signer that is down.
struct Unreachable(VerifyingKey);

impl ed25519_dalek::ed25519::signature::Signer<Signature> for Unreachable {
    fn try_sign(&self, _msg: &[u8]) -> Result<Signature, ed25519_dalek::SignatureError> {
        Err(ed25519_dalek::SignatureError::new())
    }
}

impl ed25519_dalek::ed25519::signature::Keypair for Unreachable {
    type VerifyingKey = VerifyingKey;
    fn verifying_key(&self) -> VerifyingKey {
        self.0
    }
}

/// A remote signer that signs with another key than the one it names.
struct Swapped {
    named: VerifyingKey,
    used: SigningKey,
}

impl ed25519_dalek::ed25519::signature::Signer<Signature> for Swapped {
    fn try_sign(&self, msg: &[u8]) -> Result<Signature, ed25519_dalek::SignatureError> {
        self.used.try_sign(msg)
    }
}

impl ed25519_dalek::ed25519::signature::Keypair for Swapped {
    type VerifyingKey = VerifyingKey;
    fn verifying_key(&self) -> VerifyingKey {
        self.named
    }
}

fn signer_errors(seen: &mut Reached) {
    let e = common::sample_events().remove(1);
    let named = common::test_key().verifying_key();
    reach!(
        seen,
        EnvelopeError::Signer,
        err(envelope::sign(&e, &Unreachable(named)))
    );
    let swapped = Swapped {
        named,
        used: SigningKey::from_bytes(&[7; 32]),
    };
    reach!(
        seen,
        EnvelopeError::SignerBadSignature,
        err(envelope::sign(&e, &swapped))
    );
}

/// A stream that fails.
struct Broken;

impl io::Read for Broken {
    fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::other("disk gone"))
    }
}

fn sequence_errors(seen: &mut Reached) {
    let first = |bytes: &[u8], max_total: u64| {
        let mut r = SequenceReader::new(bytes, Limits::default(), max_total);
        err(r.next().expect("an item or an error"))
    };
    let mut r = SequenceReader::new(Broken, Limits::default(), 1 << 20);
    reach!(seen, SequenceError::Io, err(r.next().expect("an error")));
    reach!(seen, SequenceError::NotAnEnvelope, first(&[0x01], 1 << 20));
    reach!(
        seen,
        SequenceError::Malformed,
        first(&[0xd2, 0x84, 0x9f, 0xff, 0x40, 0x40, 0x40], 1 << 20)
    );
    reach!(
        seen,
        SequenceError::Truncated,
        first(&[0xd2, 0x84, 0x40], 1 << 20)
    );
    let e = common::sample_events().remove(1);
    let good = envelope::sign(&e, &common::test_key())
        .expect("sign")
        .into_bytes();
    reach!(seen, SequenceError::TooLong, first(&good, 16));
}

fn bundle_errors(seen: &mut Reached) {
    reach!(seen, BundleError::Cbor, err(Bundle::from_cbor(&[0xff])));
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, bytes) = crate::sample_bundle(dir.path());
    let mut bundle = Bundle::from_cbor(&bytes).expect("decode");
    bundle.version += 1;
    let other = bundle.to_cbor().expect("encode");
    reach!(seen, BundleError::Version, err(Bundle::from_cbor(&other)));
}

fn proof_decode_errors(seen: &mut Reached) {
    let mut bytes = InclusionProof {
        leaf_index: 0,
        tree_size: 2,
        path: vec![warrant_ledger::merkle::Hash::from_bytes([1; 32])],
    }
    .to_bytes();
    reach!(
        seen,
        ProofDecodeError::Truncated,
        err(InclusionProof::from_bytes(&bytes[..20]))
    );
    bytes.push(0);
    reach!(
        seen,
        ProofDecodeError::TrailingBytes,
        err(InclusionProof::from_bytes(&bytes))
    );
    let mut many = vec![0u8; 16];
    many.push(200);
    reach!(
        seen,
        ProofDecodeError::TooManyHashes,
        err(ConsistencyProof::from_bytes(&many))
    );
}
