//! What times a ledger accepts an event with: a sanity check at append, so that an event
//! dated in seconds (1970), years ahead, or before the log existed is refused with a clear
//! error instead of logged (and later failing, or worse passing, an audit).

use crate::event::Timestamp;

/// The earliest time an event may claim: 2001-09-09T01:46:40Z, 10^12 ms after the epoch.
/// Seconds since the epoch, read as milliseconds, fall in January 1970, far below it.
pub const EARLIEST: Timestamp = Timestamp::from_millis(1_000_000_000_000);

/// The times a ledger accepts, relative to its clock and to when it was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimeBounds {
    /// How far after the ledger's clock an event may be dated (clock skew between services).
    pub max_ahead_ms: u64,
    /// How far before the ledger's creation an event may be dated; `None` accepts any past
    /// time (a ledger importing history).
    pub max_before_creation_ms: Option<u64>,
}

impl Default for TimeBounds {
    /// Five minutes either way.
    fn default() -> Self {
        Self {
            max_ahead_ms: 300_000,
            max_before_creation_ms: Some(300_000),
        }
    }
}

impl TimeBounds {
    /// The defaults, but any past time accepted: for a ledger that is given events recorded
    /// before it existed (a replay, an import, test fixtures).
    #[must_use]
    pub fn history() -> Self {
        Self {
            max_before_creation_ms: None,
            ..Self::default()
        }
    }

    /// Any time from 2001 on: for a test bench that feeds an auditor what a careless ledger
    /// would have let through, or a ledger that trusts its emitters' clocks entirely.
    #[must_use]
    pub const fn lenient() -> Self {
        Self {
            max_ahead_ms: u64::MAX,
            max_before_creation_ms: None,
        }
    }

    /// Whether an event dated `time` may be appended at `now` to a ledger created at
    /// `created` (unknown for a ledger older than this check).
    ///
    /// # Errors
    /// The [`TimeError`] that says which bound it breaks.
    pub fn check(
        &self,
        time: Timestamp,
        now: Timestamp,
        created: Option<Timestamp>,
    ) -> Result<(), TimeError> {
        if time < EARLIEST {
            return Err(TimeError::BeforeEarliest { time });
        }
        if time > now.plus_ms(self.max_ahead_ms) {
            return Err(TimeError::Ahead { time, now });
        }
        match (created, self.max_before_creation_ms) {
            (Some(created), Some(margin)) if time < created.minus_ms(margin) => {
                Err(TimeError::BeforeCreation { time, created })
            }
            _ => Ok(()),
        }
    }
}

/// An event time a ledger refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// Before 2001-09-09: most likely seconds given where milliseconds are meant.
    #[error("event time {time} is before 2001-09-09: seconds given for milliseconds?")]
    BeforeEarliest {
        /// The event's time.
        time: Timestamp,
    },
    /// Further after the ledger's clock than the skew allows.
    #[error(
        "event time {time} is ahead of the ledger's clock ({now}) by more than the skew allows"
    )]
    Ahead {
        /// The event's time.
        time: Timestamp,
        /// The ledger's clock.
        now: Timestamp,
    },
    /// Before the ledger was created (beyond the skew).
    #[error("event time {time} is before the ledger was created ({created})")]
    BeforeCreation {
        /// The event's time.
        time: Timestamp,
        /// When the ledger was created.
        created: Timestamp,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bound_is_exact() {
        let now = Timestamp::from_millis(1_800_000_000_000);
        let created = now.minus_ms(86_400_000);
        let b = TimeBounds::default();
        let ok = |t: Timestamp| b.check(t, now, Some(created));
        assert_eq!(ok(now), Ok(()));
        assert_eq!(ok(now.plus_ms(300_000)), Ok(()));
        assert!(matches!(
            ok(now.plus_ms(300_001)),
            Err(TimeError::Ahead { .. })
        ));
        assert_eq!(ok(created.minus_ms(300_000)), Ok(()));
        assert!(matches!(
            ok(created.minus_ms(300_001)),
            Err(TimeError::BeforeCreation { .. })
        ));
        // Seconds where milliseconds belong.
        let seconds = Timestamp::from_millis(1_800_000_000);
        assert!(matches!(
            TimeBounds::history().check(seconds, now, Some(created)),
            Err(TimeError::BeforeEarliest { .. })
        ));
        assert_eq!(
            TimeBounds::history().check(EARLIEST, now, Some(created)),
            Ok(())
        );
        assert_eq!(b.check(EARLIEST, now, None), Ok(()));
    }
}
