//! Outages: a private `redis-server` (never the shared one) is killed or
//! frozen under a store, which must answer `Unavailable` within its
//! timeouts, and work again once the server is back, without being
//! rebuilt.

mod common;

use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use auth_core::StoreError;
use auth_core::store::{
    LoginThrottle, Revocation, RevocationQuery, RevocationStore, RevocationTarget, SessionStore,
    UserStore,
};
use auth_store_redis::RedisStore;

/// Runs `op` and asserts that it fails with `Unavailable` within `bound`;
/// answers how long it took.
async fn unavailable<T: std::fmt::Debug>(
    what: &str,
    bound: Duration,
    op: impl Future<Output = Result<T, StoreError>>,
) -> Duration {
    let start = Instant::now();
    let answer = op.await;
    let took = start.elapsed();
    assert!(
        matches!(answer, Err(StoreError::Unavailable(_))),
        "{what} must answer Unavailable while Redis is down, not {answer:?}"
    );
    assert!(took < bound, "{what} took {took:?}, over {bound:?}");
    took
}

/// Asks every kind of operation while the server is down.
async fn every_operation_is_unavailable(store: &RedisStore, bound: Duration) -> Vec<Duration> {
    let record = common::session("outage");
    let now = SystemTime::now();
    let query = RevocationQuery {
        jti: "j",
        session: &record.handle,
        user: "outage",
        issued_at: 0,
    };
    let entry = Revocation {
        target: RevocationTarget::Token {
            jti: "j".to_owned(),
        },
        until: now + Duration::from_secs(60),
    };
    vec![
        unavailable("ping", bound, store.ping()).await,
        unavailable(
            "find_session",
            bound,
            store.find_session(&record.handle, now),
        )
        .await,
        unavailable(
            "touch_session",
            bound,
            store.touch_session(&record.handle, now),
        )
        .await,
        unavailable("create_session", bound, store.create_session(&record)).await,
        unavailable("list_sessions", bound, store.list_sessions("outage", now)).await,
        unavailable("revoke", bound, store.revoke(&entry)).await,
        unavailable("is_revoked", bound, store.is_revoked(&query, now)).await,
        unavailable("revocations_since", bound, store.revocations_since(0, now)).await,
        unavailable("login_lock", bound, store.login_lock("outage", now)).await,
        unavailable("find_user", bound, store.find_user("outage")).await,
    ]
}

/// Retries `ping` until it succeeds, and answers how long that took.
async fn recovers_within(store: &RedisStore, bound: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if store.ping().await.is_ok() {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < bound,
            "the store did not recover within {bound:?} of Redis coming back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn works(store: &RedisStore) {
    let record = common::session("after");
    store.create_session(&record).await.expect("create_session");
    let found = store
        .find_session(&record.handle, SystemTime::now())
        .await
        .expect("find_session");
    assert!(found.is_some_and(|r| *r == record));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_redis_is_unavailable_then_resumes_by_itself() {
    let mut server = common::RedisServer::start();
    let store = RedisStore::builder(server.url())
        .prefix("outage:")
        .connect()
        .await
        .expect("the private redis-server answers");
    works(&store).await;

    let mut signal = store.revocation_signal().expect("a revocation signal");
    let wait = Duration::from_secs(3);
    tokio::time::timeout(wait, signal.wait_for(|s| s.connected))
        .await
        .expect("the signal connects")
        .expect("the signal is alive");
    let notices = signal.borrow().notices;

    server.kill();
    let took = every_operation_is_unavailable(&store, Duration::from_secs(3)).await;
    eprintln!("killed: operations answered Unavailable in {took:?}");
    tokio::time::timeout(wait, signal.wait_for(|s| !s.connected))
        .await
        .expect("the signal reports the lost subscription within 3 s")
        .expect("the signal is alive");

    server.restart();
    let took = recovers_within(&store, Duration::from_secs(5)).await;
    eprintln!("killed: the store answered again {took:?} after the restart");
    works(&store).await;
    tokio::time::timeout(
        wait,
        signal.wait_for(|s| s.connected && s.notices > notices),
    )
    .await
    .expect("the signal reconnects within 3 s and bumps its notices")
    .expect("the signal is alive");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_times_out_then_resumes() {
    let server = common::RedisServer::start();
    let timeout = Duration::from_millis(300);
    let store = RedisStore::builder(server.url())
        .prefix("frozen:")
        .timeouts(timeout, timeout)
        .connect()
        .await
        .expect("the private redis-server answers");
    works(&store).await;

    server.signal("STOP");
    let took = every_operation_is_unavailable(&store, Duration::from_secs(2)).await;
    eprintln!("frozen: operations answered Unavailable in {took:?}");
    assert!(
        took.iter().all(|t| *t >= timeout / 2),
        "a frozen server can only be found out by a timeout: {took:?}"
    );

    server.signal("CONT");
    let took = recovers_within(&store, Duration::from_secs(5)).await;
    eprintln!("frozen: the store answered again {took:?} after the server resumed");
    works(&store).await;
}
