//! Signed-note and checkpoint vectors: Go's `sumdb/note` tests, the C2SP example, and all
//! sixteen checkpoints of the Tessera test log; plus every rejection of the note parser.

use std::fs;
use std::path::{Path, PathBuf};

use warrant_ledger::checkpoint::{
    Checkpoint, CheckpointError, KeyError, MAX_NOTE_LEN, Note, NoteError, NoteSigner, NoteVerifier,
    open, open_checkpoint, sign,
};
use warrant_ledger::merkle::{HashProfile, MemoryNodes, root_at};

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const PETER_TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str = "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";
const TESSERA_VKEY: &str =
    "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";
const TESSERA_SKEY: &str =
    "PRIVATE+KEY+example.com/log/testdata+33d7b496+AeymY/SZAX0jZcJ8enZ5FY1Dz+wTML2yWSkK+9DSF3eg";

fn peter_note() -> String {
    format!("{PETER_TEXT}\n{PETER_SIG}")
}

#[test]
fn vendored_vector_file_holds_the_constants_used_here() {
    let text = fs::read_to_string(vectors().join("signed-note/vectors.txt")).expect("read");
    for s in [
        PETER_SKEY,
        PETER_VKEY,
        ENOCH_VKEY,
        TESSERA_VKEY,
        TESSERA_SKEY,
    ] {
        assert!(text.contains(s), "{s}");
    }
    assert!(text.contains(PETER_SIG.trim_end()) && text.contains(ENOCH_SIG.trim_end()));
}

#[test]
fn go_signer_key_signs_byte_identically() {
    let signer = NoteSigner::parse(PETER_SKEY).expect("skey");
    assert_eq!(signer.verifier().to_string(), PETER_VKEY);
    assert_eq!(*signer.to_key_string(), PETER_SKEY);
    let note = sign(PETER_TEXT, &[&signer]).expect("sign");
    assert_eq!(String::from_utf8(note).expect("utf8"), peter_note());
}

#[test]
fn go_note_verifies_with_one_and_two_keys() {
    let peter = NoteVerifier::parse(PETER_VKEY).expect("vkey");
    let enoch = NoteVerifier::parse(ENOCH_VKEY).expect("vkey");
    assert_eq!(enoch.to_string(), ENOCH_VKEY);
    let v = open(peter_note().as_bytes(), std::slice::from_ref(&peter)).expect("open");
    assert_eq!(v.text(), PETER_TEXT);
    assert_eq!(v.verified().len(), 1);

    let both = format!("{}{ENOCH_SIG}", peter_note());
    let v = open(both.as_bytes(), &[peter.clone(), enoch.clone()]).expect("two keys");
    assert_eq!(v.verified().len(), 2);
    // Only Enoch trusted: Peter's signature is kept, unverified.
    let v = open(both.as_bytes(), &[enoch]).expect("enoch");
    assert_eq!((v.verified().len(), v.unverified().len()), (1, 1));
    assert_eq!(v.unverified()[0].name, "PeterNeumann");
}

#[test]
fn go_negative_verifier_keys() {
    assert_eq!(
        NoteVerifier::parse(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        ),
        // Go rejects this for its length; "EY==" also has non-zero trailing bits, which our
        // strict base64 refuses first.
        Err(KeyError::BadBase64)
    );
    assert_eq!(
        NoteVerifier::parse(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEQ=="
        ),
        Err(KeyError::WrongLength(36))
    );
    assert_eq!(
        NoteVerifier::parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
        Err(KeyError::UnknownAlgorithm(0x65))
    );
}

#[test]
fn go_rejects_over_100_signatures_and_so_do_we() {
    let many = format!("{PETER_TEXT}\n{}", PETER_SIG.repeat(101));
    let peter = NoteVerifier::parse(PETER_VKEY).expect("vkey");
    assert_eq!(
        open(many.as_bytes(), std::slice::from_ref(&peter)),
        Err(NoteError::TooManySignatures {
            count: 101,
            max: 100
        })
    );
    // 100 identical lines are accepted and count once.
    let hundred = format!("{PETER_TEXT}\n{}", PETER_SIG.repeat(100));
    assert_eq!(
        open(hundred.as_bytes(), &[peter])
            .expect("100")
            .verified()
            .len(),
        1
    );
}

#[test]
fn c2sp_example_note() {
    let vkey = NoteVerifier::parse(
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
    )
    .expect("vkey");
    let note = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
    assert_eq!(
        open(note.as_bytes(), &[vkey]).expect("open").text(),
        "This is an example message.\n"
    );
}

fn tessera_entries() -> Vec<Vec<u8>> {
    "one two three four five six seven eit nain ten ileven twelf threeten fourten fivten"
        .split(' ')
        .map(|w| w.as_bytes().to_vec())
        .collect()
}

