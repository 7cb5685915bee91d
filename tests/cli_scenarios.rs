//! `warrant verify` on scenario bundles: the exit code and the JSON report name the check
//! each departure fails, as the library's report does.
#![cfg(feature = "cli")]

#[path = "common/cli.rs"]
mod cli;
mod common;
mod story;

use story::*;
use warrant_ledger::event::Body;

/// Runs `warrant verify` (with `extra` arguments) on the story's bundle, as the
/// deployment's auditor with its trust file.
fn run_verify(story: &Story, extra: &[&str]) -> std::process::Output {
    let (bundle, doc) = story.export();
    let dir = tempfile::tempdir().expect("tempdir");
    let (b, t) = (
        dir.path().join("task.bundle"),
        dir.path().join("trust.json"),
    );
    std::fs::write(&b, bundle).expect("write bundle");
    std::fs::write(&t, serde_json::to_vec(&doc).expect("json")).expect("write trust");
    let mut args = vec![
        "verify",
        b.to_str().expect("path"),
        "--trust",
        t.to_str().expect("path"),
    ];
    args.extend(extra);
    cli::warrant(&args, b"")
}

/// Runs `warrant verify --json` on the story's bundle: the exit code and the failed checks.
fn verify(story: &Story) -> (Option<i32>, Vec<String>) {
    let out = run_verify(story, &["--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    let failed = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| c["id"].as_str().expect("id").to_owned())
        .collect();
    (out.status.code(), failed)
}

#[test]
fn verify_passes_a_compliant_story_and_names_the_failed_check() {
    assert_eq!(verify(&Story::tweaked(&|_| {})), (Some(0), vec![]));
    let quorum_of_two = Story::tweaked(&|b| {
        if let Body::PolicyDecision(d) = b
            && let Some(a) = &mut d.obligations.approval
        {
            a.quorum = 2;
        }
    });
    assert_eq!(verify(&quorum_of_two), (Some(1), vec!["B7".to_owned()]));
}

#[test]
fn verify_tells_the_chain_as_a_story() {
    let out = run_verify(&Story::tweaked(&|_| {}), &[]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    // The chain in order, human to close, each step with the checks that judge it.
    let steps = [
        "human",
        "agent",
        "decision",
        "approval",
        "credential",
        "action",
        "revocation",
        "close",
    ];
    let at: Vec<usize> = steps
        .iter()
        .map(|s| {
            text.find(&format!("\n  {s:<10} "))
                .unwrap_or_else(|| panic!("{s}: {text}"))
        })
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert!(text.contains("[B1 pass]"), "{text}");
    assert!(text.contains("B7 pass"), "{text}");
    assert!(text.contains("verdict: pass"), "{text}");
}
