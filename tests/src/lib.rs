//! The harness of the cross-crate HTTP suite: starts a demo server of
//! either stack in this process, on a free port, with a manual clock, and
//! drives it with a real HTTP client.
//!
//! Every scenario is an `async fn(Stack)`; [`for_each_stack!`] runs it
//! against the axum demo and the actix-web demo alike.

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

use auth_core::{Auth, ManualClock};
use examples::config::DemoConfig;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

/// A web stack with a demo server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Web {
    /// `examples::axum_app` through `auth-tower`.
    Axum,
    /// `examples::actix_app` through `auth-actix`.
    Actix,
}

/// Where a demo keeps its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A memory store of its own.
    Memory,
    /// The Redis at `REDIS_URL`, under a key prefix of its own.
    Redis,
}

/// A demo server's web stack and store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stack {
    /// The web stack.
    pub web: Web,
    /// The store.
    pub backend: Backend,
}

impl Stack {
    /// axum on a memory store.
    pub const AXUM: Self = Self {
        web: Web::Axum,
        backend: Backend::Memory,
    };
    /// actix-web on a memory store.
    pub const ACTIX: Self = Self {
        web: Web::Actix,
        backend: Backend::Memory,
    };
}

/// Runs each named `async fn(Stack)` as a test on both web stacks, each on
/// the memory store and on Redis.
#[macro_export]
macro_rules! for_each_stack {
    ($($name:ident),* $(,)?) => {
        $crate::for_each_stack!(@module axum_memory, Axum, Memory, $($name),*);
        $crate::for_each_stack!(@module actix_memory, Actix, Memory, $($name),*);
        $crate::for_each_stack!(@module axum_redis, Axum, Redis, $($name),*);
        $crate::for_each_stack!(@module actix_redis, Actix, Redis, $($name),*);
    };
    (@module $module:ident, $web:ident, $backend:ident, $($name:ident),*) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let stack = $crate::Stack {
                        web: $crate::Web::$web,
                        backend: $crate::Backend::$backend,
                    };
                    super::$name(stack).await;
                }
            )*
        }
    };
}

/// The Redis the tests use: `REDIS_URL`, by default the local one.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A Redis store under a fresh random prefix, and the prefix; panics,
/// naming Redis, when it does not answer.
pub async fn redis_store() -> (auth_store_redis::RedisStore, String) {
    let url = redis_url();
    let unique = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let prefix = format!("auth-tests-{unique}:");
    let store = auth_store_redis::RedisStore::builder(url.as_str())
        .prefix(prefix.clone())
        .connect()
        .await
        .unwrap_or_else(|e| panic!("Redis at REDIS_URL={url} does not answer: {e}"));
    (store, prefix)
}

/// Deletes every key under `prefix` (and nothing else: the Redis is
/// shared). Users never expire, so a test that made some removes them.
fn remove_redis_keys(prefix: &str) {
    use deadpool_redis::redis;

    let Ok(mut conn) = redis::Client::open(redis_url()).and_then(|c| c.get_connection()) else {
        return;
    };
    let pattern = format!("{prefix}*");
    let mut cursor = 0u64;
    loop {
        let Ok((next, keys)) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(500)
            .query::<(u64, Vec<String>)>(&mut conn)
        else {
            return;
        };
        if !keys.is_empty() {
            let _ = redis::cmd("DEL").arg(&keys).query::<()>(&mut conn);
        }
        if next == 0 {
            return;
        }
        cursor = next;
    }
}

/// The seeded admin.
pub const ALICE: (&str, &str) = ("alice", "correct horse battery staple");
/// The seeded user.
pub const BOB: (&str, &str) = ("bob", "hunter2hunter2!");

/// A demo server running in this process.
pub struct Demo {
    /// Which stack serves it.
    pub stack: Stack,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The clock of its `Auth`; advance it to move time.
    pub clock: ManualClock,
    /// Its `Auth`, for checks behind the HTTP surface.
    pub auth: Auth,
    /// The settings it was started with.
    pub config: DemoConfig,
    stop: Stop,
    /// The Redis key prefix this demo owns, removed when it is dropped.
    redis_prefix: Option<String>,
}

enum Stop {
    Axum(tokio::task::JoinHandle<std::io::Result<()>>),
    Actix(actix_web::dev::ServerHandle),
}

impl std::fmt::Debug for Demo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Demo")
            .field("stack", &self.stack)
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        match &self.stop {
            Stop::Axum(task) => task.abort(),
            // Sending the command is enough; nobody waits for the stop.
            // Sending the command is enough; nobody waits for the stop.
            Stop::Actix(handle) => drop(handle.stop(false)),
        }
        if let Some(prefix) = &self.redis_prefix {
            remove_redis_keys(prefix);
        }
    }
}

