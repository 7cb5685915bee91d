//! The standard proof exports: a C2SP tlog-proof and a COSE Receipt of each entry of a
//! SHA-256 log verify with the entry and the trust policy alone; any change to what they
//! commit to is refused; a BLAKE3 log gets a typed refusal, never a mislabelled proof.

mod common;

use common::{ORIGIN, events, log_key, trust};
use warrant_ledger::checkpoint::{CosignerVerifier, NoteSigner};
use warrant_ledger::ledger::{Ledger, LedgerError, TimeBounds};
use warrant_ledger::merkle::HashProfile;
use warrant_ledger::receipt::{ReceiptError, verify_cose_receipt, verify_tlog_proof};
use warrant_ledger::trust::{LogEntry, TrustPolicy};
use warrant_ledger::witness::{Witness, WitnessedLog};

fn ledger(dir: &std::path::Path, profile: HashProfile, n: usize) -> (Ledger, Vec<Vec<u8>>) {
    let ledger = Ledger::create(dir, ORIGIN, profile, log_key(), trust())
        .expect("create")
        .with_time_bounds(TimeBounds::history());
    let evs = events(n, 3);
    let refs: Vec<&[u8]> = evs.iter().map(Vec::as_slice).collect();
    ledger.append_batch(&refs).expect("append");
    ledger.checkpoint().expect("checkpoint");
    (ledger, evs)
}

/// An auditor pinning the log as `hash`, with an optional witness policy.
fn auditor(hash: &str, witnesses: Option<String>) -> TrustPolicy {
    let mut doc: warrant_ledger::trust::TrustDocument =
        toml::from_str("version = 1\n").expect("doc");
    doc.logs.push(LogEntry {
        origin: ORIGIN.into(),
        hash: hash.into(),
        verifier_key: log_key().verifier().to_string(),
        until_size: None,
        rotated: Vec::new(),
    });
    doc.witness_policy = witnesses;
    TrustPolicy::try_from(doc).expect("trust")
}

#[test]
fn every_entry_has_a_tlog_proof_and_a_receipt_that_verify() {
    let tmp = tempfile::tempdir().expect("dir");
    let (ledger, evs) = ledger(tmp.path(), HashProfile::Sha256, 37);
    let trust = auditor("sha256", None);
    for (i, entry) in evs.iter().enumerate() {
        let i = i as u64;
        let proof = ledger.tlog_proof(i).expect("tlog-proof");
        assert!(proof.starts_with(b"c2sp.org/tlog-proof@v1\nindex "));
        let got = verify_tlog_proof(&proof, entry, &trust).expect("verifies");
        assert_eq!((got.index, got.head.size), (i, 37));
        let receipt = ledger.cose_receipt(i).expect("receipt");
        let got = verify_cose_receipt(&receipt, entry, &trust).expect("verifies");
        assert_eq!(
            (got.index, got.head.size, got.origin.as_str()),
            (i, 37, ORIGIN)
        );
        // Another entry's bytes under this proof: not included.
        let other = &evs[(i as usize + 1) % evs.len()];
        assert!(matches!(
            verify_tlog_proof(&proof, other, &trust),
            Err(ReceiptError::NotIncluded { .. })
        ));
        assert!(verify_cose_receipt(&receipt, other, &trust).is_err());
    }
}

#[test]
fn any_change_to_what_a_proof_commits_to_is_refused() {
    let tmp = tempfile::tempdir().expect("dir");
    let (ledger, evs) = ledger(tmp.path(), HashProfile::Sha256, 11);
    let trust = auditor("sha256", None);
    let receipt = ledger.cose_receipt(5).expect("receipt");
    for bit in 0..receipt.len() * 8 {
        let mut bad = receipt.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(
            verify_cose_receipt(&bad, &evs[5], &trust).is_err(),
            "bit {bit} of the receipt"
        );
    }
    // The tlog-proof: every byte up to the checkpoint's signature lines (lines by keys the
    // auditor does not pin are ignored, as signed-note requires).
    let proof = ledger.tlog_proof(5).expect("proof");
    let text_end = proof
        .windows(3)
        .rposition(|w| w == b"\n\n\xe2")
        .expect("sig block")
        + 2;
    let sig_line_end = text_end
        + proof[text_end..]
            .iter()
            .position(|&b| b == b'\n')
            .expect("line");
    for at in 0..sig_line_end {
        let mut bad = proof.clone();
        bad[at] ^= 0x01;
        assert!(
            verify_tlog_proof(&bad, &evs[5], &trust).is_err(),
            "byte {at} of the tlog-proof"
        );
    }
    // Trailing bytes after a receipt, an attached payload: refused by the strict reader.
    let mut longer = receipt.clone();
    longer.push(0);
    assert!(matches!(
        verify_cose_receipt(&longer, &evs[5], &trust),
        Err(ReceiptError::Malformed(_))
    ));
}

