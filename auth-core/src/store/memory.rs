//! The in-memory store: every store trait in one process.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

use super::{
    LockoutPolicy, LoginThrottle, Revocation, RevocationChanges, RevocationQuery, RevocationStore,
    RevocationTarget, SessionRecord, SessionStore, UserRecord, UserStore,
};
use crate::clock::{unix_millis, unix_secs};
use crate::error::StoreError;
use crate::secret::Handle;

/// How often, at most, a write sweeps out expired entries.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Every store trait, in this process's memory.
///
/// Each operation touches one map entry under that entry's shard lock, so
/// reads of different sessions never wait for each other and there is no
/// global lock on the read path. Expired entries are swept out by writes at
/// most once a minute. Clones share the same data.
///
/// # Limitations
///
/// Everything is lost when the process ends, and nothing is shared with
/// other processes: use the Redis or SQL store for more than one instance.
#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

/// A hasher keyed per process, fast on short keys.
type Fast = foldhash::fast::RandomState;

#[derive(Default)]
struct Inner {
    sessions: DashMap<Handle, Arc<SessionRecord>, Fast>,
    by_user: DashMap<String, HashSet<Handle, Fast>, Fast>,
    revocations: RwLock<RevocationLog>,
    failures: DashMap<String, Failures>,
    users: DashMap<String, UserRecord>,
    last_sweep_ms: AtomicU64,
}

#[derive(Default)]
struct RevocationLog {
    next: u64,
    entries: BTreeMap<u64, Revocation>,
    tokens: std::collections::HashMap<String, SystemTime>,
    sessions: std::collections::HashMap<Handle, SystemTime>,
    users: std::collections::HashMap<String, (SystemTime, SystemTime)>,
}

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    last: SystemTime,
    locked_until: Option<SystemTime>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("sessions", &self.inner.sessions.len())
            .field("users", &self.inner.users.len())
            .finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of session records held, live or not yet swept.
    pub fn session_count(&self) -> usize {
        self.inner.sessions.len()
    }

    /// Removes every entry that has expired at `now`.
    pub fn sweep(&self, now: SystemTime) {
        let inner = &self.inner;
        inner.sessions.retain(|_, r| r.is_live(now));
        inner.by_user.retain(|_, set| {
            set.retain(|h| inner.sessions.contains_key(h));
            !set.is_empty()
        });
        inner.failures.retain(|_, f| f.is_remembered(now));
        let mut log = inner.revocations.write().unwrap_or_else(|e| e.into_inner());
        log.entries.retain(|_, e| now < e.until);
        log.tokens.retain(|_, until| now < *until);
        log.sessions.retain(|_, until| now < *until);
        log.users.retain(|_, (_, until)| now < *until);
    }

    fn maybe_sweep(&self, now: SystemTime) {
        let now_ms = unix_millis(now);
        let last = self.inner.last_sweep_ms.load(Ordering::Relaxed);
        let due = now_ms.saturating_sub(last) >= SWEEP_EVERY.as_millis() as u64;
        if due
            && self
                .inner
                .last_sweep_ms
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.sweep(now);
        }
    }

    fn unindex(&self, record: &SessionRecord) {
        if let Entry::Occupied(mut set) = self.inner.by_user.entry(record.user.clone()) {
            set.get_mut().remove(&record.handle);
            if set.get().is_empty() {
                set.remove();
            }
        }
    }

    fn user_handles(&self, user: &str) -> Vec<Handle> {
        self.inner
            .by_user
            .get(user)
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default()
    }
}

impl Failures {
    fn is_locked(&self, now: SystemTime) -> bool {
        self.locked_until.is_some_and(|until| now < until)
    }

    fn is_remembered(&self, now: SystemTime) -> bool {
        self.is_locked(now) || self.locked_until.is_none() && now < self.last + FORGET_AFTER_MAX
    }
}

