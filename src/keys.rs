//! Key generation shared by the log's note key and emitters' event keys.

use ed25519_dalek::SigningKey;
use zeroize::Zeroizing;

/// A fresh Ed25519 signing key from the operating system's random source.
///
/// # Panics
/// If the operating system cannot provide randomness: continuing with a predictable key would
/// be worse than stopping.
#[must_use]
pub fn generate_signing_key() -> SigningKey {
    let mut seed = Zeroizing::new([0u8; 32]);
    #[allow(clippy::expect_used)]
    getrandom::getrandom(seed.as_mut()).expect("operating system randomness is unavailable");
    SigningKey::from_bytes(&seed)
}

/// 32 random bytes from the operating system.
///
/// # Panics
/// If the operating system cannot provide randomness.
#[must_use]
pub fn random_bytes() -> [u8; 32] {
    let mut b = [0u8; 32];
    #[allow(clippy::expect_used)]
    getrandom::getrandom(&mut b).expect("operating system randomness is unavailable");
    b
}
