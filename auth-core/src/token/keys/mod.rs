//! Signing keys and the ring that rotates them.
//!
//! A [`KeyPair`] is one key for one [`JwtAlgorithm`], named by a `kid`
//! computed from the key itself, so that every instance loading the same
//! file names it alike. A [`KeyRing`] signs with one key and keeps older
//! ones verify-only until the tokens they signed have expired.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//!
//! use auth_core::token::keys::{JwtAlgorithm, KeyPair, KeyRing};
//!
//! # fn main() -> Result<(), auth_core::token::keys::KeyError> {
//! let ring = KeyRing::new(KeyPair::generate(JwtAlgorithm::EdDsa)?);
//! let old = ring.signing_kid();
//!
//! // Tokens signed with `old` live 15 minutes, plus 30 seconds of leeway.
//! let now = SystemTime::now();
//! let retire_at = now + Duration::from_secs(15 * 60 + 30);
//! let next = KeyPair::generate(JwtAlgorithm::EdDsa)?;
//! let new = ring.rotate(next, now, retire_at)?;
//!
//! assert_ne!(old, new);
//! assert_eq!(ring.jwks()["keys"].as_array().map(Vec::len), Some(2));
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use arc_swap::ArcSwap;
use aws_lc_rs::digest;
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair,
    RsaPublicKeyComponents,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde_json::{Map, Value, json};
use tracing::{debug, info};

use crate::error::BoxError;
use crate::secret::{b64, random};

/// The shortest HS256 secret accepted, in bytes (256 bits, as RFC 7518 asks).
const MIN_SECRET_BYTES: usize = 32;

/// Separates HS256 kids from any other use of a hash of the secret.
const HS256_KID_CONTEXT: &[u8] = b"auth-core hs256 kid\0";

/// Characters kept of an HS256 kid: 132 bits of the hash.
const HS256_KID_CHARS: usize = 22;

/// A JWT signing algorithm offered by this crate.
///
/// A ring pins one algorithm; tokens naming another are refused, and `none`
/// is never offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JwtAlgorithm {
    /// HMAC with SHA-256 over a shared secret of at least 32 bytes. Every
    /// verifier holds the secret, so every verifier can also sign.
    Hs256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, over a 2048 to 8192-bit RSA key.
    Rs256,
    /// ECDSA over P-256 with SHA-256.
    Es256,
    /// EdDSA over Ed25519.
    EdDsa,
}

impl JwtAlgorithm {
    /// Parses a JOSE name: exactly `HS256`, `RS256`, `ES256` or `EdDSA`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "HS256" => Some(Self::Hs256),
            "RS256" => Some(Self::Rs256),
            "ES256" => Some(Self::Es256),
            "EdDSA" => Some(Self::EdDsa),
            _ => None,
        }
    }

    /// The JOSE name, as a token's `alg` header carries it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }

    /// The same algorithm as `jsonwebtoken` names it.
    pub fn jsonwebtoken(self) -> Algorithm {
        match self {
            Self::Hs256 => Algorithm::HS256,
            Self::Rs256 => Algorithm::RS256,
            Self::Es256 => Algorithm::ES256,
            Self::EdDsa => Algorithm::EdDSA,
        }
    }
}

impl FromStr for JwtAlgorithm {
    type Err = KeyError;

    fn from_str(name: &str) -> Result<Self, KeyError> {
        Self::parse(name).ok_or_else(|| KeyError::UnknownAlgorithm(name.to_owned()))
    }
}

