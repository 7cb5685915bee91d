//! The canonical CBOR writer (RFC 8949 §4.2.1 core deterministic encoding).

use ciborium::value::Value;

use super::CborError;
use super::ser::head;

/// Appends a byte string (shortest head).
pub(crate) fn write_bstr(out: &mut Vec<u8>, bytes: &[u8]) {
    write_bstr_head(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// Appends the head of a byte string of `len` bytes (its content to follow).
pub(crate) fn write_bstr_head(out: &mut Vec<u8>, len: usize) {
    head(out, 2, len as u64);
}

/// Appends the head of an array of `len` items (the items to follow).
pub(crate) fn write_array_head(out: &mut Vec<u8>, len: usize) {
    head(out, 4, len as u64);
}

/// Appends the head of a map of `len` entries (the keys and values to follow).
pub(crate) fn write_map_head(out: &mut Vec<u8>, len: usize) {
    head(out, 5, len as u64);
}

/// Appends an unsigned integer (shortest head).
pub(crate) fn write_uint(out: &mut Vec<u8>, n: u64) {
    head(out, 0, n);
}

/// Appends a text string (shortest head).
pub(crate) fn write_tstr(out: &mut Vec<u8>, text: &str) {
    head(out, 3, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

/// Appends the canonical encoding of `value`.
pub(crate) fn write(out: &mut Vec<u8>, value: &Value) -> Result<(), CborError> {
    match value {
        Value::Integer(i) => {
            let n = i128::from(*i);
            // `Integer` holds exactly the CBOR range, so both conversions are lossless.
            if n >= 0 {
                head(out, 0, n as u64);
            } else {
                head(out, 1, (-1 - n) as u64);
            }
        }
        Value::Bytes(b) => {
            head(out, 2, b.len() as u64);
            out.extend_from_slice(b);
        }
        Value::Text(t) => {
            head(out, 3, t.len() as u64);
            out.extend_from_slice(t.as_bytes());
        }
        Value::Array(items) => {
            head(out, 4, items.len() as u64);
            for item in items {
                write(out, item)?;
            }
        }
        Value::Map(entries) => write_map(out, entries)?,
        Value::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
        Value::Null => out.push(0xf6),
        Value::Float(_) => return Err(CborError::Float { offset: out.len() }),
        Value::Tag(tag, _) => {
            return Err(CborError::Tag {
                offset: out.len(),
                tag: *tag,
            });
        }
        _ => {
            return Err(CborError::UnsupportedSimple {
                offset: out.len(),
                value: 0,
            });
        }
    }
    Ok(())
}

fn write_map(out: &mut Vec<u8>, entries: &[(Value, Value)]) -> Result<(), CborError> {
    let mut encoded = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let mut key = Vec::new();
        write(&mut key, k)?;
        encoded.push((key, v));
    }
    encoded.sort_by(|a, b| a.0.cmp(&b.0));
    if encoded.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(CborError::DuplicateKey { offset: out.len() });
    }
    head(out, 5, encoded.len() as u64);
    for (key, v) in encoded {
        out.extend_from_slice(&key);
        write(out, v)?;
    }
    Ok(())
}
