//! Cookie sessions and bearer tokens for actix-web, decided by `auth-core`.
//! This crate only translates: a middleware hands each request to
//! [`Auth`](auth_core::Auth), extractors give handlers the identity or
//! refuse the request, and one error type renders every refusal.
//!
//! # Quick start
//!
//! ```no_run
//! use actix_web::{App, HttpServer, web};
//! use auth_actix::{Authenticated, AuthMiddleware, routes};
//!
//! async fn hello(me: Authenticated) -> String { format!("hello {}", me.username()) }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     let auth = auth_core::Auth::builder().build().expect("valid settings");
//!     HttpServer::new(move || {
//!         App::new()
//!             .configure(routes::session_routes)
//!             .route("/hello", web::get().to(hello))
//!             .wrap(AuthMiddleware::new(auth.clone()))
//!     })
//!     .bind("127.0.0.1:3000")?.run().await
//! }
//! ```
//!
//! # Extractors
//!
//! | extractor | answers |
//! | --- | --- |
//! | [`Authenticated`] (`<AnyMode>`, `<Bearer>`, `<Session>`) | the identity, or 401 |
//! | [`MaybeAuthenticated`] | the identity or `None`; refused credentials are still refused |
//! | [`RequireRole<R, M>`](RequireRole) | the identity with role `R`, or 401 / 403 `insufficient_scope` |
//! | [`SessionHandle`] | the handle of the cookie session making the request, or 401 |
//! | [`Json<T>`](Json) | a JSON object body under the demo API's rules (415, 413, 400, 422) |
//! | [`AuthContext`] | the [`Auth`](auth_core::Auth) serving the request, for application handlers |
//!
//! Every refusal is an [`ApiError`]: JSON
//! `{"error": CODE, "error_description": TEXT}` (or the shape set with
//! [`AuthMiddleware::error_body`]), with `WWW-Authenticate` on 401 and 403
//! of bearer requests, `Retry-After` on 429 and 503, and
//! `Cache-Control: no-store`. Handlers return it with `?` from any
//! [`AuthError`](auth_core::AuthError).
//!
//! # Features
//!
//! This crate has no features of its own. It needs only actix-web's
//! `macros` feature (for `#[actix_web::main]` in applications); no TLS and
//! no compression are pulled in.
//!
//! # Security
//!
//! What this crate defends against, with the core:
//!
//! - Credentials are read from exactly one place each: the `Authorization`
//!   header, the session cookie named by the core, the `X-CSRF-Token`
//!   header. A bearer token decides alone; a cookie sent with it is ignored.
//! - An `Authorization` header that is not text counts as an invalid token,
//!   never as no credentials.
//! - Unsafe methods authenticated by a cookie need the CSRF token: without
//!   it the core refuses the credentials, and every identity extractor
//!   answers 403 `csrf`. A handler that takes no identity extractor checks
//!   nothing, CSRF included.
//! - Error bodies are fixed text: never the token, the cookie or anything
//!   else the client sent, nor internal detail. A store outage is a 503,
//!   never a pass.
//! - Answers carrying a token, a CSRF token or an error are marked
//!   `Cache-Control: no-store`.
//! - Request bodies are read only when they are `application/json`, and at
//!   most 64 KiB of them.
//!
//! What it does not defend against, and the deployment must provide: TLS
//! (turn [`AuthBuilder::secure_cookies`](auth_core::AuthBuilder::secure_cookies)
//! on behind it), rate limiting by client address, and a CORS policy that
//! admits only the origins meant to send bearer requests.
//!
//! # Limitations
//!
//! - CORS preflights (OPTIONS with `Access-Control-Request-Method`) pass
//!   the middleware unauthenticated, so identity extractors in a handler of
//!   such a request answer 500 as if the middleware were missing. Answer
//!   preflights with a CORS middleware outside this one.

mod error;
mod extract;
pub mod middleware;
pub mod routes;

pub use auth_core::{AnyMode, Bearer, Mode, Role, Session};
pub use error::{ApiError, ErrorBodyFn, default_error_body};
pub use extract::{Authenticated, Json, MaybeAuthenticated, RequireRole, SessionHandle};
pub use middleware::{AuthContext, AuthMiddleware, AuthOutcome, AuthService, CSRF_HEADER};
