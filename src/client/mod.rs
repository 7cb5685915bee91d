//! A client for emitting services (feature `client`): submit signed envelopes to a ledger
//! server, read its checkpoint, tiles, entries, proofs and bundles.
//!
//! Services sign their events themselves ([`crate::envelope::EmitterChain`]); only the
//! signed envelopes travel, so a service's key never leaves it. [`Client::submit`] packs
//! envelopes into requests (by count and bytes), and retries a request that failed in a
//! way a retry can fix (a lost connection, a timeout, 5xx, 503 after its `Retry-After`),
//! with exponential backoff. Retrying is safe: the server answers a byte-identical
//! envelope with the index it already has, so a request whose answer was lost is
//! acknowledged on the retry, never appended twice.
//!
//! [`AsyncClient`] is the same on the caller's tokio runtime; [`Client`] runs one of its own
//! (current-thread) and blocks.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use warrant_ledger::client::{Client, ClientConfig};
//! # let envelopes: Vec<Vec<u8>> = vec![];
//! let client = Client::new("http://127.0.0.1:8470", ClientConfig::default())?;
//! let refs: Vec<&[u8]> = envelopes.iter().map(Vec::as_slice).collect();
//! let indices = client.submit(&refs)?; // durable in the log when this returns
//! # Ok(()) }
//! ```

mod http;
mod witness;

use std::time::Duration;

use crate::event::TaskId;
use crate::merkle::Tile;

pub use http::AsyncClient;
pub use witness::WitnessClient;

/// How the client batches and retries.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Attempts per request, the first included. Default 8.
    pub attempts: u32,
    /// Wait before the first retry; it doubles with each retry. Default 50 ms.
    pub backoff: Duration,
    /// Longest wait between attempts. Default 5 s.
    pub max_backoff: Duration,
    /// Time one attempt may take (connecting, sending, the group commit, the answer).
    /// Default 30 s.
    pub timeout: Duration,
    /// Most envelopes in one request. Default 1,024.
    pub batch_entries: usize,
    /// Most bytes in one request (a single larger envelope still goes alone). Default 4 MiB,
    /// half the server's default limit.
    pub batch_bytes: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            attempts: 8,
            backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            batch_entries: 1024,
            batch_bytes: 4 << 20,
        }
    }
}

/// Why a request did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server address is not `http://host:port[/prefix]`.
    #[error("not a server URL (http://host:port[/prefix]): {0}")]
    Url(String),
    /// The server refused the request (a 4xx other than 408): retrying it cannot help.
    #[error("refused ({status} {reason}): {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The server's reason token (`rejected`, `duplicate_event_id`, `not_in_log`, …).
        reason: String,
        /// The server's sentence.
        message: String,
        /// For `/add`: the offending envelope's position in everything given to `submit`.
        position: Option<usize>,
        /// For `duplicate_event_id`: the index the event id already has.
        existing: Option<u64>,
    },
    /// Every attempt failed in a way a retry could have fixed; the last failure. (With
    /// `attempts` 0: the blocking client could not start its runtime, so none was made.)
    #[error("gave up after {attempts} attempts: {last}")]
    Unavailable {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// The server answered 200 with something that is not what the endpoint returns.
    #[error("unexpected answer: {0}")]
    BadAnswer(String),
}

/// The blocking client: an [`AsyncClient`] on a current-thread runtime of its own.
pub struct Client {
    runtime: tokio::runtime::Runtime,
    inner: AsyncClient,
}

impl Client {
    /// A client of the server at `base` (`http://host:port`, optionally with a path prefix).
    ///
    /// # Errors
    /// [`ClientError::Url`], or [`ClientError::Unavailable`] with no attempt made if the
    /// client's runtime cannot start.
    pub fn new(base: &str, config: ClientConfig) -> Result<Self, ClientError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ClientError::Unavailable {
                attempts: 0,
                last: format!("starting the client's runtime: {e}"),
            })?;
        let inner = {
            let _entered = runtime.enter();
            AsyncClient::new(base, config)?
        };
        Ok(Self { runtime, inner })
    }

    /// Submits envelopes; returns each one's index, in order, once all are durable.
    ///
    /// # Errors
    /// [`ClientError`]: a refusal names the envelope's position. Requests before the failing
    /// one are durable (their envelopes may be submitted again: they answer their indices).
    pub fn submit(&self, envelopes: &[&[u8]]) -> Result<Vec<u64>, ClientError> {
        self.runtime.block_on(self.inner.submit(envelopes))
    }

    /// The latest signed checkpoint note.
    ///
    /// # Errors
    /// [`ClientError`].
    pub fn checkpoint(&self) -> Result<Vec<u8>, ClientError> {
        self.runtime.block_on(self.inner.checkpoint())
    }

    /// A tile's bytes (`tlog-tiles`).
    ///
    /// # Errors
    /// [`ClientError`].
    pub fn tile(&self, tile: &Tile) -> Result<Vec<u8>, ClientError> {
        self.runtime.block_on(self.inner.tile(tile))
    }

    /// One entry's exact bytes.
    ///
    /// # Errors
    /// [`ClientError`].
    pub fn entry(&self, index: u64) -> Result<Vec<u8>, ClientError> {
        self.runtime.block_on(self.inner.entry(index))
    }

    /// The evidence bundle of `task` at the server's latest checkpoint.
    ///
    /// # Errors
    /// [`ClientError`].
    pub fn bundle(&self, task: &TaskId) -> Result<Vec<u8>, ClientError> {
        self.runtime.block_on(self.inner.bundle(task))
    }

    /// An inclusion proof of `index` in the tree of `size` entries (proof bytes as
    /// `docs/proof-format.md`).
    ///
    /// # Errors
    /// [`ClientError`].
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<u8>, ClientError> {
        self.runtime
            .block_on(self.inner.inclusion_proof(index, size))
    }

    /// A consistency proof from the tree of `old` entries to the tree of `new`.
    ///
    /// # Errors
    /// [`ClientError`].
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<u8>, ClientError> {
        self.runtime
            .block_on(self.inner.consistency_proof(old, new))
    }
}

/// Splits envelopes into request batches: at most `entries` each, and at most `bytes`
/// unless one envelope alone is larger. Returns the start of each batch.
pub(crate) fn batches(
    envelopes: &[&[u8]],
    entries: usize,
    bytes: usize,
) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut len) = (0, 0);
    for (i, e) in envelopes.iter().enumerate() {
        let full = i - start >= entries.max(1) || (i > start && len + e.len() > bytes);
        if full {
            out.push(start..i);
            (start, len) = (i, 0);
        }
        len += e.len();
    }
    if start < envelopes.len() {
        out.push(start..envelopes.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::batches;

    #[test]
    fn batches_keep_order_and_bounds() {
        let sizes = [10usize, 10, 10, 50, 10, 10, 10, 10];
        let data: Vec<Vec<u8>> = sizes.iter().map(|&n| vec![0; n]).collect();
        let refs: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
        assert_eq!(batches(&refs, 3, 25), [0..2, 2..3, 3..4, 4..6, 6..8]);
        assert_eq!(batches(&refs, 100, 1000).len(), 1);
        assert_eq!(batches(&refs, 100, 1000)[0], 0..8);
        assert_eq!(batches(&refs, 0, 1000).len(), 8);
        assert!(batches(&[], 3, 25).is_empty());
    }
}
