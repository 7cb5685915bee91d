//! Note keys: Ed25519 signer and verifier keys in the text forms of C2SP `signed-note` and
//! Go's `sumdb/note`.
//!
//! ```text
//! verifier key: <name>+<hex8 key id>+<base64(0x01 ‖ public key)>
//! signer key:   PRIVATE+KEY+<name>+<hex8 key id>+<base64(0x01 ‖ seed)>
//! key id:       first 4 bytes (big-endian u32) of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)
//! ```

use core::fmt;

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::encoding::{b64_decode, b64_encode, hex_decode_array, hex_encode};

/// The signature-type byte of Ed25519 in C2SP `signed-note`.
pub const ALG_ED25519: u8 = 0x01;
const SIGNER_PREFIX: &str = "PRIVATE+KEY+";

/// Why a key string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key name is empty, not UTF-8, or contains whitespace or `+`.
    #[error("invalid key name {0:?}: it must be non-empty, without spaces or '+'")]
    InvalidName(String),
    /// The string does not have the `name+hex8+base64` shape.
    #[error("malformed key string: {0}")]
    Malformed(&'static str),
    /// The key bytes are not base64.
    #[error("key is not valid base64")]
    BadBase64,
    /// The key bytes start with another signature-type byte than the one expected here
    /// (0x01 for note keys, 0x04 for `cosignature/v1` witness keys).
    #[error("unexpected key signature-type byte {0:#04x}")]
    UnknownAlgorithm(u8),
    /// The key has the wrong length for Ed25519.
    #[error("ed25519 key must be 32 bytes, got {0}")]
    WrongLength(usize),
    /// The key is not a valid Ed25519 public key (not a curve point, or a weak key).
    #[error("not a usable ed25519 public key")]
    BadPublicKey,
    /// The key id in the string is not the one the name and key imply.
    #[error("key id {found:08x} does not match the computed {computed:08x}")]
    KeyIdMismatch {
        /// Key id written in the string.
        found: u32,
        /// Key id computed from name and key.
        computed: u32,
    },
}

/// A key name is non-empty and has no Unicode whitespace and no `+` (C2SP `signed-note`).
#[must_use]
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(|c: char| c.is_whitespace() || c == '+')
}

fn check_name(name: &str) -> Result<(), KeyError> {
    if is_valid_key_name(name) {
        Ok(())
    } else {
        Err(KeyError::InvalidName(name.to_owned()))
    }
}

/// The C2SP key id of an Ed25519 key: SHA-256(name ‖ `\n` ‖ 0x01 ‖ public key)[..4].
#[must_use]
pub fn key_id(name: &str, key: &VerifyingKey) -> u32 {
    key_id_for(name, ALG_ED25519, key)
}

/// A C2SP key id: SHA-256(name ‖ `\n` ‖ signature type ‖ public key)[..4].
pub(crate) fn key_id_for(name: &str, alg: u8, key: &VerifyingKey) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', alg]);
    h.update(key.as_bytes());
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// Splits `name+hex8+base64(alg ‖ key)`, decodes and checks every part.
pub(super) fn parse_key_parts(text: &str, alg: u8) -> Result<(String, u32, [u8; 32]), KeyError> {
    // The name has no '+', the key id is hex: the first two '+' are the separators and the
    // remainder (which may itself contain '+') is base64.
    let (name, rest) = text
        .split_once('+')
        .ok_or(KeyError::Malformed("missing '+'"))?;
    let (id_hex, key_b64) = rest
        .split_once('+')
        .ok_or(KeyError::Malformed("missing key id"))?;
    check_name(name)?;
    let id = hex_decode_array::<4>(id_hex)
        .filter(|_| id_hex.len() == 8)
        .ok_or(KeyError::Malformed("key id must be 8 hex digits"))?;
    let raw = b64_decode(key_b64).ok_or(KeyError::BadBase64)?;
    let (&found, key) = raw.split_first().ok_or(KeyError::WrongLength(0))?;
    if found != alg {
        return Err(KeyError::UnknownAlgorithm(found));
    }
    let key = <[u8; 32]>::try_from(key).map_err(|_| KeyError::WrongLength(key.len()))?;
    Ok((name.to_owned(), u32::from_be_bytes(id), key))
}

