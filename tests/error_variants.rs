//! Every variant of every public error enum is reached by a real operation.
//!
//! The list of variants is not kept by hand: it is read from the enums' source, so a new
//! variant with no case here fails `every_public_error_variant_is_reached`. Each case does
//! what a caller (or an attacker) would do to get that error, and checks the variant with a
//! pattern, so a case that stops producing its variant fails too.

mod common;

#[path = "error_variants/checkpoint.rs"]
mod checkpoint;
#[path = "error_variants/encoding.rs"]
mod encoding;
#[path = "error_variants/ledger.rs"]
mod ledger;
#[path = "error_variants/merkle.rs"]
mod merkle;
#[cfg(feature = "postgres")]
#[path = "common/pg.rs"]
mod pg;
#[path = "error_variants/receipt.rs"]
mod receipt;
#[cfg(all(feature = "server", feature = "client"))]
#[path = "error_variants/server.rs"]
mod server;
#[path = "error_variants/trust.rs"]
mod trust;
#[path = "error_variants/witness.rs"]
mod witness;

use std::collections::BTreeSet;
use std::path::Path;

/// Variants reached so far, as `Enum::Variant`.
pub(crate) type Reached = BTreeSet<&'static str>;

/// Checks that `$err` is `$enum::$variant` and records it.
macro_rules! reach {
    ($seen:expr, $enum:ident :: $variant:ident, $err:expr) => {{
        let err = &$err;
        assert!(
            matches!(err, $enum::$variant { .. }),
            "expected {}::{}, got {err:?}",
            stringify!($enum),
            stringify!($variant)
        );
        $seen.insert(concat!(stringify!($enum), "::", stringify!($variant)));
    }};
}
pub(crate) use reach;

