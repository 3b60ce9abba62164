//! [`RedisStore`], its builder and the plumbing its operations share.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use auth_core::StoreError;
use auth_core::store::RevocationSignal;
use deadpool_redis::redis::{self, IntoConnectionInfo, RedisError};
use tokio::sync::watch;

use crate::conn::{Connections, Link, Settings};
use crate::keys::Keys;
use crate::signal::Subscriber;

/// The prefix used when none is set.
pub const DEFAULT_PREFIX: &str = "auth:";

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);
const DEFAULT_CONNECTIONS: usize = 2;

/// Every store trait of `auth-core`, kept in Redis or Redis Cluster.
///
/// Build one with [`RedisStore::connect`] or [`RedisStore::builder`]; the
/// [crate docs](crate) describe the key layout and the guarantees. Clones
/// share the connections and the revocation subscription; the subscription
/// ends when the last clone drops.
#[derive(Clone)]
pub struct RedisStore {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) conns: Connections,
    pub(crate) keys: Keys,
    cluster: bool,
    nodes: Vec<String>,
    subscriber: Option<Subscriber>,
}

impl RedisStore {
    /// Connects to the standalone Redis at `url` with every default, and
    /// checks it with a `PING`.
    ///
    /// `url` is a `redis://[user:password@]host[:port][/db]` URL (or
    /// `redis+unix://`). TLS (`rediss://`) needs a TLS feature of
    /// `deadpool-redis` that this crate does not turn on.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] if Redis does not answer within the
    /// connect and command timeouts, [`StoreError::Backend`] if the URL is
    /// malformed or Redis refuses the connection (a wrong password).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::builder(url).connect().await
    }

    /// A builder for a store at `urls`: one URL for a standalone Redis, or
    /// one or more seed nodes after [`cluster`](RedisStoreBuilder::cluster).
    pub fn builder(urls: impl NodeUrls) -> RedisStoreBuilder {
        RedisStoreBuilder {
            urls: urls.into_urls(),
            cluster: false,
            prefix: DEFAULT_PREFIX.to_owned(),
            connect_timeout: DEFAULT_TIMEOUT,
            command_timeout: DEFAULT_TIMEOUT,
            connections: DEFAULT_CONNECTIONS,
            revocation_signal: true,
        }
    }

    /// The prefix every key of this store starts with.
    pub fn prefix(&self) -> &str {
        self.inner.keys.prefix()
    }

    /// Whether this store talks to a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        self.inner.cluster
    }

    pub(crate) fn keys(&self) -> &Keys {
        &self.inner.keys
    }

    /// Runs one operation; see [`Connections::run`].
    pub(crate) async fn run<T, F, Fut>(&self, op: F) -> Result<T, StoreError>
    where
        F: FnOnce(Link) -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        self.inner.conns.run(op).await
    }

    pub(crate) fn signal(&self) -> Option<watch::Receiver<RevocationSignal>> {
        self.inner.subscriber.as_ref().map(Subscriber::receiver)
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("RedisStore")
            .field("nodes", &inner.nodes)
            .field("cluster", &inner.cluster)
            .field("prefix", &inner.keys.prefix())
            .field("connect_timeout", &inner.conns.connect_timeout())
            .field("command_timeout", &inner.conns.command_timeout())
            .field("pool", &inner.conns.status())
            .field("revocation_signal", &inner.subscriber.is_some())
            .finish()
    }
}

/// Settings of a [`RedisStore`], from [`RedisStore::builder`].
///
/// ```rust,no_run
/// # async fn example() -> Result<(), auth_core::StoreError> {
/// use std::time::Duration;
///
/// use auth_store_redis::RedisStore;
///
/// let store = RedisStore::builder(["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"])
///     .cluster()
///     .prefix("myapp:auth:")
///     .timeouts(Duration::from_millis(500), Duration::from_millis(250))
///     .connect()
///     .await?;
/// # Ok(())
/// # }
/// ```
#[must_use = "a builder does nothing until `connect` is called"]
pub struct RedisStoreBuilder {
    urls: Vec<String>,
    cluster: bool,
    prefix: String,
    connect_timeout: Duration,
    command_timeout: Duration,
    connections: usize,
    revocation_signal: bool,
}

