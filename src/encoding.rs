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
