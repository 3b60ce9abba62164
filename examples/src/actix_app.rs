//! The actix-web demo: the auth routes of `auth-actix` plus the
//! application's own routes, written as an application author would write
//! them.

use std::time::Instant;

use actix_cors::Cors;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServerHandle, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode, Uri};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, Error, HttpResponse, HttpServer, web};
use serde_json::json;
use tracing::Instrument;

use auth_actix::{
    ApiError, AuthContext, AuthMiddleware, Authenticated, Bearer, Json, RequireRole, Role, routes,
};
use auth_core::Auth;
use auth_core::api::Credentials;

use crate::config::DemoConfig;

/// The role `/api/admin` and `/admin/rotate-keys` require.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

impl Role for Admin {
    const NAME: &'static str = "admin";
}

/// How long, in seconds, browsers may keep a preflight answer.
const PREFLIGHT_MAX_AGE: usize = 600;

/// What cross-origin clients may send, as preflights answer it.
const ALLOW_METHODS: &str = "GET,POST,DELETE";
const ALLOW_HEADERS: &str = "authorization,content-type,x-csrf-token";
const VARY: &str = "origin, access-control-request-method, access-control-request-headers";

/// The whole demo application, for one worker.
pub fn app(
    auth: Auth,
    config: &DemoConfig,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody + use<>>,
        Error = Error,
        InitError = (),
    > + use<>,
> {
    App::new()
        .service(web::resource("/healthz").route(web::get().to(healthz)))
        .service(web::resource("/signup").route(web::post().to(signup)))
        .service(web::resource("/api/me").route(web::get().to(api_me)))
        .service(web::resource("/api/admin").route(web::get().to(api_admin)))
        .service(web::resource("/whoami").route(web::get().to(whoami)))
        .configure(routes::session_routes)
        .configure(routes::token_routes)
        .configure(routes::password_route)
        .configure(routes::jwks_route)
        .configure(routes::key_rotation_route::<Admin>)
        .default_service(web::to(not_found))
        .wrap(AuthMiddleware::new(auth))
        .wrap(from_fn(trace))
        .wrap(cors(&config.cors_origins))
        .wrap(from_fn(cors_answers))
}

/// Starts the demo on `listener` on a thread of its own, with its own actix
/// system and two workers, and answers the handle that stops it
/// (`handle.stop(true).await`). The server does not listen for signals:
/// the caller owns the process.
///
/// # Errors
///
/// When the thread cannot start or the listener cannot be served.
pub fn spawn(
    auth: Auth,
    config: &DemoConfig,
    listener: std::net::TcpListener,
) -> std::io::Result<ServerHandle> {
    let config = config.clone();
    let (started, handle) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("actix-demo".to_owned())
        .spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || app(auth.clone(), &config))
                    .workers(2)
                    .disable_signals()
                    .shutdown_timeout(5)
                    .listen(listener);
                let server = match server {
                    Ok(server) => server.run(),
                    Err(error) => {
                        let _ = started.send(Err(error));
                        return;
                    }
                };
                let _ = started.send(Ok(server.handle()));
                if let Err(error) = server.await {
                    tracing::error!(error = %error, "the actix demo stopped on an error");
                }
            });
        })?;
    handle
        .recv()
        .map_err(|_| std::io::Error::other("the actix demo thread ended before serving"))?
}

/// CORS for bearer clients of the listed origins: exact origins only, never
/// `*`. It decides which origins are allowed; [`cors_answers`] words the
/// answers.
fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods([Method::GET, Method::POST, Method::DELETE])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::HeaderName::from_static(auth_actix::CSRF_HEADER),
        ])
        .disable_vary_header();
    for origin in origins {
        // actix-cors would fail the worker's start on an origin that is not
        // a URI, and would allow every origin for `*`.
        if origin == "*" || origin.parse::<Uri>().is_err() {
            tracing::warn!(origin = %origin, "CORS origin ignored: not an exact origin");
            continue;
        }
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// Words the CORS answers as the demo API has them, alike on both demos.
///
/// A preflight answers 204 with the methods and headers allowed, and
/// echoes its origin only when actix-cors allowed it (answering 200); a
/// preflight actix-cors refused (a plain-text 400) gets no
/// `Access-Control-Allow-Origin`, which browsers refuse. Every answer
/// varies by origin. actix-cors lists methods and headers in no fixed
/// order, hence the fixed lists here.
async fn cors_answers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut res = next.call(req).await?;
    if !preflight {
        res.headers_mut()
            .append(header::VARY, HeaderValue::from_static(VARY));
        return Ok(res.map_into_left_body());
    }

    let mut answer = HttpResponse::NoContent();
    answer
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, ALLOW_METHODS))
        .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE))
        .insert_header((header::VARY, VARY));
    let origin = res.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN);
    if let Some(origin) = origin.filter(|_| res.status() == StatusCode::OK) {
        answer.insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone()));
    }
    let answer = answer.finish();
    Ok(res.into_response(answer).map_into_right_body())
}

/// A DEBUG span per request with its method and path (never the query,
/// which may carry secrets, nor any header), and an event when it is done.
async fn trace(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let span = tracing::debug_span!("request", method = %req.method(), path = %req.path());
    let started = Instant::now();
    async move {
        let res = next.call(req).await;
        if let Ok(res) = &res {
            let latency_ms = started.elapsed().as_millis();
            tracing::debug!(
                status = res.status().as_u16(),
                latency_ms,
                "finished processing request"
            );
        }
        res
    }
    .instrument(span)
    .await
}

async fn healthz(context: AuthContext) -> HttpResponse {
    match context.auth().health().await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ok", "store": "ok"})),
        Err(_) => HttpResponse::ServiceUnavailable()
            .json(json!({"status": "degraded", "store": "unavailable"})),
    }
}

async fn signup(
    context: AuthContext,
    Json(credentials): Json<Credentials>,
) -> Result<HttpResponse, ApiError> {
    context
        .auth()
        .signup(&credentials.username, &credentials.password)
        .await?;
    Ok(HttpResponse::Created().json(json!({"username": credentials.username})))
}

async fn api_me(user: Authenticated<Bearer>) -> HttpResponse {
    let claims = user.claims().expect("a bearer identity has claims");
    HttpResponse::Ok().json(json!({
        "sub": claims.sub,
        "roles": claims.roles,
        "exp": claims.exp,
        "jti": claims.jti,
    }))
}

async fn api_admin(_: RequireRole<Admin, Bearer>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"ok": true}))
}

async fn whoami(user: Authenticated) -> HttpResponse {
    HttpResponse::Ok().json(json!({"username": user.username(), "via": user.via()}))
}

async fn not_found() -> HttpResponse {
    let body = json!({"error": "not_found", "error_description": "no such route"});
    HttpResponse::NotFound().json(body)
}
