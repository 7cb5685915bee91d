//! The typed decoder (bytes straight to serde) against an independent oracle built from the
//! value-tree path: parse to a generic value, deserialize from it, re-encode through the
//! value writer, require the input back. Both must accept exactly the same payloads and
//! produce the same events, under every single-byte mutation of every sample event.

mod common;

use warrant_ledger::cbor::{self, Limits};
use warrant_ledger::event::Event;
use warrant_ledger::internals;

/// The old decoding path, kept here as the oracle.
fn oracle(bytes: &[u8]) -> Option<Event> {
    let value = internals::parse_value(bytes, Limits::default()).ok()?;
    let event: Event = value.deserialized().ok()?;
    let again = ciborium::Value::serialized(&event).ok()?;
    (internals::value_to_vec(&again).ok()? == bytes).then_some(event)
}

/// The typed decoder without the model's semantic checks, which the oracle does not run.
fn typed(bytes: &[u8]) -> Option<Event> {
    cbor::from_slice::<Event>(bytes).ok()
}

#[test]
fn typed_decoder_agrees_with_the_value_tree_oracle() {
    let mut compared = 0;
    let mut accepted = 0;
    for event in common::sample_events() {
        let bytes = event.to_cbor().expect("encode");
        assert_eq!(
            internals::value_to_vec(&ciborium::Value::serialized(&event).expect("value"))
                .expect("enc"),
            bytes,
            "both writers give the same bytes"
        );
        assert_eq!(typed(&bytes), Some(event.clone()));
        for i in 0..bytes.len() {
            for mask in [0x01u8, 0x20, 0x80, 0xff] {
                let mut m = bytes.clone();
                m[i] ^= mask;
                let (a, b) = (typed(&m), oracle(&m));
                assert_eq!(a, b, "byte {i} ^ {mask:#x} of {:?}", event.body.kind());
                compared += 1;
                accepted += usize::from(a.is_some());
            }
            // Truncations too.
            assert_eq!(typed(&bytes[..i]), oracle(&bytes[..i]));
        }
    }
    assert!(compared > 10_000, "{compared}");
    // Some mutations stay valid (a changed byte inside a string): the comparison is not
    // only between two rejections.
    assert!(accepted > 100, "{accepted}");
}
