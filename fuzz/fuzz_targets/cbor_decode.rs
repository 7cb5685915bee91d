//! Arbitrary bytes into the strict CBOR decoder: no panic, whatever decodes re-encodes to
//! exactly the input (the canonical-form invariant), and the typed path (straight from bytes
//! through serde) accepts exactly what the value path accepts, with the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warrant_ledger::cbor::{Limits, from_slice, to_vec};
use warrant_ledger::internals::{parse_value, value_to_vec};

fuzz_target!(|data: &[u8]| {
    let by_value = parse_value(data, Limits::default());
    let typed = from_slice::<ciborium::Value>(data);
    assert_eq!(by_value.is_ok(), typed.is_ok(), "{by_value:?} / {typed:?}");
    if let (Ok(v), Ok(t)) = (by_value, typed) {
        assert_eq!(value_to_vec(&v).as_deref(), Ok(data));
        assert_eq!(to_vec(&t).as_deref(), Ok(data));
    }
});
