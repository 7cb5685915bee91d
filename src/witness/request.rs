//! The body of a C2SP `tlog-witness` `add-checkpoint` request:
//!
//! ```text
//! old <size>\n
//! <base64 hash>\n          (0 to 63 consistency proof lines)
//! \n
//! <checkpoint note>
//! ```

use crate::encoding::{b64_decode, canonical_u64};
use crate::merkle::Hash;

/// Most consistency proof lines a request may carry (the specification's bound).
pub const MAX_PROOF_LINES: usize = 63;

/// An `add-checkpoint` body, split; the checkpoint is not yet parsed or verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AddCheckpoint<'a> {
    pub(crate) old: u64,
    pub(crate) proof: Vec<Hash>,
    pub(crate) checkpoint: &'a [u8],
}

/// Splits a body, or says which line is wrong.
pub(crate) fn parse(body: &[u8]) -> Result<AddCheckpoint<'_>, &'static str> {
    let (first, mut rest) = line(body).ok_or("no old size line")?;
    let old = first
        .strip_prefix("old ")
        .ok_or("the first line is not `old <size>`")?;
    let old = canonical_u64(old).ok_or("the old size is not a canonical decimal")?;
    let mut proof = Vec::new();
    loop {
        let (l, after) = line(rest).ok_or("no empty line before the checkpoint")?;
        rest = after;
        if l.is_empty() {
            break;
        }
        if proof.len() == MAX_PROOF_LINES {
            return Err("more than 63 consistency proof lines");
        }
        let bytes = b64_decode(l).ok_or("a proof line is not base64")?;
        proof.push(Hash::try_from_slice(&bytes).map_err(|_| "a proof line is not a 32-byte hash")?);
    }
    if rest.is_empty() {
        return Err("no checkpoint after the empty line");
    }
    Ok(AddCheckpoint {
        old,
        proof,
        checkpoint: rest,
    })
}

/// The next `\n`-terminated UTF-8 line and what follows it.
fn line(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let end = bytes.iter().position(|&b| b == b'\n')?;
    let text = std::str::from_utf8(&bytes[..end]).ok()?;
    Some((text, &bytes[end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_split_and_malformed_ones_are_named() {
        let h = crate::encoding::b64_encode(&[7; 32]);
        let body = format!("old 5\n{h}\n{h}\n\nexample.com/log\n9\n");
        let got = parse(body.as_bytes()).expect("parses");
        assert_eq!(got.old, 5);
        assert_eq!(got.proof.len(), 2);
        assert_eq!(got.checkpoint, b"example.com/log\n9\n");
        let too_many = format!("old 1\n{}\nx\n", format!("{h}\n").repeat(64));
        let cases: [(&[u8], &str); 9] = [
            (b"", "no old size line"),
            (b"new 5\n\nx", "the first line is not `old <size>`"),
            (b"old 05\n\nx", "the old size is not a canonical decimal"),
            (b"old -1\n\nx", "the old size is not a canonical decimal"),
            (b"old 1\nAAAA\n\nx", "a proof line is not a 32-byte hash"),
            (b"old 1\n!!\n\nx", "a proof line is not base64"),
            (b"old 1\n", "no empty line before the checkpoint"),
            (b"old 1\n\n", "no checkpoint after the empty line"),
            (too_many.as_bytes(), "more than 63 consistency proof lines"),
        ];
        for (body, why) in cases {
            assert_eq!(parse(body), Err(why), "{}", String::from_utf8_lossy(body));
        }
    }
}
