//! Hot paths of the core, each beside the baseline it is judged against.
//!
//! - `session_lookup`: one `find_session` in a memory store holding 100 000
//!   sessions.
//! - `verify_hs256`: bare `jsonwebtoken::decode` beside `Auth`'s full check
//!   (header, signature or cache, claims, time, revocation), for a repeated
//!   token and for a stream of distinct tokens that miss the cache.
//! - `verify_cached`: a repeated EdDSA token beside a repeated HS256 one.

#![allow(missing_docs)] // criterion's macros define undocumented items

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use auth_core::store::{MemoryStore, SessionKind, SessionRecord, SessionStore};
use auth_core::{Argon2Params, Auth, Handle, JwtAlgorithm, SecretHash};
use criterion::{Criterion, criterion_group, criterion_main};

/// Polls a future that the memory store completes at once.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the benchmarked path awaited"),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// The handle of session `i`, computed rather than read from a table, as a
/// request computes it from its own cookie: a 100 000-entry table of keys
/// would add a cache miss of its own to every lookup.
fn handle(i: usize) -> Handle {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut mixed = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut text = [b'0'; 22];
    for digit in text.iter_mut().rev().take(16) {
        *digit = HEX[(mixed & 15) as usize];
        mixed >>= 4;
    }
    let text = std::str::from_utf8(&text).expect("hex digits are ASCII");
    Handle::parse(text).expect("hex digits are base64url")
}

fn record(now: SystemTime, handle: Handle) -> SessionRecord {
    SessionRecord {
        handle,
        user: "user-42".into(),
        roles: vec!["user".into()],
        kind: SessionKind::Cookie,
        version: 0,
        secret: SecretHash::from_bytes([7; 32]),
        previous: None,
        spent: Vec::new(),
        rotated_at: now,
        created_at: now,
        last_seen_at: now,
        idle_timeout: Duration::from_secs(3600),
        absolute_deadline: now + Duration::from_secs(7200),
    }
}

fn session_lookup(c: &mut Criterion) {
    let store = MemoryStore::new();
    let now = SystemTime::now();
    const SESSIONS: usize = 100_000;
    for i in 0..SESSIONS {
        ready(store.create_session(&record(now, handle(i)))).unwrap();
    }
    let mut i = 0;
    c.bench_function("session_lookup/memory_100k", |b| {
        b.iter(|| {
            i = (i + 7919) % SESSIONS;
            let found = ready(store.find_session(&handle(i), now)).unwrap();
            black_box(found.expect("every handle names a session"))
        })
    });
}

async fn auth_with(alg: JwtAlgorithm) -> (Auth, String) {
    let store = MemoryStore::new();
    let auth = Auth::builder()
        .store(store)
        .algorithm(alg)
        .argon2(Argon2Params {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        })
        .build()
        .unwrap();
    auth.create_user("bench", "a long enough password", &["user"])
        .await
        .unwrap();
    let pair = auth
        .issue_tokens("bench", "a long enough password")
        .await
        .unwrap();
    // One verification reads the revocation log; later ones find it fresh.
    auth.verify_access_token(pair.access_token()).await.unwrap();
    (auth, pair.access_token().to_owned())
}

fn verify_hs256(c: &mut Criterion) {
    let rt = runtime();
    let secret = b"0123456789abcdef0123456789abcdef";
    let key = auth_core::KeyPair::from_pem(JwtAlgorithm::Hs256, secret).unwrap();
    let auth = Auth::builder()
        .keys(auth_core::KeyRing::new(key))
        .argon2(Argon2Params {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        })
        .token_cache_capacity(16)
        .build()
        .unwrap();
    let tokens: Vec<String> = rt.block_on(async {
        auth.create_user("bench", "a long enough password", &["user"])
            .await
            .unwrap();
        let mut tokens = Vec::new();
        for _ in 0..1024 {
            let pair = auth
                .issue_tokens("bench", "a long enough password")
                .await
                .unwrap();
            tokens.push(pair.access_token().to_owned());
        }
        auth.verify_access_token(&tokens[0]).await.unwrap();
        tokens
    });

    let decoding = jsonwebtoken::DecodingKey::from_secret(secret).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&["auth-demo-api"]);
    validation.set_issuer(&["auth-demo"]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);

    let mut group = c.benchmark_group("verify_hs256");
    group.bench_function("bare_jsonwebtoken_decode", |b| {
        b.iter(|| {
            black_box(
                jsonwebtoken::decode::<serde_json::Value>(&tokens[0], &decoding, &validation)
                    .unwrap(),
            )
        })
    });
    group.bench_function("auth_repeated_token", |b| {
        b.iter(|| black_box(ready(auth.verify_access_token(&tokens[0])).unwrap()))
    });
    let mut i = 0;
    group.bench_function("auth_distinct_tokens", |b| {
        b.iter(|| {
            i = (i + 1) % tokens.len();
            black_box(ready(auth.verify_access_token(&tokens[i])).unwrap())
        })
    });
    group.finish();
}

fn verify_cached(c: &mut Criterion) {
    let rt = runtime();
    let (ed, ed_token) = rt.block_on(auth_with(JwtAlgorithm::EdDsa));
    let (hs, hs_token) = rt.block_on(auth_with(JwtAlgorithm::Hs256));
    let mut group = c.benchmark_group("verify_cached");
    group.bench_function("hs256_repeated", |b| {
        b.iter(|| black_box(ready(hs.verify_access_token(&hs_token)).unwrap()))
    });
    group.bench_function("eddsa_repeated", |b| {
        b.iter(|| black_box(ready(ed.verify_access_token(&ed_token)).unwrap()))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = session_lookup, verify_hs256, verify_cached
}
criterion_main!(benches);
