//! Ready-made axum routers for the auth endpoints.
//!
//! Each function answers a [`Router`] of one group of routes, to merge or
//! nest under any prefix. They need [`AuthLayer`](crate::AuthLayer) on the
//! router they end up in, and they work with any router state.
//!
//! ```
//! use auth_core::Auth;
//! use auth_tower::{AuthLayer, routes};
//! use axum::Router;
//!
//! let auth = Auth::builder().build().unwrap();
//! let app: Router = Router::new()
//!     .merge(routes::session_routes())
//!     .merge(routes::token_routes())
//!     .nest("/account", routes::password_route())
//!     .layer(AuthLayer::new(auth));
//! ```

use auth_core::api::{
    Credentials, CsrfResponse, KidResponse, LoginResponse, MeResponse, PasswordChange,
    RefreshRequest, RevokeRequest, SessionEntry, TokenResponse,
};
use auth_core::{SetCookie, cookie_in};
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json as JsonBody, Router};
use http::header::{CACHE_CONTROL, COOKIE, PRAGMA, SET_COOKIE};
use http::{HeaderMap, HeaderValue, StatusCode};

use auth_core::{Bearer, Role, Session};

use crate::extract::{Authenticated, RequireRole};
use crate::json::Json;
use crate::middleware::AuthContext;
use crate::rejection::AuthRejection;

type Answer = Result<Response, AuthRejection>;

/// `POST /session/login`, `GET /session/me`, `GET /session/csrf`,
/// `GET /session/list`, `DELETE /session/list/{id}`, `POST /session/logout`
/// and `POST /session/logout-all`.
pub fn session_routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/session/login", post(login))
        .route("/session/me", get(me))
        .route("/session/csrf", get(csrf))
        .route("/session/list", get(list))
        .route("/session/list/{id}", delete(end_one))
        .route("/session/logout", post(logout))
        .route("/session/logout-all", post(logout_all))
}

/// `POST /token`, `POST /token/refresh`, `POST /token/revoke` and
/// `POST /token/revoke-all`.
pub fn token_routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/token", post(issue))
        .route("/token/refresh", post(refresh))
        .route("/token/revoke", post(revoke))
        .route("/token/revoke-all", post(revoke_all))
}

/// `POST /password`, by a session (with CSRF) or a bearer token.
pub fn password_route<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/password", post(change_password))
}

/// `GET /.well-known/jwks.json`.
pub fn jwks_route<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/.well-known/jwks.json", get(jwks))
}

/// `POST /admin/rotate-keys`, for bearer tokens holding role `R`.
pub fn key_rotation_route<R: Role, S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/admin/rotate-keys", post(rotate_keys::<R>))
}

fn rejection(context: &AuthContext, error: auth_core::AuthError) -> AuthRejection {
    AuthRejection::new(error, Some(context.clone()))
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

fn with_cookie(mut response: Response, cookie: &SetCookie) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie.as_str()) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

fn no_content(cookie: Option<&SetCookie>) -> Response {
    let response = StatusCode::NO_CONTENT.into_response();
    match cookie {
        Some(cookie) => with_cookie(response, cookie),
        None => response,
    }
}

async fn login(
    context: AuthContext,
    headers: HeaderMap,
    Json(credentials): Json<Credentials>,
) -> Answer {
    let name = context.auth.cookie_name();
    let current = cookie_in(
        headers.get_all(COOKIE).iter().map(HeaderValue::as_bytes),
        name,
    );
    let login = context
        .auth
        .login_session(&credentials.username, &credentials.password, current)
        .await
        .map_err(|e| rejection(&context, e))?;
    let response = JsonBody(LoginResponse::from(&login)).into_response();
    Ok(no_store(with_cookie(response, &login.cookie)))
}

async fn me(user: Authenticated<Session>) -> Response {
    let body = MeResponse {
        username: user.username().to_owned(),
        roles: user.roles().to_vec(),
    };
    no_store(JsonBody(body).into_response())
}

async fn csrf(user: Authenticated<Session>) -> Response {
    let body = CsrfResponse {
        csrf_token: user.csrf_token().unwrap_or_default().to_owned(),
    };
    no_store(JsonBody(body).into_response())
}

async fn list(context: AuthContext, user: Authenticated<Session>) -> Answer {
    let sessions = context
        .auth
        .list_sessions(&user)
        .await
        .map_err(|e| rejection(&context, e))?;
    let body: Vec<SessionEntry> = sessions.iter().map(SessionEntry::from).collect();
    Ok(no_store(JsonBody(body).into_response()))
}

async fn end_one(
    context: AuthContext,
    user: Authenticated<Session>,
    Path(id): Path<String>,
) -> Answer {
    let cookie = context
        .auth
        .end_session(&user, &id)
        .await
        .map_err(|e| rejection(&context, e))?;
    Ok(no_content(cookie.as_ref()))
}

async fn logout(context: AuthContext, user: Authenticated<Session>) -> Answer {
    let cookie = context
        .auth
        .logout(&user)
        .await
        .map_err(|e| rejection(&context, e))?;
    Ok(no_content(Some(&cookie)))
}

async fn logout_all(context: AuthContext, user: Authenticated<Session>) -> Answer {
    let cookie = context
        .auth
        .logout_everywhere(&user)
        .await
        .map_err(|e| rejection(&context, e))?;
    Ok(no_content(Some(&cookie)))
}

async fn issue(context: AuthContext, Json(credentials): Json<Credentials>) -> Answer {
    let pair = context
        .auth
        .issue_tokens(&credentials.username, &credentials.password)
        .await
        .map_err(|e| rejection(&context, e))?;
    Ok(no_store(
        JsonBody(TokenResponse::from(&pair)).into_response(),
    ))
}

async fn refresh(context: AuthContext, Json(body): Json<RefreshRequest>) -> Answer {
    let pair = context
        .auth
        .refresh(&body.refresh_token)
        .await
        .map_err(|e| rejection(&context, e))?;
    Ok(no_store(
        JsonBody(TokenResponse::from(&pair)).into_response(),
    ))
}

async fn revoke(context: AuthContext, Json(body): Json<RevokeRequest>) -> Answer {
    context
        .auth
        .revoke(&body.token)
        .await
        .map_err(|e| rejection(&context, e))?;
    Ok(no_store(JsonBody(serde_json::json!({})).into_response()))
}

async fn revoke_all(context: AuthContext, user: Authenticated<Bearer>) -> Answer {
    context
        .auth
        .revoke_all(&user)
        .await
        .map_err(|e| rejection(&context, e))?;
    Ok(no_content(None))
}

async fn change_password(
    context: AuthContext,
    user: Authenticated,
    Json(body): Json<PasswordChange>,
) -> Answer {
    let cookie = context
        .auth
        .change_password(&user, &body.current_password, &body.new_password)
        .await
        .map_err(|e| rejection(&context, e))?;
    Ok(no_content(cookie.as_ref()))
}

async fn jwks(context: AuthContext) -> Response {
    JsonBody(context.auth.jwks()).into_response()
}

async fn rotate_keys<R: Role>(context: AuthContext, _: RequireRole<R, Bearer>) -> Answer {
    let kid = context
        .auth
        .rotate_keys()
        .await
        .map_err(|e| rejection(&context, e))?;
    Ok(JsonBody(KidResponse { kid }).into_response())
}
