//! axum extractors for the identity the middleware found.
//!
//! Each one reads the [`AuthOutcome`](crate::AuthOutcome) that
//! [`AuthLayer`](crate::AuthLayer) put in the request, so routes using them
//! need the layer. Their rejections are [`AuthRejection`]s.

use std::marker::PhantomData;
use std::ops::Deref;

use auth_core::{AnyMode, AuthError, Handle, Identity, Mode, Role, Session};
use axum::extract::FromRequestParts;
use http::request::Parts;

use crate::middleware::{AuthContext, AuthOutcome};
use crate::rejection::AuthRejection;

/// The identity of an authenticated request; 401 when there is none.
///
/// `Authenticated` accepts a token or a cookie, `Authenticated<Bearer>`
/// only a token, `Authenticated<Session>` only a cookie. A cookie on an
/// unsafe method also needs the session's CSRF token (403 `csrf`).
///
/// ```
/// use auth_tower::{Authenticated, Bearer};
///
/// async fn me(user: Authenticated<Bearer>) -> String {
///     format!("hello {}", user.username())
/// }
/// # let _: axum::routing::MethodRouter = axum::routing::get(me);
/// ```
#[derive(Debug, Clone)]
pub struct Authenticated<M = AnyMode>(pub Identity, PhantomData<M>);

/// The identity if the request was authenticated, `None` if it carried no
/// credentials. Credentials sent and refused are still an error.
///
/// ```
/// use auth_tower::MaybeAuthenticated;
///
/// async fn home(user: MaybeAuthenticated) -> String {
///     match user.0 {
///         Some(user) => format!("hello {}", user.username()),
///         None => "hello stranger".into(),
///     }
/// }
/// # let _: axum::routing::MethodRouter = axum::routing::get(home);
/// ```
#[derive(Debug, Clone)]
pub struct MaybeAuthenticated(pub Option<Identity>);

/// An identity holding role `R`: 401 without an identity, 403
/// `insufficient_scope` without the role.
///
/// ```
/// use auth_tower::{Bearer, RequireRole, Role};
///
/// struct Admin;
/// impl Role for Admin {
///     const NAME: &'static str = "admin";
/// }
///
/// async fn admin(_: RequireRole<Admin, Bearer>) -> &'static str {
///     "welcome"
/// }
/// # let _: axum::routing::MethodRouter = axum::routing::get(admin);
/// ```
#[derive(Debug, Clone)]
pub struct RequireRole<R, M = AnyMode>(pub Identity, PhantomData<(R, M)>);

/// The handle of the cookie session making the request; 401 otherwise.
///
/// ```
/// use auth_tower::SessionHandle;
///
/// async fn which(session: SessionHandle) -> String {
///     session.0.to_string()
/// }
/// # let _: axum::routing::MethodRouter = axum::routing::get(which);
/// ```
#[derive(Debug, Clone)]
pub struct SessionHandle(pub Handle);

impl<M> Deref for Authenticated<M> {
    type Target = Identity;

    fn deref(&self) -> &Identity {
        &self.0
    }
}

impl<R, M> Deref for RequireRole<R, M> {
    type Target = Identity;

    fn deref(&self) -> &Identity {
        &self.0
    }
}

/// The identity a route requires, judged by the core from the request's
/// outcome.
pub(crate) fn required(
    parts: &Parts,
    accept: auth_core::Accept,
    role: Option<&str>,
) -> Result<Identity, AuthRejection> {
    let context = parts.extensions.get::<AuthContext>().cloned();
    let Some(outcome) = parts.extensions.get::<AuthOutcome>() else {
        return Err(missing_layer(context));
    };
    outcome
        .require(accept, role)
        .map_err(|error| AuthRejection::new(error, context))
}

fn missing_layer(context: Option<AuthContext>) -> AuthRejection {
    tracing::error!("an auth extractor was used on a route without AuthLayer");
    let error = AuthError::Internal("AuthLayer is not installed on this route".into());
    AuthRejection::new(error, context)
}

impl<S: Send + Sync, M: Mode> FromRequestParts<S> for Authenticated<M> {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        required(parts, M::ACCEPT, None).map(|id| Self(id, PhantomData))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for MaybeAuthenticated {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let context = parts.extensions.get::<AuthContext>().cloned();
        match parts.extensions.get::<AuthOutcome>() {
            None => Err(missing_layer(context)),
            Some(outcome) => outcome
                .optional()
                .map(Self)
                .map_err(|error| AuthRejection::new(error, context)),
        }
    }
}

impl<S: Send + Sync, R: Role, M: Mode> FromRequestParts<S> for RequireRole<R, M> {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        required(parts, M::ACCEPT, Some(R::NAME)).map(|id| Self(id, PhantomData))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SessionHandle {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        required(parts, Session::ACCEPT, None).map(|id| Self(*id.session_handle()))
    }
}

/// The [`AuthContext`] the layer installed.
impl<S: Send + Sync> FromRequestParts<S> for AuthContext {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Self>()
            .cloned()
            .ok_or_else(|| missing_layer(None))
    }
}
