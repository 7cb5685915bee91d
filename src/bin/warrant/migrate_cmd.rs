//! `warrant migrate FROM TO`: a ledger copied between a directory and PostgreSQL, checked.

use std::path::Path;

use anyhow::Result;
use warrant_ledger::ledger::{CopyReport, Ledger};
use warrant_ledger::store::Storage;
use warrant_ledger::trust::TrustPolicy;

use crate::cli_io::Outcome;

/// A `postgres://` or `postgresql://` URL names a database; anything else a directory.
pub(crate) fn is_database(place: &str) -> bool {
    place.starts_with("postgres://") || place.starts_with("postgresql://")
}

pub(crate) fn run(from: &str, to: &str, json: bool) -> Result<Outcome> {
    let report = if is_database(from) {
        copy_to(&Ledger::lock_in_postgres(from)?, to)?
    } else {
        copy_to(
            &Ledger::open_exclusive(Path::new(from), TrustPolicy::default())?,
            to,
        )?
    };
    if json {
        crate::cli_io::print_json(&serde_json::json!({
            "entries": report.entries,
            "checkpoints": report.checkpoints,
        }))?;
    } else {
        println!(
            "copied {} entries and {} checkpoints; the copy holds the same roots and checkpoints",
            report.entries, report.checkpoints
        );
    }
    Ok(Outcome::Success)
}

fn copy_to<S: Storage>(from: &Ledger<S>, to: &str) -> Result<CopyReport> {
    Ok(if is_database(to) {
        Ledger::create_copy_in_postgres(to, from)?.1
    } else {
        Ledger::create_copy(Path::new(to), from)?.1
    })
}
