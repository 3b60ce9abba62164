//! Checks of [`SessionStore`].

use std::slice;
use std::sync::Arc;
use std::time::SystemTime;

use super::{HOUR, MINUTE, MS, SECOND, all_at_once, base_time, unique};
use crate::secret::{Handle, SecretHash, random};
use crate::store::{SessionKind, SessionRecord, SessionStore};

/// Checks that a new record is found exactly as created until it is ended.
///
/// A cookie session and a refresh family (with `previous` and `spent`
/// hashes) must each come back field for field, times to the millisecond;
/// an unknown handle finds nothing; `end_session` answers the record once
/// and `None` after; an ended record leaves its user's index; `ping`
/// answers `Ok`.
pub async fn sessions_create_find_end<S: SessionStore + ?Sized>(store: &S) {
    store.ping().await.expect("ping");
    let now = base_time();
    let user = unique("create");

    let cookie = session(&user, now);
    let mut family = rotated(&session(&user, now), now + MS);
    family.kind = SessionKind::Refresh;
    family.roles = vec!["admin".to_owned(), "user".to_owned()];
    family.spent = (0..3).map(|_| random_hash()).collect();

    for record in [&cookie, &family] {
        store.create_session(record).await.expect("create_session");
        let found = find(store, &record.handle, now).await;
        assert_record(
            found,
            record,
            "find_session must answer a new record as created",
        );
    }

    let unknown = find(store, &Handle::generate(), now).await;
    assert!(
        unknown.is_none(),
        "find_session must answer None for an unknown handle"
    );

    let later = now + SECOND;
    for record in [&cookie, &family] {
        let ended = store.end_session(&record.handle, later).await;
        let ended = ended.expect("end_session");
        assert_record(
            ended,
            record,
            "end_session must answer the live record it deletes",
        );

        let found = find(store, &record.handle, later).await;
        assert!(
            found.is_none(),
            "find_session must answer None after end_session"
        );

        let again = store.end_session(&record.handle, later).await;
        let again = again.expect("end_session");
        assert!(again.is_none(), "a second end_session must answer None");
    }

    let left = list(store, &user, later).await;
    assert!(
        left.is_empty(),
        "list_sessions must not answer ended records"
    );
}

/// Checks that a record ends at its idle deadline or its absolute deadline,
/// whichever comes first.
///
/// One millisecond before the deadline the record is found; at the deadline
/// `find_session`, `list_sessions` and `end_session` all treat it as absent.
pub async fn sessions_expire_by_idle_and_absolute_deadline<S: SessionStore + ?Sized>(store: &S) {
    let now = base_time();
    let user = unique("expire");

    let idle = session(&user, now);
    let mut short = session(&user, now);
    short.absolute_deadline = now + 30 * MINUTE;

    let cases = [
        (&idle, now + HOUR, "idle deadline"),
        (&short, now + 30 * MINUTE, "absolute deadline"),
    ];
    for (record, _, _) in cases {
        store.create_session(record).await.expect("create_session");
    }

    for (record, deadline, what) in cases {
        let before = find(store, &record.handle, deadline - MS).await;
        assert!(
            before.is_some(),
            "a record must be live 1 ms before its {what}"
        );

        let at = find(store, &record.handle, deadline).await;
        assert!(
            at.is_none(),
            "find_session must answer None at a record's {what}"
        );

        let listed = list(store, &user, deadline).await;
        assert!(
            !listed.iter().any(|r| r.handle == record.handle),
            "list_sessions must leave out a record at its {what}"
        );

        let ended = store.end_session(&record.handle, deadline).await;
        let ended = ended.expect("end_session");
        assert!(
            ended.is_none(),
            "end_session must answer None at a record's {what}"
        );
    }
}

