//! The two demos as separate processes on one private Redis: a session or a
//! token made on one works on the other, a revocation made on one reaches
//! the other within the staleness bound, and a Redis outage is a 503 from
//! which both recover once Redis is back.
//!
//! Each test starts its own `redis-server` on a free port (never the shared
//! one on 6379) and fails, naming `redis-server`, when it cannot.

use std::collections::BTreeMap;
use std::collections::hash_map::RandomState;
use std::fs::File;
use std::hash::BuildHasher;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

const AXUM: Binary = Binary {
    name: "axum",
    path: env!("CARGO_BIN_EXE_axum-demo"),
};
const ACTIX: Binary = Binary {
    name: "actix",
    path: env!("CARGO_BIN_EXE_actix-demo"),
};

const ALICE: &str = "alice";
const ALICE_PASSWORD: &str = "correct horse battery staple";

/// Every request gives up after this long; a timeout fails the test.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The default staleness bound of the revocation cache is 1 s; the rest is
/// room for scheduling on a busy machine.
const PROPAGATION_BOUND: Duration = Duration::from_millis(1500);

/// How long a poll waits before it gives up, well past the bound, so that a
/// slow propagation is measured and reported rather than cut short.
const POLL_DEADLINE: Duration = Duration::from_secs(5);

#[test]
fn login_on_one_process_works_on_the_other() {
    let dir = TempDir::new("shared");
    let redis = Redis::start(&dir);
    let key = dir.hs256_key();
    let axum = Demo::start(AXUM, &redis, &key, &dir);
    let actix = Demo::start(ACTIX, &redis, &key, &dir);

    // A session cookie made on axum is valid on actix.
    let login = axum.post("/session/login", &[], &alice());
    login.expect(200, "session login on axum");
    let cookie = login.session_cookie();
    let me = actix.get("/session/me", &[cookie.as_str()]);
    me.expect(200, "GET /session/me on actix with axum's cookie");
    assert_eq!(
        me.json(),
        json!({"username": ALICE, "roles": ["admin", "user"]})
    );

    // A token pair made on actix is valid on axum.
    let first = actix.post("/token", &[], &alice());
    first.expect(200, "POST /token on actix");
    let first = first.json();
    let first_access = bearer(&first);
    let me = axum.get("/api/me", &[first_access.as_str()]);
    me.expect(200, "GET /api/me on axum with actix's token");
    assert_eq!(me.json()["sub"], ALICE);

    // Refresh on axum; the new access token works on actix.
    let refreshed = axum.post(
        "/token/refresh",
        &[],
        &json!({"refresh_token": first["refresh_token"]}),
    );
    refreshed.expect(200, "POST /token/refresh on axum");
    let second = refreshed.json();
    let second_access = bearer(&second);
    actix
        .get("/api/me", &[second_access.as_str()])
        .expect(200, "GET /api/me on actix with axum's refreshed token");

    // The spent refresh token presented on actix is reuse: the family ends.
    let reuse = actix.post(
        "/token/refresh",
        &[],
        &json!({"refresh_token": first["refresh_token"]}),
    );
    let at = Instant::now();
    reuse.expect(401, "the spent refresh token on actix");
    assert_eq!(reuse.json()["error"], "invalid_grant", "{reuse}");

    // At once on actix, which ended the family; within the bound on axum.
    for access in [&first_access, &second_access] {
        let me = actix.get("/api/me", &[access.as_str()]);
        me.expect_invalid_token("an access token of the ended family on actix");
        let took = wait_for_rejection(&axum, access, at);
        report_propagation(took, "actix → axum, refresh reuse");
    }
    let newest = axum.post(
        "/token/refresh",
        &[],
        &json!({"refresh_token": second["refresh_token"]}),
    );
    newest.expect(401, "the newest refresh token of the ended family on axum");
    assert_eq!(newest.json()["error"], "invalid_grant", "{newest}");

    // A logout on actix ends the session axum has been serving (and may
    // keep in memory): at once on actix, within the bound on axum.
    axum.get("/session/me", &[cookie.as_str()])
        .expect(200, "the session is live on axum");
    let csrf = login.json()["csrf_token"].as_str().unwrap().to_owned();
    let csrf = format!("X-CSRF-Token: {csrf}");
    let at = Instant::now();
    actix
        .post(
            "/session/logout",
            &[cookie.as_str(), csrf.as_str()],
            &json!({}),
        )
        .expect(204, "logout on actix");
    actix
        .get("/session/me", &[cookie.as_str()])
        .expect(401, "the ended session on actix");
    wait_until("axum to refuse the ended session", || {
        match axum.get("/session/me", &[cookie.as_str()]).status {
            200 => false,
            401 => true,
            other => panic!("GET /session/me on axum after the logout: {other}"),
        }
    });
    let took = at.elapsed();
    eprintln!(
        "logout propagated in {} ms (actix → axum)",
        took.as_millis()
    );
    assert!(took <= PROPAGATION_BOUND, "the logout took {took:?}");
}

