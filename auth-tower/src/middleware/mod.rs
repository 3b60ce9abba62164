//! The authentication middleware: [`AuthLayer`] builds [`AuthService`].
//!
//! For every request the service asks [`Auth`] who sent it — by bearer
//! token, else by session cookie, with CSRF enforced on unsafe methods —
//! and puts the answer in the request's extensions as an [`AuthOutcome`].
//! It never rejects a request by itself: the extractors of a route decide
//! what that route requires, so public routes (login, sign-up) work with a
//! stale cookie or a bad token. CORS preflights pass untouched.
//!
//! # Default setup
//!
//! ```
//! use auth_core::Auth;
//! use auth_tower::AuthLayer;
//! use axum::{Router, routing::get};
//!
//! let auth = Auth::builder().build().unwrap();
//! let app: Router = Router::new()
//!     .route("/", get(|| async { "hello" }))
//!     .layer(AuthLayer::new(auth));
//! ```
//!
//! # Shaping error bodies
//!
//! ```
//! use auth_core::Auth;
//! use auth_tower::AuthLayer;
//!
//! let auth = Auth::builder().build().unwrap();
//! let layer = AuthLayer::new(auth).error_body(|error| {
//!     serde_json::json!({ "code": error.code(), "status": error.status() })
//! });
//! ```

mod future;
mod layer;
mod service;

use auth_core::{Auth, AuthError};

pub use future::ResponseFuture;
pub use layer::AuthLayer;
pub use service::{AuthService, CSRF_HEADER};

/// Shapes the JSON body of an error response.
pub type ErrorBodyFn = fn(&AuthError) -> serde_json::Value;

/// What the middleware found out about a request: auth-core's
/// [`Outcome`](auth_core::Outcome), which also decides what each route may
/// accept.
pub type AuthOutcome = auth_core::Outcome;

/// The [`Auth`] and rendering settings, put in the request's extensions by
/// the middleware for extractors and routes.
#[derive(Clone, Debug)]
pub struct AuthContext {
    pub(crate) auth: Auth,
    pub(crate) error_body: Option<ErrorBodyFn>,
}

impl AuthContext {
    /// The [`Auth`] serving this request.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }
}
