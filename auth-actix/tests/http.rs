//! The middleware, the extractors, the error rendering and the ready-made
//! routes, driven through actix-web's test service.

use std::time::Duration;

use actix_web::dev::ServiceResponse;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::test::{self, TestRequest};
use actix_web::{App, HttpMessage, HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use auth_actix::{
    ApiError, AuthContext, AuthMiddleware, AuthOutcome, Authenticated, Bearer, Json,
    MaybeAuthenticated, RequireRole, Role, Session, SessionHandle, routes,
};
use auth_core::api::Credentials;
use auth_core::{Argon2Params, Auth, AuthBuilder, AuthError, StoreError};

const ALICE: &str = "correct horse battery staple";
const BOB: &str = "hunter2hunter2!";
const CHALLENGE: &str = r#"Bearer realm="auth-demo""#;
const INVALID_TOKEN: &str = r#"Bearer realm="auth-demo", error="invalid_token""#;
const INSUFFICIENT_SCOPE: &str = r#"Bearer realm="auth-demo", error="insufficient_scope""#;

struct Admin;

impl Role for Admin {
    const NAME: &'static str = "admin";
}

fn fast() -> AuthBuilder {
    Auth::builder().argon2(Argon2Params {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    })
}

async fn seeded(builder: AuthBuilder) -> Auth {
    let auth = builder.build().unwrap();
    auth.create_user("alice", ALICE, &["admin", "user"])
        .await
        .unwrap();
    auth.create_user("bob", BOB, &["user"]).await.unwrap();
    auth
}

async fn any(me: Authenticated) -> String {
    format!("{} {}", me.username(), me.via())
}

async fn bearer(me: Authenticated<Bearer>) -> String {
    me.username().to_owned()
}

async fn session(me: Authenticated<Session>) -> String {
    me.username().to_owned()
}

async fn maybe(me: MaybeAuthenticated) -> String {
    me.identity()
        .map_or("nobody".to_owned(), |me| me.username().to_owned())
}

async fn admin(me: RequireRole<Admin, Bearer>) -> String {
    me.username().to_owned()
}

async fn handle(session: SessionHandle) -> String {
    session.handle().to_string()
}

async fn echo(Json(body): Json<Credentials>) -> String {
    body.username
}

async fn refuse(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    match req.match_info().get("what") {
        Some("outage") => Err(AuthError::from(StoreError::unavailable("down")))?,
        _ => Err(AuthError::MissingCredentials)?,
    }
}

async fn probe(req: HttpRequest) -> &'static str {
    if req.extensions().get::<AuthOutcome>().is_some() {
        "authenticated"
    } else {
        "untouched"
    }
}

async fn cookie_name(context: AuthContext) -> &'static str {
    context.auth().cookie_name()
}

macro_rules! app {
    () => {
        App::new()
            .configure(routes::session_routes)
            .configure(routes::token_routes)
            .configure(routes::password_route)
            .configure(routes::jwks_route)
            .configure(routes::key_rotation_route::<Admin>)
            .route("/any", web::get().to(any))
            .route("/bearer", web::post().to(bearer))
            .route("/session", web::route().to(session))
            .route("/maybe", web::get().to(maybe))
            .route("/admin", web::get().to(admin))
            .route("/handle", web::get().to(handle))
            .route("/echo", web::post().to(echo))
            .route("/refuse/{what}", web::get().to(refuse))
            .route("/probe", web::route().to(probe))
            .route("/context", web::route().to(cookie_name))
    };
}

async fn service(
    auth: Auth,
) -> impl actix_web::dev::Service<
    actix_http::Request,
    Response = ServiceResponse<impl actix_web::body::MessageBody>,
    Error = actix_web::Error,
> {
    test::init_service(app!().wrap(AuthMiddleware::new(auth))).await
}

struct Answer {
    status: StatusCode,
    headers: header::HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    fn code(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }

    fn set_cookie(&self) -> Option<&str> {
        self.header(header::SET_COOKIE)
    }
}

