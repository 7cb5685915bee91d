//! A bundle entry's one canonical encoding, read directly: the fast path of the strict
//! entry decode. An entry is a fixed shape (three keys, an integer, an array of 32-byte
//! strings, a byte string), so its canonical bytes can be matched head by head with no
//! serde, no allocation but the proof, and no round trip: at 100 000 entries the serde
//! decode of the entries was 70 ms of the bundle's 110 ms read (two cores).
//!
//! It only ever accepts: bytes it does not take go to the strict serde decode, which accepts
//! or names the rule broken. So it may refuse more than that decode (it does not, as the
//! tests check), never less: every byte it reads is fixed by canonical form.

use super::read::{ByteSlice, EntryRef};
use crate::cbor::shortest_head_at;
use crate::merkle::Hash;

/// `{` with three pairs, then the key `"index"`.
const START: &[u8] = b"\xa3\x65index";
/// The key `"proof"`, which sorts after `"index"` (same length, `p` after `i`).
const PROOF_KEY: &[u8] = b"\x65proof";
/// The key `"envelope"`, last: its head says 8 bytes, the others' 5.
const ENVELOPE_KEY: &[u8] = b"\x68envelope";
/// A 32-byte byte string's head.
const HASH_HEAD: &[u8] = b"\x58\x20";
/// Bytes per proof hash: head and hash.
const HASH_ITEM: usize = HASH_HEAD.len() + 32;

/// Major types of the entry's values.
const UINT: u8 = 0;
const BYTES: u8 = 2;
const ARRAY: u8 = 4;

/// The entry `bytes` encode, if they are its canonical encoding and nothing more.
pub(super) fn parse(bytes: &[u8]) -> Option<EntryRef<'_>> {
    let mut r = Cursor { bytes, pos: 0 };
    r.literal(START)?;
    let index = r.argument(UINT)?;
    r.literal(PROOF_KEY)?;
    let count = usize::try_from(r.argument(ARRAY)?).ok()?;
    // A count the remaining bytes cannot hold is refused before anything is reserved.
    if count > (bytes.len() - r.pos) / HASH_ITEM {
        return None;
    }
    let mut proof = Vec::with_capacity(count);
    for _ in 0..count {
        r.literal(HASH_HEAD)?;
        proof.push(Hash::from_bytes(r.take(32)?.try_into().ok()?));
    }
    r.literal(ENVELOPE_KEY)?;
    let len = usize::try_from(r.argument(BYTES)?).ok()?;
    let envelope = ByteSlice(r.take(len)?);
    (r.pos == bytes.len()).then_some(EntryRef {
        index,
        proof,
        envelope,
    })
}

/// A position in the entry; every read checks bounds.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let out = self.bytes.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(out)
    }

    fn literal(&mut self, want: &[u8]) -> Option<()> {
        (self.take(want.len())? == want).then_some(())
    }

    /// The argument of a shortest-form head of major type `major`.
    fn argument(&mut self, major: u8) -> Option<u64> {
        let (m, arg, next) = shortest_head_at(self.bytes, self.pos)?;
        self.pos = next;
        (m == major).then_some(arg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{BundleEntry, Bytes, NodeHash};
    use crate::cbor::{self, Limits};

    fn strict(bytes: &[u8]) -> Option<EntryRef<'_>> {
        cbor::from_slice_borrowed(bytes, Limits::default()).ok()
    }

    fn encoded(index: u64, hashes: usize, envelope_len: usize) -> Vec<u8> {
        let entry = BundleEntry {
            index,
            proof: (0..hashes)
                .map(|i| NodeHash(Hash::from_bytes([i as u8; 32])))
                .collect(),
            envelope: Bytes(vec![0xd2; envelope_len]),
        };
        cbor::to_vec(&entry).expect("encode")
    }

    #[test]
    fn reads_what_the_encoder_writes_as_the_strict_decode_does() {
        for (index, hashes, len) in [(0, 0, 0), (23, 1, 23), (24, 17, 24), (1 << 40, 40, 300)] {
            let bytes = encoded(index, hashes, len);
            let fast = parse(&bytes).expect("canonical entry");
            assert_eq!(Some(&fast), strict(&bytes).as_ref());
            assert_eq!((fast.index, fast.proof.len()), (index, hashes));
        }
    }

    /// Every single-byte change and every truncation: whatever the fast path accepts, the
    /// strict decode accepts as the same entry (and the two agree on the originals).
    #[test]
    fn never_accepts_what_the_strict_decode_refuses() {
        let mut accepted = 0;
        for bytes in [encoded(5, 2, 3), encoded(300, 3, 30)] {
            for n in 0..bytes.len() {
                assert_eq!(parse(&bytes[..n]), None, "truncated to {n}");
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert_eq!(parse(&longer), None, "a trailing byte");
            for i in 0..bytes.len() {
                for v in 0..=255u8 {
                    let mut m = bytes.clone();
                    m[i] = v;
                    if let Some(fast) = parse(&m) {
                        assert_eq!(Some(fast), strict(&m), "byte {i} set to {v:#x}");
                        accepted += 1;
                    }
                }
            }
        }
        // Changing index, hash or envelope bytes keeps an entry canonical: the test would
        // pass vacuously if the fast path accepted nothing.
        assert!(accepted > 1000, "{accepted}");
    }

    #[test]
    fn refuses_non_shortest_heads_and_forged_counts() {
        let bytes = encoded(5, 1, 3);
        // index 5 written in two bytes
        let mut long = bytes[..START.len()].to_vec();
        long.extend_from_slice(&[0x18, 5]);
        long.extend_from_slice(&bytes[START.len() + 1..]);
        assert_eq!(parse(&long), None);
        assert!(strict(&long).is_none());
        // a proof claiming more hashes than the bytes hold
        let mut forged = bytes.clone();
        let at = START.len() + 1 + PROOF_KEY.len();
        assert_eq!(forged[at], 0x81);
        forged[at] = 0x9b;
        forged.splice(at + 1..at + 1, u64::MAX.to_be_bytes());
        assert_eq!(parse(&forged), None);
    }
}
