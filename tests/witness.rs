//! The C2SP `tlog-witness` protocol's checks, on real ledgers: a witness cosigns a
//! checkpoint only when it extends the last one it cosigned, refuses the second head of a
//! forked log (a split view), answers each malformed or unsigned request with its status,
//! and keeps its state across restarts.

mod common;

use std::path::Path;

use common::{ORIGIN, events, log_key, trust};
use warrant_ledger::checkpoint::{Note, NoteSigner, cosigned_time};
use warrant_ledger::ledger::{Ledger, TimeBounds};
use warrant_ledger::merkle::HashProfile;
use warrant_ledger::witness::{Witness, WitnessError, WitnessedLog};

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn ledger(dir: &Path) -> Ledger {
    Ledger::create(dir, ORIGIN, HashProfile::Sha256, log_key(), trust())
        .expect("create")
        .with_time_bounds(TimeBounds::history())
}

fn append(ledger: &Ledger, evs: &[Vec<u8>]) -> Vec<u8> {
    let refs: Vec<&[u8]> = evs.iter().map(Vec::as_slice).collect();
    ledger.append_batch(&refs).expect("append");
    ledger.checkpoint().expect("checkpoint")
}

fn witness_key() -> NoteSigner {
    NoteSigner::new(
        "witness.example/w1",
        ed25519_dalek::SigningKey::from_bytes(&[0x77; 32]),
    )
    .expect("key")
}

fn witness(dir: &Path) -> Witness {
    let log = WitnessedLog {
        origin: ORIGIN.into(),
        verifiers: vec![log_key().verifier()],
        profile: HashProfile::Sha256,
    };
    Witness::open(dir, witness_key(), vec![log]).expect("witness")
}

/// An `add-checkpoint` body from `old` to the ledger's checkpoint `note`.
fn body(ledger: &Ledger, old: u64, note: &[u8]) -> Vec<u8> {
    let size = ledger.size();
    let mut out = format!("old {old}\n").into_bytes();
    if old > 0 && old < size {
        for h in ledger.prove_consistency(old, size).expect("proof").path {
            out.extend_from_slice(format!("{}\n", b64(h.as_bytes())).as_bytes());
        }
    }
    out.push(b'\n');
    out.extend_from_slice(note);
    out
}

/// The cosignature's time, checked with the witness's verifier key.
fn cosigned(note: &[u8], lines: &[u8]) -> u64 {
    let mut whole = note.to_vec();
    whole.extend_from_slice(lines);
    let parsed = Note::parse(&whole).expect("note with the cosignature");
    cosigned_time(
        &witness_key().verifier(),
        parsed.text(),
        parsed.signatures(),
    )
    .expect("valid")
    .expect("present")
}

#[test]
fn a_witness_cosigns_only_what_extends_what_it_cosigned() {
    let (ld, wd) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let ledger = ledger(ld.path());
    let w = witness(wd.path());
    let evs = events(30, 3);
    let first = append(&ledger, &evs[..10]);
    assert!(
        cosigned(
            &first,
            &w.add_checkpoint(&body(&ledger, 0, &first)).expect("first")
        ) > 0
    );
    assert_eq!(w.size(ORIGIN).expect("size"), 10);
    // The same checkpoint again: cosigned again.
    w.add_checkpoint(&body(&ledger, 10, &first))
        .expect("same again");
    let second = append(&ledger, &evs[10..25]);
    // A stale old size is a conflict naming the size the witness holds.
    assert!(matches!(
        w.add_checkpoint(&body(&ledger, 0, &second)),
        Err(WitnessError::Conflict { size: 10 })
    ));
    let lines = w
        .add_checkpoint(&body(&ledger, 10, &second))
        .expect("extends");
    cosigned(&second, &lines);
    // A proof from the wrong size does not verify.
    let third = append(&ledger, &evs[25..]);
    let mut wrong = body(&ledger, 25, &third);
    wrong.splice(..7, b"old 25\n".iter().copied());
    let mut from_ten = b"old 25\n".to_vec();
    for h in ledger.prove_consistency(10, 30).expect("proof").path {
        from_ten.extend_from_slice(format!("{}\n", b64(h.as_bytes())).as_bytes());
    }
    from_ten.push(b'\n');
    from_ten.extend_from_slice(&third);
    let refused = w.add_checkpoint(&from_ten).expect_err("bad proof");
    assert!(matches!(refused, WitnessError::BadProof), "{refused:?}");
    assert_eq!(refused.status(), 422);
    // The state survives a restart.
    drop(w);
    let w = witness(wd.path());
    assert_eq!(w.size(ORIGIN).expect("size"), 25);
    w.add_checkpoint(&wrong).expect("the right proof");
}