#[test]
fn revocation_propagates_between_processes_within_the_bound() {
    let dir = TempDir::new("revocation");
    let redis = Redis::start(&dir);
    let key = dir.hs256_key();
    let axum = Demo::start(AXUM, &redis, &key, &dir);
    let actix = Demo::start(ACTIX, &redis, &key, &dir);

    for (from, to) in [(&axum, &actix), (&actix, &axum)] {
        // One access token, revoked where it was issued.
        let access = bearer(&from.token_pair(&alice()));
        to.get("/api/me", &[access.as_str()])
            .expect(200, "the token before its revocation");

        let revoked = from.post("/token/revoke", &[], &json!({"token": raw(&access)}));
        let at = Instant::now();
        revoked.expect(200, "POST /token/revoke");
        assert_eq!(revoked.json(), json!({}));
        from.get("/api/me", &[access.as_str()])
            .expect_invalid_token("a revoked token where it was revoked");
        let took = wait_for_rejection(to, &access, at);
        report_propagation(took, &format!("{} → {}, revoke", from.name, to.name));

        // Every token of one user, ended by revoke-all. Each direction has
        // its own user, so that no earlier "not before" time is in play.
        let user = json!({
            "username": format!("revoke-all-{}", from.name),
            "password": "a long enough password",
        });
        from.post("/signup", &[], &user).expect(201, "POST /signup");
        let caller = bearer(&from.token_pair(&user));
        let other = bearer(&to.token_pair(&user));
        for token in [&caller, &other] {
            to.get("/api/me", &[token.as_str()])
                .expect(200, "a token before revoke-all");
        }

        let ended = from.post("/token/revoke-all", &[caller.as_str()], &json!({}));
        let at = Instant::now();
        ended.expect(204, "POST /token/revoke-all");
        for token in [&caller, &other] {
            from.get("/api/me", &[token.as_str()])
                .expect_invalid_token("a token after revoke-all where it was called");
        }
        for token in [&caller, &other] {
            let took = wait_for_rejection(to, token, at);
            report_propagation(took, &format!("{} → {}, revoke-all", from.name, to.name));
        }
    }
}

