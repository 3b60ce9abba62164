//! The store conformance kit: one suite of behaviour every store must pass.
//!
//! Enabled by the `test-kit` feature, usually from a store crate's
//! dev-dependencies: `auth-core = { version = "..", features = ["test-kit"] }`.
//!
//! Each check drives a store through one behaviour documented on the
//! [store traits](crate::store) and panics with a message that names the
//! broken rule. A store crate runs them all in one test, or gives each its
//! own test so that a failure names itself:
//!
//! ```rust,no_run
//! use std::sync::Arc;
//!
//! use auth_core::store::MemoryStore;
//! use auth_core::testkit;
//!
//! #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
//! async fn memory_store_conforms() {
//!     let store = Arc::new(MemoryStore::new());
//!     testkit::run_all(&store).await;
//! }
//!
//! #[tokio::test]
//! async fn sessions_create_find_end() {
//!     testkit::sessions_create_find_end(&MemoryStore::new()).await;
//! }
//! ```
//!
//! The checks are written for shared, persistent backends:
//!
//! - every check makes its own random usernames, handles and `jti`s, so
//!   checks may run at the same time against one database, and none assumes
//!   the store is empty;
//! - times are chosen by the check, starting near the real time and moving
//!   forward by adding durations, never by sleeping; the records a check uses
//!   expire minutes to hours after the real time, so a backend's own TTL never
//!   fires during a run, and expiry is checked by passing a later `now`;
//! - the concurrency checks take an `Arc` and spawn tasks, so they need a
//!   Tokio runtime, preferably a multi-threaded one.
//!
//! # Limitations
//!
//! Users the checks create stay behind, because
//! [`UserStore`](crate::store::UserStore) cannot delete one; their names
//! start with `kit-` or `Kit-`. Revocation entries and failure counters stay
//! until their own deadlines, at most an hour after the run.

mod revocations;
mod sessions;
mod throttle;
mod users;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::Barrier;
use tokio::task::JoinSet;

use crate::clock::{from_unix_millis, unix_millis};
use crate::secret::Handle;
use crate::store::Store;

pub use revocations::{revocations_deny_token_session_and_user, revocations_since_cursor};
pub use sessions::{
    sessions_concurrent_end_answers_once, sessions_concurrent_replace_has_one_winner,
    sessions_create_find_end, sessions_expire_by_idle_and_absolute_deadline,
    sessions_per_user_index, sessions_replace_is_compare_and_swap,
    sessions_touch_extends_idle_deadline_only_forward,
};
pub use throttle::{
    login_throttle_concurrent_failures_are_all_counted, login_throttle_locks_after_max_failures,
};
pub use users::users_create_find_update;

const MS: Duration = Duration::from_millis(1);
const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

/// Runs every check of this module against `store`, one after another.
///
/// # Panics
///
/// Panics at the first check the store fails, or if it is not called
/// within a Tokio runtime.
pub async fn run_all<S: Store + ?Sized>(store: &Arc<S>) {
    let s = &**store;

    sessions_create_find_end(s).await;
    sessions_expire_by_idle_and_absolute_deadline(s).await;
    sessions_touch_extends_idle_deadline_only_forward(s).await;
    sessions_replace_is_compare_and_swap(s).await;
    sessions_per_user_index(s).await;
    sessions_concurrent_replace_has_one_winner(store).await;
    sessions_concurrent_end_answers_once(store).await;

    revocations_deny_token_session_and_user(s).await;
    revocations_since_cursor(s).await;

    login_throttle_locks_after_max_failures(s).await;
    login_throttle_concurrent_failures_are_all_counted(store).await;

    users_create_find_update(s).await;
}

/// The current time, to the millisecond every backend keeps.
fn base_time() -> SystemTime {
    from_unix_millis(unix_millis(SystemTime::now()))
}

/// A name no other run will make.
fn unique(what: &str) -> String {
    format!("kit-{what}-{}", Handle::generate())
}

/// Spawns `tasks` futures made by `make`, releases them together through a
/// barrier so that their store calls overlap, and answers their outputs.
async fn all_at_once<T, F, M>(tasks: usize, mut make: M) -> Vec<T>
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
    M: FnMut() -> F,
{
    let barrier = Arc::new(Barrier::new(tasks));
    let mut set = JoinSet::new();
    for _ in 0..tasks {
        let barrier = Arc::clone(&barrier);
        let task = make();
        set.spawn(async move {
            barrier.wait().await;
            task.await
        });
    }

    let mut outputs = Vec::with_capacity(tasks);
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(output) => outputs.push(output),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("a concurrent store call did not finish: {e}"),
        }
    }
    outputs
}
