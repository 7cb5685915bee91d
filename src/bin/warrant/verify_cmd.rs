//! `warrant verify`: audit an evidence bundle offline.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use warrant_ledger::audit::{self, Status, Verdict};

use crate::cli_io::{Outcome, print_json, read_file};
use crate::ledger_cmd::load_trust;

fn mark(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Fail => "FAIL",
        Status::Warn => "warn",
        Status::NotApplicable => "n/a ",
    }
}

pub fn run(bundle: &Path, trust: &Path, trusted: &[PathBuf], json: bool) -> Result<Outcome> {
    let trust = load_trust(trust)?;
    let trusted: Vec<Vec<u8>> = trusted
        .iter()
        .map(|p| read_file(p))
        .collect::<Result<_>>()?;
    let bytes = read_file(bundle)?;
    let report = audit::verify(&bytes, &trust, &trusted).context("unusable bundle")?;
    if json {
        print_json(&report)?;
    } else {
        println!("task {}", report.task);
        for c in &report.checks {
            println!("  [{}] {} {}", mark(c.status), c.id, c.reason);
            for id in c.events.iter().take(5) {
                println!("         event {id}");
            }
        }
        println!(
            "verdict: {}",
            if report.verdict == Verdict::Pass {
                "pass"
            } else {
                "FAIL"
            }
        );
    }
    Ok(match report.verdict {
        Verdict::Pass => Outcome::Success,
        Verdict::Fail => Outcome::Failed(format!("checks failed: {}", report.failed().join(", "))),
    })
}
