//! Ed25519 batch verification, with the terms of each distinct key added up.
//!
//! For signatures (Rᵢ, sᵢ) by keys Aᵢ over messages Mᵢ, with kᵢ = SHA-512(Rᵢ ‖ Aᵢ ‖ Mᵢ) mod ℓ
//! and random 128-bit weights zᵢ, a batch holds when
//!
//! ```text
//! Σ zᵢ·Rᵢ + Σ (zᵢ·kᵢ)·Aᵢ − (Σ zᵢ·sᵢ)·B = 0
//! ```
//!
//! the equation ed25519-dalek's `verify_batch` checks. In a log, most signatures come from a
//! handful of emitters, and the sum over one key of (zᵢ·kᵢ)·A is (Σ zᵢ·kᵢ)·A: the same group
//! element, so the same verdict, with one point per distinct key in the multi-scalar
//! multiplication instead of one per signature (n + k + 1 points, not 2n + 1). That
//! multiplication is most of the cost (`docs/performance.md` has the measured gain).
//!
//! Before the equation each signature must pass what `verify_strict` checks before its own:
//! s canonical (below ℓ), R decompressible and not of small order, the key not of small
//! order. ed25519-dalek's `verify_batch` checks only the first two, so it accepts, for
//! example, a key holder's signature with R the identity. `verify_strict` also refuses an R
//! encoded with y ≥ p, by comparing encodings; no check is needed for that here, because
//! such an R decodes to a point with y < 19: the small-order ones are refused, and for the
//! others nobody knows a discrete logarithm, which a signature satisfying the equation needs.
//!
//! The equation also assumes every key is of prime order (`keys.rs` says why); a key with a
//! small-order component has each of its signatures judged by `verify_strict` alone, so on
//! every vector of "Taming the many EdDSAs" the batch and `verify_strict` agree, alone and
//! mixed into batches (`tests/vectors/ed25519-speccheck`, tested in `batch/tests.rs`).
//!
//! What still separates a batch pass from `verify_strict` is a small-order component in R
//! (R = r·B + T) under a prime-order key, which only the key's holder can put there:
//! `verify_strict` always refuses such a signature, the batch equation holds for it when
//! T·zᵢ vanishes, which for T of order 2 is half the time (and then the caller's one-by-one
//! fallback, `verify_strict`, refuses it). Closing it exactly needs ℓ·R for every signature,
//! a scalar multiplication each, which would cost more than the batch saves
//! (`docs/what-verify-proves.md`). The equation is deliberately the cofactorless one:
//! multiplied by the cofactor 8, it would accept such signatures every time.
//!
//! A failed batch says only that some signature is bad; callers then verify one by one.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha512};

use self::keys::KeyClass;

/// One signature to check: the signed bytes, the signature, the key.
pub type Signed<'a> = (&'a [u8], &'a Signature, &'a VerifyingKey);

/// One signature over bytes held in two pieces, signed as their concatenation: an
/// envelope's `Sig_structure` is a short head and the payload, which is then hashed where
/// it lies instead of being copied next to the head (a copy and an allocation per event).
pub(crate) type SignedParts<'a> = ([&'a [u8]; 2], &'a Signature, &'a VerifyingKey);

/// One signature's decoded parts.
struct Term<'a> {
    r: EdwardsPoint,
    s: Scalar,
    /// SHA-512(R ‖ A ‖ M) mod ℓ.
    k: Scalar,
    key: &'a VerifyingKey,
    r_bytes: [u8; 32],
}