async fn send(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
    >,
    req: TestRequest,
) -> Answer {
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = test::read_body(res).await;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Answer {
        status,
        headers,
        body,
    }
}

fn post_json(path: &str, body: &Value) -> TestRequest {
    TestRequest::post()
        .uri(path)
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload(body.to_string())
}

fn with_token(req: TestRequest, token: &str) -> TestRequest {
    req.insert_header((header::AUTHORIZATION, format!("Bearer {token}")))
}

fn with_cookie(req: TestRequest, cookie: &str) -> TestRequest {
    req.insert_header((header::COOKIE, format!("session={cookie}")))
}

/// The cookie value of a `Set-Cookie` header.
fn cookie_value(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().unwrap();
    pair.split_once('=').unwrap().1.to_owned()
}

async fn token(auth: &Auth, user: &str, password: &str) -> String {
    let pair = auth.issue_tokens(user, password).await.unwrap();
    pair.access_token().to_owned()
}

/// A session of alice: its cookie value and CSRF token.
async fn login(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
    >,
) -> (String, String) {
    let credentials = json!({"username": "alice", "password": ALICE});
    let answer = send(app, post_json("/session/login", &credentials)).await;
    assert_eq!(answer.status, StatusCode::OK);
    let cookie = cookie_value(answer.set_cookie().unwrap());
    let csrf = answer.body["csrf_token"].as_str().unwrap().to_owned();
    (cookie, csrf)
}

#[actix_web::test]
async fn no_credentials_is_401_with_a_bare_challenge() {
    let app = service(seeded(fast()).await).await;

    let answer = send(&app, TestRequest::get().uri("/any")).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.header(header::WWW_AUTHENTICATE), Some(CHALLENGE));
    assert_eq!(
        answer.header(header::CONTENT_TYPE),
        Some("application/json")
    );
    assert_eq!(
        answer.body,
        json!({"error": "unauthenticated", "error_description": "authentication is required"})
    );
}

#[actix_web::test]
async fn refused_tokens_are_401_invalid_token() {
    let app = service(seeded(fast()).await).await;

    for value in [
        HeaderValue::from_static("Bearer not.a.token"),
        HeaderValue::from_static("bearer "),
        HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
        HeaderValue::from_bytes(b"Basic \xff").unwrap(),
    ] {
        let req = TestRequest::get()
            .uri("/any")
            .insert_header((header::AUTHORIZATION, value));
        let answer = send(&app, req).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.code(), "invalid_token");
        assert_eq!(answer.header(header::WWW_AUTHENTICATE), Some(INVALID_TOKEN));
        assert!(!answer.body.to_string().contains("not.a.token"));
    }
}

#[actix_web::test]
async fn each_mode_counts_only_its_own_credentials() {
    let auth = seeded(fast()).await;
    let app = service(auth.clone()).await;
    let (cookie, csrf) = login(&app).await;
    let token = token(&auth, "bob", BOB).await;

    let answer = send(&app, with_token(TestRequest::get().uri("/any"), &token)).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::OK, Some("bob token"))
    );
    let answer = send(&app, with_cookie(TestRequest::get().uri("/any"), &cookie)).await;
    assert_eq!(answer.body.as_str(), Some("alice session"));

    // A session identity is no identity to a bearer route, and a token
    // identity none to a session route.
    let req = with_cookie(TestRequest::post().uri("/bearer"), &cookie)
        .insert_header(("x-csrf-token", csrf.as_str()));
    let answer = send(&app, req).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.code(), "unauthenticated");
    assert_eq!(answer.header(header::WWW_AUTHENTICATE), Some(CHALLENGE));
    let answer = send(&app, with_token(TestRequest::get().uri("/session"), &token)).await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );

    // The session cookie is found in any of several Cookie headers.
    let req = TestRequest::get()
        .uri("/any")
        .append_header((header::COOKIE, "theme=dark"))
        .append_header((header::COOKIE, format!("a=1; session={cookie}")));
    assert_eq!(send(&app, req).await.body.as_str(), Some("alice session"));

    // A token decides alone: the cookie sent with it is ignored.
    let req = with_cookie(with_token(TestRequest::get().uri("/any"), &token), &cookie);
    assert_eq!(send(&app, req).await.body.as_str(), Some("bob token"));
}

