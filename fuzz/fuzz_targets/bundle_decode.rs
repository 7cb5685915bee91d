//! Arbitrary bytes into bundle decoding and the full audit: no panic, a decoded bundle
//! re-encodes to the input, and the bundle reader agrees with a one-pass serde decode.
#![no_main]

use ed25519_dalek::SigningKey;
use libfuzzer_sys::fuzz_target;
use warrant_ledger::audit;
use warrant_ledger::bundle::{BUNDLE_VERSION, Bundle, MAX_BUNDLE_LEN};
use warrant_ledger::cbor::{self, Limits};
use warrant_ledger::checkpoint::NoteSigner;
use warrant_ledger::demo::Deployment;
use warrant_ledger::trust::TrustPolicy;

fuzz_target!(|data: &[u8]| {
    let decoded = Bundle::from_cbor(data).ok();
    if let Some(b) = &decoded {
        assert_eq!(b.to_cbor().as_deref(), Ok(data));
    }
    // The shallow, per-entry decode accepts exactly what the one-pass serde decode accepts.
    let one_pass: Option<Bundle> =
        cbor::from_slice_with(data, Limits::default().with_max_len(MAX_BUNDLE_LEN))
            .ok()
            .filter(|b: &Bundle| b.version == BUNDLE_VERSION);
    assert_eq!(decoded, one_pass);
    let origin = "bank.example/agent-ledger";
    let Ok(log) = NoteSigner::new(origin, SigningKey::from_bytes(&[7; 32])) else { return };
    let doc = Deployment::new([9; 32]).trust_document(origin, "blake3", &log.verifier().to_string());
    if let Ok(trust) = TrustPolicy::try_from(doc) {
        let _ = audit::verify(data, &trust, &[data.to_vec()]);
    }
});