/// Checks that `touch_session` moves `last_seen_at`, and with it the idle
/// deadline, forward only.
///
/// A later touch changes `last_seen_at` and nothing else; an earlier one
/// changes nothing; no touch moves the absolute deadline; a touch at or
/// after a record's deadline neither changes nor revives it; touching an
/// unknown handle creates nothing.
pub async fn sessions_touch_extends_idle_deadline_only_forward<S: SessionStore + ?Sized>(
    store: &S,
) {
    let now = base_time();
    let user = unique("touch");
    let mut record = session(&user, now);
    record.absolute_deadline = now + 2 * HOUR;
    store.create_session(&record).await.expect("create_session");

    let first = now + 30 * MINUTE;
    touch(store, &record.handle, first).await;
    let mut expected = record.clone();
    expected.last_seen_at = first;
    let found = find(store, &record.handle, first).await;
    assert_record(
        found,
        &expected,
        "touch_session must set last_seen_at and nothing else",
    );

    let past_first_idle = find(store, &record.handle, now + HOUR + MINUTE).await;
    assert!(
        past_first_idle.is_some(),
        "touch_session must move the idle deadline forward"
    );

    touch(store, &record.handle, now + 10 * MINUTE).await;
    let found = find(store, &record.handle, first).await;
    assert_record(
        found,
        &expected,
        "touch_session with an earlier time must change nothing",
    );

    let second = now + 80 * MINUTE;
    touch(store, &record.handle, second).await;
    expected.last_seen_at = second;
    let found = find(store, &record.handle, second).await;
    assert_record(
        found,
        &expected,
        "touch_session must set last_seen_at and nothing else",
    );

    let at_absolute = find(store, &record.handle, now + 2 * HOUR).await;
    assert!(
        at_absolute.is_none(),
        "touch_session must not move the absolute deadline"
    );

    let lapsed = session(&user, now);
    store.create_session(&lapsed).await.expect("create_session");
    touch(store, &lapsed.handle, now + HOUR).await;
    let revived = find(store, &lapsed.handle, now + HOUR).await;
    assert!(
        revived.is_none(),
        "touch_session must not revive an expired record"
    );
    let found = find(store, &lapsed.handle, now + HOUR - MS).await;
    assert_record(
        found,
        &lapsed,
        "touch_session must leave an expired record alone",
    );

    let unknown = Handle::generate();
    touch(store, &unknown, now).await;
    let found = find(store, &unknown, now).await;
    assert!(
        found.is_none(),
        "touch_session must not create a record for an unknown handle"
    );

    end(store, &record.handle, now).await;
    end(store, &lapsed.handle, now).await;
}

/// Checks that `replace_session` is a compare-and-swap on the version.
///
/// A wrong expected version answers `false` and leaves the record as it
/// was; the stored version answers `true` and stores the new record; the
/// replaced version is refused afterwards; an expired record is refused and
/// left as it was; an unknown handle is refused and no record appears.
pub async fn sessions_replace_is_compare_and_swap<S: SessionStore + ?Sized>(store: &S) {
    let now = base_time();
    let user = unique("replace");
    let mut record = session(&user, now);
    record.kind = SessionKind::Refresh;
    store.create_session(&record).await.expect("create_session");

    let later = now + MINUTE;
    let next = rotated(&record, later);
    let wrong = replace(store, &next, record.version + 1, later).await;
    assert!(
        !wrong,
        "replace_session must refuse a wrong expected version"
    );
    let found = find(store, &record.handle, later).await;
    assert_record(
        found,
        &record,
        "a refused replace_session must change nothing",
    );

    let right = replace(store, &next, record.version, later).await;
    assert!(right, "replace_session must accept the stored version");
    let found = find(store, &record.handle, later).await;
    assert_record(found, &next, "replace_session must store the new record");

    let rival = rotated(&record, later);
    let stale = replace(store, &rival, record.version, later).await;
    assert!(
        !stale,
        "replace_session must refuse a version already replaced"
    );
    let found = find(store, &record.handle, later).await;
    assert_record(
        found,
        &next,
        "a refused replace_session must change nothing",
    );

    let deadline = next.expires_at();
    let third = rotated(&next, deadline);
    let expired = replace(store, &third, next.version, deadline).await;
    assert!(!expired, "replace_session must refuse an expired record");
    let found = find(store, &record.handle, deadline - MS).await;
    assert_record(
        found,
        &next,
        "a refused replace_session must change nothing",
    );

    let ghost = session(&user, now);
    let unknown = replace(store, &rotated(&ghost, later), ghost.version, later).await;
    assert!(!unknown, "replace_session must refuse an unknown handle");
    let found = find(store, &ghost.handle, later).await;
    assert!(found.is_none(), "replace_session must not create a record");

    end(store, &record.handle, later).await;
}

