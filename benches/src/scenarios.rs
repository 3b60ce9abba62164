//! The scenarios: each starts one server, creates its session or token
//! before any measuring, and names the request the load generator repeats.
//!
//! Every group starts with its baseline, a bare route of the same stack
//! that answers a JSON body of the same shape and size as the others.

use std::sync::Mutex;

use actix_session::config::BrowserSession;
use actix_session::storage::RedisSessionStore;
use actix_session::{Session as ActixSession, SessionMiddleware};
use actix_web::cookie::Key;
use actix_web::{App, HttpResponse, HttpServer, web};
use auth_core::{Auth, SystemClock};
use auth_store_redis::RedisStore;
use axum::extract::{Request as AxumRequest, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response as AxumResponse};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use examples::config::DemoConfig;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tower_sessions::cookie::time::Duration as CookieDuration;
use tower_sessions::{Expiry, SessionManagerLayer, SessionStore};
use tower_sessions_redis_store::fred::prelude::{ClientLike, Config as FredConfig, Pool};

use crate::client::{self, Request};
use crate::server::{ActixServer, AxumServer, BoxError, Server};

/// The seeded demo user every scenario acts as.
const USER: &str = "alice";
const PASSWORD: &str = "correct horse battery staple";

/// How long peer sessions live in Redis: the demo's idle timeout, so that a
/// run that dies leaves nothing behind for long.
const PEER_SESSION_MINUTES: i64 = 30;

/// What the scenarios share: the client runtime for setup requests and
/// where Redis is.
#[derive(Debug)]
pub struct Env<'a> {
    /// The runtime of the load generator, used for login requests too.
    pub client: &'a tokio::runtime::Runtime,
    /// `REDIS_URL`.
    pub redis_url: String,
    /// The random prefix under which this run's keys live.
    pub prefix: String,
    /// Keys written outside the prefix (tower-sessions' Redis store cannot
    /// prefix its keys), deleted at the end.
    pub stray_keys: Mutex<Vec<String>>,
}

/// A server started and ready, and the request to repeat against it.
#[derive(Debug)]
pub struct Target {
    /// The server; dropping it stops it.
    pub server: Server,
    /// The request to repeat.
    pub request: Request,
}

/// One row of a group.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// `(a)`, `(b)`, ...
    pub label: &'static str,
    /// What is measured.
    pub name: &'static str,
    /// Starts the server and prepares the request.
    pub setup: fn(&Env<'_>) -> Result<Target, BoxError>,
}

/// A group of scenarios; the first is the baseline.
#[derive(Debug, Clone)]
pub struct Group {
    /// The short name `--group` selects it by.
    pub key: &'static str,
    /// The heading.
    pub title: &'static str,
    /// The rows, baseline first.
    pub scenarios: Vec<Scenario>,
    /// Ratios worth a line of their own: numerator and denominator labels
    /// and what the ratio says.
    pub headlines: Vec<(&'static str, &'static str, &'static str)>,
}

/// The three groups of the benchmark.
pub fn groups() -> Vec<Group> {
    vec![
        Group {
            key: "axum",
            title: "1. axum: cookie sessions",
            scenarios: vec![
                Scenario {
                    label: "(a)",
                    name: "bare axum route, small JSON",
                    setup: axum_bare,
                },
                Scenario {
                    label: "(b)",
                    name: "axum demo GET /session/me, memory store",
                    setup: axum_demo_session_memory,
                },
                Scenario {
                    label: "(c)",
                    name: "axum demo GET /session/me, Redis store",
                    setup: axum_demo_session_redis,
                },
                Scenario {
                    label: "(d)",
                    name: "tower-sessions 0.14, MemoryStore",
                    setup: tower_sessions_memory,
                },
                Scenario {
                    label: "(e)",
                    name: "tower-sessions 0.14, tower-sessions-redis-store 0.16",
                    setup: tower_sessions_redis,
                },
            ],
            headlines: vec![(
                "(c)",
                "(e)",
                "auth-tower on Redis vs tower-sessions on Redis (goal >= 1.50x)",
            )],
        },
        Group {
            key: "actix",
            title: "2. actix-web: cookie sessions",
            scenarios: vec![
                Scenario {
                    label: "(a)",
                    name: "bare actix-web route, small JSON",
                    setup: actix_bare,
                },
                Scenario {
                    label: "(b)",
                    name: "actix demo GET /session/me, memory store",
                    setup: actix_demo_session_memory,
                },
                Scenario {
                    label: "(c)",
                    name: "actix demo GET /session/me, Redis store",
                    setup: actix_demo_session_redis,
                },
                Scenario {
                    label: "(d)",
                    name: "actix-session 0.11, RedisSessionStore",
                    setup: actix_session_redis,
                },
            ],
            headlines: vec![(
                "(c)",
                "(d)",
                "auth-actix on Redis vs actix-session on Redis",
            )],
        },
        Group {
            key: "bearer",
            title: "3. axum: bearer tokens",
            scenarios: vec![
                Scenario {
                    label: "(a)",
                    name: "bare axum route, small JSON",
                    setup: axum_bare,
                },
                Scenario {
                    label: "(b)",
                    name: "hand-written jsonwebtoken HS256 middleware",
                    setup: jwt_middleware,
                },
                Scenario {
                    label: "(c)",
                    name: "axum demo GET /api/me, HS256",
                    setup: axum_demo_bearer_hs256,
                },
                Scenario {
                    label: "(d)",
                    name: "axum demo GET /api/me, EdDSA",
                    setup: axum_demo_bearer_eddsa,
                },
            ],
            headlines: vec![
                ("(c)", "(b)", "demo HS256 vs hand-written HS256 middleware"),
                ("(d)", "(b)", "demo EdDSA vs hand-written HS256 middleware"),
            ],
        },
    ]
}

/// The body every route answers: the shape of the demo's `/session/me`.
fn user_body() -> Value {
    json!({"username": USER, "roles": ["admin", "user"]})
}

/// Where a demo keeps its state.
#[derive(Debug, Clone)]
enum Backend {
    Memory,
    Redis { url: String, prefix: String },
}

impl Backend {
    fn redis(env: &Env<'_>, name: &str) -> Self {
        Self::Redis {
            url: env.redis_url.clone(),
            prefix: format!("{}{name}:", env.prefix),
        }
    }
}

/// The demo's default settings, plus `vars`; the process environment is
/// not read, so every run measures the same configuration.
fn demo_config(vars: &[(&str, &str)]) -> Result<DemoConfig, BoxError> {
    let config = DemoConfig::from_vars(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })?;
    Ok(config)
}

