//! The store traits: domain operations, each atomic in every backend.
//!
//! A store keeps four kinds of state: sessions (cookie sessions and refresh
//! families are the same record), revocations, failed-login counters and
//! users. Each operation is one atomic step in the backend — a Lua script or
//! `MULTI` in Redis, one statement or transaction in SQL, one map entry in
//! memory — so correctness under concurrency never depends on timing.
//!
//! Operations that read take `now`, the time of the [`Clock`](crate::Clock)
//! the caller uses: a record whose deadline is at or before `now` is treated
//! as absent, whatever the backend's own expiry has done so far. Backends
//! also expire data by themselves (a TTL, a sweep), so that nothing outlives
//! its record by much.
//!
//! Secrets never reach a store: it sees only [`SecretHash`]es.
//!
//! The conformance kit (feature `test-kit`, module `testkit`) checks all of
//! this against any implementation.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::secret::{Handle, SecretHash};

mod memory;

pub use memory::MemoryStore;

/// How many spent refresh tokens a family remembers for reuse detection.
///
/// Limitation: a refresh token spent more than this many rotations ago is no
/// longer recognised as a spent member of its family; presenting it is
/// refused as unknown but does not end the family.
pub const SPENT_HISTORY: usize = 64;

/// Which side a session record is seen from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    /// A browser session, authenticated by a cookie.
    Cookie,
    /// A refresh-token family: the tokens rotated from one login.
    Refresh,
}

/// One login on one device.
///
/// For a cookie session, `secret` is the hash of the cookie's secret. For a
/// refresh family, `secret` is the hash of the current refresh token,
/// `previous` that of the token it replaced and `spent` those before.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The public name of the session.
    pub handle: Handle,
    /// The username it belongs to.
    pub user: String,
    /// The user's roles at login.
    pub roles: Vec<String>,
    /// Cookie session or refresh family.
    pub kind: SessionKind,
    /// Increases by one with every [`SessionStore::replace_session`].
    pub version: u64,
    /// Hash of the current secret.
    pub secret: SecretHash,
    /// Hash of the refresh token replaced by the last rotation.
    pub previous: Option<SecretHash>,
    /// Hashes of older spent refresh tokens, newest last, at most
    /// [`SPENT_HISTORY`].
    pub spent: Vec<SecretHash>,
    /// When the secret last rotated (creation, for a new record).
    #[serde(with = "unix_millis_serde")]
    pub rotated_at: SystemTime,
    /// When the session began.
    #[serde(with = "unix_millis_serde")]
    pub created_at: SystemTime,
    /// When the session was last used.
    #[serde(with = "unix_millis_serde")]
    pub last_seen_at: SystemTime,
    /// The session ends after this long unused.
    #[serde(with = "duration_millis_serde")]
    pub idle_timeout: Duration,
    /// The session ends at this time, used or not.
    #[serde(with = "unix_millis_serde")]
    pub absolute_deadline: SystemTime,
}

impl SessionRecord {
    /// When the record ends if nothing touches it again.
    pub fn expires_at(&self) -> SystemTime {
        (self.last_seen_at + self.idle_timeout).min(self.absolute_deadline)
    }

    /// Whether the record is still live at `now`.
    pub fn is_live(&self, now: SystemTime) -> bool {
        now < self.expires_at()
    }

    /// Time left at `now`, for backends that set a TTL; zero if expired.
    pub fn ttl(&self, now: SystemTime) -> Duration {
        self.expires_at()
            .duration_since(now)
            .unwrap_or(Duration::ZERO)
    }
}

impl fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRecord")
            .field("handle", &self.handle)
            .field("user", &self.user)
            .field("kind", &self.kind)
            .field("version", &self.version)
            .field("created_at", &self.created_at)
            .field("last_seen_at", &self.last_seen_at)
            .finish_non_exhaustive()
    }
}

