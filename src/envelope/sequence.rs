//! Reading a CBOR sequence of envelopes (RFC 8742) from a stream, one envelope at a time:
//! what `warrant append` reads on standard input and what a service may send in one request.
//!
//! Memory is bounded by one envelope (the limit's `max_len`) and the read buffer, whatever
//! the stream's length; the first item that is not an envelope ends the sequence with an
//! error, so a stream of garbage is refused at its first byte, not item by item.

use std::io::Read;

use crate::cbor::{self, CborError, Limits};

/// Why a sequence could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SequenceError {
    /// Reading the stream failed.
    #[error("reading: {0}")]
    Io(#[from] std::io::Error),
    /// An item does not start as a COSE_Sign1 envelope does (an array of four, tagged 18 or
    /// not).
    #[error("item {item} is not a COSE_Sign1 envelope (it starts with byte {first:#04x})")]
    NotAnEnvelope {
        /// Position in the sequence.
        item: u64,
        /// Its first byte.
        first: u8,
    },
    /// An item is not well-formed CBOR, or is larger than the limit.
    #[error("item {item}: {source}")]
    Malformed {
        /// Position in the sequence.
        item: u64,
        /// Why.
        source: CborError,
    },
    /// The stream ends inside an item.
    #[error("item {item} is cut short by the end of the input")]
    Truncated {
        /// Position in the sequence.
        item: u64,
    },
    /// The stream is longer than the total allowed.
    #[error("the input is longer than {max} bytes")]
    TooLong {
        /// The total allowed.
        max: u64,
    },
}

/// COSE_Sign1 is an array of four; tagged, the tag 18 (`0xd2`) comes first.
fn starts_like_an_envelope(bytes: &[u8]) -> Option<bool> {
    match bytes {
        [] => None,
        [0xd2] => None,
        [0xd2, 0x84, ..] | [0x84, ..] => Some(true),
        _ => Some(false),
    }
}

/// An iterator over the envelopes of a CBOR sequence read from `R`; stops after the first
/// error.
pub struct SequenceReader<R> {
    input: R,
    limits: Limits,
    buf: Vec<u8>,
    /// Bytes of `buf` already handed out.
    start: usize,
    eof: bool,
    failed: bool,
    item: u64,
    total: u64,
    max_total: u64,
}

/// How much is read from the input at a time.
const READ: usize = 64 * 1024;

impl<R: Read> SequenceReader<R> {
    /// A reader of envelopes of at most `limits.max_len` bytes each, from a stream of at
    /// most `max_total` bytes.
    pub fn new(input: R, limits: Limits, max_total: u64) -> Self {
        Self {
            input,
            limits,
            buf: Vec::new(),
            start: 0,
            eof: false,
            failed: false,
            item: 0,
            total: 0,
            max_total,
        }
    }

