//! C2SP `tlog-proof@v1`: an entry's index, its inclusion proof and the (cosigned)
//! checkpoint, as text.
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! [extra <base64>]
//! index <decimal, no leading zeros>
//! <base64 hash>            (0 or more lines: RFC 6962 inclusion path, leaf's sibling first)
//!                          (an empty line)
//! <checkpoint note, verbatim: log signature and any cosignatures>
//! ```

use super::ReceiptError;
use crate::checkpoint::MAX_NOTE_LEN;
use crate::encoding::{b64_decode, b64_encode, canonical_u64};
use crate::merkle::Hash;

/// The first line.
pub const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";
/// Most inclusion-path lines read (a tree of 2^63 entries needs 63).
const MAX_PATH: usize = 63;
/// Largest `extra` accepted, decoded.
const MAX_EXTRA: usize = 4096;

/// A parsed `tlog-proof`; nothing in it is verified yet ([`super::verify_tlog_proof`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// Unauthenticated extra data (never trusted).
    pub extra: Option<Vec<u8>>,
    /// The entry's index.
    pub index: u64,
    /// The inclusion path, leaf's sibling first.
    pub path: Vec<Hash>,
    /// The checkpoint note, verbatim.
    pub checkpoint: Vec<u8>,
}

impl TlogProof {
    /// The text form.
    #[must_use]
    pub fn to_text(&self) -> Vec<u8> {
        let mut out = format!("{TLOG_PROOF_HEADER}\n");
        if let Some(extra) = &self.extra {
            out.push_str(&format!("extra {}\n", b64_encode(extra)));
        }
        out.push_str(&format!("index {}\n", self.index));
        for h in &self.path {
            out.push_str(&b64_encode(h.as_bytes()));
            out.push('\n');
        }
        out.push('\n');
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.checkpoint);
        bytes
    }

    /// Parses the text form strictly: the header, an optional `extra`, a canonical index,
    /// at most 63 path lines of 32-byte hashes in standard base64, an empty line, a note.
    ///
    /// # Errors
    /// [`ReceiptError::Malformed`] naming what is wrong.
    pub fn parse(bytes: &[u8]) -> Result<Self, ReceiptError> {
        let bad = ReceiptError::Malformed;
        if bytes.len() > MAX_NOTE_LEN + 4096 + MAX_PATH * 45 + 64 {
            return Err(bad("longer than any tlog-proof this reader accepts"));
        }
        let (first, mut rest) = line(bytes).ok_or(bad("no header line"))?;
        if first != TLOG_PROOF_HEADER {
            return Err(bad("the first line is not c2sp.org/tlog-proof@v1"));
        }
        let (mut next, mut after) = line(rest).ok_or(bad("no index line"))?;
        let mut extra = None;
        if let Some(b64) = next.strip_prefix("extra ") {
            let data = b64_decode(b64).ok_or(bad("extra is not base64"))?;
            if data.len() > MAX_EXTRA {
                return Err(bad("extra is longer than 4 KiB"));
            }
            extra = Some(data);
            rest = after;
            (next, after) = line(rest).ok_or(bad("no index line"))?;
        }
        let index = next
            .strip_prefix("index ")
            .and_then(canonical_u64)
            .ok_or(bad("no canonical `index <decimal>` line"))?;
        rest = after;
        let mut path = Vec::new();
        loop {
            let (l, after) = line(rest).ok_or(bad("no empty line before the checkpoint"))?;
            rest = after;
            if l.is_empty() {
                break;
            }
            if path.len() == MAX_PATH {
                return Err(bad("more than 63 inclusion-path lines"));
            }
            let h = b64_decode(l)
                .and_then(|b| Hash::try_from_slice(&b).ok())
                .ok_or(bad("a path line is not a base64 32-byte hash"))?;
            path.push(h);
        }
        if rest.is_empty() {
            return Err(bad("no checkpoint after the empty line"));
        }
        Ok(Self {
            extra,
            index,
            path,
            checkpoint: rest.to_vec(),
        })
    }
}

/// The next `\n`-terminated UTF-8 line and what follows it.
fn line(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let end = bytes.iter().position(|&b| b == b'\n')?;
    let text = std::str::from_utf8(&bytes[..end]).ok()?;
    Some((text, &bytes[end + 1..]))
}
