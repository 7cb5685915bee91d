//! What the batch equation may assume of a key: that it is of prime order.
//!
//! The equation scales each key by a scalar reduced modulo ℓ, (Σ zᵢ·kᵢ mod ℓ)·A, and that is
//! the sum of the zᵢ·kᵢ·A only when ℓ·A is the identity. For a key with a small-order
//! component (a "mixed-order" key, which no RFC 8032 key generation produces) the reduction
//! adds a torsion point that depends on the weights: the batch then passes or fails at
//! random, whatever `verify_strict` says (the "Taming the many EdDSAs" vectors include both
//! kinds). Such keys are judged outside the equation, one signature at a time, by
//! `verify_strict` itself.

use std::collections::HashSet;
use std::sync::{OnceLock, PoisonError, RwLock};

use ed25519_dalek::VerifyingKey;

/// How a key takes part in a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyClass {
    /// Of small order: `verify_strict` refuses every signature under it.
    Weak,
    /// Of prime order: its signatures go into the equation.
    PrimeOrder,
    /// Neither: each signature is checked by `verify_strict`, outside the equation.
    Mixed,
}

/// Keys already found to be of prime order. Deciding it costs a scalar multiplication (as
/// much as verifying two signatures in a batch; `docs/performance.md`), and a bundle's few
/// keys come back in every audit, so the answer is remembered. Bounded: emptied when full, so a
/// stream of fresh keys costs the check again, never memory.
const REMEMBERED: usize = 4096;

fn prime_order_keys() -> &'static RwLock<HashSet<[u8; 32]>> {
    static KEYS: OnceLock<RwLock<HashSet<[u8; 32]>>> = OnceLock::new();
    KEYS.get_or_init(|| RwLock::new(HashSet::new()))
}

/// The class of `key`.
pub(super) fn class(key: &VerifyingKey) -> KeyClass {
    let bytes = key.as_bytes();
    let known = prime_order_keys()
        .read()
        .unwrap_or_else(PoisonError::into_inner);
    if known.contains(bytes) {
        return KeyClass::PrimeOrder;
    }
    drop(known);
    if key.is_weak() {
        return KeyClass::Weak;
    }
    if !key.to_edwards().is_torsion_free() {
        return KeyClass::Mixed;
    }
    let mut known = prime_order_keys()
        .write()
        .unwrap_or_else(PoisonError::into_inner);
    if known.len() >= REMEMBERED {
        known.clear();
    }
    known.insert(*bytes);
    KeyClass::PrimeOrder
}