/// Sessions and refresh families.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// Stores a new record and adds it to its user's index.
    ///
    /// Handles are 128 random bits, so a clash means a broken random
    /// source; a backend may overwrite or report an error.
    async fn create_session(&self, record: &SessionRecord) -> Result<(), StoreError>;

    /// The live record with this handle, or `None`.
    ///
    /// This is the lookup behind every cookie-authenticated request, so it
    /// answers a shared record: a store that keeps records in memory hands
    /// out its own without copying, and one that decodes them wraps the
    /// result.
    async fn find_session(
        &self,
        handle: &Handle,
        now: SystemTime,
    ) -> Result<Option<Arc<SessionRecord>>, StoreError>;

    /// Records use: sets `last_seen_at` to `at` if that is later, and moves
    /// the backend's expiry with it. `version` is unchanged. A missing or
    /// expired record is left alone.
    async fn touch_session(&self, handle: &Handle, at: SystemTime) -> Result<(), StoreError>;

    /// Compare-and-swap: replaces the record with `record.handle` by
    /// `record` only if the stored one is live at `now` and has version
    /// `expected_version`. Answers whether it did. The caller sets
    /// `record.version` to `expected_version + 1`.
    async fn replace_session(
        &self,
        record: &SessionRecord,
        expected_version: u64,
        now: SystemTime,
    ) -> Result<bool, StoreError>;

    /// Deletes the record and answers it, if it was live.
    async fn end_session(
        &self,
        handle: &Handle,
        now: SystemTime,
    ) -> Result<Option<SessionRecord>, StoreError>;

    /// The user's live records, oldest first.
    async fn list_sessions(
        &self,
        user: &str,
        now: SystemTime,
    ) -> Result<Vec<SessionRecord>, StoreError>;

    /// Deletes every live record of the user except `keep`, and answers the
    /// deleted ones.
    async fn end_user_sessions(
        &self,
        user: &str,
        keep: Option<&Handle>,
        now: SystemTime,
    ) -> Result<Vec<SessionRecord>, StoreError>;

    /// Answers `Ok` if the store can be reached.
    async fn ping(&self) -> Result<(), StoreError>;

    /// A push channel announcing that sessions ended anywhere, for stores
    /// that have one (Redis pub/sub). With it, [`Auth`](crate::Auth) keeps
    /// recently used cookie sessions in memory and answers requests without
    /// a round trip while the signal is `connected` and its `notices` are
    /// unchanged. `None`, the default, reads the store on every request.
    fn session_signal(&self) -> Option<tokio::sync::watch::Receiver<RevocationSignal>> {
        None
    }
}

/// What a revocation entry denies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RevocationTarget {
    /// One access token, by `jti`.
    Token {
        /// The token's `jti`.
        jti: String,
    },
    /// Every access token issued from one session or family, by `sid`.
    Session {
        /// The session's handle.
        handle: Handle,
    },
    /// Every access token of a user issued in a whole second before
    /// `not_before` (tokens carry `iat` in whole seconds).
    User {
        /// The username.
        user: String,
        /// Tokens with `iat` before this second are refused.
        #[serde(with = "unix_millis_serde")]
        not_before: SystemTime,
    },
}

/// One entry of the revocation list, kept until the tokens it denies would
/// have expired anyway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// What is denied.
    #[serde(flatten)]
    pub target: RevocationTarget,
    /// After this time the entry is useless and may be dropped.
    #[serde(with = "unix_millis_serde")]
    pub until: SystemTime,
}

/// What a strict revocation check asks about one access token.
#[derive(Clone, Copy, Debug)]
pub struct RevocationQuery<'a> {
    /// The token's `jti`.
    pub jti: &'a str,
    /// The token's `sid`.
    pub session: &'a Handle,
    /// The token's `sub`.
    pub user: &'a str,
    /// The token's `iat`, in whole seconds since the epoch.
    pub issued_at: u64,
}

/// New revocation entries since a cursor.
#[derive(Clone, Debug, Default)]
pub struct RevocationChanges {
    /// Entries after the cursor, still live at `now`.
    pub entries: Vec<Revocation>,
    /// The cursor to ask from next time.
    pub cursor: u64,
    /// The store could not answer from the cursor (it restarted, or the
    /// cursor is unknown to it): `entries` then holds every live entry and
    /// the caller must forget what it had.
    pub reset: bool,
}