/// Whether every signature in `items` holds. `false` when any does not, when any fails a
/// check `verify_strict` makes before its equation, or when the system's random source fails
/// (the caller's one-by-one fallback then decides); `true` for no items.
///
/// # Security
/// The weights come from the operating system's random source, mixed with every
/// signature's R, s and k, so a signer who cannot predict them cannot make bad signatures
/// that cancel: a batch holding a signature that is wrong in its prime-order part passes
/// with probability about 2⁻¹²⁸. See the module documentation for the one difference from
/// `verify_strict`.
#[must_use]
pub fn verify_all(items: &[Signed<'_>]) -> bool {
    let parts: Vec<SignedParts<'_>> = items
        .iter()
        .map(|&(msg, sig, key)| ([msg, &[][..]], sig, key))
        .collect();
    verify_all_parts(&parts)
}

/// [`verify_all`] for messages in two pieces.
pub(crate) fn verify_all_parts(items: &[SignedParts<'_>]) -> bool {
    // A loop, not `collect::<Option<Vec<_>>>()`, which cannot size the vector up front.
    let mut terms = Vec::with_capacity(items.len());
    // Each distinct key's class, decided once per call (a chunk holds a few emitters).
    let mut classes: HashMap<&[u8; 32], KeyClass> = HashMap::new();
    for &item in items {
        let key = item.2;
        let class = *classes
            .entry(key.as_bytes())
            .or_insert_with(|| keys::class(key));
        match class {
            KeyClass::Weak => return false,
            KeyClass::Mixed if !strict_alone(item) => return false,
            KeyClass::Mixed => {}
            KeyClass::PrimeOrder => match Term::of(item) {
                Some(term) => terms.push(term),
                None => return false,
            },
        }
    }
    equation_holds(&terms)
}

/// `verify_strict` on one signature over bytes in two pieces.
fn strict_alone(([head, body], sig, key): SignedParts<'_>) -> bool {
    key.verify_strict(&[head, body].concat(), sig).is_ok()
}

/// The batch equation over `terms` (every key of prime order); `true` for none.
fn equation_holds(terms: &[Term<'_>]) -> bool {
    if terms.is_empty() {
        return true;
    }
    let Some(weights) = weights(terms) else {
        return false;
    };
    let mut base = Scalar::ZERO;
    // Per distinct key: the sum of its zᵢ·kᵢ, and its point.
    let mut keys: HashMap<&[u8; 32], (Scalar, EdwardsPoint)> = HashMap::new();
    let mut scalars = Vec::with_capacity(terms.len() + 2);
    let mut points = Vec::with_capacity(terms.len() + 2);
    for (t, z) in terms.iter().zip(weights) {
        base += z * t.s;
        scalars.push(z);
        points.push(t.r);
        let key = match keys.entry(t.key.as_bytes()) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert((Scalar::ZERO, t.key.to_edwards())),
        };
        key.0 += z * t.k;
    }
    for (c, a) in keys.into_values() {
        scalars.push(c);
        points.push(a);
    }
    scalars.push(-base);
    points.push(ED25519_BASEPOINT_POINT);
    EdwardsPoint::vartime_multiscalar_mul(&scalars, &points).is_identity()
}

impl<'a> Term<'a> {
    /// The parts of one signature, or `None` if s or R fails a check made before the
    /// equation (the key's is made once per key, in [`verify_all_parts`]).
    fn of(([head, body], sig, key): SignedParts<'a>) -> Option<Self> {
        let r_bytes = *sig.r_bytes();
        let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(*sig.s_bytes()))?;
        let r = CompressedEdwardsY(r_bytes).decompress()?;
        if encodes_small_order(&r_bytes) {
            return None;
        }
        let digest = Sha512::new()
            .chain_update(r_bytes)
            .chain_update(key.as_bytes())
            .chain_update(head)
            .chain_update(body)
            .finalize();
        let k = Scalar::from_bytes_mod_order_wide(&digest.into());
        Some(Self {
            r,
            s,
            k,
            key,
            r_bytes,
        })
    }
}

/// Whether a 32-byte encoding that decompresses names a point of small order, judged from
/// its bytes: the same answer as `is_small_order` on the decompressed point, without the
/// three doublings and two field comparisons (a twentieth of ingest, measured).
///
/// The eight small-order points have five y coordinates (1, −1, 0, ±y₈), and every point
/// with one of those y is one of the eight (its x is ± a torsion point's x, and negation
/// stays in the group). Decompression reads y from the low 255 bits modulo p, so an
/// encoding names a small-order point exactly when its low 255 bits are one of those five
/// values or, for the two below 19 (0 and 1), that value plus p. The sign bit is ignored:
/// both x of such a y are of small order.
fn encodes_small_order(bytes: &[u8; 32]) -> bool {
    let mut y = *bytes;
    y[31] &= 0x7f;
    small_order_ys().contains(&y)
}

/// The low 255 bits of every encoding of a small-order point (see [`encodes_small_order`]).
fn small_order_ys() -> &'static [[u8; 32]] {
    static YS: std::sync::OnceLock<Vec<[u8; 32]>> = std::sync::OnceLock::new();
    YS.get_or_init(|| {
        let mut ys: Vec<[u8; 32]> = Vec::new();
        for t in EIGHT_TORSION {
            let mut y = t.compress().to_bytes();
            y[31] &= 0x7f;
            if !ys.contains(&y) {
                ys.push(y);
            }
        }
        // y + p for y < 19 (p = 2²⁵⁵ − 19 is 0xed, 0xff × 30, 0x7f little-endian).
        let small: Vec<u8> = ys
            .iter()
            .filter(|y| y[0] < 19 && y[1..].iter().all(|&b| b == 0))
            .map(|y| y[0])
            .collect();
        for low in small {
            let mut y = [0xff; 32];
            y[0] = 0xed + low;
            y[31] = 0x7f;
            ys.push(y);
        }
        ys
    })
}

/// One random 128-bit weight per term: BLAKE3's output stream keyed with 32 bytes from the
/// operating system, over every term's R, s and k (so that even a broken random source
/// leaves weights a signer must have fixed before choosing its signatures). `None` if the
/// random source fails.
fn weights(terms: &[Term<'_>]) -> Option<Vec<Scalar>> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).ok()?;
    let mut h = blake3::Hasher::new_keyed(&seed);
    for t in terms {
        h.update(&t.r_bytes);
        h.update(t.s.as_bytes());
        h.update(t.k.as_bytes());
    }
    let mut stream = h.finalize_xof();
    let mut z = [0u8; 16];
    Some(
        terms
            .iter()
            .map(|_| {
                stream.fill(&mut z);
                Scalar::from(u128::from_le_bytes(z))
            })
            .collect(),
    )
}

mod keys;

#[cfg(test)]
mod tests;