/// Checks the per-user index: listing and ending a user's records.
///
/// `list_sessions` answers exactly the user's live records, oldest
/// (`created_at`) first, whatever order they were created in;
/// `end_user_sessions` deletes and answers every live record but `keep`,
/// leaves `keep` and other users' records alone, never answers an expired
/// record, and answers nothing the second time.
pub async fn sessions_per_user_index<S: SessionStore + ?Sized>(store: &S) {
    let now = base_time();
    let user = unique("index");
    let other = unique("index-other");

    // Six records created out of order: an index that kept creation or
    // hash order would list them sorted by chance once in 720 runs.
    let records: Vec<_> = (0..6u32)
        .map(|i| session(&user, now + i * SECOND))
        .collect();
    let mut lapsed = session(&user, now);
    lapsed.absolute_deadline = now + 5 * MINUTE;
    let foreign = session(&other, now);

    let order = [5, 2, 0, 4, 1, 3];
    for i in order {
        store
            .create_session(&records[i])
            .await
            .expect("create_session");
    }
    for record in [&lapsed, &foreign] {
        store.create_session(record).await.expect("create_session");
    }

    let at = now + 10 * MINUTE;
    let listed = list(store, &user, at).await;
    assert_eq!(
        handles(&listed),
        handles(&records),
        "list_sessions must answer the user's live records, oldest first"
    );
    assert!(
        listed == records,
        "list_sessions must answer the records as stored"
    );

    let listed = list(store, &other, at).await;
    assert_eq!(
        handles(&listed),
        slice::from_ref(&foreign.handle),
        "list_sessions must answer only that user's records"
    );

    let nobody = list(store, &unique("nobody"), at).await;
    assert!(
        nobody.is_empty(),
        "list_sessions must answer nothing for an unknown user"
    );

    let keep = &records[1].handle;
    let mut ended = end_user(store, &user, Some(keep), at).await;
    ended.sort_by_key(|a| a.handle);
    let mut expected: Vec<_> = records
        .iter()
        .filter(|r| r.handle != *keep)
        .cloned()
        .collect();
    expected.sort_by_key(|a| a.handle);
    assert_eq!(
        handles(&ended),
        handles(&expected),
        "end_user_sessions must answer every live record of the user but `keep`"
    );
    assert!(
        ended == expected,
        "end_user_sessions must answer the records as stored"
    );

    let found = find(store, &records[0].handle, at).await;
    assert!(
        found.is_none(),
        "end_user_sessions must delete what it answers"
    );
    let listed = list(store, &user, at).await;
    assert_eq!(
        handles(&listed),
        slice::from_ref(keep),
        "end_user_sessions must leave `keep`"
    );

    let ended = end_user(store, &user, None, at).await;
    assert_eq!(
        handles(&ended),
        slice::from_ref(keep),
        "end_user_sessions without `keep` must end every live record"
    );
    let ended = end_user(store, &user, None, at).await;
    assert!(
        ended.is_empty(),
        "a second end_user_sessions must answer nothing"
    );
    let listed = list(store, &user, at).await;
    assert!(
        listed.is_empty(),
        "end_user_sessions must leave no live record"
    );

    let listed = list(store, &other, at).await;
    assert_eq!(
        handles(&listed),
        slice::from_ref(&foreign.handle),
        "end_user_sessions must not touch other users' records"
    );

    end(store, &foreign.handle, at).await;
}

/// Checks that of 64 concurrent `replace_session` calls with the same
/// expected version, exactly one wins, and the stored record is the
/// winner's.
///
/// # Panics
///
/// Panics if the store fails the check, or outside a Tokio runtime.
pub async fn sessions_concurrent_replace_has_one_winner<S: SessionStore + ?Sized>(store: &Arc<S>) {
    const TASKS: usize = 64;
    let now = base_time();
    let user = unique("race-replace");
    let mut record = session(&user, now);
    record.kind = SessionKind::Refresh;
    store.create_session(&record).await.expect("create_session");

    let later = now + SECOND;
    let version = record.version;
    let answers = all_at_once(TASKS, || {
        let store = Arc::clone(store);
        let candidate = rotated(&record, later);
        async move {
            let won = store.replace_session(&candidate, version, later).await;
            (candidate, won.expect("replace_session"))
        }
    })
    .await;

    let winners: Vec<_> = answers
        .into_iter()
        .filter_map(|(candidate, won)| won.then_some(candidate))
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one of {TASKS} concurrent replace_session calls must win"
    );

    let found = find(&**store, &record.handle, later).await;
    assert_record(found, &winners[0], "the stored record must be the winner's");
    let listed = list(&**store, &user, later).await;
    assert_eq!(
        handles(&listed),
        slice::from_ref(&record.handle),
        "concurrent replace_session calls must not add records"
    );

    end(&**store, &record.handle, later).await;
}

