//! A JSON body extractor that answers with the demo API's error codes.

use auth_core::AuthError;
use auth_core::api::{BodyError, MAX_BODY_BYTES, is_json_content_type, parse_json};
use axum::extract::{FromRequest, Request};
use http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;

use crate::middleware::AuthContext;
use crate::rejection::AuthRejection;

/// A JSON object body: 415 `unsupported_media_type` unless
/// `application/json`, 413 `payload_too_large` over 64 KiB, 400
/// `invalid_request` if not JSON, 422 `invalid_request` if not an object of
/// the right shape.
///
/// ```
/// use auth_tower::Json;
///
/// #[derive(serde::Deserialize)]
/// struct Note {
///     text: String,
/// }
///
/// async fn note(Json(note): Json<Note>) -> String {
///     note.text
/// }
/// # let _: axum::routing::MethodRouter = axum::routing::post(note);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = AuthRejection;

    async fn from_request(request: Request, _: &S) -> Result<Self, Self::Rejection> {
        let context = request.extensions().get::<AuthContext>().cloned();
        let refuse = |error: BodyError| AuthRejection::new(AuthError::from(error), context.clone());
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if !content_type.as_deref().is_some_and(is_json_content_type) {
            return Err(refuse(BodyError::UnsupportedMediaType));
        }
        let bytes = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|error| {
                let too_large = error.into_inner().is::<http_body_util::LengthLimitError>();
                refuse(if too_large {
                    BodyError::TooLarge
                } else {
                    BodyError::Malformed
                })
            })?;
        parse_json(content_type.as_deref(), &bytes)
            .map(Json)
            .map_err(refuse)
    }
}