impl Demo {
    /// Starts a demo of `stack` with the default settings.
    pub async fn start(stack: Stack) -> Self {
        Self::with(stack, &[]).await
    }

    /// Starts a demo of `stack` with these variables set.
    pub async fn with(stack: Stack, vars: &[(&str, &str)]) -> Self {
        let clock = ManualClock::new();
        let auth_clock = clock.clone();
        Self::with_clock(stack, vars, clock, auth_clock).await
    }

    /// Starts a demo sharing `auth` with another one (same store, keys and
    /// clock).
    pub async fn sharing(stack: Stack, other: &Self) -> Self {
        let listener = free_listener();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let stop = serve(stack, other.auth.clone(), &other.config, listener);
        Self {
            stack,
            base,
            clock: other.clock.clone(),
            auth: other.auth.clone(),
            config: other.config.clone(),
            stop,
            redis_prefix: None,
        }
    }

    async fn with_clock(
        stack: Stack,
        vars: &[(&str, &str)],
        clock: ManualClock,
        auth_clock: ManualClock,
    ) -> Self {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let config = DemoConfig::from_vars(|name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
        .expect("valid test configuration");
        let (auth, redis_prefix) = match stack.backend {
            Backend::Memory => (config.build_auth_with(auth_clock).await, None),
            Backend::Redis => {
                let (store, prefix) = redis_store().await;
                (config.build_auth_on(auth_clock, store).await, Some(prefix))
            }
        };
        let auth = auth.expect("the demo's auth builds");
        let listener = free_listener();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let stop = serve(stack, auth.clone(), &config, listener);
        Self {
            stack,
            base,
            clock,
            auth,
            config,
            stop,
            redis_prefix,
        }
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Moves this demo's time forward.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// `POST path` with a JSON body, from `client`.
    pub async fn post(&self, client: &Client, path: &str, body: Value) -> Response {
        client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// `GET path` with a bearer token.
    pub async fn get_bearer(&self, path: &str, token: &str) -> Response {
        Client::new()
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Logs `client` in by session; answers the CSRF token.
    pub async fn login(&self, client: &Client, (user, password): (&str, &str)) -> String {
        let response = self
            .post(
                client,
                "/session/login",
                json!({"username": user, "password": password}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "session login of {user}");
        let body: Value = response.json().await.unwrap();
        body["csrf_token"].as_str().unwrap().to_owned()
    }

    /// Gets a token pair; answers `(access, refresh)`.
    pub async fn tokens(&self, (user, password): (&str, &str)) -> (String, String) {
        let response = self
            .post(
                &Client::new(),
                "/token",
                json!({"username": user, "password": password}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "token login of {user}");
        let body: Value = response.json().await.unwrap();
        (
            body["access_token"].as_str().unwrap().to_owned(),
            body["refresh_token"].as_str().unwrap().to_owned(),
        )
    }

    /// Exchanges a refresh token; answers the response.
    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post(
            &Client::new(),
            "/token/refresh",
            json!({"refresh_token": refresh_token}),
        )
        .await
    }
}

fn serve(stack: Stack, auth: Auth, config: &DemoConfig, listener: TcpListener) -> Stop {
    match stack.web {
        Web::Axum => Stop::Axum(
            examples::axum_app::spawn(auth, config, listener).expect("the axum demo starts"),
        ),
        Web::Actix => Stop::Actix(
            examples::actix_app::spawn(auth, config, listener).expect("the actix demo starts"),
        ),
    }
}

fn free_listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("a free port on loopback")
}

/// A client with a cookie jar, as a browser would be.
pub fn browser() -> Client {
    Client::builder().cookie_store(true).build().unwrap()
}

/// The error code of a JSON error response, after checking its status.
pub async fn error_code(response: Response, status: u16) -> String {
    assert_eq!(response.status().as_u16(), status, "status");
    let body: Value = response.json().await.expect("a JSON error body");
    assert!(
        body["error_description"].is_string(),
        "error bodies carry a description: {body}"
    );
    body["error"].as_str().expect("an error code").to_owned()
}

/// A header's value as text.
pub fn header(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

/// Every `Set-Cookie` header.
pub fn set_cookies(response: &Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// A file in the temporary folder holding `contents`, unique to this call.
pub fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let unique: u64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let path = std::env::temp_dir().join(format!("auth-tests-{unique}-{name}"));
    std::fs::write(&path, contents).unwrap();
    path
}
