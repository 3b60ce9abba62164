//! The errors of this crate, each knowing how it is reported.

use std::error::Error as StdError;
use std::time::Duration;

/// A boxed error kept as the `source()` of ours.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// A store failed to answer.
///
/// "Not found" is not an error: store operations answer `Ok(None)` or
/// `Ok(false)` for data that is absent or expired. Every variant here means
/// the store could not give an answer, and [`Auth`](crate::Auth) turns each
/// into [`AuthError::StoreUnavailable`], so that an outage is refused (503)
/// rather than passed or reported as a bug.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store could not be reached in time: connection refused, timed
    /// out, pool exhausted.
    #[error("the store could not be reached")]
    Unavailable(#[source] BoxError),
    /// The store answered with data this crate cannot read.
    #[error("the store holds data that cannot be read")]
    Corrupt(#[source] BoxError),
    /// The store answered with an error of its own.
    #[error("the store reported an error")]
    Backend(#[source] BoxError),
}

impl StoreError {
    /// An [`Unavailable`](Self::Unavailable) error from any error.
    pub fn unavailable(source: impl Into<BoxError>) -> Self {
        Self::Unavailable(source.into())
    }

    /// A [`Corrupt`](Self::Corrupt) error from any error.
    pub fn corrupt(source: impl Into<BoxError>) -> Self {
        Self::Corrupt(source.into())
    }

    /// A [`Backend`](Self::Backend) error from any error.
    pub fn backend(source: impl Into<BoxError>) -> Self {
        Self::Backend(source.into())
    }
}

/// Why an access token was refused. Only logs see it: every reason is
/// answered with the same `invalid_token` code, so that a client learns
/// nothing about which check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenRejection {
    /// Not three base64url parts, or longer than the size limit.
    Malformed,
    /// A header the verifier refuses: wrong `alg` or `typ`, a `crit`
    /// parameter, or a key carried in the header (`jwk`, `jku`, `x5u`, `x5c`).
    Header,
    /// No key in the ring has the token's `kid`.
    UnknownKey,
    /// The signature does not verify.
    Signature,
    /// A required claim is absent or has the wrong type.
    Claims,
    /// `iss` or `aud` is not the configured one.
    Audience,
    /// `exp` has passed, beyond the leeway.
    Expired,
    /// `nbf` is still ahead, beyond the leeway.
    NotYetValid,
    /// The token, its session or its user was revoked.
    Revoked,
}

impl TokenRejection {
    /// A short name for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Header => "header",
            Self::UnknownKey => "unknown_key",
            Self::Signature => "bad_signature",
            Self::Claims => "claims",
            Self::Audience => "audience",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::Revoked => "revoked",
        }
    }
}

