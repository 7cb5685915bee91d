//! Arbitrary bytes into event decoding: no panic, a decoded event re-encodes to the input,
//! and the typed decoder agrees with an oracle built from the generic value path (parse,
//! deserialize from the value tree, re-encode through the value writer).
#![no_main]

use libfuzzer_sys::fuzz_target;
use warrant_ledger::cbor::{self, Limits};
use warrant_ledger::event::Event;
use warrant_ledger::internals;

fn oracle(bytes: &[u8]) -> Option<Event> {
    let value = internals::parse_value(bytes, Limits::default()).ok()?;
    let event: Event = value.deserialized().ok()?;
    let again = ciborium::Value::serialized(&event).ok()?;
    (internals::value_to_vec(&again).ok()? == bytes).then_some(event)
}

fuzz_target!(|data: &[u8]| {
    let typed = cbor::from_slice::<Event>(data).ok();
    assert_eq!(typed, oracle(data));
    if let Ok(e) = Event::from_cbor(data) {
        assert_eq!(e.to_cbor().as_deref(), Ok(data));
    }
});