#[actix_web::test]
async fn maybe_authenticated_passes_nobody_but_refuses_bad_tokens() {
    let app = service(seeded(fast()).await).await;

    let answer = send(&app, TestRequest::get().uri("/maybe")).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::OK, Some("nobody"))
    );
    let answer = send(&app, with_token(TestRequest::get().uri("/maybe"), "x.y.z")).await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );
    // A cookie naming no live session is no credential.
    let answer = send(&app, with_cookie(TestRequest::get().uri("/maybe"), "stale")).await;
    assert_eq!(answer.body.as_str(), Some("nobody"));
}

#[actix_web::test]
async fn a_missing_role_is_403_insufficient_scope() {
    let auth = seeded(fast()).await;
    let app = service(auth.clone()).await;

    let answer = send(&app, TestRequest::get().uri("/admin")).await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
    let bob = token(&auth, "bob", BOB).await;
    let answer = send(&app, with_token(TestRequest::get().uri("/admin"), &bob)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.code(), "insufficient_scope");
    assert_eq!(
        answer.header(header::WWW_AUTHENTICATE),
        Some(INSUFFICIENT_SCOPE)
    );
    let alice = token(&auth, "alice", ALICE).await;
    let answer = send(&app, with_token(TestRequest::get().uri("/admin"), &alice)).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::OK, Some("alice"))
    );
}

#[actix_web::test]
async fn session_handle_names_the_current_session() {
    let auth = seeded(fast()).await;
    let app = service(auth.clone()).await;
    let (cookie, _) = login(&app).await;

    let answer = send(
        &app,
        with_cookie(TestRequest::get().uri("/handle"), &cookie),
    )
    .await;
    let handle = answer.body.as_str().unwrap().to_owned();
    let list = send(
        &app,
        with_cookie(TestRequest::get().uri("/session/list"), &cookie),
    )
    .await;
    let current: Vec<&Value> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["current"] == true)
        .collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["id"], handle.as_str());
    assert_ne!(cookie, handle, "the id is a handle, never the cookie");

    let token = token(&auth, "bob", BOB).await;
    let answer = send(&app, with_token(TestRequest::get().uri("/handle"), &token)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn unsafe_cookie_requests_need_the_csrf_token() {
    let auth = seeded(fast()).await;
    let app = service(auth.clone()).await;
    let (cookie, csrf) = login(&app).await;

    let answer = send(
        &app,
        with_cookie(TestRequest::post().uri("/session"), &cookie),
    )
    .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::FORBIDDEN, "csrf")
    );
    assert_eq!(answer.header(header::WWW_AUTHENTICATE), None);
    let req = with_cookie(TestRequest::post().uri("/session"), &cookie)
        .insert_header(("x-csrf-token", "wrong"));
    assert_eq!(send(&app, req).await.code(), "csrf");
    let req = with_cookie(TestRequest::post().uri("/session"), &cookie)
        .insert_header(("X-CSRF-Token", csrf.as_str()));
    assert_eq!(send(&app, req).await.status, StatusCode::OK);
    // Safe methods need none.
    let answer = send(
        &app,
        with_cookie(TestRequest::get().uri("/session"), &cookie),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);

    // Without a valid cookie, 401 comes before any CSRF check.
    let answer = send(
        &app,
        with_cookie(TestRequest::post().uri("/session/logout"), "x"),
    )
    .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );

    // Bearer requests need no CSRF token.
    let token = token(&auth, "bob", BOB).await;
    let req = with_token(TestRequest::post().uri("/token/revoke-all"), &token);
    assert_eq!(send(&app, req).await.status, StatusCode::NO_CONTENT);
}

