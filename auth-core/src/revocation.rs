//! The local view of the revocation list, with bounded staleness.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use crate::clock::unix_secs;
use crate::error::StoreError;
use crate::secret::Handle;
use crate::store::{
    Revocation, RevocationQuery, RevocationSignal, RevocationStore, RevocationTarget,
};

/// With a push channel, the log is still read at least this often, in case
/// a notice was lost without the subscription noticing.
const PUSHED_MAX_AGE: Duration = Duration::from_secs(60);

/// Answers "is this access token revoked?" from memory, reading the store's
/// revocation log at most once per staleness bound.
///
/// A revocation made through this instance is applied locally at once; one
/// made by another instance sharing the store is seen within `staleness`.
/// With a zero bound every question goes to the store (strict mode).
///
/// A store with a push channel ([`RevocationStore::revocation_signal`])
/// makes the view fresh until the next notice instead: no round trip at all
/// while nothing is revoked, and strict checks while the channel is down.
pub(crate) struct RevocationCache {
    store: Arc<dyn RevocationStore>,
    staleness: Duration,
    signal: Option<tokio::sync::watch::Receiver<RevocationSignal>>,
    state: RwLock<State>,
    sync: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    tokens: HashMap<String, SystemTime>,
    sessions: HashMap<Handle, SystemTime>,
    users: HashMap<String, (SystemTime, SystemTime)>,
    cursor: u64,
    synced_at: Option<SystemTime>,
    /// The signal's `notices` when the log was last read.
    notices: Option<u64>,
}

impl std::fmt::Debug for RevocationCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationCache")
            .field("staleness", &self.staleness)
            .finish_non_exhaustive()
    }
}

impl RevocationCache {
    pub(crate) fn new(store: Arc<dyn RevocationStore>, staleness: Duration) -> Self {
        Self {
            signal: store.revocation_signal(),
            store,
            staleness,
            state: RwLock::default(),
            sync: tokio::sync::Mutex::new(()),
        }
    }

    /// Whether the token described by `query` is revoked at `now`.
    pub(crate) async fn is_revoked(
        &self,
        query: &RevocationQuery<'_>,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        let signal = self.signal.as_ref().map(|s| *s.borrow());
        if self.staleness.is_zero() || signal.is_some_and(|s| !s.connected) {
            return self.store.is_revoked(query, now).await;
        }
        if !self.is_fresh(now, signal) {
            self.sync(now, signal).await?;
        }
        Ok(self.read().denies(query, now))
    }

    /// Writes `entry` to the store and applies it here at once.
    pub(crate) async fn revoke(&self, entry: Revocation) -> Result<(), StoreError> {
        self.store.revoke(&entry).await?;
        self.write().apply(entry);
        Ok(())
    }

    fn is_fresh(&self, now: SystemTime, signal: Option<RevocationSignal>) -> bool {
        let state = self.read();
        let Some(at) = state.synced_at else {
            return false;
        };
        match signal {
            Some(signal) => state.notices == Some(signal.notices) && now < at + PUSHED_MAX_AGE,
            None => now >= at && now < at + self.staleness,
        }
    }

