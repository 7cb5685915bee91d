//! `warrant demo`: governed agent tasks end to end on an embedded ledger, audited offline.
//! The output is a table a person can read (one line per task, what failed, a legend);
//! `--verbose` tells each task's chain as a story and prints the signed checkpoint.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, Result};
use warrant_ledger::audit::{self, CHECKS, Report, Status, Verdict};
use warrant_ledger::checkpoint::NoteSigner;
use warrant_ledger::demo::{
    Deployment, Scenario, TaskRun, registered_policy, registration_event, run_task,
};
use warrant_ledger::envelope::VerifiedEvent;
use warrant_ledger::event::{TaskId, Timestamp};
use warrant_ledger::ledger::{Ledger, SystemClock, TimeBounds};
use warrant_ledger::merkle::HashProfile;
use warrant_ledger::trust::TrustPolicy;

use crate::cli_io::{Outcome, write_secret};
use crate::demo_serve::{Log, Services};
use crate::demo_witness::Witnesses;
use crate::ledger_cmd::{load_trust, progress};

const ORIGIN: &str = "bank.example/agent-ledger";

/// The failed and warning checks of a report, each failure that may only follow from an
/// earlier integrity failure marked so.
fn print_findings(report: &Report) {
    let cascade = report.cascade();
    for c in report
        .checks
        .iter()
        .filter(|c| matches!(c.status, Status::Fail | Status::Warn))
    {
        let follows = cascade
            .iter()
            .find(|(id, _)| *id == c.id)
            .map_or(String::new(), |(_, root)| format!(" [follows from {root}]"));
        println!("    {:<4} {:<3} {}{follows}", c.status, c.id, c.reason);
    }
    println!("    verdict {}", report.verdict);
}

/// The checks the gate blocked a task's action for (empty: none was blocked).
fn blocked_by(report: &Report) -> Vec<String> {
    report
        .actions
        .iter()
        .filter(|a| a.blocked())
        .flat_map(|a| a.blocked_by.clone())
        .collect()
}

/// Whether a report is what the scenario should produce, with the gate or without.
fn as_expected(scenario: Scenario, report: &Report, no_gate: bool) -> bool {
    let (blocked, failing) = if no_gate {
        (None, scenario.expected_failure())
    } else {
        scenario.with_gate()
    };
    let blocked_ok = match blocked {
        None => blocked_by(report).is_empty(),
        Some(id) => blocked_by(report).iter().any(|c| c == id),
    };
    blocked_ok && report.failed() == failing
}

/// The deployment's keys, its ledger (created at `created`), the witnesses' keys and the
/// auditor's trust policy (asking for both witnesses) in `dir`.
fn setup(
    dir: &Path,
    profile: HashProfile,
    created: Timestamp,
) -> Result<(Deployment, Ledger, Vec<NoteSigner>, PathBuf)> {
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
    let mut doc = dep.trust_document(ORIGIN, profile.name(), &log_key.verifier().to_string());
    let (witness_keys, witness_policy) = crate::demo_witness::keys(dir)?;
    doc.witness_policy = Some(witness_policy);
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
    Ok((dep, ledger, witness_keys, trust_path))
}

/// The number of tasks a run makes.
fn plan_len(tasks: Option<u64>) -> u64 {
    tasks.unwrap_or(Scenario::ALL.len() as u64 + 1)
}

/// What runs: the default is one task per scenario (high risk) and a low-risk compliant one;
/// with `--tasks N`, one task in ten breaks a rule, always a high-risk one (a low-risk task
/// needs no approval, so it could not show an approval going wrong).
fn plan(tasks: Option<u64>) -> Vec<(Scenario, bool)> {
    match tasks {
        None => Scenario::ALL
            .iter()
            .map(|s| (*s, true))
            .chain([(Scenario::Compliant, false)])
            .collect(),
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
    }
}

/// One task as the demo ran and audited it.
struct Row {
    scenario: Scenario,
    high: bool,
    run: TaskRun,
    report: Report,
}

/// A task as planned and run: its scenario, whether it is high-risk, its events.
type Planned = (Scenario, bool, TaskRun);

