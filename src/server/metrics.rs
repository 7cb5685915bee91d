//! Counters the server keeps, rendered in the Prometheus text format on `/metrics`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Why an `/add` was answered without appending: a fixed set, so the metric's cardinality
/// is bounded whatever clients send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reject {
    /// The queue was full: 503.
    Overloaded,
    /// The body was larger than allowed: 413.
    TooLarge,
    /// The body did not arrive in time: 408.
    SlowBody,
    /// The body is not a sequence of envelopes: 400.
    Malformed,
    /// Decoding, signature or trust policy: 422.
    Rejected,
    /// An implausible event time: 422.
    Time,
    /// Another envelope with the event id is in the log: 409.
    DuplicateEventId,
    /// The event id twice in one request: 422.
    DuplicateInBatch,
    /// Storage failed: 500 (the batch may be durable; retrying is safe).
    Storage,
    /// This server does not sequence the log (a follower, or a leader deposed): 503.
    NotLeader,
}

const REJECTS: [(Reject, &str); 10] = [
    (Reject::Overloaded, "overloaded"),
    (Reject::TooLarge, "too_large"),
    (Reject::SlowBody, "slow_body"),
    (Reject::Malformed, "malformed"),
    (Reject::Rejected, "rejected"),
    (Reject::Time, "implausible_time"),
    (Reject::DuplicateEventId, "duplicate_event_id"),
    (Reject::DuplicateInBatch, "duplicate_in_batch"),
    (Reject::Storage, "storage"),
    (Reject::NotLeader, "not_leader"),
];

impl Reject {
    /// The reason as it appears in answers and metrics.
    pub(crate) fn name(self) -> &'static str {
        REJECTS
            .iter()
            .find(|(r, _)| *r == self)
            .map_or("unknown", |(_, n)| n)
    }

    fn slot(self) -> usize {
        REJECTS.iter().position(|(r, _)| *r == self).unwrap_or(0)
    }
}

/// Upper bounds of the commit-latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.000_5, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 5.0,
];

/// The server's counters; all relaxed atomics (a scrape may see one counter a moment ahead
/// of another, never a torn value).
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    requests: AtomicU64,
    add_requests: AtomicU64,
    appended: AtomicU64,
    rejections: [AtomicU64; REJECTS.len()],
    commit_buckets: [AtomicU64; BUCKETS.len()],
    commit_count: AtomicU64,
    commit_micros: AtomicU64,
    checkpoints: AtomicU64,
    checkpoint_errors: AtomicU64,
}

impl Metrics {
    pub(crate) fn request(&self) {
        self.requests.fetch_add(1, Relaxed);
    }

    pub(crate) fn add_request(&self) {
        self.add_requests.fetch_add(1, Relaxed);
    }

    pub(crate) fn appended(&self, entries: usize) {
        self.appended.fetch_add(entries as u64, Relaxed);
    }

    pub(crate) fn reject(&self, why: Reject) {
        self.rejections[why.slot()].fetch_add(1, Relaxed);
    }

    /// One `/add`'s wait for its group commit (verification included).
    pub(crate) fn commit(&self, took: Duration) {
        let secs = took.as_secs_f64();
        for (bound, count) in BUCKETS.iter().zip(&self.commit_buckets) {
            if secs <= *bound {
                count.fetch_add(1, Relaxed);
            }
        }
        self.commit_count.fetch_add(1, Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.commit_micros.fetch_add(micros, Relaxed);
    }

    pub(crate) fn checkpoint(&self, ok: bool) {
        let counter = if ok {
            &self.checkpoints
        } else {
            &self.checkpoint_errors
        };
        counter.fetch_add(1, Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub(crate) fn render(&self, log_size: u64) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        };
        counter(
            "warrant_http_requests_total",
            "HTTP requests answered.",
            self.requests.load(Relaxed),
        );
        counter(
            "warrant_add_requests_total",
            "Requests to /add.",
            self.add_requests.load(Relaxed),
        );
        counter(
            "warrant_appended_entries_total",
            "Entries appended through /add (a resubmission counts again).",
            self.appended.load(Relaxed),
        );
        counter(
            "warrant_checkpoints_signed_total",
            "Checkpoint rounds that succeeded.",
            self.checkpoints.load(Relaxed),
        );
        counter(
            "warrant_checkpoint_errors_total",
            "Checkpoint rounds that failed.",
            self.checkpoint_errors.load(Relaxed),
        );
        let name = "warrant_add_rejections_total";
        let _ = writeln!(
            out,
            "# HELP {name} Requests to /add answered without appending, by reason.\n# TYPE {name} counter"
        );
        for ((_, reason), count) in REJECTS.iter().zip(&self.rejections) {
            let _ = writeln!(out, "{name}{{reason=\"{reason}\"}} {}", count.load(Relaxed));
        }
        self.render_histogram(&mut out);
        let _ = writeln!(
            out,
            "# HELP warrant_log_size Entries in the log.\n# TYPE warrant_log_size gauge\nwarrant_log_size {log_size}"
        );
        out
    }

    fn render_histogram(&self, out: &mut String) {
        let name = "warrant_add_commit_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time from a request's body to its durable commit.\n# TYPE {name} histogram"
        );
        for (bound, count) in BUCKETS.iter().zip(&self.commit_buckets) {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{bound}\"}} {}",
                count.load(Relaxed)
            );
        }
        let total = self.commit_count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {total}");
        let sum = self.commit_micros.load(Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {total}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_is_cumulative_and_every_reason_is_listed() {
        let m = Metrics::default();
        m.commit(Duration::from_micros(300));
        m.commit(Duration::from_millis(3));
        m.commit(Duration::from_secs(9));
        m.reject(Reject::Malformed);
        m.reject(Reject::Malformed);
        m.reject(Reject::Storage);
        let text = m.render(7);
        assert!(text.contains("warrant_add_commit_seconds_bucket{le=\"0.0005\"} 1\n"));
        assert!(text.contains("warrant_add_commit_seconds_bucket{le=\"0.005\"} 2\n"));
        assert!(text.contains("warrant_add_commit_seconds_bucket{le=\"5\"} 2\n"));
        assert!(text.contains("warrant_add_commit_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.contains("warrant_add_commit_seconds_count 3\n"));
        assert!(text.contains("warrant_add_rejections_total{reason=\"malformed\"} 2\n"));
        assert!(text.contains("warrant_add_rejections_total{reason=\"storage\"} 1\n"));
        assert!(text.contains("warrant_log_size 7\n"));
        for (reason, _) in REJECTS {
            assert!(text.contains(&format!("reason=\"{}\"", reason.name())));
        }
    }
}
