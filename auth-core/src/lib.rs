//! Framework-agnostic authentication: cookie sessions and JWT access tokens
//! with rotating refresh tokens, decided once for every web stack and every
//! store.
//!
//! [`Auth`] is the one object an application builds. Adapters
//! (`auth-tower` for axum and tower, `auth-actix` for actix-web) hand it the
//! few parts of a request that matter ([`RequestInfo`]) and render its
//! answers; stores keep state behind the traits of [`store`], whose every
//! operation is atomic.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use auth_core::{Auth, RequestInfo};
//!
//! let auth = Auth::builder().build()?;
//! auth.create_user("alice", "correct horse battery staple", &["admin"]).await?;
//!
//! // Cookie mode: a login answers a Set-Cookie value and a CSRF token.
//! let login = auth.login_session("alice", "correct horse battery staple", None).await?;
//! let cookie = login.cookie.as_str().split(';').next().unwrap();
//! let value = cookie.split_once('=').unwrap().1;
//! let request = RequestInfo { method: "GET", session_cookie: Some(value), ..Default::default() };
//! let me = auth.authenticate(&request).await?.expect("a live session");
//! assert_eq!(me.via(), "session");
//!
//! // Token mode: an access token and a refresh token that rotates.
//! let pair = auth.issue_tokens("alice", "correct horse battery staple").await?;
//! let next = auth.refresh(pair.refresh_token()).await?;
//! assert!(auth.refresh(pair.refresh_token()).await.is_err(), "spent");
//! assert!(auth.verify_access_token(next.access_token()).await.is_err(), "family ended");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `test-kit` | no | the `testkit` module: the store conformance suite, for store authors |
//!
//! # Security
//!
//! What this crate defends against:
//!
//! - Password guessing: Argon2id (OWASP minimum cost by default) run off the
//!   async executor; a lockout per account name, counted in the store; the
//!   same answer, after the same work, for an unknown name and a wrong
//!   password.
//! - Session theft from the store: cookies and refresh tokens are
//!   `HANDLE.SECRET` with 256 secret bits, and a store keeps only a hash of
//!   the secret. Nothing it holds lets its reader make a valid cookie,
//!   refresh token or CSRF token.
//! - Session fixation: every login makes a new session ID and ends the one
//!   the request carried.
//! - CSRF: unsafe methods authenticated by a cookie need the session's CSRF
//!   token, compared in constant time. Cookies are `HttpOnly`,
//!   `SameSite=Lax`, `Path=/`, and `__Host-` with `Secure` when enabled.
//! - Token forgery (RFC 8725): the algorithm is pinned to the key ring's,
//!   `none` and algorithm confusion are refused, keys are never taken from
//!   the token (`jwk`, `jku`, `x5u`, `x5c`), `crit` is refused, `typ` must be
//!   `at+jwt`, and `iss aud sub exp iat nbf jti roles sid` are required.
//! - Refresh token theft (RFC 9700): refresh tokens rotate on every use;
//!   presenting a spent one ends its whole family and the access tokens
//!   issued from it.
//! - Revocation of stateless tokens: per token (`jti`), per device (`sid`)
//!   and per user (a not-before time), seen by every instance sharing the
//!   store within a bounded staleness (1 second by default, or strict).
//! - Store outages fail closed: [`AuthError::StoreUnavailable`], never a pass.
//!
//! With a store that announces changes (Redis pub/sub), recently used
//! cookie sessions and the revocation list are served from memory, and an
//! end or a revocation made on another instance takes effect here when its
//! announcement arrives (milliseconds); while the announcements are cut
//! off, every request asks the store.
//!
//! What it does not defend against, and the deployment must provide: TLS
//! (turn [`AuthBuilder::secure_cookies`] on behind it), rate limiting by
//! client address, and protection of the signing key at rest.
//!
//! # Limitations
//!
//! - [`Auth::rotate_keys`] rotates keys in one instance; other instances
//!   verify the new key's tokens only once they load it.
//! - Roles are copied into a session or family at login; a change of roles
//!   shows in sessions and tokens started afterwards.
//! - A refresh token spent more than [`store::SPENT_HISTORY`] rotations ago
//!   is refused as unknown and no longer ends its family.
//! - Any session ending anywhere makes every instance's in-memory sessions
//!   stale at once; a site with very many logouts a second gains little
//!   from that cache.

pub mod api;
mod auth;
pub mod clock;
mod config;
pub mod error;
mod outcome;
pub mod password;
mod request;
mod revocation;
pub mod secret;
mod session_cache;
pub mod store;
#[cfg(feature = "test-kit")]
pub mod testkit;
pub mod token;

pub use auth::{Auth, AuthBuilder, BuildError, SessionInfo, SessionLogin, TokenPair};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::AuthConfig;
pub use error::{AuthError, StoreError, TokenRejection};
pub use outcome::{Accept, AnyMode, Bearer, Mode, Outcome, Role, Session};
pub use password::Argon2Params;
pub use request::{
    Identity, RequestInfo, SetCookie, bearer_token, cookie_in, find_cookie, is_preflight,
    is_safe_method,
};
pub use secret::{Handle, SecretHash};
pub use token::access::AccessClaims;
pub use token::keys::{JwtAlgorithm, KeyError, KeyPair, KeyRing};
