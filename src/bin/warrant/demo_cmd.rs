//! `warrant demo`: governed agent tasks end to end on an embedded ledger, audited offline.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, Result};
use std::sync::Arc;
use warrant_ledger::audit::{self, Report, Status, Verdict};
use warrant_ledger::checkpoint::NoteSigner;
use warrant_ledger::demo::{Deployment, Scenario, registered_policy, registration_event, run_task};
use warrant_ledger::event::Timestamp;

use warrant_ledger::ledger::{Ledger, SystemClock, TimeBounds};
use warrant_ledger::merkle::HashProfile;
use warrant_ledger::trust::TrustPolicy;

use crate::cli_io::{Outcome, write_secret};
use crate::ledger_cmd::{load_trust, progress};

const ORIGIN: &str = "bank.example/agent-ledger";

fn print_report(report: &Report) {
    let line = |s: Status| {
        report
            .checks
            .iter()
            .filter(|c| c.status == s)
            .map(|c| c.id.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!("  checks     pass: {}", line(Status::Pass));
    let na = line(Status::NotApplicable);
    if !na.is_empty() {
        println!("             n/a:  {na}");
    }
    for c in report
        .checks
        .iter()
        .filter(|c| matches!(c.status, Status::Fail | Status::Warn))
    {
        println!(
            "  {} {:<4} {}",
            if c.status == Status::Fail {
                "FAIL"
            } else {
                "warn"
            },
            c.id,
            c.reason
        );
    }
    println!(
        "  verdict    {}",
        if report.verdict == Verdict::Pass {
            "PASS"
        } else {
            "FAIL"
        }
    );
}

/// Whether a report is what the scenario should produce.
fn as_expected(scenario: Scenario, report: &Report) -> bool {
    match scenario.expected_failure() {
        None => report.verdict == Verdict::Pass,
        Some(id) => report.failed() == [id],
    }
}

/// The deployment's keys, its ledger (created at `created`) and the auditor's trust policy
/// in `dir`.
fn setup(
    dir: &Path,
    profile: HashProfile,
    created: Timestamp,
) -> Result<(Deployment, Ledger, PathBuf)> {
    std::fs::create_dir_all(dir.join("keys"))?;
    let seed = warrant_ledger::keys::random_bytes();
    write_secret(
        &dir.join("keys/deployment.seed"),
        crate::cli_io::b64_encode(&seed).as_bytes(),
    )
    .context("keys/deployment.seed (use a fresh --dir)")?;
    let dep = Deployment::new(seed);
    let log_key = NoteSigner::generate(ORIGIN)?;
    write_secret(
        &dir.join("keys/log.key"),
        format!("{}\n", *log_key.to_key_string()).as_bytes(),
    )?;
    let doc = dep.trust_document(ORIGIN, profile.name(), &log_key.verifier().to_string());
    // The auditor's copy, and the ledger's own (which `fsck` reads): the same policy.
    let text = toml::to_string(&doc).context("trust policy as TOML")?;
    let trust_path = dir.join("trust.toml");
    std::fs::write(&trust_path, &text)?;
    let ledger = Ledger::create_with_clock(
        &dir.join("ledger"),
        ORIGIN,
        profile,
        log_key,
        TrustPolicy::try_from(doc)?,
        Arc::new(move || created.as_millis()),
    )?
    .with_clock(Arc::new(SystemClock))
    // A ledger with default bounds would refuse the close dated ten years ahead at append;
    // this one lets it through, so that the demo shows the auditor catching it (A5).
    .with_time_bounds(TimeBounds::lenient());
    std::fs::write(dir.join("ledger").join("trust.toml"), &text)?;
    Ok((dep, ledger, trust_path))
}

/// The number of tasks a run makes.
fn plan_len(tasks: Option<u64>) -> u64 {
    tasks.unwrap_or(Scenario::ALL.len() as u64 + 1)
}

pub fn run(dir: Option<PathBuf>, profile: HashProfile, tasks: Option<u64>) -> Result<Outcome> {
    let dir = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("warrant-demo-{}", std::process::id()))
    });
    // Tasks start a second apart and end within a minute, all in the recent past, in a
    // ledger created just before the first: the auditor bounds every claimed time by when the
    // log signed it.
    let t0 = Timestamp::now().minus_ms(plan_len(tasks) * 1_000 + 120_000);
    let (dep, ledger, trust_path) = setup(&dir, profile, t0.minus_ms(1_000))?;
    println!(
        "warrant demo: ledger, keys and the auditor's trust policy in {}\n",
        dir.display()
    );
    let policy = registration_event(&dep, t0)?;
    ledger.append(policy.bytes())?;
    println!(
        "policy     {} rev {} registered (digest {})",
        registered_policy().id,
        registered_policy().revision,
        registered_policy().digest
    );

    // The default run: one task per scenario (high risk), plus a low-risk compliant one.
    let plan: Vec<(Scenario, bool)> = match tasks {
        None => Scenario::ALL
            .iter()
            .map(|s| (*s, true))
            .chain([(Scenario::Compliant, false)])
            .collect(),
        // One task in ten breaks a rule, always a high-risk one (a low-risk task needs no
        // approval, so it could not show self-approval).
        Some(n) => (0..n)
            .map(|i| {
                if i % 10 == 9 {
                    let violations = Scenario::ALL.len() - 1;
                    (Scenario::ALL[1 + (i / 10) as usize % violations], true)
                } else {
                    (Scenario::Compliant, i % 2 == 0)
                }
            })
            .collect(),
    };
    let verbose = plan.len() <= 32;
    let bar = progress(plan.len() as u64, "tasks");
    let started = Instant::now();
    let mut runs = Vec::with_capacity(plan.len());
    // Services log as they go; the ledger group-commits 128 tasks' events at a time.
    for (chunk_start, chunk) in plan.chunks(128).enumerate().map(|(c, ch)| (c * 128, ch)) {
        let mut batch = Vec::new();
        for (k, (scenario, high)) in chunk.iter().enumerate() {
            let n = (chunk_start + k) as u64;
            let run = run_task(&dep, *scenario, n, t0.plus_ms(1_000 * (n + 1)), *high)?;
            batch.extend(run.events.iter().map(|e| e.bytes().to_vec()));
            runs.push((*scenario, *high, run));
        }
        let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
        ledger.append_batch(&refs)?;
        bar.inc(chunk.len() as u64);
    }
    let events: usize = runs.iter().map(|(_, _, r)| r.events.len()).sum();
    let ingest = started.elapsed();
    bar.finish_and_clear();
    let checkpoint = ledger.checkpoint()?;

    // The auditor's side: bundles and the pinned trust policy only.
    let trust = load_trust(&trust_path)?;
    std::fs::create_dir_all(dir.join("bundles"))?;
    let mut all_as_expected = true;
    let audit_started = Instant::now();
    for (scenario, high, run) in &runs {
        let bundle = ledger.export_bundle(&run.task, None)?;
        let path = dir.join("bundles").join(format!("{}.bundle", run.task));
        std::fs::write(&path, &bundle)?;
        // The story costs strings per event; a scaled-up run (`--tasks N`) prints none.
        let (report, story) = if verbose {
            audit::verify_with_story(&bundle, &trust, &[])?
        } else {
            (audit::verify(&bundle, &trust, &[])?, Vec::new())
        };
        all_as_expected &= as_expected(*scenario, &report);
        if verbose {
            println!(
                "\ntask {} — {}{}",
                run.task,
                scenario.describe(),
                if *high { " (high risk)" } else { " (low risk)" }
            );
            crate::verify_cmd::print_story(&story);
            print_report(&report);
        }
    }
    let audit_time = audit_started.elapsed();

    // Tamper with one compliant bundle: flip a byte of its first event's signature.
    let (_, _, first) = &runs[0];
    let path = dir.join("bundles").join(format!("{}.bundle", first.task));
    let mut bytes = std::fs::read(&path)?;
    let sig_at = bytes
        .windows(first.events[0].bytes().len())
        .position(|w| w == first.events[0].bytes())
        .context("event in bundle")?
        + first.events[0].bytes().len()
        - 1;
    bytes[sig_at] ^= 0x01;
    let tampered_path = path.with_extension("tampered.bundle");
    std::fs::write(&tampered_path, &bytes)?;
    let tampered = audit::verify(&bytes, &trust, &[])?;
    println!(
        "\ntampered   one signature byte flipped: {}",
        tampered_path.display()
    );
    print_report(&tampered);
    let tamper_caught = tampered.failed().contains(&"A1");

    let compliant = runs
        .iter()
        .filter(|(s, _, _)| *s == Scenario::Compliant)
        .count();
    println!(
        "\n{} tasks ({} compliant, {} not), {} events, checkpoint of size {}",
        runs.len(),
        compliant,
        runs.len() - compliant,
        events + 1,
        ledger.size()
    );
    println!(
        "ingest: {:.0} events/s (signing included); audit: {:.0} bundles/s",
        events as f64 / ingest.as_secs_f64(),
        runs.len() as f64 / audit_time.as_secs_f64()
    );
    println!(
        "latest checkpoint:\n{}",
        String::from_utf8_lossy(&checkpoint)
    );
    let ok = all_as_expected && tamper_caught;
    println!(
        "{}",
        if ok {
            "every compliant task passed, every violation and the tampering were caught by the right check"
        } else {
            "UNEXPECTED: an audit outcome did not match its scenario"
        }
    );
    Ok(if ok {
        Outcome::Success
    } else {
        Outcome::Failed("demo outcomes differ from the scenarios".into())
    })
}
