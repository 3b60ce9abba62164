//! Extractors: the identity a handler needs, or the error that refuses the
//! request.
//!
//! Each reads the [`AuthOutcome`] that [`AuthMiddleware`] left on the
//! request; without the middleware each answers a 500 that says so, since
//! that is a bug of the application and not of the client.
//!
//! [`AuthMiddleware`]: crate::AuthMiddleware

use std::fmt;
use std::future::{Future, Ready, ready};
use std::marker::PhantomData;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::body::{BodyLimitExceeded, BodyStream, to_bytes_limited};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use serde::de::DeserializeOwned;

use auth_core::api::{BodyError, MAX_BODY_BYTES, is_json_content_type, parse_json};
use auth_core::{AnyMode, AuthError, Handle, Identity, Mode, Role, Session};

use crate::error::ApiError;
use crate::middleware::{AuthContext, AuthOutcome};

/// The identity of an authenticated request, in mode `M`.
///
/// A request without credentials of the mode is refused with 401
/// `unauthenticated`; one whose credentials were refused gets that error
/// (401 `invalid_token`, 403 `csrf`, 503 `store_unavailable`).
///
/// ```
/// use auth_actix::{Authenticated, Bearer, Session};
///
/// // A session cookie or a bearer token.
/// async fn whoami(me: Authenticated) -> String {
///     format!("{} via {}", me.username(), me.via())
/// }
///
/// // Only a bearer token; a cookie session is refused.
/// async fn api(me: Authenticated<Bearer>) -> String {
///     me.claims().map(|c| c.jti.clone()).unwrap_or_default()
/// }
///
/// // Only a session cookie (and its CSRF token on unsafe methods).
/// async fn page(me: Authenticated<Session>) -> String {
///     me.username().to_owned()
/// }
/// ```
pub struct Authenticated<M = AnyMode> {
    identity: Identity,
    mode: PhantomData<fn() -> M>,
}

impl<M> Authenticated<M> {
    /// The identity.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The identity, owned.
    pub fn into_inner(self) -> Identity {
        self.identity
    }
}

impl<M> Deref for Authenticated<M> {
    type Target = Identity;

    fn deref(&self) -> &Identity {
        &self.identity
    }
}

impl<M> fmt::Debug for Authenticated<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Authenticated")
            .field(&self.identity)
            .finish()
    }
}

impl<M: Mode> FromRequest for Authenticated<M> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(required(req, M::ACCEPT, None).map(|(identity, _)| Self {
            identity,
            mode: PhantomData,
        }))
    }
}

/// The identity of a request if it has one, in any mode.
///
/// A request without credentials passes with `None`; one whose credentials
/// were refused is still refused, so that a bad token is never mistaken
/// for none.
///
/// ```
/// use auth_actix::MaybeAuthenticated;
///
/// async fn greet(me: MaybeAuthenticated) -> String {
///     match me.identity() {
///         Some(me) => format!("hello {}", me.username()),
///         None => "hello stranger".to_owned(),
///     }
/// }
/// ```
#[derive(Debug)]
pub struct MaybeAuthenticated(Option<Identity>);

impl MaybeAuthenticated {
    /// The identity, if any.
    pub fn identity(&self) -> Option<&Identity> {
        self.0.as_ref()
    }

    /// The identity, owned.
    pub fn into_inner(self) -> Option<Identity> {
        self.0
    }
}

impl Deref for MaybeAuthenticated {
    type Target = Option<Identity>;

    fn deref(&self) -> &Option<Identity> {
        &self.0
    }
}

impl FromRequest for MaybeAuthenticated {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(outcome(req).and_then(|(outcome, context)| {
            outcome
                .optional()
                .map(Self)
                .map_err(|error| context.error(error))
        }))
    }
}

/// The identity of a request authenticated in mode `M` and holding role
/// `R`: 401 as [`Authenticated`] without it, 403 `insufficient_scope` when
/// the role is missing.
///
/// ```
/// use auth_actix::{Bearer, RequireRole, Role};
///
/// struct Admin;
///
/// impl Role for Admin {
///     const NAME: &'static str = "admin";
/// }
///
/// async fn admin_only(admin: RequireRole<Admin, Bearer>) -> String {
///     format!("hello {}", admin.username())
/// }
/// ```
pub struct RequireRole<R, M = AnyMode> {
    identity: Identity,
    role: PhantomData<fn() -> (R, M)>,
}

