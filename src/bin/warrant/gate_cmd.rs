//! `warrant admit` and `warrant revocations`: the runtime gate from the command line, on a
//! ledger opened read-only beside its writer (`docs/gate.md`).

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use warrant_ledger::event::{EventRef, TaskId, Timestamp};
use warrant_ledger::gate::{ActionRequest, Admission, DueCause, DueRevocation};
use warrant_ledger::ledger::Ledger;

use crate::cli_io::{Input, Outcome, print_json, read_input};
use crate::ledger_cmd::{load_trust, open_reader};

/// The ledger read-only, judging under `trust` (default: the ledger's `trust.toml`).
fn gate(dir: &Path, trust: Option<&Path>) -> Result<Ledger> {
    let trust_path = trust.map_or_else(|| dir.join("trust.toml"), Path::to_path_buf);
    let trust = load_trust(&trust_path)?;
    Ok(open_reader(dir)?.with_trust(trust))
}

/// Asks the gate whether the request's action may run: exit 0 allowed, 1 denied.
/// `set`: the task and time to put in the request (`--task`, `--at`), if given.
pub(crate) fn admit(
    dir: &Path,
    request: Option<&Path>,
    trust: Option<&Path>,
    set: (Option<&str>, Option<&str>),
    json: bool,
) -> Result<Outcome> {
    let bytes = read_input(request, Input::Request)?;
    let mut req: ActionRequest = serde_json::from_slice(&bytes).context("the request")?;
    if let Some(task) = set.0 {
        req.task = TaskId(task.parse().with_context(|| format!("--task {task:?}"))?);
    }
    if let Some(at) = set.1 {
        req.at = crate::event_cmd::parse_time(at)?;
    }
    let admission = gate(dir, trust)?.admit(&req)?;
    if json {
        print_json(&admission)?;
    } else {
        print_admission(&admission);
    }
    Ok(if admission.allowed {
        Outcome::Success
    } else {
        Outcome::Failed(format!("denied: {}", admission.blocked_by().join(", ")))
    })
}

fn refs(list: &[EventRef]) -> String {
    let ids: Vec<String> = list.iter().map(|r| r.id.to_string()).collect();
    ids.join(", ")
}

fn print_admission(a: &Admission) {
    if a.allowed {
        println!("allow (judged on the log's first {} entries)", a.log_size);
        println!("  cite decisions: {}", refs(&a.decisions));
        if let Some(approval) = a.approval {
            println!("  cite approval:  {}", approval.id);
        }
        println!("  relied on:      {}", refs(&a.relied_on));
        return;
    }
    println!("deny (judged on the log's first {} entries)", a.log_size);
    for d in &a.denials {
        let events: Vec<String> = d.events.iter().map(ToString::to_string).collect();
        if events.is_empty() {
            println!("  {:<3} {}", d.check, d.reason);
        } else {
            println!(
                "  {:<3} {} (events: {})",
                d.check,
                d.reason,
                events.join(", ")
            );
        }
    }
}

fn cause(c: &DueCause) -> String {
    match c {
        DueCause::TaskClosed { event } => format!("its task closed (event {event})"),
        DueCause::TrustSignal { event } => format!("a trust signal concerns it (event {event})"),
        DueCause::DelegationExpired { at } => format!("its holder's delegation ended at {at}"),
        DueCause::Expired { at } => format!("it expired at {at} and was never revoked"),
        _ => "see --json".to_owned(),
    }
}

fn print_due(d: &DueRevocation, json: bool) -> Result<()> {
    if json {
        print_json(d)
    } else {
        println!("{} task {}: {}", d.credential_id, d.task, cause(&d.cause));
        Ok(())
    }
}

/// How often `--follow` looks at the log again.
const FOLLOW_INTERVAL: Duration = Duration::from_millis(250);

/// Lists the credentials to revoke now; with `follow`, keeps watching the log (for
/// `follow_for`, or until interrupted) and prints each newly due one once.
pub(crate) fn revocations(
    dir: &Path,
    trust: Option<&Path>,
    at: Option<&str>,
    follow: bool,
    follow_for: Option<u64>,
    json: bool,
) -> Result<Outcome> {
    let ledger = gate(dir, trust)?;
    let now = || -> Result<Timestamp> {
        at.map_or_else(|| Ok(Timestamp::now()), crate::event_cmd::parse_time)
    };
    if !follow {
        let due = ledger.due_revocations(now()?)?;
        if json {
            print_json(&due)?;
        } else {
            for d in &due {
                print_due(d, false)?;
            }
        }
        return Ok(Outcome::Success);
    }
    let deadline = follow_for.map(|s| Instant::now() + Duration::from_secs(s));
    let mut shown: BTreeSet<(String, String)> = BTreeSet::new();
    loop {
        for d in ledger.due_revocations(now()?)? {
            if shown.insert((d.task.to_string(), d.credential_id.clone())) {
                print_due(&d, json)?;
            }
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(Outcome::Success);
        }
        std::thread::sleep(FOLLOW_INTERVAL);
        ledger.refresh()?;
    }
}
