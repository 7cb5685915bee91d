//! Arbitrary bytes into the strict CBOR decoder: no panic, and whatever decodes re-encodes to
//! exactly the input (the canonical-form invariant).
#![no_main]

use libfuzzer_sys::fuzz_target;
use warrant_ledger::cbor::{Limits, parse_value, value_to_vec};

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = parse_value(data, Limits::default()) {
        assert_eq!(value_to_vec(&v).as_deref(), Ok(data));
    }
});