#[actix_web::test]
async fn bodies_are_read_by_the_demo_rules() {
    let app = service(seeded(fast()).await).await;
    let big = format!(
        r#"{{"username":"{}","password":"x"}}"#,
        "a".repeat(70 * 1024)
    );

    let cases = [
        (None, "{}".to_owned(), 415, "unsupported_media_type"),
        (
            Some("text/plain"),
            r#"{"username":"a","password":"b"}"#.to_owned(),
            415,
            "unsupported_media_type",
        ),
        (Some("application/json"), big, 413, "payload_too_large"),
        (
            Some("application/json"),
            "{".to_owned(),
            400,
            "invalid_request",
        ),
        (
            Some("application/json"),
            String::new(),
            400,
            "invalid_request",
        ),
        (
            Some("application/json"),
            "[1]".to_owned(),
            422,
            "invalid_request",
        ),
        (
            Some("application/json"),
            r#"{"username":"a"}"#.to_owned(),
            422,
            "invalid_request",
        ),
        (
            Some("application/json"),
            r#"{"username":1,"password":"b"}"#.to_owned(),
            422,
            "invalid_request",
        ),
    ];
    for (content_type, body, status, code) in cases {
        let mut req = TestRequest::post().uri("/echo").set_payload(body);
        if let Some(content_type) = content_type {
            req = req.insert_header((header::CONTENT_TYPE, content_type));
        }
        let answer = send(&app, req).await;
        assert_eq!(
            (answer.status.as_u16(), answer.code()),
            (status, code),
            "{content_type:?}"
        );
        assert_eq!(
            answer.header(header::CONTENT_TYPE),
            Some("application/json")
        );
    }

    let req = post_json(
        "/echo",
        &json!({"username": "carol", "password": "x", "more": 1}),
    )
    .insert_header((header::CONTENT_TYPE, "Application/JSON; charset=utf-8"));
    assert_eq!(send(&app, req).await.body.as_str(), Some("carol"));
}

#[actix_web::test]
async fn a_lockout_is_429_with_retry_after() {
    let app = service(seeded(fast().lockout(2, Duration::from_secs(60))).await).await;
    let wrong = json!({"username": "bob", "password": "wrong password!"});

    for _ in 0..2 {
        let answer = send(&app, post_json("/session/login", &wrong)).await;
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::UNAUTHORIZED, "invalid_credentials")
        );
        assert_eq!(answer.header(header::WWW_AUTHENTICATE), None);
    }
    let right = json!({"username": "bob", "password": BOB});
    let answer = send(&app, post_json("/token", &right)).await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::TOO_MANY_REQUESTS, "locked")
    );
    let secs: u64 = answer.header(header::RETRY_AFTER).unwrap().parse().unwrap();
    assert!((1..=60).contains(&secs), "{secs}");
}

#[actix_web::test]
async fn login_me_logout_sets_and_clears_the_cookie() {
    let app = service(seeded(fast()).await).await;
    let credentials = json!({"username": "alice", "password": ALICE});

    let answer = send(&app, post_json("/session/login", &credentials)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header(header::CACHE_CONTROL), Some("no-store"));
    assert_eq!(answer.header(header::PRAGMA), Some("no-cache"));
    assert_eq!(answer.body["username"], "alice");
    assert_eq!(answer.body["roles"], json!(["admin", "user"]));
    let set_cookie = answer.set_cookie().unwrap().to_owned();
    assert!(set_cookie.starts_with("session="));
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(
            set_cookie.split("; ").any(|a| a == attribute),
            "{attribute}"
        );
    }
    assert!(!set_cookie.contains("Domain"));
    let cookie = cookie_value(&set_cookie);
    let csrf = answer.body["csrf_token"].as_str().unwrap().to_owned();

    let answer = send(
        &app,
        with_cookie(TestRequest::get().uri("/session/me"), &cookie),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header(header::CACHE_CONTROL), Some("no-store"));
    assert_eq!(
        answer.body,
        json!({"username": "alice", "roles": ["admin", "user"]})
    );
    let answer = send(
        &app,
        with_cookie(TestRequest::get().uri("/session/csrf"), &cookie),
    )
    .await;
    assert_eq!(answer.body, json!({"csrf_token": csrf}));

    let req = with_cookie(TestRequest::post().uri("/session/logout"), &cookie)
        .insert_header(("x-csrf-token", csrf.as_str()));
    let answer = send(&app, req).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let removal = answer.set_cookie().unwrap();
    assert!(removal.starts_with("session=;"));
    assert!(removal.contains("Max-Age=0") && removal.contains("Path=/"));

    let answer = send(
        &app,
        with_cookie(TestRequest::get().uri("/session/me"), &cookie),
    )
    .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
}

