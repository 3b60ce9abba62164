//! What the tests share: connecting to the test Redis, and private
//! `redis-server` processes (standalone or a 3-node cluster) that are
//! killed when their guard drops, even when a test fails.

#![allow(dead_code, unreachable_pub)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use auth_core::Handle;
use auth_store_redis::RedisStore;
use deadpool_redis::redis;

/// The Redis the tests use: `REDIS_URL`, or the local default.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A prefix no other test or run uses.
pub fn random_prefix() -> String {
    format!("auth-test:{}:", Handle::generate())
}

/// A store on the test Redis under a new random prefix.
///
/// # Panics
///
/// Panics, naming Redis and `REDIS_URL`, if Redis does not answer.
pub async fn connect(prefix: &str) -> RedisStore {
    let url = redis_url();
    RedisStore::builder(url.as_str())
        .prefix(prefix)
        .connect()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "Redis did not answer at {url} (set REDIS_URL to a running Redis, \
                 or start one on 127.0.0.1:6379): {e}"
            )
        })
}

/// Deletes every key under `prefix` on the test Redis (never anything
/// else: the Redis is shared).
pub async fn remove_keys(prefix: &str) {
    let client = redis::Client::open(redis_url()).expect("REDIS_URL parses");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers");
    let pattern = format!("{prefix}*");
    let mut cursor = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(500)
            .query_async(&mut conn)
            .await
            .expect("SCAN");
        for key in keys {
            assert!(key.starts_with(prefix));
            let _: () = redis::cmd("DEL")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .expect("DEL");
        }
        if next == 0 {
            break;
        }
        cursor = next;
    }
}

/// A `redis-server` of this test alone, killed when dropped.
pub struct RedisServer {
    pub port: u16,
    dir: PathBuf,
    extra: Vec<String>,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a standalone server without persistence on a free port.
    pub fn start() -> Self {
        Self::start_with(free_port(false), &[])
    }

    /// Starts a server on `port` with `extra` arguments, and waits until it
    /// accepts connections.
    pub fn start_with(port: u16, extra: &[&str]) -> Self {
        let dir =
            std::env::temp_dir().join(format!("auth-store-redis-{port}-{}", Handle::generate()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let mut server = Self {
            port,
            dir,
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
            child: None,
        };
        server.launch();
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL) and waits for it to end.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }

    /// Stops (SIGSTOP) or resumes (SIGCONT) the server process, to make it
    /// hang without closing its connections.
    pub fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("the server runs");
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .expect("`kill` runs");
        assert!(status.success(), "kill -{signal} failed");
    }

    fn launch(&mut self) {
        let port = self.port.to_string();
        let mut args = vec![
            "--port",
            &port,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--logfile",
            "redis.log",
        ];
        args.extend(self.extra.iter().map(String::as_str));
        let child = Command::new("redis-server")
            .args(&args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "could not start `redis-server` ({e}): these tests need the Redis server \
                     binary on PATH (Debian: apt-get install redis-server)"
                )
            });
        self.child = Some(child);

        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen on port {} within 10 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Three cluster-enabled masters joined into one cluster, all killed when
/// dropped.
pub struct RedisCluster {
    pub nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts three nodes on free ports and creates the cluster with
    /// `redis-cli --cluster create`, then waits until every node reports
    /// `cluster_state:ok`.
    pub fn start() -> Self {
        let mut nodes = Vec::new();
        for _ in 0..3 {
            let port = free_port(true);
            nodes.push(RedisServer::start_with(
                port,
                &[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    "5000",
                ],
            ));
        }
        let cluster = Self { nodes };

        let addrs: Vec<String> = cluster
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let output = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addrs)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| {
                panic!("could not run `redis-cli` ({e}): the cluster test needs it on PATH")
            });
        assert!(
            output.status.success(),
            "redis-cli --cluster create failed: {}",
            String::from_utf8_lossy(&output.stdout)
        );

        let deadline = Instant::now() + Duration::from_secs(20);
        for node in &cluster.nodes {
            loop {
                let info = Command::new("redis-cli")
                    .args(["-p", &node.port.to_string(), "cluster", "info"])
                    .output()
                    .expect("redis-cli runs");
                if String::from_utf8_lossy(&info.stdout).contains("cluster_state:ok") {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "the test cluster did not reach cluster_state:ok within 20 s"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        cluster
    }

    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }
}

/// A port nobody listens on (and, for a cluster node, whose bus port,
/// 10000 higher, is free too).
pub fn free_port(with_bus: bool) -> u16 {
    for _ in 0..100 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        let port = listener.local_addr().expect("local address").port();
        drop(listener);
        if !with_bus {
            return port;
        }
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
    panic!("found no free port for a test redis-server");
}

/// A new cookie session of `user`, begun now: idle 1 hour, absolute 8.
pub fn session(user: &str) -> auth_core::store::SessionRecord {
    use auth_core::clock::{from_unix_millis, unix_millis};
    use auth_core::store::{SessionKind, SessionRecord};

    let now = from_unix_millis(unix_millis(std::time::SystemTime::now()));
    let hour = Duration::from_secs(3600);
    SessionRecord {
        handle: Handle::generate(),
        user: user.to_owned(),
        roles: vec!["user".to_owned()],
        kind: SessionKind::Cookie,
        version: 0,
        secret: auth_core::SecretHash::from_bytes([7; 32]),
        previous: None,
        spent: Vec::new(),
        rotated_at: now,
        created_at: now,
        last_seen_at: now,
        idle_timeout: hour,
        absolute_deadline: now + 8 * hour,
    }
}
