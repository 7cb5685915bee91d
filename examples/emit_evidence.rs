//! A service emitting evidence: the token service of a deployment records a just-in-time
//! credential in an embedded ledger, and an auditor verifies the task offline.
//!
//! Run: `cargo run --example emit_evidence`

use warrant_ledger::audit;
use warrant_ledger::checkpoint::NoteSigner;
use warrant_ledger::demo::{Deployment, Scenario, registration_event, run_task};
use warrant_ledger::event::Timestamp;
use warrant_ledger::ledger::Ledger;
use warrant_ledger::merkle::HashProfile;
use warrant_ledger::trust::TrustPolicy;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("warrant-example-{}", std::process::id()));
    let origin = "bank.example/agent-ledger";

    // Keys: one per service (derived from a seed here), one for the log.
    let services = Deployment::new(warrant_ledger::keys::random_bytes());
    let log_key = NoteSigner::generate(origin)?;
    let trust = TrustPolicy::try_from(services.trust_document(
        origin,
        "sha256",
        &log_key.verifier().to_string(),
    ))?;
    let ledger = Ledger::create(&dir, origin, HashProfile::Sha256, log_key, trust.clone())?;

    // The policy registry registers the policy version decisions will cite.
    let registration = registration_event(&services, Timestamp::now().minus_ms(60_000))?;
    ledger.append(registration.bytes())?;

    // Each service signs its own events; the ledger verifies and appends them durably.
    // (`run_task` plays every service of one task; a real service emits its own events with
    // an `EmitterChain` and `Ledger::append`.)
    let task = run_task(
        &services,
        Scenario::Compliant,
        0,
        Timestamp::now().minus_ms(50_000),
        true,
    )?;
    for event in &task.events {
        let index = ledger.append(event.bytes())?;
        println!(
            "{index:>3} {:<18} by {}",
            event.event().kind().name(),
            event.event().emitter
        );
    }

    // Later, offline: the auditor gets one file and pins only the trust policy.
    let bundle = ledger.export_bundle(&task.task, None)?;
    let report = audit::verify(&bundle, &trust, &[])?;
    println!(
        "audit of task {}: {:?}, {} checks",
        report.task,
        report.verdict,
        report.checks.len()
    );
    assert_eq!(report.verdict, audit::Verdict::Pass, "{report:#?}");
    drop(ledger);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
