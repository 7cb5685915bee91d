//! The standard proof formats refused: each `ReceiptError`, and the ledger's refusal to
//! make them for a BLAKE3 log.

use warrant_ledger::checkpoint::{Checkpoint, CosignerVerifier, NoteSigner};
use warrant_ledger::ledger::{Ledger, LedgerError, TimeBounds};
use warrant_ledger::merkle::HashProfile;
use warrant_ledger::receipt::{ReceiptError, TlogProof, verify_cose_receipt, verify_tlog_proof};
use warrant_ledger::trust::{LogEntry, TrustDocument, TrustPolicy};

use crate::common::{self, ORIGIN};
use crate::{Reached, err, reach};

fn auditor(hash: &str, witnesses: Option<String>) -> TrustPolicy {
    let mut doc: TrustDocument = toml::from_str("version = 1\n").expect("doc");
    doc.logs.push(LogEntry {
        origin: ORIGIN.into(),
        hash: hash.into(),
        verifier_key: common::log_key().verifier().to_string(),
        until_size: None,
        rotated: Vec::new(),
    });
    doc.witness_policy = witnesses;
    TrustPolicy::try_from(doc).expect("trust")
}

fn ledger(dir: &std::path::Path, profile: HashProfile) -> (Ledger, Vec<Vec<u8>>) {
    let ledger = Ledger::create(dir, ORIGIN, profile, common::log_key(), common::trust())
        .expect("create")
        .with_time_bounds(TimeBounds::history());
    let evs = common::events(4, 1);
    let refs: Vec<&[u8]> = evs.iter().map(Vec::as_slice).collect();
    ledger.append_batch(&refs).expect("append");
    ledger.checkpoint().expect("checkpoint");
    (ledger, evs)
}

pub(crate) fn reach_all(seen: &mut Reached) {
    let tmp = tempfile::tempdir().expect("dir");
    let (blake, _) = ledger(&tmp.path().join("b"), HashProfile::Blake3);
    reach!(seen, LedgerError::NotSha256, err(blake.tlog_proof(0)));
    let (sha, evs) = ledger(&tmp.path().join("s"), HashProfile::Sha256);
    let trust = auditor("sha256", None);
    let proof = sha.tlog_proof(1).expect("proof");
    let receipt = sha.cose_receipt(1).expect("receipt");
    reach!(
        seen,
        ReceiptError::Malformed,
        err(verify_tlog_proof(
            b"c2sp.org/tlog-proof@v2\n",
            &evs[1],
            &trust
        ))
    );
    reach!(
        seen,
        ReceiptError::NotSha256,
        err(verify_tlog_proof(&proof, &evs[1], &auditor("blake3", None)))
    );
    let stranger: TrustPolicy = TrustPolicy::from_toml("version = 1\n").expect("empty");
    reach!(
        seen,
        ReceiptError::UnknownLog,
        err(verify_tlog_proof(&proof, &evs[1], &stranger))
    );
    let impostor =
        NoteSigner::new(ORIGIN, ed25519_dalek::SigningKey::from_bytes(&[0x3c; 32])).expect("key");
    let forged = TlogProof {
        extra: None,
        index: 0,
        path: Vec::new(),
        checkpoint: Checkpoint {
            origin: ORIGIN.into(),
            size: 1,
            root: HashProfile::Sha256.leaf_hash(&evs[0]),
            extensions: vec![],
        }
        .sign(&[&impostor])
        .expect("sign"),
    };
    reach!(
        seen,
        ReceiptError::Checkpoint,
        err(verify_tlog_proof(&forged.to_text(), &evs[0], &trust))
    );
    let w = NoteSigner::generate("witness.example/w").expect("key");
    let quorum = auditor(
        "sha256",
        Some(format!(
            "witness w {}\nquorum w\n",
            CosignerVerifier::from(&w)
        )),
    );
    reach!(
        seen,
        ReceiptError::BelowQuorum,
        err(verify_tlog_proof(&proof, &evs[1], &quorum))
    );
    reach!(
        seen,
        ReceiptError::Unwitnessed,
        err(verify_cose_receipt(&receipt, &evs[1], &quorum))
    );
    reach!(
        seen,
        ReceiptError::NotIncluded,
        err(verify_tlog_proof(&proof, &evs[2], &trust))
    );
    let mut bad = receipt.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x01;
    reach!(
        seen,
        ReceiptError::BadSignature,
        err(verify_cose_receipt(&bad, &evs[1], &trust))
    );
}
