//! # warrant-ledger
//!
//! Signed, verifiable evidence of what AI agents did and who authorised it.
//!
//! Services emit typed governance events ([`event`]) as deterministic CBOR ([`cbor`]) signed
//! in COSE_Sign1 envelopes ([`envelope`]); a ledger ([`ledger`], over a [`store`]) checks them
//! against a trust policy ([`trust`]) and appends them to an append-only Merkle log
//! ([`merkle`], RFC 6962 in a BLAKE3 or SHA-256 profile) whose tree heads are signed
//! checkpoints ([`checkpoint`], C2SP `tlog-checkpoint` in a C2SP `signed-note`); an auditor
//! receives one evidence bundle per task ([`bundle`]) and verifies it offline ([`audit`]).
//! [`demo`] builds a realistic deployment; `examples/emit_evidence.rs` shows a service side.
//!
//! The example below is the log core on its own: an operator signs checkpoints, an auditor
//! checks inclusion and consistency against them.
//!
//! ```
//! use warrant_ledger::checkpoint::{Checkpoint, NoteSigner, open_checkpoint};
//! use warrant_ledger::merkle::{
//!     HashProfile, MemoryNodes, prove_consistency, prove_inclusion, root_at,
//!     verify_consistency, verify_inclusion,
//! };
//!
//! // The operator appends entries and signs a checkpoint for the current size.
//! let profile = HashProfile::Blake3;
//! let log_key = NoteSigner::generate("example.com/agents")?;
//! let mut log = MemoryNodes::new(profile);
//! for entry in [&b"task opened"[..], b"decision: allow", b"credential issued"] {
//!     log.append(entry);
//! }
//! let sign_at = |size| -> Result<Vec<u8>, Box<dyn std::error::Error>> {
//!     let root = root_at(profile, &log, size)?;
//!     let body = Checkpoint { origin: "example.com/agents".into(), size, root, extensions: vec![] };
//!     Ok(body.sign(&[&log_key])?)
//! };
//! let old_note = sign_at(2)?;
//! let new_note = sign_at(3)?;
//!
//! // The auditor pins the origin and the log's verifier key, and trusts nothing else.
//! let pinned = [log_key.verifier()];
//! let old = open_checkpoint(&old_note, "example.com/agents", &pinned)?.tree_head();
//! let new = open_checkpoint(&new_note, "example.com/agents", &pinned)?.tree_head();
//!
//! // Entry 2 is in the log, and the log only grew between the two checkpoints.
//! let inclusion = prove_inclusion(profile, &log, 2, new.size)?;
//! verify_inclusion(profile, &profile.leaf_hash(b"credential issued"), &inclusion, &new)?;
//! let consistency = prove_consistency(profile, &log, old.size, new.size)?;
//! verify_consistency(profile, &consistency, &old, &new)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
// Input paths return errors; a panic there would be a denial of service.
#![warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod audit;
pub mod bundle;
pub mod cbor;
pub mod checkpoint;
pub mod demo;
mod encoding;
pub mod envelope;
pub mod event;
pub mod keys;
pub mod ledger;
pub mod merkle;
mod parallel;
pub mod store;
pub mod trust;