impl fmt::Display for JwtAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a key could not be made, read, or added to a ring.
///
/// No message or source holds key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The name is not one of `HS256`, `RS256`, `ES256` or `EdDSA`.
    #[error("unknown JWT algorithm {0:?}: expected HS256, RS256, ES256 or EdDSA")]
    UnknownAlgorithm(String),
    /// The file holds no unencrypted PEM private key.
    #[error("no unencrypted PEM private key could be read")]
    Unreadable(#[source] Option<pem::PemError>),
    /// The key cannot serve the algorithm: another key type, another
    /// curve, an RSA modulus outside 2048 to 8192 bits, or a damaged key.
    #[error("the key does not fit {algorithm}")]
    WrongType {
        /// The algorithm the key was meant for.
        algorithm: JwtAlgorithm,
        /// What the parser reported, when it said more than "no".
        #[source]
        source: Option<BoxError>,
    },
    /// An HS256 secret shorter than 32 bytes.
    #[error("an HS256 secret needs at least 32 bytes, this one has {len}")]
    TooShort {
        /// The length of the secret offered, in bytes.
        len: usize,
    },
    /// The cryptographic library could not generate a key.
    #[error("key generation failed")]
    Generate(#[source] aws_lc_rs::error::Unspecified),
    /// A key of another algorithm was offered to a ring.
    #[error("the key ring uses {ring}, the key is for {key}")]
    AlgorithmMismatch {
        /// The ring's algorithm.
        ring: JwtAlgorithm,
        /// The algorithm of the key offered.
        key: JwtAlgorithm,
    },
    /// The key offered for rotation already signs.
    #[error("key {kid} is already the signing key")]
    SameKey {
        /// The `kid` of the key.
        kid: String,
    },
}

/// One key: its `kid`, its algorithm, and what signs and verifies with it.
///
/// `Debug` prints the `kid` and the algorithm only.
#[derive(Clone)]
pub struct KeyPair {
    kid: String,
    algorithm: JwtAlgorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: Option<Value>,
}

impl KeyPair {
    /// A new random key: 32 bytes for HS256, RSA of 2048 bits, P-256 or
    /// Ed25519.
    ///
    /// # Errors
    ///
    /// [`KeyError::Generate`] if the cryptographic library fails.
    pub fn generate(algorithm: JwtAlgorithm) -> Result<Self, KeyError> {
        let key = match algorithm {
            JwtAlgorithm::Hs256 => Self::hs256(&random::<MIN_SECRET_BYTES>()),
            JwtAlgorithm::Rs256 => {
                let key = aws_lc_rs::rsa::KeyPair::generate(KeySize::Rsa2048)
                    .map_err(KeyError::Generate)?;
                let der: Pkcs8V1Der<'_> = key.as_der().map_err(KeyError::Generate)?;
                Self::rs256("PRIVATE KEY", der.as_ref())
            }
            JwtAlgorithm::Es256 => {
                let rng = SystemRandom::new();
                let der = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(KeyError::Generate)?;
                Self::es256(der.as_ref())
            }
            JwtAlgorithm::EdDsa => {
                let der = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
                    .map_err(KeyError::Generate)?;
                Self::eddsa(der.as_ref())
            }
        }?;

        debug!(kid = %key.kid, alg = %algorithm, "signing key generated");
        Ok(key)
    }

    /// Reads a key from the bytes of a key file.
    ///
    /// For HS256 the file's bytes, without surrounding ASCII whitespace,
    /// are the secret. For the others the file holds a PEM private key:
    /// PKCS#8 (`PRIVATE KEY`), or PKCS#1 (`RSA PRIVATE KEY`) for RS256, or
    /// SEC 1 (`EC PRIVATE KEY`) for ES256. The first private key block is
    /// used; other blocks, such as `EC PARAMETERS`, are skipped.
    ///
    /// # Errors
    ///
    /// - [`KeyError::TooShort`] for an HS256 secret under 32 bytes.
    /// - [`KeyError::Unreadable`] if no unencrypted PEM private key is found.
    /// - [`KeyError::WrongType`] if the key does not fit `algorithm`, such
    ///   as an EC key for RS256 or a P-384 key for ES256.
    pub fn from_pem(algorithm: JwtAlgorithm, bytes: &[u8]) -> Result<Self, KeyError> {
        let key = match algorithm {
            JwtAlgorithm::Hs256 => Self::hs256(bytes.trim_ascii()),
            JwtAlgorithm::Rs256 => {
                let block =
                    private_key_block(bytes, algorithm, &["PRIVATE KEY", "RSA PRIVATE KEY"])?;
                Self::rs256(block.tag(), block.contents())
            }
            JwtAlgorithm::Es256 => {
                let block =
                    private_key_block(bytes, algorithm, &["PRIVATE KEY", "EC PRIVATE KEY"])?;
                Self::es256(block.contents())
            }
            JwtAlgorithm::EdDsa => {
                let block = private_key_block(bytes, algorithm, &["PRIVATE KEY"])?;
                Self::eddsa(block.contents())
            }
        }?;

        debug!(kid = %key.kid, alg = %algorithm, "signing key loaded");
        Ok(key)
    }

    /// The key's identifier, as tokens name it in their `kid` header.
    ///
    /// It is the RFC 7638 JWK thumbprint for asymmetric keys, and a
    /// truncated hash of the secret for HS256, so the same key always has
    /// the same `kid`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> JwtAlgorithm {
        self.algorithm
    }

    /// The public key as a JWK with `kid`, `alg` and `use: "sig"`; `None`
    /// for HS256, whose secret is never published.
    pub fn public_jwk(&self) -> Option<&Value> {
        self.jwk.as_ref()
    }

    /// The key that signs.
    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    /// The key that verifies.
    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    fn hs256(secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(KeyError::TooShort { len: secret.len() });
        }

        let alg = JwtAlgorithm::Hs256;
        let encoding = EncodingKey::from_secret(secret).map_err(wrong_type(alg))?;
        let decoding = DecodingKey::from_secret(secret).map_err(wrong_type(alg))?;

        let mut hash = digest::Context::new(&digest::SHA256);
        hash.update(HS256_KID_CONTEXT);
        hash.update(secret);
        let mut kid = b64(hash.finish().as_ref());
        kid.truncate(HS256_KID_CHARS);

        Ok(Self {
            kid,
            algorithm: JwtAlgorithm::Hs256,
            encoding,
            decoding,
            jwk: None,
        })
    }

    /// `tag` tells PKCS#1 from PKCS#8.
    fn rs256(tag: &str, der: &[u8]) -> Result<Self, KeyError> {
        let alg = JwtAlgorithm::Rs256;

        // jsonwebtoken signs with the PKCS#1 key, which its PEM reader
        // takes out of PKCS#8; going through it keeps one path for both.
        let pem = pem::encode(&pem::Pem::new(tag, der));
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(wrong_type(alg))?;

        // The signer parses these very bytes for every token: a key it
        // would refuse is refused now, not at the first login.
        let key = RsaKeyPair::from_der(encoding.as_bytes()).map_err(wrong_type(alg))?;
        let public = RsaPublicKeyComponents::<Vec<u8>>::from(key.public_key());
        let (n, e) = (unsigned(&public.n), unsigned(&public.e));

        let decoding = DecodingKey::from_rsa_raw_components(n, e);
        let members = [("e", b64(e)), ("kty", "RSA".into()), ("n", b64(n))];
        Ok(Self::asymmetric(alg, encoding, decoding, &members))
    }

    /// `der` is PKCS#8 or SEC 1.
    fn es256(der: &[u8]) -> Result<Self, KeyError> {
        let alg = JwtAlgorithm::Es256;

        // Refuses other curves as well as other key types.
        let key = EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
            .map_err(wrong_type(alg))?;
        let pkcs8 = key.to_pkcs8v1().map_err(wrong_type(alg))?;

        let point = key.public_key().as_ref();
        let Some((&0x04, xy)) = point.split_first() else {
            return Err(KeyError::WrongType {
                algorithm: alg,
                source: None,
            });
        };
        let (x, y) = xy.split_at(xy.len() / 2);

        let encoding = EncodingKey::from_ec_der(pkcs8.as_ref());
        let decoding = DecodingKey::from_ec_der(point);
        let members = [
            ("crv", "P-256".into()),
            ("kty", "EC".into()),
            ("x", b64(x)),
            ("y", b64(y)),
        ];
        Ok(Self::asymmetric(alg, encoding, decoding, &members))
    }

    /// `der` is PKCS#8, version 1 or 2.
    fn eddsa(der: &[u8]) -> Result<Self, KeyError> {
        let key = Ed25519KeyPair::from_pkcs8(der).map_err(wrong_type(JwtAlgorithm::EdDsa))?;
        let public = key.public_key().as_ref();

        let encoding = EncodingKey::from_ed_der(der);
        let decoding = DecodingKey::from_ed_der(public);
        let members = [
            ("crv", "Ed25519".into()),
            ("kty", "OKP".into()),
            ("x", b64(public)),
        ];
        Ok(Self::asymmetric(
            JwtAlgorithm::EdDsa,
            encoding,
            decoding,
            &members,
        ))
    }

    /// Names the key by its RFC 7638 thumbprint and builds its JWK from the
    /// required public members, given in lexicographic order.
    fn asymmetric(
        algorithm: JwtAlgorithm,
        encoding: EncodingKey,
        decoding: DecodingKey,
        members: &[(&str, String)],
    ) -> Self {
        debug_assert!(members.is_sorted_by_key(|(name, _)| *name));

        // Names and values are ASCII without quotes or backslashes (base64url
        // and fixed names), so no escaping is needed for canonical JSON.
        let canonical = members
            .iter()
            .map(|(name, value)| format!("\"{name}\":\"{value}\""))
            .collect::<Vec<_>>()
            .join(",");
        let kid =
            b64(digest::digest(&digest::SHA256, format!("{{{canonical}}}").as_bytes()).as_ref());

        let mut jwk: Map<String, Value> = members
            .iter()
            .map(|(name, value)| ((*name).to_owned(), Value::from(value.as_str())))
            .collect();
        jwk.insert("kid".into(), Value::from(kid.as_str()));
        jwk.insert("alg".into(), Value::from(algorithm.as_str()));
        jwk.insert("use".into(), Value::from("sig"));

        Self {
            kid,
            algorithm,
            encoding,
            decoding,
            jwk: Some(Value::Object(jwk)),
        }
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// One signing key and older verify-only keys.
///
/// Reading is lock-free: each reader sees an immutable snapshot, and
/// rotation swaps in a new one. Writers take turns, so concurrent rotations
/// lose no key. `Debug` prints the `kid`s only.
///
/// Verify-only keys stay until a [`prune`](Self::prune) or
/// [`rotate`](Self::rotate) finds their time passed; call `prune`
/// periodically so that retired keys do not linger.
pub struct KeyRing {
    algorithm: JwtAlgorithm,
    keys: ArcSwap<Keys>,
    /// Orders writers; readers never take it.
    writer: Mutex<()>,
}

/// One immutable state of a ring.
struct Keys {
    signing: Arc<KeyPair>,
    /// Newest first.
    verify_only: Vec<VerifyOnly>,
    generation: u64,
}

#[derive(Clone)]
struct VerifyOnly {
    key: Arc<KeyPair>,
    retire_at: SystemTime,
}

impl KeyRing {
    /// A ring that signs with `signing` and pins its algorithm.
    pub fn new(signing: KeyPair) -> Self {
        Self {
            algorithm: signing.algorithm,
            keys: ArcSwap::from_pointee(Keys {
                signing: Arc::new(signing),
                verify_only: Vec::new(),
                generation: 0,
            }),
            writer: Mutex::new(()),
        }
    }

    /// The algorithm of every key in the ring.
    pub fn algorithm(&self) -> JwtAlgorithm {
        self.algorithm
    }

    /// The `kid` of the key that signs now.
    pub fn signing_kid(&self) -> String {
        self.keys.load().signing.kid.clone()
    }

    /// The key that signs now.
    pub(crate) fn signing(&self) -> Arc<KeyPair> {
        Arc::clone(&self.keys.load().signing)
    }

    /// The key named `kid`, if it signs now or is verify-only and not yet
    /// dropped.
    pub(crate) fn verifying(&self, kid: &str) -> Option<Arc<KeyPair>> {
        keys_of(&self.keys.load())
            .find(|key| key.kid == kid)
            .cloned()
    }

    /// Makes `next` the signing key. The old one stays verify-only until
    /// `retire_at`, which should be `now` plus the access token lifetime
    /// plus the leeway. Verify-only keys whose time is passed at `now` are
    /// dropped. Answers the new `kid`.
    ///
    /// # Errors
    ///
    /// - [`KeyError::AlgorithmMismatch`] if `next` is for another algorithm.
    /// - [`KeyError::SameKey`] if `next` is the signing key already.
    pub fn rotate(
        &self,
        next: KeyPair,
        now: SystemTime,
        retire_at: SystemTime,
    ) -> Result<String, KeyError> {
        self.check_algorithm(&next)?;

        let _writer = self.lock_writers();
        let current = self.keys.load_full();
        if next.kid == current.signing.kid {
            return Err(KeyError::SameKey { kid: next.kid });
        }

        // A verify-only key offered again becomes the signing key.
        let mut verify_only = current.verify_only.clone();
        verify_only.retain(|known| known.key.kid != next.kid);
        verify_only.insert(
            0,
            VerifyOnly {
                key: Arc::clone(&current.signing),
                retire_at,
            },
        );
        let dropped = drop_retired(&mut verify_only, now);

        let kid = next.kid.clone();
        self.keys.store(Arc::new(Keys {
            signing: Arc::new(next),
            verify_only,
            generation: current.generation + u64::from(dropped),
        }));

        info!(
            kid = %kid,
            previous_kid = %current.signing.kid,
            alg = %self.algorithm,
            "signing key rotated",
        );
        Ok(kid)
    }

    /// Drops verify-only keys whose time is passed at `now`; answers
    /// whether any was dropped.
    pub fn prune(&self, now: SystemTime) -> bool {
        let expired = |known: &VerifyOnly| known.retire_at <= now;
        if !self.keys.load().verify_only.iter().any(expired) {
            return false;
        }

        let _writer = self.lock_writers();
        let current = self.keys.load_full();
        let mut verify_only = current.verify_only.clone();
        if !drop_retired(&mut verify_only, now) {
            return false;
        }

        self.keys.store(Arc::new(Keys {
            signing: Arc::clone(&current.signing),
            verify_only,
            generation: current.generation + 1,
        }));
        true
    }

    /// Adds a verify-only key, such as another instance's, kept until
    /// `retire_at`. A key already in the ring is kept until the later of
    /// its two times.
    ///
    /// # Errors
    ///
    /// [`KeyError::AlgorithmMismatch`] if `key` is for another algorithm.
    pub fn add_verify_key(&self, key: KeyPair, retire_at: SystemTime) -> Result<(), KeyError> {
        self.check_algorithm(&key)?;

        let _writer = self.lock_writers();
        let current = self.keys.load_full();
        if key.kid == current.signing.kid {
            return Ok(());
        }

        let mut verify_only = current.verify_only.clone();
        match verify_only
            .iter_mut()
            .find(|known| known.key.kid == key.kid)
        {
            Some(known) => known.retire_at = known.retire_at.max(retire_at),
            None => {
                debug!(kid = %key.kid, alg = %self.algorithm, "verify-only key added");
                verify_only.push(VerifyOnly {
                    key: Arc::new(key),
                    retire_at,
                });
            }
        }

        self.keys.store(Arc::new(Keys {
            signing: Arc::clone(&current.signing),
            verify_only,
            generation: current.generation,
        }));
        Ok(())
    }

    /// The JWK Set of every key in the ring, signing key first:
    /// `{"keys": [...]}`. Empty for HS256.
    pub fn jwks(&self) -> Value {
        let keys = self.keys.load();
        let jwks: Vec<Value> = keys_of(&keys).filter_map(|key| key.jwk.clone()).collect();
        json!({ "keys": jwks })
    }

    /// A number that grows whenever a key leaves the ring, so that caches
    /// keyed by `kid` know to forget.
    pub fn generation(&self) -> u64 {
        self.keys.load().generation
    }

    fn check_algorithm(&self, key: &KeyPair) -> Result<(), KeyError> {
        if key.algorithm == self.algorithm {
            Ok(())
        } else {
            Err(KeyError::AlgorithmMismatch {
                ring: self.algorithm,
                key: key.algorithm,
            })
        }
    }

    fn lock_writers(&self) -> MutexGuard<'_, ()> {
        // The mutex guards no data, only the turn of writers: a writer that
        // panicked left no snapshot half-built.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = self.keys.load();
        let verify_only: Vec<&str> = keys
            .verify_only
            .iter()
            .map(|known| known.key.kid.as_str())
            .collect();

        f.debug_struct("KeyRing")
            .field("algorithm", &self.algorithm)
            .field("signing", &keys.signing.kid)
            .field("verify_only", &verify_only)
            .finish_non_exhaustive()
    }
}

