//! [`SessionStore`] for [`RedisStore`].
//!
//! A session lives in one hash tagged by its handle, so `find_session` and
//! `touch_session` are one single-slot round trip each. The user's index
//! lives under the user's tag and is written by a separate single-slot
//! script: before the record on create (so that no live record is ever
//! missing from its index, which "end every session" relies on) and after
//! it on end. The index may therefore hold members whose record is gone or
//! not yet written; readers skip them, and every write and read of the
//! index prunes members whose absolute deadline has passed on the server's
//! clock.

use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use auth_core::StoreError;
use auth_core::clock::{from_unix_millis, unix_millis};
use auth_core::secret::Handle;
use auth_core::store::{RevocationSignal, SessionRecord, SessionStore};
use deadpool_redis::redis::{self, RedisError};
use futures_util::future::try_join_all;

use crate::conn::Link;
use crate::scripts::SCRIPTS;
use crate::store::RedisStore;

/// What the end script answers: `(live, rec, seen, user)`.
type Ended = Option<(i64, String, u64, String)>;

#[async_trait]
impl SessionStore for RedisStore {
    async fn create_session(&self, record: &SessionRecord) -> Result<(), StoreError> {
        let rec = encode(record)?;
        self.index_add(&record.user, &record.handle, record).await?;

        let key = self.keys().session(record.handle.as_str());
        self.run(|mut link| async move {
            SCRIPTS
                .session_create
                .key(&key)
                .arg(rec)
                .arg(unix_millis(record.last_seen_at))
                .arg(record.version)
                .arg(millis(record.idle_timeout))
                .arg(unix_millis(record.absolute_deadline))
                .arg(&record.user)
                .arg(unix_millis(record.expires_at()))
                .invoke_async::<()>(&mut link)
                .await
        })
        .await
    }

    async fn find_session(
        &self,
        handle: &Handle,
        now: SystemTime,
    ) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        let key = self.keys().session(handle.as_str());
        let (rec, seen): (Option<String>, Option<u64>) = self
            .run(|mut link| async move { read_session(&mut link, &key).await })
            .await?;

