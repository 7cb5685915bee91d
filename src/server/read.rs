//! The read endpoints: checkpoint, tiles, entries, proofs, bundles. Each is a blocking call
//! on the ledger (the dispatcher runs it on the blocking pool) that answers bytes or a
//! refusal.

use hyper::StatusCode;

use super::Route;
use super::reply::{self, COSE, OCTETS, Refusal, Reply, TEXT};
use crate::ledger::{Ledger, LedgerError};
use crate::store::{Storage, StoreError};

/// Answers a read route (never `Add` or `Metrics`, which the dispatcher handles).
pub(crate) fn answer<S: Storage>(ledger: &Ledger<S>, route: &Route) -> Result<Reply, Refusal> {
    match route {
        Route::Checkpoint => match ledger.latest_checkpoint().map_err(refusal)? {
            Some(note) => Ok(reply::mutable(TEXT, note)),
            None => Err(no_checkpoint()),
        },
        Route::Tile(tile) => {
            let mut reply = reply::immutable(OCTETS, ledger.tile(tile).map_err(refusal)?);
            // tlog-tiles is SHA-256; a BLAKE3 log's tiles say what they are.
            let profile = hyper::header::HeaderValue::from_static(ledger.profile().name());
            reply.headers_mut().insert("warrant-hash", profile);
            Ok(reply)
        }
        Route::Entry(index) => Ok(reply::immutable(
            COSE,
            ledger.entry(*index).map_err(refusal)?,
        )),
        Route::Bundle(task) => {
            let bundle = ledger.export_bundle(task, None).map_err(refusal)?;
            Ok(reply::mutable(reply::CBOR, bundle))
        }
        Route::Inclusion { index, size } => {
            let size = size_or_latest(ledger, *size)?;
            let proof = ledger.prove_inclusion(*index, size).map_err(refusal)?;
            Ok(sized(reply::immutable(OCTETS, proof.to_bytes()), size))
        }
        Route::Consistency { old, new } => {
            let new = size_or_latest(ledger, *new)?;
            let proof = ledger.prove_consistency(*old, new).map_err(refusal)?;
            Ok(sized(reply::immutable(OCTETS, proof.to_bytes()), new))
        }
        Route::Add | Route::Metrics => Err(Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "not a read route",
        )),
    }
}

/// The size a proof is made at: the one asked for, or the latest checkpoint's.
fn size_or_latest<S: Storage>(ledger: &Ledger<S>, size: Option<u64>) -> Result<u64, Refusal> {
    if let Some(size) = size {
        return Ok(size);
    }
    let latest = ledger.latest_checkpoint_size().map_err(refusal)?;
    latest.ok_or_else(no_checkpoint)
}

/// Proofs say which tree size they are for (the client may have let it default).
fn sized(mut reply: Reply, size: u64) -> Reply {
    reply
        .headers_mut()
        .insert("warrant-tree-size", hyper::header::HeaderValue::from(size));
    reply
}

fn no_checkpoint() -> Refusal {
    Refusal::new(
        StatusCode::NOT_FOUND,
        "no_checkpoint",
        "no checkpoint has been signed yet",
    )
}

/// A ledger error as an answer: what the client named wrongly is a 4xx, the rest a 500.
fn refusal(e: LedgerError) -> Refusal {
    let message = e.to_string();
    let (status, reason) = match e {
        LedgerError::TileOutOfRange { .. } => (StatusCode::NOT_FOUND, "not_in_log"),
        LedgerError::Store(StoreError::OutOfRange { .. }) => (StatusCode::NOT_FOUND, "not_in_log"),
        LedgerError::UnknownTask(_) => (StatusCode::NOT_FOUND, "unknown_task"),
        LedgerError::NoCheckpoint => (StatusCode::NOT_FOUND, "no_checkpoint"),
        LedgerError::Prove(_) => (StatusCode::BAD_REQUEST, "bad_range"),
        // The log holds an entry the 16-bit lengths of a bundle cannot carry: the server
        // cannot serve this bundle at all (GET /entry/<i> serves the entry alone).
        LedgerError::EntryTooLongForBundle { .. } => {
            (StatusCode::NOT_IMPLEMENTED, "entry_too_long_for_bundle")
        }
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    };
    Refusal::new(status, reason, message)
}
