//! A serde `Deserializer` that reads typed values straight out of bytes, so no intermediate
//! value tree is built.
//!
//! It checks every bound itself and, when made with [`Decoder::bounded`], the nesting depth,
//! so it may read bytes nothing has checked: the strict decode reads first and runs the
//! structural checker ([`super::decode::check`]) only when it must (`super::from_slice_borrowed`).
//! Canonical form it leaves to the checker and to the re-encoding after it.
//! Type hints are strict: a field typed as bytes must be a byte string, an integer an
//! integer, and so on, so a mistyped field is a [`CborError::Schema`] error.

use serde::de::{self, DeserializeSeed, IntoDeserializer as _, Unexpected, Visitor};

use super::CborError;

impl de::Error for CborError {
    fn custom<T: core::fmt::Display>(msg: T) -> Self {
        Self::Schema(msg.to_string())
    }
}

/// One item's head: its major type and argument (simple values keep `info` as argument).
#[derive(Clone, Copy)]
struct Head {
    major: u8,
    arg: u64,
    at: usize,
}

/// A cursor over bytes.
pub(crate) struct Decoder<'de> {
    bytes: &'de [u8],
    pos: usize,
    /// How many more arrays or maps may be entered: recursion stays bounded on any input.
    depth_left: usize,
    max_depth: usize,
    /// Whether a still-encoded item ([`super::Raw`]) was handed out: the re-encoding does not
    /// look inside those, so such a read is accepted only after the structural check.
    saw_raw: bool,
}

impl<'de> Decoder<'de> {
    /// A decoder for bytes that passed the structural check (which bounded their depth).
    pub(crate) fn new(bytes: &'de [u8]) -> Self {
        Self::bounded(bytes, usize::MAX)
    }

    /// A decoder that refuses to enter more than `max_depth` nested arrays or maps, so it
    /// never reads an item deeper than the structural check allows (it refuses one case the
    /// check accepts, an empty container at exactly that depth; the caller then decodes
    /// the long way).
    pub(crate) fn bounded(bytes: &'de [u8], max_depth: usize) -> Self {
        Self {
            bytes,
            pos: 0,
            depth_left: max_depth,
            max_depth,
            saw_raw: false,
        }
    }

    /// Whether a [`super::Raw`] item was read.
    pub(crate) fn saw_raw(&self) -> bool {
        self.saw_raw
    }

    /// Runs `f` one array or map deeper.
    fn nested<R>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<R, CborError>,
    ) -> Result<R, CborError> {
        if self.depth_left == 0 {
            return Err(CborError::TooDeep {
                offset: self.pos,
                max: self.max_depth,
            });
        }
        self.depth_left -= 1;
        let r = f(self);
        self.depth_left += 1;
        r
    }

    /// Whether every byte has been read.
    pub(crate) fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }

    fn take(&mut self, n: u64) -> Result<&'de [u8], CborError> {
        super::decode::take(self.bytes, &mut self.pos, n)
    }

    fn peek(&self) -> Result<Head, CborError> {
        read_head(self.bytes, self.pos)
            .map(|(h, _)| h)
            .ok_or(CborError::Truncated { offset: self.pos })
    }

    fn head(&mut self) -> Result<Head, CborError> {
        let (h, next) =
            read_head(self.bytes, self.pos).ok_or(CborError::Truncated { offset: self.pos })?;
        self.pos = next;
        Ok(h)
    }

    /// Reads a head, requiring `major`; otherwise a schema error naming what was found.
    fn expect(&mut self, major: u8, what: &dyn de::Expected) -> Result<Head, CborError> {
        let h = self.head()?;
        if h.major == major {
            return Ok(h);
        }
        self.pos = h.at;
        Err(de::Error::invalid_type(self.unexpected(h), what))
    }

    fn unexpected(&self, h: Head) -> Unexpected<'static> {
        match (h.major, h.arg) {
            (0, n) => Unexpected::Unsigned(n),
            (1, _) => Unexpected::Other("negative integer"),
            (2, _) => Unexpected::Other("byte string"),
            (3, _) => Unexpected::Other("text string"),
            (4, _) => Unexpected::Seq,
            (5, _) => Unexpected::Map,
            (7, 20) => Unexpected::Bool(false),
            (7, 21) => Unexpected::Bool(true),
            (7, 22) => Unexpected::Option,
            _ => Unexpected::Other("unsupported item"),
        }
    }

    fn text(&mut self, h: Head) -> Result<&'de str, CborError> {
        let raw = self.take(h.arg)?;
        core::str::from_utf8(raw).map_err(|_| CborError::InvalidUtf8 { offset: h.at })
    }

    /// Skips one whole item (for `IgnoredAny`).
    fn skip(&mut self) -> Result<(), CborError> {
        let h = self.head()?;
        match h.major {
            2 => self.take(h.arg).map(drop),
            3 => self.text(h).map(drop),
            4 => self.nested(|de| (0..h.arg).try_for_each(|_| de.skip())),
            5 => self.nested(|de| (0..h.arg).try_for_each(|_| de.skip().and_then(|()| de.skip()))),
            _ => Ok(()),
        }
    }
}

/// The head at `bytes[at..]` and where it ends (see [`super::decode::head_at`]).
fn read_head(bytes: &[u8], at: usize) -> Option<(Head, usize)> {
    let (major, arg, next) = super::decode::head_at(bytes, at)?;
    Some((Head { major, arg, at }, next))
}

/// Elements of an array or entries of a map, `left` of them still to read.
struct Items<'a, 'de> {
    de: &'a mut Decoder<'de>,
    left: u64,
}

