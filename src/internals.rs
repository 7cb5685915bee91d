//! **Not part of the API.** Hooks through which this crate's own fuzz targets, benches, CLI
//! and integration tests reach what the library keeps private: the batch verifier (raw, for
//! the speed reference and its differential fuzzing), the generic CBOR value codec (an
//! oracle for the strict one), and each of the strict readers alone (for the differential
//! fuzz target `cbor_readers`). Hidden from the docs and outside semver: anything here may
//! change or go in any release. See `docs/public-api.md`.

pub use crate::cbor::value::{parse_value, value_to_vec};
pub use crate::envelope::batch::{Signed, verify_all};

use crate::cbor::{CborError, Limits};
use crate::envelope::Protected;

/// The structural canonical-CBOR checker alone: every rule of the strict decode but the typed
/// round trip.
///
/// # Errors
/// The first rule `bytes` break.
pub fn check_canonical(bytes: &[u8], limits: Limits) -> Result<(), CborError> {
    crate::cbor::check(bytes, limits)
}

/// A protected header decoded strictly and encoded again (`None` if it is refused): the
/// differential fuzz target checks that whatever is accepted is the one encoding.
#[must_use]
pub fn header_round_trip(bytes: &[u8]) -> Option<Vec<u8>> {
    Protected::decode(bytes).ok()?.encode().ok()
}

/// Whether a request names a route of the ledger server (fuzz target `server_requests`).
#[cfg(feature = "server")]
#[must_use]
pub fn server_route_ok(method: &str, path: &str, query: Option<&str>) -> bool {
    crate::server::Route::parse(method, path, query).is_ok()
}

/// The envelopes the ledger server reads from an `/add` body, or `None` if it refuses the
/// body (fuzz target `server_requests`).
#[cfg(feature = "server")]
#[must_use]
pub fn server_split_add_body(body: &[u8], max_entry: usize) -> Option<Vec<Vec<u8>>> {
    crate::server::split_add_body(body, max_entry).ok()
}

/// A witness `add-checkpoint` body split (old size, proof hashes, the checkpoint's bytes),
/// or `None` if it is refused (fuzz target `server_requests`).
#[must_use]
pub fn witness_request(body: &[u8]) -> Option<(u64, usize, &[u8])> {
    let r = crate::witness::parse_request(body).ok()?;
    Some((r.old, r.proof.len(), r.checkpoint))
}

/// A PostgreSQL connection made as `PgStore`'s are (TLS and `sslrootcert` included), for
/// `warrant bench --store`'s own queries.
///
/// # Errors
/// [`crate::store::StoreError::Database`].
#[cfg(feature = "postgres")]
pub fn pg_connect(config: &str) -> Result<postgres::Client, crate::store::StoreError> {
    crate::store::pg_connect(config)
}