/// Builds the demo's `Auth` on `backend`; call it on the server's runtime,
/// which then drives the store's connections.
async fn build_auth(config: &DemoConfig, backend: &Backend) -> Result<Auth, BoxError> {
    let auth = match backend {
        Backend::Memory => config.build_auth_with(SystemClock).await?,
        Backend::Redis { url, prefix } => {
            let store = RedisStore::builder(url.as_str())
                .prefix(prefix.as_str())
                .connect()
                .await
                .map_err(|e| format!("Redis at {url} does not answer: {e}"))?;
            config.build_auth_on(SystemClock, store).await?
        }
    };
    Ok(auth)
}

/// Logs in through the demo's HTTP API and answers the `Cookie` header.
fn demo_session_cookie(env: &Env<'_>, server: &Server) -> Result<String, BoxError> {
    let login = Request::post_json(
        "/session/login",
        &json!({"username": USER, "password": PASSWORD}),
    );
    let response = env
        .client
        .block_on(client::send_ok(server.addr(), &login))?;
    Ok(format!("Cookie: {}", response.cookie("session")?))
}

/// Asks the demo for an access token and answers the `Authorization` header.
fn demo_bearer(env: &Env<'_>, server: &Server) -> Result<String, BoxError> {
    let login = Request::post_json("/token", &json!({"username": USER, "password": PASSWORD}));
    let response = env
        .client
        .block_on(client::send_ok(server.addr(), &login))?;
    let token = response.json()?["access_token"]
        .as_str()
        .ok_or("no access_token in the answer of POST /token")?
        .to_owned();
    Ok(format!("Authorization: Bearer {token}"))
}

/// Calls a peer's `/login` route and answers its `id` cookie.
fn peer_session_cookie(env: &Env<'_>, server: &Server) -> Result<String, BoxError> {
    let login = Request::post_json("/login", &json!({}));
    let response = env
        .client
        .block_on(client::send_ok(server.addr(), &login))?;
    Ok(response.cookie("id")?)
}

// --- axum ------------------------------------------------------------------

fn axum_bare(_: &Env<'_>) -> Result<Target, BoxError> {
    let server = AxumServer::start(|| async {
        Ok(Router::new().route("/", get(|| async { Json(user_body()) })))
    })?;
    Ok(Target {
        server: Server::Axum(server),
        request: Request::get("/", &[]),
    })
}

fn axum_demo(backend: Backend, vars: &[(&str, &str)]) -> Result<Server, BoxError> {
    let config = demo_config(vars)?;
    let server = AxumServer::start(|| async move {
        let auth = build_auth(&config, &backend).await?;
        Ok(examples::axum_app::router(auth, &config))
    })?;
    Ok(Server::Axum(server))
}

