//! COSE Receipts (RFC 9942) for RFC 9162 SHA-256 trees: a COSE_Sign1 by the log key over
//! the tree root, with the entry's inclusion proof in the unprotected header.
//!
//! ```text
//! 18([                                  COSE_Sign1, tagged
//!   << { 1: -8,                         alg: EdDSA (Ed25519)
//!        4: h'<log note key id, 4 bytes>',  kid
//!        395: 1,                        vds: RFC9162_SHA256
//!        -70001: tree-size,             private use: the size, signed
//!        -70002: leaf-index } >>,       private use: the index, signed
//!   { 396: { -1: [ << [tree-size, leaf-index, [+ h'<32-byte hash>'] ] >> ] } },
//!                                       vdp: one inclusion proof
//!   nil,                                detached payload: the root the proof leads to
//!   h'<Ed25519 signature, 64 bytes>'    over Sig_structure("Signature1", protected, h'', root)
//! ])
//! ```
//!
//! RFC 9942 signs the root alone: the size and index in the unprotected header are the
//! receipt's word, and an inclusion path does not fix the size (index 5 has the same path
//! in trees of 10 and 11 entries). This crate also signs both, under two private-use labels
//! (readers that do not know them ignore them), and its verifier requires them to equal the
//! proof's: a receipt cannot be re-labelled to another size (which would also pick another
//! log key's window after a rotation).
//!
//! The reader accepts exactly the form this crate writes (canonical CBOR, these labels in
//! this order): it parses the parts, writes them again and requires the same bytes.

use super::ReceiptError;
use crate::cbor::Limits;
use crate::cbor::{array_elements, byte_string, head_at, write_array_head, write_bstr};
use crate::merkle::Hash;

/// COSE header label of the verifiable data structure (RFC 9942).
pub const LABEL_VDS: u64 = 395;
/// COSE header label of the verifiable data structure proofs (RFC 9942).
pub const LABEL_VDP: u64 = 396;
/// `RFC9162_SHA256`, the only tree type written and read.
pub const VDS_RFC9162_SHA256: u64 = 1;
/// Largest receipt read (a 63-hash path and the fixed parts fit well within it).
const MAX_RECEIPT: usize = 4096;

/// A parsed receipt; its signature is not checked yet ([`super::verify_cose_receipt`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoseReceipt {
    /// The log key's C2SP key id (`kid`).
    pub kid: [u8; 4],
    /// The tree's size.
    pub tree_size: u64,
    /// The entry's index.
    pub leaf_index: u64,
    /// The inclusion path, leaf's sibling first.
    pub path: Vec<Hash>,
    /// The Ed25519 signature.
    pub signature: [u8; 64],
}

/// Private-use COSE header label (RFC 9052 §16.2: below -65536) of the signed tree size.
pub const LABEL_TREE_SIZE: i64 = -70_001;
/// Private-use COSE header label of the signed leaf index.
pub const LABEL_LEAF_INDEX: i64 = -70_002;

/// The protected header: `{1: -8, 4: kid, 395: 1, -70001: size, -70002: index}`,
/// canonical (keys ordered by their encodings).
pub(crate) fn protected(kid: [u8; 4], size: u64, index: u64) -> Vec<u8> {
    let mut out = vec![0xa5, 0x01, 0x27, 0x04];
    write_bstr(&mut out, &kid);
    out.extend_from_slice(&[0x19, 0x01, 0x8b, 0x01]);
    // -70001 and -70002: major type 1, arguments 70000 and 70001 (four-byte heads).
    out.extend_from_slice(&[0x3a, 0x00, 0x01, 0x11, 0x70]);
    crate::cbor::write_uint(&mut out, size);
    out.extend_from_slice(&[0x3a, 0x00, 0x01, 0x11, 0x71]);
    crate::cbor::write_uint(&mut out, index);
    out
}

/// The inclusion proof: `[tree-size, leaf-index, [+ bstr]]`, canonical.
fn inclusion(size: u64, index: u64, path: &[Hash]) -> Vec<u8> {
    let mut out = Vec::new();
    write_array_head(&mut out, 3);
    crate::cbor::write_uint(&mut out, size);
    crate::cbor::write_uint(&mut out, index);
    write_array_head(&mut out, path.len());
    for h in path {
        write_bstr(&mut out, h.as_bytes());
    }
    out
}

