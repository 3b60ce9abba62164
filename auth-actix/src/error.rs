//! [`ApiError`]: the one place where an error becomes a response.

use std::fmt;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::Value;

use auth_core::AuthError;
use auth_core::api::{BodyError, ErrorBody};

use crate::middleware::AuthContext;

/// Shapes the JSON body of an error response; see
/// [`AuthMiddleware::error_body`](crate::AuthMiddleware::error_body).
pub type ErrorBodyFn = fn(&AuthError) -> Value;

/// The default error body: `{"error": CODE, "error_description": TEXT}`.
///
/// ```
/// use auth_core::AuthError;
///
/// let body = auth_actix::default_error_body(&AuthError::MissingCredentials);
/// assert_eq!(body["error"], "unauthenticated");
/// ```
pub fn default_error_body(error: &AuthError) -> Value {
    let body = ErrorBody::from(error);
    serde_json::json!({
        "error": body.error,
        "error_description": body.error_description,
    })
}

/// The realm of errors rendered where no middleware lent its settings.
const FALLBACK_REALM: &str = "auth";

/// Every error this crate answers, and those of application handlers that
/// use it: an [`AuthError`], which includes refused request bodies
/// ([`AuthError::InvalidBody`]).
///
/// It renders as JSON (`Content-Type: application/json`) with the status
/// the error names, `WWW-Authenticate` when the error carries a challenge,
/// `Retry-After` when it carries a delay, and `Cache-Control: no-store`.
/// Handlers can return it with `?` from any [`AuthError`] or
/// [`BodyError`]: [`AuthMiddleware`](crate::AuthMiddleware) fills in its
/// realm and body hook on the way out.
///
/// ```
/// use actix_web::HttpResponse;
/// use auth_actix::{ApiError, AuthContext, Json};
/// use auth_core::api::Credentials;
///
/// async fn signup(
///     context: AuthContext,
///     Json(body): Json<Credentials>,
/// ) -> Result<HttpResponse, ApiError> {
///     context.auth().signup(&body.username, &body.password).await?;
///     Ok(HttpResponse::Created().finish())
/// }
/// ```
#[derive(Clone)]
pub struct ApiError {
    error: Arc<AuthError>,
    context: Option<AuthContext>,
}

impl ApiError {
    /// `error`, rendered with the realm and body hook of `context`.
    pub fn from_error(error: impl Into<Arc<AuthError>>, context: &AuthContext) -> Self {
        Self {
            error: error.into(),
            context: Some(context.clone()),
        }
    }

    /// The error.
    pub fn error(&self) -> &AuthError {
        &self.error
    }

    /// The error of an extractor or route used without the middleware.
    pub(crate) fn not_installed() -> Self {
        tracing::error!("an auth extractor was used on a route without AuthMiddleware");
        let error = AuthError::Internal("AuthMiddleware is not installed on this route".into());
        error.into()
    }

    /// Whether rendering still lacks the middleware's settings.
    pub(crate) fn lacks_context(&self) -> bool {
        self.context.is_none()
    }

    /// This error, rendered with the settings of `context`.
    pub(crate) fn in_context(&self, context: &AuthContext) -> Self {
        Self::from_error(Arc::clone(&self.error), context)
    }

    fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let error = &*self.error;
        let (realm, body) = match &self.context {
            Some(context) => (context.auth.config().realm(), (context.error_body)(error)),
            None => (FALLBACK_REALM, default_error_body(error)),
        };

        let mut response = HttpResponse::build(self.status());
        response.insert_header((header::CONTENT_TYPE, "application/json"));
        let challenge = error.challenge(realm);
        if let Some(value) = challenge.and_then(|c| HeaderValue::try_from(c).ok()) {
            response.insert_header((header::WWW_AUTHENTICATE, value));
        }
        if let Some(secs) = error.retry_after_secs() {
            response.insert_header((header::RETRY_AFTER, secs));
        }
        response.insert_header((header::CACHE_CONTROL, "no-store"));

        if self.status() == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %error, "auth request failed on our side");
        } else {
            tracing::trace!(code = error.code(), "request refused");
        }
        response.body(body.to_string())
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        Arc::new(error).into()
    }
}

impl From<Arc<AuthError>> for ApiError {
    fn from(error: Arc<AuthError>) -> Self {
        Self {
            error,
            context: None,
        }
    }
}

impl From<BodyError> for ApiError {
    fn from(error: BodyError) -> Self {
        AuthError::from(error).into()
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ApiError").field(&self.error.code()).finish()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        // Display is the error's own, so the chain goes on from its source.
        self.error.source()
    }
}