fn axum_demo_session(env: &Env<'_>, backend: Backend) -> Result<Target, BoxError> {
    let server = axum_demo(backend, &[])?;
    let cookie = demo_session_cookie(env, &server)?;
    Ok(Target {
        server,
        request: Request::get("/session/me", &[cookie]),
    })
}

fn axum_demo_session_memory(env: &Env<'_>) -> Result<Target, BoxError> {
    axum_demo_session(env, Backend::Memory)
}

fn axum_demo_session_redis(env: &Env<'_>) -> Result<Target, BoxError> {
    axum_demo_session(env, Backend::redis(env, "axum"))
}

/// The value a peer session holds: the user, as the demo's session does.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SessionUser {
    username: String,
    roles: Vec<String>,
}

impl SessionUser {
    fn alice() -> Self {
        Self {
            username: USER.to_owned(),
            roles: vec!["admin".to_owned(), "user".to_owned()],
        }
    }
}

fn tower_sessions_router<S: SessionStore + Clone>(store: S) -> Router {
    let layer = SessionManagerLayer::new(store)
        .with_secure(false)
        .with_expiry(Expiry::OnInactivity(CookieDuration::minutes(
            PEER_SESSION_MINUTES,
        )));
    Router::new()
        .route("/login", post(tower_sessions_login))
        .route("/me", get(tower_sessions_me))
        .layer(layer)
}

