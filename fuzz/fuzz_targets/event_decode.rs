//! Arbitrary bytes into event decoding: no panic, and a decoded event re-encodes to the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warrant_ledger::event::Event;

fuzz_target!(|data: &[u8]| {
    if let Ok(e) = Event::from_cbor(data) {
        assert_eq!(e.to_cbor().as_deref(), Ok(data));
    }
});
