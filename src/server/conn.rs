//! Accepting connections, dispatching requests, the checkpoint timer, and shutdown.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};

use super::reply::{Refusal, Reply};
use super::route::RouteError;
use super::{RequestLog, Route, State, add, read, reply};
use crate::store::Storage;

/// Serves until `stop` fires (or its sender is dropped), then drains and checkpoints.
pub(crate) async fn serve<S: Storage + 'static>(
    state: Arc<State<S>>,
    listener: TcpListener,
    mut stop: oneshot::Receiver<()>,
) {
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(state.config.max_connections.max(1)));
    let checkpointer = tokio::spawn(checkpoint_every(state.clone()));
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
        let for_service = state.clone();
        let service = service_fn(move |req| handle(for_service.clone(), req, peer));
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(state.config.header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    checkpointer.abort();
    let _ = tokio::time::timeout(state.config.shutdown_grace, graceful.shutdown()).await;
    // Every acknowledged entry is under a signed checkpoint when the server stops.
    let ledger = state.ledger.clone();
    let _ = tokio::task::spawn_blocking(move || ledger.checkpoint()).await;
}

/// Signs a checkpoint each interval if the log grew (the ledger signs nothing otherwise).
async fn checkpoint_every<S: Storage + 'static>(state: Arc<State<S>>) {
    let mut ticks = tokio::time::interval(state.config.checkpoint_interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let ledger = state.ledger.clone();
        let signed = tokio::task::spawn_blocking(move || ledger.checkpoint()).await;
        state.metrics.checkpoint(matches!(signed, Ok(Ok(_))));
    }
}

async fn handle<S: Storage + 'static>(
    state: Arc<State<S>>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Result<Reply, Infallible> {
    let started = Instant::now();
    state.metrics.request();
    let method = req.method().as_str().to_owned();
    let route = Route::parse(&method, req.uri().path(), req.uri().query());
    let (reply, route_name, entries, reason) = match route {
        Ok(Route::Add) => {
            let added = add::add(state.clone(), req).await;
            (added.reply, "add", added.entries, added.reason)
        }
        Ok(route) => {
            let name = route.name();
            match answer(&state, route).await {
                Ok(reply) => (reply, name, 0, None),
                Err(refusal) => (refusal.reply(), name, 0, Some(refusal.reason)),
            }
        }
        Err(e) => {
            let refusal = route_refusal(e);
            (refusal.reply(), "unknown", 0, Some(refusal.reason))
        }
    };
    if let Some(log) = &state.log {
        log(&RequestLog {
            peer,
            method,
            route: route_name,
            status: reply.status().as_u16(),
            entries,
            reason,
            took: started.elapsed(),
        });
    }
    Ok(reply)
}

/// A read route, on the blocking pool (the ledger reads files).
async fn answer<S: Storage + 'static>(
    state: &Arc<State<S>>,
    route: Route,
) -> Result<Reply, Refusal> {
    if route == Route::Metrics {
        let text = state.metrics.render(state.ledger.size());
        return Ok(reply::mutable(
            "text/plain; version=0.0.4; charset=utf-8",
            text.into_bytes(),
        ));
    }
    let ledger = state.ledger.clone();
    tokio::task::spawn_blocking(move || read::answer(&ledger, &route))
        .await
        .unwrap_or_else(|_| {
            Err(Refusal::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the read panicked",
            ))
        })
}

fn route_refusal(e: RouteError) -> Refusal {
    match e {
        RouteError::NotFound => Refusal::new(StatusCode::NOT_FOUND, "not_found", "no such path"),
        RouteError::Method { allow } => Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("this path takes {allow}"),
        ),
        RouteError::Tile(e) => {
            Refusal::new(StatusCode::BAD_REQUEST, "bad_tile_path", e.to_string())
        }
        RouteError::Query(what) => Refusal::new(StatusCode::BAD_REQUEST, "bad_query", what),
        RouteError::Task => Refusal::new(StatusCode::BAD_REQUEST, "bad_task", "not a task id"),
        RouteError::Index => Refusal::new(
            StatusCode::BAD_REQUEST,
            "bad_index",
            "not a canonical decimal index",
        ),
    }
}
