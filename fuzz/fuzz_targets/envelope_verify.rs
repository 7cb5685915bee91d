//! Arbitrary bytes into envelope parsing and verification (single, batch, trust-checked): no
//! panic, and nothing verifies under a key that did not sign it.
#![no_main]

use ed25519_dalek::SigningKey;
use libfuzzer_sys::fuzz_target;
use warrant_ledger::cbor::Limits;
use warrant_ledger::envelope;
use warrant_ledger::trust::TrustPolicy;

fuzz_target!(|data: &[u8]| {
    // The committed vectors' test key (seed 0x2a…): mutated vectors keep a valid header.
    let key = SigningKey::from_bytes(&[0x2a; 32]).verifying_key();
    let single = envelope::verify(data, &key);
    let batch = envelope::verify_batch(&[(data, &key)]);
    assert_eq!(batch.len(), 1);
    assert_eq!(single.is_ok(), batch[0].is_ok());
    if let Ok(p) = envelope::parse(data, Limits::default()) {
        let _ = p.payload_unverified(Limits::default());
    }
    let _ = TrustPolicy::default().verify_event(data, Limits::default());
});
