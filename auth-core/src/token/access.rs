//! Access tokens (RFC 9068 style JWTs): issuing, verifying and caching.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Header, Validation};
use serde::{Deserialize, Serialize};

use super::keys::{KeyPair, KeyRing};
use crate::clock::unix_secs;
use crate::error::{AuthError, TokenRejection};
use crate::secret::{self, Handle, Purpose, SecretHash};

/// The `typ` header of every access token (RFC 9068).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// Tokens longer than this are refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The claims of an access token. Every one of them is required.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer; must equal the configured one exactly.
    pub iss: String,
    /// Audience; must be, or contain, the configured one.
    pub aud: Audience,
    /// The username.
    pub sub: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issue time, seconds since the epoch.
    pub iat: u64,
    /// Not before, seconds since the epoch.
    pub nbf: u64,
    /// A unique identifier of this token.
    pub jti: String,
    /// The user's roles at issue.
    pub roles: Vec<String>,
    /// The handle of the refresh family this token was issued from.
    pub sid: Handle,
}

/// The `aud` claim: one audience or several.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// A single audience.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, wanted: &str) -> bool {
        match self {
            Self::One(aud) => aud == wanted,
            Self::Many(auds) => auds.iter().any(|a| a == wanted),
        }
    }
}

/// What the verifier checks besides the signature.
#[derive(Clone, Debug)]
pub(crate) struct TokenRules {
    pub(crate) issuer: String,
    pub(crate) audience: String,
    pub(crate) leeway: Duration,
    pub(crate) ttl: Duration,
}

/// A verified token kept in the cache.
struct Verified {
    claims: Arc<AccessClaims>,
    generation: u64,
}

/// Issues and verifies access tokens with one key ring.
pub(crate) struct Tokens {
    ring: Arc<KeyRing>,
    rules: TokenRules,
    validation: Validation,
    cache: quick_cache::sync::Cache<SecretHash, Arc<Verified>>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("ring", &self.ring)
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

impl Tokens {
    pub(crate) fn new(ring: Arc<KeyRing>, rules: TokenRules, cache_capacity: usize) -> Self {
        let mut validation = Validation::new(ring.algorithm().jsonwebtoken());
        // Time is checked against our clock below, not the system clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        validation.required_spec_claims = ["exp", "nbf", "iss", "aud", "sub"]
            .into_iter()
            .map(String::from)
            .collect::<HashSet<_>>();
        validation.set_issuer(&[&rules.issuer]);
        validation.set_audience(&[&rules.audience]);
        Self {
            ring,
            rules,
            validation,
            cache: quick_cache::sync::Cache::new(cache_capacity.max(1)),
        }
    }

    pub(crate) fn ring(&self) -> &Arc<KeyRing> {
        &self.ring
    }

    /// Signs a new access token for `user`, issued from family `sid`.
    pub(crate) fn issue(
        &self,
        user: &str,
        roles: &[String],
        sid: &Handle,
        now: SystemTime,
    ) -> Result<(String, AccessClaims), AuthError> {
        let iat = unix_secs(now);
        let claims = AccessClaims {
            iss: self.rules.issuer.clone(),
            aud: Audience::One(self.rules.audience.clone()),
            sub: user.to_owned(),
            exp: iat + self.rules.ttl.as_secs(),
            iat,
            nbf: iat,
            jti: secret::b64(&secret::random::<16>()),
            roles: roles.to_vec(),
            sid: *sid,
        };
        let key = self.ring.signing();
        let token = sign(&key, &claims)?;
        Ok((token, claims))
    }