/// The operator keeps two branches of the log under one key (a split view). The witness
/// cosigned branch A; it refuses branch B's head at the same size and at a larger one.
#[test]
fn a_witness_refuses_the_other_branch_of_a_fork() {
    let (a_dir, b_dir, wd) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let (a, b) = (ledger(a_dir.path()), ledger(b_dir.path()));
    let common_part = events(8, 2);
    let (only_a, only_b) = (events(4, 1), events(6, 1));
    append(&a, &common_part);
    let shared = append(&b, &common_part);
    let w = witness(wd.path());
    w.add_checkpoint(&body(&b, 0, &shared))
        .expect("the shared prefix");
    let a12 = append(&a, &only_a);
    w.add_checkpoint(&body(&a, 8, &a12)).expect("branch A");
    let b12 = append(&b, &only_b[..4]);
    let same_size = w.add_checkpoint(&body(&b, 8, &b12));
    assert!(
        matches!(same_size, Err(WitnessError::Conflict { size: 12 })),
        "{same_size:?}"
    );
    let conflict = w
        .add_checkpoint(&body(&b, 12, &b12))
        .expect_err("fork at one size");
    assert!(matches!(conflict, WitnessError::Conflict { size: 12 }));
    assert_eq!(conflict.status(), 409);
    let b14 = append(&b, &only_b[4..]);
    let larger = w
        .add_checkpoint(&body(&b, 12, &b14))
        .expect_err("fork, larger");
    assert!(matches!(larger, WitnessError::BadProof), "{larger:?}");
    assert_eq!(w.size(ORIGIN).expect("size"), 12, "branch A's head is kept");
}

#[test]
fn each_refusal_has_its_status_and_changes_nothing() {
    let (ld, wd) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let ledger = ledger(ld.path());
    let w = witness(wd.path());
    let note = append(&ledger, &events(5, 1));
    // Signed by another key under the log's name.
    let impostor =
        NoteSigner::new(ORIGIN, ed25519_dalek::SigningKey::from_bytes(&[9; 32])).expect("key");
    let text = Note::parse(&note).expect("note").text().to_owned();
    let forged = warrant_ledger::checkpoint::sign(&text, &[&impostor]).expect("sign");
    let other_origin = warrant_ledger::checkpoint::sign(
        &text.replacen(ORIGIN, "example.com/other", 1),
        &[&NoteSigner::new(
            "example.com/other",
            ed25519_dalek::SigningKey::from_bytes(&[4; 32]),
        )
        .expect("key")],
    )
    .expect("sign");
    let cases: Vec<(Vec<u8>, u16)> = vec![
        (b"hello".to_vec(), 400),
        (body(&ledger, 6, &note), 400),
        (b"old 0\n\nnot a note".to_vec(), 400),
        (body(&ledger, 0, &forged), 403),
        (body(&ledger, 0, &other_origin), 404),
        (body(&ledger, 3, &note), 409),
    ];
    for (request, status) in cases {
        let e = w.add_checkpoint(&request).expect_err("refused");
        assert_eq!(e.status(), status, "{e}");
        assert_eq!(w.size(ORIGIN).expect("size"), 0, "{e}");
    }
    let mut with_proof = b"old 0\n".to_vec();
    with_proof.extend_from_slice(format!("{}\n\n", b64(&[1; 32])).as_bytes());
    with_proof.extend_from_slice(&note);
    assert_eq!(
        w.add_checkpoint(&with_proof)
            .expect_err("proof from 0")
            .status(),
        422
    );
    w.add_checkpoint(&body(&ledger, 0, &note))
        .expect("the honest one still passes");
}