/// The revocation list: a log that instances read to keep local caches.
#[async_trait]
pub trait RevocationStore: Send + Sync + 'static {
    /// Appends an entry; readers see it from the next
    /// [`revocations_since`](Self::revocations_since).
    async fn revoke(&self, entry: &Revocation) -> Result<(), StoreError>;

    /// Whether any live entry denies the token described by `query`: its
    /// `jti`, its `sid`, or a user entry whose `not_before` second is after
    /// `issued_at`.
    async fn is_revoked(
        &self,
        query: &RevocationQuery<'_>,
        now: SystemTime,
    ) -> Result<bool, StoreError>;

    /// Live entries appended after `cursor` (0: from the start).
    async fn revocations_since(
        &self,
        cursor: u64,
        now: SystemTime,
    ) -> Result<RevocationChanges, StoreError>;

    /// A push channel announcing appends, for stores that have one (Redis
    /// pub/sub). `None`, the default, makes readers poll the log once per
    /// staleness bound.
    ///
    /// While the signal is `connected`, a reader trusts its view until
    /// `notices` changes, and then reads the log; while it is not, the
    /// reader asks [`is_revoked`](Self::is_revoked) on every check, until
    /// the channel is back and the log has been read again.
    fn revocation_signal(&self) -> Option<tokio::sync::watch::Receiver<RevocationSignal>> {
        None
    }
}

/// The state of a store's push channel for revocations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RevocationSignal {
    /// Whether the subscription is live; news may have been missed while
    /// it was not.
    pub connected: bool,
    /// Increases with every append announced (and at every reconnection).
    pub notices: u64,
}

/// How failed logins lock an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures that lock the account; the lock begins at this one.
    pub max_failures: u32,
    /// How long a lock lasts, and how long a failure is remembered.
    pub lockout: Duration,
}

/// Failed-login counters, per account name (known or not).
#[async_trait]
pub trait LoginThrottle: Send + Sync + 'static {
    /// The end of the lock on `name`, if it is locked at `now`.
    async fn login_lock(
        &self,
        name: &str,
        now: SystemTime,
    ) -> Result<Option<SystemTime>, StoreError>;

    /// Counts one failure atomically. Failures are remembered for
    /// `policy.lockout` after the latest one; when the count reaches
    /// `policy.max_failures` the name is locked until `now + policy.lockout`
    /// and the end of the lock is answered. Failures counted while locked
    /// neither extend nor restart the lock.
    async fn record_login_failure(
        &self,
        name: &str,
        policy: &LockoutPolicy,
        now: SystemTime,
    ) -> Result<Option<SystemTime>, StoreError>;

    /// Forgets the failures of `name` (after a successful login).
    async fn clear_login_failures(&self, name: &str) -> Result<(), StoreError>;
}

/// A user as the credential check sees it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// The unique username.
    pub username: String,
    /// The PHC string of the password's Argon2id hash.
    pub password_hash: String,
    /// The user's roles.
    pub roles: Vec<String>,
}

impl fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRecord")
            .field("username", &self.username)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

/// The application's users.
///
/// Applications with their own user table implement this over it; every
/// store of this workspace also implements it, so a demo needs no other.
#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// The user with this exact name, or `None`.
    async fn find_user(&self, username: &str) -> Result<Option<UserRecord>, StoreError>;

    /// Adds a user unless the name is taken; answers whether it did.
    async fn create_user(&self, user: &UserRecord) -> Result<bool, StoreError>;

    /// Replaces a user's password hash; answers whether the user exists.
    async fn set_password_hash(&self, username: &str, hash: &str) -> Result<bool, StoreError>;
}

/// Everything [`Auth`](crate::Auth) keeps state in, as one object.
pub trait Store: SessionStore + RevocationStore + LoginThrottle + UserStore {}

impl<T: SessionStore + RevocationStore + LoginThrottle + UserStore> Store for T {}

/// Serde of a `SystemTime` as milliseconds since the epoch.
pub mod unix_millis_serde {
    use std::time::SystemTime;

    use serde::{Deserialize, Deserializer, Serializer};

    use crate::clock::{from_unix_millis, unix_millis};

    /// Writes milliseconds since the epoch.
    pub fn serialize<S: Serializer>(time: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(unix_millis(*time))
    }

    /// Reads milliseconds since the epoch.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        u64::deserialize(d).map(from_unix_millis)
    }
}

/// Serde of a `Duration` as whole milliseconds.
pub mod duration_millis_serde {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes whole milliseconds.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    /// Reads whole milliseconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}