    /// Reads more input into the buffer; false at the end of the input.
    fn fill(&mut self) -> Result<bool, SequenceError> {
        if self.eof {
            return Ok(false);
        }
        // Keep only what is not handed out yet, so the buffer stays about one envelope long.
        self.buf.drain(..self.start);
        self.start = 0;
        let old = self.buf.len();
        self.buf.resize(old + READ, 0);
        let n = loop {
            match self.input.read(&mut self.buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        };
        self.buf.truncate(old + n);
        self.total += n as u64;
        if self.total > self.max_total {
            return Err(SequenceError::TooLong {
                max: self.max_total,
            });
        }
        self.eof = n == 0;
        Ok(n > 0)
    }

    fn next_item(&mut self) -> Result<Option<Vec<u8>>, SequenceError> {
        loop {
            let rest = &self.buf[self.start..];
            match starts_like_an_envelope(rest) {
                Some(false) => {
                    return Err(SequenceError::NotAnEnvelope {
                        item: self.item,
                        first: rest[0],
                    });
                }
                Some(true) => {
                    let tag = usize::from(rest[0] == 0xd2);
                    match cbor::first_item_len(&rest[tag..], self.limits) {
                        Ok(len) if tag + len <= self.limits.max_len => {
                            let item = rest[..tag + len].to_vec();
                            self.start += tag + len;
                            self.item += 1;
                            return Ok(Some(item));
                        }
                        Ok(len) => {
                            let source = CborError::TooLarge {
                                len: tag + len,
                                max: self.limits.max_len,
                            };
                            return Err(self.malformed(source));
                        }
                        // Incomplete: read more, unless it can no longer fit the limit.
                        Err(CborError::Truncated { .. }) if rest.len() <= self.limits.max_len => {}
                        Err(CborError::Truncated { .. }) => {
                            let source = CborError::TooLarge {
                                len: rest.len(),
                                max: self.limits.max_len,
                            };
                            return Err(self.malformed(source));
                        }
                        Err(source) => return Err(self.malformed(source)),
                    }
                }
                None => {}
            }
            if !self.fill()? {
                return if self.buf.len() == self.start {
                    Ok(None)
                } else {
                    Err(SequenceError::Truncated { item: self.item })
                };
            }
        }
    }

    fn malformed(&self, source: CborError) -> SequenceError {
        SequenceError::Malformed {
            item: self.item,
            source,
        }
    }
}

impl<R: Read> Iterator for SequenceReader<R> {
    type Item = Result<Vec<u8>, SequenceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let next = self.next_item();
        self.failed = next.is_err();
        next.transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(n: u8) -> Vec<u8> {
        // A tagged array of four byte strings: shaped like COSE_Sign1 (not a valid one).
        let mut e = vec![0xd2, 0x84, 0x41, n, 0xa0, 0x41, n, 0x58, 0x40];
        e.extend_from_slice(&[n; 64]);
        e
    }

    fn read_all(bytes: &[u8], max_len: usize) -> Vec<Result<Vec<u8>, String>> {
        SequenceReader::new(bytes, Limits::default().with_max_len(max_len), 1 << 20)
            .map(|r| r.map_err(|e| e.to_string()))
            .collect()
    }

    #[test]
    fn splits_a_sequence_across_reads_and_stops_at_garbage() {
        let mut seq = Vec::new();
        for n in 0..100 {
            seq.extend(envelope(n));
        }
        let items = read_all(&seq, 1024);
        assert_eq!(items.len(), 100);
        assert!(
            items
                .iter()
                .enumerate()
                .all(|(n, i)| i.as_ref().ok() == Some(&envelope(n as u8)))
        );
        // Garbage after the second envelope: two items, then one error, then nothing.
        let mut bad = envelope(1);
        bad.extend(envelope(2));
        bad.extend([0u8; 1000]);
        let items = read_all(&bad, 1024);
        assert_eq!(items.len(), 3);
        assert!(
            items[2]
                .as_ref()
                .is_err_and(|e| e.contains("item 2 is not"))
        );
        // Zeros from the first byte.
        assert_eq!(read_all(&[0u8; 10], 1024).len(), 1);
        assert!(read_all(&[], 1024).is_empty());
    }

    #[test]
    fn bounds_each_item_and_the_whole_input() {
        let e = envelope(7);
        assert!(
            read_all(&e, e.len() - 1)[0]
                .as_ref()
                .is_err_and(|m| m.contains("limit"))
        );
        assert!(
            read_all(&e[..e.len() - 1], 1024)[0]
                .as_ref()
                .is_err_and(|m| m.contains("cut short"))
        );
        // An item that claims to be huge is refused once it outgrows the limit, without
        // reading the rest of the input.
        let mut huge = vec![0xd2, 0x84, 0x5a, 0xff, 0xff, 0xff, 0xff];
        huge.extend(vec![0u8; 5000]);
        assert!(
            read_all(&huge, 1024)[0]
                .as_ref()
                .is_err_and(|m| m.contains("limit"))
        );
        let long: Vec<u8> = std::iter::repeat_n(envelope(1), 100).flatten().collect();
        let items: Vec<_> = SequenceReader::new(&long[..], Limits::default(), 1000).collect();
        assert!(
            items
                .last()
                .is_some_and(|r| matches!(r, Err(SequenceError::TooLong { .. })))
        );
    }
}
