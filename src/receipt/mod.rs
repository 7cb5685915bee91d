//! Standard proof formats for SHA-256 logs, for auditors whose tools already read them:
//! C2SP `tlog-proof` (an entry's inclusion proof and the cosigned checkpoint, text) and
//! COSE Receipts (RFC 9942, tree type `RFC9162_SHA256`: the log key's COSE_Sign1 over the
//! tree root, the inclusion proof at header label 396).
//!
//! Both formats name SHA-256 (RFC 6962 / RFC 9162) trees; a BLAKE3 log has no standard
//! form and gets [`ReceiptError::NotSha256`], never a SHA-256 label on a BLAKE3 proof.
//! `docs/receipts.md` has the layouts and what each proves.

mod cose;
mod tlog_proof;

use ed25519_dalek::Signature;

pub use cose::{
    CoseReceipt, LABEL_LEAF_INDEX, LABEL_TREE_SIZE, LABEL_VDP, LABEL_VDS, VDS_RFC9162_SHA256,
};
pub use tlog_proof::{TLOG_PROOF_HEADER, TlogProof};

use crate::checkpoint::{CheckpointError, Note};
use crate::envelope::sig_structure;
use crate::merkle::{HashProfile, InclusionProof, TreeHead, root_from_inclusion};
use crate::trust::{LogTrust, TrustPolicy};

/// Why a proof in a standard format was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptError {
    /// The bytes are not the format.
    #[error("malformed: {0}")]
    Malformed(&'static str),
    /// The log hashes with BLAKE3: these formats are defined for SHA-256 trees only.
    #[error("{0} is defined for SHA-256 (RFC 6962/9162) logs; this log uses BLAKE3")]
    NotSha256(&'static str),
    /// No pinned log matches (the checkpoint's origin, or the receipt's key id at its size).
    #[error("no pinned SHA-256 log {0}")]
    UnknownLog(String),
    /// The checkpoint does not open under the log's keys for its size.
    #[error("checkpoint: {0}")]
    Checkpoint(#[source] CheckpointError),
    /// The checkpoint is below the trust policy's witness quorum.
    #[error("below the witness quorum ({0})")]
    BelowQuorum(String),
    /// The trust policy asks for witness cosignatures, which a COSE Receipt cannot carry.
    #[error(
        "the trust policy requires witness cosignatures, which a COSE Receipt cannot carry: use a tlog-proof"
    )]
    Unwitnessed,
    /// The entry is not at that index in that tree (the path does not lead to the root, or
    /// does not fit the index and size).
    #[error("the entry is not included at index {index} of the tree of size {size}")]
    NotIncluded {
        /// The proof's index.
        index: u64,
        /// The tree's size.
        size: u64,
    },
    /// The receipt's signature does not verify under the log key it names.
    #[error("the receipt's signature does not verify")]
    BadSignature,
}

/// What a verified proof established.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Proven {
    /// The log's origin.
    pub origin: String,
    /// The entry's index.
    pub index: u64,
    /// The tree it is included in.
    pub head: TreeHead,
    /// Witnesses whose valid cosignatures the checkpoint carries (tlog-proof only).
    pub cosigned: Vec<String>,
}

fn sha256_log<'a>(
    trust: &'a TrustPolicy,
    origin: &str,
    format: &'static str,
) -> Result<&'a LogTrust, ReceiptError> {
    let log = trust
        .log(origin)
        .ok_or_else(|| ReceiptError::UnknownLog(origin.to_owned()))?;
    if log.profile != HashProfile::Sha256 {
        return Err(ReceiptError::NotSha256(format));
    }
    Ok(log)
}

