//! Tokens: issue, refresh, reuse, revocation, password change, keys.

use std::time::Duration;

use auth_tests::{
    ALICE, BOB, Demo, Stack, browser, error_code, for_each_stack, header, set_cookies,
};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

for_each_stack!(
    token_login_answers_a_pair_that_is_not_cached,
    api_me_shows_the_claims,
    admin_route_needs_the_role,
    refresh_rotates_and_a_spent_token_ends_the_family,
    concurrent_refreshes_of_one_token_have_one_winner,
    grace_window_replays_only_the_previous_token,
    revoke_handles_refresh_access_and_garbage,
    revoke_all_ends_every_token_of_the_user,
    password_change_by_session_keeps_only_that_session,
    password_change_by_bearer_ends_that_token,
    jwks_lists_public_keys_only,
    key_rotation_keeps_old_tokens_valid,
    whoami_tells_how,
);

async fn token_login_answers_a_pair_that_is_not_cached(stack: Stack) {
    let demo = Demo::start(stack).await;
    let response = demo
        .post(
            &Client::new(),
            "/token",
            json!({"username": "alice", "password": ALICE.1}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some("no-store")
    );
    assert!(
        set_cookies(&response).is_empty(),
        "token login sets no cookie"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let refresh = body["refresh_token"].as_str().unwrap();
    assert!(refresh.len() >= 43, "at least 256 bits");
    assert_eq!(body["access_token"].as_str().unwrap().split('.').count(), 3);

    let wrong = demo
        .post(
            &Client::new(),
            "/token",
            json!({"username": "alice", "password": "nope nope nope"}),
        )
        .await;
    assert_eq!(error_code(wrong, 401).await, "invalid_credentials");
}

async fn api_me_shows_the_claims(stack: Stack) {
    let demo = Demo::start(stack).await;
    let (access, _) = demo.tokens(BOB).await;
    let response = demo.get_bearer("/api/me", &access).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["sub"], "bob");
    assert_eq!(body["roles"], json!(["user"]));
    assert!(body["exp"].is_u64() && body["jti"].is_string());

    let anonymous = Client::new().get(demo.url("/api/me")).send().await.unwrap();
    assert_eq!(
        header(&anonymous, "www-authenticate").as_deref(),
        Some("Bearer realm=\"auth-demo\"")
    );
    assert_eq!(error_code(anonymous, 401).await, "unauthenticated");
    // A session cookie does not open bearer routes.
    let client = browser();
    demo.login(&client, BOB).await;
    let by_cookie = client.get(demo.url("/api/me")).send().await.unwrap();
    assert_eq!(error_code(by_cookie, 401).await, "unauthenticated");
}

async fn admin_route_needs_the_role(stack: Stack) {
    let demo = Demo::start(stack).await;
    let (bob, _) = demo.tokens(BOB).await;
    let response = demo.get_bearer("/api/admin", &bob).await;
    assert_eq!(
        header(&response, "www-authenticate").as_deref(),
        Some("Bearer realm=\"auth-demo\", error=\"insufficient_scope\"")
    );
    assert_eq!(error_code(response, 403).await, "insufficient_scope");
    let (alice, _) = demo.tokens(ALICE).await;
    let response = demo.get_bearer("/api/admin", &alice).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({"ok": true}));
    let anonymous = Client::new()
        .get(demo.url("/api/admin"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(anonymous, 401).await, "unauthenticated");
}

async fn refresh_rotates_and_a_spent_token_ends_the_family(stack: Stack) {
    let demo = Demo::start(stack).await;
    let (access0, r0) = demo.tokens(BOB).await;
    let response = demo.refresh(&r0).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some("no-store")
    );
    let body: Value = response.json().await.unwrap();
    let r1 = body["refresh_token"].as_str().unwrap().to_owned();
    let access1 = body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r0);
    let body: Value = demo.refresh(&r1).await.json().await.unwrap();
    let r2 = body["refresh_token"].as_str().unwrap().to_owned();
    let access2 = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        demo.get_bearer("/api/me", &access2).await.status(),
        StatusCode::OK
    );

    // r0 is spent: presenting it ends the family, r2 included.
    assert_eq!(
        error_code(demo.refresh(&r0).await, 401).await,
        "invalid_grant"
    );
    assert_eq!(
        error_code(demo.refresh(&r2).await, 401).await,
        "invalid_grant"
    );
    for access in [&access0, &access1, &access2] {
        let me = demo.get_bearer("/api/me", access).await;
        assert_eq!(
            error_code(me, 401).await,
            "invalid_token",
            "family's access tokens die"
        );
    }
    for junk in ["", "x", "AAAAAAAAAAAAAAAAAAAAAA.AAAA", &r2[..r2.len() - 1]] {
        assert_eq!(
            error_code(demo.refresh(junk).await, 401).await,
            "invalid_grant"
        );
    }
}

