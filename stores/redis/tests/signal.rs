//! The revocation signal: a revocation made through one store is announced
//! to every other store on the same Redis within a second.

mod common;

use std::time::{Duration, SystemTime};

use auth_core::Handle;
use auth_core::clock::{from_unix_millis, unix_millis};
use auth_core::store::{Revocation, RevocationQuery, RevocationStore, RevocationTarget};
use auth_store_redis::RedisStore;

#[tokio::test]
async fn a_revocation_on_one_store_signals_another() {
    let prefix = common::random_prefix();
    let a = common::connect(&prefix).await;
    let b = common::connect(&prefix).await;

    let mut signal = b.revocation_signal().expect("a revocation signal");
    tokio::time::timeout(Duration::from_secs(2), signal.wait_for(|s| s.connected))
        .await
        .expect("the signal connects within 2 s")
        .expect("the signal is alive");
    let before = signal.borrow_and_update().notices;

    let sid = Handle::generate();
    // Stores keep milliseconds.
    let now = from_unix_millis(unix_millis(SystemTime::now()));
    let entry = Revocation {
        target: RevocationTarget::Session { handle: sid },
        until: now + Duration::from_secs(60),
    };
    a.revoke(&entry).await.expect("revoke");

    tokio::time::timeout(Duration::from_secs(1), signal.changed())
        .await
        .expect("store B hears of the revocation within 1 s")
        .expect("the signal is alive");
    let after = *signal.borrow();
    assert!(after.connected);
    assert!(after.notices > before, "{after:?} after {before}");

    let query = RevocationQuery {
        jti: "some-jti",
        session: &sid,
        user: "someone",
        issued_at: 0,
    };
    assert!(b.is_revoked(&query, now).await.expect("is_revoked"));
    let news = b
        .revocations_since(0, now)
        .await
        .expect("revocations_since");
    assert_eq!(news.entries, [entry]);

    common::remove_keys(&prefix).await;
}

#[tokio::test]
async fn stores_under_other_prefixes_hear_nothing() {
    let a = common::connect(&common::random_prefix()).await;
    let b = common::connect(&common::random_prefix()).await;
    let mut signal = b.revocation_signal().expect("a revocation signal");
    tokio::time::timeout(Duration::from_secs(2), signal.wait_for(|s| s.connected))
        .await
        .expect("the signal connects within 2 s")
        .expect("the signal is alive");
    signal.mark_unchanged();

    let entry = Revocation {
        target: RevocationTarget::Token {
            jti: "elsewhere".to_owned(),
        },
        until: SystemTime::now() + Duration::from_secs(5),
    };
    a.revoke(&entry).await.expect("revoke");

    let heard = tokio::time::timeout(Duration::from_millis(300), signal.changed()).await;
    assert!(heard.is_err(), "a store heard another prefix's revocation");
    common::remove_keys(a.prefix()).await;
}

#[tokio::test]
async fn the_signal_can_be_turned_off() {
    let store = RedisStore::builder(common::redis_url())
        .prefix(common::random_prefix())
        .revocation_signal(false)
        .connect()
        .await
        .expect("Redis answers at REDIS_URL");
    assert!(store.revocation_signal().is_none());
}
