//! The store conformance kit run against [`MemoryStore`], one test per
//! check.

use std::sync::Arc;

use auth_core::store::MemoryStore;
use auth_core::testkit;

#[tokio::test]
async fn sessions_create_find_end() {
    testkit::sessions_create_find_end(&MemoryStore::new()).await;
}

#[tokio::test]
async fn sessions_expire_by_idle_and_absolute_deadline() {
    testkit::sessions_expire_by_idle_and_absolute_deadline(&MemoryStore::new()).await;
}

#[tokio::test]
async fn sessions_touch_extends_idle_deadline_only_forward() {
    testkit::sessions_touch_extends_idle_deadline_only_forward(&MemoryStore::new()).await;
}

#[tokio::test]
async fn sessions_replace_is_compare_and_swap() {
    testkit::sessions_replace_is_compare_and_swap(&MemoryStore::new()).await;
}

#[tokio::test]
async fn sessions_per_user_index() {
    testkit::sessions_per_user_index(&MemoryStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_concurrent_replace_has_one_winner() {
    let store = Arc::new(MemoryStore::new());
    testkit::sessions_concurrent_replace_has_one_winner(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_concurrent_end_answers_once() {
    let store = Arc::new(MemoryStore::new());
    testkit::sessions_concurrent_end_answers_once(&store).await;
}

#[tokio::test]
async fn revocations_deny_token_session_and_user() {
    testkit::revocations_deny_token_session_and_user(&MemoryStore::new()).await;
}

#[tokio::test]
async fn revocations_since_cursor() {
    testkit::revocations_since_cursor(&MemoryStore::new()).await;
}

#[tokio::test]
async fn login_throttle_locks_after_max_failures() {
    testkit::login_throttle_locks_after_max_failures(&MemoryStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_throttle_concurrent_failures_are_all_counted() {
    let store = Arc::new(MemoryStore::new());
    testkit::login_throttle_concurrent_failures_are_all_counted(&store).await;
}

#[tokio::test]
async fn users_create_find_update() {
    testkit::users_create_find_update(&MemoryStore::new()).await;
}

/// Every check at once on one store, as a shared database would see them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn all_checks_share_one_store() {
    let store = Arc::new(MemoryStore::new());
    let runs = (0..4).map(|_| {
        let store = Arc::clone(&store);
        tokio::spawn(async move { testkit::run_all(&store).await })
    });
    for run in runs.collect::<Vec<_>>() {
        run.await.unwrap();
    }
}
