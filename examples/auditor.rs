//! The auditor's side: an evidence bundle and the trust policy the auditor pins, nothing
//! else (no network, no access to the ledger). Exit 0 when the verdict passes, 1 when it
//! fails.
//!
//! ```sh
//! cargo run --example service -- /tmp/evidence
//! cargo run --example auditor -- /tmp/evidence     # reads task.bundle and trust.toml
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use warrant_ledger::audit::{self, Verdict};
use warrant_ledger::trust::TrustPolicy;

fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .ok_or("usage: auditor DIR (holding task.bundle and trust.toml)")?;
    let trust = TrustPolicy::from_toml(&std::fs::read_to_string(dir.join("trust.toml"))?)?;
    let bundle = std::fs::read(dir.join("task.bundle"))?;
    // Checkpoints of this log the auditor already holds would go here: the bundle must then
    // prove the log only grew since.
    let held: Vec<Vec<u8>> = Vec::new();
    let report = audit::verify(&bundle, &trust, &held)?;
    println!("{report}");
    Ok(if report.verdict == Verdict::Pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
