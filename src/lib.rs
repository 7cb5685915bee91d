//! # warrant-ledger
//!
//! Signed, verifiable evidence of what AI agents did and who authorised it.
//!
//! This crate builds an append-only Merkle log (RFC 6962 construction, BLAKE3 or SHA-256)
//! with signed C2SP checkpoints, inclusion and consistency proofs for any past size.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod checkpoint;
mod encoding;
pub mod keys;
pub mod merkle;