#[test]
fn a_blake3_log_has_no_standard_proof_and_says_so() {
    let tmp = tempfile::tempdir().expect("dir");
    let (blake, _) = ledger(&tmp.path().join("b"), HashProfile::Blake3, 4);
    assert!(matches!(
        blake.tlog_proof(0),
        Err(LedgerError::NotSha256(_))
    ));
    assert!(matches!(
        blake.cose_receipt(0),
        Err(LedgerError::NotSha256(_))
    ));
    // A SHA-256 proof checked by an auditor who pinned the origin as BLAKE3: refused, not
    // silently verified with the other hash.
    let (sha, evs) = ledger(&tmp.path().join("s"), HashProfile::Sha256, 4);
    let pinned_blake3 = auditor("blake3", None);
    assert!(matches!(
        verify_tlog_proof(&sha.tlog_proof(1).expect("proof"), &evs[1], &pinned_blake3),
        Err(ReceiptError::NotSha256(_))
    ));
    assert!(matches!(
        verify_cose_receipt(
            &sha.cose_receipt(1).expect("receipt"),
            &evs[1],
            &pinned_blake3
        ),
        Err(ReceiptError::UnknownLog(_))
    ));
}

#[test]
fn a_tlog_proof_carries_the_witness_quorum_and_a_receipt_cannot() {
    let tmp = tempfile::tempdir().expect("dir");
    let (ledger, evs) = ledger(&tmp.path().join("l"), HashProfile::Sha256, 9);
    let w = NoteSigner::new(
        "witness.example/w1",
        ed25519_dalek::SigningKey::from_bytes(&[0x61; 32]),
    )
    .expect("key");
    let witness = Witness::open(
        &tmp.path().join("w"),
        w.clone(),
        vec![WitnessedLog {
            origin: ORIGIN.into(),
            verifiers: vec![log_key().verifier()],
            profile: HashProfile::Sha256,
        }],
    )
    .expect("witness");
    let policy = Some(format!(
        "witness w1 {}\nquorum w1\n",
        CosignerVerifier::from(&w)
    ));
    let trust = auditor("sha256", policy);
    let before = ledger.tlog_proof(2).expect("proof");
    assert!(matches!(
        verify_tlog_proof(&before, &evs[2], &trust),
        Err(ReceiptError::BelowQuorum(_))
    ));
    ledger.witness(&[&witness]).expect("witnessed");
    let after = ledger.tlog_proof(2).expect("proof");
    let got = verify_tlog_proof(&after, &evs[2], &trust).expect("witnessed proof");
    assert_eq!(got.cosigned, ["w1"]);
    assert!(matches!(
        verify_cose_receipt(&ledger.cose_receipt(2).expect("receipt"), &evs[2], &trust),
        Err(ReceiptError::Unwitnessed)
    ));
}

#[test]
fn a_receipt_signed_before_a_rotation_verifies_after_it() {
    let tmp = tempfile::tempdir().expect("dir");
    let (ledger, evs) = ledger(tmp.path(), HashProfile::Sha256, 6);
    let old_receipt = ledger.cose_receipt(3).expect("receipt");
    let new =
        NoteSigner::new(ORIGIN, ed25519_dalek::SigningKey::from_bytes(&[0x12; 32])).expect("key");
    let (ledger, bridge) = ledger.rotate_log_key(new.clone()).expect("rotate");
    let refs: Vec<&[u8]> = evs.iter().map(Vec::as_slice).collect();
    let more = events(12, 3);
    let extra: Vec<&[u8]> = more[6..].iter().map(Vec::as_slice).collect();
    ledger.append_batch(&extra).expect("append");
    ledger.checkpoint().expect("checkpoint");
    let new_receipt = ledger.cose_receipt(3).expect("receipt");
    let mut doc: warrant_ledger::trust::TrustDocument =
        toml::from_str("version = 1\n").expect("doc");
    doc.logs.push(LogEntry {
        origin: ORIGIN.into(),
        hash: "sha256".into(),
        verifier_key: log_key().verifier().to_string(),
        until_size: Some(bridge),
        rotated: vec![warrant_ledger::trust::LogKeyEntry {
            verifier_key: new.verifier().to_string(),
            from_size: bridge,
            until_size: None,
        }],
    });
    let trust = TrustPolicy::try_from(doc).expect("trust");
    verify_cose_receipt(&old_receipt, refs[3], &trust).expect("old key, in its window");
    verify_cose_receipt(&new_receipt, refs[3], &trust).expect("new key, in its window");
}
