//! `POST /add`: admit (or answer 503), read the body within its limits and time, split it
//! into envelopes, append them as one all-or-nothing batch, answer the indices once durable.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Request, StatusCode, header};

use super::State;
use super::http::{self, BodyError};
use super::metrics::Reject;
use super::reply::{self, Refusal, Reply};
use crate::cbor::Limits;
use crate::envelope::{SequenceError, SequenceReader};
use crate::ledger::AppendError;
use crate::store::Storage;

/// What an `/add` came to: the answer, how many entries it carried, and the refusal reason.
pub(crate) struct Added {
    pub(crate) reply: Reply,
    pub(crate) entries: usize,
    pub(crate) reason: Option<&'static str>,
}

impl Added {
    fn refused(state: &State<impl Storage>, why: Reject, refusal: Refusal) -> Self {
        state.metrics.reject(why);
        Self {
            reply: refusal.reply(),
            entries: 0,
            reason: Some(why.name()),
        }
    }
}

pub(crate) async fn add<S: Storage + 'static>(
    state: Arc<State<S>>,
    req: Request<Incoming>,
) -> Added {
    state.metrics.add_request();
    // Admission before the body is read: memory held by bodies stays within the queue.
    let Ok(permit) = state.queue.clone().try_acquire_owned() else {
        return overloaded(&state);
    };
    if state.ledger.is_read_only() {
        return not_leader(&state);
    }
    let body = match read_body(&state, req).await {
        Ok(body) => body,
        Err((why, refusal)) => return Added::refused(&state, why, refusal),
    };
    let items = match split(&body, state.config.max_entry) {
        Ok(items) => items,
        Err(refusal) => return Added::refused(&state, Reject::Malformed, refusal),
    };
    let started = Instant::now();
    let ledger = state.ledger.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let refs: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
        ledger.append_batch(&refs)
    })
    .await;
    drop(permit);
    state.metrics.commit(started.elapsed());
    match joined {
        Ok(Ok(indices)) => {
            state.metrics.appended(indices.len());
            let body = serde_json::json!({ "indices": indices }).to_string();
            Added {
                reply: reply::with(
                    StatusCode::OK,
                    "application/json",
                    "no-store",
                    body.into_bytes(),
                ),
                entries: indices.len(),
                reason: None,
            }
        }
        Ok(Err(e)) if is_deposed(&e) => not_leader(&state),
        Ok(Err(e)) => {
            let (why, refusal) = append_refusal(&e);
            Added::refused(&state, why, refusal)
        }
        Err(_) => Added::refused(
            &state,
            Reject::Storage,
            Refusal::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "storage",
                "the append panicked",
            ),
        ),
    }
}

fn overloaded<S: Storage>(state: &State<S>) -> Added {
    unavailable(
        state,
        Reject::Overloaded,
        "too many appends in flight; retry after the delay given",
    )
}

/// A follower, or a leader another server replaced, refuses writes (it does not forward
/// them: the client, or the balancer in front, sends them to the leader).
fn not_leader<S: Storage>(state: &State<S>) -> Added {
    unavailable(
        state,
        Reject::NotLeader,
        "this server does not sequence the log; send appends to the leader",
    )
}

/// A 503 with `Retry-After`.
fn unavailable<S: Storage>(state: &State<S>, why: Reject, message: &'static str) -> Added {
    let refusal = Refusal::new(StatusCode::SERVICE_UNAVAILABLE, why.name(), message);
    let mut added = Added::refused(state, why, refusal);
    added.reply.headers_mut().insert(
        header::RETRY_AFTER,
        header::HeaderValue::from(state.config.retry_after_secs),
    );
    added
}

/// The append failed because this server no longer leads (or never could append).
fn is_deposed(e: &AppendError) -> bool {
    match e {
        AppendError::ReadOnly => true,
        #[cfg(feature = "postgres")]
        AppendError::Store(s) => matches!(*s.0, crate::store::StoreError::Deposed),
        _ => false,
    }
}

/// The body within the limits, or the refusal that says why not.
async fn read_body<S: Storage>(
    state: &State<S>,
    req: Request<Incoming>,
) -> Result<Bytes, (Reject, Refusal)> {
    let max = state.config.max_body;
    match http::read_body(req, max, state.config.body_timeout).await {
        Ok(body) => Ok(body),
        Err(BodyError::TooLarge) => {
            let message = format!("the body is larger than {max} bytes");
            Err((
                Reject::TooLarge,
                Refusal::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message),
            ))
        }
        Err(BodyError::Slow) => Err((
            Reject::SlowBody,
            Refusal::new(
                StatusCode::REQUEST_TIMEOUT,
                "slow_body",
                "the body did not arrive in time",
            ),
        )),
        Err(BodyError::Broken(e)) => Err((
            Reject::Malformed,
            Refusal::new(
                StatusCode::BAD_REQUEST,
                "malformed",
                format!("reading the body: {e}"),
            ),
        )),
    }
}

/// The envelopes of a body: one envelope, or a CBOR sequence of them.
pub(crate) fn split(body: &[u8], max_entry: usize) -> Result<Vec<Vec<u8>>, Refusal> {
    let limits = Limits::default().with_max_len(max_entry);
    let mut items = Vec::new();
    for item in SequenceReader::new(body, limits, body.len() as u64) {
        items.push(item.map_err(|e| malformed(&e))?);
    }
    if items.is_empty() {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "malformed",
            "the body holds no envelope",
        ));
    }
    Ok(items)
}

fn malformed(e: &SequenceError) -> Refusal {
    let refusal = Refusal::new(StatusCode::BAD_REQUEST, "malformed", e.to_string());
    match e {
        SequenceError::NotAnEnvelope { item, .. }
        | SequenceError::Malformed { item, .. }
        | SequenceError::Truncated { item } => {
            refusal.at(usize::try_from(*item).unwrap_or(usize::MAX))
        }
        _ => refusal,
    }
}

/// An append's refusal: the same reasons as [`AppendError`], each with its status.
fn append_refusal(e: &AppendError) -> (Reject, Refusal) {
    let message = e.to_string();
    let unprocessable =
        |reason| Refusal::new(StatusCode::UNPROCESSABLE_ENTITY, reason, message.clone());
    match e {
        AppendError::Rejected { position, .. } => {
            (Reject::Rejected, unprocessable("rejected").at(*position))
        }
        AppendError::Time { position, .. } => (
            Reject::Time,
            unprocessable("implausible_time").at(*position),
        ),
        AppendError::DuplicateInBatch { position } => (
            Reject::DuplicateInBatch,
            unprocessable("duplicate_in_batch").at(*position),
        ),
        AppendError::DuplicateEventId { position, existing } => {
            let refusal = Refusal::new(StatusCode::CONFLICT, "duplicate_event_id", message.clone());
            (
                Reject::DuplicateEventId,
                refusal.at(*position).existing(*existing),
            )
        }
        // Storage failed (the batch may be durable: a retry answers its indices), or the
        // ledger cannot append at all.
        _ => (
            Reject::Storage,
            Refusal::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "storage",
                message.clone(),
            ),
        ),
    }
}
