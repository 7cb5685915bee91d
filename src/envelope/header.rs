//! The protected header of an event envelope, and the exact byte layouts it contributes to.
//!
//! ```text
//! protected = {                                 ; canonical CBOR map, in this key order
//!   1: -8,                                      ; alg: EdDSA
//!   3: "application/vnd.warrant.event+cbor",    ; content type
//!   4: h'<8-byte key id>',                      ; kid
//!   15: { 1: "<emitter workload id>",           ; CWT claims (RFC 9597): iss
//!         ? 2: "<task id, hyphenated UUID>" }   ;   sub, absent for ledger-level events
//! }
//! ```

use ciborium::Value;
use ed25519_dalek::VerifyingKey;
use sha2::{Digest as _, Sha256};

use super::EnvelopeError;
use crate::cbor::{self, Limits};

/// COSE algorithm identifier of EdDSA (RFC 9053).
pub const ALG_EDDSA: i64 = -8;
/// The content type of an event payload.
pub const CONTENT_TYPE: &str = "application/vnd.warrant.event+cbor";
const LABEL_ALG: i64 = 1;
const LABEL_CONTENT_TYPE: i64 = 3;
const LABEL_KID: i64 = 4;
const LABEL_CWT_CLAIMS: i64 = 15;
const CLAIM_ISS: i64 = 1;
const CLAIM_SUB: i64 = 2;

/// Length of an event key id.
pub const KEY_ID_LEN: usize = 8;

/// The key id of an event signing key: the first 8 bytes of SHA-256(public key).
#[must_use]
pub fn event_key_id(key: &VerifyingKey) -> [u8; KEY_ID_LEN] {
    let d = Sha256::digest(key.as_bytes());
    let mut id = [0u8; KEY_ID_LEN];
    id.copy_from_slice(&d[..KEY_ID_LEN]);
    id
}

/// What the protected header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protected {
    /// Key id of the signing key.
    pub kid: [u8; KEY_ID_LEN],
    /// `iss`: the emitter's workload id.
    pub issuer: String,
    /// `sub`: the task id, for task events.
    pub subject: Option<String>,
}

fn int(n: i64) -> Value {
    Value::Integer(n.into())
}

impl Protected {
    /// The canonical encoding of the header map, written directly in the layout of the
    /// module documentation (tested against the generic canonical encoder).
    pub(crate) fn encode(&self) -> Result<Vec<u8>, EnvelopeError> {
        Ok(self.to_bytes())
    }

    fn to_bytes(&self) -> Vec<u8> {
        let sub = self.subject.as_deref();
        let mut out = Vec::with_capacity(64 + self.issuer.len() + sub.map_or(0, str::len));
        // map(4), 1: -8, 3:
        out.extend_from_slice(&[0xa4, 0x01, 0x27, 0x03]);
        cbor::write_tstr(&mut out, CONTENT_TYPE);
        out.push(0x04);
        cbor::write_bstr(&mut out, &self.kid);
        // 15: map(1 or 2), 1: iss, 2: sub
        out.extend_from_slice(&[0x0f, if sub.is_some() { 0xa2 } else { 0xa1 }, 0x01]);
        cbor::write_tstr(&mut out, &self.issuer);
        if let Some(sub) = sub {
            out.push(0x02);
            cbor::write_tstr(&mut out, sub);
        }
        out
    }

    /// Strictly decodes a protected header: canonical CBOR (the strict value reader: shortest
    /// heads, keys in order, no duplicates), exactly the labels above, EdDSA, our content
    /// type. Those rules leave one encoding per header, the one [`Protected::encode`] writes.
    ///
    /// One reader: a layout-following fast path saved too little to be worth a second reader
    /// that must agree with this one (`docs/performance.md`, "One strict reader per format").
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let Value::Map(entries) = cbor::parse_value(bytes, Limits::default())? else {
            return Err(EnvelopeError::Header("protected header is not a map"));
        };
        let mut alg = None;
        let mut content_type = None;
        let mut kid = None;
        let mut claims = None;
        for (k, v) in entries {
            match (label(&k)?, v) {
                (LABEL_ALG, v) => alg = Some(v),
                (LABEL_CONTENT_TYPE, Value::Text(t)) => content_type = Some(t),
                (LABEL_KID, Value::Bytes(b)) => kid = Some(b),
                (LABEL_CWT_CLAIMS, Value::Map(m)) => claims = Some(m),
                _ => {
                    return Err(EnvelopeError::Header(
                        "unexpected protected header parameter",
                    ));
                }
            }
        }
        if alg != Some(int(ALG_EDDSA)) {
            return Err(EnvelopeError::Header("algorithm must be EdDSA (-8)"));
        }
        if content_type.as_deref() != Some(CONTENT_TYPE) {
            return Err(EnvelopeError::Header("wrong or missing content type"));
        }
        let kid = kid
            .and_then(|k| <[u8; KEY_ID_LEN]>::try_from(k).ok())
            .ok_or(EnvelopeError::Header("key id must be 8 bytes"))?;
        let (issuer, subject) =
            decode_claims(claims.ok_or(EnvelopeError::Header("missing CWT claims"))?)?;
        Ok(Self {
            kid,
            issuer,
            subject,
        })
    }
}

