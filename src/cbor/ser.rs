//! A serde `Serializer` that writes the canonical encoding straight to bytes (no value
//! tree): shortest heads, definite lengths, map entries sorted by their encoded keys.
//!
//! The serde data model maps as `ciborium::Value::serialized` maps it, so this writes exactly
//! the bytes of `encode::write(Value::serialized(x))` (tested): unit and `None` are null,
//! unit variants their name, other variants a one-entry map from the name to the content.
//! Floats and 128-bit integers outside the CBOR range have no encoding here.

use serde::ser::{self, Serialize};

use super::CborError;

impl ser::Error for CborError {
    fn custom<T: core::fmt::Display>(msg: T) -> Self {
        Self::Schema(msg.to_string())
    }
}

/// Appends a head with the shortest argument encoding.
pub(crate) fn head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let m = major << 5;
    match arg {
        0..=23 => out.push(m | arg as u8),
        24..=0xff => out.extend_from_slice(&[m | 24, arg as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend_from_slice(&(arg as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(m | 26);
            out.extend_from_slice(&(arg as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend_from_slice(&arg.to_be_bytes());
        }
    }
}

/// The output buffer, and scratch space for putting map entries in order.
#[derive(Default)]
pub(crate) struct Encoder {
    pub out: Vec<u8>,
    /// Where each map entry starts and its key ends, for every map being written
    /// (innermost last): a map that finishes takes its entries off the top.
    entries: Vec<(usize, usize)>,
    spans: Vec<Span>,
    region: Vec<u8>,
    /// Set while a `Raw` item is being written: its bytes go out without a head.
    verbatim: bool,
    /// In comparing mode `Raw` items are not copied into `out` but noted in `gaps`, in
    /// output order (see [`Encoder::matches`]); otherwise `gaps` stays empty.
    comparing: bool,
    gaps: Vec<Gap>,
    /// Set when bytes at or after a gap moved, or a gap fell inside a map key: the gaps then
    /// no longer describe the output, and the caller encodes again without them.
    gaps_unusable: bool,
}

/// A `Raw` item left out of the output in comparing mode: where in `out` it would start, and
/// the address and length of its bytes.
#[derive(Debug, Clone, Copy)]
struct Gap {
    at: usize,
    addr: usize,
    len: usize,
}

impl Encoder {
    /// Empties every buffer, keeping their capacity, so the encoder can be used again.
    pub(crate) fn clear(&mut self) {
        self.out.clear();
        self.entries.clear();
        self.spans.clear();
        self.region.clear();
        self.verbatim = false;
        self.gaps.clear();
        self.gaps_unusable = false;
    }

    /// Comparing mode on or off (see [`Encoder::matches`]); also clears the encoder.
    pub(crate) fn set_comparing(&mut self, on: bool) {
        self.comparing = on;
        self.clear();
    }

    /// Whether the comparing-mode output could be checked (no bytes moved across a gap).
    pub(crate) fn gaps_usable(&self) -> bool {
        !self.gaps_unusable
    }

    /// Whether the full encoding equals `input`, where each gap's bytes must be the very bytes
    /// of `input` at that place (as they are for a value just decoded from `input`), so they
    /// need no copy and no comparison.
    pub(crate) fn matches(&self, input: &[u8]) -> bool {
        let base = input.as_ptr() as usize;
        let (mut i, mut o) = (0, 0);
        for g in &self.gaps {
            // Gaps that no longer line up (see `gaps_usable`) may point past the output.
            let Some(segment) = self.out.get(o..g.at) else {
                return false;
            };
            if input.get(i..i + segment.len()) != Some(segment) {
                return false;
            }
            i += segment.len();
            if g.addr != base + i || input.len() - i < g.len {
                return false;
            }
            i += g.len;
            o = g.at;
        }
        input.get(i..) == self.out.get(o..)
    }

    /// Notes that bytes written since `gaps_before` gaps were noted are about to move (or
    /// were a map key): if a gap is among them, the gaps no longer line up with the output.
    fn moving_since(&mut self, gaps_before: usize) {
        if self.gaps.len() > gaps_before {
            self.gaps_unusable = true;
        }
    }

    /// Bytes of buffer held.
    pub(crate) fn capacity(&self) -> usize {
        self.out.capacity() + self.region.capacity()
    }

    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            out: Vec::with_capacity(n),
            entries: Vec::with_capacity(32),
            spans: Vec::with_capacity(32),
            region: Vec::new(),
            verbatim: false,
            comparing: false,
            gaps: Vec::new(),
            gaps_unusable: false,
        }
    }
}

/// One map entry in the output: its byte range, the end of its key, and the key's first
/// eight bytes (zero-padded, big-endian) so most comparisons are one integer compare.
#[derive(Clone, Copy)]
struct Span {
    start: usize,
    key_end: usize,
    end: usize,
    prefix: u64,
}

/// An array or map being written. When serde says how many items there are, the head is
/// written first; otherwise it is inserted in front at the end (and corrected if serde's
/// count was wrong). Map entries are then put in canonical order.
pub(crate) struct Compound<'a> {
    enc: &'a mut Encoder,
    major: u8,
    /// Where the head starts, and the count it announced (if written up front).
    start: usize,
    announced: Option<u64>,
    count: u64,
    /// This map's entries are `enc.entries[base..]`.
    base: usize,
    /// Gaps noted before this compound began (comparing mode).
    gaps_before: usize,
}

impl<'a> Compound<'a> {
    fn new(enc: &'a mut Encoder, major: u8, len: Option<usize>) -> Self {
        let start = enc.out.len();
        let announced = len.map(|n| n as u64);
        if let Some(n) = announced {
            head(&mut enc.out, major, n);
        }
        let base = enc.entries.len();
        let gaps_before = enc.gaps.len();
        Self {
            enc,
            major,
            start,
            announced,
            count: 0,
            base,
            gaps_before,
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CborError> {
        self.count += 1;
        value.serialize(&mut *self.enc)
    }

    fn key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), CborError> {
        let at = self.enc.out.len();
        self.enc.entries.push((at, at));
        self.count += 1;
        let gaps = self.enc.gaps.len();
        key.serialize(&mut *self.enc)?;
        // A raw key would sort by bytes that are not in `out`.
        self.enc.moving_since(gaps);
        // Maps inside the key have taken their own entries off the stack by now.
        let end = self.enc.out.len();
        if let Some(last) = self.enc.entries.last_mut() {
            last.1 = end;
        }
        Ok(())
    }

    /// Writes the head where it belongs; returns where the items start now.
    fn place_head(&mut self) -> usize {
        let at = self.start;
        let old_len = match self.announced {
            Some(n) if n == self.count => return at + head_len(n),
            // serde announced another count: replace that head.
            Some(n) => head_len(n),
            None => 0,
        };
        let mut prefix = Vec::with_capacity(9);
        head(&mut prefix, self.major, self.count);
        let new_len = prefix.len();
        self.enc.moving_since(self.gaps_before);
        self.enc.out.splice(at..at + old_len, prefix);
        for (s, k) in &mut self.enc.entries[self.base..] {
            *s = *s - old_len + new_len;
            *k = *k - old_len + new_len;
        }
        at + new_len
    }

    fn finish(mut self) -> Result<(), CborError> {
        let body_start = self.place_head();
        let result = if self.major == 5 {
            sort_entries(self.enc, body_start, self.base, self.gaps_before)
        } else {
            Ok(())
        };
        self.enc.entries.truncate(self.base);
        result
    }
}

fn head_len(arg: u64) -> usize {
    match arg {
        0..=23 => 1,
        24..=0xff => 2,
        0x100..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

/// Puts the map entries that start at `enc.entries[base..]` (in `enc.out[start..]`) in
/// canonical order: by encoded key bytes.
fn sort_entries(
    enc: &mut Encoder,
    start: usize,
    base: usize,
    gaps_before: usize,
) -> Result<(), CborError> {
    let out = &enc.out;
    let starts = &enc.entries[base..];
    let end = out.len();
    enc.spans.clear();
    for (i, &(s, k)) in starts.iter().enumerate() {
        let e = starts.get(i + 1).map_or(end, |n| n.0);
        let mut p = [0u8; 8];
        let n = (k - s).min(8);
        p[..n].copy_from_slice(&out[s..s + n]);
        enc.spans.push(Span {
            start: s,
            key_end: k,
            end: e,
            prefix: u64::from_be_bytes(p),
        });
    }
    let cmp = |a: &Span, b: &Span| {
        a.prefix
            .cmp(&b.prefix)
            .then_with(|| out[a.start..a.key_end].cmp(&out[b.start..b.key_end]))
    };
    if enc.spans.windows(2).all(|w| cmp(&w[0], &w[1]).is_lt()) {
        return Ok(());
    }
    enc.spans.sort_unstable_by(cmp);
    if enc.spans.windows(2).any(|w| cmp(&w[0], &w[1]).is_eq()) {
        return Err(CborError::DuplicateKey { offset: start });
    }
    enc.moving_since(gaps_before);
    enc.region.clear();
    for sp in &enc.spans {
        enc.region.extend_from_slice(&enc.out[sp.start..sp.end]);
    }
    enc.out.truncate(start);
    enc.out.extend_from_slice(&enc.region);
    Ok(())
}

/// The serde traits of arrays: every element goes through [`Compound::element`].
macro_rules! array_like {
    ($($trait:ident :: $method:ident),*) => {
        $(impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = CborError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CborError> {
                self.element(value)
            }
            fn end(self) -> Result<(), CborError> {
                self.finish()
            }
        })*
    };
}

array_like!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = CborError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), CborError> {
        self.key(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CborError> {
        value.serialize(&mut *self.enc)
    }
    fn end(self) -> Result<(), CborError> {
        self.finish()
    }
}

/// The serde traits of structs: a map with text keys.
macro_rules! struct_like {
    ($($trait:ident),*) => {
        $(impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = CborError;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), CborError> {
                self.key(key)?;
                value.serialize(&mut *self.enc)
            }
            fn end(self) -> Result<(), CborError> {
                self.finish()
            }
        })*
    };
}

struct_like!(SerializeStruct, SerializeStructVariant);

impl Encoder {
    fn integer(&mut self, n: i128) -> Result<(), CborError> {
        if let Ok(u) = u64::try_from(n) {
            head(&mut self.out, 0, u);
        } else if let Ok(neg) = u64::try_from(-1 - n) {
            head(&mut self.out, 1, neg);
        } else {
            return Err(CborError::Schema(format!(
                "integer {n} is outside the CBOR range"
            )));
        }
        Ok(())
    }

    fn text(&mut self, s: &str) {
        head(&mut self.out, 3, s.len() as u64);
        self.out.extend_from_slice(s.as_bytes());
    }

    /// The `{name: …}` wrapper of a non-unit enum variant.
    fn variant(&mut self, name: &str) {
        self.out.push(0xa1);
        self.text(name);
    }
}

macro_rules! ints {
    ($($name:ident: $t:ty),*) => {
        $(fn $name(self, v: $t) -> Result<(), CborError> {
            self.integer(i128::from(v))
        })*
    };
}

impl<'a> ser::Serializer for &'a mut Encoder {
    type Ok = ();
    type Error = CborError;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    ints!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
          serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64);

    fn serialize_i128(self, v: i128) -> Result<(), CborError> {
        self.integer(v)
    }

    fn serialize_u128(self, v: u128) -> Result<(), CborError> {
        let n = i128::try_from(v)
            .map_err(|_| CborError::Schema(format!("integer {v} is too large")))?;
        self.integer(n)
    }

    fn serialize_bool(self, v: bool) -> Result<(), CborError> {
        self.out.push(if v { 0xf5 } else { 0xf4 });
        Ok(())
    }

    fn serialize_f32(self, _v: f32) -> Result<(), CborError> {
        Err(CborError::Float {
            offset: self.out.len(),
        })
    }

    fn serialize_f64(self, _v: f64) -> Result<(), CborError> {
        Err(CborError::Float {
            offset: self.out.len(),
        })
    }

    fn serialize_char(self, v: char) -> Result<(), CborError> {
        self.text(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), CborError> {
        self.text(v);
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), CborError> {
        if std::mem::take(&mut self.verbatim) {
            if self.comparing {
                self.gaps.push(Gap {
                    at: self.out.len(),
                    addr: v.as_ptr() as usize,
                    len: v.len(),
                });
            } else {
                self.out.extend_from_slice(v);
            }
            return Ok(());
        }
        head(&mut self.out, 2, v.len() as u64);
        self.out.extend_from_slice(v);
        Ok(())
    }

    fn serialize_none(self) -> Result<(), CborError> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), CborError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), CborError> {
        self.out.push(0xf6);
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), CborError> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), CborError> {
        self.text(variant);
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), CborError> {
        if name == super::raw::RAW_NAME {
            // A `Raw` item: its bytes are one checked item, written as they are.
            self.verbatim = true;
            value.serialize(&mut *self)?;
            if std::mem::take(&mut self.verbatim) {
                return Err(CborError::Schema("a raw item must be bytes".into()));
            }
            return Ok(());
        }
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), CborError> {
        self.variant(variant);
        value.serialize(self)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'a>, CborError> {
        Ok(Compound::new(self, 4, len))
    }

    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>, CborError> {
        Ok(Compound::new(self, 4, Some(len)))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'a>, CborError> {
        Ok(Compound::new(self, 4, Some(len)))
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a>, CborError> {
        // `ciborium::Value::Tag` serialises through this name; tags have no place here.
        if name == "@@TAG@@" {
            return Err(CborError::Tag {
                offset: self.out.len(),
                tag: 0,
            });
        }
        self.variant(variant);
        Ok(Compound::new(self, 4, Some(len)))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'a>, CborError> {
        Ok(Compound::new(self, 5, len))
    }

    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a>, CborError> {
        Ok(Compound::new(self, 5, Some(len)))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a>, CborError> {
        self.variant(variant);
        Ok(Compound::new(self, 5, Some(len)))
    }

    fn is_human_readable(&self) -> bool {
        false
    }
}
