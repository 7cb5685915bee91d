//! Small text encodings shared by several modules (hex; base64 is the `base64` crate).

use base64::Engine as _;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex of `bytes`.
pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes hex text of any even length; `None` for odd length or a non-hex digit.
pub(crate) fn hex_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some((hex_digit(pair[0])? << 4) | hex_digit(pair[1])?))
        .collect()
}

/// Decodes exactly `N` bytes of hex.
pub(crate) fn hex_decode_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    hex_decode(text)?.try_into().ok()
}

/// Standard padded base64 (RFC 4648 §4), the encoding of signed notes.
pub(crate) fn b64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Strict standard base64: padding required, non-zero trailing bits rejected.
pub(crate) fn b64_decode(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_rejections() {
        assert_eq!(hex_encode(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(hex_decode("00ABff"), Some(vec![0x00, 0xab, 0xff]));
        assert_eq!(hex_decode("abc"), None);
        assert_eq!(hex_decode("zz"), None);
        assert_eq!(hex_decode_array::<2>("0001"), Some([0, 1]));
        assert_eq!(hex_decode_array::<2>("000102"), None);
    }

    #[test]
    fn base64_is_strict() {
        assert_eq!(b64_decode("AQ=="), Some(vec![1]));
        assert_eq!(b64_decode("AQ"), None, "padding is required");
        assert_eq!(b64_decode("AR=="), None, "non-canonical trailing bits");
        assert_eq!(b64_encode(&[1]), "AQ==");
    }
}

/// Milliseconds since the Unix epoch as an RFC 3339 UTC time, e.g.
/// `2025-11-28T09:00:00.000Z` (proleptic Gregorian calendar; years past 9999 print as they
/// are, so any `u64` gives a line).
#[must_use]
pub fn format_ms(ms: u64) -> String {
    let (days, rem) = (ms / 86_400_000, ms % 86_400_000);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm), in u64 arithmetic:
    // shifted to an era starting on 0000-03-01, so no value is negative.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    let (h, m, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1_000 % 60,
        rem % 1_000,
    );
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

#[cfg(test)]
mod time_tests {
    use super::format_ms;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_ms(1_764_320_400_000), "2025-11-28T09:00:00.000Z");
        assert_eq!(format_ms(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(format_ms(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
        assert!(format_ms(u64::MAX).ends_with('Z'));
    }
}

/// A decimal without sign or leading zero (`0` itself excepted) that fits in 64 bits: the
/// one spelling of a number that request paths, queries and witness bodies accept.
pub(crate) fn canonical_u64(s: &str) -> Option<u64> {
    let canonical = s == "0" || (!s.is_empty() && !s.starts_with('0'));
    if !canonical || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}