#[test]
fn tessera_checkpoints_verify_and_match_our_roots() {
    let origin = "example.com/log/testdata";
    let vkey = NoteVerifier::parse(TESSERA_VKEY).expect("vkey");
    let signer = NoteSigner::parse(TESSERA_SKEY).expect("skey");
    assert_eq!(signer.verifier(), vkey);
    let mut nodes = MemoryNodes::new(HashProfile::Sha256);
    for e in tessera_entries() {
        nodes.append(&e);
    }
    for n in 0..=15u64 {
        let bytes = fs::read(vectors().join(format!("tessera-testdata-log/log/checkpoint.{n}")))
            .expect("checkpoint");
        let cp = open_checkpoint(&bytes, origin, std::slice::from_ref(&vkey)).expect("verifies");
        assert_eq!(cp.checkpoint().size, n);
        assert_eq!(
            cp.checkpoint().root,
            root_at(HashProfile::Sha256, &nodes, n).expect("root")
        );
        // Re-signing the parsed body with the published key reproduces the file exactly.
        assert_eq!(
            cp.checkpoint().sign(&[&signer]).expect("sign"),
            bytes,
            "checkpoint.{n}"
        );
    }
    let latest = fs::read(vectors().join("tessera-testdata-log/log/checkpoint")).expect("read");
    assert_eq!(
        open_checkpoint(&latest, origin, std::slice::from_ref(&vkey))
            .expect("open")
            .tree_head()
            .size,
        15
    );
    assert!(matches!(
        open_checkpoint(&latest, "example.com/other", &[vkey]),
        Err(CheckpointError::OriginMismatch { .. })
    ));
}

#[test]
fn every_note_rejection_has_its_own_error() {
    let peter = NoteVerifier::parse(PETER_VKEY).expect("vkey");
    let enoch = NoteVerifier::parse(ENOCH_VKEY).expect("vkey");
    let ok = peter_note();
    let check = |bytes: &[u8], want: NoteError| {
        assert_eq!(
            open(bytes, std::slice::from_ref(&peter)),
            Err(want),
            "{:?}",
            String::from_utf8_lossy(bytes)
        );
    };
    check(
        &vec![b'a'; MAX_NOTE_LEN + 1],
        NoteError::TooLarge {
            len: MAX_NOTE_LEN + 1,
            max: MAX_NOTE_LEN,
        },
    );
    check(b"text\xff\n\n", NoteError::NotUtf8);
    check(
        b"te\rxt\n\n\xe2\x80\x94 a AAAAAAA=\n",
        NoteError::ControlCharacter {
            byte: b'\r',
            offset: 2,
        },
    );
    check(PETER_TEXT.as_bytes(), NoteError::NoSignatureBlock);
    check(
        format!("{PETER_TEXT}\n").as_bytes(),
        NoteError::NoSignatureBlock,
    );
    check(ok.trim_end().as_bytes(), NoteError::NoSignatureBlock);
    check(
        format!("{PETER_TEXT}\n- PeterNeumann AAAA\n").as_bytes(),
        NoteError::MalformedSignatureLine { line: 1 },
    );
    check(
        format!("{PETER_TEXT}\n{PETER_SIG}\u{2014} Peter Neumann AAAAAAA=\n").as_bytes(),
        NoteError::MalformedSignatureLine { line: 2 },
    );
    check(
        format!("{PETER_TEXT}\n\u{2014} a+b AAAAAAA=\n").as_bytes(),
        NoteError::MalformedSignatureLine { line: 1 },
    );
    check(
        format!("{PETER_TEXT}\n\u{2014} short AAAA\n").as_bytes(),
        NoteError::MalformedSignatureLine { line: 1 },
    );
    check(
        format!("{PETER_TEXT}\n\u{2014} PeterNeumann !!!!\n").as_bytes(),
        NoteError::BadBase64 { line: 1 },
    );
    check(
        format!("{PETER_TEXT}\n\u{2014} other AAAAAAA=\n").as_bytes(),
        NoteError::NoTrustedSignature,
    );

    // A known key with a flipped signature bit rejects the whole note, even next to a valid one.
    let mut bad = Note::parse(ok.as_bytes()).expect("parse");
    let mut raw = bad.to_bytes();
    let pos = ok.len() - 10;
    raw[pos] = if raw[pos] == b'A' { b'B' } else { b'A' };
    let want_invalid = NoteError::InvalidSignature {
        name: "PeterNeumann".into(),
        key_id: "c74f20a3".into(),
    };
    check(&raw, want_invalid.clone());
    let mixed = [
        String::from_utf8(raw.clone()).expect("utf8"),
        ENOCH_SIG.to_owned(),
    ]
    .concat();
    assert_eq!(
        open(mixed.as_bytes(), &[peter.clone(), enoch]),
        Err(want_invalid)
    );

    // A known name with another key id: reported as such when nothing else verifies.
    let other = NoteSigner::parse(PETER_SKEY).expect("skey");
    bad.add_signature(&other);
    let impostor = NoteSigner::generate("PeterNeumann").expect("gen");
    let note = sign(PETER_TEXT, &[&impostor]).expect("sign");
    assert!(matches!(
        open(&note, &[peter]),
        Err(NoteError::UnknownKeyId { .. })
    ));
}

