//! What the store leaves in Redis: its keys, their expiry, and the
//! commands one request costs.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use auth_core::store::{
    LockoutPolicy, LoginThrottle, Revocation, RevocationStore, RevocationTarget, SessionStore,
    UserRecord, UserStore,
};
use auth_store_redis::RedisStore;
use deadpool_redis::redis;

async fn connection(url: &str) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(url).expect("a Redis URL");
    client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers")
}

#[tokio::test]
async fn every_key_but_a_user_expires() {
    let prefix = common::random_prefix();
    let store = common::connect(&prefix).await;
    let now = SystemTime::now();
    let until = now + Duration::from_secs(600);

    let record = common::session("layout");
    store.create_session(&record).await.expect("create_session");
    store
        .touch_session(&record.handle, now + Duration::from_secs(1))
        .await
        .expect("touch_session");
    for target in [
        RevocationTarget::Token {
            jti: "layout-jti".to_owned(),
        },
        RevocationTarget::Session {
            handle: record.handle,
        },
        RevocationTarget::User {
            user: "layout".to_owned(),
            not_before: now,
        },
    ] {
        let entry = Revocation { target, until };
        store.revoke(&entry).await.expect("revoke");
    }
    let policy = LockoutPolicy {
        max_failures: 5,
        lockout: Duration::from_secs(60),
    };
    store
        .record_login_failure("layout", &policy, now)
        .await
        .expect("record_login_failure");
    let user = UserRecord {
        username: "layout".to_owned(),
        password_hash: "$argon2id$fake".to_owned(),
        roles: vec!["user".to_owned()],
    };
    store.create_user(&user).await.expect("create_user");

    let mut conn = connection(&common::redis_url()).await;
    let mut ttls = BTreeMap::new();
    let names = [
        "{h:HANDLE}",
        "{u:layout}sessions",
        "{u:layout}user",
        "{u:layout}fails",
        "{rev}seq",
        "{rev}log",
        "{rev}until",
        "{rev}jti:layout-jti",
        "{rev}sid:HANDLE",
        "{rev}user:layout",
    ];
    for name in names {
        let key = format!("{prefix}{}", name.replace("HANDLE", record.handle.as_str()));
        let ttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .expect("PTTL");
        ttls.insert(name, ttl);
    }

    for (name, ttl) in &ttls {
        if *name == "{u:layout}user" {
            assert_eq!(*ttl, -1, "a user is permanent: {ttls:?}");
        } else {
            assert!(*ttl > 0, "{name} must exist and expire: {ttls:?}");
        }
    }
    let session_ttl = ttls["{h:HANDLE}"];
    assert!(
        (3_500_000..=3_601_000).contains(&session_ttl),
        "a session expires at its idle deadline, about an hour away: {session_ttl} ms"
    );
    common::remove_keys(&prefix).await;
}

/// `INFO commandstats` as command name -> calls.
async fn command_calls(conn: &mut redis::aio::MultiplexedConnection) -> BTreeMap<String, u64> {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(conn)
        .await
        .expect("INFO");
    info.lines()
        .filter_map(|line| {
            let (name, stats) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = stats.strip_prefix("calls=")?.split(',').next()?;
            Some((name.to_owned(), calls.parse().ok()?))
        })
        .collect()
}

fn delta(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .filter(|(name, _)| name.as_str() != "info")
        .map(|(name, calls)| (name.clone(), calls - before.get(name).copied().unwrap_or(0)))
        .filter(|(_, calls)| *calls > 0)
        .collect()
}

#[tokio::test]
async fn finding_and_touching_a_session_cost_one_command_each() {
    let server = common::RedisServer::start();
    let store = RedisStore::builder(server.url())
        .revocation_signal(false)
        .connect()
        .await
        .expect("the private redis-server answers");
    let mut conn = connection(&server.url()).await;

    let record = common::session("budget");
    store.create_session(&record).await.expect("create_session");
    let now = SystemTime::now();
    store
        .touch_session(&record.handle, now)
        .await
        .expect("warm up");
    store
        .find_session(&record.handle, now)
        .await
        .expect("warm up");

    let before = command_calls(&mut conn).await;
    let found = store
        .find_session(&record.handle, now)
        .await
        .expect("find_session");
    assert!(found.is_some());
    let after = command_calls(&mut conn).await;
    let find = delta(&before, &after);
    assert_eq!(
        find,
        BTreeMap::from([("hmget".to_owned(), 1)]),
        "find_session must be one HMGET"
    );

    let before = command_calls(&mut conn).await;
    store
        .touch_session(&record.handle, now + Duration::from_secs(1))
        .await
        .expect("touch_session");
    let after = command_calls(&mut conn).await;
    let touch = delta(&before, &after);
    assert_eq!(touch.get("evalsha"), Some(&1), "touch_session: {touch:?}");
    for sent in ["ping", "eval", "script|load", "hmget"] {
        if sent == "hmget" {
            // HMGET runs inside the script, once.
            assert_eq!(touch.get(sent), Some(&1), "touch_session: {touch:?}");
        } else {
            assert!(!touch.contains_key(sent), "touch_session: {touch:?}");
        }
    }
}
