//! `warrant merkle …`: roots and proofs over entries on standard input, and proof checks.

use std::path::PathBuf;

use anyhow::{Context as _, Result, anyhow, bail};
use clap::Subcommand;
use serde::{Deserialize, Serialize};
use warrant_ledger::merkle::{
    ConsistencyProof, Hash, HashProfile, InclusionProof, MemoryNodes, NodeId, NodeReader,
    ProveError, TreeHead, prove_consistency, prove_inclusion, root_at, verify_consistency,
    verify_inclusion,
};

use crate::cli_io::{Input, Outcome, print_json, read_entries, read_file};

#[derive(Subcommand)]
pub(crate) enum MerkleCommand {
    /// Prints the root of the first N entries (all by default).
    Root {
        /// Hash profile: blake3 or sha256.
        #[arg(long = "hash")]
        profile: HashProfile,
        /// Tree size; defaults to the number of entries.
        #[arg(long)]
        size: Option<u64>,
    },
    /// Prints an inclusion proof for one entry.
    Prove {
        /// Hash profile: blake3 or sha256.
        #[arg(long = "hash")]
        profile: HashProfile,
        /// Zero-based index of the entry.
        #[arg(long)]
        index: u64,
        /// Tree size; defaults to the number of entries.
        #[arg(long)]
        size: Option<u64>,
    },
    /// Prints a consistency proof between two tree sizes.
    ProveConsistency {
        /// Hash profile: blake3 or sha256.
        #[arg(long = "hash")]
        profile: HashProfile,
        /// The older tree size (at least 1).
        #[arg(long)]
        old: u64,
        /// The newer tree size; defaults to the number of entries.
        #[arg(long)]
        new: Option<u64>,
    },
    /// Verifies a proof (JSON as printed by `prove` or `prove-consistency`): exit 0 if valid.
    Verify {
        /// The proof file.
        proof: PathBuf,
        /// Root of the tree the proof is for (for consistency: the new root), in hex.
        #[arg(long)]
        root: String,
        /// For a consistency proof: the old root, in hex.
        #[arg(long)]
        old_root: Option<String>,
    },
}

#[derive(Serialize)]
struct RootOut {
    hash: &'static str,
    tree_size: u64,
    root: String,
}

/// An inclusion proof as the CLI prints and reads it (also `warrant prove inclusion`).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InclusionJson {
    pub hash: String,
    pub leaf_index: u64,
    pub tree_size: u64,
    pub leaf_hash: String,
    pub path: Vec<String>,
}

/// A consistency proof as the CLI prints and reads it (also `warrant prove consistency`).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConsistencyJson {
    pub hash: String,
    pub old_size: u64,
    pub new_size: u64,
    pub path: Vec<String>,
}

fn tree(profile: HashProfile) -> Result<MemoryNodes> {
    let mut nodes = MemoryNodes::new(profile);
    for e in read_entries()? {
        nodes.append(&e);
    }
    Ok(nodes)
}

pub(crate) fn hex_path(path: &[Hash]) -> Vec<String> {
    path.iter().map(Hash::to_hex).collect()
}

fn prove_err(e: ProveError<impl std::fmt::Display>) -> anyhow::Error {
    anyhow!("{e}")
}

pub(crate) fn run(cmd: MerkleCommand) -> Result<Outcome> {
    match cmd {
        MerkleCommand::Root { profile, size } => {
            let nodes = tree(profile)?;
            let size = size.unwrap_or(nodes.tree_size());
            let root = root_at(profile, &nodes, size).map_err(prove_err)?;
            print_json(&RootOut {
                hash: profile.name(),
                tree_size: size,
                root: root.to_hex(),
            })?;
        }
        MerkleCommand::Prove {
            profile,
            index,
            size,
        } => {
            let nodes = tree(profile)?;
            let size = size.unwrap_or(nodes.tree_size());
            let p = prove_inclusion(profile, &nodes, index, size).map_err(prove_err)?;
            let leaf = nodes.read_node(NodeId::leaf(index)).context("leaf hash")?;
            print_json(&InclusionJson {
                hash: profile.name().into(),
                leaf_index: index,
                tree_size: size,
                leaf_hash: leaf.to_hex(),
                path: hex_path(&p.path),
            })?;
        }
        MerkleCommand::ProveConsistency { profile, old, new } => {
            let nodes = tree(profile)?;
            let new = new.unwrap_or(nodes.tree_size());
            let p = prove_consistency(profile, &nodes, old, new).map_err(prove_err)?;
            print_json(&ConsistencyJson {
                hash: profile.name().into(),
                old_size: old,
                new_size: new,
                path: hex_path(&p.path),
            })?;
        }
        MerkleCommand::Verify {
            proof,
            root,
            old_root,
        } => {
            return verify(
                &read_file(&proof, Input::Proof)?,
                &root,
                old_root.as_deref(),
            );
        }
    }
    Ok(Outcome::Success)
}

fn parse_hash(text: &str, what: &str) -> Result<Hash> {
    Hash::from_hex(text).with_context(|| format!("{what} is not 64 hex digits"))
}

fn parse_path(path: &[String]) -> Result<Vec<Hash>> {
    path.iter()
        .enumerate()
        .map(|(i, h)| parse_hash(h, &format!("path[{i}]")))
        .collect()
}

fn verify(bytes: &[u8], root: &str, old_root: Option<&str>) -> Result<Outcome> {
    let value: serde_json::Value = serde_json::from_slice(bytes).context("proof is not JSON")?;
    let root = parse_hash(root, "--root")?;
    let result = if value.get("leaf_index").is_some() {
        let j: InclusionJson = serde_json::from_value(value).context("inclusion proof JSON")?;
        let profile: HashProfile = j.hash.parse()?;
        let leaf = parse_hash(&j.leaf_hash, "leaf_hash")?;
        let proof = InclusionProof {
            leaf_index: j.leaf_index,
            tree_size: j.tree_size,
            path: parse_path(&j.path)?,
        };
        verify_inclusion(
            profile,
            &leaf,
            &proof,
            &TreeHead {
                size: j.tree_size,
                root,
            },
        )
    } else if value.get("old_size").is_some() {
        let j: ConsistencyJson = serde_json::from_value(value).context("consistency proof JSON")?;
        let profile: HashProfile = j.hash.parse()?;
        let Some(old_root) = old_root else {
            bail!("a consistency proof needs --old-root")
        };
        let old = TreeHead {
            size: j.old_size,
            root: parse_hash(old_root, "--old-root")?,
        };
        let proof = ConsistencyProof {
            old_size: j.old_size,
            new_size: j.new_size,
            path: parse_path(&j.path)?,
        };
        verify_consistency(
            profile,
            &proof,
            &old,
            &TreeHead {
                size: j.new_size,
                root,
            },
        )
    } else {
        bail!("not a proof: expected leaf_index or old_size");
    };
    Ok(match result {
        Ok(()) => {
            println!("valid");
            Outcome::Success
        }
        Err(e) => Outcome::Failed(e.to_string()),
    })
}