impl RedisStoreBuilder {
    /// The text every key starts with, so that several applications can
    /// share one Redis and an ACL can confine this one to `~PREFIX*` and
    /// `&PREFIX*`.
    ///
    /// Defaults to `"auth:"`.
    ///
    /// # Panics
    ///
    /// Panics if `prefix` contains `{` or `}`: the keys' hash tags follow
    /// the prefix, and a brace in it would move every key to one slot.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        assert!(
            !prefix.contains(['{', '}']),
            "a Redis key prefix must not contain `{{` or `}}`"
        );
        self.prefix = prefix;
        self
    }

    /// Talks to a Redis Cluster through the seed nodes given to
    /// [`RedisStore::builder`] (any subset of the cluster's nodes).
    ///
    /// Defaults to a standalone Redis at the first URL.
    pub fn cluster(mut self) -> Self {
        self.cluster = true;
        self
    }

    /// How long connecting may take, and how long one store operation may
    /// wait for Redis's answers; past either, the operation fails with
    /// [`StoreError::Unavailable`].
    ///
    /// Defaults to 1 second each.
    pub fn timeouts(mut self, connect: Duration, command: Duration) -> Self {
        self.connect_timeout = connect;
        self.command_timeout = command;
        self
    }

    /// How many connections the store keeps and sends operations on in
    /// turn. Each is multiplexed, so one already carries many concurrent
    /// operations.
    ///
    /// Defaults to 2; 0 counts as 1.
    pub fn connections(mut self, connections: usize) -> Self {
        self.connections = connections.max(1);
        self
    }

    /// Whether to hold a pub/sub subscription that announces revocations
    /// to [`revocation_signal`](auth_core::store::RevocationStore::revocation_signal).
    /// Without it, readers poll the revocation log once per staleness bound.
    ///
    /// Defaults to on; it costs one more connection.
    pub fn revocation_signal(mut self, enabled: bool) -> Self {
        self.revocation_signal = enabled;
        self
    }

    /// Opens the pool, checks Redis with a `PING` and starts the revocation
    /// subscription.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] if Redis does not answer within the
    /// timeouts; [`StoreError::Backend`] if no URL was given, a URL is
    /// malformed, or Redis refuses the connection.
    pub async fn connect(self) -> Result<RedisStore, StoreError> {
        if self.urls.is_empty() {
            return Err(StoreError::backend("a Redis URL is required"));
        }
        let nodes = self
            .urls
            .iter()
            .map(|url| node_name(url))
            .collect::<Result<Vec<_>, _>>()?;

        let conns = Connections::new(&Settings {
            urls: &self.urls,
            cluster: self.cluster,
            links: self.connections,
            connect_timeout: self.connect_timeout,
            command_timeout: self.command_timeout,
        })?;
        conns
            .run(|mut link| async move { redis::cmd("PING").query_async::<()>(&mut link).await })
            .await?;

        let keys = Keys::new(&self.prefix);
        let subscriber = if self.revocation_signal {
            let channel = keys.revocation_channel();
            Some(
                Subscriber::start(
                    self.urls,
                    channel,
                    self.connect_timeout,
                    self.command_timeout,
                )
                .await,
            )
        } else {
            None
        };

        tracing::debug!(nodes = ?nodes, cluster = self.cluster, "Redis store connected");
        Ok(RedisStore {
            inner: Arc::new(Inner {
                conns,
                keys,
                cluster: self.cluster,
                nodes,
                subscriber,
            }),
        })
    }
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nodes: Vec<_> = self
            .urls
            .iter()
            .map(|url| node_name(url).unwrap_or_else(|_| "<malformed URL>".to_owned()))
            .collect();
        f.debug_struct("RedisStoreBuilder")
            .field("nodes", &nodes)
            .field("cluster", &self.cluster)
            .field("prefix", &self.prefix)
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .field("connections", &self.connections)
            .field("revocation_signal", &self.revocation_signal)
            .finish()
    }
}

/// `host:port` (or the socket path) of a URL: what `Debug` and logs show,
/// never the user name or password.
fn node_name(url: &str) -> Result<String, StoreError> {
    let info = url.into_connection_info().map_err(StoreError::backend)?;
    Ok(info.addr().to_string())
}

/// One or more Redis URLs, as [`RedisStore::builder`] takes them.
pub trait NodeUrls {
    /// The URLs, in order.
    fn into_urls(self) -> Vec<String>;
}

impl NodeUrls for &str {
    fn into_urls(self) -> Vec<String> {
        vec![self.to_owned()]
    }
}

impl NodeUrls for String {
    fn into_urls(self) -> Vec<String> {
        vec![self]
    }
}

impl NodeUrls for &String {
    fn into_urls(self) -> Vec<String> {
        vec![self.clone()]
    }
}

impl<S: AsRef<str>> NodeUrls for Vec<S> {
    fn into_urls(self) -> Vec<String> {
        self.iter().map(|s| s.as_ref().to_owned()).collect()
    }
}

impl<S: AsRef<str>> NodeUrls for &[S] {
    fn into_urls(self) -> Vec<String> {
        self.iter().map(|s| s.as_ref().to_owned()).collect()
    }
}

impl<S: AsRef<str>, const N: usize> NodeUrls for [S; N] {
    fn into_urls(self) -> Vec<String> {
        self.iter().map(|s| s.as_ref().to_owned()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_password() {
        let builder = RedisStore::builder("redis://user:s3cret@db.internal:6380/2").prefix("x:");
        let text = format!("{builder:?}");
        assert!(!text.contains("s3cret"), "{text}");
        assert!(!text.contains("user"), "{text}");
        assert!(text.contains("db.internal:6380"), "{text}");
    }

    #[test]
    fn urls_come_in_any_shape() {
        assert_eq!(RedisStore::builder("redis://a").urls, ["redis://a"]);
        let many = RedisStore::builder(["redis://a", "redis://b"]).cluster();
        assert_eq!(many.urls, ["redis://a", "redis://b"]);
        assert!(many.cluster);
        let owned = RedisStore::builder(vec![String::from("redis://c")]);
        assert_eq!(owned.urls, ["redis://c"]);
    }

    #[test]
    #[should_panic(expected = "must not contain")]
    fn a_prefix_with_a_brace_is_refused() {
        let _ = RedisStore::builder("redis://a").prefix("app{1}:");
    }
}