/// Every way an authentication operation can fail.
///
/// Each error knows its machine [`code`](Self::code), an HTTP-style
/// [`status`](Self::status) number, its RFC 6750
/// [`challenge`](Self::challenge) and any [`retry_after`](Self::retry_after);
/// adapters render those and nothing else, so an error body never carries
/// what the client sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No credential was presented where one is required.
    #[error("authentication is required")]
    MissingCredentials,
    /// A bearer token was presented and refused.
    #[error("the access token was refused ({})", .0.as_str())]
    InvalidToken(TokenRejection),
    /// Unknown user or wrong password; the two are not told apart.
    #[error("unknown user or wrong password")]
    InvalidCredentials,
    /// A refresh token was refused: unknown, expired, spent or revoked.
    #[error("the refresh token was refused")]
    InvalidGrant,
    /// Too many failed logins; the account accepts none until the time given.
    #[error("the account is locked")]
    Locked {
        /// How long until the lock ends.
        retry_after: Duration,
    },
    /// An unsafe request authenticated by a cookie lacked the right CSRF token.
    #[error("the CSRF token is missing or wrong")]
    Csrf,
    /// The identity lacks a required role.
    #[error("a required role is missing")]
    InsufficientScope,
    /// The named session does not exist or belongs to someone else.
    #[error("no such session")]
    NotFound,
    /// The username is already registered.
    #[error("the username is taken")]
    UsernameTaken,
    /// The username breaks the username policy.
    #[error("the username is not allowed")]
    InvalidUsername,
    /// The password breaks the password policy.
    #[error("the password is not allowed")]
    WeakPassword,
    /// A store could not answer; the request is refused, never passed.
    #[error("the store is unavailable")]
    StoreUnavailable(#[source] StoreError),
    /// The request body was refused: wrong media type, too large, not JSON,
    /// or not an object of the right shape.
    #[error("the request body was refused ({})", .0.code())]
    InvalidBody(crate::api::BodyError),
    /// Something on our side failed (a hashing thread, a signing key).
    #[error("internal error")]
    Internal(#[source] BoxError),
}

/// How long a client is told to wait after a store outage.
pub const STORE_RETRY_AFTER: Duration = Duration::from_secs(1);

impl AuthError {
    /// The stable machine code of the demo API's error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingCredentials => "unauthenticated",
            Self::InvalidToken(_) => "invalid_token",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidGrant => "invalid_grant",
            Self::Locked { .. } => "locked",
            Self::Csrf => "csrf",
            Self::InsufficientScope => "insufficient_scope",
            Self::NotFound => "not_found",
            Self::UsernameTaken => "username_taken",
            Self::InvalidUsername => "invalid_username",
            Self::WeakPassword => "weak_password",
            Self::StoreUnavailable(_) => "store_unavailable",
            Self::InvalidBody(body) => body.code(),
            Self::Internal(_) => "internal_error",
        }
    }

    /// The HTTP status number this error is reported with.
    pub fn status(&self) -> u16 {
        match self {
            Self::MissingCredentials
            | Self::InvalidToken(_)
            | Self::InvalidCredentials
            | Self::InvalidGrant => 401,
            Self::Csrf | Self::InsufficientScope => 403,
            Self::NotFound => 404,
            Self::UsernameTaken => 409,
            Self::InvalidUsername | Self::WeakPassword => 422,
            Self::Locked { .. } => 429,
            Self::StoreUnavailable(_) => 503,
            Self::InvalidBody(body) => body.status(),
            Self::Internal(_) => 500,
        }
    }

    /// A fixed human-readable description for the error body. It never
    /// includes anything the client sent.
    pub fn description(&self) -> &'static str {
        match self {
            Self::MissingCredentials => "authentication is required",
            Self::InvalidToken(_) => "the access token is invalid",
            Self::InvalidCredentials => "unknown user or wrong password",
            Self::InvalidGrant => "the refresh token is invalid",
            Self::Locked { .. } => "too many failed logins; try again later",
            Self::Csrf => "the CSRF token is missing or wrong",
            Self::InsufficientScope => "a required role is missing",
            Self::NotFound => "no such session",
            Self::UsernameTaken => "the username is taken",
            Self::InvalidUsername => {
                "usernames are 3 to 64 characters of a-z, 0-9, '_', '.' and '-'"
            }
            Self::WeakPassword => "passwords are 12 to 1024 characters",
            Self::StoreUnavailable(_) => "the service is temporarily unavailable",
            Self::InvalidBody(body) => body.description(),
            Self::Internal(_) => "internal error",
        }
    }

    /// The value of the `WWW-Authenticate` header (RFC 6750), if this error
    /// carries one.
    pub fn challenge(&self, realm: &str) -> Option<String> {
        match self {
            Self::MissingCredentials => Some(format!("Bearer realm=\"{realm}\"")),
            Self::InvalidToken(_) => {
                Some(format!("Bearer realm=\"{realm}\", error=\"invalid_token\""))
            }
            Self::InsufficientScope => Some(format!(
                "Bearer realm=\"{realm}\", error=\"insufficient_scope\""
            )),
            _ => None,
        }
    }

    /// How long the client should wait before trying again, if it should.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Locked { retry_after } => Some(*retry_after),
            Self::StoreUnavailable(_) => Some(STORE_RETRY_AFTER),
            _ => None,
        }
    }

    /// `Retry-After` in whole seconds, rounded up and at least one.
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after().map(|d| {
            let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
            secs.max(1)
        })
    }
}

impl From<StoreError> for AuthError {
    fn from(error: StoreError) -> Self {
        tracing::error!(error = %error, "store operation failed");
        Self::StoreUnavailable(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_knows_its_report() {
        let e = AuthError::InvalidToken(TokenRejection::Signature);
        assert_eq!((e.status(), e.code()), (401, "invalid_token"));
        assert_eq!(
            e.challenge("r").unwrap(),
            r#"Bearer realm="r", error="invalid_token""#
        );
        let e = AuthError::Locked {
            retry_after: Duration::from_millis(1500),
        };
        assert_eq!((e.status(), e.retry_after_secs()), (429, Some(2)));
        let e = AuthError::from(StoreError::unavailable("down"));
        assert_eq!((e.status(), e.code()), (503, "store_unavailable"));
        assert_eq!(e.retry_after_secs(), Some(1));
        assert!(AuthError::InvalidCredentials.challenge("r").is_none());
    }
}
