//! Offline verification of an evidence bundle against what the auditor pins: a structured
//! report of checks (`docs/audit-checks.md`), each pass / fail / warn / not applicable, with the event ids
//! that justify it.
//!
//! Pure: no I/O, no clock. Adversarial bundles get a report (or, when they are unusable as
//! input, an [`AuditError`]), never a panic.
//!
//! Integrity checks A1–A5 come first; the governance-chain checks B1–B11 run on the events
//! that A1 verified.

mod integrity;
mod logtime;
mod story;

pub use story::StoryLine;

pub(crate) use crate::governance::check;
pub use crate::governance::{Check, Status};

use serde::{Deserialize, Serialize};

use crate::bundle::{BundleError, BundleRef};
use crate::envelope::VerifiedEvent;
use crate::event::{ActionOutcome, TaskId, Timestamp};
use crate::governance;
use crate::trust::TrustPolicy;

/// Every check the auditor runs, in report order, with what it asks in a few words
/// (`docs/audit-checks.md` has each exactly).
pub const CHECKS: [(&str, &str); 16] = [
    ("A1", "every signature verifies under a pinned key"),
    (
        "A2",
        "every emitter may sign what it signed, with a key valid then",
    ),
    (
        "A3",
        "every entry is in the log the pinned key signed (and the witness quorum cosigned), which only grew",
    ),
    (
        "A4",
        "no event of the task is missing, repeated or out of order",
    ),
    (
        "A5",
        "references point back; no time is later than the log's",
    ),
    ("B1", "the task starts from an authenticated human's intent"),
    ("B2", "every actor holds a delegation back to that human"),
    (
        "B3",
        "every action is covered by an allow decision made before it",
    ),
    ("B4", "every decision cites a registered policy version"),
    ("B5", "every action used a live credential issued for it"),
    ("B6", "scope only narrows from intent to permission used"),
    (
        "B7",
        "approvals by other humans where required, before the action",
    ),
    ("B8", "no action after a deny for it"),
    ("B9", "trust signals led to revocation"),
    ("B10", "the task closed and no credential outlived it"),
    ("B11", "every override has its post-hoc approval"),
];

/// The overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Verdict {
    /// No check failed.
    Pass,
    /// At least one check failed.
    Fail,
}

/// The audit report of one bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Fails exactly when a check fails.
    pub verdict: Verdict,
    /// The task (hyphenated UUID).
    pub task: String,
    /// The checks, in order.
    pub checks: Vec<Check>,
    /// Each action and blocked attempt of the task whose event verified, in log order, with
    /// the governance rules it breaks.
    #[serde(default)]
    pub actions: Vec<ActionReport>,
}

/// One `ActionExecuted` of the task, judged on its own: every governance rule it breaks,
/// on the events logged before it (what the runtime gate would have answered with the
/// same events; `docs/gate.md`). A blocked attempt is judged as if it had run, for
/// comparison with what the gate said: it is no action, and fails nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ActionReport {
    /// The event (hyphenated UUID).
    pub event: String,
    /// Its log index.
    pub index: u64,
    /// The action id it carries.
    pub action_id: String,
    /// `success`, `failure` or `blocked`.
    pub outcome: ActionOutcome,
    /// For a blocked attempt, the checks the gate named.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked_by: Vec<String>,
    /// The governance checks this action breaks (`B5`, …), in order; for a blocked attempt,
    /// those it would have broken.
    pub breaks: Vec<String>,
}

impl ActionReport {
    /// Whether the gate blocked it.
    #[must_use]
    pub fn blocked(&self) -> bool {
        self.outcome == ActionOutcome::Blocked
    }
}

impl Report {
    /// The check with this id.
    #[must_use]
    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// The failed checks that may only follow from an earlier one: after an integrity check
    /// fails (A1 to A4: an event that does not verify, is not authorised, is not in the log
    /// or is missing is left out of what follows, or links to it break), each later failure
    /// is listed with the first such check. Empty when no integrity check failed.
    #[must_use]
    pub fn cascade(&self) -> Vec<(&str, &str)> {
        let root = self.checks.iter().find(|c| {
            c.status == Status::Fail && ["A1", "A2", "A3", "A4"].contains(&c.id.as_str())
        });
        let Some(root) = root else {
            return Vec::new();
        };
        self.checks
            .iter()
            .skip_while(|c| c.id != root.id)
            .skip(1)
            .filter(|c| c.status == Status::Fail)
            .map(|c| (c.id.as_str(), root.id.as_str()))
            .collect()
    }

    /// Ids of the failed checks.
    #[must_use]
    pub fn failed(&self) -> Vec<&str> {
        self.checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .map(|c| c.id.as_str())
            .collect()
    }
}