/// The signing key, then the verify-only ones.
fn keys_of(keys: &Keys) -> impl Iterator<Item = &Arc<KeyPair>> {
    std::iter::once(&keys.signing).chain(keys.verify_only.iter().map(|known| &known.key))
}

/// Removes the keys whose time is passed at `now`; answers whether any was.
fn drop_retired(verify_only: &mut Vec<VerifyOnly>, now: SystemTime) -> bool {
    let before = verify_only.len();
    verify_only.retain(|known| {
        let keep = known.retire_at > now;
        if !keep {
            debug!(kid = %known.key.kid, alg = %known.key.algorithm, "verify-only key dropped");
        }
        keep
    });
    verify_only.len() < before
}

/// The first private key block of a PEM file, if its tag is one of `tags`.
fn private_key_block(
    bytes: &[u8],
    algorithm: JwtAlgorithm,
    tags: &[&str],
) -> Result<pem::Pem, KeyError> {
    let blocks = pem::parse_many(bytes).map_err(|error| KeyError::Unreadable(Some(error)))?;
    let block = blocks
        .into_iter()
        .find(|block| block.tag().ends_with("PRIVATE KEY") && !block.tag().starts_with("ENCRYPTED"))
        .ok_or(KeyError::Unreadable(None))?;

    if tags.contains(&block.tag()) {
        Ok(block)
    } else {
        Err(KeyError::WrongType {
            algorithm,
            source: None,
        })
    }
}

/// Maps a parser's refusal to [`KeyError::WrongType`].
fn wrong_type<E: Into<BoxError>>(algorithm: JwtAlgorithm) -> impl FnOnce(E) -> KeyError {
    move |error| KeyError::WrongType {
        algorithm,
        source: Some(error.into()),
    }
}

/// A big-endian integer without leading zeros, as JWK wants it.
fn unsigned(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

#[cfg(test)]
mod tests;
