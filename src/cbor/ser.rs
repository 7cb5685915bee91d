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

/// The output buffer.
pub(crate) struct Encoder {
    pub out: Vec<u8>,
}

/// An array or map being written. Its items are written first and its head inserted in
/// front at the end, since serde need not say how many there are; map entries are then
/// put in canonical order.
pub(crate) struct Compound<'a> {
    enc: &'a mut Encoder,
    start: usize,
    count: u64,
    /// For maps: where each entry starts and where its key ends.
    entries: Option<Vec<(usize, usize)>>,
}

impl<'a> Compound<'a> {
    fn array(enc: &'a mut Encoder) -> Self {
        let start = enc.out.len();
        Self {
            enc,
            start,
            count: 0,
            entries: None,
        }
    }

    fn map(enc: &'a mut Encoder, len: Option<usize>) -> Self {
        let start = enc.out.len();
        Self {
            enc,
            start,
            count: 0,
            entries: Some(Vec::with_capacity(len.unwrap_or(8))),
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CborError> {
        self.count += 1;
        value.serialize(&mut *self.enc)
    }

    fn key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), CborError> {
        let entry_start = self.enc.out.len();
        key.serialize(&mut *self.enc)?;
        if let Some(entries) = &mut self.entries {
            entries.push((entry_start, self.enc.out.len()));
        }
        self.count += 1;
        Ok(())
    }

    fn finish(self) -> Result<(), CborError> {
        let Self {
            enc,
            start,
            count,
            entries,
        } = self;
        let mut prefix = Vec::with_capacity(9);
        match entries {
            None => head(&mut prefix, 4, count),
            Some(entries) => {
                head(&mut prefix, 5, count);
                sort_entries(&mut enc.out, start, &entries)?;
            }
        }
        enc.out.splice(start..start, prefix);
        Ok(())
    }
}

/// Puts the map entries in `out[start..]` in canonical order (by encoded key bytes);
/// `entries` holds each entry's start and key end, in writing order.
fn sort_entries(
    out: &mut Vec<u8>,
    start: usize,
    entries: &[(usize, usize)],
) -> Result<(), CborError> {
    let end = out.len();
    let spans: Vec<(usize, usize, usize)> = entries
        .iter()
        .enumerate()
        .map(|(i, &(s, k))| (s, k, entries.get(i + 1).map_or(end, |n| n.0)))
        .collect();
    let key = |&(s, k, _): &(usize, usize, usize)| &out[s..k];
    let sorted = spans.windows(2).all(|w| key(&w[0]) < key(&w[1]));
    if sorted {
        return Ok(());
    }
    let mut order = spans.clone();
    order.sort_by(|a, b| key(a).cmp(key(b)));
    if order.windows(2).any(|w| key(&w[0]) == key(&w[1])) {
        return Err(CborError::DuplicateKey { offset: start });
    }
    let mut region = Vec::with_capacity(end - start);
    for &(s, _, e) in &order {
        region.extend_from_slice(&out[s..e]);
    }
    out.truncate(start);
    out.extend_from_slice(&region);
    Ok(())
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = CborError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CborError> {
        self.element(value)
    }
    fn end(self) -> Result<(), CborError> {
        self.finish()
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = CborError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CborError> {
        self.element(value)
    }
    fn end(self) -> Result<(), CborError> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = CborError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CborError> {
        self.element(value)
    }
    fn end(self) -> Result<(), CborError> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = CborError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CborError> {
        self.element(value)
    }
    fn end(self) -> Result<(), CborError> {
        self.finish()
    }
}

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

impl ser::SerializeStruct for Compound<'_> {
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
}

impl ser::SerializeStructVariant for Compound<'_> {
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
}

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
        _name: &'static str,
        value: &T,
    ) -> Result<(), CborError> {
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

    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a>, CborError> {
        Ok(Compound::array(self))
    }

    fn serialize_tuple(self, _len: usize) -> Result<Compound<'a>, CborError> {
        Ok(Compound::array(self))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, CborError> {
        Ok(Compound::array(self))
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, CborError> {
        // `ciborium::Value::Tag` serialises through this name; tags have no place here.
        if name == "@@TAG@@" {
            return Err(CborError::Tag {
                offset: self.out.len(),
                tag: 0,
            });
        }
        self.variant(variant);
        Ok(Compound::array(self))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'a>, CborError> {
        Ok(Compound::map(self, len))
    }

    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a>, CborError> {
        Ok(Compound::map(self, Some(len)))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a>, CborError> {
        self.variant(variant);
        Ok(Compound::map(self, Some(len)))
    }

    fn is_human_readable(&self) -> bool {
        false
    }
}