async fn concurrent_refreshes_of_one_token_have_one_winner(stack: Stack) {
    let demo = Demo::start(stack).await;
    let (_, refresh) = demo.tokens(ALICE).await;
    let client = Client::new();
    let requests = (0..20).map(|_| {
        client
            .post(demo.url("/token/refresh"))
            .json(&json!({"refresh_token": refresh}))
            .send()
    });
    let answers = futures_join_all(requests).await;
    let statuses: Vec<u16> = answers
        .iter()
        .map(|r| r.as_ref().unwrap().status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 401),
        "{statuses:?}"
    );
}

/// Polls every future at once on this task.
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    let mut outputs: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, slot) in set.iter_mut().zip(outputs.iter_mut()) {
            if slot.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(out) => *slot = Some(out),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}

async fn grace_window_replays_only_the_previous_token(stack: Stack) {
    let demo = Demo::with(stack, &[("REFRESH_GRACE_SECS", "10")]).await;
    let (_, r0) = demo.tokens(BOB).await;
    let body: Value = demo.refresh(&r0).await.json().await.unwrap();
    let r1 = body["refresh_token"].as_str().unwrap().to_owned();
    demo.advance(Duration::from_secs(5));
    let replay = demo.refresh(&r0).await;
    assert_eq!(
        replay.status(),
        StatusCode::OK,
        "the token just replaced, within the window"
    );
    let body: Value = replay.json().await.unwrap();
    let r2 = body["refresh_token"].as_str().unwrap().to_owned();
    let body: Value = demo.refresh(&r2).await.json().await.unwrap();
    let r3 = body["refresh_token"].as_str().unwrap().to_owned();
    // r1 was displaced by the replay and is older than r2: reuse.
    assert_eq!(
        error_code(demo.refresh(&r1).await, 401).await,
        "invalid_grant"
    );
    assert_eq!(
        error_code(demo.refresh(&r3).await, 401).await,
        "invalid_grant",
        "family ended"
    );

    let (_, s0) = demo.tokens(BOB).await;
    let body: Value = demo.refresh(&s0).await.json().await.unwrap();
    let s1 = body["refresh_token"].as_str().unwrap().to_owned();
    demo.advance(Duration::from_secs(11));
    assert_eq!(
        error_code(demo.refresh(&s0).await, 401).await,
        "invalid_grant",
        "after the window"
    );
    assert_eq!(
        error_code(demo.refresh(&s1).await, 401).await,
        "invalid_grant",
        "family ended"
    );
}

