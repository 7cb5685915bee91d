//! `warrant export --format tlog-proof|cose-receipt` and `warrant verify` of those files:
//! the standard proof formats of SHA-256 logs (docs/receipts.md).

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use warrant_ledger::event::TaskId;
use warrant_ledger::receipt::{Proven, TLOG_PROOF_HEADER, verify_cose_receipt, verify_tlog_proof};

use crate::cli_io::{Input, Outcome, print_json, read_file};
use crate::ledger_cmd::{load_trust, open, open_reader};

/// A format `warrant export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// An evidence bundle (the auditor's input for the governance verdict).
    Bundle,
    /// C2SP tlog-proof per entry (SHA-256 logs).
    TlogProof,
    /// COSE Receipt (RFC 9942) per entry (SHA-256 logs; signed now by the log key).
    CoseReceipt,
}

/// Writes, in the directory `out`, `<index>.tlog-proof` or `<index>.receipt` and
/// `<index>.entry` (the logged bytes) for each entry of `task` the latest checkpoint holds.
pub(crate) fn export(dir: &Path, task: &TaskId, format: Format, out: &Path) -> Result<Outcome> {
    // A receipt is signed now, by the log key: the writer's open; a tlog-proof reads.
    let ledger = if format == Format::CoseReceipt {
        open(dir)?
    } else {
        open_reader(dir)?
    };
    let covered = ledger.latest_checkpoint_size()?.unwrap_or(0);
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut written = 0;
    for index in ledger
        .task_entries(task)?
        .into_iter()
        .filter(|&i| i < covered)
    {
        let (proof, ext) = match format {
            Format::TlogProof => (ledger.tlog_proof(index)?, "tlog-proof"),
            Format::CoseReceipt => (ledger.cose_receipt(index)?, "receipt"),
            Format::Bundle => bail!("a bundle is one file: use export without --format"),
        };
        std::fs::write(out.join(format!("{index}.{ext}")), proof)?;
        std::fs::write(out.join(format!("{index}.entry")), ledger.entry(index)?)?;
        written += 1;
    }
    eprintln!(
        "{written} entries of task {task} written to {}",
        out.display()
    );
    Ok(Outcome::Success)
}

/// Whether `bytes` start like a tlog-proof or a COSE receipt (not a bundle).
pub(crate) fn is_proof(head: &[u8]) -> bool {
    head.starts_with(TLOG_PROOF_HEADER.as_bytes()) || head.starts_with(&[0xd2, 0x84])
}

/// `warrant verify PROOF --entry ENTRY --trust T`.
pub(crate) fn verify(
    proof: &Path,
    entry: Option<&Path>,
    trust: &Path,
    json: bool,
) -> Result<Outcome> {
    let trust = load_trust(trust)?;
    let bytes = read_file(proof, Input::Note)?;
    let entry = entry
        .context("a tlog-proof or COSE Receipt is verified with --entry FILE (the logged bytes)")?;
    let entry = read_file(entry, Input::Envelope)?;
    let (kind, result) = if bytes.starts_with(TLOG_PROOF_HEADER.as_bytes()) {
        ("tlog-proof", verify_tlog_proof(&bytes, &entry, &trust))
    } else {
        ("COSE Receipt", verify_cose_receipt(&bytes, &entry, &trust))
    };
    report(kind, result, json)
}

fn report(
    kind: &str,
    result: Result<Proven, warrant_ledger::receipt::ReceiptError>,
    json: bool,
) -> Result<Outcome> {
    match result {
        Ok(p) => {
            if json {
                print_json(&serde_json::json!({
                    "format": kind,
                    "verdict": "pass",
                    "origin": p.origin,
                    "index": p.index,
                    "tree_size": p.head.size,
                    "root": p.head.root.to_hex(),
                    "cosigned_by": p.cosigned,
                }))?;
            } else {
                let witnesses = if p.cosigned.is_empty() {
                    String::new()
                } else {
                    format!(", cosigned by {}", p.cosigned.join(", "))
                };
                println!(
                    "pass: the entry is at index {} of the tree of size {} of {}{witnesses} ({kind})",
                    p.index, p.head.size, p.origin
                );
            }
            Ok(Outcome::Success)
        }
        Err(e) => Ok(Outcome::Failed(format!("{kind}: {e}"))),
    }
}
