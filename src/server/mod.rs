//! The ledger server (feature `server`): one log for many services, over HTTP/1.1.
//!
//! Emitting services `POST /add` their signed envelopes and get back each one's index once
//! it is durable (after the group commit it joined); byte-identical resubmissions answer the
//! existing index, so a client may always retry. Everyone else reads: the latest checkpoint,
//! the C2SP `tlog-tiles` API (hash tiles and entry bundles), single entries, proofs, and the
//! evidence bundle of a task. `docs/server.md` documents every endpoint.
//!
//! The server holds the ledger's writer; it signs a checkpoint every
//! [`ServerConfig::checkpoint_interval`] when the log grew, and once more on shutdown.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use warrant_ledger::checkpoint::NoteSigner;
//! use warrant_ledger::ledger::Ledger;
//! use warrant_ledger::server::{Server, ServerConfig};
//! use warrant_ledger::trust::TrustPolicy;
//!
//! # let (dir, key, trust) = (std::path::Path::new("ledger"), NoteSigner::generate("example.com/log")?, TrustPolicy::default());
//! let ledger = Arc::new(Ledger::open(dir, key, trust)?);
//! let server = Server::new(ledger, ServerConfig::default()).spawn("127.0.0.1:0".parse()?)?;
//! println!("serving on {}", server.local_addr());
//! server.shutdown(); // finishes the requests in flight, signs a last checkpoint
//! # Ok(()) }
//! ```

mod add;
mod conn;
mod http;
mod metrics;
mod read;
mod reply;
mod route;
mod witness;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::ledger::Ledger;
use crate::store::Storage;

pub(crate) use add::split as split_add_body;
pub(crate) use route::Route;
pub use witness::WitnessServer;

/// How the server bounds what clients may ask of it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Largest `/add` body in bytes (413 above it). Default 8 MiB.
    pub max_body: usize,
    /// Largest envelope in bytes. Default 65,535: every entry then fits an entry bundle,
    /// whose lengths are 16-bit.
    pub max_entry: usize,
    /// `/add` requests admitted at once, reading or waiting for their commit; beyond it the
    /// answer is 503 with `Retry-After`. Memory held by bodies is at most `queue ×
    /// max_body`. Default 64.
    pub queue: usize,
    /// Connections open at once; further ones wait in the listen backlog. Default 1,024.
    pub max_connections: usize,
    /// Time a client has to send a request's headers (slow clients are cut off). Default 10 s.
    pub header_timeout: Duration,
    /// Time a client has to send an `/add` body (408 after it). Default 10 s.
    pub body_timeout: Duration,
    /// How often a checkpoint is signed when the log grew. Default 1 s.
    pub checkpoint_interval: Duration,
    /// How long shutdown waits for requests in flight. Default 30 s.
    pub shutdown_grace: Duration,
    /// The `Retry-After` of a 503, in seconds. Default 1.
    pub retry_after_secs: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_body: 8 << 20,
            max_entry: 65_535,
            queue: 64,
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            checkpoint_interval: Duration::from_secs(1),
            shutdown_grace: Duration::from_secs(30),
            retry_after_secs: 1,
        }
    }
}

/// One answered request, for a structured log (its `Display` is one logfmt line).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RequestLog {
    /// The client.
    pub peer: SocketAddr,
    /// The HTTP method.
    pub method: String,
    /// The route's name (`add`, `tile`, …) or `unknown`: never the raw path, which a client
    /// chooses.
    pub route: &'static str,
    /// The status sent.
    pub status: u16,
    /// Entries appended or resolved (for `/add`), else 0.
    pub entries: usize,
    /// The reason of a refusal (`malformed`, `overloaded`, …), if any.
    pub reason: Option<&'static str>,
    /// Time from the request's headers to the answer.
    pub took: Duration,
}

impl std::fmt::Display for RequestLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "peer={} method={} route={} status={} entries={} reason={} micros={}",
            self.peer,
            self.method,
            self.route,
            self.status,
            self.entries,
            self.reason.unwrap_or("-"),
            self.took.as_micros()
        )
    }
}

/// Where request logs go.
pub type LogSink = Arc<dyn Fn(&RequestLog) + Send + Sync>;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The address could not be bound, or the server's runtime or thread could not be
    /// started.
    #[error("starting the server on {addr}: {source}")]
    Start {
        /// The address it was to listen on.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// What every request handler shares.
struct State<S: Storage> {
    ledger: Arc<Ledger<S>>,
    config: ServerConfig,
    metrics: metrics::Metrics,
    /// Permits for `/add` requests in flight (backpressure).
    queue: Arc<tokio::sync::Semaphore>,
    log: Option<LogSink>,
}

/// A ledger server, configured, not yet listening.
pub struct Server<S: Storage + 'static> {
    state: State<S>,
}

impl<S: Storage + 'static> Server<S> {
    /// A server for `ledger`, which it appends to and reads from (it should be the only
    /// writer: open it with [`Ledger::open`]).
    pub fn new(ledger: Arc<Ledger<S>>, config: ServerConfig) -> Self {
        let queue = Arc::new(tokio::sync::Semaphore::new(config.queue.max(1)));
        Self {
            state: State {
                ledger,
                config,
                metrics: metrics::Metrics::default(),
                queue,
                log: None,
            },
        }
    }

    /// Sends one [`RequestLog`] per answered request to `sink`.
    #[must_use]
    pub fn with_log(mut self, sink: LogSink) -> Self {
        self.state.log = Some(sink);
        self
    }

    /// Binds `addr` and serves on a runtime of its own (one worker per core) in a thread of
    /// its own; returns once it listens.
    ///
    /// # Errors
    /// [`ServerError::Start`].
    pub fn spawn(self, addr: SocketAddr) -> Result<ServerHandle, ServerError> {
        conn::spawn(Arc::new(self.state), addr)
    }
}

/// A running server. Dropping it shuts the server down as [`ServerHandle::shutdown`] does.
pub struct ServerHandle {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServerHandle {
    /// The address it listens on (with the port the system chose for port 0).
    #[must_use]
    pub const fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections, lets the requests in flight finish (their group commits
    /// included; at most [`ServerConfig::shutdown_grace`]), signs a last checkpoint, and
    /// returns. A panic in the server's thread is resumed here, as it was.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Not resumed while already unwinding (a drop during a panic): that would abort.
        if let Some(thread) = self.thread.take()
            && let Err(panic) = thread.join()
            && !std::thread::panicking()
        {
            std::panic::resume_unwind(panic);
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}
