//! The Redis store of `auth-core`: sessions, refresh families, revocations,
//! failed-login counters and users, in a standalone Redis or a Redis
//! Cluster. Several application instances share one, so that a session made
//! on one is valid on all and a revocation made on one reaches the others
//! within a second.
//!
//! ```rust,no_run
//! use auth_core::Auth;
//! use auth_store_redis::RedisStore;
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let store = RedisStore::connect("redis://127.0.0.1:6379").await?;
//! let auth = Auth::builder().store(store).build()?;
//! # let _ = auth;
//! # Ok(())
//! # }
//! ```
//!
//! [`RedisStore::builder`] sets the key prefix, the timeouts, the number of
//! connections and cluster mode. The crate has no optional features; it uses
//! `deadpool-redis` with Tokio, Lua scripts and cluster support.
//!
//! # Atomicity
//!
//! Every operation is one command or one Lua script on one slot, so it is
//! atomic on the server; nothing reads, changes and writes back from the
//! client. `replace_session` compares the stored version and the record's
//! deadline against the caller's `now` inside its script. Scripts are sent
//! by SHA and loaded again wherever Redis has forgotten them.
//!
//! `find_session` and `touch_session`, the two operations of an ordinary
//! request, are one round trip each.
//!
//! # Key layout
//!
//! With the prefix `P` (`"auth:"` unless set):
//!
//! | key | type | holds | expires |
//! | --- | --- | --- | --- |
//! | `P{h:HANDLE}` | hash | a session: its JSON record, and the `last_seen_at`, version and deadlines scripts read | at the session's deadline (`PEXPIREAT`, moved by touch and replace) |
//! | `P{u:USER}sessions` | sorted set | the user's session handles, scored by absolute deadline | at the latest absolute deadline |
//! | `P{u:USER}user` | hash | the user's JSON record, and a newer password hash | never: users are permanent data |
//! | `P{u:NAME}fails` | hash | failed logins of an account name | when the failures or the lock lapse |
//! | `P{rev}seq`, `P{rev}log`, `P{rev}until` | string, sorted sets | the revocation log | with its last live entry |
//! | `P{rev}jti:JTI`, `P{rev}sid:HANDLE`, `P{rev}user:USER` | string, string, hash | one denial each, for strict checks | at the entry's `until` |
//!
//! Revocations and ended sessions are announced on the pub/sub channel
//! `Prevocations`; the same subscription feeds
//! [`revocation_signal`](auth_core::store::RevocationStore::revocation_signal)
//! and [`session_signal`](auth_core::store::SessionStore::session_signal),
//! so every instance serves sessions and revocation checks from memory
//! until something changes. Names
//! are written with `%`, `{` and `}` percent-encoded. Times are Unix
//! milliseconds. Expiry uses the deadlines the caller computed, so the
//! clocks of the application's hosts and of Redis should agree (NTP).
//!
//! # Redis Cluster
//!
//! Each script touches the keys of one hash tag, hence of one slot:
//!
//! - A session is found by its handle alone, so its record is tagged by
//!   the handle: `find_session`, `touch_session`, `replace_session` and
//!   `end_session` are each one single-slot script or command.
//! - The user's index is tagged by the user and written by a second
//!   single-slot script: before the record on create, so that a live record
//!   is never missing from the index that "end every session" reads, and
//!   after the record is deleted on end. The index may so hold, for a
//!   moment or until its deadline, members whose record is gone or not yet
//!   written; `list_sessions` and `end_user_sessions` skip them, and every
//!   script on the index first prunes members past their deadline on the
//!   server's clock. Those two operations read the index, then each record
//!   concurrently.
//! - All revocation keys share the tag `{rev}`: `revoke` appends, sets the
//!   lookup key, trims and publishes in one script, and the strict
//!   `is_revoked` reads the `jti`, session and user entries in one script,
//!   one round trip.
//!
//! Build a cluster store with [`RedisStoreBuilder::cluster`]. Pub/sub
//! messages reach every node of a cluster, so the revocation subscription
//! holds one connection to any seed node.
//!
//! # Outages
//!
//! Connecting and each operation are bounded by the
//! [timeouts](RedisStoreBuilder::timeouts) (1 second each by default). An
//! unreachable Redis, a timeout or a cluster that is down is
//! [`StoreError::Unavailable`](auth_core::StoreError::Unavailable); an error
//! answered by Redis is `Backend`, and data that cannot be read is
//! `Corrupt`. A broken connection is replaced at the next operation, so the
//! store works again as soon as Redis does, without being rebuilt. While
//! the revocation subscription is down, its signal says so and readers
//! check revocations strictly; it reconnects with a backoff of at most a
//! second.
//!
//! # Security
//!
//! The store keeps only what `auth-core` hands it: hashes of session
//! secrets and refresh tokens, Argon2id hashes of passwords, handles and
//! `jti`s. Whoever reads the whole database cannot make a valid cookie,
//! refresh token or access token from it. Whoever can write to it can,
//! however, create sessions and users, lift revocations and locks, or
//! delete everything: protect Redis like the user table itself.
//!
//! The deployment must provide: a Redis reachable only from the
//! application (a private network, `requirepass` or an ACL user, ideally
//! confined to `~PREFIX*` keys and `&PREFIX*` channels); TLS between them
//! where the network is not trusted (this build does not enable
//! `rediss://`); persistence (AOF or RDB) if sessions and users must
//! survive a restart. `Debug` output of the store shows `host:port` of each
//! node and never a user name or password from the URL.
//!
//! A Redis that loses its data (a restart without persistence, a flush)
//! ends every session and forgets every revocation: access tokens revoked
//! before are accepted again until they expire. Readers of the revocation
//! log are told to start over (`reset`), but the entries are gone.
//!
//! # Limitations
//!
//! - All revocation state lives on one slot, hence on one cluster node:
//!   revocations are rare and ordinary checks are served from each
//!   instance's cache, but strict mode sends every check to that node.
//! - Creating a session takes two round trips (index, then record), ending
//!   one two (record, then index); listing or ending a user's sessions takes
//!   two plus one concurrent request per session.
//! - Expiry follows the caller's clock; a host whose clock runs behind
//!   Redis's makes records expire early in Redis by that much.
//! - Users never expire and cannot be deleted through the traits.
//! - TLS (`rediss://`) and Redis Sentinel are not enabled in this build.

mod accounts;
mod conn;
mod keys;
mod revocations;
mod scripts;
mod sessions;
mod signal;
mod store;

pub use store::{DEFAULT_PREFIX, NodeUrls, RedisStore, RedisStoreBuilder};