/// The error of a result that must have failed.
#[track_caller]
pub(crate) fn err<T, E>(r: Result<T, E>) -> E {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

/// A ledger holding one sample event of a task, and that task's bundle.
pub(crate) fn sample_bundle(dir: &Path) -> (warrant_ledger::ledger::Ledger, Vec<u8>) {
    use warrant_ledger::envelope;
    let ledger = common::sample_ledger(dir, warrant_ledger::merkle::HashProfile::Blake3);
    let event = &common::sample_events()[1];
    let signed = envelope::sign(event, &common::test_key()).expect("sign");
    ledger.append(signed.bytes()).expect("append");
    let task = event.task.expect("a task event");
    let bytes = ledger.export_bundle(&task, None).expect("export");
    (ledger, bytes)
}

#[test]
fn every_public_error_variant_is_reached() {
    let mut seen = Reached::new();
    encoding::reach_all(&mut seen);
    checkpoint::reach_all(&mut seen);
    merkle::reach_all(&mut seen);
    trust::reach_all(&mut seen);
    ledger::reach_all(&mut seen);
    witness::reach_all(&mut seen);
    receipt::reach_all(&mut seen);
    #[cfg(all(feature = "server", feature = "client"))]
    server::reach_all(&mut seen);
    #[cfg(feature = "postgres")]
    seen.extend(postgres_errors());
    let mut declared = declared_variants(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")));
    // The database's error exists only in builds with the store that makes it.
    if !cfg!(feature = "postgres") {
        declared.remove("StoreError::Database");
    }
    if !seen.contains("StoreError::Deposed") {
        // Only a real PostgreSQL reaches it (skipped above with a printed reason).
        declared.remove("StoreError::Deposed");
    }
    let missing: Vec<&String> = declared
        .iter()
        .filter(|v| !seen.contains(v.as_str()))
        .collect();
    let stale: Vec<&&str> = seen.iter().filter(|v| !declared.contains(**v)).collect();
    assert!(missing.is_empty(), "variants no case reaches: {missing:?}");
    assert!(
        stale.is_empty(),
        "cases for variants that no longer exist: {stale:?}"
    );
}

/// `PgStore`'s own variant: reached without a server (nothing listens on port 9); the
/// other database faults are in tests/pg_store.rs, on a real cluster.
#[cfg(feature = "postgres")]
fn postgres_errors() -> Reached {
    use warrant_ledger::ledger::LedgerError;
    use warrant_ledger::store::{PgStore, StoreError};
    let mut seen = Reached::new();
    reach!(
        seen,
        StoreError::Database,
        err(PgStore::open(
            "host=127.0.0.1 port=9 user=nobody connect_timeout=2"
        ))
    );
    // A leader whose epoch a successor took: its next batch is refused. Needs a server:
    // without one (and without WARRANT_REQUIRE_POSTGRES) the variant is left out below.
    if let Some(cluster) = pg::cluster_or_skip() {
        let url = cluster.database("variants");
        drop(PgStore::create(&url, warrant_ledger::merkle::HashProfile::Sha256).expect("create"));
        // A log without its ledger descriptor (a creation that did not finish).
        reach!(
            seen,
            LedgerError::IncompleteDatabase,
            err(warrant_ledger::ledger::Ledger::follow(&url))
        );
        let leader = PgStore::lead(&url, std::time::Duration::from_secs(5)).expect("lead");
        let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        admin
            .execute("UPDATE warrant_meta SET epoch = epoch + 1", &[])
            .expect("a successor's epoch");
        let entries = common::conformance_entries(1);
        let batch: Vec<_> = entries
            .iter()
            .map(|e| e.as_new(warrant_ledger::merkle::HashProfile::Sha256))
            .collect();
        reach!(
            seen,
            StoreError::Deposed,
            err(warrant_ledger::store::Storage::append(&leader, &batch))
        );
    }
    seen
}

/// The reader of the enums must see them all, or the check above proves little.
#[test]
fn the_variant_list_is_read_from_the_source() {
    let declared = declared_variants(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")));
    for v in [
        "CborError::TooLarge",
        "CborError::NotCanonical",
        "ProveError::Read",
        "LedgerError::Gate",
        "PolicyError::Tier",
        "EnvelopeError::SignerBadSignature",
    ] {
        assert!(declared.contains(v), "{v} not found");
    }
    assert!(declared.len() > 140, "{}", declared.len());
    let enums: BTreeSet<&str> = declared
        .iter()
        .filter_map(|v| v.split("::").next())
        .collect();
    assert!(enums.len() >= 21, "{enums:?}");
}

/// `Enum::Variant` for every variant of every `pub enum …Error` in the library's source
/// (the CLI's own errors are not the library's API).
fn declared_variants(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            // The CLI's errors are not the library's; the server's and the client's are
            // API only in builds with their features.
            let skipped = |n: &std::ffi::OsStr| {
                n == "bin"
                    || (n == "server" && !cfg!(feature = "server"))
                    || (n == "client" && !cfg!(feature = "client"))
            };
            if path.file_name().is_some_and(|n| !skipped(n)) {
                out.extend(declared_variants(&path));
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("read file");
            out.extend(error_enums(&text));
        }
    }
    out
}

/// The variants of the public error enums in one file: the identifiers at the top level of
/// each enum's body (attributes and fields are inside brackets, so a depth count over
/// `{}`, `()` and `[]`, skipping comments and string literals, finds exactly them).
fn error_enums(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("pub enum ") {
        rest = &rest[at + "pub enum ".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let Some(open) = rest.find('{') else { break };
        if !name.ends_with("Error") {
            continue;
        }
        let body = &rest[open + 1..];
        out.extend(
            top_level_idents(body)
                .into_iter()
                .map(|v| format!("{name}::{v}")),
        );
    }
    out
}

/// Identifiers at depth 0 of `body`, up to its closing brace.
fn top_level_idents(body: &str) -> Vec<String> {
    let bytes = body.as_bytes();
    let (mut i, mut depth, mut out) = (0, 0usize, Vec::new());
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = body[i..].find('\n').map_or(bytes.len(), |n| i + n);
                continue;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'(' | b'[' => depth += 1,
            b'}' if depth == 0 => break,
            b'}' | b')' | b']' => depth -= 1,
            _ if depth == 0 && c.is_ascii_uppercase() => {
                let len = body[i..]
                    .find(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
                    .unwrap_or(body.len() - i);
                out.push(body[i..i + len].to_owned());
                i += len;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}