/// The services log every task (the ledger group-commits 128 tasks' events at a time),
/// through the runtime gate unless `no_gate`; returns the runs and the events per second,
/// signing included.
fn ingest(
    dep: &Deployment,
    ledger: &Ledger,
    log: &Log<'_>,
    plan: &[(Scenario, bool)],
    t0: Timestamp,
    no_gate: bool,
) -> Result<(Vec<Planned>, f64)> {
    let bar = progress(plan.len() as u64, "tasks logged");
    let started = Instant::now();
    let mut runs = Vec::with_capacity(plan.len());
    for (chunk_start, chunk) in plan.chunks(128).enumerate().map(|(c, ch)| (c * 128, ch)) {
        if !no_gate {
            let done =
                crate::demo_gate::run_chunk(dep, ledger, log, chunk, chunk_start as u64, t0)?;
            runs.extend(chunk.iter().zip(done).map(|((s, h), run)| (*s, *h, run)));
            bar.inc(chunk.len() as u64);
            continue;
        }
        let first = runs.len();
        for (k, (scenario, high)) in chunk.iter().enumerate() {
            let n = (chunk_start + k) as u64;
            let run = run_task(dep, *scenario, n, t0.plus_ms(1_000 * (n + 1)), *high)?;
            runs.push((*scenario, *high, run));
        }
        let batch: Vec<&VerifiedEvent> = runs[first..]
            .iter()
            .flat_map(|(_, _, run)| &run.events)
            .collect();
        log.append(&batch)?;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    let events: usize = runs.iter().map(|(_, _, r)| r.events.len()).sum();
    Ok((runs, events as f64 / started.elapsed().as_secs_f64()))
}

/// The auditor's side: each task's bundle, checked against the pinned trust policy only;
/// with `verbose`, each task's story.
fn audit_all(
    bundle_of: &dyn Fn(&TaskId) -> Result<Vec<u8>>,
    dir: &Path,
    trust_path: &Path,
    runs: Vec<Planned>,
    verbose: bool,
) -> Result<(Vec<Row>, f64)> {
    let trust = load_trust(trust_path)?;
    std::fs::create_dir_all(dir.join("bundles"))?;
    let bar = progress(runs.len() as u64, "bundles audited");
    let started = Instant::now();
    let mut rows = Vec::with_capacity(runs.len());
    for (scenario, high, run) in runs {
        let bundle = bundle_of(&run.task)?;
        std::fs::write(
            dir.join("bundles").join(format!("{}.bundle", run.task)),
            &bundle,
        )?;
        let (report, story) = if verbose {
            audit::verify_with_story(&bundle, &trust, &[])?
        } else {
            (audit::verify(&bundle, &trust, &[])?, Vec::new())
        };
        if verbose {
            println!(
                "\ntask {} — {}{}",
                run.task,
                scenario.describe(),
                risk(high)
            );
            crate::verify_cmd::print_story(&story);
            print_findings(&report);
        }
        bar.inc(1);
        rows.push(Row {
            scenario,
            high,
            run,
            report,
        });
    }
    bar.finish_and_clear();
    let rate = rows.len() as f64 / started.elapsed().as_secs_f64();
    Ok((rows, rate))
}

fn risk(high: bool) -> &'static str {
    if high { " (high risk)" } else { " (low risk)" }
}

/// A copy of the first task's bundle with one signature byte flipped, audited.
fn tamper(dir: &Path, trust_path: &Path, first: &TaskRun) -> Result<(PathBuf, Report)> {
    let path = dir.join("bundles").join(format!("{}.bundle", first.task));
    let mut bytes = std::fs::read(&path)?;
    let event = first.events[0].bytes();
    let sig_at = bytes
        .windows(event.len())
        .position(|w| w == event)
        .context("event in bundle")?
        + event.len()
        - 1;
    bytes[sig_at] ^= 0x01;
    let tampered = path.with_extension("tampered.bundle");
    std::fs::write(&tampered, &bytes)?;
    let report = audit::verify(&bytes, &load_trust(trust_path)?, &[])?;
    Ok((tampered, report))
}

