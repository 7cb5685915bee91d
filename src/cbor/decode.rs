//! The strict CBOR checker: accepts exactly the core deterministic encoding (RFC 8949
//! §4.2.1) of the subset this crate uses, and names the first rule an input breaks. It
//! builds nothing; [`super::de`] reads values out of bytes that passed it, and checks
//! that text is UTF-8 as it reads it (so the check runs once).

use super::{CborError, Limits};

/// A cursor over the input; every read checks bounds first.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    limits: Limits,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: u64) -> Result<&'a [u8], CborError> {
        take(self.bytes, &mut self.pos, n)
    }

    fn byte(&mut self) -> Result<u8, CborError> {
        Ok(self.take(1)?[0])
    }

    /// Reads the argument of the head at `at` (whose additional information is
    /// `info`), insisting on the shortest form.
    fn argument(&mut self, info: u8, at: usize) -> Result<u64, CborError> {
        match info {
            31 => return Err(CborError::IndefiniteLength { offset: at }),
            28..=30 => return Err(CborError::Reserved { offset: at }),
            _ => {}
        }
        let (_, value, next) =
            head_at(self.bytes, at).ok_or(CborError::Truncated { offset: at + 1 })?;
        if value < smallest_for(next - at - 1) {
            return Err(CborError::NonShortestInteger { offset: at });
        }
        self.pos = next;
        Ok(value)
    }

    /// Checks one data item against every rule, without building anything.
    fn item(&mut self, depth: usize) -> Result<(), CborError> {
        let at = self.pos;
        if depth > self.limits.max_depth {
            return Err(CborError::TooDeep {
                offset: at,
                max: self.limits.max_depth,
            });
        }
        let head = self.byte()?;
        let (major, info) = (head >> 5, head & 0x1f);
        if major == 7 {
            return simple(info, at);
        }
        let arg = self.argument(info, at)?;
        match major {
            0 | 1 => Ok(()),
            // Text is checked for UTF-8 where it is read (`de`), once.
            2 | 3 => self.take(arg).map(drop),
            4 => {
                for _ in 0..self.check_count(arg, 1, at)? {
                    self.item(depth + 1)?;
                }
                Ok(())
            }
            5 => self.map(arg, depth, at),
            _ => Err(CborError::Tag {
                offset: at,
                tag: arg,
            }),
        }
    }

    /// Refuses counts that the remaining input cannot possibly hold (each item is at least
    /// one byte), so a forged count fails at once.
    fn check_count(&self, count: u64, per_item: u64, at: usize) -> Result<u64, CborError> {
        let left = (self.bytes.len() - self.pos) as u64;
        match count.checked_mul(per_item) {
            Some(need) if need <= left => Ok(count),
            _ => Err(CborError::Truncated { offset: at }),
        }
    }

    fn map(&mut self, count: u64, depth: usize, at: usize) -> Result<(), CborError> {
        let mut previous: Option<&[u8]> = None;
        for _ in 0..self.check_count(count, 2, at)? {
            let key_at = self.pos;
            self.item(depth + 1)?;
            let key_bytes = &self.bytes[key_at..self.pos];
            // Core deterministic encoding: keys ordered by their encoded bytes, no repeats.
            if let Some(prev) = previous {
                match prev.cmp(key_bytes) {
                    core::cmp::Ordering::Less => {}
                    core::cmp::Ordering::Equal => {
                        return Err(CborError::DuplicateKey { offset: key_at });
                    }
                    core::cmp::Ordering::Greater => {
                        return Err(CborError::UnsortedKeys { offset: key_at });
                    }
                }
            }
            previous = Some(key_bytes);
            self.item(depth + 1)?;
        }
        Ok(())
    }
}

/// The `n` bytes at `*pos`, advancing `pos`; `Truncated` if the input ends first.
pub(super) fn take<'a>(bytes: &'a [u8], pos: &mut usize, n: u64) -> Result<&'a [u8], CborError> {
    let at = *pos;
    let end = usize::try_from(n)
        .ok()
        .and_then(|n| at.checked_add(n))
        .filter(|&end| end <= bytes.len())
        .ok_or(CborError::Truncated { offset: at })?;
    *pos = end;
    Ok(&bytes[at..end])
}

/// The major type and argument of the head at `bytes[at..]`, and where the head ends (for
/// major type 7 the argument is the additional information). `None` if the input ends inside
/// the head or it is not a definite-length head. Shared by the checker, which adds the
/// canonical-form rules, and the decoder, which may read unchecked bytes.
pub(crate) fn head_at(bytes: &[u8], at: usize) -> Option<(u8, u64, usize)> {
    let b = *bytes.get(at)?;
    let (major, info) = (b >> 5, b & 0x1f);
    let n = match info {
        0..=23 => 0,
        24 => 1,
        25 => 2,
        26 => 4,
        27 => 8,
        _ => return None,
    };
    // The head's following bytes must be there for every major type: a float's too, or
    // a reader of unchecked bytes would be told an end past the input.
    let raw = bytes.get(at + 1..at + 1 + n)?;
    let arg = if n == 0 || major == 7 {
        u64::from(info)
    } else {
        raw.iter().fold(0, |acc, &x| (acc << 8) | u64::from(x))
    };
    Some((major, arg, at + 1 + n))
}

/// The smallest argument a head with `n` bytes after its first may carry in shortest form.
fn smallest_for(n: usize) -> u64 {
    match n {
        0 => 0,
        1 => 24,
        2 => 0x100,
        4 => 0x1_0000,
        _ => 0x1_0000_0000,
    }
}

fn simple(info: u8, at: usize) -> Result<(), CborError> {
    match info {
        20..=22 => Ok(()),
        25..=27 => Err(CborError::Float { offset: at }),
        31 => Err(CborError::UnexpectedBreak { offset: at }),
        28..=30 => Err(CborError::Reserved { offset: at }),
        other => Err(CborError::UnsupportedSimple {
            offset: at,
            value: other,
        }),
    }
}

/// Checks that `bytes` is exactly one complete data item in core deterministic encoding.
pub(crate) fn check(bytes: &[u8], limits: Limits) -> Result<(), CborError> {
    if bytes.len() > limits.max_len {
        return Err(CborError::TooLarge {
            len: bytes.len(),
            max: limits.max_len,
        });
    }
    let mut r = Reader {
        bytes,
        pos: 0,
        limits,
    };
    r.item(0)?;
    if r.pos != bytes.len() {
        return Err(CborError::TrailingBytes { offset: r.pos });
    }
    Ok(())
}

/// Length of the first data item of `bytes` (which may be followed by more).
pub(crate) fn first_item_len(bytes: &[u8], limits: Limits) -> Result<usize, CborError> {
    let mut r = Reader {
        bytes,
        pos: 0,
        limits,
    };
    r.item(0)?;
    Ok(r.pos)
}