async fn revoke_handles_refresh_access_and_garbage(stack: Stack) {
    let demo = Demo::start(stack).await;
    let client = Client::new();
    let (access, refresh) = demo.tokens(BOB).await;
    let (other_access, _) = demo.tokens(BOB).await;

    let response = demo
        .post(&client, "/token/revoke", json!({"token": other_access}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({}));
    assert_eq!(
        error_code(demo.get_bearer("/api/me", &other_access).await, 401).await,
        "invalid_token"
    );
    assert_eq!(
        demo.get_bearer("/api/me", &access).await.status(),
        StatusCode::OK,
        "others live"
    );

    let response = demo
        .post(&client, "/token/revoke", json!({"token": refresh}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        error_code(demo.refresh(&refresh).await, 401).await,
        "invalid_grant"
    );
    assert_eq!(
        error_code(demo.get_bearer("/api/me", &access).await, 401).await,
        "invalid_token"
    );

    for junk in [json!("garbage"), json!(""), json!("a.b.c"), json!(refresh)] {
        let response = demo
            .post(&client, "/token/revoke", json!({"token": junk}))
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{junk}");
    }
    let missing = demo.post(&client, "/token/revoke", json!({})).await;
    assert_eq!(error_code(missing, 422).await, "invalid_request");
}

async fn revoke_all_ends_every_token_of_the_user(stack: Stack) {
    let demo = Demo::start(stack).await;
    let (a1, r1) = demo.tokens(ALICE).await;
    let (a2, r2) = demo.tokens(ALICE).await;
    let session = browser();
    demo.login(&session, ALICE).await;
    let (bob, _) = demo.tokens(BOB).await;
    let response = Client::new()
        .post(demo.url("/token/revoke-all"))
        .bearer_auth(&a1)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    for access in [&a1, &a2] {
        assert_eq!(
            error_code(demo.get_bearer("/api/me", access).await, 401).await,
            "invalid_token"
        );
    }
    for refresh in [&r1, &r2] {
        assert_eq!(
            error_code(demo.refresh(refresh).await, 401).await,
            "invalid_grant"
        );
    }
    let me = session.get(demo.url("/session/me")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED, "sessions end too");
    assert_eq!(
        demo.get_bearer("/api/me", &bob).await.status(),
        StatusCode::OK,
        "bob untouched"
    );
    let (fresh, _) = demo.tokens(ALICE).await;
    assert_eq!(
        demo.get_bearer("/api/me", &fresh).await.status(),
        StatusCode::OK
    );
    let anonymous = Client::new()
        .post(demo.url("/token/revoke-all"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(anonymous, 401).await, "unauthenticated");
}

async fn password_change_by_session_keeps_only_that_session(stack: Stack) {
    let demo = Demo::start(stack).await;
    let client = Client::new();
    demo.post(
        &client,
        "/signup",
        json!({"username": "carol", "password": "first password!"}),
    )
    .await;
    let carol = ("carol", "first password!");
    let response = demo
        .post(
            &client,
            "/session/login",
            json!({"username": "carol", "password": carol.1}),
        )
        .await;
    let old = set_cookies(&response)[0]
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf: Value = response.json().await.unwrap();
    let csrf = csrf["csrf_token"].as_str().unwrap().to_owned();
    let other = browser();
    demo.login(&other, carol).await;
    let (access, refresh) = demo.tokens(carol).await;

    let change = |current: &str, new: &str, csrf: Option<&str>| {
        let mut request = client
            .post(demo.url("/password"))
            .header("cookie", &old)
            .json(&json!({"current_password": current, "new_password": new}));
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        request.send()
    };
    assert_eq!(
        error_code(
            change(carol.1, "second password!", None).await.unwrap(),
            403
        )
        .await,
        "csrf"
    );
    assert_eq!(
        error_code(
            change("wrong password", "second password!", Some(&csrf))
                .await
                .unwrap(),
            401
        )
        .await,
        "invalid_credentials"
    );
    assert_eq!(
        error_code(change(carol.1, "short", Some(&csrf)).await.unwrap(), 422).await,
        "weak_password"
    );

    let response = change(carol.1, "second password!", Some(&csrf))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let new = set_cookies(&response)[0]
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_ne!(new, old, "the session goes on under a new ID");
    let me = |cookie: &str| {
        client
            .get(demo.url("/session/me"))
            .header("cookie", cookie)
            .send()
    };
    assert_eq!(me(&new).await.unwrap().status(), StatusCode::OK);
    assert_eq!(me(&old).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        other
            .get(demo.url("/session/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        error_code(demo.get_bearer("/api/me", &access).await, 401).await,
        "invalid_token"
    );
    assert_eq!(
        error_code(demo.refresh(&refresh).await, 401).await,
        "invalid_grant"
    );

    let old_login = demo
        .post(
            &client,
            "/token",
            json!({"username": "carol", "password": carol.1}),
        )
        .await;
    assert_eq!(error_code(old_login, 401).await, "invalid_credentials");
    demo.tokens(("carol", "second password!")).await;
}

async fn password_change_by_bearer_ends_that_token(stack: Stack) {
    let demo = Demo::start(stack).await;
    let client = Client::new();
    demo.post(
        &client,
        "/signup",
        json!({"username": "dave", "password": "first password!"}),
    )
    .await;
    let (access, _) = demo.tokens(("dave", "first password!")).await;
    let response = client
        .post(demo.url("/password"))
        .bearer_auth(&access)
        .json(&json!({"current_password": "first password!", "new_password": "second password!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(set_cookies(&response).is_empty());
    assert_eq!(
        error_code(demo.get_bearer("/api/me", &access).await, 401).await,
        "invalid_token"
    );
    let anonymous = client
        .post(demo.url("/password"))
        .json(&json!({"current_password": "x", "new_password": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(anonymous, 401).await, "unauthenticated");
}

async fn jwks_lists_public_keys_only(stack: Stack) {
    for (alg, kty) in [("EdDSA", "OKP"), ("ES256", "EC"), ("RS256", "RSA")] {
        let demo = Demo::with(stack, &[("JWT_ALG", alg)]).await;
        let response = Client::new()
            .get(demo.url("/.well-known/jwks.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        let keys = body["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1);
        let key = &keys[0];
        assert_eq!(
            (
                key["alg"].as_str(),
                key["use"].as_str(),
                key["kty"].as_str()
            ),
            (Some(alg), Some("sig"), Some(kty))
        );
        assert!(key["kid"].is_string());
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(key.get(private).is_none(), "{alg} JWK leaks {private}");
        }
        let (access, _) = demo.tokens(BOB).await;
        assert_eq!(
            demo.get_bearer("/api/me", &access).await.status(),
            StatusCode::OK,
            "{alg}"
        );
    }
    let demo = Demo::with(stack, &[("JWT_ALG", "HS256")]).await;
    let body: Value = Client::new()
        .get(demo.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body, json!({"keys": []}));
}

async fn key_rotation_keeps_old_tokens_valid(stack: Stack) {
    let demo = Demo::start(stack).await;
    let (admin, _) = demo.tokens(ALICE).await;
    let (bob, _) = demo.tokens(BOB).await;
    let forbidden = Client::new()
        .post(demo.url("/admin/rotate-keys"))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(forbidden, 403).await, "insufficient_scope");
    let response = Client::new()
        .post(demo.url("/admin/rotate-keys"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let kid = response.json::<Value>().await.unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    let (fresh, _) = demo.tokens(BOB).await;
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            fresh.split('.').next().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(header["kid"], kid.as_str(), "new tokens use the new key");
    assert_eq!(
        demo.get_bearer("/api/me", &fresh).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        demo.get_bearer("/api/me", &bob).await.status(),
        StatusCode::OK,
        "old key still verifies"
    );
    let jwks: Value = Client::new()
        .get(demo.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    demo.advance(Duration::from_secs(931));
    assert_eq!(
        error_code(demo.get_bearer("/api/me", &bob).await, 401).await,
        "invalid_token"
    );
}

async fn whoami_tells_how(stack: Stack) {
    let demo = Demo::start(stack).await;
    let client = browser();
    demo.login(&client, ALICE).await;
    let by_cookie: Value = client
        .get(demo.url("/whoami"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_cookie, json!({"username": "alice", "via": "session"}));
    let (bob, _) = demo.tokens(BOB).await;
    // A bearer token wins over a cookie sent with it.
    let by_token: Value = client
        .get(demo.url("/whoami"))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_token, json!({"username": "bob", "via": "token"}));
    let bad = client
        .get(demo.url("/whoami"))
        .bearer_auth("nonsense")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(bad, 401).await,
        "invalid_token",
        "a refused token is not replaced by the cookie"
    );
    let anonymous = Client::new().get(demo.url("/whoami")).send().await.unwrap();
    assert_eq!(error_code(anonymous, 401).await, "unauthenticated");
}