        let Some(rec) = rec else {
            return Ok(None);
        };
        let record = decode(&rec, seen)?;
        Ok(record.is_live(now).then(|| Arc::new(record)))
    }

    async fn touch_session(&self, handle: &Handle, at: SystemTime) -> Result<(), StoreError> {
        let key = self.keys().session(handle.as_str());
        self.run(|mut link| async move {
            SCRIPTS
                .session_touch
                .key(&key)
                .arg(unix_millis(at))
                .invoke_async::<()>(&mut link)
                .await
        })
        .await
    }

    async fn replace_session(
        &self,
        record: &SessionRecord,
        expected_version: u64,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        let rec = encode(record)?;
        let key = self.keys().session(record.handle.as_str());
        let replaced: Option<(String, u64)> = self
            .run(|mut link| async move {
                SCRIPTS
                    .session_replace
                    .key(&key)
                    .arg(expected_version)
                    .arg(unix_millis(now))
                    .arg(rec)
                    .arg(unix_millis(record.last_seen_at))
                    .arg(record.version)
                    .arg(millis(record.idle_timeout))
                    .arg(unix_millis(record.absolute_deadline))
                    .arg(&record.user)
                    .arg(unix_millis(record.expires_at()))
                    .invoke_async(&mut link)
                    .await
            })
            .await?;

        let Some((old_user, old_deadline)) = replaced else {
            return Ok(false);
        };
        // The index is scored by the absolute deadline, which a rotation
        // keeps; only a record that changed it (or its user) moves there.
        if old_user != record.user {
            self.index_remove(&old_user, std::slice::from_ref(&record.handle))
                .await;
            self.index_add(&record.user, &record.handle, record).await?;
        } else if old_deadline != unix_millis(record.absolute_deadline) {
            self.index_add(&record.user, &record.handle, record).await?;
        }
        Ok(true)
    }

    async fn end_session(
        &self,
        handle: &Handle,
        now: SystemTime,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let key = self.keys().session(handle.as_str());
        let channel = self.keys().revocation_channel();
        let ended: Ended = self
            .run(|mut link| async move { end(&mut link, &key, &channel, now, None).await })
            .await?;

        let Some((live, rec, seen, user)) = ended else {
            return Ok(None);
        };
        self.index_remove(&user, std::slice::from_ref(handle)).await;
        if live == 0 {
            return Ok(None);
        }
        decode(&rec, Some(seen)).map(Some)
    }

    async fn list_sessions(
        &self,
        user: &str,
        now: SystemTime,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let handles = self.index_read(user, now).await?;
        if handles.is_empty() {
            return Ok(Vec::new());
        }

        let keys: Vec<_> = handles.iter().map(|h| self.keys().session(h)).collect();
        let found: Vec<(Option<String>, Option<u64>)> = self
            .run(|link| async move {
                try_join_all(keys.iter().map(|key| {
                    let mut link = link.clone();
                    async move { read_session(&mut link, key).await }
                }))
                .await
            })
            .await?;

        let mut records = Vec::with_capacity(found.len());
        for (rec, seen) in found {
            let Some(rec) = rec else { continue };
            let record = decode(&rec, seen)?;
            if record.user == user && record.is_live(now) {
                records.push(record);
            }
        }
        records.sort_by(|a, b| (a.created_at, &a.handle).cmp(&(b.created_at, &b.handle)));
        Ok(records)
    }

    async fn end_user_sessions(
        &self,
        user: &str,
        keep: Option<&Handle>,
        now: SystemTime,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let handles: Vec<String> = self
            .index_read(user, now)
            .await?
            .into_iter()
            .filter(|h| keep.is_none_or(|k| k.as_str() != h))
            .collect();
        if handles.is_empty() {
            return Ok(Vec::new());
        }

        let keys: Vec<_> = handles.iter().map(|h| self.keys().session(h)).collect();
        let channel = self.keys().revocation_channel();
        let channel = channel.as_str();
        let answers: Vec<Ended> = self
            .run(|link| async move {
                try_join_all(keys.iter().map(|key| {
                    let mut link = link.clone();
                    async move { end(&mut link, key, channel, now, Some(user)).await }
                }))
                .await
            })
            .await?;

        let mut gone = Vec::new();
        let mut ended = Vec::new();
        for (handle, answer) in handles.iter().zip(answers) {
            let Some((live, rec, seen, _)) = answer else {
                continue;
            };
            if let Some(handle) = Handle::parse(handle) {
                gone.push(handle);
            }
            if live == 1 {
                ended.push(decode(&rec, Some(seen))?);
            }
        }
        self.index_remove(user, &gone).await;
        ended.sort_by(|a, b| (a.created_at, &a.handle).cmp(&(b.created_at, &b.handle)));
        Ok(ended)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.run(|mut link| async move { redis::cmd("PING").query_async::<()>(&mut link).await })
            .await
    }

    /// The revocation subscription: the end script publishes on the same
    /// channel, so a session ended anywhere bumps its notices.
    fn session_signal(&self) -> Option<tokio::sync::watch::Receiver<RevocationSignal>> {
        self.signal()
    }
}

impl RedisStore {
    /// Adds (or rescores) `handle` in `user`'s index.
    async fn index_add(
        &self,
        user: &str,
        handle: &Handle,
        record: &SessionRecord,
    ) -> Result<(), StoreError> {
        let index = self.keys().user_sessions(user);
        self.run(|mut link| async move {
            SCRIPTS
                .index_add
                .key(&index)
                .arg(handle.as_str())
                .arg(unix_millis(record.absolute_deadline))
                .invoke_async::<()>(&mut link)
                .await
        })
        .await
    }

