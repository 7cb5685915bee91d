//! The governance verdict: every demo scenario fails exactly the check it should, and every
//! compliant task passes every check, at both risk levels.

mod common;

use warrant_ledger::audit::{self, Status, Verdict};
use warrant_ledger::checkpoint::NoteSigner;
use warrant_ledger::demo::{Deployment, Scenario, run_task};

const ORIGIN: &str = "bank.example/agent-ledger";
const T0: u64 = 1_764_320_400_000;

#[test]
fn each_scenario_fails_exactly_its_check() {
    let dep = Deployment::new([9; 32]);
    let dir = tempfile::tempdir().expect("tempdir");
    // Fixed keys, the same as the bundle fuzz target's, so a bundle from here seeds it.
    let log_key =
        NoteSigner::new(ORIGIN, ed25519_dalek::SigningKey::from_bytes(&[7; 32])).expect("key");
    let (ledger, trust) = common::demo_ledger(&dep, dir.path(), log_key, T0);
    let mut runs = Vec::new();
    for (n, scenario) in Scenario::ALL.iter().enumerate() {
        for high_risk in [true, false] {
            if scenario.needs_high_risk() && !high_risk {
                continue; // Only high-risk tasks need approval and MFA.
            }
            let run = run_task(
                &dep,
                *scenario,
                n as u64,
                T0 + 100_000 * n as u64,
                high_risk,
            )
            .expect("task");
            let refs: Vec<&[u8]> = run.events.iter().map(|e| e.bytes()).collect();
            ledger.append_batch(&refs).expect("append");
            runs.push((*scenario, high_risk, run.task));
        }
    }
    for (scenario, high_risk, task) in runs {
        let bundle = ledger.export_bundle(&task, None).expect("export");
        if std::env::var_os("UPDATE_VECTORS").is_some()
            && scenario == Scenario::Compliant
            && high_risk
        {
            let seed = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/fuzz/seeds/bundle_decode/compliant.bundle"
            );
            std::fs::write(seed, &bundle).expect("write fuzz seed");
        }
        let report = audit::verify(&bundle, &trust, &[]).expect("audit");
        let failed = report.failed();
        match scenario.expected_failure() {
            None => {
                assert_eq!(
                    report.verdict,
                    Verdict::Pass,
                    "{scenario:?} high={high_risk}: {report:#?}"
                );
                assert!(
                    report
                        .checks
                        .iter()
                        .all(|c| c.status != Status::Warn || c.id == "A5"),
                    "{scenario:?}: {report:#?}"
                );
                assert_eq!(
                    report.check("B7").expect("B7").status,
                    if high_risk {
                        Status::Pass
                    } else {
                        Status::NotApplicable
                    }
                );
            }
            Some(id) => assert_eq!(
                failed,
                vec![id],
                "{scenario:?} high={high_risk}: {report:#?}"
            ),
        }
        assert_eq!(report.checks.len(), 16, "A1–A5 and B1–B11");
    }
}