    /// Verifies signature, header and claims, and `exp`/`nbf` at `now`
    /// unless `allow_expired`. Revocation is not checked here.
    pub(crate) fn verify(
        &self,
        token: &str,
        now: SystemTime,
        allow_expired: bool,
    ) -> Result<Arc<AccessClaims>, TokenRejection> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenRejection::Malformed);
        }
        let key = SecretHash::of(Purpose::TokenCache, token.as_bytes());
        let generation = self.ring.generation();
        let claims = match self.cache.get(&key) {
            Some(hit) if hit.generation == generation => Arc::clone(&hit.claims),
            _ => {
                let claims = Arc::new(self.verify_signed(token)?);
                let entry = Verified {
                    claims: Arc::clone(&claims),
                    generation,
                };
                self.cache.insert(key, Arc::new(entry));
                claims
            }
        };
        if !allow_expired {
            self.check_time(&claims, now)?;
        }
        Ok(claims)
    }

    fn check_time(&self, claims: &AccessClaims, now: SystemTime) -> Result<(), TokenRejection> {
        let now = unix_secs(now);
        let leeway = self.rules.leeway.as_secs();
        if now >= claims.exp.saturating_add(leeway) {
            return Err(TokenRejection::Expired);
        }
        if now.saturating_add(leeway) < claims.nbf || now.saturating_add(leeway) < claims.iat {
            return Err(TokenRejection::NotYetValid);
        }
        Ok(())
    }

    fn verify_signed(&self, token: &str) -> Result<AccessClaims, TokenRejection> {
        let kid = self.check_header(token)?;
        let key = self
            .ring
            .verifying(&kid)
            .ok_or(TokenRejection::UnknownKey)?;
        let data =
            jsonwebtoken::decode::<AccessClaims>(token, key.decoding_key(), &self.validation)
                .map_err(|e| rejection(e.kind()))?;
        if !data.claims.aud.contains(&self.rules.audience) || data.claims.iss != self.rules.issuer {
            return Err(TokenRejection::Audience);
        }
        Ok(data.claims)
    }

    /// Checks the protected header by hand before any key is chosen: the
    /// algorithm pinned to the ring's, `typ` of an access token, a `kid`,
    /// and no parameter that would bring a key or a critical extension.
    fn check_header(&self, token: &str) -> Result<String, TokenRejection> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenRejection::Malformed);
        };
        if header.is_empty() || payload.is_empty() || signature.is_empty() {
            return Err(TokenRejection::Malformed);
        }
        let bytes = secret::unb64(header).ok_or(TokenRejection::Malformed)?;
        let header: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&bytes).map_err(|_| TokenRejection::Malformed)?;
        let field = |name: &str| header.get(name).and_then(serde_json::Value::as_str);
        if field("alg") != Some(self.ring.algorithm().as_str()) {
            return Err(TokenRejection::Header);
        }
        let typ_ok = field("typ").is_some_and(|typ| {
            let typ = typ.to_ascii_lowercase();
            typ == ACCESS_TOKEN_TYP || typ == "application/at+jwt"
        });
        if !typ_ok {
            return Err(TokenRejection::Header);
        }
        if ["jwk", "jku", "x5u", "x5c", "crit"]
            .iter()
            .any(|name| header.contains_key(*name))
        {
            return Err(TokenRejection::Header);
        }
        field("kid")
            .map(str::to_owned)
            .ok_or(TokenRejection::UnknownKey)
    }
}

fn sign(key: &KeyPair, claims: &AccessClaims) -> Result<String, AuthError> {
    let mut header = Header::new(key.algorithm().jsonwebtoken());
    header.typ = Some(ACCESS_TOKEN_TYP.to_owned());
    header.kid = Some(key.kid().to_owned());
    jsonwebtoken::encode(&header, claims, key.encoding_key()).map_err(|e| {
        tracing::error!(kid = key.kid(), "signing an access token failed");
        AuthError::Internal(Box::new(e))
    })
}

fn rejection(kind: &ErrorKind) -> TokenRejection {
    match kind {
        ErrorKind::InvalidSignature => TokenRejection::Signature,
        ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => TokenRejection::Audience,
        ErrorKind::MissingRequiredClaim(_)
        | ErrorKind::InvalidClaimFormat(_)
        | ErrorKind::InvalidSubject
        | ErrorKind::Json(_) => TokenRejection::Claims,
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::MissingAlgorithm => TokenRejection::Header,
        _ => TokenRejection::Malformed,
    }
}