    /// Reads the log from our cursor; one task reads while others wait for
    /// its answer instead of asking again.
    ///
    /// `signal` was read before the log, so a notice arriving meanwhile
    /// makes the next check read again rather than be lost.
    async fn sync(
        &self,
        now: SystemTime,
        signal: Option<RevocationSignal>,
    ) -> Result<(), StoreError> {
        let _single = self.sync.lock().await;
        if self.is_fresh(now, signal) {
            return Ok(());
        }
        let cursor = self.read().cursor;
        let changes = self.store.revocations_since(cursor, now).await?;
        let mut state = self.write();
        if changes.reset {
            tracing::debug!("revocation log restarted; reloading it whole");
            let synced = state.synced_at;
            *state = State::default();
            state.synced_at = synced;
        }
        for entry in changes.entries {
            state.apply(entry);
        }
        state.cursor = changes.cursor;
        state.synced_at = Some(now);
        state.notices = signal.map(|s| s.notices);
        state.prune(now);
        Ok(())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    fn apply(&mut self, entry: Revocation) {
        let until = entry.until;
        match entry.target {
            RevocationTarget::Token { jti } => {
                let slot = self.tokens.entry(jti).or_insert(until);
                *slot = (*slot).max(until);
            }
            RevocationTarget::Session { handle } => {
                let slot = self.sessions.entry(handle).or_insert(until);
                *slot = (*slot).max(until);
            }
            RevocationTarget::User { user, not_before } => {
                let slot = self.users.entry(user).or_insert((not_before, until));
                slot.0 = slot.0.max(not_before);
                slot.1 = slot.1.max(until);
            }
        }
    }

    fn denies(&self, query: &RevocationQuery<'_>, now: SystemTime) -> bool {
        let live = |until: &SystemTime| now < *until;
        self.tokens.get(query.jti).is_some_and(live)
            || self.sessions.get(query.session).is_some_and(live)
            || self
                .users
                .get(query.user)
                .is_some_and(|(nb, until)| now < *until && query.issued_at < unix_secs(*nb))
    }

    fn prune(&mut self, now: SystemTime) {
        self.tokens.retain(|_, until| now < *until);
        self.sessions.retain(|_, until| now < *until);
        self.users.retain(|_, (_, until)| now < *until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn query<'a>(jti: &'a str, sid: &'a Handle) -> RevocationQuery<'a> {
        RevocationQuery {
            jti,
            session: sid,
            user: "alice",
            issued_at: 1_000,
        }
    }

    #[tokio::test]
    async fn another_instance_sees_a_revocation_within_the_bound() {
        let store = Arc::new(MemoryStore::new());
        let here = RevocationCache::new(store.clone(), Duration::from_secs(1));
        let there = RevocationCache::new(store.clone(), Duration::from_secs(1));
        let sid = Handle::generate();
        let t0 = crate::clock::from_unix_secs(1_000);
        let q = query("j1", &sid);

        assert!(!there.is_revoked(&q, t0).await.unwrap());
        let entry = Revocation {
            target: RevocationTarget::Token { jti: "j1".into() },
            until: t0 + Duration::from_secs(900),
        };
        here.revoke(entry).await.unwrap();

        assert!(
            here.is_revoked(&q, t0).await.unwrap(),
            "at once where it was made"
        );
        assert!(
            !there.is_revoked(&q, t0).await.unwrap(),
            "still fresh elsewhere"
        );
        let later = t0 + Duration::from_secs(1);
        assert!(
            there.is_revoked(&q, later).await.unwrap(),
            "seen after the bound"
        );
    }

    #[tokio::test]
    async fn strict_mode_asks_the_store_every_time() {
        let store = Arc::new(MemoryStore::new());
        let strict = RevocationCache::new(store.clone(), Duration::ZERO);
        let sid = Handle::generate();
        let t0 = crate::clock::from_unix_secs(1_000);
        assert!(!strict.is_revoked(&query("j", &sid), t0).await.unwrap());
        let entry = Revocation {
            target: RevocationTarget::Session { handle: sid },
            until: t0 + Duration::from_secs(60),
        };
        store.revoke(&entry).await.unwrap();
        assert!(strict.is_revoked(&query("j", &sid), t0).await.unwrap());
    }

    /// A store whose revocation log is the memory store's, with a push
    /// channel the test drives.
    struct Pushed {
        log: MemoryStore,
        signal: tokio::sync::watch::Receiver<RevocationSignal>,
    }

    #[async_trait::async_trait]
    impl RevocationStore for Pushed {
        async fn revoke(&self, entry: &Revocation) -> Result<(), StoreError> {
            self.log.revoke(entry).await
        }

        async fn is_revoked(
            &self,
            query: &RevocationQuery<'_>,
            now: SystemTime,
        ) -> Result<bool, StoreError> {
            self.log.is_revoked(query, now).await
        }

        async fn revocations_since(
            &self,
            cursor: u64,
            now: SystemTime,
        ) -> Result<crate::store::RevocationChanges, StoreError> {
            self.log.revocations_since(cursor, now).await
        }

        fn revocation_signal(&self) -> Option<tokio::sync::watch::Receiver<RevocationSignal>> {
            Some(self.signal.clone())
        }
    }

    #[tokio::test]
    async fn a_push_channel_replaces_polling_and_its_loss_means_strict_checks() {
        let log = MemoryStore::new();
        let (tx, rx) = tokio::sync::watch::channel(RevocationSignal {
            connected: true,
            notices: 0,
        });
        let cache = RevocationCache::new(
            Arc::new(Pushed {
                log: log.clone(),
                signal: rx,
            }),
            Duration::from_secs(1),
        );
        let sid = Handle::generate();
        let t0 = crate::clock::from_unix_secs(1_000);
        assert!(!cache.is_revoked(&query("p1", &sid), t0).await.unwrap());

        let deny = |jti: &str| Revocation {
            target: RevocationTarget::Token { jti: jti.into() },
            until: t0 + Duration::from_secs(900),
        };
        log.revoke(&deny("p1")).await.unwrap();
        let later = t0 + Duration::from_secs(30);
        assert!(
            !cache.is_revoked(&query("p1", &sid), later).await.unwrap(),
            "no notice yet: the view stays fresh beyond the polling bound"
        );
        tx.send_modify(|s| s.notices += 1);
        assert!(
            cache.is_revoked(&query("p1", &sid), later).await.unwrap(),
            "a notice reads the log"
        );

        tx.send_modify(|s| s.connected = false);
        log.revoke(&deny("p2")).await.unwrap();
        assert!(
            cache.is_revoked(&query("p2", &sid), later).await.unwrap(),
            "while disconnected every check asks the store"
        );
    }

    #[tokio::test]
    async fn user_entries_deny_only_earlier_seconds() {
        let store = Arc::new(MemoryStore::new());
        let cache = RevocationCache::new(store, Duration::from_secs(1));
        let sid = Handle::generate();
        let t0 = crate::clock::from_unix_secs(1_000) + Duration::from_millis(500);
        let entry = Revocation {
            target: RevocationTarget::User {
                user: "alice".into(),
                not_before: t0,
            },
            until: t0 + Duration::from_secs(60),
        };
        cache.revoke(entry).await.unwrap();
        let mut q = query("j", &sid);
        q.issued_at = 999;
        assert!(cache.is_revoked(&q, t0).await.unwrap());
        q.issued_at = 1_000;
        assert!(!cache.is_revoked(&q, t0).await.unwrap());
    }
}