impl<'de> de::SeqAccess<'de> for Items<'_, 'de> {
    type Error = CborError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, CborError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }
    fn size_hint(&self) -> Option<usize> {
        // Bounded by the checked input length, not by what a header claims.
        usize::try_from(self.left).ok().map(|n| n.min(4096))
    }
}

impl<'de> de::MapAccess<'de> for Items<'_, 'de> {
    type Error = CborError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, CborError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, CborError> {
        seed.deserialize(&mut *self.de)
    }
    fn size_hint(&self) -> Option<usize> {
        usize::try_from(self.left).ok().map(|n| n.min(4096))
    }
}

/// The one entry of a map that names an enum variant.
struct Variant<'a, 'de> {
    de: &'a mut Decoder<'de>,
}

impl<'de> de::EnumAccess<'de> for Variant<'_, 'de> {
    type Error = CborError;
    type Variant = Self;
    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), CborError> {
        let name = seed.deserialize(&mut *self.de)?;
        Ok((name, self))
    }
}

impl<'de> de::VariantAccess<'de> for Variant<'_, 'de> {
    type Error = CborError;
    fn unit_variant(self) -> Result<(), CborError> {
        // `{"Name": null}` is not how unit variants are written (they are plain text).
        Err(de::Error::invalid_type(
            Unexpected::Map,
            &"a unit variant as text",
        ))
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, CborError> {
        seed.deserialize(&mut *self.de)
    }
    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, CborError> {
        de::Deserializer::deserialize_seq(&mut *self.de, visitor)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, CborError> {
        de::Deserializer::deserialize_map(&mut *self.de, visitor)
    }
}

macro_rules! via_any {
    ($($name:ident)*) => {
        $(fn $name<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CborError> {
            self.deserialize_any(visitor)
        })*
    };
}

macro_rules! integer {
    ($($name:ident)*) => {
        $(fn $name<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CborError> {
            match self.peek()?.major {
                0 | 1 => self.deserialize_any(visitor),
                _ => {
                    let h = self.head()?;
                    self.pos = h.at;
                    Err(de::Error::invalid_type(self.unexpected(h), &visitor))
                }
            }
        })*
    };
}

impl<'de> de::Deserializer<'de> for &mut Decoder<'de> {
    type Error = CborError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CborError> {
        let h = self.head()?;
        match h.major {
            0 => visitor.visit_u64(h.arg),
            1 => match i64::try_from(h.arg) {
                Ok(n) => visitor.visit_i64(-1 - n),
                Err(_) => visitor.visit_i128(-1 - i128::from(h.arg)),
            },
            2 => visitor.visit_borrowed_bytes(self.take(h.arg)?),
            3 => visitor.visit_borrowed_str(self.text(h)?),
            4 => self.nested(|de| visitor.visit_seq(Items { de, left: h.arg })),
            5 => self.nested(|de| visitor.visit_map(Items { de, left: h.arg })),
            7 => match h.arg {
                20 => visitor.visit_bool(false),
                21 => visitor.visit_bool(true),
                22 => visitor.visit_none(),
                _ => Err(CborError::UnsupportedSimple {
                    offset: h.at,
                    value: h.arg as u8,
                }),
            },
            _ => Err(CborError::Tag {
                offset: h.at,
                tag: h.arg,
            }),
        }
    }

    integer!(deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
             deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128);
    via_any!(deserialize_f32 deserialize_f64 deserialize_char);

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CborError> {
        match self.peek()? {
            Head { major: 7, arg, .. } if arg == 20 || arg == 21 => self.deserialize_any(visitor),
            h => Err(de::Error::invalid_type(self.unexpected(h), &visitor)),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CborError> {
        let h = self.expect(3, &visitor)?;
        visitor.visit_borrowed_str(self.text(h)?)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CborError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CborError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CborError> {
        let h = self.expect(2, &visitor)?;
        visitor.visit_borrowed_bytes(self.take(h.arg)?)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CborError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CborError> {
        if matches!(
            self.peek()?,
            Head {
                major: 7,
                arg: 22,
                ..
            }
        ) {
            self.head()?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CborError> {
        match self.peek()? {
            Head {
                major: 7, arg: 22, ..
            } => {
                self.head()?;
                visitor.visit_unit()
            }
            h => Err(de::Error::invalid_type(self.unexpected(h), &visitor)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, CborError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, CborError> {
        if name == super::raw::RAW_NAME {
            // The next item, whole and still encoded (see `super::raw`).
            let start = self.pos;
            self.skip()?;
            self.saw_raw = true;
            return visitor.visit_borrowed_bytes(&self.bytes[start..self.pos]);
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CborError> {
        let h = self.expect(4, &visitor)?;
        self.nested(|de| visitor.visit_seq(Items { de, left: h.arg }))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, CborError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, CborError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CborError> {
        let h = self.expect(5, &visitor)?;
        self.nested(|de| visitor.visit_map(Items { de, left: h.arg }))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, CborError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, CborError> {
        match self.peek()? {
            // A unit variant is its name.
            Head { major: 3, .. } => {
                let h = self.head()?;
                visitor.visit_enum(self.text(h)?.into_deserializer())
            }
            // Any other variant is a one-entry map from its name to its content.
            Head {
                major: 5, arg: 1, ..
            } => {
                self.head()?;
                self.nested(|de| visitor.visit_enum(Variant { de }))
            }
            h => Err(de::Error::invalid_type(self.unexpected(h), &visitor)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, CborError> {
        self.skip()?;
        visitor.visit_unit()
    }

    fn is_human_readable(&self) -> bool {
        false
    }
}