#[test]
fn a_redis_outage_is_503_then_service_resumes() {
    let dir = TempDir::new("outage");
    let mut redis = Redis::start(&dir);
    let key = dir.hs256_key();
    let axum = Demo::start(AXUM, &redis, &key, &dir);
    let actix = Demo::start(ACTIX, &redis, &key, &dir);
    let demos = [&axum, &actix];

    let mut cookies = Vec::new();
    let mut tokens = Vec::new();
    for demo in demos {
        let login = demo.post("/session/login", &[], &alice());
        login.expect(200, "session login before the outage");
        cookies.push(login.session_cookie());
        tokens.push(bearer(&demo.token_pair(&alice())));
    }

    let load = Load {
        addrs: demos.map(|d| (d.name, d.addr.clone())),
        cookies: cookies.clone(),
        tokens,
        done: AtomicUsize::new(0),
        tally: Mutex::default(),
        failures: Mutex::default(),
    };
    let load = Arc::new(load);
    let workers: Vec<_> = (0..THREADS)
        .map(|thread| {
            let load = Arc::clone(&load);
            thread::spawn(move || load.run(thread))
        })
        .collect();

    // Midway through the load, Redis goes away.
    let halfway = Instant::now();
    while load.done.load(Ordering::SeqCst) < THREADS * REQUESTS_PER_THREAD / 2 {
        assert!(
            halfway.elapsed() < Duration::from_secs(120),
            "the load made no progress: {} requests",
            load.done.load(Ordering::SeqCst)
        );
        thread::sleep(Duration::from_millis(1));
    }
    let done_at_kill = load.done.load(Ordering::SeqCst);
    redis.kill();
    for worker in workers {
        worker.join().expect("a load thread panicked");
    }

    let failures = load.failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} answers broke the contract (Redis killed after {done_at_kill}):\n{}",
        failures.len(),
        THREADS * REQUESTS_PER_THREAD,
        failures.join("\n")
    );
    let tally = load.tally.lock().unwrap();
    eprintln!("answers during the outage load: {tally:?}");
    for demo in demos {
        for (route, status) in [
            ("/session/me", 200),
            ("/session/me", 503),
            ("/healthz", 200),
            ("/healthz", 503),
        ] {
            assert!(
                tally.contains_key(&(demo.name, route, status)),
                "no {status} from {route} on {}: {tally:?}",
                demo.name
            );
        }
    }

    // Redis comes back, empty, on the same port: both demos recover.
    redis.restart(&dir);
    for demo in demos {
        wait_until("/healthz answers 200 after the restart", || {
            let health = demo.get("/healthz", &[]);
            match health.status {
                200 => {
                    assert_eq!(health.json(), json!({"status": "ok", "store": "ok"}));
                    true
                }
                503 => false,
                _ => panic!("GET /healthz on {} after the restart: {health}", demo.name),
            }
        });
    }

    // The sessions were in Redis and are gone, seeded users too: a new
    // account logs in on either demo.
    for (demo, cookie) in demos.iter().zip(&cookies) {
        let stale = demo.get("/session/me", &[cookie.as_str()]);
        stale.expect(401, "a cookie whose session Redis lost");
        assert_eq!(stale.json()["error"], "unauthenticated", "{stale}");
    }
    let user = json!({"username": "after-restart", "password": "a long enough password"});
    axum.post("/signup", &[], &user)
        .expect(201, "POST /signup after the restart");
    for (demo, other) in [(&axum, &actix), (&actix, &axum)] {
        let login = demo.post("/session/login", &[], &user);
        login.expect(200, "session login after the restart");
        let cookie = login.session_cookie();
        for target in [demo, other] {
            let me = target.get("/session/me", &[cookie.as_str()]);
            me.expect(200, "GET /session/me after the restart");
            assert_eq!(
                me.json(),
                json!({"username": "after-restart", "roles": ["user"]})
            );
        }
    }

    // Revocations flow again: the caches start over on the emptied log.
    let access = bearer(&axum.token_pair(&user));
    actix
        .get("/api/me", &[access.as_str()])
        .expect(200, "a token made after the restart");
    let revoked = axum.post("/token/revoke", &[], &json!({"token": raw(&access)}));
    let at = Instant::now();
    revoked.expect(200, "POST /token/revoke after the restart");
    let took = wait_for_rejection(&actix, &access, at);
    report_propagation(took, "axum → actix, revoke after a Redis restart");
}

const THREADS: usize = 4;
const REQUESTS_PER_THREAD: usize = 300;

