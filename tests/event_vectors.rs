//! Committed event vectors: for each kind, the JSON example (`examples/events/`), its
//! canonical CBOR and its COSE_Sign1 under the fixed test key (`tests/vectors/events/`).
//! The test fails when code and committed files disagree; `UPDATE_VECTORS=1 cargo test
//! --test event_vectors` rewrites them. Every COSE vector is also checked with `coset`.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use coset::CborSerializable as _;
use coset::TaggedCborSerializable as _;
use warrant_ledger::envelope;
use warrant_ledger::event::Event;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn check_or_update(path: &Path, want: &str) {
    if std::env::var_os("UPDATE_VECTORS").is_some() {
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, want).expect("write vector");
        return;
    }
    let have = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        have,
        want,
        "{} is stale: rerun with UPDATE_VECTORS=1",
        path.display()
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<String>() + "\n"
}

#[test]
fn committed_examples_and_vectors_match_the_code() {
    let events = common::sample_events();
    assert_eq!(events.len(), 12, "one per kind");
    let key = common::test_key();
    for event in &events {
        let name = event.kind().name();
        let json = serde_json::to_string_pretty(event).expect("json") + "\n";
        let example = root().join("examples/events").join(format!("{name}.json"));
        check_or_update(&example, &json);

        // The committed JSON is the source of truth for other implementations: it must parse
        // back to the same event.
        let parsed: Event =
            serde_json::from_str(&fs::read_to_string(&example).expect("read")).expect("parse");
        assert_eq!(&parsed, event);

        let cbor = event.to_cbor().expect("cbor");
        let vectors = root().join("tests/vectors/events");
        check_or_update(&vectors.join(format!("{name}.cbor.hex")), &hex(&cbor));
        assert_eq!(Event::from_cbor(&cbor).as_ref(), Ok(event));

        let signed = envelope::sign(event, &key).expect("sign");
        check_or_update(
            &vectors.join(format!("{name}.cose.hex")),
            &hex(signed.bytes()),
        );
        coset_verifies(signed.bytes(), &key.verifying_key(), &cbor);
    }
    // docs/event-model.md reproduces every example.
    let doc = fs::read_to_string(root().join("docs/event-model.md")).expect("doc");
    for event in &events {
        let json = serde_json::to_string_pretty(event).expect("json");
        assert!(
            doc.contains(&json),
            "docs/event-model.md lacks the current {} example",
            event.kind()
        );
    }
    let public = warrant_ledger::trust::public_key_base64(&key.verifying_key());
    check_or_update(
        &root().join("tests/vectors/events/test-key.pub"),
        &(public + "\n"),
    );
}

/// Independent check with `coset`: the envelope parses as a tagged COSE_Sign1, the header
/// says EdDSA, and the signature over coset's own Sig_structure verifies.
fn coset_verifies(bytes: &[u8], key: &ed25519_dalek::VerifyingKey, payload: &[u8]) {
    let sign1 = coset::CoseSign1::from_tagged_slice(bytes).expect("coset parses");
    assert_eq!(
        sign1.protected.header.alg,
        Some(coset::RegisteredLabelWithPrivate::Assigned(
            coset::iana::Algorithm::EdDSA
        ))
    );
    assert_eq!(sign1.payload.as_deref(), Some(payload));
    assert!(sign1.unprotected.is_empty());
    sign1
        .verify_signature(b"", |sig, data| {
            let sig = ed25519_dalek::Signature::from_slice(sig).map_err(|e| e.to_string())?;
            key.verify_strict(data, &sig).map_err(|e| e.to_string())
        })
        .expect("coset verifies our signature");
    // coset re-serialises the same bytes (it keeps the protected header as received).
    assert_eq!(sign1.to_tagged_vec().expect("serialise"), bytes);
    let _ = coset::CoseSign1::from_slice(&bytes[1..]).expect("untagged form parses too");
}
