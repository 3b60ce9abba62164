//! The key layout: every key this crate writes, in one place.
//!
//! Each key is `PREFIX` followed by a hash tag and a suffix. The hash tag,
//! the first `{...}` of a key, decides its Redis Cluster slot, so every
//! key that one script touches shares a tag:
//!
//! | key | type | holds | expires |
//! | --- | --- | --- | --- |
//! | `P{h:HANDLE}` | hash | one session: `rec` (JSON), `seen`, `ver`, `idle`, `abs`, `user` | at the session's deadline |
//! | `P{u:USER}sessions` | sorted set | the user's session handles, scored by absolute deadline | at the latest score |
//! | `P{u:USER}user` | hash | the user: `rec` (JSON), `pw` (a newer password hash) | never |
//! | `P{u:NAME}fails` | hash | failed logins of a name: `count`, `last`, `locked` | when the failures are forgotten |
//! | `P{rev}seq` | string | the revocation log's last sequence number | with the last live entry |
//! | `P{rev}log` | sorted set | revocation entries, scored by sequence number | with the last live entry |
//! | `P{rev}until` | sorted set | the same entries, scored by their `until` | with the last live entry |
//! | `P{rev}jti:JTI` | string | a denied token's `until` | at `until` |
//! | `P{rev}sid:HANDLE` | string | a denied session's `until` | at `until` |
//! | `P{rev}user:USER` | hash | a user's `nb` (not before) and `until` | at `until` |
//!
//! Names taken from outside (users, handles, `jti`s) are written with `%`,
//! `{` and `}` percent-encoded, so no name can end a hash tag early or
//! make two names share a key.

use std::borrow::Cow;

/// The keys of one store, built from its prefix.
#[derive(Clone, Debug)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    /// Keys under `prefix`, which must not contain `{` or `}`.
    pub(crate) fn new(prefix: &str) -> Self {
        debug_assert!(!prefix.contains(['{', '}']));
        Self {
            prefix: prefix.to_owned(),
        }
    }

    /// The prefix every key starts with.
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// One session record, tagged by its handle.
    pub(crate) fn session(&self, handle: &str) -> String {
        format!("{}{{h:{}}}", self.prefix, escape(handle))
    }

    /// A user's session index, tagged by the user.
    pub(crate) fn user_sessions(&self, user: &str) -> String {
        format!("{}{{u:{}}}sessions", self.prefix, escape(user))
    }

    /// A user record, tagged by the user.
    pub(crate) fn user(&self, user: &str) -> String {
        format!("{}{{u:{}}}user", self.prefix, escape(user))
    }

    /// The failed-login counter of an account name, tagged by the name.
    pub(crate) fn failures(&self, name: &str) -> String {
        format!("{}{{u:{}}}fails", self.prefix, escape(name))
    }

    /// The revocation log's sequence counter.
    pub(crate) fn revocation_seq(&self) -> String {
        format!("{}{{rev}}seq", self.prefix)
    }

    /// The revocation log, by sequence number.
    pub(crate) fn revocation_log(&self) -> String {
        format!("{}{{rev}}log", self.prefix)
    }

    /// The revocation log, by `until`.
    pub(crate) fn revocation_until(&self) -> String {
        format!("{}{{rev}}until", self.prefix)
    }

    /// The denial of one access token.
    pub(crate) fn revoked_token(&self, jti: &str) -> String {
        format!("{}{{rev}}jti:{}", self.prefix, escape(jti))
    }

    /// The denial of one session's access tokens.
    pub(crate) fn revoked_session(&self, handle: &str) -> String {
        format!("{}{{rev}}sid:{}", self.prefix, escape(handle))
    }

    /// A user's "not before" time.
    pub(crate) fn revoked_user(&self, user: &str) -> String {
        format!("{}{{rev}}user:{}", self.prefix, escape(user))
    }

    /// The pub/sub channel that announces revocations.
    pub(crate) fn revocation_channel(&self) -> String {
        format!("{}revocations", self.prefix)
    }
}

/// Percent-encodes `%`, `{` and `}`, the characters that could move a hash
/// tag or make two names collide.
fn escape(name: &str) -> Cow<'_, str> {
    if !name.contains(['%', '{', '}']) {
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        match c {
            '%' => out.push_str("%25"),
            '{' => out.push_str("%7B"),
            '}' => out.push_str("%7D"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The hash tag of `key` as Redis Cluster computes it: the text between
/// the first `{` and the next `}`, if non-empty; otherwise the whole key.
#[cfg(test)]
fn hash_tag(key: &str) -> &str {
    if let Some(open) = key.find('{')
        && let Some(len) = key[open + 1..].find('}')
        && len > 0
    {
        return &key[open + 1..open + 1 + len];
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_start_with_the_prefix_and_carry_their_tag() {
        let keys = Keys::new("auth:");
        assert_eq!(keys.session("abc"), "auth:{h:abc}");
        assert_eq!(keys.user_sessions("alice"), "auth:{u:alice}sessions");
        assert_eq!(keys.user("alice"), "auth:{u:alice}user");
        assert_eq!(keys.failures("alice"), "auth:{u:alice}fails");
        assert_eq!(keys.revoked_token("j1"), "auth:{rev}jti:j1");
        assert_eq!(keys.revocation_channel(), "auth:revocations");
        assert_eq!(keys.prefix(), "auth:");
    }

    #[test]
    fn keys_of_one_user_share_a_slot() {
        let keys = Keys::new("p:");
        for user in ["alice", "a}b", "{x}", "%7D", ""] {
            let tags = [
                keys.user_sessions(user),
                keys.user(user),
                keys.failures(user),
            ]
            .map(|k| hash_tag(&k).to_owned());
            assert!(tags.iter().all(|t| *t == tags[0]), "{user:?}: {tags:?}");
            assert_eq!(tags[0], format!("u:{}", escape(user)));
        }
    }

    #[test]
    fn revocation_keys_share_one_slot_whatever_the_name() {
        let keys = Keys::new("p:");
        let all = [
            keys.revocation_seq(),
            keys.revocation_log(),
            keys.revocation_until(),
            keys.revoked_token("}{"),
            keys.revoked_session("h"),
            keys.revoked_user("{bob}"),
        ];
        assert!(all.iter().all(|k| hash_tag(k) == "rev"), "{all:?}");
    }

    #[test]
    fn names_that_differ_make_keys_that_differ() {
        let keys = Keys::new("p:");
        let names = ["a}b", "a%7Db", "a%b", "a%25b", "a{b", "a%7Bb", "ab"];
        let mut made: Vec<_> = names.iter().map(|n| keys.user(n)).collect();
        made.sort();
        made.dedup();
        assert_eq!(made.len(), names.len());
        assert_eq!(escape("plain"), Cow::Borrowed("plain"));
    }
}
