//! Connections: the deadpool pool, the multiplexed links kept from it, the
//! timeouts and the mapping of every Redis error to a [`StoreError`].
//!
//! A multiplexed connection (standalone) or a cluster connection carries
//! any number of concurrent requests, so operations do not check one out of
//! the pool each time: that would cost the pool's health-check `PING`, a
//! second round trip, on every operation. Instead the store keeps a few
//! links taken from the pool and hands them out in turn; a link that fails
//! with a connection error or a timeout is dropped back into the pool,
//! whose recycle check then discards it, and the next operation takes a
//! fresh one. So the store recovers by itself when Redis comes back.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use auth_core::StoreError;
use deadpool_redis::cluster::ClusterConnection;
use deadpool_redis::redis::aio::{ConnectionLike, MultiplexedConnection};
use deadpool_redis::redis::{
    self, AsyncConnectionConfig, Cmd, ErrorKind, Pipeline, RedisError, RedisFuture,
    ServerErrorKind, Value,
};
use deadpool_redis::{PoolError, Runtime, Timeouts};

/// One connection that requests can be sent on, cheap to clone.
#[derive(Clone)]
pub(crate) enum Link {
    /// A multiplexed connection to a standalone Redis.
    Single(MultiplexedConnection),
    /// A connection to a Redis Cluster, routing each request by its key.
    Cluster(ClusterConnection),
}

impl ConnectionLike for Link {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(cmd, offset, count),
            Self::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

/// Where connections come from.
enum Pool {
    Single(deadpool_redis::Pool),
    Cluster(deadpool_redis::cluster::Pool),
}

/// A connection checked out of the pool, held while its link is in use.
enum Held {
    Single(deadpool_redis::Connection),
    Cluster(deadpool_redis::cluster::Connection),
}

impl Held {
    fn link(&self) -> Link {
        match self {
            Self::Single(c) => Link::Single((**c).clone()),
            Self::Cluster(c) => Link::Cluster((**c).clone()),
        }
    }
}

/// A link taken from the pool, with the id that tells it from its
/// successors in the same place.
struct Slot {
    id: u64,
    link: Link,
    _held: Held,
}

/// The pool, the links kept from it and the timeouts.
pub(crate) struct Connections {
    pool: Pool,
    slots: Vec<Mutex<Option<Slot>>>,
    filling: Vec<tokio::sync::Mutex<()>>,
    next_slot: AtomicUsize,
    next_id: AtomicU64,
    connect_timeout: Duration,
    command_timeout: Duration,
}

/// What [`Connections::new`] needs.
pub(crate) struct Settings<'a> {
    pub(crate) urls: &'a [String],
    pub(crate) cluster: bool,
    pub(crate) links: usize,
    pub(crate) connect_timeout: Duration,
    pub(crate) command_timeout: Duration,
}

impl Connections {
    /// Builds the pool; connects nothing yet.
    pub(crate) fn new(settings: &Settings<'_>) -> Result<Self, StoreError> {
        let links = settings.links.max(1);
        let timeouts = Timeouts {
            wait: Some(settings.connect_timeout),
            create: Some(settings.connect_timeout),
            recycle: Some(settings.command_timeout),
        };

        let pool = if settings.cluster {
            let manager = deadpool_redis::cluster::Manager::new(settings.urls.to_vec(), false)
                .map_err(StoreError::backend)?;
            let pool = deadpool_redis::cluster::Pool::builder(manager)
                .max_size(links)
                .timeouts(timeouts)
                .runtime(Runtime::Tokio1)
                .build()
                .map_err(StoreError::backend)?;
            Pool::Cluster(pool)
        } else {
            let url = settings
                .urls
                .first()
                .ok_or_else(|| StoreError::backend("a Redis URL is required"))?;
            let config = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(settings.connect_timeout))
                .set_response_timeout(Some(settings.command_timeout));
            let manager = deadpool_redis::Manager::new_with_config(url.as_str(), config)
                .map_err(StoreError::backend)?;
            let pool = deadpool_redis::Pool::builder(manager)
                .max_size(links)
                .timeouts(timeouts)
                .runtime(Runtime::Tokio1)
                .build()
                .map_err(StoreError::backend)?;
            Pool::Single(pool)
        };

