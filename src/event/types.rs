//! Identifier and digest types shared by every event kind.
//!
//! Binary values have two faces: in CBOR they are byte strings, in JSON (for people and
//! non-Rust services) they are text: UUIDs in their usual hyphenated form, digests in
//! lowercase hex.

use core::fmt;
use core::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use uuid::Uuid;

use crate::encoding::{hex_decode_array, hex_encode};

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh UUIDv7 (time-ordered, random tail).
            #[must_use]
            pub fn new_v7() -> Self {
                Self(Uuid::now_v7())
            }

            /// The 16 bytes.
            #[must_use]
            pub fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.hyphenated())
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// An event's unique id: a UUIDv7, so ids sort by creation time.
    EventId
);
uuid_id!(
    /// A task's id: every event of one governed agent task carries it.
    TaskId
);

/// An instant: milliseconds since the Unix epoch, as every time of the event model is.
///
/// On the wire (CBOR and JSON) it is the bare integer; in Rust it is its own type, built
/// from milliseconds or from a [`std::time::SystemTime`] by name, so that seconds cannot
/// pass for milliseconds unnoticed (the ledger also refuses times before 2001-09-09, which
/// is where seconds since the epoch land when read as milliseconds).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The epoch.
    pub const EPOCH: Self = Self(0);

    /// The instant `ms` milliseconds after the epoch.
    #[must_use]
    pub const fn from_millis(ms: u64) -> Self {
        Self(ms)
    }

    /// The instant of `t`, to the millisecond (before the epoch: the epoch; after year
    /// 584 million: the last representable instant).
    #[must_use]
    pub fn from_system_time(t: std::time::SystemTime) -> Self {
        t.duration_since(std::time::UNIX_EPOCH)
            .map_or(Self::EPOCH, |d| {
                Self(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            })
    }

    /// Now, by the system clock.
    #[must_use]
    pub fn now() -> Self {
        Self::from_system_time(std::time::SystemTime::now())
    }

    /// Milliseconds since the epoch.
    #[must_use]
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// `ms` milliseconds later (the last representable instant at most).
    #[must_use]
    pub const fn plus_ms(self, ms: u64) -> Self {
        Self(self.0.saturating_add(ms))
    }

    /// `ms` milliseconds earlier (the epoch at least).
    #[must_use]
    pub const fn minus_ms(self, ms: u64) -> Self {
        Self(self.0.saturating_sub(ms))
    }

    /// Milliseconds from `earlier` to this instant (0 if `earlier` is later).
    #[must_use]
    pub const fn millis_since(self, earlier: Self) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::encoding::format_ms(self.0))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Timestamp({} = {})",
            self.0,
            crate::encoding::format_ms(self.0)
        )
    }
}

/// A 32-byte BLAKE3 digest (of a signed event, a document, a secret, an instruction…).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// BLAKE3 of `data`.
    #[must_use]
    pub fn of(data: &[u8]) -> Self {
        Self(*blake3::hash(data).as_bytes())
    }

    /// What cites a signed event: BLAKE3 over a zero byte and the exact COSE_Sign1 bytes,
    /// which is also the envelope's leaf hash in a BLAKE3 log (RFC 6962's leaf prefix). One
    /// hash then names an event both in other events' citations and in the tree, so an
    /// auditor of a BLAKE3 log hashes each envelope once, not twice (the saving is measured
    /// in `docs/performance.md`).
    #[must_use]
    pub fn of_envelope(envelope: &[u8]) -> Self {
        Self(
            *crate::merkle::HashProfile::Blake3
                .leaf_hash(envelope)
                .as_bytes(),
        )
    }

    /// Lowercase hex.
    #[must_use]
    pub fn to_hex(&self) -> String {
        hex_encode(&self.0)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.to_hex())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl FromStr for Digest {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        hex_decode_array(s)
            .map(Self)
            .ok_or("a digest is 64 hex digits")
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.to_hex())
        } else {
            s.serialize_bytes(&self.0)
        }
    }
}

struct DigestVisitor;

impl Visitor<'_> for DigestVisitor {
    type Value = Digest;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a 32-byte digest (bytes, or 64 lowercase hex digits)")
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Digest, E> {
        <[u8; 32]>::try_from(v)
            .map(Digest)
            .map_err(|_| E::invalid_length(v.len(), &self))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Digest, E> {
        v.parse()
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            d.deserialize_str(DigestVisitor)
        } else {
            d.deserialize_bytes(DigestVisitor)
        }
    }
}

/// Longest identifier string accepted (workload ids, principal ids, names).
pub const MAX_ID_LEN: usize = 512;

/// A workload identity, such as a SPIFFE id `spiffe://bank.example/agent/support`.
///
/// Non-empty, at most [`MAX_ID_LEN`] bytes, no whitespace or control characters.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WorkloadId(String);

/// An identifier string that is empty, too long or contains whitespace or control characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid identifier {0:?}: non-empty, at most 512 bytes, no spaces or control characters")]
pub struct InvalidId(pub String);

/// Whether `s` is acceptable as an identifier.
#[must_use]
pub fn is_valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ID_LEN
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl WorkloadId {
    /// Validates and wraps a workload id.
    ///
    /// # Errors
    /// [`InvalidId`].
    pub fn new(s: impl Into<String>) -> Result<Self, InvalidId> {
        let s = s.into();
        if is_valid_id(&s) {
            Ok(Self(s))
        } else {
            Err(InvalidId(s))
        }
    }

    /// The id text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The SPIFFE trust domain of a `spiffe://<trust domain>/<path>` id; `None` for any
    /// other id, or one whose trust domain breaks the SPIFFE rules (lowercase letters,
    /// digits, `.`, `-` and `_` only). An auditor places a workload in a trust domain by
    /// this, never by what an event declares.
    #[must_use]
    pub fn trust_domain(&self) -> Option<&str> {
        spiffe_trust_domain(&self.0)
    }
}

/// The trust domain of a SPIFFE id (see [`WorkloadId::trust_domain`]).
#[must_use]
pub fn spiffe_trust_domain(id: &str) -> Option<&str> {
    let rest = id.strip_prefix("spiffe://")?;
    let domain = rest.split_once('/').map_or(rest, |(d, _)| d);
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c);
    (!domain.is_empty() && domain.chars().all(allowed)).then_some(domain)
}

impl TryFrom<String> for WorkloadId {
    type Error = InvalidId;
    fn try_from(s: String) -> Result<Self, InvalidId> {
        Self::new(s)
    }
}

impl From<WorkloadId> for String {
    fn from(w: WorkloadId) -> Self {
        w.0
    }
}

/// Maps keyed by workload id can be searched with a `&str` (no validation, no allocation):
/// `Eq`, `Ord` and `Hash` are the inner string's, so they agree with `str`'s.
impl std::borrow::Borrow<str> for WorkloadId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WorkloadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for WorkloadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WorkloadId({})", self.0)
    }
}

/// How trustworthy an event's statement is: made by an enforcing component (gateway, policy
/// decision point, token service, approval service) or reported by the agent itself.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assurance {
    /// Stated by a component that enforces it.
    Enforced,
    /// Stated by the agent about itself.
    SelfReported,
}

/// A reference to an earlier event: its id and the digest of its signed envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventRef {
    /// The event's id.
    pub id: EventId,
    /// [`Digest::of_envelope`] of the event's exact COSE_Sign1 bytes.
    pub digest: Digest,
}
