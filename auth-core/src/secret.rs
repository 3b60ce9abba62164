//! Random secrets, their hashes at rest and constant-time comparison.

use std::fmt;

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// Bytes of randomness in a session handle (128 bits).
pub const HANDLE_BYTES: usize = 16;
/// Bytes of randomness in the secret half of a cookie or refresh token (256 bits).
pub const SECRET_BYTES: usize = 32;

const HANDLE_CHARS: usize = 22;
const SECRET_CHARS: usize = 43;

/// Fills an array with cryptographically secure random bytes.
pub(crate) fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    aws_lc_rs::rand::fill(&mut bytes).expect("the operating system's random source is available");
    bytes
}

/// Unpadded base64url.
pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes unpadded base64url.
pub(crate) fn unb64(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

fn is_b64url(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The public name of one session or refresh family.
///
/// A handle is what `/session/list` shows, what an access token's `sid`
/// claim carries and what a store keys its record by. It identifies a
/// session but does not authenticate anyone: the secret half of a cookie or
/// refresh token is also needed, and only its hash is ever stored.
///
/// It is stored inline (22 ASCII characters, no allocation), so copying one
/// is as cheap as copying an integer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle([u8; HANDLE_CHARS]);

impl Handle {
    /// A new random handle of 128 bits.
    pub fn generate() -> Self {
        let text = b64(&random::<HANDLE_BYTES>());
        Self::parse(&text).expect("base64url of 16 bytes is a handle")
    }

    /// Accepts `text` if it has the form of a handle.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != HANDLE_CHARS || !is_b64url(text) {
            return None;
        }
        let mut bytes = [0u8; HANDLE_CHARS];
        bytes.copy_from_slice(text.as_bytes());
        Some(Self(bytes))
    }

    /// The handle as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("a handle holds only base64url characters")
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handle({})", self.as_str())
    }
}

impl Serialize for Handle {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Handle {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom("expected a session handle"))
    }
}

/// What a secret is for; each purpose hashes differently, so that a value
/// known in one role is useless in another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    Cookie,
    Refresh,
    Csrf,
    TokenCache,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Self::Cookie => b"auth-core session cookie v1\0",
            Self::Refresh => b"auth-core refresh token v1\0",
            Self::Csrf => b"auth-core csrf token v1\0",
            Self::TokenCache => b"auth-core token cache v1\0",
        }
    }
}

/// The SHA-256 hash of a secret, which is all a store ever keeps of it.
///
/// The secrets hashed here carry at least 256 random bits, so a fast hash is
/// enough: nobody can search that space, and the hash cannot be turned back
/// into a cookie or a refresh token.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    pub(crate) fn of(purpose: Purpose, secret: &[u8]) -> Self {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(purpose.label());
        ctx.update(secret);
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.finish().as_ref());
        Self(out)
    }

    /// The hash from its 32 raw bytes, as a store reads it back.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex, for stores that keep text.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses 64 hex digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        if text.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(out))
    }

    /// Compares in constant time.
    pub fn matches(&self, other: &Self) -> bool {
        constant_time_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

impl Serialize for SecretHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for SecretHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::from_hex(&text).ok_or_else(|| serde::de::Error::custom("expected 64 hex digits"))
    }
}

/// A credential of the form `HANDLE.SECRET`: a session cookie's value or a
/// refresh token. It never prints its value.
#[derive(Clone)]
pub(crate) struct Credential {
    pub(crate) handle: Handle,
    secret: String,
}

impl Credential {
    pub(crate) fn generate(handle: Handle) -> Self {
        Self {
            handle,
            secret: b64(&random::<SECRET_BYTES>()),
        }
    }

    /// Accepts only the exact shape this crate issues; anything else is
    /// rejected before any store is asked.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let (handle, secret) = text.split_once('.')?;
        let handle = Handle::parse(handle)?;
        (secret.len() == SECRET_CHARS && is_b64url(secret)).then(|| Self {
            handle,
            secret: secret.to_owned(),
        })
    }

    pub(crate) fn hash(&self, purpose: Purpose) -> SecretHash {
        SecretHash::of(purpose, self.secret.as_bytes())
    }

    pub(crate) fn expose(&self) -> String {
        format!("{}.{}", self.handle, self.secret)
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_round_trip_and_carry_enough_randomness() {
        let c = Credential::generate(Handle::generate());
        let text = c.expose();
        let parsed = Credential::parse(&text).unwrap();
        assert_eq!(parsed.handle, c.handle);
        assert!(
            parsed
                .hash(Purpose::Cookie)
                .matches(&c.hash(Purpose::Cookie))
        );
        assert_eq!(unb64(c.handle.as_str()).unwrap().len() * 8, 128);
        assert_eq!(unb64(&c.secret).unwrap().len() * 8, 256);
    }

    #[test]
    fn malformed_credentials_are_refused() {
        let good = Credential::generate(Handle::generate()).expose();
        for bad in [
            "",
            ".",
            "abc.def",
            &good[1..],
            &format!("{good}x"),
            &good.replace('.', ":"),
            &format!("{}+{}", &good[..10], &good[11..]),
        ] {
            assert!(Credential::parse(bad).is_none(), "{bad:?} accepted");
        }
    }

    #[test]
    fn purposes_hash_apart() {
        let c = Credential::generate(Handle::generate());
        assert_ne!(c.hash(Purpose::Cookie), c.hash(Purpose::Refresh));
        assert_ne!(c.hash(Purpose::Cookie), c.hash(Purpose::Csrf));
    }

    #[test]
    fn hash_hex_round_trips_and_debug_hides_it() {
        let h = SecretHash::of(Purpose::Cookie, b"x");
        assert_eq!(SecretHash::from_hex(&h.to_hex()), Some(h));
        assert!(SecretHash::from_hex("zz").is_none());
        assert_eq!(format!("{h:?}"), "SecretHash(..)");
        let c = Credential::generate(Handle::generate());
        assert!(!format!("{c:?}").contains(&c.secret));
    }
}
