//! The conformance kit against a private 3-master Redis Cluster, started
//! from `redis-server` on free ports and killed at the end, even on
//! failure.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use auth_core::store::{Revocation, RevocationStore, RevocationTarget, UserRecord, UserStore};
use auth_core::testkit;
use auth_store_redis::RedisStore;
use deadpool_redis::redis;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_store_passes_the_whole_kit() {
    let cluster = common::RedisCluster::start();
    let connect = || async {
        RedisStore::builder(cluster.urls())
            .cluster()
            .prefix("auth-test:")
            .connect()
            .await
            .expect("the test cluster answers")
    };
    let store = Arc::new(connect().await);
    assert!(store.is_cluster());

    testkit::run_all(&store).await;

    // Keys tagged by user spread over the cluster: with 64 users, every
    // master holds some.
    for i in 0..64 {
        let user = UserRecord {
            username: format!("spread-{i}"),
            password_hash: "$argon2id$fake".to_owned(),
            roles: Vec::new(),
        };
        assert!(store.create_user(&user).await.expect("create_user"));
    }
    for node in &cluster.nodes {
        let client = redis::Client::open(node.url()).expect("a node URL");
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("the node answers");
        let keys: u64 = redis::cmd("DBSIZE")
            .query_async(&mut conn)
            .await
            .expect("DBSIZE");
        assert!(keys > 0, "node {} holds no key", node.port);
    }

    // A revocation made through one node reaches a subscriber on another.
    let other = connect().await;
    let mut signal = other.revocation_signal().expect("a revocation signal");
    let wait = Duration::from_secs(2);
    tokio::time::timeout(wait, signal.wait_for(|s| s.connected))
        .await
        .expect("the signal connects")
        .expect("the signal is alive");
    let before = signal.borrow().notices;

    let entry = Revocation {
        target: RevocationTarget::Token {
            jti: "cluster-jti".to_owned(),
        },
        until: SystemTime::now() + Duration::from_secs(60),
    };
    store.revoke(&entry).await.expect("revoke");
    tokio::time::timeout(
        Duration::from_secs(1),
        signal.wait_for(|s| s.notices > before),
    )
    .await
    .expect("the revocation is announced within 1 s")
    .expect("the signal is alive");

    drop(cluster);
}
