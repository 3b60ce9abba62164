//! The axum demo: the auth routes of `auth-tower` plus the application's
//! own routes, written as an application author would write them.

use std::time::Duration;

use auth_core::Auth;
use auth_core::api::Credentials;
use auth_tower::{
    AuthContext, AuthLayer, AuthRejection, Authenticated, Bearer, Json, RequireRole, Role, routes,
};
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json as JsonBody, Router};
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

use crate::config::DemoConfig;

/// The role `/api/admin` and `/admin/rotate-keys` require.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

impl Role for Admin {
    const NAME: &'static str = "admin";
}

/// The whole demo application.
pub fn router(auth: Auth, config: &DemoConfig) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/signup", post(signup))
        .route("/api/me", get(api_me))
        .route("/api/admin", get(api_admin))
        .route("/whoami", get(whoami))
        .merge(routes::session_routes())
        .merge(routes::token_routes())
        .merge(routes::password_route())
        .merge(routes::jwks_route())
        .merge(routes::key_rotation_route::<Admin, _>())
        .fallback(not_found)
        .layer(AuthLayer::new(auth))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                // The path only: a query string may carry secrets.
                tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
            }),
        )
        .layer(cors(&config.cors_origins))
        .layer(middleware::from_fn(preflight_no_content))
}

/// Serves `router` on `listener` until `shutdown` resolves.
///
/// # Errors
///
/// The server's I/O error.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Starts the demo on `listener` in a task of the current tokio runtime.
///
/// # Errors
///
/// When the listener cannot be handed to tokio.
pub fn spawn(
    auth: Auth,
    config: &DemoConfig,
    listener: std::net::TcpListener,
) -> std::io::Result<tokio::task::JoinHandle<std::io::Result<()>>> {
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let app = router(auth, config);
    Ok(tokio::spawn(serve(listener, app, std::future::pending())))
}

fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([
            HeaderName::from_static("authorization"),
            HeaderName::from_static("content-type"),
            HeaderName::from_static("x-csrf-token"),
        ])
        .max_age(Duration::from_secs(600))
}

/// Preflights answer 204 No Content.
async fn preflight_no_content(request: Request, next: Next) -> Response {
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key("access-control-request-method");
    let mut response = next.run(request).await;
    if preflight && response.status() == StatusCode::OK {
        *response.status_mut() = StatusCode::NO_CONTENT;
    }
    response
}

async fn healthz(context: AuthContext) -> Response {
    match context.auth().health().await {
        Ok(()) => JsonBody(json!({"status": "ok", "store": "ok"})).into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            JsonBody(json!({"status": "degraded", "store": "unavailable"})),
        )
            .into_response(),
    }
}

async fn signup(
    context: AuthContext,
    Json(credentials): Json<Credentials>,
) -> Result<Response, AuthRejection> {
    context
        .auth()
        .signup(&credentials.username, &credentials.password)
        .await
        .map_err(|e| AuthRejection::from_error(e, &context))?;
    let body = JsonBody(json!({"username": credentials.username}));
    Ok((StatusCode::CREATED, body).into_response())
}

async fn api_me(user: Authenticated<Bearer>) -> Response {
    let claims = user.claims().expect("a bearer identity has claims");
    JsonBody(json!({
        "sub": claims.sub,
        "roles": claims.roles,
        "exp": claims.exp,
        "jti": claims.jti,
    }))
    .into_response()
}

async fn api_admin(_: RequireRole<Admin, Bearer>) -> Response {
    JsonBody(json!({"ok": true})).into_response()
}

async fn whoami(user: Authenticated) -> Response {
    JsonBody(json!({"username": user.username(), "via": user.via()})).into_response()
}

async fn not_found() -> Response {
    let body = json!({"error": "not_found", "error_description": "no such route"});
    (StatusCode::NOT_FOUND, JsonBody(body)).into_response()
}