    /// The handles in `user`'s index whose absolute deadline is after
    /// `now`, pruning the dead ones.
    async fn index_read(&self, user: &str, now: SystemTime) -> Result<Vec<String>, StoreError> {
        let index = self.keys().user_sessions(user);
        self.run(|mut link| async move {
            SCRIPTS
                .index_read
                .key(&index)
                .arg(unix_millis(now))
                .invoke_async(&mut link)
                .await
        })
        .await
    }

    /// Removes ended records from `user`'s index. A failure only leaves
    /// members that readers skip and pruning removes, so it is logged and
    /// not reported: the records themselves are gone.
    async fn index_remove(&self, user: &str, handles: &[Handle]) {
        if handles.is_empty() {
            return;
        }
        let index = self.keys().user_sessions(user);
        let removed = self
            .run(|mut link| async move {
                redis::cmd("ZREM")
                    .arg(&index)
                    .arg(handles.iter().map(Handle::as_str).collect::<Vec<_>>())
                    .query_async::<()>(&mut link)
                    .await
            })
            .await;
        if let Err(error) = removed {
            tracing::warn!(error = %error, "could not remove ended sessions from their user's index");
        }
    }
}

/// `rec` and `seen` of one session, in one `HMGET`.
async fn read_session(
    link: &mut Link,
    key: &str,
) -> Result<(Option<String>, Option<u64>), RedisError> {
    redis::cmd("HMGET")
        .arg(key)
        .arg("rec")
        .arg("seen")
        .query_async(link)
        .await
}

/// Deletes one session, only if it belongs to `user` when one is given.
async fn end(
    link: &mut Link,
    key: &str,
    channel: &str,
    now: SystemTime,
    user: Option<&str>,
) -> Result<Ended, RedisError> {
    SCRIPTS
        .session_end
        .key(key)
        .arg(unix_millis(now))
        .arg(if user.is_some() { "1" } else { "0" })
        .arg(user.unwrap_or(""))
        .arg(channel)
        .invoke_async(link)
        .await
}

fn encode(record: &SessionRecord) -> Result<String, StoreError> {
    serde_json::to_string(record).map_err(StoreError::backend)
}

/// The record from its JSON, with `last_seen_at` as touched since.
fn decode(rec: &str, seen: Option<u64>) -> Result<SessionRecord, StoreError> {
    let mut record: SessionRecord = serde_json::from_str(rec).map_err(StoreError::corrupt)?;
    if let Some(seen) = seen {
        record.last_seen_at = from_unix_millis(seen);
    }
    Ok(record)
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use auth_core::SecretHash;
    use auth_core::store::SessionKind;

    use super::*;

    fn record() -> SessionRecord {
        let at = from_unix_millis(1_700_000_000_123);
        SessionRecord {
            handle: Handle::generate(),
            user: "alice".to_owned(),
            roles: Vec::new(),
            kind: SessionKind::Refresh,
            version: 7,
            secret: SecretHash::from_bytes([1; 32]),
            previous: Some(SecretHash::from_bytes([2; 32])),
            spent: Vec::new(),
            rotated_at: at,
            created_at: at,
            last_seen_at: at,
            idle_timeout: Duration::from_secs(60),
            absolute_deadline: at + Duration::from_secs(3600),
        }
    }

    #[test]
    fn records_round_trip_with_the_touched_time() {
        let record = record();
        let rec = encode(&record).unwrap();
        assert!(decode(&rec, None).unwrap() == record);

        let later = unix_millis(record.last_seen_at) + 5;
        let touched = decode(&rec, Some(later)).unwrap();
        assert_eq!(touched.last_seen_at, from_unix_millis(later));
        assert_eq!(touched.version, record.version);
    }

    #[test]
    fn records_hold_no_secret_but_its_hash() {
        let rec = encode(&record()).unwrap();
        assert!(rec.contains(&"01".repeat(32)), "{rec}");
        assert!(matches!(
            decode("{\"handle\":", None),
            Err(StoreError::Corrupt(_))
        ));
    }
}