#[test]
fn signing_refuses_bad_text() {
    let s = NoteSigner::generate("k").expect("gen");
    for text in ["", "no newline", "blank\n\nline\n", "tab\there\n"] {
        assert!(
            matches!(sign(text, &[&s]), Err(NoteError::InvalidText(_))),
            "{text:?}"
        );
    }
    assert!(matches!(sign("x\n", &[]), Err(NoteError::InvalidText(_))));
    let huge = format!("{}\n", "a".repeat(MAX_NOTE_LEN));
    assert!(matches!(
        sign(&huge, &[&s]),
        Err(NoteError::TooLarge { .. })
    ));
}

#[test]
fn key_string_rejections() {
    assert!(matches!(
        NoteSigner::generate("has space"),
        Err(KeyError::InvalidName(_))
    ));
    assert!(matches!(
        NoteSigner::generate("a+b"),
        Err(KeyError::InvalidName(_))
    ));
    assert!(matches!(
        NoteSigner::generate(""),
        Err(KeyError::InvalidName(_))
    ));
    assert_eq!(
        NoteVerifier::parse("nokey"),
        Err(KeyError::Malformed("missing '+'"))
    );
    assert_eq!(
        NoteVerifier::parse("name+c74f20a3"),
        Err(KeyError::Malformed("missing key id"))
    );
    assert!(matches!(
        NoteVerifier::parse("name+c74f+AQ=="),
        Err(KeyError::Malformed(_))
    ));
    assert_eq!(
        NoteVerifier::parse("name+c74f20a3+!!"),
        Err(KeyError::BadBase64)
    );
    assert_eq!(
        NoteVerifier::parse("name+c74f20a3+"),
        Err(KeyError::WrongLength(0))
    );
    let wrong_id = PETER_VKEY.replace("c74f20a3", "c74f20a4");
    assert_eq!(
        NoteVerifier::parse(&wrong_id),
        Err(KeyError::KeyIdMismatch {
            found: 0xc74f20a4,
            computed: 0xc74f20a3
        })
    );
    // The identity point is a small-order (weak) key.
    let mut weak = vec![1u8, 1];
    weak.extend([0u8; 31]);
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &weak);
    assert_eq!(
        NoteVerifier::parse(&format!("w+00000000+{b64}")),
        Err(KeyError::BadPublicKey)
    );
    assert!(matches!(
        NoteSigner::parse(PETER_VKEY),
        Err(KeyError::Malformed(_))
    ));
    let bad_id = PETER_SKEY.replace("c74f20a3", "00000000");
    assert!(matches!(
        NoteSigner::parse(&bad_id),
        Err(KeyError::KeyIdMismatch { .. })
    ));
    let dbg = format!("{:?}", NoteSigner::parse(PETER_SKEY).expect("skey"));
    assert!(!dbg.contains("AYEKFALV"), "secret in Debug: {dbg}");
}

#[test]
fn checkpoint_body_rejections() {
    let root = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    let ok = Checkpoint::parse(&format!("o\n0\n{root}\next\n")).expect("ok");
    assert_eq!(ok.extensions, vec!["ext".to_owned()]);
    assert_eq!(Checkpoint::parse(&ok.to_text()), Ok(ok));
    let cases = [
        (format!("o\n0\n{root}"), CheckpointError::MissingLine),
        ("o\n0\n".to_owned(), CheckpointError::MissingLine),
        (format!("\n0\n{root}\n"), CheckpointError::EmptyOrigin),
        (
            format!("o\n00\n{root}\n"),
            CheckpointError::BadSize("00".into()),
        ),
        (
            format!("o\n01\n{root}\n"),
            CheckpointError::BadSize("01".into()),
        ),
        (
            format!("o\n-1\n{root}\n"),
            CheckpointError::BadSize("-1".into()),
        ),
        (
            format!("o\n+1\n{root}\n"),
            CheckpointError::BadSize("+1".into()),
        ),
        (
            format!("o\n\n{root}\n"),
            CheckpointError::BadSize(String::new()),
        ),
        (
            format!("o\n18446744073709551616\n{root}\n"),
            CheckpointError::BadSize("18446744073709551616".into()),
        ),
        ("o\n1\nAAAA\n".to_owned(), CheckpointError::BadRoot),
        ("o\n1\n!!\n".to_owned(), CheckpointError::BadRoot),
        (
            format!("o\n1\n{root}\na\n\nb\n"),
            CheckpointError::EmptyExtension(2),
        ),
    ];
    for (text, want) in cases {
        assert_eq!(Checkpoint::parse(&text), Err(want), "{text:?}");
    }
    let signer = NoteSigner::generate("o").expect("gen");
    let empty = Checkpoint {
        origin: String::new(),
        ..Checkpoint::parse(&format!("o\n1\n{root}\n")).expect("ok")
    };
    assert_eq!(empty.sign(&[&signer]), Err(CheckpointError::EmptyOrigin));
    // A note that verifies but whose text is not a checkpoint.
    let note = sign("just text\n", &[&signer]).expect("sign");
    assert_eq!(
        open_checkpoint(&note, "o", &[signer.verifier()]),
        Err(CheckpointError::MissingLine)
    );
    assert!(matches!(
        open_checkpoint(b"garbage", "o", &[signer.verifier()]),
        Err(CheckpointError::Note(NoteError::NoSignatureBlock))
    ));
}
