//! The JSON bodies of the ready-made auth routes, and the rules for reading
//! a request body, shared by every adapter so that all stacks answer alike.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::auth::{SessionInfo, SessionLogin, TokenPair};
use crate::clock::rfc3339;
use crate::error::AuthError;

/// The largest request body accepted: 64 KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Why a request body was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyError {
    /// Not `application/json`.
    UnsupportedMediaType,
    /// Over [`MAX_BODY_BYTES`].
    TooLarge,
    /// Not JSON at all.
    Malformed,
    /// JSON, but not an object with the fields of the right types.
    Invalid,
}

impl BodyError {
    /// The HTTP status number.
    pub fn status(self) -> u16 {
        match self {
            Self::UnsupportedMediaType => 415,
            Self::TooLarge => 413,
            Self::Malformed => 400,
            Self::Invalid => 422,
        }
    }

    /// The machine code of the error body.
    pub fn code(self) -> &'static str {
        match self {
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::TooLarge => "payload_too_large",
            Self::Malformed | Self::Invalid => "invalid_request",
        }
    }

    /// A fixed description; it never quotes the body.
    pub fn description(self) -> &'static str {
        match self {
            Self::UnsupportedMediaType => "request bodies must be application/json",
            Self::TooLarge => "request bodies are at most 64 KiB",
            Self::Malformed => "the request body is not valid JSON",
            Self::Invalid => "the request body lacks a field or has one of the wrong type",
        }
    }

    /// The error body.
    pub fn body(self) -> ErrorBody {
        ErrorBody {
            error: self.code(),
            error_description: self.description(),
        }
    }
}

impl From<BodyError> for AuthError {
    fn from(error: BodyError) -> Self {
        Self::InvalidBody(error)
    }
}

/// Whether a `Content-Type` value names JSON (`application/json`, any
/// parameters, any case).
pub fn is_json_content_type(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// Reads a JSON object body into `T`.
///
/// Adapters check the media type with [`is_json_content_type`] before they
/// read the body (so that 415 comes before 413), stop reading past
/// [`MAX_BODY_BYTES`], then call this.
///
/// # Errors
///
/// [`BodyError`]: 415 for another media type, 413 over 64 KiB, 400 for text
/// that is not JSON, 422 for JSON that is not an object of the right shape.
pub fn parse_json<T: DeserializeOwned>(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<T, BodyError> {
    if !content_type.is_some_and(is_json_content_type) {
        return Err(BodyError::UnsupportedMediaType);
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(BodyError::TooLarge);
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| BodyError::Malformed)?;
    if !value.is_object() {
        return Err(BodyError::Invalid);
    }
    serde_json::from_value(value).map_err(|_| BodyError::Invalid)
}

/// Every error body: `{"error": CODE, "error_description": TEXT}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErrorBody {
    /// The machine code.
    pub error: &'static str,
    /// Fixed text for people.
    pub error_description: &'static str,
}

impl From<&AuthError> for ErrorBody {
    fn from(error: &AuthError) -> Self {
        Self {
            error: error.code(),
            error_description: error.description(),
        }
    }
}

/// `{username, password}` for the login routes and sign-up.
#[derive(Clone, Deserialize)]
pub struct Credentials {
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// `{refresh_token}` for the refresh route.
#[derive(Clone, Deserialize)]
pub struct RefreshRequest {
    /// The refresh token to exchange.
    pub refresh_token: String,
}

impl fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshRequest(..)")
    }
}

/// `{token}` for the revocation route (RFC 7009).
#[derive(Clone, Deserialize)]
pub struct RevokeRequest {
    /// An access or refresh token.
    pub token: String,
}

impl fmt::Debug for RevokeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RevokeRequest(..)")
    }
}

/// `{current_password, new_password}` for the password route.
#[derive(Clone, Deserialize)]
pub struct PasswordChange {
    /// The password now.
    pub current_password: String,
    /// The password wanted.
    pub new_password: String,
}

impl fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordChange(..)")
    }
}

/// `{username, roles, csrf_token}`: the answer to a session login.
#[derive(Clone, Serialize)]
pub struct LoginResponse {
    /// The username.
    pub username: String,
    /// The user's roles.
    pub roles: Vec<String>,
    /// The session's CSRF token.
    pub csrf_token: String,
}

impl From<&SessionLogin> for LoginResponse {
    fn from(login: &SessionLogin) -> Self {
        Self {
            username: login.username.clone(),
            roles: login.roles.clone(),
            csrf_token: login.csrf_token.clone(),
        }
    }
}

impl fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginResponse")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// `{access_token, token_type, expires_in, refresh_token}` (RFC 6749 5.1).
#[derive(Clone, Serialize)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The refresh token.
    pub refresh_token: String,
}

impl From<&TokenPair> for TokenResponse {
    fn from(pair: &TokenPair) -> Self {
        Self {
            access_token: pair.access_token().to_owned(),
            token_type: "Bearer",
            expires_in: pair.expires_in(),
            refresh_token: pair.refresh_token().to_owned(),
        }
    }
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// `{username, roles}`.
#[derive(Clone, Debug, Serialize)]
pub struct MeResponse {
    /// The username.
    pub username: String,
    /// The roles.
    pub roles: Vec<String>,
}

/// `{csrf_token}`.
#[derive(Clone, Serialize)]
pub struct CsrfResponse {
    /// The session's CSRF token.
    pub csrf_token: String,
}

impl fmt::Debug for CsrfResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfResponse(..)")
    }
}

/// `{id, created_at, last_seen_at, current}`: one row of the session list.
#[derive(Clone, Debug, Serialize)]
pub struct SessionEntry {
    /// The session's handle (never the cookie).
    pub id: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub last_seen_at: String,
    /// Whether it is the session making the request.
    pub current: bool,
}

impl From<&SessionInfo> for SessionEntry {
    fn from(info: &SessionInfo) -> Self {
        Self {
            id: info.handle.to_string(),
            created_at: rfc3339(info.created_at),
            last_seen_at: rfc3339(info.last_seen_at),
            current: info.current,
        }
    }
}

/// `{kid}`: the answer to a key rotation.
#[derive(Clone, Debug, Serialize)]
pub struct KidResponse {
    /// The new signing key's id.
    pub kid: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Two {
        #[allow(dead_code)]
        a: String,
    }

    #[test]
    fn body_rules_in_order() {
        let json = Some("application/json");
        assert_eq!(
            parse_json::<Two>(None, b"{}").unwrap_err(),
            BodyError::UnsupportedMediaType
        );
        assert_eq!(
            parse_json::<Two>(Some("text/plain"), br#"{"a":"x"}"#).unwrap_err(),
            BodyError::UnsupportedMediaType
        );
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(
            parse_json::<Two>(json, &big).unwrap_err(),
            BodyError::TooLarge
        );
        assert_eq!(
            parse_json::<Two>(json, b"{").unwrap_err(),
            BodyError::Malformed
        );
        assert_eq!(
            parse_json::<Two>(json, b"[1]").unwrap_err(),
            BodyError::Invalid
        );
        assert_eq!(
            parse_json::<Two>(json, b"{}").unwrap_err(),
            BodyError::Invalid
        );
        assert_eq!(
            parse_json::<Two>(json, br#"{"a":1}"#).unwrap_err(),
            BodyError::Invalid
        );
        let charset = Some("Application/JSON; charset=utf-8");
        assert!(parse_json::<Two>(charset, br#"{"a":"x","b":2}"#).is_ok());
    }
}