impl<R, M> RequireRole<R, M> {
    /// The identity.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The identity, owned.
    pub fn into_inner(self) -> Identity {
        self.identity
    }
}

impl<R, M> Deref for RequireRole<R, M> {
    type Target = Identity;

    fn deref(&self) -> &Identity {
        &self.identity
    }
}

impl<R: Role, M> fmt::Debug for RequireRole<R, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireRole")
            .field("role", &R::NAME)
            .field("identity", &self.identity)
            .finish()
    }
}

impl<R: Role, M: Mode> FromRequest for RequireRole<R, M> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            required(req, M::ACCEPT, Some(R::NAME)).map(|(identity, _)| Self {
                identity,
                role: PhantomData,
            }),
        )
    }
}

/// The handle of the cookie session making the request: the id under
/// which it shows in the session list. A request not authenticated by a
/// session cookie is refused as [`Authenticated<Session>`] would.
///
/// ```
/// use auth_actix::SessionHandle;
///
/// async fn this_device(session: SessionHandle) -> String {
///     format!("{} on {}", session.identity().username(), session.handle())
/// }
/// ```
#[derive(Debug)]
pub struct SessionHandle {
    handle: Handle,
    identity: Identity,
}

impl SessionHandle {
    /// The session's handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// The identity the session authenticated.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }
}

impl Deref for SessionHandle {
    type Target = Handle;

    fn deref(&self) -> &Handle {
        &self.handle
    }
}

impl FromRequest for SessionHandle {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            required(req, Session::ACCEPT, None).map(|(identity, _)| Self {
                handle: *identity.session_handle(),
                identity,
            }),
        )
    }
}

/// A JSON object request body, read by the demo API's rules: 415
/// `unsupported_media_type` unless `application/json`, 413
/// `payload_too_large` over 64 KiB, 400 `invalid_request` for text that is
/// not JSON, 422 `invalid_request` for JSON that is not an object of the
/// right shape. Each is answered as [`ApiError`] (an
/// [`AuthError::InvalidBody`]), never as actix-web's own JSON errors.
///
/// ```
/// use auth_actix::Json;
/// use auth_core::api::Credentials;
///
/// async fn named(Json(body): Json<Credentials>) -> String {
///     body.username
/// }
/// ```
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let context = req.extensions().get::<AuthContext>().cloned();
        let payload = payload.take();
        Box::pin(async move {
            read_json(content_type.as_deref(), payload)
                .await
                .map(Json)
                .map_err(|error| match &context {
                    Some(context) => context.error(AuthError::from(error)),
                    None => error.into(),
                })
        })
    }
}

/// Reads `payload` as a JSON object body into `T`. The media type is
/// checked before the body is read, and no more than 64 KiB are read.
async fn read_json<T: DeserializeOwned>(
    content_type: Option<&str>,
    payload: Payload,
) -> Result<T, BodyError> {
    if !content_type.is_some_and(is_json_content_type) {
        return Err(BodyError::UnsupportedMediaType);
    }
    let bytes = match to_bytes_limited(BodyStream::new(payload), MAX_BODY_BYTES).await {
        Ok(Ok(bytes)) => bytes,
        // The body broke off or was badly framed: it cannot be JSON.
        Ok(Err(_)) => return Err(BodyError::Malformed),
        Err(BodyLimitExceeded { .. }) => return Err(BodyError::TooLarge),
    };
    parse_json(content_type, &bytes)
}

impl FromRequest for AuthContext {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::of(req))
    }
}

/// The outcome the middleware left, and its settings.
fn outcome(req: &HttpRequest) -> Result<(AuthOutcome, AuthContext), ApiError> {
    let context = AuthContext::of(req)?;
    let outcome = req
        .extensions()
        .get::<AuthOutcome>()
        .cloned()
        .ok_or_else(ApiError::not_installed)?;
    Ok((outcome, context))
}

/// The identity a route requires, judged by the core from the request's
/// outcome, or the error that refuses the request.
pub(crate) fn required(
    req: &HttpRequest,
    accept: auth_core::Accept,
    role: Option<&str>,
) -> Result<(Identity, AuthContext), ApiError> {
    let (outcome, context) = outcome(req)?;
    match outcome.require(accept, role) {
        Ok(identity) => Ok((identity, context)),
        Err(error) => Err(context.error(error)),
    }
}
