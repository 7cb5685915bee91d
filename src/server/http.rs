//! The HTTP machinery the ledger server and the witness share: a runtime of its own in a
//! thread of its own, accepting connections up to a limit, a header timeout against slow
//! clients, and a graceful stop (requests in flight finish, then a last step runs).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};

use super::reply::Reply;
use super::{ServerError, ServerHandle};

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Answers one request from one peer.
pub(crate) type Handler =
    Arc<dyn Fn(Request<Incoming>, SocketAddr) -> BoxFuture<Reply> + Send + Sync>;

/// What bounds the connections.
#[derive(Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_connections: usize,
    pub(crate) header_timeout: Duration,
    pub(crate) shutdown_grace: Duration,
}

impl From<&super::ServerConfig> for Limits {
    fn from(config: &super::ServerConfig) -> Self {
        Self {
            max_connections: config.max_connections,
            header_timeout: config.header_timeout,
            shutdown_grace: config.shutdown_grace,
        }
    }
}

/// What runs beside the connections, and after them.
pub(crate) struct Lifecycle {
    /// Runs while the server serves; stopped when it stops (a timer, say).
    pub(crate) background: Option<BoxFuture<()>>,
    /// Runs once the requests in flight are done (a last checkpoint, say).
    pub(crate) finally: Option<BoxFuture<()>>,
}

/// Binds `addr` and serves on a runtime of its own (one worker per core) in a thread of its
/// own; returns once it listens.
pub(crate) fn spawn(
    addr: SocketAddr,
    limits: Limits,
    handler: Handler,
    lifecycle: Lifecycle,
) -> Result<ServerHandle, ServerError> {
    let failed = |source| ServerError::Start { addr, source };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("warrant-server")
        .build()
        .map_err(failed)?;
    let listener = runtime
        .block_on(TcpListener::bind(addr))
        .and_then(|l| l.local_addr().map(|a| (l, a)));
    let (listener, local) = listener.map_err(failed)?;
    let (stop, stopped) = oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("warrant-server".into())
        .spawn(move || runtime.block_on(serve(listener, limits, handler, lifecycle, stopped)))
        .map_err(failed)?;
    Ok(ServerHandle {
        addr: local,
        stop: Some(stop),
        thread: Some(thread),
    })
}

/// Serves until `stop` fires (or its sender is dropped), then drains and runs `finally`.
async fn serve(
    listener: TcpListener,
    limits: Limits,
    handler: Handler,
    lifecycle: Lifecycle,
    mut stop: oneshot::Receiver<()>,
) {
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let background = lifecycle.background.map(tokio::spawn);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit,
            _ = &mut stop => break,
        };
        let Ok(permit) = permit else { break };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of descriptors, or a connection reset before it was accepted: pause
                // rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let handler = Arc::clone(&handler);
        let service = service_fn(move |req| {
            let answer = handler(req, peer);
            async move { Ok::<_, Infallible>(answer.await) }
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    if let Some(background) = background {
        background.abort();
    }
    let _ = tokio::time::timeout(limits.shutdown_grace, graceful.shutdown()).await;
    if let Some(finally) = lifecycle.finally {
        finally.await;
    }
}

/// Why a request body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Longer than allowed (by `Content-Length`, or as it arrived).
    TooLarge,
    /// Not complete within the time allowed.
    Slow,
    /// The connection failed while reading it.
    Broken(String),
}

/// The body of `req`: refused early by its declared length and late by its actual one,
/// within `timeout` (a client trickling bytes is cut off).
pub(crate) async fn read_body(
    req: Request<Incoming>,
    max: usize,
    timeout: Duration,
) -> Result<bytes::Bytes, BodyError> {
    use http_body_util::BodyExt as _;
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max as u64) {
        return Err(BodyError::TooLarge);
    }
    let collect = http_body_util::Limited::new(req.into_body(), max).collect();
    match tokio::time::timeout(timeout, collect).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge),
        Ok(Err(e)) => Err(BodyError::Broken(e.to_string())),
        Err(_) => Err(BodyError::Slow),
    }
}
