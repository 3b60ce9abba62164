//! One core, two stacks: the demos answer alike, and share sessions.

use std::collections::BTreeMap;

use auth_tests::{ALICE, BOB, Demo, Stack, browser, error_code, header, set_cookies};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

/// What a response is compared by: status, the headers that matter (with
/// values that are random per response reduced to their shape) and the
/// JSON body's shape, with exact values for the fields that are stable.
#[derive(Debug, PartialEq)]
struct Shape {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Value,
}

async fn shape(response: reqwest::Response) -> Shape {
    let mut headers = BTreeMap::new();
    for name in [
        "www-authenticate",
        "cache-control",
        "retry-after",
        "content-type",
    ] {
        if let Some(value) = header(&response, name) {
            headers.insert(name.to_owned(), value);
        }
    }
    let cookies: Vec<String> = set_cookies(&response)
        .iter()
        .map(|c| {
            let mut parts = c.split(';').map(str::trim);
            let name = parts.next().unwrap().split('=').next().unwrap().to_owned();
            let mut attributes: Vec<&str> = parts.collect();
            attributes.sort_unstable();
            format!("{name}; {}", attributes.join("; "))
        })
        .collect();
    if !cookies.is_empty() {
        headers.insert("set-cookie".into(), cookies.join(" | "));
    }
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).map_or(Value::Null, |v| stable(&v));
    Shape {
        status,
        headers,
        body,
    }
}

/// Keeps stable values; replaces tokens, IDs and times by their type.
fn stable(value: &Value) -> Value {
    const RANDOM: [&str; 12] = [
        "access_token",
        "refresh_token",
        "csrf_token",
        "jti",
        "exp",
        "id",
        "created_at",
        "last_seen_at",
        "kid",
        "x",
        "y",
        "n",
    ];
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if RANDOM.contains(&k.as_str()) {
                        json!(format!("<{}>", type_name(v)))
                    } else {
                        stable(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        // Rows created in the same instant have no defined order.
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(stable).collect();
            items.sort_by_key(Value::to_string);
            Value::Array(items)
        }
        other => other.clone(),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "string",
        Value::Number(_) => "number",
        _ => "other",
    }
}

/// One request of the script, with what it needs from earlier answers.
struct Step {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    content_type: Option<&'static str>,
    bearer: bool,
    csrf: bool,
}

fn step(method: Method, path: &'static str) -> Step {
    Step {
        method,
        path,
        body: None,
        content_type: None,
        bearer: false,
        csrf: false,
    }
}

impl Step {
    fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self.content_type = Some("application/json");
        self
    }
    fn raw(mut self, content_type: &'static str, body: &str) -> Self {
        self.body = Some(Value::String(body.to_owned()));
        self.content_type = Some(content_type);
        self
    }
    fn bearer(mut self) -> Self {
        self.bearer = true;
        self
    }
    fn csrf(mut self) -> Self {
        self.csrf = true;
        self
    }
}

