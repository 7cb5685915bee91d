//! A witness over HTTP: C2SP `tlog-witness`'s `POST /add-checkpoint`, on the same
//! machinery as the ledger server.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};

use super::http::{self, BodyError};
use super::reply::{self, Reply};
use super::{ServerConfig, ServerError, ServerHandle};
use crate::checkpoint::MAX_NOTE_LEN;
use crate::witness::{MAX_PROOF_LINES, Witness, WitnessError};

/// Largest `add-checkpoint` body: the old size line, the proof lines and a note.
const MAX_BODY: usize = 32 + MAX_PROOF_LINES * 46 + 1 + MAX_NOTE_LEN;

/// A witness, configured, not yet listening.
pub struct WitnessServer {
    witness: Arc<Witness>,
    config: ServerConfig,
}

impl WitnessServer {
    /// A server for `witness`, bounded by `config`'s timeouts and connection limit (its body
    /// limit is the protocol's: a note and 63 proof lines).
    pub fn new(witness: Arc<Witness>, config: ServerConfig) -> Self {
        Self { witness, config }
    }

    /// Binds `addr` and serves, as [`super::Server::spawn`].
    ///
    /// # Errors
    /// [`ServerError::Start`].
    pub fn spawn(self, addr: SocketAddr) -> Result<ServerHandle, ServerError> {
        let limits = http::Limits::from(&self.config);
        let (witness, timeout) = (self.witness, self.config.body_timeout);
        let handler: http::Handler =
            Arc::new(move |req, _peer| Box::pin(handle(Arc::clone(&witness), req, timeout)));
        let lifecycle = http::Lifecycle {
            background: None,
            finally: None,
        };
        http::spawn(addr, limits, handler, lifecycle)
    }
}

fn text(status: StatusCode, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
    reply::with(status, content_type, "no-store", body.into())
}

async fn handle(
    witness: Arc<Witness>,
    req: Request<Incoming>,
    timeout: std::time::Duration,
) -> Reply {
    const PLAIN: &str = "text/plain; charset=utf-8";
    if req.uri().path() != "/add-checkpoint" {
        return text(StatusCode::NOT_FOUND, PLAIN, "no such path\n");
    }
    if req.method() != Method::POST {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            PLAIN,
            "add-checkpoint takes POST\n",
        );
    }
    let body = match http::read_body(req, MAX_BODY, timeout).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => {
            return text(StatusCode::PAYLOAD_TOO_LARGE, PLAIN, "too large\n");
        }
        Err(BodyError::Slow) => return text(StatusCode::REQUEST_TIMEOUT, PLAIN, "too slow\n"),
        Err(BodyError::Broken(e)) => return text(StatusCode::BAD_REQUEST, PLAIN, format!("{e}\n")),
    };
    // Reading and replacing the state file, synced: the blocking pool.
    let added = tokio::task::spawn_blocking(move || witness.add_checkpoint(&body)).await;
    match added {
        Ok(Ok(cosignatures)) => text(StatusCode::OK, PLAIN, cosignatures),
        Ok(Err(WitnessError::Conflict { size })) => text(
            StatusCode::CONFLICT,
            "text/x.tlog.size",
            format!("{size}\n"),
        ),
        Ok(Err(e)) => {
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            text(status, PLAIN, format!("{e}\n"))
        }
        Err(_) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            PLAIN,
            "the witness panicked\n",
        ),
    }
}