/// `{396: {-1: [`; the proof's byte string follows.
const UNPROTECTED_HEAD: [u8; 7] = [0xa1, 0x19, 0x01, 0x8c, 0xa1, 0x20, 0x81];

impl CoseReceipt {
    /// The receipt's bytes.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![0xd2, 0x84];
        write_bstr(&mut out, &self.protected());
        out.extend_from_slice(&UNPROTECTED_HEAD);
        write_bstr(
            &mut out,
            &inclusion(self.tree_size, self.leaf_index, &self.path),
        );
        out.push(0xf6);
        write_bstr(&mut out, &self.signature);
        out
    }

    /// The protected header's bytes (what the signature covers, with the root).
    #[must_use]
    pub fn protected(&self) -> Vec<u8> {
        protected(self.kid, self.tree_size, self.leaf_index)
    }

    /// Parses a receipt strictly.
    ///
    /// # Errors
    /// [`ReceiptError::Malformed`].
    pub fn parse(bytes: &[u8]) -> Result<Self, ReceiptError> {
        let bad = ReceiptError::Malformed;
        if bytes.len() > MAX_RECEIPT {
            return Err(bad("longer than any receipt this reader accepts"));
        }
        let body = bytes
            .strip_prefix(&[0xd2])
            .ok_or(bad("not a tagged COSE_Sign1 (tag 18)"))?;
        let limits = Limits::default().with_max_len(MAX_RECEIPT);
        let parts = array_elements(body, limits)
            .map_err(|_| bad("not canonical CBOR"))?
            .filter(|p| p.len() == 4)
            .ok_or(bad("not a four-element COSE_Sign1"))?;
        let protected = byte_string(parts[0]).ok_or(bad("protected header is not a bstr"))?;
        let kid: [u8; 4] = protected
            .get(5..9)
            .and_then(|k| k.try_into().ok())
            .ok_or(bad("protected header is not {1: -8, 4: kid, 395: 1, …}"))?;
        let proof = parts[1]
            .strip_prefix(&UNPROTECTED_HEAD)
            .and_then(byte_string)
            .ok_or(bad("unprotected header is not {396: {-1: [proof]}}"))?;
        let (tree_size, leaf_index, path) = parse_inclusion(proof)?;
        let signature: [u8; 64] = byte_string(parts[3])
            .and_then(|s| s.try_into().ok())
            .ok_or(bad("the signature is not 64 bytes"))?;
        let receipt = Self {
            kid,
            tree_size,
            leaf_index,
            path,
            signature,
        };
        // Exactly what this crate writes: anything else (other labels, order, an attached
        // payload, trailing bytes) is refused here rather than half-read.
        if receipt.to_bytes() != bytes {
            return Err(bad("not the receipt form this reader accepts"));
        }
        Ok(receipt)
    }
}

/// `[tree-size, leaf-index, [+ bstr]]`.
fn parse_inclusion(bytes: &[u8]) -> Result<(u64, u64, Vec<Hash>), ReceiptError> {
    let bad = ReceiptError::Malformed;
    let limits = Limits::default().with_max_len(MAX_RECEIPT);
    let fields = array_elements(bytes, limits)
        .map_err(|_| bad("the inclusion proof is not canonical CBOR"))?
        .filter(|f| f.len() == 3)
        .ok_or(bad("the inclusion proof is not [size, index, path]"))?;
    let uint = |item: &[u8]| match head_at(item, 0) {
        Some((0, n, end)) if end == item.len() => Some(n),
        _ => None,
    };
    let size = uint(fields[0]).ok_or(bad("tree-size is not an unsigned integer"))?;
    let index = uint(fields[1]).ok_or(bad("leaf-index is not an unsigned integer"))?;
    let hashes = array_elements(fields[2], limits)
        .map_err(|_| bad("the inclusion path is not canonical CBOR"))?
        .ok_or(bad("the inclusion path is not an array"))?;
    if hashes.len() > 63 {
        return Err(bad("more than 63 hashes in the inclusion path"));
    }
    let path = hashes
        .iter()
        .map(|h| byte_string(h).and_then(|b| Hash::try_from_slice(b).ok()))
        .collect::<Option<Vec<_>>>()
        .ok_or(bad("an inclusion path element is not a 32-byte bstr"))?;
    Ok((size, index, path))
}
