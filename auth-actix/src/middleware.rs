//! [`AuthMiddleware`]: authenticates every request once, before routing
//! reaches a handler.
//!
//! The default setup renders errors as `{"error", "error_description"}`:
//!
//! ```
//! use actix_web::App;
//! use auth_actix::AuthMiddleware;
//! use auth_core::Auth;
//!
//! let auth = Auth::builder().build().unwrap();
//! let app = App::new().wrap(AuthMiddleware::new(auth));
//! ```
//!
//! A customised one shapes the error bodies of [`AuthError`]s itself:
//!
//! ```
//! use actix_web::App;
//! use auth_actix::AuthMiddleware;
//! use auth_core::{Auth, AuthError};
//!
//! fn problem(error: &AuthError) -> serde_json::Value {
//!     serde_json::json!({ "type": error.code(), "status": error.status() })
//! }
//!
//! let auth = Auth::builder().build().unwrap();
//! let app = App::new().wrap(AuthMiddleware::new(auth).error_body(problem));
//! ```

use std::fmt;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::HeaderValue;
use actix_web::http::header::{self, HeaderMap, HeaderName};
use actix_web::{Error, HttpMessage, HttpRequest, HttpResponse};

use auth_core::{Auth, AuthError, RequestInfo, cookie_in};

use crate::error::{ApiError, ErrorBodyFn, default_error_body};

/// The actix-web middleware that authenticates each request.
///
/// For every request but a CORS preflight it reads the `Authorization`
/// header, the session cookie and the `X-CSRF-Token` header, asks
/// [`Auth::authenticate`] once, and leaves the answer in the request's
/// extensions as an [`AuthOutcome`] for the extractors of this crate. It
/// never refuses a request itself: the extractors a handler asks for decide.
///
/// See the [module docs](crate::middleware) for setups.
#[derive(Clone)]
pub struct AuthMiddleware {
    context: AuthContext,
}

impl AuthMiddleware {
    /// Authenticates requests with `auth`.
    pub fn new(auth: Auth) -> Self {
        Self {
            context: AuthContext {
                auth,
                error_body: default_error_body,
            },
        }
    }

    /// Shapes the JSON body of every error response: of the extractors
    /// (request body errors included), of the ready-made routes, and of
    /// handlers returning [`ApiError`]. Status and headers stay as the error
    /// names them.
    ///
    /// Defaults to [`default_error_body`].
    pub fn error_body(mut self, error_body: ErrorBodyFn) -> Self {
        self.context.error_body = error_body;
        self
    }
}

impl fmt::Debug for AuthMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthMiddleware")
            .field("auth", &self.context.auth)
            .finish_non_exhaustive()
    }
}

impl<S, B> Transform<S, ServiceRequest> for AuthMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = AuthService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(AuthService {
            service: Rc::new(service),
            context: self.context.clone(),
        }))
    }
}

/// The service [`AuthMiddleware`] wraps around an application; see
/// [`AuthMiddleware`].
pub struct AuthService<S> {
    service: Rc<S>,
    context: AuthContext,
}

impl<S> fmt::Debug for AuthService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthService").finish_non_exhaustive()
    }
}

type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

impl<S, B> Service<ServiceRequest> for AuthService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalFuture<Result<Self::Response, Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let context = self.context.clone();
        Box::pin(async move {
            if !is_preflight(&req) {
                let auth = &context.auth;
                let outcome = auth
                    .authenticate(&request_info(&req, auth.cookie_name()))
                    .await;
                req.extensions_mut().insert(AuthOutcome::from(outcome));
            }
            req.extensions_mut().insert(context.clone());

            let res = service.call(req).await?;
            Ok(with_context(res, &context))
        })
    }
}

/// What [`AuthMiddleware`] decided about a request, kept in its extensions:
/// the identity, none (no credentials, or a cookie naming no live session),
/// or the error that refused the credentials sent.
///
/// The extractors of this crate read it; a handler can too:
///
/// ```
/// use actix_web::{HttpMessage, HttpRequest};
/// use auth_actix::AuthOutcome;
///
/// async fn handler(req: HttpRequest) -> String {
///     match req.extensions().get::<AuthOutcome>().and_then(AuthOutcome::identity) {
///         Some(identity) => identity.username().to_owned(),
///         None => "nobody".to_owned(),
///     }
/// }
/// ```
///
/// It is auth-core's [`Outcome`](auth_core::Outcome), which also decides
/// what each route may accept.
pub type AuthOutcome = auth_core::Outcome;