async fn tower_sessions_login(session: tower_sessions::Session) -> AxumResponse {
    match session.insert("user", SessionUser::alice()).await {
        Ok(()) => Json(json!({})).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn tower_sessions_me(session: tower_sessions::Session) -> AxumResponse {
    match session.get::<SessionUser>("user").await {
        Ok(Some(user)) => Json(user).into_response(),
        Ok(None) => StatusCode::UNAUTHORIZED.into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Logs in to a tower-sessions app; a session in Redis is remembered for
/// deletion, its key being the bare session ID.
fn tower_sessions_target(
    env: &Env<'_>,
    server: AxumServer,
    in_redis: bool,
) -> Result<Target, BoxError> {
    let server = Server::Axum(server);
    let cookie = peer_session_cookie(env, &server)?;
    if let Some((_, id)) = cookie.split_once('=').filter(|_| in_redis) {
        push_stray_key(env, id.to_owned());
    }
    Ok(Target {
        server,
        request: Request::get("/me", &[format!("Cookie: {cookie}")]),
    })
}

fn tower_sessions_memory(env: &Env<'_>) -> Result<Target, BoxError> {
    let server = AxumServer::start(|| async {
        Ok(tower_sessions_router(tower_sessions::MemoryStore::default()))
    })?;
    tower_sessions_target(env, server, false)
}

fn tower_sessions_redis(env: &Env<'_>) -> Result<Target, BoxError> {
    let url = env.redis_url.clone();
    let server = AxumServer::start(|| async move {
        let config = FredConfig::from_url(&url)?;
        // Two connections, as many as the auth Redis store keeps by default.
        let pool = Pool::new(config, None, None, None, 2)?;
        // The connection task lives on this runtime; its handle is not needed.
        drop(
            pool.init()
                .await
                .map_err(|e| format!("Redis at {url} does not answer: {e}"))?,
        );
        let store = tower_sessions_redis_store::RedisStore::new(pool);
        Ok(tower_sessions_router(store))
    })?;
    tower_sessions_target(env, server, true)
}

fn push_stray_key(env: &Env<'_>, key: String) {
    env.stray_keys
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(key);
}

// --- bearer tokens on axum -------------------------------------------------

/// The claims the demo puts in its access tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    exp: u64,
    iat: u64,
    nbf: u64,
    jti: String,
    roles: Vec<String>,
}

/// What the hand-written middleware verifies with.
struct JwtVerifier {
    key: DecodingKey,
    validation: Validation,
}

const JWT_SECRET: &[u8] = b"auth-bench: the hand-written middleware's HS256 secret";

async fn jwt_layer(
    State(verifier): State<std::sync::Arc<JwtVerifier>>,
    mut request: AxumRequest,
    next: Next,
) -> AxumResponse {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(token) = token else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    match jsonwebtoken::decode::<Claims>(token, &verifier.key, &verifier.validation) {
        Ok(data) => {
            request.extensions_mut().insert(data.claims);
            next.run(request).await
        }
        Err(_) => StatusCode::UNAUTHORIZED.into_response(),
    }
}

async fn jwt_me(Extension(claims): Extension<Claims>) -> Json<Value> {
    Json(json!({
        "sub": claims.sub,
        "roles": claims.roles,
        "exp": claims.exp,
        "jti": claims.jti,
    }))
}

fn jwt_middleware(_: &Env<'_>) -> Result<Target, BoxError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let claims = Claims {
        iss: "auth-demo".to_owned(),
        aud: "auth-demo-api".to_owned(),
        sub: USER.to_owned(),
        exp: now + 900,
        iat: now,
        nbf: now,
        jti: "auth-bench-1".to_owned(),
        roles: SessionUser::alice().roles,
    };
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(JWT_SECRET)?,
    )?;

    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&["auth-demo"]);
    validation.set_audience(&["auth-demo-api"]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = 30;
    let verifier = std::sync::Arc::new(JwtVerifier {
        key: DecodingKey::from_secret(JWT_SECRET)?,
        validation,
    });

    let server = AxumServer::start(|| async move {
        Ok(Router::new()
            .route("/api/me", get(jwt_me))
            .layer(middleware::from_fn_with_state(verifier, jwt_layer)))
    })?;
    Ok(Target {
        server: Server::Axum(server),
        request: Request::get("/api/me", &[format!("Authorization: Bearer {token}")]),
    })
}

fn axum_demo_bearer(env: &Env<'_>, algorithm: &str) -> Result<Target, BoxError> {
    let server = axum_demo(Backend::Memory, &[("JWT_ALG", algorithm)])?;
    let authorization = demo_bearer(env, &server)?;
    Ok(Target {
        server,
        request: Request::get("/api/me", &[authorization]),
    })
}

fn axum_demo_bearer_hs256(env: &Env<'_>) -> Result<Target, BoxError> {
    axum_demo_bearer(env, "HS256")
}

fn axum_demo_bearer_eddsa(env: &Env<'_>) -> Result<Target, BoxError> {
    axum_demo_bearer(env, "EdDSA")
}

// --- actix-web -------------------------------------------------------------

fn actix_bare(_: &Env<'_>) -> Result<Target, BoxError> {
    let server = ActixServer::start(|listener| async move {
        let server = HttpServer::new(|| {
            App::new().route(
                "/",
                web::get().to(|| async { HttpResponse::Ok().json(user_body()) }),
            )
        })
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run();
        Ok(server)
    })?;
    Ok(Target {
        server: Server::Actix(server),
        request: Request::get("/", &[]),
    })
}

fn actix_demo_session(env: &Env<'_>, backend: Backend) -> Result<Target, BoxError> {
    let config = demo_config(&[])?;
    let server = ActixServer::start(move |listener| async move {
        let auth = build_auth(&config, &backend).await?;
        let server = HttpServer::new(move || examples::actix_app::app(auth.clone(), &config))
            .workers(1)
            .disable_signals()
            .listen(listener)?
            .run();
        Ok(server)
    })?;
    let server = Server::Actix(server);
    let cookie = demo_session_cookie(env, &server)?;
    Ok(Target {
        server,
        request: Request::get("/session/me", &[cookie]),
    })
}

fn actix_demo_session_memory(env: &Env<'_>) -> Result<Target, BoxError> {
    actix_demo_session(env, Backend::Memory)
}

fn actix_demo_session_redis(env: &Env<'_>) -> Result<Target, BoxError> {
    actix_demo_session(env, Backend::redis(env, "actix"))
}

async fn actix_session_login(session: ActixSession) -> HttpResponse {
    match session.insert("user", SessionUser::alice()) {
        Ok(()) => HttpResponse::Ok().json(json!({})),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

async fn actix_session_me(session: ActixSession) -> HttpResponse {
    match session.get::<SessionUser>("user") {
        Ok(Some(user)) => HttpResponse::Ok().json(user),
        Ok(None) => HttpResponse::Unauthorized().finish(),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

fn actix_session_redis(env: &Env<'_>) -> Result<Target, BoxError> {
    let url = env.redis_url.clone();
    let prefix = format!("{}actix-session:", env.prefix);
    let server = ActixServer::start(move |listener| async move {
        let store = RedisSessionStore::builder(url.clone())
            .cache_keygen(move |key| format!("{prefix}{key}"))
            .build()
            .await
            .map_err(|e| format!("Redis at {url} does not answer: {e}"))?;
        let key = Key::generate();
        let server = HttpServer::new(move || {
            let lifecycle =
                BrowserSession::default().state_ttl(CookieDuration::minutes(PEER_SESSION_MINUTES));
            let sessions = SessionMiddleware::builder(store.clone(), key.clone())
                .cookie_secure(false)
                .session_lifecycle(lifecycle)
                .build();
            App::new()
                .wrap(sessions)
                .route("/login", web::post().to(actix_session_login))
                .route("/me", web::get().to(actix_session_me))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run();
        Ok(server)
    })?;
    let server = Server::Actix(server);
    let cookie = peer_session_cookie(env, &server)?;
    Ok(Target {
        server,
        request: Request::get("/me", &[format!("Cookie: {cookie}")]),
    })
}