impl core::fmt::Display for Verdict {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Pass => "PASS",
            Self::Fail => "FAIL",
        })
    }
}

impl core::fmt::Display for Report {
    /// The task, one line per check, then the verdict.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        writeln!(f, "task {}", self.task)?;
        for c in &self.checks {
            writeln!(f, "  {c}")?;
        }
        write!(f, "verdict {}", self.verdict)
    }
}

/// A bundle that cannot be audited at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The bytes are not a bundle.
    #[error("not a bundle: {0}")]
    Bundle(#[from] BundleError),
    /// The bundle's log is not pinned in the trust policy.
    #[error("log {0:?} is not in the trust policy")]
    UnknownLog(String),
}

/// A verified event as the auditor holds it: its envelope stays in the bundle's bytes.
pub(crate) type Audited<'a> = VerifiedEvent<&'a [u8]>;

/// Audits a bundle: decodes it strictly, then runs every check against the trust policy and
/// the checkpoints the auditor already holds (signed notes of the same log).
///
/// # Errors
/// [`AuditError`] when the input is unusable; every other problem is a failed check.
pub fn verify(
    bundle: &[u8],
    trust: &TrustPolicy,
    trusted_checkpoints: &[Vec<u8>],
) -> Result<Report, AuditError> {
    audit(bundle, trust, trusted_checkpoints, false).map(|(report, _)| report)
}

/// As [`verify`], and the task's governance chain told as a story: one line per event whose
/// signature verified (A1), in log order, each with the checks that judge that step.
///
/// # Errors
/// As [`verify`].
pub fn verify_with_story(
    bundle: &[u8],
    trust: &TrustPolicy,
    trusted_checkpoints: &[Vec<u8>],
) -> Result<(Report, Vec<StoryLine>), AuditError> {
    audit(bundle, trust, trusted_checkpoints, true)
}

fn audit(
    bundle: &[u8],
    trust: &TrustPolicy,
    trusted_checkpoints: &[Vec<u8>],
    with_story: bool,
) -> Result<(Report, Vec<StoryLine>), AuditError> {
    let bundle = BundleRef::decode(bundle)?;
    let log = trust
        .log(&bundle.log.origin)
        .ok_or_else(|| AuditError::UnknownLog(bundle.log.origin.clone()))?;
    let (mut checks, verified) = integrity::run(&bundle, log, trust, trusted_checkpoints);
    let logged = |policy: bool| -> Vec<governance::Logged<'_>> {
        verified
            .iter()
            .filter(|v| v.is_policy == policy)
            .map(|v| governance::Logged {
                index: v.index,
                event: v.event.event(),
                digest: v.event.digest(),
                logged_by: v.logged_by.map(Timestamp::from_millis),
            })
            .collect()
    };
    let task = governance::Task::new(logged(false), logged(true), trust.governance());
    checks.extend(governance::run(&task));
    let actions = action_reports(&task);
    let verdict = if checks.iter().any(|c| c.status == Status::Fail) {
        Verdict::Fail
    } else {
        Verdict::Pass
    };
    let task_id = bundle.task.to_string();
    drop(task);
    let story = if with_story {
        // The cited policies too, in log order: B4 judges the chain against them.
        let mut told: Vec<(u64, &Audited<'_>)> =
            verified.iter().map(|v| (v.index, &v.event)).collect();
        told.sort_by_key(|(i, _)| *i);
        story::tell(&told, &checks)
    } else {
        Vec::new()
    };
    // A large bundle leaves millions of small allocations behind; free them on all cores.
    crate::parallel::drop_in_parts(verified, 4096);
    crate::parallel::drop_in_parts(bundle.entries, 4096);
    let report = Report {
        verdict,
        task: task_id,
        checks,
        actions,
    };
    Ok((report, story))
}

fn action_reports(task: &governance::Task<'_>) -> Vec<ActionReport> {
    governance::judge_actions(task)
        .into_iter()
        .map(|(a, breaches)| ActionReport {
            event: a.event.id.to_string(),
            index: a.index,
            action_id: a.body.action_id.clone(),
            outcome: a.body.outcome,
            blocked_by: a.body.blocked_by.clone(),
            breaks: breaches.iter().map(|b| format!("B{}", b.check)).collect(),
        })
        .collect()
}

/// The task id of a bundle, for callers that need it before auditing.
///
/// # Errors
/// [`BundleError`].
pub fn bundle_task(bundle: &[u8]) -> Result<TaskId, BundleError> {
    Ok(BundleRef::decode(bundle)?.task)
}
