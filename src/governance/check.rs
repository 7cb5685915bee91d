//! One check's result as the auditor reports it: the governance checks produce them, and the
//! auditor adds the integrity checks' to the same list.

use serde::{Deserialize, Serialize};

use crate::event::EventId;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Status {
    /// The check holds.
    #[serde(rename = "pass")]
    Pass,
    /// The check fails: the verdict fails.
    #[serde(rename = "fail")]
    Fail,
    /// Something is worth a look but does not fail the verdict.
    #[serde(rename = "warn")]
    Warn,
    /// Nothing in the bundle to check.
    #[serde(rename = "n/a")]
    NotApplicable,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// The check id, e.g. `A1`.
    pub id: String,
    /// Its outcome.
    pub status: Status,
    /// Events that justify it (hyphenated UUIDs).
    pub events: Vec<String>,
    /// One line saying why.
    pub reason: String,
}

impl core::fmt::Display for Status {
    /// `pass`, `FAIL`, `warn` or `n/a`: a failure stands out in a list.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Pass => "pass",
            Self::Fail => "FAIL",
            Self::Warn => "warn",
            Self::NotApplicable => "n/a",
        })
    }
}

impl core::fmt::Display for Check {
    /// `B5 FAIL credential cred-1 was issued after the action (events: …)`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:<3} {:<4} {}", self.id, self.status, self.reason)?;
        if !self.events.is_empty() {
            write!(f, " (events: {})", self.events.join(", "))?;
        }
        Ok(())
    }
}

/// A check with its events and reason.
pub(crate) fn check(
    id: &str,
    status: Status,
    events: &[EventId],
    reason: impl Into<String>,
) -> Check {
    Check {
        id: id.to_owned(),
        status,
        events: events.iter().map(ToString::to_string).collect(),
        reason: reason.into(),
    }
}
