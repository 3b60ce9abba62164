//! Behaviour of `Auth` that the HTTP surface does not show.

use std::time::Duration;

use super::*;
use crate::clock::ManualClock;
use crate::password::Argon2Params;
use crate::session_cache::SessionCache;
use crate::store::MemoryStore;

const CHEAP: Argon2Params = Argon2Params {
    memory_kib: 1024,
    iterations: 1,
    parallelism: 1,
};

async fn auth_on(store: MemoryStore, clock: &ManualClock) -> Auth {
    Auth::builder()
        .store(store)
        .clock(clock.clone())
        .argon2(CHEAP)
        .build()
        .unwrap()
}

fn cookie_of(login: &SessionLogin) -> String {
    cookie_value(&login.cookie).to_owned()
}

fn get(cookie: &str) -> RequestInfo<'_> {
    RequestInfo {
        method: "GET",
        session_cookie: Some(cookie),
        ..RequestInfo::default()
    }
}

#[tokio::test]
async fn login_rehashes_a_password_hashed_with_weaker_parameters() {
    let store = MemoryStore::new();
    let clock = ManualClock::new();
    let weak = auth_on(store.clone(), &clock).await;
    weak.create_user("ann", "a long enough password", &["user"])
        .await
        .unwrap();
    let before = store.find_user("ann").await.unwrap().unwrap().password_hash;

    let strong = Auth::builder()
        .store(store.clone())
        .clock(clock.clone())
        .argon2(Argon2Params {
            memory_kib: 2048,
            ..CHEAP
        })
        .build()
        .unwrap();
    strong
        .issue_tokens("ann", "a long enough password")
        .await
        .unwrap();
    let after = store.find_user("ann").await.unwrap().unwrap().password_hash;
    assert_ne!(before, after);
    assert!(after.contains("m=2048"), "{after}");
    strong
        .issue_tokens("ann", "a long enough password")
        .await
        .expect("the new hash verifies");
}

#[tokio::test]
async fn last_seen_is_written_at_most_once_per_touch_interval() {
    let store = MemoryStore::new();
    let clock = ManualClock::new();
    let auth = auth_on(store.clone(), &clock).await;
    auth.create_user("ann", "a long enough password", &[])
        .await
        .unwrap();
    let login = auth
        .login_session("ann", "a long enough password", None)
        .await
        .unwrap();
    let cookie = cookie_of(&login);
    let handle = Credential::parse(&cookie).unwrap().handle;
    let start = clock.now();
    let last_seen = || async {
        store
            .find_session(&handle, clock.now())
            .await
            .unwrap()
            .unwrap()
            .last_seen_at
    };

    // The idle timeout is 30 minutes, so writes come at most every 3.
    clock.advance(Duration::from_secs(179));
    auth.authenticate(&get(&cookie)).await.unwrap().unwrap();
    assert_eq!(last_seen().await, start, "inside the interval: no write");
    clock.advance(Duration::from_secs(1));
    auth.authenticate(&get(&cookie)).await.unwrap().unwrap();
    assert_eq!(last_seen().await, clock.now(), "at the interval: written");
}

#[tokio::test]
async fn a_revocation_reaches_another_instance_within_the_bound() {
    let store = MemoryStore::new();
    let clock = ManualClock::new();
    let here = auth_on(store.clone(), &clock).await;
    let keys = here.keys().signing();
    let there = Auth::builder()
        .store(store.clone())
        .clock(clock.clone())
        .keys(KeyRing::new(clone_key(&keys)))
        .argon2(CHEAP)
        .build()
        .unwrap();
    here.create_user("ann", "a long enough password", &[])
        .await
        .unwrap();
    let pair = here
        .issue_tokens("ann", "a long enough password")
        .await
        .unwrap();
    there
        .verify_access_token(pair.access_token())
        .await
        .expect("instances sharing keys verify each other's tokens");

    here.revoke(pair.access_token()).await.unwrap();
    assert!(here.verify_access_token(pair.access_token()).await.is_err());
    assert!(
        there.verify_access_token(pair.access_token()).await.is_ok(),
        "stale for at most the bound"
    );
    clock.advance(Duration::from_secs(1));
    assert!(
        there
            .verify_access_token(pair.access_token())
            .await
            .is_err()
    );
}

