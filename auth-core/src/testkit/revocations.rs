//! Checks of [`RevocationStore`].

use std::slice;
use std::time::SystemTime;

use super::{HOUR, MINUTE, MS, SECOND, base_time, unique};
use crate::clock::{from_unix_secs, unix_secs};
use crate::secret::Handle;
use crate::store::{
    Revocation, RevocationChanges, RevocationQuery, RevocationStore, RevocationTarget,
};

/// Checks that live revocation entries deny tokens by `jti`, by session and
/// by user, and stop at their `until`.
///
/// A user entry denies tokens whose `iat` second is before `not_before`'s
/// second (here `not_before` falls mid-second): an `iat` one second earlier
/// is denied, the same second or later is not. No entry denies another
/// token, session or user. At `until` an entry no longer counts.
pub async fn revocations_deny_token_session_and_user<S: RevocationStore + ?Sized>(store: &S) {
    let now = from_unix_secs(unix_secs(SystemTime::now()));
    let iat = unix_secs(now);
    let until = now + HOUR;
    let user = unique("revoke");
    let stranger = unique("stranger");

    let token = Token::of(&user, iat);
    let clean = denied(store, &token, now).await;
    assert!(
        !clean,
        "is_revoked must answer false when nothing denies the token"
    );

    let jti = RevocationTarget::Token {
        jti: token.jti.clone(),
    };
    revoke(store, jti, until).await;
    let same_jti = Token {
        jti: token.jti.clone(),
        ..Token::of(&stranger, iat)
    };
    let at_until = [now, until - MS, until];
    let mut answers = Vec::new();
    for at in at_until {
        answers.push(denied(store, &same_jti, at).await);
    }
    assert_eq!(
        answers,
        [true, true, false],
        "a jti entry must deny its token until `until`, and not at `until`"
    );
    let other = Token {
        sid: token.sid,
        ..Token::of(&user, iat)
    };
    let other = denied(store, &other, now).await;
    assert!(!other, "a jti entry must deny no other token");

    let in_session = Token::of(&stranger, iat);
    let sid = RevocationTarget::Session {
        handle: in_session.sid,
    };
    revoke(store, sid, until).await;
    let mut answers = Vec::new();
    for at in at_until {
        answers.push(denied(store, &in_session, at).await);
    }
    assert_eq!(
        answers,
        [true, true, false],
        "a session entry must deny its tokens until `until`, and not at `until`"
    );
    let other = denied(store, &Token::of(&user, iat), now).await;
    assert!(!other, "a session entry must deny no other session");

    let not_before = now + 500 * MS;
    let by_user = RevocationTarget::User {
        user: user.clone(),
        not_before,
    };
    revoke(store, by_user, until).await;
    let mut answers = Vec::new();
    for issued in [iat - 1, iat, iat + 1] {
        answers.push(denied(store, &Token::of(&user, issued), now).await);
    }
    assert_eq!(
        answers,
        [true, false, false],
        "a user entry must deny tokens issued in seconds before `not_before`'s, \
         and not in its own second or later"
    );

    let earlier = Token::of(&user, iat - 1);
    let expired = denied(store, &earlier, until).await;
    assert!(!expired, "a user entry must stop counting at `until`");
    let other = denied(store, &Token::of(&stranger, iat - 1), now).await;
    assert!(!other, "a user entry must deny no other user");
}

/// Checks that `revocations_since` answers each entry appended after a
/// cursor exactly once, in order, with a cursor to go on from.
///
/// Entries expired at `now` are left out. A cursor the store never gave
/// answers `reset` with every live entry. Other checks may append at the
/// same time, so only this check's own entries are compared.
pub async fn revocations_since_cursor<S: RevocationStore + ?Sized>(store: &S) {
    let now = base_time();
    let start = since(store, 0, now).await.cursor;

    let until = now + HOUR;
    let first = entry(until);
    let lapsed = entry(now + 30 * SECOND);
    let second = entry(until);
    for e in [&first, &lapsed, &second] {
        store.revoke(e).await.expect("revoke");
    }
    let mine = [&first, &lapsed, &second].map(|e| e.target.clone());
    let own = |entries: Vec<Revocation>| -> Vec<Revocation> {
        entries
            .into_iter()
            .filter(|e| mine.contains(&e.target))
            .collect()
    };

    let read_at = now + MINUTE;
    let changes = since(store, start, read_at).await;
    assert!(
        !changes.reset,
        "revocations_since must not reset a cursor it gave"
    );
    assert_eq!(
        own(changes.entries),
        [first.clone(), second.clone()],
        "revocations_since must answer new live entries in order, expired ones left out"
    );

    let cursor = changes.cursor;
    let again = since(store, cursor, read_at).await;
    assert!(
        !again.reset,
        "revocations_since must not reset a cursor it gave"
    );
    assert!(
        own(again.entries).is_empty(),
        "revocations_since must not answer an entry twice"
    );

    let third = entry(until);
    store.revoke(&third).await.expect("revoke");
    let newer = since(store, cursor, read_at).await;
    assert!(
        !newer.reset,
        "revocations_since must not reset a cursor it gave"
    );
    let entries: Vec<_> = newer
        .entries
        .into_iter()
        .filter(|e| e.target == third.target)
        .collect();
    assert_eq!(
        entries,
        slice::from_ref(&third),
        "revocations_since must answer a new entry"
    );
    assert_ne!(
        newer.cursor, cursor,
        "revocations_since must move the cursor past new entries"
    );

    let unknown = since(store, u64::MAX, read_at).await;
    assert!(
        unknown.reset,
        "revocations_since must reset a cursor it never gave"
    );
    let seen: Vec<_> = unknown.entries.into_iter().map(|e| e.target).collect();
    assert!(
        [&first, &second, &third]
            .iter()
            .all(|e| seen.contains(&e.target)),
        "a reset must answer every live entry"
    );
    assert!(
        !seen.contains(&lapsed.target),
        "a reset must leave out expired entries"
    );
}

/// An access token as a revocation check sees it.
struct Token {
    jti: String,
    sid: Handle,
    user: String,
    iat: u64,
}

impl Token {
    /// A token of `user` issued in second `iat`, with a new `jti` and `sid`.
    fn of(user: &str, iat: u64) -> Self {
        Self {
            jti: unique("jti"),
            sid: Handle::generate(),
            user: user.to_owned(),
            iat,
        }
    }

    fn query(&self) -> RevocationQuery<'_> {
        RevocationQuery {
            jti: &self.jti,
            session: &self.sid,
            user: &self.user,
            issued_at: self.iat,
        }
    }
}

/// A token entry with a new `jti`.
fn entry(until: SystemTime) -> Revocation {
    Revocation {
        target: RevocationTarget::Token { jti: unique("jti") },
        until,
    }
}

async fn revoke<S: RevocationStore + ?Sized>(
    store: &S,
    target: RevocationTarget,
    until: SystemTime,
) {
    let entry = Revocation { target, until };
    store.revoke(&entry).await.expect("revoke");
}

/// Whether `token` is revoked at `now`.
async fn denied<S: RevocationStore + ?Sized>(store: &S, token: &Token, now: SystemTime) -> bool {
    let answer = store.is_revoked(&token.query(), now).await;
    answer.expect("is_revoked")
}

async fn since<S: RevocationStore + ?Sized>(
    store: &S,
    cursor: u64,
    now: SystemTime,
) -> RevocationChanges {
    let answer = store.revocations_since(cursor, now).await;
    answer.expect("revocations_since")
}
