//! The ledger server's requests dispatched to their routes, its checkpoint timer, and its
//! last checkpoint on shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use hyper::body::Incoming;
use hyper::{Request, StatusCode};

use super::reply::{Refusal, Reply};
use super::route::RouteError;
use super::{RequestLog, Route, ServerError, ServerHandle, State, add, http, read, reply};
use crate::store::Storage;

/// Serves `state`'s ledger: the HTTP machinery with this server's routes, a checkpoint
/// timer beside it, and a last checkpoint after the requests in flight.
pub(crate) fn spawn<S: Storage + 'static>(
    state: Arc<State<S>>,
    addr: SocketAddr,
) -> Result<ServerHandle, ServerError> {
    let limits = http::Limits::from(&state.config);
    let for_handler = Arc::clone(&state);
    let handler: http::Handler =
        Arc::new(move |req, peer| Box::pin(handle(Arc::clone(&for_handler), req, peer)));
    let ledger = Arc::clone(&state.ledger);
    let lifecycle = http::Lifecycle {
        background: Some(Box::pin(checkpoint_every(state))),
        // Every acknowledged entry is under a signed checkpoint when the server stops.
        finally: Some(Box::pin(async move {
            let _ = tokio::task::spawn_blocking(move || ledger.checkpoint()).await;
        })),
    };
    http::spawn(addr, limits, handler, lifecycle)
}

/// Signs a checkpoint each interval if the log grew (the ledger signs nothing otherwise);
/// a server without the key (a follower) catches up with the writer instead.
async fn checkpoint_every<S: Storage + 'static>(state: Arc<State<S>>) {
    let mut ticks = tokio::time::interval(state.config.checkpoint_interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let ledger = state.ledger.clone();
        if ledger.is_read_only() {
            let _ = tokio::task::spawn_blocking(move || ledger.refresh()).await;
            continue;
        }
        let signed = tokio::task::spawn_blocking(move || ledger.checkpoint()).await;
        state.metrics.checkpoint(matches!(signed, Ok(Ok(_))));
    }
}

async fn handle<S: Storage + 'static>(
    state: Arc<State<S>>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Reply {
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
    reply
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