/// A compliant task logged after the audits, its checkpoint cosigned by one witness only
/// (the other unreachable), exported and audited: A3 fails, below the 2-of-2 quorum; then
/// cosigned by the second too, and audited again (the verdict).
fn below_quorum(
    dep: &Deployment,
    ledger: &Ledger,
    witnesses: &Witnesses,
    trust_path: &Path,
    n: usize,
    t0: Timestamp,
) -> Result<(TaskId, Report, Verdict)> {
    let n = n as u64;
    let run = run_task(
        dep,
        Scenario::Compliant,
        n,
        t0.plus_ms(1_000 * (n + 1)),
        true,
    )?;
    let refs: Vec<&[u8]> = run.events.iter().map(|e| e.bytes()).collect();
    ledger.append_batch(&refs)?;
    witnesses.cosign(ledger, 1)?;
    let trust = load_trust(trust_path)?;
    let bundle = ledger.export_bundle(&run.task, None)?;
    let below = audit::verify(&bundle, &trust, &[])?;
    // The second witness is reachable again: asked, it cosigns the same checkpoint, and the
    // task's bundle exported again carries both (the ledger is left fully witnessed).
    witnesses.cosign(ledger, witnesses.len())?;
    let again = audit::verify(&ledger.export_bundle(&run.task, None)?, &trust, &[])?;
    Ok((run.task, below, again.verdict))
}

/// One line per task (for a large run: per scenario, with counts).
fn print_table(rows: &[Row]) {
    println!(
        "\n  {:<3} {:<36} {:<5} {:<8} {:<7} {:<7} scenario",
        "", "task", "risk", "blocked", "verdict", "failed"
    );
    if rows.len() <= 40 {
        for (n, r) in rows.iter().enumerate() {
            println!(
                "  {n:<3} {} {:<5} {:<8} {:<7} {:<7} {}",
                r.run.task,
                if r.high { "high" } else { "low" },
                blocked_by(&r.report).join(" "),
                r.report.verdict.to_string(),
                r.report.failed().join(" "),
                r.scenario.describe()
            );
        }
        return;
    }
    for scenario in Scenario::ALL {
        let of: Vec<&Row> = rows.iter().filter(|r| r.scenario == scenario).collect();
        if of.is_empty() {
            continue;
        }
        let passed = of
            .iter()
            .filter(|r| r.report.verdict == Verdict::Pass)
            .count();
        let mut failed: Vec<&str> = of.iter().flat_map(|r| r.report.failed()).collect();
        failed.sort_unstable();
        failed.dedup();
        let blocked = of
            .iter()
            .filter(|r| !blocked_by(&r.report).is_empty())
            .count();
        println!(
            "  {:<3} {:<36} {:<5} {:<8} {:<7} {:<7} {}",
            "",
            format!("{} tasks", of.len()),
            "",
            format!("{blocked}"),
            format!("{passed} pass"),
            failed.join(" "),
            scenario.describe()
        );
    }
}

fn print_legend() {
    println!("\nchecks:");
    for (id, what) in CHECKS {
        println!("  {id:<3}  {what}");
    }
}

/// What a demo run does: `--tasks`, `--verbose`, `--no-gate`, `--serve`.
pub(crate) struct Options {
    pub tasks: Option<u64>,
    pub verbose: bool,
    pub no_gate: bool,
    pub serve: bool,
}

