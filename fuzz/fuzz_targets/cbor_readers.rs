//! Differential: the strict readers that take a shortcut are held against the structural
//! checker and the encoder on arbitrary bytes.
//!
//! - The typed strict decode accepts an event without the structural pass when it re-encodes
//!   to the input (its accepting path): whatever it accepts, the structural checker accepts
//!   too, and the event encodes to exactly the input.
//! - A protected header is accepted only as the one encoding of its fields.
//!
//! (The bundle reader, whose raw entries are compared in place, is held against a one-pass
//! decode without raw items by `bundle_decode`.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use warrant_ledger::cbor::Limits;
use warrant_ledger::event::Event;
use warrant_ledger::internals::{check_canonical, header_round_trip};

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = Event::from_cbor(data) {
        assert_eq!(check_canonical(data, Limits::default()), Ok(()));
        assert_eq!(event.to_cbor().as_deref(), Ok(data));
    }
    if let Some(again) = header_round_trip(data) {
        assert_eq!(again, data, "a header accepted in another encoding");
    }
});
