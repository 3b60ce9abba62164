//! Every auth error as an axum response, rendered in this one place.

use std::fmt;
use std::sync::Arc;

use auth_core::AuthError;
use auth_core::api::ErrorBody;
use axum::Json;
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};

use crate::middleware::AuthContext;

/// An auth error on its way to becoming a response: the status, the JSON
/// body `{"error", "error_description"}` (or the layer's shaped one), a
/// `WWW-Authenticate` challenge and a `Retry-After` where they apply. The
/// body never carries anything the client sent.
pub struct AuthRejection {
    error: Arc<AuthError>,
    context: Option<AuthContext>,
}

impl AuthRejection {
    pub(crate) fn new(error: impl Into<Arc<AuthError>>, context: Option<AuthContext>) -> Self {
        Self {
            error: error.into(),
            context,
        }
    }

    /// An application's own auth error, rendered like the layer's.
    pub fn from_error(error: AuthError, context: &AuthContext) -> Self {
        Self::new(error, Some(context.clone()))
    }

    /// The error.
    pub fn error(&self) -> &AuthError {
        &self.error
    }
}

impl fmt::Debug for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AuthRejection")
            .field(&self.error.code())
            .finish()
    }
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        let error = &*self.error;
        let status =
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let shaped = self.context.as_ref().and_then(|c| c.error_body);
        let body = match shaped {
            Some(render) => render(error),
            None => serde_json::to_value(ErrorBody::from(error)).unwrap_or_default(),
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        let realm = self
            .context
            .as_ref()
            .map_or("auth", |c| c.auth.config().realm());
        if let Some(challenge) = error.challenge(realm)
            && let Ok(value) = HeaderValue::from_str(&challenge)
        {
            headers.insert(WWW_AUTHENTICATE, value);
        }
        if let Some(secs) = error.retry_after_secs() {
            headers.insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %error, "auth request failed on our side");
        }
        response
    }
}
