//! Notes, keys and checkpoints that are malformed, forged or signed by the wrong party.

use base64::Engine as _;
use warrant_ledger::checkpoint::{
    Checkpoint, CheckpointError, KeyError, Note, NoteError, NoteSigner, NoteVerifier, open,
    open_checkpoint, sign,
};

use crate::{Reached, err, reach};

pub(crate) fn reach_all(seen: &mut Reached) {
    note_errors(seen);
    key_errors(seen);
    checkpoint_errors(seen);
}

fn note_errors(seen: &mut Reached) {
    let signer = NoteSigner::generate("example.com/log").expect("key");
    let v = [signer.verifier()];
    let text = "example.com/log\n1\n";
    let good = sign(text, &[&signer]).expect("sign");
    let good = String::from_utf8(good).expect("utf-8");
    let sig_line = &good[text.len() + 1..];
    let open_str = |s: &str| err(open(s.as_bytes(), &v));
    let huge = vec![b'a'; 1 << 20];
    reach!(seen, NoteError::TooLarge, err(open(&huge, &v)));
    reach!(seen, NoteError::NotUtf8, err(open(b"text\xff\n\n", &v)));
    reach!(
        seen,
        NoteError::ControlCharacter,
        open_str("te\rxt\n\n\u{2014} a AAAAAAA=\n")
    );
    reach!(seen, NoteError::NoSignatureBlock, open_str(text));
    reach!(
        seen,
        NoteError::MalformedSignatureLine,
        open_str(&format!("{text}\n- a AAAA\n"))
    );
    reach!(
        seen,
        NoteError::BadBase64,
        open_str(&format!("{text}\n\u{2014} a !!!!\n"))
    );
    reach!(
        seen,
        NoteError::TooManySignatures,
        open_str(&format!("{text}\n{}", sig_line.repeat(101)))
    );
    let mut forged = good.clone().into_bytes();
    let pos = forged.len() - 10;
    forged[pos] = if forged[pos] == b'A' { b'B' } else { b'A' };
    reach!(seen, NoteError::InvalidSignature, err(open(&forged, &v)));
    let impostor = NoteSigner::generate("example.com/log").expect("key");
    let by_impostor = sign(text, &[&impostor]).expect("sign");
    reach!(seen, NoteError::UnknownKeyId, err(open(&by_impostor, &v)));
    let other = NoteSigner::generate("other").expect("key");
    let by_other = sign(text, &[&other]).expect("sign");
    reach!(
        seen,
        NoteError::NoTrustedSignature,
        err(open(&by_other, &v))
    );
    reach!(
        seen,
        NoteError::InvalidText,
        err(sign("no newline", &[&signer]))
    );
    let _ = Note::parse(good.as_bytes()).expect("the honest note parses");
}

fn key_errors(seen: &mut Reached) {
    let signer = NoteSigner::generate("name").expect("key");
    let vkey = signer.verifier().to_string();
    reach!(
        seen,
        KeyError::InvalidName,
        err(NoteSigner::generate("has space"))
    );
    reach!(seen, KeyError::Malformed, err(NoteVerifier::parse("nokey")));
    reach!(
        seen,
        KeyError::BadBase64,
        err(NoteVerifier::parse("name+c74f20a3+!!"))
    );
    let unknown_alg = {
        let mut raw = vec![0x65];
        raw.extend(signer.verifier().key().as_bytes());
        base64::engine::general_purpose::STANDARD.encode(raw)
    };
    reach!(
        seen,
        KeyError::UnknownAlgorithm,
        err(NoteVerifier::parse(&format!("name+00000000+{unknown_alg}")))
    );
    reach!(
        seen,
        KeyError::WrongLength,
        err(NoteVerifier::parse("name+c74f20a3+"))
    );
    let weak = {
        let mut raw = vec![0x01, 0x01];
        raw.extend([0u8; 31]);
        base64::engine::general_purpose::STANDARD.encode(raw)
    };
    reach!(
        seen,
        KeyError::BadPublicKey,
        err(NoteVerifier::parse(&format!("w+00000000+{weak}")))
    );
    let id = format!("{:08x}", signer.key_id());
    let wrong_id = vkey.replace(
        &id,
        if id == "00000000" {
            "00000001"
        } else {
            "00000000"
        },
    );
    reach!(
        seen,
        KeyError::KeyIdMismatch,
        err(NoteVerifier::parse(&wrong_id))
    );
}

fn checkpoint_errors(seen: &mut Reached) {
    let signer = NoteSigner::generate("o").expect("key");
    let root = base64::engine::general_purpose::STANDARD.encode([0u8; 32]);
    let parse = |s: &str| err(Checkpoint::parse(s));
    let not_a_checkpoint = sign("just text\n", &[&signer]).expect("sign");
    reach!(
        seen,
        CheckpointError::Note,
        err(open_checkpoint(b"not a note", "o", &[signer.verifier()]))
    );
    reach!(seen, CheckpointError::MissingLine, parse("o\n0\n"));
    reach!(
        seen,
        CheckpointError::EmptyOrigin,
        parse(&format!("\n0\n{root}\n"))
    );
    let ok = Checkpoint::parse(&format!("o\n1\n{root}\n")).expect("ok");
    let note = ok.sign(&[&signer]).expect("sign");
    reach!(
        seen,
        CheckpointError::OriginMismatch,
        err(open_checkpoint(
            &note,
            "another/origin",
            &[signer.verifier()]
        ))
    );
    reach!(
        seen,
        CheckpointError::BadSize,
        parse(&format!("o\n01\n{root}\n"))
    );
    reach!(seen, CheckpointError::BadRoot, parse("o\n1\nAAAA\n"));
    reach!(
        seen,
        CheckpointError::EmptyExtension,
        parse(&format!("o\n1\n{root}\na\n\nb\n"))
    );
    // A note that verifies but whose text is not a checkpoint: a missing line.
    assert!(open_checkpoint(&not_a_checkpoint, "o", &[signer.verifier()]).is_err());
}
