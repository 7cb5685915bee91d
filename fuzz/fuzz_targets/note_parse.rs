//! Arbitrary bytes into the signed-note and checkpoint parsers: no panic, and anything that
//! parses serialises back to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warrant_ledger::checkpoint::{Checkpoint, Note, NoteVerifier, open_checkpoint};

fuzz_target!(|data: &[u8]| {
    if let Ok(note) = Note::parse(data) {
        assert_eq!(note.to_bytes(), data, "a parsed note re-serialises to its bytes");
        let _ = Checkpoint::parse(note.text());
    }
    let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    if let Ok(v) = NoteVerifier::parse(vkey) {
        let _ = open_checkpoint(data, "PeterNeumann", &[v]);
    }
    if let Ok(text) = core::str::from_utf8(data) {
        let _ = NoteVerifier::parse(text);
        let _ = warrant_ledger::checkpoint::NoteSigner::parse(text);
    }
});