/// Failures are forgotten by `record_login_failure` according to the
/// policy; the sweep only drops entries older than any sane policy.
const FORGET_AFTER_MAX: Duration = Duration::from_secs(24 * 3600);

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create_session(&self, record: &SessionRecord) -> Result<(), StoreError> {
        self.maybe_sweep(record.created_at);
        self.inner
            .sessions
            .insert(record.handle, Arc::new(record.clone()));
        self.inner
            .by_user
            .entry(record.user.clone())
            .or_default()
            .insert(record.handle);
        Ok(())
    }

    async fn find_session(
        &self,
        handle: &Handle,
        now: SystemTime,
    ) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        Ok(self
            .inner
            .sessions
            .get(handle)
            .filter(|r| r.is_live(now))
            .map(|r| Arc::clone(&r)))
    }

    async fn touch_session(&self, handle: &Handle, at: SystemTime) -> Result<(), StoreError> {
        if let Some(mut r) = self.inner.sessions.get_mut(handle)
            && r.is_live(at)
            && at > r.last_seen_at
        {
            // Copy on write: readers holding the old record keep it.
            Arc::make_mut(&mut r).last_seen_at = at;
        }
        Ok(())
    }

    async fn replace_session(
        &self,
        record: &SessionRecord,
        expected_version: u64,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        match self.inner.sessions.get_mut(&record.handle) {
            Some(mut current) if current.is_live(now) && current.version == expected_version => {
                *current = Arc::new(record.clone());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn end_session(
        &self,
        handle: &Handle,
        now: SystemTime,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let Some((_, record)) = self.inner.sessions.remove(handle) else {
            return Ok(None);
        };
        self.unindex(&record);
        Ok(record.is_live(now).then(|| Arc::unwrap_or_clone(record)))
    }

    async fn list_sessions(
        &self,
        user: &str,
        now: SystemTime,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let mut records: Vec<SessionRecord> = self
            .user_handles(user)
            .iter()
            .filter_map(|h| self.inner.sessions.get(h).map(|r| SessionRecord::clone(&r)))
            .filter(|r| r.is_live(now) && r.user == user)
            .collect();
        records.sort_by_key(|r| r.created_at);
        Ok(records)
    }

    async fn end_user_sessions(
        &self,
        user: &str,
        keep: Option<&Handle>,
        now: SystemTime,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let mut ended = Vec::new();
        for handle in self.user_handles(user) {
            if keep == Some(&handle) {
                continue;
            }
            if let Some(record) = self.end_session(&handle, now).await? {
                ended.push(record);
            }
        }
        Ok(ended)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[async_trait]
impl RevocationStore for MemoryStore {
    async fn revoke(&self, entry: &Revocation) -> Result<(), StoreError> {
        let mut log = self
            .inner
            .revocations
            .write()
            .unwrap_or_else(|e| e.into_inner());
        log.next += 1;
        let seq = log.next;
        log.entries.insert(seq, entry.clone());
        match &entry.target {
            RevocationTarget::Token { jti } => {
                let until = log.tokens.entry(jti.clone()).or_insert(entry.until);
                *until = (*until).max(entry.until);
            }
            RevocationTarget::Session { handle } => {
                let until = log.sessions.entry(*handle).or_insert(entry.until);
                *until = (*until).max(entry.until);
            }
            RevocationTarget::User { user, not_before } => {
                let slot = log
                    .users
                    .entry(user.clone())
                    .or_insert((*not_before, entry.until));
                slot.0 = slot.0.max(*not_before);
                slot.1 = slot.1.max(entry.until);
            }
        }
        Ok(())
    }

    async fn is_revoked(
        &self,
        query: &RevocationQuery<'_>,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        let log = self
            .inner
            .revocations
            .read()
            .unwrap_or_else(|e| e.into_inner());
        let live = |until: &SystemTime| now < *until;
        Ok(log.tokens.get(query.jti).is_some_and(live)
            || log.sessions.get(query.session).is_some_and(live)
            || log
                .users
                .get(query.user)
                .is_some_and(|(nb, until)| now < *until && query.issued_at < unix_secs(*nb)))
    }

    async fn revocations_since(
        &self,
        cursor: u64,
        now: SystemTime,
    ) -> Result<RevocationChanges, StoreError> {
        let log = self
            .inner
            .revocations
            .read()
            .unwrap_or_else(|e| e.into_inner());
        let reset = cursor > log.next;
        let from = if reset { 0 } else { cursor };
        let entries = log
            .entries
            .range(from + 1..)
            .map(|(_, e)| e)
            .filter(|e| now < e.until)
            .cloned()
            .collect();
        Ok(RevocationChanges {
            entries,
            cursor: log.next,
            reset,
        })
    }
}

#[async_trait]
impl LoginThrottle for MemoryStore {
    async fn login_lock(
        &self,
        name: &str,
        now: SystemTime,
    ) -> Result<Option<SystemTime>, StoreError> {
        Ok(self
            .inner
            .failures
            .get(name)
            .filter(|f| f.is_locked(now))
            .and_then(|f| f.locked_until))
    }

    async fn record_login_failure(
        &self,
        name: &str,
        policy: &LockoutPolicy,
        now: SystemTime,
    ) -> Result<Option<SystemTime>, StoreError> {
        let mut entry = self
            .inner
            .failures
            .entry(name.to_owned())
            .or_insert(Failures {
                count: 0,
                last: now,
                locked_until: None,
            });
        let f = entry.value_mut();
        if f.is_locked(now) {
            return Ok(f.locked_until);
        }
        let stale = f.locked_until.is_some() || now >= f.last + policy.lockout;
        if stale {
            *f = Failures {
                count: 0,
                last: now,
                locked_until: None,
            };
        }
        f.count += 1;
        f.last = now;
        if f.count >= policy.max_failures {
            f.locked_until = Some(now + policy.lockout);
        }
        Ok(f.locked_until)
    }

    async fn clear_login_failures(&self, name: &str) -> Result<(), StoreError> {
        self.inner.failures.remove(name);
        Ok(())
    }
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn find_user(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        Ok(self.inner.users.get(username).map(|u| u.clone()))
    }

    async fn create_user(&self, user: &UserRecord) -> Result<bool, StoreError> {
        match self.inner.users.entry(user.username.clone()) {
            Entry::Occupied(_) => Ok(false),
            Entry::Vacant(slot) => {
                slot.insert(user.clone());
                Ok(true)
            }
        }
    }

    async fn set_password_hash(&self, username: &str, hash: &str) -> Result<bool, StoreError> {
        Ok(match self.inner.users.get_mut(username) {
            Some(mut user) => {
                user.password_hash = hash.to_owned();
                true
            }
            None => false,
        })
    }
}