/// Runs the script against one demo; answers the shape of each answer.
async fn run(demo: &Demo, script: &[Step]) -> Vec<Shape> {
    let client = browser();
    let csrf = demo.login(&client, BOB).await;
    let (access, _) = demo.tokens(BOB).await;
    let mut shapes = Vec::new();
    for s in script {
        let mut request = client.request(s.method.clone(), demo.url(s.path));
        if let Some(content_type) = s.content_type {
            request = request.header("content-type", content_type);
        }
        match &s.body {
            Some(Value::String(raw)) => request = request.body(raw.clone()),
            Some(body) => request = request.body(body.to_string()),
            None => {}
        }
        if s.bearer {
            request = request.bearer_auth(&access);
        }
        if s.csrf {
            request = request.header("x-csrf-token", &csrf);
        }
        shapes.push(shape(request.send().await.unwrap()).await);
    }
    shapes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_demos_answer_alike() {
    let script = vec![
        step(Method::GET, "/healthz"),
        step(Method::GET, "/session/me"),
        step(Method::GET, "/session/csrf"),
        step(Method::GET, "/session/list"),
        step(Method::POST, "/session/logout-all"),
        step(Method::GET, "/api/me"),
        step(Method::GET, "/api/me").bearer(),
        step(Method::GET, "/api/admin").bearer(),
        step(Method::GET, "/whoami"),
        step(Method::GET, "/whoami").bearer(),
        step(Method::POST, "/signup")
            .json(json!({"username": "zed", "password": "long enough pw"})),
        step(Method::POST, "/signup")
            .json(json!({"username": "zed", "password": "long enough pw"})),
        step(Method::POST, "/signup").json(json!({"username": "Z", "password": "long enough pw"})),
        step(Method::POST, "/signup").json(json!({"username": "zoe", "password": "short"})),
        step(Method::POST, "/token").raw("text/plain", "{}"),
        step(Method::POST, "/token").raw("application/json", "{oops"),
        step(Method::POST, "/token").json(json!([1])),
        step(Method::POST, "/token").json(json!({"username": "zed"})),
        step(Method::POST, "/token").json(json!({"username": "zed", "password": "wrong password"})),
        step(Method::POST, "/token").json(json!({"username": "zed", "password": "long enough pw"})),
        step(Method::POST, "/token/refresh").json(json!({"refresh_token": "nope"})),
        step(Method::POST, "/token/revoke").json(json!({"token": "nope"})),
        step(Method::POST, "/token/revoke").json(json!({})),
        step(Method::GET, "/.well-known/jwks.json"),
        step(Method::POST, "/admin/rotate-keys").bearer(),
        step(Method::DELETE, "/session/list/AAAAAAAAAAAAAAAAAAAAAA").csrf(),
        step(Method::POST, "/password")
            .csrf()
            .json(json!({"current_password": "x", "new_password": "y"})),
        step(Method::POST, "/password").csrf().json(
            json!({"current_password": "wrong password", "new_password": "another long one"}),
        ),
        step(Method::GET, "/no/such/route"),
        step(Method::POST, "/session/login").json(json!({"username": "ghost", "password": "p1"})),
        step(Method::POST, "/session/login").json(json!({"username": "ghost", "password": "p2"})),
        step(Method::POST, "/session/login").json(json!({"username": "ghost", "password": "p3"})),
        step(Method::POST, "/session/login").json(json!({"username": "ghost", "password": "p4"})),
        step(Method::POST, "/session/login").json(json!({"username": "ghost", "password": "p5"})),
        step(Method::POST, "/session/login").json(json!({"username": "ghost", "password": "p6"})),
        step(Method::POST, "/session/logout").csrf(),
        step(Method::GET, "/session/me"),
    ];
    let axum = run(&Demo::start(Stack::AXUM).await, &script).await;
    let actix = run(&Demo::start(Stack::ACTIX).await, &script).await;
    for ((a, b), s) in axum.iter().zip(&actix).zip(&script) {
        assert_eq!(
            a, b,
            "{} {} differs between axum (left) and actix (right)",
            s.method, s.path
        );
    }
    assert_eq!(
        axum.last().unwrap().status,
        401,
        "the script ran to its end"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_and_tokens_cross_stacks_on_one_store() {
    let axum = Demo::start(Stack::AXUM).await;
    let actix = Demo::sharing(Stack::ACTIX, &axum).await;

    // A cookie made on one is valid on the other, and so is its CSRF token.
    let client = browser();
    let csrf = axum.login(&client, ALICE).await;
    let cookie = {
        let r = Client::new()
            .post(axum.url("/session/login"))
            .json(&json!({"username": "alice", "password": ALICE.1}))
            .send()
            .await
            .unwrap();
        set_cookies(&r)[0].split(';').next().unwrap().to_owned()
    };
    let on_actix = Client::new()
        .get(actix.url("/session/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(on_actix.status(), StatusCode::OK);

    // A token pair made on actix works on axum; refresh on axum, reuse on
    // actix ends the family everywhere.
    let (access, refresh) = actix.tokens(BOB).await;
    assert_eq!(
        axum.get_bearer("/api/me", &access).await.status(),
        StatusCode::OK
    );
    assert_eq!(axum.refresh(&refresh).await.status(), StatusCode::OK);
    assert_eq!(
        error_code(actix.refresh(&refresh).await, 401).await,
        "invalid_grant"
    );
    assert_eq!(
        error_code(axum.get_bearer("/api/me", &access).await, 401).await,
        "invalid_token"
    );

    // Revocation on one is honoured by the other.
    let (access, _) = axum.tokens(BOB).await;
    let revoked = Client::new()
        .post(actix.url("/token/revoke"))
        .json(&json!({"token": access}))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(
        error_code(axum.get_bearer("/api/me", &access).await, 401).await,
        "invalid_token"
    );

    // Logout on actix ends the session made on axum.
    let logout = client
        .post(actix.url("/session/logout"))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let me = client.get(axum.url("/session/me")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);

    // A password change on axum ends what actix sees.
    let (access, _) = actix.tokens(ALICE).await;
    let changed = Client::new()
        .post(axum.url("/password"))
        .bearer_auth(&access)
        .json(&json!({"current_password": ALICE.1, "new_password": "a brand new password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    let old = Client::new()
        .get(actix.url("/session/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        error_code(actix.get_bearer("/api/me", &access).await, 401).await,
        "invalid_token"
    );
    actix.tokens(("alice", "a brand new password")).await;
}