/// The [`Auth`] serving a request and the middleware's rendering settings,
/// kept in the request's extensions by [`AuthMiddleware`].
///
/// Application handlers take it as an extractor to reach the [`Auth`] and
/// to render their own errors like the middleware's (see
/// [`ApiError::from_error`]); without the middleware it answers a 500.
///
/// ```
/// use actix_web::HttpResponse;
/// use auth_actix::{ApiError, AuthContext};
///
/// async fn healthz(context: AuthContext) -> Result<HttpResponse, ApiError> {
///     context
///         .auth()
///         .health()
///         .await
///         .map_err(|e| ApiError::from_error(e, &context))?;
///     Ok(HttpResponse::Ok().finish())
/// }
/// ```
#[derive(Clone)]
pub struct AuthContext {
    pub(crate) auth: Auth,
    pub(crate) error_body: ErrorBodyFn,
}

impl AuthContext {
    /// The [`Auth`] serving this request.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The context of `req`, if the middleware is installed.
    pub(crate) fn of(req: &HttpRequest) -> Result<Self, ApiError> {
        req.extensions()
            .get::<Self>()
            .cloned()
            .ok_or_else(ApiError::not_installed)
    }

    /// `error` as a response with these settings.
    pub(crate) fn error(&self, error: impl Into<Arc<AuthError>>) -> ApiError {
        ApiError::from_error(error, self)
    }
}

impl fmt::Debug for AuthContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthContext")
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// A CORS preflight: OPTIONS with `Access-Control-Request-Method`.
fn is_preflight(req: &ServiceRequest) -> bool {
    auth_core::is_preflight(
        req.method().as_str(),
        req.headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD),
    )
}

fn request_info<'a>(req: &'a ServiceRequest, cookie_name: &str) -> RequestInfo<'a> {
    let headers = req.headers();
    RequestInfo::from_headers(
        req.method().as_str(),
        headers
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes),
        headers.get_all(header::COOKIE).map(HeaderValue::as_bytes),
        headers.get(CSRF_HEADER).map(HeaderValue::as_bytes),
        cookie_name,
    )
}

/// The header carrying the CSRF token of a cookie session.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of cookie `name` in the first `Cookie` header that has it.
pub(crate) fn session_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    cookie_in(
        headers.get_all(header::COOKIE).map(HeaderValue::as_bytes),
        name,
    )
}

/// Renders again, with the middleware's realm and body hook, an
/// [`ApiError`] that a handler made without them. Headers that others set
/// on the response are kept.
fn with_context<B>(
    res: ServiceResponse<B>,
    context: &AuthContext,
) -> ServiceResponse<EitherBody<B>> {
    let error = res
        .response()
        .error()
        .and_then(|e| e.as_error::<ApiError>())
        .filter(|e| e.lacks_context())
        .map(|e| e.in_context(context));
    let Some(error) = error else {
        return res.map_into_left_body();
    };

    let (req, old) = res.into_parts();
    let mut new = HttpResponse::from_error(error);
    let ours: Vec<HeaderName> = new.headers().keys().cloned().collect();
    for (name, value) in old.headers() {
        if !ours.contains(name) {
            new.headers_mut()
                .append(name.clone(), HeaderValue::clone(value));
        }
    }
    ServiceResponse::new(req, new).map_into_right_body()
}

#[cfg(test)]
mod tests {
    use actix_web::http::Method;
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn the_session_cookie_is_found_across_cookie_headers() {
        let req = TestRequest::post()
            .append_header((header::COOKIE, "a=1"))
            .append_header((header::COOKIE, "b=2; session=xyz"))
            .insert_header((CSRF_HEADER, "t"))
            .to_srv_request();
        let info = request_info(&req, "session");
        assert_eq!(info.method, "POST");
        assert_eq!(info.session_cookie, Some("xyz"));
        assert_eq!(info.csrf_token, Some("t"));
        assert_eq!(info.authorization, None);
    }

    #[test]
    fn an_authorization_header_that_is_not_text_is_still_a_bearer_attempt() {
        let value = HeaderValue::from_bytes(b"Basic \xff").unwrap();
        let req = TestRequest::get()
            .insert_header((header::AUTHORIZATION, value))
            .to_srv_request();
        let info = request_info(&req, "session");
        let token = info.authorization.and_then(auth_core::bearer_token);
        assert_eq!(token, Some("\u{0}"));
    }

    #[test]
    fn only_options_with_a_request_method_is_a_preflight() {
        let options = || TestRequest::default().method(Method::OPTIONS);
        let preflight = options()
            .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "POST"))
            .to_srv_request();
        assert!(is_preflight(&preflight));
        assert!(!is_preflight(&options().to_srv_request()));
        let post = TestRequest::post()
            .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "POST"))
            .to_srv_request();
        assert!(!is_preflight(&post));
    }
}
