//! The demo's services with a runtime gate: each chunk of tasks logs its steps up to the
//! action, the gateway asks the gate before each action (and records a blocked attempt when
//! it is denied), the tasks wind up and close, and the token service revokes whatever the
//! revocation feed says is due.

use std::collections::HashMap;

use anyhow::Result;
use warrant_ledger::demo::{Deployment, Scenario, TaskInProgress, TaskRun};
use warrant_ledger::envelope::VerifiedEvent;
use warrant_ledger::event::{TaskId, Timestamp};
use warrant_ledger::ledger::Ledger;

use crate::demo_serve::Log;

/// Logs what each task emitted since the last call, in order.
fn log_unlogged(log: &Log<'_>, tasks: &mut [TaskInProgress<'_>]) -> Result<()> {
    let batch: Vec<VerifiedEvent> = tasks
        .iter_mut()
        .flat_map(|t| t.unlogged().to_vec())
        .collect();
    let refs: Vec<&VerifiedEvent> = batch.iter().collect();
    log.append(&refs)
}

/// Runs one chunk of planned tasks (numbered from `first`) through the gate (asked of
/// `ledger`), logging to `log`.
pub(crate) fn run_chunk(
    dep: &Deployment,
    ledger: &Ledger,
    log: &Log<'_>,
    chunk: &[(Scenario, bool)],
    first: u64,
    t0: Timestamp,
) -> Result<Vec<TaskRun>> {
    let mut tasks = Vec::with_capacity(chunk.len());
    for (k, (scenario, high)) in chunk.iter().enumerate() {
        let n = first + k as u64;
        let start = t0.plus_ms(1_000 * (n + 1));
        tasks.push(TaskInProgress::start(dep, *scenario, n, start, *high)?);
    }
    log_unlogged(log, &mut tasks)?;
    for t in &mut tasks {
        let admission = ledger.admit(&t.request())?;
        t.act(Some(&admission))?;
    }
    log_unlogged(log, &mut tasks)?;
    // The token service follows the feed: everything due in these tasks, revoked.
    let index: HashMap<TaskId, usize> = tasks
        .iter()
        .enumerate()
        .map(|(k, t)| (t.task(), k))
        .collect();
    for due in ledger.due_revocations(Timestamp::now())? {
        if let Some(&k) = index.get(&due.task) {
            tasks[k].revoke(&due)?;
        }
    }
    log_unlogged(log, &mut tasks)?;
    Ok(tasks.into_iter().map(TaskInProgress::finish).collect())
}
