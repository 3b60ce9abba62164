//! What the core needs of a request, and what it decides about it.

use std::fmt;
use std::sync::Arc;

use crate::secret::Handle;
use crate::token::access::AccessClaims;

/// The few parts of an HTTP request that authentication looks at.
///
/// Adapters fill it from their framework's request; the core never sees the
/// rest.
#[derive(Clone, Copy, Default)]
pub struct RequestInfo<'a> {
    /// The request method, such as `"GET"`.
    pub method: &'a str,
    /// The `Authorization` header, if any.
    pub authorization: Option<&'a str>,
    /// The value of the session cookie, if any (see [`find_cookie`]).
    pub session_cookie: Option<&'a str>,
    /// The `X-CSRF-Token` header, if any.
    pub csrf_token: Option<&'a str>,
}

impl fmt::Debug for RequestInfo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestInfo")
            .field("method", &self.method)
            .field("authorization", &self.authorization.map(|_| ".."))
            .field("session_cookie", &self.session_cookie.map(|_| ".."))
            .field("csrf_token", &self.csrf_token.map(|_| ".."))
            .finish()
    }
}

impl<'a> RequestInfo<'a> {
    /// Reads a request from its raw header values, as an adapter has them:
    /// `authorization` and `csrf_token` are the first such header, `cookies`
    /// every `Cookie` header in order, and the session cookie is the first
    /// cookie named `cookie_name` among them.
    ///
    /// An `Authorization` header that is not text still counts as a bearer
    /// attempt, so that it is refused rather than silently ignored.
    pub fn from_headers(
        method: &'a str,
        authorization: Option<&'a [u8]>,
        cookies: impl IntoIterator<Item = &'a [u8]>,
        csrf_token: Option<&'a [u8]>,
        cookie_name: &str,
    ) -> Self {
        let text = |bytes: &'a [u8]| std::str::from_utf8(bytes).ok();
        Self {
            method,
            authorization: authorization.map(|bytes| text(bytes).unwrap_or(UNREADABLE_BEARER)),
            session_cookie: cookie_in(cookies, cookie_name),
            csrf_token: csrf_token.and_then(text),
        }
    }
}

/// The first cookie named `name` in a request's `Cookie` headers, in
/// order; headers that are not text are skipped.
pub fn cookie_in<'a>(cookies: impl IntoIterator<Item = &'a [u8]>, name: &str) -> Option<&'a str> {
    cookies
        .into_iter()
        .filter_map(|bytes| std::str::from_utf8(bytes).ok())
        .find_map(|header| find_cookie(header, name))
}

/// What an `Authorization` header that is not text reads as: a bearer
/// token that never verifies.
const UNREADABLE_BEARER: &str = "Bearer \u{0}";

/// Whether a request is a CORS preflight: `OPTIONS` with an
/// `Access-Control-Request-Method` header. Adapters pass preflights through
/// without authenticating them.
pub fn is_preflight(method: &str, has_access_control_request_method: bool) -> bool {
    method == "OPTIONS" && has_access_control_request_method
}

/// Whether a method is safe (RFC 9110): it needs no CSRF token.
pub fn is_safe_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE")
}

/// The value of cookie `name` in one `Cookie` header value.
pub fn find_cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then(|| value.trim_matches('"'))
    })
}

/// The token of an `Authorization: Bearer` header (the scheme name is
/// case-insensitive). `None` for another scheme; `Some("")` for a bearer
/// header without a token.
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, rest) = match authorization.split_once(' ') {
        Some(parts) => parts,
        None => (authorization, ""),
    };
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

/// Who a request was authenticated as, and how.
#[derive(Clone)]
pub struct Identity {
    pub(crate) username: String,
    pub(crate) roles: Vec<String>,
    pub(crate) via: Via,
}

#[derive(Clone)]
pub(crate) enum Via {
    Session { handle: Handle, csrf: String },
    Token(Arc<AccessClaims>),
}

impl Identity {
    /// The username.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The roles.
    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    /// Whether the identity has `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// `"session"` or `"token"`.
    pub fn via(&self) -> &'static str {
        match self.via {
            Via::Session { .. } => "session",
            Via::Token(_) => "token",
        }
    }

    /// The handle of the cookie session, or of the family the access token
    /// was issued from.
    pub fn session_handle(&self) -> &Handle {
        match &self.via {
            Via::Session { handle, .. } => handle,
            Via::Token(claims) => &claims.sid,
        }
    }

    /// Whether a session cookie authenticated the request.
    pub fn is_session(&self) -> bool {
        matches!(self.via, Via::Session { .. })
    }

    /// The verified claims, when a bearer token authenticated the request.
    pub fn claims(&self) -> Option<&AccessClaims> {
        match &self.via {
            Via::Token(claims) => Some(claims),
            Via::Session { .. } => None,
        }
    }

    /// The session's CSRF token, when a cookie authenticated the request.
    pub fn csrf_token(&self) -> Option<&str> {
        match &self.via {
            Via::Session { csrf, .. } => Some(csrf),
            Via::Token(_) => None,
        }
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("username", &self.username)
            .field("roles", &self.roles)
            .field("via", &self.via())
            .field("session", self.session_handle())
            .finish()
    }
}

/// A `Set-Cookie` header value. It never prints itself in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct SetCookie(pub(crate) String);

impl SetCookie {
    /// The header value.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this clears the cookie.
    pub fn is_removal(&self) -> bool {
        self.0.contains("Max-Age=0")
    }
}

impl fmt::Debug for SetCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.is_removal() { "clear" } else { "set" };
        write!(f, "SetCookie({kind})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let h = "a=1; session=abc.def; sessionx=no";
        assert_eq!(find_cookie(h, "session"), Some("abc.def"));
        assert_eq!(find_cookie(h, "sess"), None);
        assert_eq!(find_cookie("", "session"), None);
    }

    #[test]
    fn headers_are_read_once_for_every_adapter() {
        let cookies: [&[u8]; 3] = [b"a=1", b"\xff", b"b=2; session=xyz"];
        let info =
            RequestInfo::from_headers("POST", Some(b"Bearer \xff"), cookies, Some(b"t"), "session");
        assert_eq!(info.session_cookie, Some("xyz"));
        assert_eq!(info.csrf_token, Some("t"));
        assert_eq!(info.authorization.and_then(bearer_token), Some("\u{0}"));
        let none = RequestInfo::from_headers("GET", None, [], None, "session");
        assert_eq!((none.authorization, none.session_cookie), (None, None));
        assert!(is_preflight("OPTIONS", true));
        assert!(!is_preflight("OPTIONS", false) && !is_preflight("POST", true));
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bEaReR abc"), Some("abc"));
        assert_eq!(bearer_token("Bearer"), Some(""));
        assert_eq!(bearer_token("Basic abc"), None);
    }
}