/// Checks that of 16 concurrent `end_session` calls for one record, exactly
/// one answers it.
///
/// # Panics
///
/// Panics if the store fails the check, or outside a Tokio runtime.
pub async fn sessions_concurrent_end_answers_once<S: SessionStore + ?Sized>(store: &Arc<S>) {
    const TASKS: usize = 16;
    let now = base_time();
    let record = session(&unique("race-end"), now);
    store.create_session(&record).await.expect("create_session");

    let answers = all_at_once(TASKS, || {
        let store = Arc::clone(store);
        let handle = record.handle;
        async move { store.end_session(&handle, now).await.expect("end_session") }
    })
    .await;

    let ended: Vec<_> = answers.into_iter().flatten().collect();
    assert_eq!(
        ended.len(),
        1,
        "exactly one of {TASKS} concurrent end_session calls must answer the record"
    );
    assert!(
        ended[0] == record,
        "end_session must answer the record as stored"
    );
}

fn random_hash() -> SecretHash {
    SecretHash::from_bytes(random())
}

/// A new cookie session of `user` begun at `at`: idle 1 hour, absolute 8.
fn session(user: &str, at: SystemTime) -> SessionRecord {
    SessionRecord {
        handle: Handle::generate(),
        user: user.to_owned(),
        roles: vec!["user".to_owned()],
        kind: SessionKind::Cookie,
        version: 0,
        secret: random_hash(),
        previous: None,
        spent: Vec::new(),
        rotated_at: at,
        created_at: at,
        last_seen_at: at,
        idle_timeout: HOUR,
        absolute_deadline: at + 8 * HOUR,
    }
}

/// `record` after a refresh rotation at `at`, with the next version.
fn rotated(record: &SessionRecord, at: SystemTime) -> SessionRecord {
    let mut next = record.clone();
    next.version += 1;
    next.spent.extend(record.previous);
    next.previous = Some(record.secret);
    next.secret = random_hash();
    next.rotated_at = at;
    next.last_seen_at = at;
    next
}

fn handles(records: &[SessionRecord]) -> Vec<Handle> {
    records.iter().map(|r| r.handle).collect()
}

/// Asserts that `found` is `expected`, naming the fields that differ
/// (the records' `Debug` hides their hashes).
#[track_caller]
fn assert_record(found: Option<SessionRecord>, expected: &SessionRecord, rule: &str) {
    let Some(found) = found else {
        panic!("{rule}: no record was answered");
    };
    let fields = [
        ("handle", found.handle == expected.handle),
        ("user", found.user == expected.user),
        ("roles", found.roles == expected.roles),
        ("kind", found.kind == expected.kind),
        ("version", found.version == expected.version),
        ("secret", found.secret == expected.secret),
        ("previous", found.previous == expected.previous),
        ("spent", found.spent == expected.spent),
        ("rotated_at", found.rotated_at == expected.rotated_at),
        ("created_at", found.created_at == expected.created_at),
        ("last_seen_at", found.last_seen_at == expected.last_seen_at),
        ("idle_timeout", found.idle_timeout == expected.idle_timeout),
        (
            "absolute_deadline",
            found.absolute_deadline == expected.absolute_deadline,
        ),
    ];
    let differ: Vec<_> = fields
        .iter()
        .filter(|(_, same)| !same)
        .map(|(name, _)| *name)
        .collect();
    assert!(
        differ.is_empty(),
        "{rule}: the record differs in {differ:?}"
    );
    assert!(found == *expected, "{rule}: the record differs");
}

async fn find<S: SessionStore + ?Sized>(
    store: &S,
    handle: &Handle,
    now: SystemTime,
) -> Option<SessionRecord> {
    store
        .find_session(handle, now)
        .await
        .expect("find_session")
        .map(|record| SessionRecord::clone(&record))
}

async fn touch<S: SessionStore + ?Sized>(store: &S, handle: &Handle, at: SystemTime) {
    store
        .touch_session(handle, at)
        .await
        .expect("touch_session");
}

async fn replace<S: SessionStore + ?Sized>(
    store: &S,
    record: &SessionRecord,
    expected_version: u64,
    now: SystemTime,
) -> bool {
    let answer = store.replace_session(record, expected_version, now).await;
    answer.expect("replace_session")
}

async fn end<S: SessionStore + ?Sized>(store: &S, handle: &Handle, now: SystemTime) {
    store.end_session(handle, now).await.expect("end_session");
}

async fn list<S: SessionStore + ?Sized>(
    store: &S,
    user: &str,
    now: SystemTime,
) -> Vec<SessionRecord> {
    store.list_sessions(user, now).await.expect("list_sessions")
}

async fn end_user<S: SessionStore + ?Sized>(
    store: &S,
    user: &str,
    keep: Option<&Handle>,
    now: SystemTime,
) -> Vec<SessionRecord> {
    let answer = store.end_user_sessions(user, keep, now).await;
    answer.expect("end_user_sessions")
}
