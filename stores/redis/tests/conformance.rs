//! The store conformance kit of `auth-core`, against the Redis at
//! `REDIS_URL`. Each check runs under its own random key prefix, whose keys
//! are deleted afterwards.

mod common;

use std::sync::Arc;

use auth_core::testkit;

/// One test per check of the kit, so that a failure names itself.
macro_rules! conformance {
    ($($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $check() {
            let prefix = common::random_prefix();
            let store = Arc::new(common::connect(&prefix).await);
            testkit::$check(&*store).await;
            common::remove_keys(&prefix).await;
        }
    )*};
}

/// The checks that take an `Arc` to spawn concurrent tasks.
macro_rules! concurrent_conformance {
    ($($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $check() {
            let prefix = common::random_prefix();
            let store = Arc::new(common::connect(&prefix).await);
            testkit::$check(&store).await;
            common::remove_keys(&prefix).await;
        }
    )*};
}

conformance!(
    sessions_create_find_end,
    sessions_expire_by_idle_and_absolute_deadline,
    sessions_touch_extends_idle_deadline_only_forward,
    sessions_replace_is_compare_and_swap,
    sessions_per_user_index,
    revocations_deny_token_session_and_user,
    revocations_since_cursor,
    login_throttle_locks_after_max_failures,
    users_create_find_update,
);

concurrent_conformance!(
    sessions_concurrent_replace_has_one_winner,
    sessions_concurrent_end_answers_once,
    login_throttle_concurrent_failures_are_all_counted,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_store_passes_the_whole_kit() {
    let prefix = common::random_prefix();
    let store = Arc::new(common::connect(&prefix).await);
    testkit::run_all(&store).await;
    common::remove_keys(&prefix).await;
}