pub(crate) fn run(
    dir: Option<PathBuf>,
    profile: HashProfile,
    options: &Options,
) -> Result<Outcome> {
    // Without --dir, everything (private keys included) goes in a temporary directory that
    // is removed at the end.
    let temporary = dir.is_none();
    let dir = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("warrant-demo-{}", std::process::id()))
    });
    let result = demo(&dir, profile, options, temporary);
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn demo(dir: &Path, profile: HashProfile, options: &Options, temporary: bool) -> Result<Outcome> {
    let (tasks, verbose, no_gate) = (options.tasks, options.verbose, options.no_gate);
    // Tasks start a second apart and end within a minute, all in the recent past, in a
    // ledger created just before the first: the auditor bounds every claimed time by when the
    // log signed it.
    let t0 = Timestamp::now().minus_ms(plan_len(tasks) * 1_000 + 120_000);
    let (dep, ledger, witness_keys, trust_path) = setup(dir, profile, t0.minus_ms(1_000))?;
    println!("warrant demo: a bank's deployment runs governed agent tasks; an auditor checks them");
    println!(
        "(ledger, keys, trust policy and bundles in {}{})",
        dir.display(),
        if temporary {
            ", removed at the end; keep them with --dir"
        } else {
            ""
        }
    );
    let ledger = Arc::new(ledger);
    let services = if options.serve {
        let services = Services::start(Arc::clone(&ledger))?;
        println!(
            "(a ledger server on {}: each component of the deployment is a service of its own, submitting the events it signs over HTTP; the auditor fetches bundles from the server)",
            services.url()
        );
        Some(services)
    } else {
        None
    };
    let log = services
        .as_ref()
        .map_or(Log::Embedded(&ledger), Log::Served);
    log.append(&[&registration_event(&dep, t0)?])?;
    let p = registered_policy();
    println!(
        "\npolicy {} rev {} registered (content digest {})",
        p.id, p.revision, p.digest
    );

    let plan = plan(tasks);
    if no_gate {
        println!("(no runtime gate: every action runs, every violation is left to the auditor)");
    } else {
        println!(
            "(a runtime gate checks each action before it runs; a token service follows the revocation feed; --no-gate runs without them)"
        );
    }
    let (runs, ingest_eps) = ingest(&dep, &ledger, &log, &plan, t0, no_gate)?;
    let witnesses = Witnesses::start(dir, witness_keys, &ledger)?;
    let checkpoint = witnesses.cosign(&ledger, witnesses.len())?;
    println!(
        "\ncheckpoint of size {} cosigned by {} witnesses{} ({}); the auditor's policy asks for both",
        checkpoint.size,
        checkpoint.cosigned.len(),
        crate::demo_witness::profile_note(profile),
        witnesses.urls().join(", ")
    );
    let bundle_of = |task: &TaskId| match &services {
        Some(s) => s.bundle(task),
        None => Ok(ledger.export_bundle(task, None)?),
    };
    let (rows, audit_rate) = audit_all(
        &bundle_of,
        dir,
        &trust_path,
        runs,
        verbose && plan.len() <= 40,
    )?;
    if let Some(s) = services {
        println!(
            "\n{} services submitted to {}; {} bundles read back over HTTP",
            s.components(),
            s.url(),
            rows.len()
        );
        s.stop();
    }
    print_table(&rows);
    let (tampered_path, tampered) = tamper(dir, &trust_path, &rows[0].run)?;
    println!(
        "\na copy of task 0's bundle with one signature byte flipped ({}):",
        tampered_path.display()
    );
    print_findings(&tampered);
    let (late_task, below, again) =
        below_quorum(&dep, &ledger, &witnesses, &trust_path, plan.len(), t0)?;
    witnesses.stop();
    println!(
        "\ntask {late_task}, logged later, when only w1 could be reached: its checkpoint carries one cosignature of the two the policy asks for:"
    );
    print_findings(&below);
    println!("    once w2 is reachable again and cosigns too, the bundle exported again: {again}");
    print_legend();

    let compliant = rows
        .iter()
        .filter(|r| r.scenario == Scenario::Compliant)
        .count();
    let events: usize = rows.iter().map(|r| r.run.events.len()).sum();
    println!(
        "\n{} tasks ({compliant} compliant, {} not), {} events; ingest {ingest_eps:.0} events/s (signing included), audit {audit_rate:.0} bundles/s",
        rows.len(),
        rows.len() - compliant,
        events + 1,
    );
    if verbose {
        println!(
            "latest checkpoint:\n{}",
            String::from_utf8_lossy(&checkpoint.note)
        );
    }
    let ok = rows
        .iter()
        .all(|r| as_expected(r.scenario, &r.report, no_gate))
        && tampered.failed().first() == Some(&"A1")
        && below.failed() == ["A3"]
        && again == Verdict::Pass;
    println!(
        "{}",
        if ok {
            if no_gate {
                "every compliant task passed, every violation, the tampering and the checkpoint below the witness quorum were caught by the right check"
            } else {
                "every compliant task passed; the gate blocked every violating action and the token service revoked what the feed named, so only rules about a task itself (B1, B4) and a time the log contradicts (A5) are left to the auditor; the tampering and the checkpoint below the witness quorum were caught"
            }
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
