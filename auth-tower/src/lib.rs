//! Tower middleware and axum extractors that authenticate requests with
//! [`auth_core`]. The middleware asks the core who sent each request; the
//! extractors state what each route requires; ready-made routers serve the
//! login, token, session and key endpoints.
//!
//! # Quick start
//!
//! ```no_run
//! use auth_core::Auth;
//! use auth_tower::{Authenticated, AuthLayer, routes};
//! use axum::{Router, routing::get};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let auth = Auth::builder().build()?;
//! let app = Router::new()
//!     .route("/me", get(|user: Authenticated| async move { user.username().to_owned() }))
//!     .merge(routes::session_routes())
//!     .merge(routes::token_routes())
//!     .layer(AuthLayer::new(auth));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `axum` | yes | extractors, [`Json`], [`AuthRejection`] responses and [`routes`] |
//!
//! Without `axum`, [`AuthLayer`] still works for any tower HTTP service and
//! leaves an [`AuthOutcome`] in each request's extensions.
//!
//! # Security
//!
//! All decisions are `auth-core`'s; see its `# Security` section. This crate
//! adds: error bodies with fixed text only (never the token or anything the
//! client sent), `Cache-Control: no-store` on every response carrying a
//! token, a cookie's CSRF token or an error, and CSRF enforcement on unsafe
//! methods through the extractors. The deployment still provides TLS, and
//! CORS for cross-origin bearer clients (for example tower-http's
//! `CorsLayer` outside [`AuthLayer`], allowing exact origins only).

#[cfg(feature = "axum")]
mod extract;
#[cfg(feature = "axum")]
mod json;
pub mod middleware;
#[cfg(feature = "axum")]
mod rejection;
#[cfg(feature = "axum")]
pub mod routes;

pub use auth_core::{AnyMode, Bearer, Mode, Role, Session};
#[cfg(feature = "axum")]
pub use extract::{Authenticated, MaybeAuthenticated, RequireRole, SessionHandle};
#[cfg(feature = "axum")]
pub use json::Json;
pub use middleware::{AuthContext, AuthLayer, AuthOutcome, AuthService, CSRF_HEADER, ErrorBodyFn};
#[cfg(feature = "axum")]
pub use rejection::AuthRejection;
