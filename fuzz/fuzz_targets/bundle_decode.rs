//! Arbitrary bytes into bundle decoding: no panic, and a decoded bundle re-encodes to the
//! input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warrant_ledger::bundle::Bundle;

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = Bundle::from_cbor(data) {
        assert_eq!(b.to_cbor().as_deref(), Ok(data));
    }
});