/// The same key material in a second key pair, as a second instance
/// loading the same file would have.
fn clone_key(key: &KeyPair) -> KeyPair {
    key.clone()
}

#[tokio::test]
async fn strict_revocation_sees_another_instance_at_once() {
    let store = MemoryStore::new();
    let clock = ManualClock::new();
    let here = auth_on(store.clone(), &clock).await;
    let there = Auth::builder()
        .store(store.clone())
        .clock(clock.clone())
        .keys(KeyRing::new(clone_key(&here.keys().signing())))
        .argon2(CHEAP)
        .strict_revocation()
        .build()
        .unwrap();
    here.create_user("ann", "a long enough password", &[])
        .await
        .unwrap();
    let pair = here
        .issue_tokens("ann", "a long enough password")
        .await
        .unwrap();
    there
        .verify_access_token(pair.access_token())
        .await
        .unwrap();
    here.revoke(pair.access_token()).await.unwrap();
    assert!(
        there
            .verify_access_token(pair.access_token())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_random_secret_with_a_real_handle_ends_nothing() {
    let store = MemoryStore::new();
    let clock = ManualClock::new();
    let auth = auth_on(store.clone(), &clock).await;
    auth.create_user("ann", "a long enough password", &[])
        .await
        .unwrap();
    let login = auth
        .login_session("ann", "a long enough password", None)
        .await
        .unwrap();
    let pair = auth
        .issue_tokens("ann", "a long enough password")
        .await
        .unwrap();
    for real in [cookie_of(&login), pair.refresh_token().to_owned()] {
        let handle = Credential::parse(&real).unwrap().handle;
        let forged = Credential::generate(handle).expose();
        assert!(auth.refresh(&forged).await.is_err());
        auth.revoke(&forged).await.unwrap();
        let relogin = auth
            .login_session("ann", "a long enough password", Some(&forged))
            .await
            .unwrap();
        drop(relogin);
        assert!(
            store
                .find_session(&handle, clock.now())
                .await
                .unwrap()
                .is_some(),
            "the session named by the forged value lives on"
        );
    }
    assert!(auth.refresh(pair.refresh_token()).await.is_ok());
}

#[tokio::test]
async fn tokens_of_a_dropped_key_are_refused_even_when_cached() {
    let clock = ManualClock::new();
    let auth = auth_on(MemoryStore::new(), &clock).await;
    auth.create_user("ann", "a long enough password", &[])
        .await
        .unwrap();
    let pair = auth
        .issue_tokens("ann", "a long enough password")
        .await
        .unwrap();
    auth.verify_access_token(pair.access_token()).await.unwrap();
    auth.rotate_keys().await.unwrap();
    auth.verify_access_token(pair.access_token())
        .await
        .expect("the old key verifies until it retires");
    let retire = auth.config().revocation_horizon();
    let now = clock.now() + retire;
    assert!(auth.keys().prune(now), "the old key is dropped");
    assert!(matches!(
        auth.verify_access_token(pair.access_token()).await,
        Err(AuthError::InvalidToken(TokenRejection::UnknownKey))
    ));
}

#[tokio::test]
async fn store_outage_fails_closed() {
    struct Down;

    #[async_trait::async_trait]
    impl SessionStore for Down {
        async fn create_session(&self, _: &SessionRecord) -> Result<(), crate::StoreError> {
            Err(crate::StoreError::unavailable("down"))
        }
        async fn find_session(
            &self,
            _: &Handle,
            _: SystemTime,
        ) -> Result<Option<Arc<SessionRecord>>, crate::StoreError> {
            Err(crate::StoreError::unavailable("down"))
        }
        async fn touch_session(&self, _: &Handle, _: SystemTime) -> Result<(), crate::StoreError> {
            Err(crate::StoreError::unavailable("down"))
        }
        async fn replace_session(
            &self,
            _: &SessionRecord,
            _: u64,
            _: SystemTime,
        ) -> Result<bool, crate::StoreError> {
            Err(crate::StoreError::unavailable("down"))
        }
        async fn end_session(
            &self,
            _: &Handle,
            _: SystemTime,
        ) -> Result<Option<SessionRecord>, crate::StoreError> {
            Err(crate::StoreError::unavailable("down"))
        }
        async fn list_sessions(
            &self,
            _: &str,
            _: SystemTime,
        ) -> Result<Vec<SessionRecord>, crate::StoreError> {
            Err(crate::StoreError::unavailable("down"))
        }
        async fn end_user_sessions(
            &self,
            _: &str,
            _: Option<&Handle>,
            _: SystemTime,
        ) -> Result<Vec<SessionRecord>, crate::StoreError> {
            Err(crate::StoreError::unavailable("down"))
        }
        async fn ping(&self) -> Result<(), crate::StoreError> {
            Err(crate::StoreError::unavailable("down"))
        }
    }

    let auth = Auth::builder().argon2(CHEAP).build().unwrap();
    let cookie = Credential::generate(Handle::generate()).expose();
    let refresh = Credential::generate(Handle::generate()).expose();
    let broken = Auth {
        inner: Arc::new(Inner {
            sessions: Arc::new(Down),
            ..clone_inner(&auth)
        }),
    };
    assert!(matches!(
        broken.authenticate(&get(&cookie)).await,
        Err(AuthError::StoreUnavailable(_))
    ));
    assert!(matches!(
        broken.refresh(&refresh).await,
        Err(AuthError::StoreUnavailable(_))
    ));
    assert!(matches!(
        broken.health().await,
        Err(AuthError::StoreUnavailable(_))
    ));
}

/// The parts of an `Auth` a test swaps one store out of.
fn clone_inner(auth: &Auth) -> Inner {
    let inner = &auth.inner;
    Inner {
        config: inner.config.clone(),
        clock: inner.clock.clone(),
        sessions: inner.sessions.clone(),
        throttle: inner.throttle.clone(),
        users: inner.users.clone(),
        revocations: RevocationCache::new(
            Arc::new(MemoryStore::new()),
            inner.config.revocation_staleness,
        ),
        tokens: Tokens::new(
            inner.tokens.ring().clone(),
            crate::token::access::TokenRules {
                issuer: inner.config.issuer.clone(),
                audience: inner.config.audience.clone(),
                leeway: inner.config.leeway,
                ttl: inner.config.access_ttl,
            },
            16,
        ),
        hasher: inner.hasher.clone(),
        session_cache: None,
    }
}

/// Collects every formatted log line.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn no_secret_reaches_a_log_line_or_debug_output() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = tracing::subscriber::set_default(subscriber);
    let password = "a long enough password";
    let mut secrets: Vec<String> = vec![password.into(), "a wrong password!".into()];
    let mut debug = String::new();
    runtime.block_on(async {
        let clock = ManualClock::new();
        let auth = auth_on(MemoryStore::new(), &clock).await;
        auth.signup("ann", password).await.unwrap();
        let _ = auth.login_session("ann", "a wrong password!", None).await;
        let login = auth.login_session("ann", password, None).await.unwrap();
        let cookie = cookie_of(&login);
        let post = RequestInfo {
            method: "POST",
            session_cookie: Some(&cookie),
            csrf_token: Some("forged"),
            ..RequestInfo::default()
        };
        let _ = auth.authenticate(&post).await;
        let identity = auth.authenticate(&get(&cookie)).await.unwrap().unwrap();
        let pair = auth.issue_tokens("ann", password).await.unwrap();
        let next = auth.refresh(pair.refresh_token()).await.unwrap();
        let _ = auth.refresh(pair.refresh_token()).await;
        let bad = format!("{}x", next.access_token());
        let _ = auth.verify_access_token(&bad).await;
        auth.revoke(next.access_token()).await.unwrap();
        let _ = auth.verify_access_token(next.access_token()).await;
        auth.change_password(&identity, password, "another long password")
            .await
            .unwrap();
        debug = format!(
            "{login:?} {pair:?} {next:?} {identity:?} {post:?} {:?} {auth:?}",
            login.cookie
        );
        secrets.extend([
            cookie.clone(),
            login.csrf_token.clone(),
            pair.access_token().into(),
            pair.refresh_token().into(),
            next.access_token().into(),
            next.refresh_token().into(),
            "another long password".into(),
        ]);
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("session login"),
        "events were captured: {logs}"
    );
    for secret in &secrets {
        // The secret half of a `HANDLE.SECRET` value, or the whole value.
        let tail = secret.rsplit('.').next().unwrap();
        assert!(!logs.contains(tail), "a secret reached the logs");
        assert!(!debug.contains(tail), "a secret reached Debug output");
    }
}

/// A memory store that counts session reads and offers a signal the test
/// drives.
#[derive(Clone)]
struct Signalled {
    inner: MemoryStore,
    reads: Arc<std::sync::atomic::AtomicUsize>,
    signal: tokio::sync::watch::Receiver<crate::store::RevocationSignal>,
}

#[async_trait::async_trait]
impl SessionStore for Signalled {
    async fn create_session(&self, r: &SessionRecord) -> Result<(), crate::StoreError> {
        self.inner.create_session(r).await
    }
    async fn find_session(
        &self,
        h: &Handle,
        now: SystemTime,
    ) -> Result<Option<Arc<SessionRecord>>, crate::StoreError> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.find_session(h, now).await
    }
    async fn touch_session(&self, h: &Handle, at: SystemTime) -> Result<(), crate::StoreError> {
        self.inner.touch_session(h, at).await
    }
    async fn replace_session(
        &self,
        r: &SessionRecord,
        v: u64,
        now: SystemTime,
    ) -> Result<bool, crate::StoreError> {
        self.inner.replace_session(r, v, now).await
    }
    async fn end_session(
        &self,
        h: &Handle,
        now: SystemTime,
    ) -> Result<Option<SessionRecord>, crate::StoreError> {
        self.inner.end_session(h, now).await
    }
    async fn list_sessions(
        &self,
        u: &str,
        now: SystemTime,
    ) -> Result<Vec<SessionRecord>, crate::StoreError> {
        self.inner.list_sessions(u, now).await
    }
    async fn end_user_sessions(
        &self,
        u: &str,
        keep: Option<&Handle>,
        now: SystemTime,
    ) -> Result<Vec<SessionRecord>, crate::StoreError> {
        self.inner.end_user_sessions(u, keep, now).await
    }
    async fn ping(&self) -> Result<(), crate::StoreError> {
        Ok(())
    }
    fn session_signal(
        &self,
    ) -> Option<tokio::sync::watch::Receiver<crate::store::RevocationSignal>> {
        Some(self.signal.clone())
    }
}

#[tokio::test]
async fn announced_stores_serve_sessions_from_memory_until_something_ends() {
    use std::sync::atomic::Ordering::SeqCst;

    let memory = MemoryStore::new();
    let (tx, rx) = tokio::sync::watch::channel(crate::store::RevocationSignal {
        connected: true,
        notices: 0,
    });
    let store = Signalled {
        inner: memory.clone(),
        reads: Arc::default(),
        signal: rx,
    };
    let clock = ManualClock::new();
    let elsewhere = auth_on(memory.clone(), &clock).await;
    let auth = Auth::builder()
        .store(memory.clone())
        .clock(clock.clone())
        .argon2(CHEAP)
        .build()
        .unwrap();
    let auth = Auth {
        inner: Arc::new(Inner {
            sessions: Arc::new(store.clone()),
            session_cache: Some(SessionCache::new(store.signal.clone(), 16)),
            ..clone_inner(&auth)
        }),
    };
    auth.create_user("ann", "a long enough password", &[])
        .await
        .unwrap();
    let login = auth
        .login_session("ann", "a long enough password", None)
        .await
        .unwrap();
    let cookie = cookie_of(&login);
    let reads = || store.reads.load(SeqCst);

    auth.authenticate(&get(&cookie)).await.unwrap().unwrap();
    let after_first = reads();
    for _ in 0..5 {
        auth.authenticate(&get(&cookie)).await.unwrap().unwrap();
    }
    assert_eq!(reads(), after_first, "vouched for: no store reads");

    tx.send_modify(|s| s.notices += 1);
    auth.authenticate(&get(&cookie)).await.unwrap().unwrap();
    assert_eq!(
        reads(),
        after_first + 1,
        "a notice sends the next read to the store"
    );

    tx.send_modify(|s| s.connected = false);
    auth.authenticate(&get(&cookie)).await.unwrap().unwrap();
    auth.authenticate(&get(&cookie)).await.unwrap().unwrap();
    assert_eq!(
        reads(),
        after_first + 3,
        "while disconnected every request reads"
    );
    tx.send_modify(|s| s.connected = true);

    // Ended by another instance: effective once the end is announced.
    auth.authenticate(&get(&cookie)).await.unwrap().unwrap();
    let handle = Credential::parse(&cookie).unwrap().handle;
    elsewhere
        .inner
        .sessions
        .end_session(&handle, clock.now())
        .await
        .unwrap();
    tx.send_modify(|s| s.notices += 1);
    assert!(auth.authenticate(&get(&cookie)).await.unwrap().is_none());

    // Ended here: effective at once, without waiting for the announcement.
    let login = auth
        .login_session("ann", "a long enough password", None)
        .await
        .unwrap();
    let cookie = cookie_of(&login);
    let me = auth.authenticate(&get(&cookie)).await.unwrap().unwrap();
    auth.authenticate(&get(&cookie)).await.unwrap().unwrap();
    auth.logout(&me).await.unwrap();
    assert!(auth.authenticate(&get(&cookie)).await.unwrap().is_none());

    // Idle expiry still applies to a cached record.
    let login = auth
        .login_session("ann", "a long enough password", None)
        .await
        .unwrap();
    let cookie = cookie_of(&login);
    auth.authenticate(&get(&cookie)).await.unwrap().unwrap();
    clock.advance(auth.config().idle_timeout);
    assert!(auth.authenticate(&get(&cookie)).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_refreshes_have_one_winner() {
    let clock = ManualClock::new();
    let auth = auth_on(MemoryStore::new(), &clock).await;
    auth.create_user("ann", "a long enough password", &[])
        .await
        .unwrap();
    let pair = auth
        .issue_tokens("ann", "a long enough password")
        .await
        .unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(64));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let (auth, token, barrier) = (
            auth.clone(),
            pair.refresh_token().to_owned(),
            barrier.clone(),
        );
        tasks.spawn(async move {
            barrier.wait().await;
            auth.refresh(&token).await
        });
    }
    let mut winners = Vec::new();
    while let Some(answer) = tasks.join_next().await {
        match answer.unwrap() {
            Ok(won) => winners.push(won),
            Err(error) => assert!(matches!(error, AuthError::InvalidGrant), "{error:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one refresh wins");
    // The losers presented a spent token: the family, winner included, ended.
    assert!(auth.refresh(winners[0].refresh_token()).await.is_err());
    assert!(
        auth.verify_access_token(winners[0].access_token())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn ending_other_sessions_keeps_the_current_one() {
    let clock = ManualClock::new();
    let auth = auth_on(MemoryStore::new(), &clock).await;
    auth.create_user("ann", "a long enough password", &[])
        .await
        .unwrap();
    let here = auth
        .login_session("ann", "a long enough password", None)
        .await
        .unwrap();
    let there = auth
        .login_session("ann", "a long enough password", None)
        .await
        .unwrap();
    let pair = auth
        .issue_tokens("ann", "a long enough password")
        .await
        .unwrap();
    let (here, there) = (cookie_of(&here), cookie_of(&there));
    let me = auth.authenticate(&get(&here)).await.unwrap().unwrap();
    auth.end_other_sessions(&me).await.unwrap();
    assert!(auth.authenticate(&get(&here)).await.unwrap().is_some());
    assert!(auth.authenticate(&get(&there)).await.unwrap().is_none());
    assert!(auth.refresh(pair.refresh_token()).await.is_err());
    assert!(auth.verify_access_token(pair.access_token()).await.is_err());
}
