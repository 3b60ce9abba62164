use std::task::{Context, Poll};

use auth_core::RequestInfo;
use http::header::{ACCESS_CONTROL_REQUEST_METHOD, AUTHORIZATION, COOKIE};
use http::{HeaderMap, HeaderValue, Method, Request};
use tower_service::Service;

use super::{AuthContext, AuthOutcome, ResponseFuture};

/// The header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Authenticates each request and passes it on with an [`AuthOutcome`] in
/// its extensions. Built by [`AuthLayer`](super::AuthLayer); see the
/// [module docs](super).
#[derive(Clone, Debug)]
pub struct AuthService<S> {
    inner: S,
    context: AuthContext,
}

impl<S> AuthService<S> {
    pub(crate) fn new(inner: S, context: AuthContext) -> Self {
        Self { inner, context }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B> Service<Request<B>> for AuthService<S>
where
    S: Service<Request<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The clone is the one that will be ready next; the ready one serves
        // this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let context = self.context.clone();
        let inner_future = async move {
            if !is_preflight(request.method(), request.headers()) {
                let outcome = {
                    let cookie_name = context.auth.cookie_name();
                    let info = request_info(request.method(), request.headers(), cookie_name);
                    context.auth.authenticate(&info).await
                };
                request.extensions_mut().insert(AuthOutcome::from(outcome));
            }
            request.extensions_mut().insert(context);
            inner.call(request).await
        };
        ResponseFuture {
            inner: Box::pin(inner_future),
        }
    }
}

fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    auth_core::is_preflight(
        method.as_str(),
        headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD),
    )
}

/// Reads the parts of a request the core looks at.
fn request_info<'a>(
    method: &'a Method,
    headers: &'a HeaderMap,
    cookie_name: &str,
) -> RequestInfo<'a> {
    RequestInfo::from_headers(
        method.as_str(),
        headers.get(AUTHORIZATION).map(HeaderValue::as_bytes),
        headers.get_all(COOKIE).iter().map(HeaderValue::as_bytes),
        headers.get(CSRF_HEADER).map(HeaderValue::as_bytes),
        cookie_name,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_info_reads_the_named_cookie_across_headers() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1"));
        headers.append(COOKIE, HeaderValue::from_static("b=2; session=xyz"));
        headers.insert(CSRF_HEADER, HeaderValue::from_static("t"));
        let info = request_info(&Method::POST, &headers, "session");
        assert_eq!(info.session_cookie, Some("xyz"));
        assert_eq!(info.csrf_token, Some("t"));
        assert_eq!(info.authorization, None);
    }

    #[test]
    fn a_non_ascii_authorization_header_is_still_a_bearer_attempt() {
        let mut headers = HeaderMap::new();
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_bytes(b"Bearer \xff").unwrap(),
        );
        let info = request_info(&Method::GET, &headers, "session");
        assert_eq!(
            info.authorization.and_then(auth_core::bearer_token),
            Some("\u{0}")
        );
    }
}