        Ok(Self {
            pool,
            slots: (0..links).map(|_| Mutex::new(None)).collect(),
            filling: (0..links).map(|_| tokio::sync::Mutex::new(())).collect(),
            next_slot: AtomicUsize::new(0),
            next_id: AtomicU64::new(1),
            connect_timeout: settings.connect_timeout,
            command_timeout: settings.command_timeout,
        })
    }

    /// Runs `op` on a link within the command timeout, and maps its error.
    ///
    /// The link is forgotten if the error suggests it is broken, so that
    /// the next operation connects afresh.
    pub(crate) async fn run<T, F, Fut>(&self, op: F) -> Result<T, StoreError>
    where
        F: FnOnce(Link) -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        let index = self.next_slot.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let (id, link) = self.link(index).await?;

        match tokio::time::timeout(self.command_timeout, op(link)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => {
                if breaks_link(&error) {
                    self.forget(index, id);
                }
                Err(map_error(error))
            }
            Err(_) => {
                self.forget(index, id);
                Err(StoreError::unavailable(TimedOut("command")))
            }
        }
    }

    /// The link kept in slot `index`, taken from the pool if there is none.
    async fn link(&self, index: usize) -> Result<(u64, Link), StoreError> {
        if let Some(found) = self.current(index) {
            return Ok(found);
        }

        // One task fills a slot; the others wait for it, then take its link.
        let _filling = self.filling[index].lock().await;
        if let Some(found) = self.current(index) {
            return Ok(found);
        }

        let held = tokio::time::timeout(self.connect_timeout, self.checkout())
            .await
            .map_err(|_| StoreError::unavailable(TimedOut("connect")))??;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let link = held.link();
        let slot = Slot {
            id,
            link: link.clone(),
            _held: held,
        };
        *self.lock(index) = Some(slot);
        Ok((id, link))
    }

    fn current(&self, index: usize) -> Option<(u64, Link)> {
        self.lock(index)
            .as_ref()
            .map(|slot| (slot.id, slot.link.clone()))
    }

    /// Drops the link `id` from slot `index`, unless it was already
    /// replaced. The pooled connection goes back to the pool, whose next
    /// checkout pings it and discards it if it is broken.
    fn forget(&self, index: usize, id: u64) {
        let stale = {
            let mut slot = self.lock(index);
            if slot.as_ref().is_some_and(|s| s.id == id) {
                slot.take()
            } else {
                None
            }
        };
        if stale.is_some() {
            tracing::debug!(slot = index, "dropped a Redis connection after an error");
        }
    }

    fn lock(&self, index: usize) -> std::sync::MutexGuard<'_, Option<Slot>> {
        self.slots[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    async fn checkout(&self) -> Result<Held, StoreError> {
        match &self.pool {
            Pool::Single(pool) => pool.get().await.map(Held::Single).map_err(map_pool_error),
            Pool::Cluster(pool) => pool.get().await.map(Held::Cluster).map_err(map_pool_error),
        }
    }

    /// The pool's status, for `Debug`.
    pub(crate) fn status(&self) -> deadpool_redis::Status {
        match &self.pool {
            Pool::Single(pool) => pool.status(),
            Pool::Cluster(pool) => pool.status(),
        }
    }

    /// How long one operation may wait for its answers.
    pub(crate) fn command_timeout(&self) -> Duration {
        self.command_timeout
    }

    /// How long connecting may take.
    pub(crate) fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }
}

/// A timeout of this crate, kept as the source of an `Unavailable` error.
#[derive(Debug)]
pub(crate) struct TimedOut(pub(crate) &'static str);

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the Redis {} timed out", self.0)
    }
}

impl std::error::Error for TimedOut {}

/// Whether `error` means the store could not be reached (as opposed to an
/// answer it gave).
fn is_unavailable(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || matches!(
            error.kind(),
            ErrorKind::ClusterConnectionNotFound
                | ErrorKind::Server(
                    ServerErrorKind::BusyLoading
                        | ServerErrorKind::TryAgain
                        | ServerErrorKind::ClusterDown
                        | ServerErrorKind::MasterDown
                        | ServerErrorKind::ReadOnly
                )
        )
}

/// Whether the link that answered `error` should be replaced.
fn breaks_link(error: &RedisError) -> bool {
    is_unavailable(error) || error.kind() == ErrorKind::Parse
}

/// Maps a Redis error: unreachable is `Unavailable`, an unreadable answer
/// is `Corrupt`, any other answer (a script error, a refused command) is
/// `Backend`.
pub(crate) fn map_error(error: RedisError) -> StoreError {
    if is_unavailable(&error) {
        StoreError::unavailable(error)
    } else if matches!(
        error.kind(),
        ErrorKind::Parse | ErrorKind::UnexpectedReturnType
    ) {
        StoreError::corrupt(error)
    } else {
        StoreError::backend(error)
    }
}

fn map_pool_error(error: PoolError) -> StoreError {
    match error {
        PoolError::Backend(error) => map_error(error),
        PoolError::Timeout(_) | PoolError::Closed => StoreError::unavailable(error),
        other => StoreError::backend(other),
    }
}

/// A Redis reply that this crate could not read.
pub(crate) fn corrupt(what: &'static str) -> StoreError {
    StoreError::corrupt(redis::RedisError::from((
        ErrorKind::UnexpectedReturnType,
        what,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_what_failed() {
        let io = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(matches!(map_error(io), StoreError::Unavailable(_)));

        let script = RedisError::from((ErrorKind::Server(ServerErrorKind::ResponseError), "boom"));
        assert!(matches!(map_error(script), StoreError::Backend(_)));

        let down = RedisError::from((ErrorKind::Server(ServerErrorKind::ClusterDown), "down"));
        assert!(matches!(map_error(down), StoreError::Unavailable(_)));

        let odd = RedisError::from((ErrorKind::UnexpectedReturnType, "odd"));
        assert!(matches!(map_error(odd), StoreError::Corrupt(_)));

        let timeout = PoolError::Timeout(deadpool_redis::TimeoutType::Create);
        assert!(matches!(
            map_pool_error(timeout),
            StoreError::Unavailable(_)
        ));
    }
}
