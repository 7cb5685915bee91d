//! A witness refusing: each `add-checkpoint` failure the protocol names, and a state
//! directory it cannot use.

use warrant_ledger::checkpoint::NoteSigner;
use warrant_ledger::ledger::TimeBounds;
use warrant_ledger::merkle::HashProfile;
use warrant_ledger::witness::{CosignError, Cosigner, Witness, WitnessError, WitnessedLog};

use crate::common::{self, ORIGIN};
use crate::{Reached, err, reach};

pub(crate) fn reach_all(seen: &mut Reached) {
    let key = || {
        NoteSigner::new(
            "witness.example/w",
            ed25519_dalek::SigningKey::from_bytes(&[5; 32]),
        )
        .expect("key")
    };
    let log = WitnessedLog {
        origin: ORIGIN.into(),
        verifiers: vec![common::log_key().verifier()],
        profile: HashProfile::Sha256,
    };
    let not_a_dir = tempfile::NamedTempFile::new().expect("file");
    reach!(
        seen,
        WitnessError::Storage,
        err(Witness::open(
            &not_a_dir.path().join("state"),
            key(),
            vec![log.clone()]
        ))
    );
    let dir = tempfile::tempdir().expect("dir");
    let w = Witness::open(dir.path(), key(), vec![log]).expect("witness");
    let ld = tempfile::tempdir().expect("dir");
    let ledger = common::sample_ledger(ld.path(), HashProfile::Sha256)
        .with_time_bounds(TimeBounds::history());
    let note = ledger.checkpoint().expect("the empty log's");
    let with = |head: &str, note: &[u8]| [head.as_bytes(), note].concat();
    reach!(
        seen,
        WitnessError::Malformed,
        err(w.add_checkpoint(b"old x\n\n"))
    );
    reach!(
        seen,
        WitnessError::Checkpoint,
        err(w.add_checkpoint(b"old 0\n\nno signature"))
    );
    let other = NoteSigner::new(
        "example.com/other",
        ed25519_dalek::SigningKey::from_bytes(&[6; 32]),
    )
    .expect("key");
    let foreign = warrant_ledger::checkpoint::sign(
        "example.com/other\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        &[&other],
    )
    .expect("sign");
    reach!(
        seen,
        WitnessError::UnknownLog,
        err(w.add_checkpoint(&with("old 0\n\n", &foreign)))
    );
    let text = String::from_utf8_lossy(&note)
        .lines()
        .take(3)
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    let impostor =
        NoteSigner::new(ORIGIN, ed25519_dalek::SigningKey::from_bytes(&[7; 32])).expect("key");
    let forged = warrant_ledger::checkpoint::sign(&text, &[&impostor]).expect("sign");
    reach!(
        seen,
        WitnessError::NotSigned,
        err(w.add_checkpoint(&with("old 0\n\n", &forged)))
    );
    let proof_line = "old 0\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n\n";
    reach!(
        seen,
        WitnessError::BadProof,
        err(w.add_checkpoint(&with(proof_line, &note)))
    );
    w.add_checkpoint(&with("old 0\n\n", &note))
        .expect("the empty tree, taken on trust");
    let event = warrant_ledger::envelope::sign(&common::sample_events()[1], &common::test_key())
        .expect("sign");
    ledger.append(event.bytes()).expect("append");
    let grown = ledger.checkpoint().expect("size 1");
    // The witness holds size 0, not 1.
    reach!(
        seen,
        WitnessError::Conflict,
        err(w.add_checkpoint(&with("old 1\n\n", &grown)))
    );
    cosign_errors(seen, &ledger, &w);
}

/// What a log gets back from a witness: each way [`Ledger::witness`] reports a refusal.
fn cosign_errors(seen: &mut Reached, ledger: &warrant_ledger::ledger::Ledger, w: &Witness) {
    struct Answer(Result<Vec<u8>, CosignError>);
    impl Cosigner for Answer {
        fn name(&self) -> String {
            "test".into()
        }
        fn add_checkpoint(&self, _: &[u8]) -> Result<Vec<u8>, CosignError> {
            self.0.clone()
        }
    }
    let refusal = |c: &dyn Cosigner| {
        let outcome = ledger.witness(&[c]).expect("witness");
        outcome.refused.into_iter().next().expect("refused").1
    };
    // The in-process witness holds the empty tree: asked from size 0, it cosigns.
    assert!(ledger.witness(&[w]).expect("witness").refused.is_empty());
    reach!(
        seen,
        CosignError::Refused,
        refusal(&Answer(Err(CosignError::Refused {
            status: 403,
            size: None,
            message: "no".into()
        })))
    );
    reach!(
        seen,
        CosignError::Unreachable,
        refusal(&Answer(Err(CosignError::Unreachable("down".into()))))
    );
    reach!(
        seen,
        CosignError::BadAnswer,
        refusal(&Answer(Ok(b"not a signature line\n".to_vec())))
    );
    let ahead = |size| {
        Answer(Err(CosignError::Refused {
            status: 409,
            size: Some(size),
            message: format!("{size}\n"),
        }))
    };
    reach!(seen, CosignError::Ahead, refusal(&ahead(ledger.size() + 1)));
    // A witness that holds this very size, asked from it, and still conflicts: a fork.
    let same = ahead(ledger.size());
    struct AtSize(Answer, u64);
    impl Cosigner for AtSize {
        fn name(&self) -> String {
            "at-size".into()
        }
        fn add_checkpoint(&self, b: &[u8]) -> Result<Vec<u8>, CosignError> {
            self.0.add_checkpoint(b)
        }
        fn size_hint(&self) -> u64 {
            self.1
        }
    }
    reach!(
        seen,
        CosignError::Fork,
        refusal(&AtSize(same, ledger.size()))
    );
}
