//! Arbitrary bytes into envelope parsing and verification (single, batch, trust-checked): no
//! panic, and nothing verifies under a key that did not sign it. The raw batch verifier is
//! also given the bytes as a signature and message, alone and beside a valid signature by
//! the same key: it must agree with `verify_strict` (only the key's holder could make them
//! disagree, by crafting R with a small-order component, and the fuzzer cannot sign).
#![no_main]

use ed25519_dalek::{Signature, Signer, SigningKey};
use libfuzzer_sys::fuzz_target;
use warrant_ledger::cbor::Limits;
use warrant_ledger::envelope;
use warrant_ledger::internals;
use warrant_ledger::trust::TrustPolicy;

fuzz_target!(|data: &[u8]| {
    // The committed vectors' test key (seed 0x2a…): mutated vectors keep a valid header.
    let signer = SigningKey::from_bytes(&[0x2a; 32]);
    let key = signer.verifying_key();
    let single = envelope::verify(data, &key);
    let batch = envelope::verify_batch(&[(data, &key)]);
    assert_eq!(batch.len(), 1);
    assert_eq!(single.is_ok(), batch[0].is_ok());
    if let Ok(p) = envelope::parse(data, Limits::default()) {
        let _ = p.payload_unverified(Limits::default());
    }
    let _ = TrustPolicy::default().verify_event(data, Limits::default());

    if let Some((sig, msg)) = data.split_first_chunk::<64>() {
        let sig = Signature::from_bytes(sig);
        let strict = key.verify_strict(msg, &sig).is_ok();
        assert_eq!(internals::verify_all(&[(msg, &sig, &key)]), strict);
        let good_msg = b"a valid neighbour";
        let good = signer.sign(good_msg);
        let pair = [(msg, &sig, &key), (&good_msg[..], &good, &key)];
        assert_eq!(internals::verify_all(&pair), strict);
    }
});