/// Verifies a `tlog-proof` for `entry` (the logged bytes): the checkpoint opens under the
/// pinned log's keys for its size and meets the trust policy's witness quorum, and the path
/// leads from the entry's leaf hash at the index to its root.
///
/// # Errors
/// [`ReceiptError`].
pub fn verify_tlog_proof(
    proof: &[u8],
    entry: &[u8],
    trust: &TrustPolicy,
) -> Result<Proven, ReceiptError> {
    let proof = TlogProof::parse(proof)?;
    let note = Note::parse(&proof.checkpoint)
        .map_err(|e| ReceiptError::Checkpoint(CheckpointError::Note(e)))?;
    let origin = note.text().lines().next().unwrap_or_default();
    let log = sha256_log(trust, origin, "tlog-proof")?;
    let head = log
        .open(&proof.checkpoint)
        .map_err(ReceiptError::Checkpoint)?
        .tree_head();
    let report = trust.witness_policy().judge(note.text(), note.signatures());
    if !report.met {
        return Err(ReceiptError::BelowQuorum(report.to_string()));
    }
    included(entry, proof.index, &proof.path, &head)?;
    Ok(Proven {
        origin: log.origin.clone(),
        index: proof.index,
        head,
        cosigned: report.cosigned,
    })
}

/// The root the path leads to from `entry`'s SHA-256 leaf hash at `index` in a tree of
/// `size` (RFC 9162 §2.1.3.2); [`ReceiptError::NotIncluded`] when the path does not fit.
fn root_of(
    entry: &[u8],
    index: u64,
    size: u64,
    path: &[crate::merkle::Hash],
) -> Result<crate::merkle::Hash, ReceiptError> {
    let proof = InclusionProof {
        leaf_index: index,
        tree_size: size,
        path: path.to_vec(),
    };
    let leaf = HashProfile::Sha256.leaf_hash(entry);
    root_from_inclusion(HashProfile::Sha256, &leaf, &proof)
        .map_err(|_| ReceiptError::NotIncluded { index, size })
}

/// Checks the path leads from `entry` at `index` to `head`'s root.
fn included(
    entry: &[u8],
    index: u64,
    path: &[crate::merkle::Hash],
    head: &TreeHead,
) -> Result<(), ReceiptError> {
    if root_of(entry, index, head.size, path)? == head.root {
        Ok(())
    } else {
        Err(ReceiptError::NotIncluded {
            index,
            size: head.size,
        })
    }
}

/// Verifies a COSE Receipt for `entry`: the root its path leads to from the entry's leaf
/// hash is what a pinned SHA-256 log key, valid at the receipt's tree size and with its key
/// id, signed. Refused when the trust policy asks for witnesses (a receipt has none).
///
/// # Errors
/// [`ReceiptError`].
pub fn verify_cose_receipt(
    receipt: &[u8],
    entry: &[u8],
    trust: &TrustPolicy,
) -> Result<Proven, ReceiptError> {
    let r = CoseReceipt::parse(receipt)?;
    if trust.witness_policy().requires_cosignatures() {
        return Err(ReceiptError::Unwitnessed);
    }
    let kid = u32::from_be_bytes(r.kid);
    let (log, key) = trust
        .logs()
        .iter()
        .filter(|l| l.profile == HashProfile::Sha256)
        .find_map(|l| {
            let v = l
                .verifiers_at(r.tree_size)
                .into_iter()
                .find(|v| v.key_id() == kid)?;
            Some((l, v))
        })
        .ok_or_else(|| {
            ReceiptError::UnknownLog(format!("with key id {kid:08x} at size {}", r.tree_size))
        })?;
    let root = root_of(entry, r.leaf_index, r.tree_size, &r.path)?;
    let signed = sig_structure(&r.protected(), root.as_bytes());
    let signature = Signature::from_bytes(&r.signature);
    // A valid signature over another root means the entry is not the one the log signed.
    key.key()
        .verify_strict(&signed, &signature)
        .map_err(|_| ReceiptError::BadSignature)?;
    Ok(Proven {
        origin: log.origin.clone(),
        index: r.leaf_index,
        head: TreeHead {
            size: r.tree_size,
            root,
        },
        cosigned: Vec::new(),
    })
}
