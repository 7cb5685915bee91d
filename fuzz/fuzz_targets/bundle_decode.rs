//! Arbitrary bytes into bundle decoding and the full audit: no panic, and a decoded bundle
//! re-encodes to the input.
#![no_main]

use ed25519_dalek::SigningKey;
use libfuzzer_sys::fuzz_target;
use warrant_ledger::audit;
use warrant_ledger::bundle::Bundle;
use warrant_ledger::checkpoint::NoteSigner;
use warrant_ledger::demo::Deployment;
use warrant_ledger::trust::TrustPolicy;

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = Bundle::from_cbor(data) {
        assert_eq!(b.to_cbor().as_deref(), Ok(data));
    }
    let origin = "bank.example/agent-ledger";
    let Ok(log) = NoteSigner::new(origin, SigningKey::from_bytes(&[7; 32])) else { return };
    let doc = Deployment::new([9; 32]).trust_document(origin, "blake3", &log.verifier().to_string());
    if let Ok(trust) = TrustPolicy::try_from(doc) {
        let _ = audit::verify(data, &trust, &[data.to_vec()]);
    }
});
