//! [`LoginThrottle`] and [`UserStore`] for [`RedisStore`].

use std::time::SystemTime;

use async_trait::async_trait;
use auth_core::StoreError;
use auth_core::clock::{from_unix_millis, unix_millis};
use auth_core::store::{LockoutPolicy, LoginThrottle, UserRecord, UserStore};
use deadpool_redis::redis;

use crate::scripts::SCRIPTS;
use crate::store::RedisStore;

#[async_trait]
impl LoginThrottle for RedisStore {
    async fn login_lock(
        &self,
        name: &str,
        now: SystemTime,
    ) -> Result<Option<SystemTime>, StoreError> {
        let key = self.keys().failures(name);
        let locked: Option<u64> = self
            .run(|mut link| async move {
                redis::cmd("HGET")
                    .arg(key)
                    .arg("locked")
                    .query_async(&mut link)
                    .await
            })
            .await?;
        Ok(locked.map(from_unix_millis).filter(|until| now < *until))
    }

    async fn record_login_failure(
        &self,
        name: &str,
        policy: &LockoutPolicy,
        now: SystemTime,
    ) -> Result<Option<SystemTime>, StoreError> {
        let key = self.keys().failures(name);
        let lockout = u64::try_from(policy.lockout.as_millis()).unwrap_or(u64::MAX);
        let locked: Option<u64> = self
            .run(|mut link| async move {
                SCRIPTS
                    .login_failure
                    .key(key)
                    .arg(unix_millis(now))
                    .arg(policy.max_failures)
                    .arg(lockout)
                    .invoke_async(&mut link)
                    .await
            })
            .await?;
        Ok(locked.map(from_unix_millis))
    }

    async fn clear_login_failures(&self, name: &str) -> Result<(), StoreError> {
        let key = self.keys().failures(name);
        self.run(|mut link| async move {
            redis::cmd("DEL")
                .arg(key)
                .query_async::<()>(&mut link)
                .await
        })
        .await
    }
}

/// Users are the one kind of data kept without a TTL: they are the
/// application's accounts, not state that lapses.
#[async_trait]
impl UserStore for RedisStore {
    async fn find_user(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        let key = self.keys().user(username);
        let (rec, pw): (Option<String>, Option<String>) = self
            .run(|mut link| async move {
                redis::cmd("HMGET")
                    .arg(key)
                    .arg("rec")
                    .arg("pw")
                    .query_async(&mut link)
                    .await
            })
            .await?;

        let Some(rec) = rec else {
            return Ok(None);
        };
        let mut user: UserRecord = serde_json::from_str(&rec).map_err(StoreError::corrupt)?;
        if let Some(pw) = pw {
            user.password_hash = pw;
        }
        Ok(Some(user))
    }

    async fn create_user(&self, user: &UserRecord) -> Result<bool, StoreError> {
        let key = self.keys().user(&user.username);
        let rec = serde_json::to_string(user).map_err(StoreError::backend)?;
        let created: i64 = self
            .run(|mut link| async move {
                redis::cmd("HSETNX")
                    .arg(key)
                    .arg("rec")
                    .arg(rec)
                    .query_async(&mut link)
                    .await
            })
            .await?;
        Ok(created == 1)
    }

    async fn set_password_hash(&self, username: &str, hash: &str) -> Result<bool, StoreError> {
        let key = self.keys().user(username);
        let set: i64 = self
            .run(|mut link| async move {
                SCRIPTS
                    .user_set_password
                    .key(key)
                    .arg(hash)
                    .invoke_async(&mut link)
                    .await
            })
            .await?;
        Ok(set == 1)
    }
}