/// A note verifier: a key name, its key id and an Ed25519 public key.
#[derive(Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl NoteVerifier {
    /// A verifier for `key` under `name`.
    ///
    /// # Errors
    /// [`KeyError::InvalidName`].
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self, KeyError> {
        check_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            id: key_id(name, &key),
            key,
        })
    }

    /// Parses `name+hex8+base64(0x01 ‖ key)`, checking that the key id matches.
    ///
    /// # Errors
    /// Any [`KeyError`] but `KeyError::InvalidName` for a valid name.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let (name, found, raw) = parse_key_parts(text.trim_end_matches(['\n', '\r']), ALG_ED25519)?;
        let key = VerifyingKey::from_bytes(&raw).map_err(|_| KeyError::BadPublicKey)?;
        if key.is_weak() {
            return Err(KeyError::BadPublicKey);
        }
        let v = Self::new(&name, key)?;
        if v.id != found {
            return Err(KeyError::KeyIdMismatch {
                found,
                computed: v.id,
            });
        }
        Ok(v)
    }

    /// The key name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    #[must_use]
    pub const fn key_id(&self) -> u32 {
        self.id
    }

    /// The Ed25519 public key.
    #[must_use]
    pub const fn key(&self) -> &VerifyingKey {
        &self.key
    }
}

impl fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.id, b64_encode(&raw))
    }
}

impl fmt::Debug for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteVerifier({self})")
    }
}

/// A note signer: a key name and an Ed25519 signing key.
///
/// # Security
/// The seed is wiped on drop, never printed by `Debug`, and only leaves the value through
/// [`NoteSigner::to_key_string`], whose result is itself wiped on drop.
#[derive(Clone)]
pub struct NoteSigner {
    name: String,
    key: SigningKey,
}

impl NoteSigner {
    /// A signer for `key` under `name`.
    ///
    /// # Errors
    /// [`KeyError::InvalidName`].
    pub fn new(name: &str, key: SigningKey) -> Result<Self, KeyError> {
        check_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            key,
        })
    }

    /// A signer with a fresh key from the operating system's random source.
    ///
    /// # Errors
    /// [`KeyError::InvalidName`].
    ///
    /// # Panics
    /// If the operating system cannot provide randomness, which leaves nothing safe to do.
    pub fn generate(name: &str) -> Result<Self, KeyError> {
        Self::new(name, crate::keys::generate_signing_key())
    }

    /// Parses `PRIVATE+KEY+name+hex8+base64(0x01 ‖ seed)` (Go's `note.NewSigner` format).
    ///
    /// # Errors
    /// Any [`KeyError`].
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim_end_matches(['\n', '\r']);
        let rest = text.strip_prefix(SIGNER_PREFIX).ok_or(KeyError::Malformed(
            "signer key must start with PRIVATE+KEY+",
        ))?;
        let (name, found, seed) = parse_key_parts(rest, ALG_ED25519)?;
        let seed = Zeroizing::new(seed);
        let signer = Self::new(&name, SigningKey::from_bytes(&seed))?;
        let computed = signer.key_id();
        if computed != found {
            return Err(KeyError::KeyIdMismatch { found, computed });
        }
        Ok(signer)
    }

    /// The signer key string; handle it as a secret.
    #[must_use]
    pub fn to_key_string(&self) -> Zeroizing<String> {
        let mut raw = Zeroizing::new(vec![ALG_ED25519]);
        raw.extend_from_slice(self.key.as_bytes());
        let b64 = Zeroizing::new(b64_encode(&raw));
        Zeroizing::new(format!(
            "{SIGNER_PREFIX}{}+{:08x}+{}",
            self.name,
            self.key_id(),
            *b64
        ))
    }

    /// The key name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    #[must_use]
    pub fn key_id(&self) -> u32 {
        key_id(&self.name, &self.key.verifying_key())
    }

    /// The matching verifier.
    #[must_use]
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            id: self.key_id(),
            key: self.key.verifying_key(),
        }
    }

    /// The signing key, for the cosignatures this key makes.
    pub(crate) const fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// Ed25519 signature of `msg` (deterministic, so equal inputs give equal notes).
    pub(crate) fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.key.sign(msg).to_bytes()
    }
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "NoteSigner({}+{:08x}, secret elided)",
            self.name,
            self.key_id()
        )
    }
}

/// Lowercase hex of a key id, as written in key strings.
#[must_use]
pub(super) fn key_id_hex(id: u32) -> String {
    hex_encode(&id.to_be_bytes())
}
