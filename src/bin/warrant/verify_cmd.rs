//! `warrant verify`: audit an evidence bundle offline.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use warrant_ledger::audit::{self, Status, StoryLine, Verdict};

use crate::cli_io::{Input, Outcome, print_json, read_file};
use crate::ledger_cmd::load_trust;

/// A status padded to four columns.
fn mark(s: Status) -> String {
    format!("{s:<4}")
}

/// Story lines printed in full; past them, only lines a failed or warning check judges.
const STORY_LINES: usize = 200;

/// The governance chain, a line per event with the checks that judge it.
pub(crate) fn print_story(story: &[StoryLine]) {
    let mut left_out = 0;
    for (n, line) in story.iter().enumerate() {
        let flagged = line
            .checks
            .iter()
            .any(|(_, s)| matches!(s, Status::Fail | Status::Warn));
        if n >= STORY_LINES && !flagged {
            left_out += 1;
            continue;
        }
        let checks: Vec<String> = line
            .checks
            .iter()
            .map(|(id, s)| format!("{id} {}", mark(*s).trim_end()))
            .collect();
        println!("  {:<10} {}", line.step, line.text);
        let checks = if checks.is_empty() {
            String::new()
        } else {
            format!("  [{}]", checks.join(", "))
        };
        println!(
            "  {:<10} #{} {} {}{checks}",
            "", line.index, line.time, line.event
        );
    }
    if left_out > 0 {
        println!("  … {left_out} more events, every check on them passed or did not apply");
    }
}

/// The first bytes of a file, at most 32 (to tell a proof from a bundle, and a bundle from
/// anything else before reading it whole).
fn head_of(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read as _;
    let mut head = Vec::with_capacity(32);
    std::fs::File::open(path)
        .with_context(|| format!("reading {}", path.display()))?
        .take(32)
        .read_to_end(&mut head)?;
    Ok(head)
}

/// A bundle file: turned away from its first bytes when it cannot be one (a large file of
/// anything else is not read), else read within the bundle limit.
fn read_bundle(path: &Path) -> Result<Vec<u8>> {
    let head = head_of(path)?;
    if !warrant_ledger::bundle::Bundle::may_start_with(&head[..head.len().min(5)]) {
        anyhow::bail!(
            "{} is not a bundle (it does not start as one)",
            path.display()
        );
    }
    read_file(path, Input::Bundle)
}

/// Each action judged on its own, and each attempt the runtime gate blocked (no action: it
/// used no credential and spent no approval), with what the rules say of it.
fn print_actions(report: &audit::Report) {
    if report.actions.is_empty() {
        return;
    }
    println!("actions");
    for a in report.actions.iter().take(STORY_LINES) {
        let breaks = if a.breaks.is_empty() {
            "breaks no rule".to_owned()
        } else {
            format!("breaks {}", a.breaks.join(", "))
        };
        if a.blocked() {
            println!(
                "  #{} {} blocked by the gate ({}); judged as if it had run, it {breaks}",
                a.index,
                a.action_id,
                a.blocked_by.join(", ")
            );
        } else {
            println!("  #{} {} {}: {breaks}", a.index, a.action_id, a.outcome);
        }
    }
    if report.actions.len() > STORY_LINES {
        println!("  … and {} more", report.actions.len() - STORY_LINES);
    }
}

pub(crate) fn run(
    bundle: &Path,
    entry: Option<&Path>,
    trust_path: &Path,
    trusted: &[PathBuf],
    json: bool,
) -> Result<Outcome> {
    if crate::receipt_cmd::is_proof(&head_of(bundle)?) {
        return crate::receipt_cmd::verify(bundle, entry, trust_path, json);
    }
    let trust = load_trust(trust_path)?;
    let trusted: Vec<Vec<u8>> = trusted
        .iter()
        .map(|p| read_file(p, Input::Note))
        .collect::<Result<_>>()?;
    let bytes = read_bundle(bundle)?;
    let (report, story) =
        audit::verify_with_story(&bytes, &trust, &trusted).context("unusable bundle")?;
    if json {
        print_json(&report)?;
    } else {
        println!("task {}", report.task);
        print_story(&story);
        println!("checks");
        for c in &report.checks {
            println!("  [{}] {} {}", mark(c.status), c.id, c.reason);
            for id in c.events.iter().take(5) {
                println!("         event {id}");
            }
        }
        print_actions(&report);
        println!(
            "verdict: {}",
            if report.verdict == Verdict::Pass {
                "pass"
            } else {
                "FAIL"
            }
        );
    }
    Ok(if report.verdict == Verdict::Pass {
        Outcome::Success
    } else {
        Outcome::Failed(format!("checks failed: {}", report.failed().join(", ")))
    })
}
