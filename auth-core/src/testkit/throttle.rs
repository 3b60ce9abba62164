//! Checks of [`LoginThrottle`].

use std::sync::Arc;
use std::time::SystemTime;

use super::{MINUTE, MS, SECOND, all_at_once, base_time, unique};
use crate::store::{LockoutPolicy, LoginThrottle};

/// Checks that failed logins lock a name at `max_failures` for `lockout`.
///
/// With at most 3 failures and a 60 s lockout: the first two answer
/// `None`, the third answers the end of the lock, which `login_lock` then
/// reports; failures during the lock do not move it; when it ends
/// `login_lock` answers `None` and counting starts again from zero.
/// `clear_login_failures` forgets the count. A failure is remembered for
/// `lockout` after the latest one, then forgotten. Names are exact.
pub async fn login_throttle_locks_after_max_failures<S: LoginThrottle + ?Sized>(store: &S) {
    let policy = LockoutPolicy {
        max_failures: 3,
        lockout: MINUTE,
    };
    let now = base_time();

    let name = unique("throttle");
    let fail = |at| failure(store, &name, &policy, at);
    assert_eq!(
        lock(store, &name, now).await,
        None,
        "a new name must not be locked"
    );
    assert_eq!(fail(now).await, None, "one failure of three must not lock");
    assert_eq!(
        fail(now + SECOND).await,
        None,
        "two failures of three must not lock"
    );
    assert_eq!(
        lock(store, &name, now + SECOND).await,
        None,
        "two failures must not lock"
    );

    let locked_at = now + 2 * SECOND;
    let end = locked_at + MINUTE;
    let third = fail(locked_at).await;
    assert_eq!(
        third,
        Some(end),
        "the third failure must lock until now + lockout"
    );
    let reported = lock(store, &name, locked_at).await;
    assert_eq!(reported, Some(end), "login_lock must report the lock");
    let other = lock(store, &name.to_uppercase(), locked_at).await;
    assert_eq!(other, None, "a lock must hold only for its exact name");

    let during = fail(locked_at + 30 * SECOND).await;
    assert!(
        during.is_none_or(|until| until == end),
        "a failure during a lock must not move it"
    );
    let reported = lock(store, &name, end - MS).await;
    assert_eq!(
        reported,
        Some(end),
        "failures during a lock must not move it"
    );
    assert_eq!(
        lock(store, &name, end).await,
        None,
        "a lock must be over at its end"
    );

    assert_eq!(fail(end).await, None, "counting must restart after a lock");
    assert_eq!(
        fail(end + SECOND).await,
        None,
        "counting must restart after a lock"
    );
    let relock = fail(end + 2 * SECOND).await;
    assert_eq!(
        relock,
        Some(end + 2 * SECOND + MINUTE),
        "a new count must lock again"
    );
    store
        .clear_login_failures(&name)
        .await
        .expect("clear_login_failures");

    let name = unique("throttle-clear");
    let fail = |at| failure(store, &name, &policy, at);
    fail(now).await;
    fail(now + SECOND).await;
    store
        .clear_login_failures(&name)
        .await
        .expect("clear_login_failures");
    let after_clear = [fail(now + 2 * SECOND).await, fail(now + 3 * SECOND).await];
    assert_eq!(
        after_clear,
        [None, None],
        "clear_login_failures must forget failures"
    );

    let name = unique("throttle-window");
    let fail = |at| failure(store, &name, &policy, at);
    fail(now).await;
    fail(now + 50 * SECOND).await;
    let within = fail(now + 100 * SECOND).await;
    assert_eq!(
        within,
        Some(now + 100 * SECOND + MINUTE),
        "failures must be remembered for `lockout` after the latest one"
    );

    let name = unique("throttle-forget");
    let fail = |at| failure(store, &name, &policy, at);
    fail(now).await;
    fail(now + 10 * SECOND).await;
    let after = fail(now + 10 * SECOND + MINUTE).await;
    assert_eq!(
        after, None,
        "failures must be forgotten `lockout` after the latest one"
    );
    store
        .clear_login_failures(&name)
        .await
        .expect("clear_login_failures");
}

/// Checks that 20 concurrent failures of one name, with at most 20
/// allowed, are all counted: exactly one answers the lock, and
/// `login_lock` reports it.
///
/// # Panics
///
/// Panics if the store fails the check, or outside a Tokio runtime.
pub async fn login_throttle_concurrent_failures_are_all_counted<S: LoginThrottle + ?Sized>(
    store: &Arc<S>,
) {
    const TASKS: u32 = 20;
    let policy = LockoutPolicy {
        max_failures: TASKS,
        lockout: MINUTE,
    };
    let now = base_time();
    let name = unique("race-throttle");

    let answers = all_at_once(TASKS as usize, || {
        let store = Arc::clone(store);
        let name = name.clone();
        async move {
            let answer = store.record_login_failure(&name, &policy, now).await;
            answer.expect("record_login_failure")
        }
    })
    .await;

    let locks: Vec<_> = answers.into_iter().flatten().collect();
    assert_eq!(
        locks,
        [now + MINUTE],
        "exactly one of {TASKS} concurrent failures must begin the lock"
    );
    let reported = lock(&**store, &name, now).await;
    assert_eq!(
        reported,
        Some(now + MINUTE),
        "login_lock must report the lock"
    );

    store
        .clear_login_failures(&name)
        .await
        .expect("clear_login_failures");
}

async fn failure<S: LoginThrottle + ?Sized>(
    store: &S,
    name: &str,
    policy: &LockoutPolicy,
    at: SystemTime,
) -> Option<SystemTime> {
    let answer = store.record_login_failure(name, policy, at).await;
    answer.expect("record_login_failure")
}

async fn lock<S: LoginThrottle + ?Sized>(
    store: &S,
    name: &str,
    now: SystemTime,
) -> Option<SystemTime> {
    store.login_lock(name, now).await.expect("login_lock")
}
