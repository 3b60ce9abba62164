//! [`RevocationStore`] for [`RedisStore`].
//!
//! Every revocation key shares the hash tag `{rev}`, so `revoke` (append to
//! the log, set the lookup key, trim, publish) is one atomic script, and
//! the strict check `is_revoked` reads the `jti`, session and user entries
//! in one single-slot script: one round trip, correct in a cluster.

use std::time::SystemTime;

use async_trait::async_trait;
use auth_core::StoreError;
use auth_core::clock::unix_millis;
use auth_core::store::{
    Revocation, RevocationChanges, RevocationQuery, RevocationSignal, RevocationStore,
    RevocationTarget,
};
use tokio::sync::watch;

use crate::conn::corrupt;
use crate::scripts::SCRIPTS;
use crate::store::RedisStore;

#[async_trait]
impl RevocationStore for RedisStore {
    async fn revoke(&self, entry: &Revocation) -> Result<(), StoreError> {
        let json = serde_json::to_string(entry).map_err(StoreError::backend)?;
        let keys = self.keys();
        let (kind, target, not_before) = match &entry.target {
            RevocationTarget::Token { jti } => ("jti", keys.revoked_token(jti), 0),
            RevocationTarget::Session { handle } => {
                ("sid", keys.revoked_session(handle.as_str()), 0)
            }
            RevocationTarget::User { user, not_before } => {
                ("user", keys.revoked_user(user), unix_millis(*not_before))
            }
        };
        let [seq, log, until] = [
            keys.revocation_seq(),
            keys.revocation_log(),
            keys.revocation_until(),
        ];
        let channel = keys.revocation_channel();

        self.run(|mut link| async move {
            SCRIPTS
                .revoke
                .key(seq)
                .key(log)
                .key(until)
                .key(target)
                .arg(kind)
                .arg(unix_millis(entry.until))
                .arg(json)
                .arg(not_before)
                .arg(channel)
                .invoke_async::<()>(&mut link)
                .await
        })
        .await
    }

    async fn is_revoked(
        &self,
        query: &RevocationQuery<'_>,
        now: SystemTime,
    ) -> Result<bool, StoreError> {
        let keys = self.keys();
        let [jti, sid, user] = [
            keys.revoked_token(query.jti),
            keys.revoked_session(query.session.as_str()),
            keys.revoked_user(query.user),
        ];
        let denied: i64 = self
            .run(|mut link| async move {
                SCRIPTS
                    .is_revoked
                    .key(jti)
                    .key(sid)
                    .key(user)
                    .arg(unix_millis(now))
                    .arg(query.issued_at)
                    .invoke_async(&mut link)
                    .await
            })
            .await?;
        Ok(denied == 1)
    }

    async fn revocations_since(
        &self,
        cursor: u64,
        now: SystemTime,
    ) -> Result<RevocationChanges, StoreError> {
        let keys = self.keys();
        let [seq, log] = [keys.revocation_seq(), keys.revocation_log()];
        let (current, reset, members): (String, i64, Vec<String>) = self
            .run(|mut link| async move {
                SCRIPTS
                    .revocations_since
                    .key(seq)
                    .key(log)
                    .arg(cursor)
                    .invoke_async(&mut link)
                    .await
            })
            .await?;

        let cursor = current
            .parse()
            .map_err(|_| corrupt("the revocation sequence is not a number"))?;
        let mut entries = Vec::with_capacity(members.len());
        for member in &members {
            let entry = parse_member(member)?;
            if now < entry.until {
                entries.push(entry);
            }
        }
        Ok(RevocationChanges {
            entries,
            cursor,
            reset: reset == 1,
        })
    }

    fn revocation_signal(&self) -> Option<watch::Receiver<RevocationSignal>> {
        self.signal()
    }
}

/// A log member is `SEQ:JSON`; the sequence number only keeps equal
/// entries apart.
fn parse_member(member: &str) -> Result<Revocation, StoreError> {
    let (_, json) = member
        .split_once(':')
        .ok_or_else(|| corrupt("a revocation log entry has no sequence number"))?;
    serde_json::from_str(json).map_err(StoreError::corrupt)
}

#[cfg(test)]
mod tests {
    use auth_core::clock::from_unix_millis;

    use super::*;

    #[test]
    fn log_members_parse_back_to_their_entry() {
        let entry = Revocation {
            target: RevocationTarget::User {
                user: "a:b".to_owned(),
                not_before: from_unix_millis(1_700_000_000_500),
            },
            until: from_unix_millis(1_700_000_900_000),
        };
        let member = format!("42:{}", serde_json::to_string(&entry).unwrap());
        assert_eq!(parse_member(&member).unwrap(), entry);
        assert!(matches!(
            parse_member("nonsense"),
            Err(StoreError::Corrupt(_))
        ));
    }
}