/// The outage load: each thread cycles over both demos and three routes.
struct Load {
    addrs: [(&'static str, String); 2],
    cookies: Vec<String>,
    tokens: Vec<String>,
    done: AtomicUsize,
    /// How often each `(demo, route, status)` answered.
    tally: Mutex<BTreeMap<(&'static str, &'static str, u16), usize>>,
    failures: Mutex<Vec<String>>,
}

impl Load {
    fn run(&self, thread: usize) {
        for i in 0..REQUESTS_PER_THREAD {
            let demo = (thread + i) % 2;
            let (name, addr) = &self.addrs[demo];
            let (route, credential) = match (i / 2) % 3 {
                0 => ("/session/me", Some(self.cookies[demo].clone())),
                1 => ("/healthz", None),
                _ => ("/api/me", Some(self.tokens[demo].clone())),
            };
            let headers: Vec<&str> = credential.iter().map(String::as_str).collect();
            let verdict = call(addr, "GET", route, &headers, None)
                .map_err(|e| format!("no answer: {e}"))
                .and_then(|reply| judge(route, &reply).map(|()| reply.status));
            match verdict {
                Ok(status) => {
                    let mut tally = self.tally.lock().unwrap();
                    *tally.entry((*name, route, status)).or_default() += 1;
                }
                Err(why) => {
                    let mut failures = self.failures.lock().unwrap();
                    failures.push(format!("GET {route} on {name}: {why}"));
                }
            }
            self.done.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Whether `reply` is an answer the contract allows for `route` with a
/// valid credential while Redis may be down: the right 200, or the 503.
fn judge(route: &str, reply: &Reply) -> Result<(), String> {
    let body = reply.json_or_null();
    let fine = match (route, reply.status) {
        ("/session/me", 200) => body == json!({"username": ALICE, "roles": ["admin", "user"]}),
        ("/api/me", 200) => body["sub"] == ALICE,
        ("/healthz", 200) => body == json!({"status": "ok", "store": "ok"}),
        ("/healthz", 503) => body == json!({"status": "degraded", "store": "unavailable"}),
        (_, 503) => {
            let retry = reply.header("retry-after");
            body["error"] == "store_unavailable"
                && body["error_description"].is_string()
                && retry.is_some_and(|r| r.parse::<u64>().is_ok())
        }
        _ => false,
    };
    if fine { Ok(()) } else { Err(reply.to_string()) }
}

/// Polls `GET /api/me` on `demo` with `access` until it is rejected as
/// `invalid_token`, and answers how long after `since` that was.
fn wait_for_rejection(demo: &Demo, access: &str, since: Instant) -> Duration {
    wait_until("a revoked token to be rejected", || {
        let me = demo.get("/api/me", &[access]);
        match me.status {
            200 => false,
            401 => {
                me.expect_invalid_token("a revoked token");
                true
            }
            _ => panic!(
                "GET /api/me on {} while waiting for a revocation: {me}",
                demo.name
            ),
        }
    });
    since.elapsed()
}

/// Prints the propagation time for the report and checks it against the
/// staleness bound.
fn report_propagation(took: Duration, what: &str) {
    eprintln!("revocation propagated in {} ms ({what})", took.as_millis());
    assert!(
        took <= PROPAGATION_BOUND,
        "{what}: the revocation took {took:?}, past the bound of {PROPAGATION_BOUND:?}"
    );
}

/// Polls `done` until it answers true; panics after [`POLL_DEADLINE`].
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    loop {
        if done() {
            return;
        }
        assert!(
            start.elapsed() < POLL_DEADLINE,
            "{what}: not within {POLL_DEADLINE:?}"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

fn alice() -> Value {
    json!({"username": ALICE, "password": ALICE_PASSWORD})
}

/// The `Authorization` header line for the access token of `pair`.
fn bearer(pair: &Value) -> String {
    let token = pair["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access_token in {pair}"));
    format!("Authorization: Bearer {token}")
}

/// The token of an `Authorization` header line.
fn raw(bearer: &str) -> &str {
    bearer
        .strip_prefix("Authorization: Bearer ")
        .expect("a bearer header line")
}

/// A demo binary.
#[derive(Clone, Copy)]
struct Binary {
    name: &'static str,
    path: &'static str,
}

/// A demo process on a private Redis, killed on drop.
struct Demo {
    name: &'static str,
    addr: String,
    child: Child,
    // Kept open: the demo must not find its stdout closed.
    _stdout: BufReader<ChildStdout>,
}

impl Demo {
    fn start(binary: Binary, redis: &Redis, key: &Path, dir: &TempDir) -> Self {
        let log = dir.path.join(format!("{}-demo.log", binary.name));
        let child = Command::new(binary.path)
            .env("DEMO_ADDR", "127.0.0.1:0")
            .env("STORE_URL", redis.url())
            .env("JWT_ALG", "HS256")
            .env("JWT_KEY_FILE", key)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.path));
        let mut guard = Killed(Some(child));
        let stdout = guard.child().stdout.take().unwrap();

        // The first line, read on a thread so that a demo that never
        // prints fails the test instead of hanging it.
        let (sender, first) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = sender.send((line, reader));
        });
        let Ok((line, stdout)) = first.recv_timeout(Duration::from_secs(30)) else {
            panic!("the {} demo printed nothing: {}", binary.name, read(&log));
        };
        let Some(addr) = line.trim().strip_prefix("listening on http://") else {
            panic!(
                "the {} demo did not start: {line:?} {}",
                binary.name,
                read(&log)
            );
        };
        let addr = addr.to_owned();
        let child = guard.disarm();
        Self {
            name: binary.name,
            addr,
            child,
            _stdout: stdout,
        }
    }

    fn get(&self, path: &str, headers: &[&str]) -> Reply {
        self.must("GET", path, headers, None)
    }

    fn post(&self, path: &str, headers: &[&str], body: &Value) -> Reply {
        self.must("POST", path, headers, Some(body))
    }

    fn must(&self, method: &str, path: &str, headers: &[&str], body: Option<&Value>) -> Reply {
        call(&self.addr, method, path, headers, body)
            .unwrap_or_else(|e| panic!("{method} {path} on {}: {e}", self.name))
    }

    /// A token pair from `POST /token` for `credentials`.
    fn token_pair(&self, credentials: &Value) -> Value {
        let pair = self.post("/token", &[], credentials);
        pair.expect(200, "POST /token");
        pair.json()
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A private `redis-server` that keeps nothing on disk, killed on drop.
struct Redis {
    port: u16,
    child: Option<Child>,
}

impl Redis {
    fn start(dir: &TempDir) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut redis = Self { port, child: None };
        redis.restart(dir);
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Kills the server at once, as a crash would.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server on its port (again) and waits until it answers.
    fn restart(&mut self, dir: &TempDir) {
        self.kill();
        let port = self.port.to_string();
        let log = dir.path.join(format!("redis-{port}.log"));
        let output = File::create(&log).unwrap();
        let child = Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start redis-server (is it installed?): {e}"));
        let mut guard = Killed(Some(child));

        let start = Instant::now();
        while !pong(self.port) {
            if let Ok(Some(status)) = guard.child().try_wait() {
                panic!(
                    "redis-server on port {port} exited with {status}: {}",
                    read(&log)
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "redis-server on port {port} does not answer PING: {}",
                read(&log)
            );
            thread::sleep(Duration::from_millis(10));
        }
        self.child = Some(guard.disarm());
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether a Redis answers `PING` on `port`.
fn pong(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut answer = [0; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && &answer == b"+PONG\r\n"
}

/// A child killed on drop until it is handed on, so that a start that
/// fails leaves no process behind.
struct Killed(Option<Child>);

impl Killed {
    fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("not handed on yet")
    }

    fn disarm(mut self) -> Child {
        self.0.take().expect("handed on once")
    }
}

impl Drop for Killed {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A directory of its own for one test: logs and the key file.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new(test: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!("redis-processes-{}-{test}-{nanos}", std::process::id());
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path).unwrap();
        Self { path }
    }

    /// Writes a fresh HS256 secret of 64 hex characters and answers its
    /// path.
    fn hs256_key(&self) -> PathBuf {
        let secret: String = (0..4)
            .map(|i| format!("{:016x}", RandomState::new().hash_one(i)))
            .collect();
        let path = self.path.join("hs256.key");
        std::fs::write(&path, secret).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn read(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

/// One HTTP/1.1 answer.
struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers(name).next()
    }

    fn headers<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> {
        self.head.lines().skip(1).filter_map(move |line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {self}"))
    }

    fn json_or_null(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    fn expect(&self, status: u16, what: &str) {
        assert_eq!(self.status, status, "{what}: {self}");
    }

    fn expect_invalid_token(&self, what: &str) {
        self.expect(401, what);
        assert_eq!(self.json()["error"], "invalid_token", "{what}: {self}");
        let challenge = self.header("www-authenticate").unwrap_or_default();
        assert!(
            challenge.contains(r#"error="invalid_token""#),
            "{what}: {self}"
        );
    }

    /// The `session=...` pair of the session cookie, as a `Cookie` header.
    fn session_cookie(&self) -> String {
        let pair = self
            .headers("set-cookie")
            .filter_map(|c| c.split(';').next())
            .find(|pair| pair.trim_start().starts_with("session="))
            .unwrap_or_else(|| panic!("no session cookie: {self}"));
        format!("Cookie: {}", pair.trim())
    }
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\n\n{}", self.head, self.body)
    }
}

/// Sends one request on a connection of its own, bounded by
/// [`REQUEST_TIMEOUT`] at every step.
fn call(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[&str],
    body: Option<&Value>,
) -> Result<Reply, String> {
    let socket: SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    let mut stream = TcpStream::connect_timeout(&socket, REQUEST_TIMEOUT)
        .map_err(|e| format!("cannot connect: {e}"))?;
    stream.set_read_timeout(Some(REQUEST_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(REQUEST_TIMEOUT)).unwrap();

    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for header in headers {
        request.push_str(header);
        request.push_str("\r\n");
    }
    let body = body.map(Value::to_string).unwrap_or_default();
    if method != "GET" {
        request.push_str("Content-Type: application/json\r\n");
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("cannot send: {e}"))?;

    let started = Instant::now();
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("no full answer after {:?}: {e}", started.elapsed()))?;
    parse(&raw)
}

fn parse(raw: &[u8]) -> Result<Reply, String> {
    let text = String::from_utf8_lossy(raw);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return Err(format!("not an HTTP answer: {text:?}"));
    };
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status line: {head:?}"))?;
    let mut reply = Reply {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    };
    let chunked = reply
        .header("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"));
    if chunked {
        reply.body = dechunk(body)?;
    }
    Ok(reply)
}

fn dechunk(mut body: &str) -> Result<String, String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body
            .split_once("\r\n")
            .ok_or_else(|| format!("bad chunk: {body:?}"))?;
        let size = usize::from_str_radix(size.trim(), 16).map_err(|e| format!("{size:?}: {e}"))?;
        if size == 0 {
            return Ok(out);
        }
        let chunk = rest
            .get(..size)
            .ok_or_else(|| format!("short chunk: {rest:?}"))?;
        out.push_str(chunk);
        body = rest[size..].trim_start_matches("\r\n");
    }
}