#[actix_web::test]
async fn login_with_a_live_cookie_ends_that_session() {
    let app = service(seeded(fast()).await).await;
    let (old, _) = login(&app).await;

    let credentials = json!({"username": "bob", "password": BOB});
    let answer = send(
        &app,
        with_cookie(post_json("/session/login", &credentials), &old),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    let new = cookie_value(answer.set_cookie().unwrap());
    assert_ne!(new, old);
    let answer = send(
        &app,
        with_cookie(TestRequest::get().uri("/session/me"), &old),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn sessions_are_listed_and_ended_by_handle() {
    let app = service(seeded(fast()).await).await;
    let (first, _) = login(&app).await;
    let (second, csrf) = login(&app).await;

    let list = send(
        &app,
        with_cookie(TestRequest::get().uri("/session/list"), &second),
    )
    .await;
    assert_eq!(list.header(header::CACHE_CONTROL), Some("no-store"));
    let entries = list.body.as_array().unwrap().clone();
    assert_eq!(entries.len(), 2);
    let other = entries.iter().find(|e| e["current"] == false).unwrap();
    let mine = entries.iter().find(|e| e["current"] == true).unwrap();
    assert!(other["created_at"].as_str().unwrap().ends_with('Z'));

    let delete = |id: &str| {
        with_cookie(
            TestRequest::delete().uri(&format!("/session/list/{id}")),
            &second,
        )
        .insert_header(("x-csrf-token", csrf.as_str()))
    };
    let answer = send(&app, delete(other["id"].as_str().unwrap())).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    assert_eq!(answer.set_cookie(), None);
    let answer = send(
        &app,
        with_cookie(TestRequest::get().uri("/session/me"), &first),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);

    let answer = send(&app, delete("AAAAAAAAAAAAAAAAAAAAAA")).await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );

    let answer = send(&app, delete(mine["id"].as_str().unwrap())).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    assert!(answer.set_cookie().unwrap().contains("Max-Age=0"));
}

#[actix_web::test]
async fn logout_all_ends_every_session_and_token() {
    let auth = seeded(fast()).await;
    let app = service(auth.clone()).await;
    let (other, _) = login(&app).await;
    let (cookie, csrf) = login(&app).await;
    let token = token(&auth, "alice", ALICE).await;

    let req = with_cookie(TestRequest::post().uri("/session/logout-all"), &cookie)
        .insert_header(("x-csrf-token", csrf.as_str()));
    let answer = send(&app, req).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    assert!(answer.set_cookie().unwrap().contains("Max-Age=0"));

    let answer = send(
        &app,
        with_cookie(TestRequest::get().uri("/session/me"), &other),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let answer = send(&app, with_token(TestRequest::get().uri("/any"), &token)).await;
    assert_eq!(answer.code(), "invalid_token");
}

#[actix_web::test]
async fn token_routes_answer_uncacheable_pairs() {
    let app = service(seeded(fast()).await).await;

    let answer = send(
        &app,
        post_json("/token", &json!({"username": "bob", "password": BOB})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header(header::CACHE_CONTROL), Some("no-store"));
    assert_eq!(answer.header(header::PRAGMA), Some("no-cache"));
    assert_eq!(answer.body["token_type"], "Bearer");
    assert_eq!(answer.body["expires_in"], 900);
    let access = answer.body["access_token"].as_str().unwrap().to_owned();
    let refresh = answer.body["refresh_token"].as_str().unwrap().to_owned();

    let body = json!({"refresh_token": refresh});
    let answer = send(&app, post_json("/token/refresh", &body)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header(header::PRAGMA), Some("no-cache"));
    let next = answer.body["refresh_token"].as_str().unwrap().to_owned();
    let answer = send(&app, post_json("/token/refresh", &body)).await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::UNAUTHORIZED, "invalid_grant")
    );
    assert_eq!(answer.header(header::WWW_AUTHENTICATE), None);
    let answer = send(
        &app,
        post_json("/token/refresh", &json!({"refresh_token": next})),
    )
    .await;
    assert_eq!(answer.code(), "invalid_grant", "the family ended on reuse");

    let answer = send(&app, post_json("/token/revoke", &json!({"token": access}))).await;
    assert_eq!(
        (answer.status, answer.body.clone()),
        (StatusCode::OK, json!({}))
    );
    assert_eq!(answer.header(header::CACHE_CONTROL), Some("no-store"));
    let answer = send(
        &app,
        post_json("/token/revoke", &json!({"token": "anything"})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    let answer = send(&app, post_json("/token/revoke", &json!({}))).await;
    assert_eq!(
        (answer.status.as_u16(), answer.code()),
        (422, "invalid_request")
    );

    let answer = send(&app, TestRequest::post().uri("/token/revoke-all")).await;
    assert_eq!(answer.header(header::WWW_AUTHENTICATE), Some(CHALLENGE));
}

#[actix_web::test]
async fn password_checks_the_identity_before_the_body() {
    let auth = seeded(fast()).await;
    let app = service(auth.clone()).await;

    let req = TestRequest::post().uri("/password").set_payload("not json");
    let answer = send(&app, req).await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
    let req = with_token(TestRequest::post().uri("/password"), "bad").set_payload("x");
    assert_eq!(send(&app, req).await.code(), "invalid_token");

    let (cookie, csrf) = login(&app).await;
    let change = json!({"current_password": ALICE, "new_password": "short"});
    let req = with_cookie(post_json("/password", &change), &cookie);
    assert_eq!(send(&app, req).await.code(), "csrf");
    let req = with_cookie(TestRequest::post().uri("/password"), &cookie)
        .insert_header(("x-csrf-token", csrf.as_str()));
    assert_eq!(send(&app, req).await.code(), "unsupported_media_type");
    let req = with_cookie(post_json("/password", &change), &cookie)
        .insert_header(("x-csrf-token", csrf.as_str()));
    assert_eq!(send(&app, req).await.code(), "weak_password");

    let change = json!({"current_password": ALICE, "new_password": "a brand new passphrase"});
    let req = with_cookie(post_json("/password", &change), &cookie)
        .insert_header(("x-csrf-token", csrf.as_str()));
    let answer = send(&app, req).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let renewed = cookie_value(answer.set_cookie().unwrap());
    assert_ne!(renewed, cookie);
    let answer = send(
        &app,
        with_cookie(TestRequest::get().uri("/session/me"), &renewed),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);

    let token = token(&auth, "bob", BOB).await;
    let change =
        json!({"current_password": "wrong password!", "new_password": "a brand new passphrase"});
    let answer = send(&app, with_token(post_json("/password", &change), &token)).await;
    assert_eq!(answer.code(), "invalid_credentials");
}

#[actix_web::test]
async fn jwks_and_key_rotation() {
    let auth = seeded(fast()).await;
    let app = service(auth.clone()).await;

    let answer = send(&app, TestRequest::get().uri("/.well-known/jwks.json")).await;
    assert_eq!(answer.status, StatusCode::OK);
    let before = answer.body["keys"].as_array().unwrap().len();

    let bob = token(&auth, "bob", BOB).await;
    let answer = send(
        &app,
        with_token(TestRequest::post().uri("/admin/rotate-keys"), &bob),
    )
    .await;
    assert_eq!(answer.code(), "insufficient_scope");
    let alice = token(&auth, "alice", ALICE).await;
    let answer = send(
        &app,
        with_token(TestRequest::post().uri("/admin/rotate-keys"), &alice),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    let kid = answer.body["kid"].as_str().unwrap().to_owned();

    let answer = send(&app, TestRequest::get().uri("/.well-known/jwks.json")).await;
    let keys = answer.body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), before + 1);
    assert!(keys.iter().any(|k| k["kid"] == kid.as_str()));
    // The old key's tokens stay valid.
    let answer = send(&app, with_token(TestRequest::get().uri("/any"), &alice)).await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[actix_web::test]
async fn handler_errors_are_rendered_with_the_middleware_settings() {
    let auth = seeded(fast().realm("shop")).await;
    let app = service(auth).await;

    let answer = send(&app, TestRequest::get().uri("/refuse/auth")).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.header(header::WWW_AUTHENTICATE),
        Some(r#"Bearer realm="shop""#)
    );
    let answer = send(&app, TestRequest::get().uri("/any")).await;
    assert_eq!(
        answer.header(header::WWW_AUTHENTICATE),
        Some(r#"Bearer realm="shop""#)
    );

    let answer = send(&app, TestRequest::get().uri("/refuse/outage")).await;
    assert_eq!(
        (answer.status.as_u16(), answer.code()),
        (503, "store_unavailable")
    );
    assert_eq!(answer.header(header::RETRY_AFTER), Some("1"));
}

#[actix_web::test]
async fn the_error_body_hook_shapes_every_auth_error() {
    fn problem(error: &AuthError) -> Value {
        json!({"type": error.code(), "status": error.status()})
    }
    let auth = seeded(fast()).await;
    let app = test::init_service(app!().wrap(AuthMiddleware::new(auth).error_body(problem))).await;

    let answer = send(&app, TestRequest::get().uri("/any")).await;
    assert_eq!(
        answer.body,
        json!({"type": "unauthenticated", "status": 401})
    );
    assert_eq!(answer.header(header::WWW_AUTHENTICATE), Some(CHALLENGE));
    let answer = send(&app, TestRequest::get().uri("/refuse/auth")).await;
    assert_eq!(
        answer.body,
        json!({"type": "unauthenticated", "status": 401})
    );
    let answer = send(
        &app,
        post_json("/token", &json!({"username": "x", "password": "y"})),
    )
    .await;
    assert_eq!(
        answer.body,
        json!({"type": "invalid_credentials", "status": 401})
    );
    let answer = send(&app, TestRequest::post().uri("/token")).await;
    assert_eq!(
        answer.body,
        json!({"type": "unsupported_media_type", "status": 415})
    );
    let answer = send(&app, TestRequest::post().uri("/echo")).await;
    assert_eq!(
        answer.body,
        json!({"type": "unsupported_media_type", "status": 415})
    );
}

#[actix_web::test]
async fn extractors_without_the_middleware_are_an_opaque_500() {
    let app = test::init_service(app!()).await;

    for path in [
        "/any",
        "/maybe",
        "/handle",
        "/session/me",
        "/.well-known/jwks.json",
    ] {
        let answer = send(&app, TestRequest::get().uri(path)).await;
        assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        assert_eq!(
            answer.body,
            json!({"error": "internal_error", "error_description": "internal error"})
        );
    }
}

#[actix_web::test]
async fn a_known_path_with_another_method_is_405() {
    let app = service(seeded(fast()).await).await;

    let answer = send(&app, TestRequest::get().uri("/session/login")).await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.header(header::ALLOW), Some("POST"));
}

#[actix_web::test]
async fn preflights_pass_the_middleware_untouched() {
    let app = service(seeded(fast()).await).await;

    let req = TestRequest::default()
        .method(Method::OPTIONS)
        .uri("/probe")
        .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "POST"))
        .insert_header((header::AUTHORIZATION, "Bearer bad"));
    assert_eq!(send(&app, req).await.body.as_str(), Some("untouched"));
    let req = TestRequest::default().method(Method::OPTIONS).uri("/probe");
    assert_eq!(send(&app, req).await.body.as_str(), Some("authenticated"));

    // The context is there all the same: handlers reach the Auth.
    let req = TestRequest::default()
        .method(Method::OPTIONS)
        .uri("/context")
        .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "POST"));
    assert_eq!(send(&app, req).await.body.as_str(), Some("session"));
}