fn label(v: &Value) -> Result<i64, EnvelopeError> {
    match v {
        Value::Integer(i) => {
            i64::try_from(*i).map_err(|_| EnvelopeError::Header("label out of range"))
        }
        _ => Err(EnvelopeError::Header("header labels must be integers")),
    }
}

fn decode_claims(claims: Vec<(Value, Value)>) -> Result<(String, Option<String>), EnvelopeError> {
    let mut iss = None;
    let mut sub = None;
    for (k, v) in claims {
        match (label(&k)?, v) {
            (CLAIM_ISS, Value::Text(t)) => iss = Some(t),
            (CLAIM_SUB, Value::Text(t)) => sub = Some(t),
            _ => return Err(EnvelopeError::Header("unexpected CWT claim")),
        }
    }
    Ok((iss.ok_or(EnvelopeError::Header("missing iss claim"))?, sub))
}

/// `Sig_structure` for COSE_Sign1 (RFC 9052 §4.4) over the exact protected and payload bytes:
/// `["Signature1", protected, h'', payload]`.
pub(crate) fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = sig_structure_head(protected, payload.len());
    out.extend_from_slice(payload);
    out
}

/// The `Sig_structure` up to the payload's bytes (which follow it to make the whole):
/// the array head, the context, the protected header, the empty external data and the
/// payload's byte-string head.
pub(crate) fn sig_structure_head(protected: &[u8], payload_len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(protected.len() + 24);
    // array(4), text(10) "Signature1"
    out.push(0x84);
    out.push(0x6a);
    out.extend_from_slice(b"Signature1");
    cbor::write_bstr(&mut out, protected);
    out.push(0x40); // external_aad: the empty byte string
    cbor::write_bstr_head(&mut out, payload_len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header through the generic canonical encoder (a value tree).
    fn encoded_as_values(h: &Protected) -> Vec<u8> {
        let mut claims = vec![(int(CLAIM_ISS), Value::Text(h.issuer.clone()))];
        if let Some(sub) = &h.subject {
            claims.push((int(CLAIM_SUB), Value::Text(sub.clone())));
        }
        let map = Value::Map(vec![
            (int(LABEL_ALG), int(ALG_EDDSA)),
            (int(LABEL_CONTENT_TYPE), Value::Text(CONTENT_TYPE.into())),
            (int(LABEL_KID), Value::Bytes(h.kid.to_vec())),
            (int(LABEL_CWT_CLAIMS), Value::Map(claims)),
        ]);
        cbor::value_to_vec(&map).expect("encode")
    }

    fn headers() -> Vec<Protected> {
        let mut out = Vec::new();
        for len in [1, 23, 24, 255, 256, 70_000] {
            for subject in [
                None,
                Some("0190f0a4-2f3e-7a3b-8c1d-2e3f4a5b6c7d".to_owned()),
            ] {
                out.push(Protected {
                    kid: [len as u8; KEY_ID_LEN],
                    issuer: "é".repeat(len / 2) + &"s".repeat(len % 2),
                    subject,
                });
            }
        }
        out
    }

    #[test]
    fn the_direct_encoding_is_the_canonical_one() {
        for h in headers() {
            assert_eq!(h.encode().expect("encode"), encoded_as_values(&h));
        }
    }

    /// Every header decodes to itself; every flipped bit, every truncation, one byte more
    /// is refused or decodes to a header that encodes to exactly those bytes.
    #[test]
    fn one_encoding_per_header() {
        for h in headers().into_iter().filter(|h| h.issuer.len() < 300) {
            let good = h.encode().expect("encode");
            assert_eq!(Protected::decode(&good).as_ref(), Ok(&h));
            let mut variants: Vec<Vec<u8>> = (0..good.len())
                .flat_map(|i| (0..8).map(move |bit| (i, bit)))
                .map(|(i, bit)| {
                    let mut m = good.clone();
                    m[i] ^= 1 << bit;
                    m
                })
                .collect();
            variants.extend((0..good.len()).map(|n| good[..n].to_vec()));
            variants.push([good.as_slice(), &[0]].concat());
            for m in variants {
                if let Ok(other) = Protected::decode(&m) {
                    assert_eq!(other.encode().as_deref(), Ok(&m[..]), "{m:02x?}");
                }
            }
        }
    }

    #[test]
    fn sig_structure_is_the_canonical_array() {
        let want = cbor::value_to_vec(&Value::Array(vec![
            Value::Text("Signature1".into()),
            Value::Bytes(vec![0xa0]),
            Value::Bytes(Vec::new()),
            Value::Bytes(vec![7; 300]),
        ]))
        .expect("encode");
        assert_eq!(sig_structure(&[0xa0], &[7; 300]), want);
    }
}
