//! Cookie sessions: login, cookies, CSRF, listing, logout, deadlines.

use std::time::Duration;

use auth_tests::{
    ALICE, BOB, Demo, Stack, browser, error_code, for_each_stack, header, set_cookies,
};
use base64::Engine as _;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

for_each_stack!(
    login_sets_a_hardened_cookie_and_answers_the_user,
    session_routes_need_a_cookie,
    csrf_guards_unsafe_cookie_requests,
    login_never_promotes_a_preset_cookie,
    login_with_a_live_cookie_ends_that_session,
    logout_clears_the_cookie_and_the_session,
    list_shows_handles_and_ends_one_by_handle,
    another_users_handle_is_not_found_and_lives_on,
    logout_all_ends_every_session,
    idle_and_absolute_deadlines_end_sessions,
    secure_cookies_use_the_host_prefix,
);

fn cookie_value(set_cookie: &str) -> &str {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
}

async fn login_sets_a_hardened_cookie_and_answers_the_user(stack: Stack) {
    let demo = Demo::start(stack).await;
    let response = demo
        .post(
            &Client::new(),
            "/session/login",
            json!({"username": "alice", "password": ALICE.1}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookies = set_cookies(&response);
    assert_eq!(cookies.len(), 1, "one Set-Cookie: {cookies:?}");
    let cookie = &cookies[0];
    assert!(cookie.starts_with("session="));
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} missing");
    }
    assert!(!cookie.contains("Domain"), "no Domain attribute");
    assert!(
        !cookie.contains("Secure"),
        "not Secure without SECURE_COOKIES"
    );
    let value = cookie_value(cookie);
    let random_bits: usize = value
        .split('.')
        .map(|part| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .expect("unpadded base64url")
                .len()
                * 8
        })
        .sum();
    assert!(random_bits >= 128, "{random_bits} random bits");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["username"], "alice");
    assert_eq!(body["roles"], json!(["admin", "user"]));
    assert!(body["csrf_token"].as_str().unwrap().len() >= 22);

    let client = browser();
    let csrf = demo.login(&client, ALICE).await;
    let me: Value = client
        .get(demo.url("/session/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me, json!({"username": "alice", "roles": ["admin", "user"]}));
    let again: Value = client
        .get(demo.url("/session/csrf"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["csrf_token"], csrf.as_str());
}

async fn session_routes_need_a_cookie(stack: Stack) {
    let demo = Demo::start(stack).await;
    let client = Client::new();
    for path in ["/session/me", "/session/csrf", "/session/list"] {
        let response = client.get(demo.url(path)).send().await.unwrap();
        assert_eq!(error_code(response, 401).await, "unauthenticated", "{path}");
    }
    // A session route without a valid cookie answers 401 before any CSRF check.
    for path in ["/session/logout", "/session/logout-all"] {
        let response = client.post(demo.url(path)).send().await.unwrap();
        assert_eq!(error_code(response, 401).await, "unauthenticated", "{path}");
    }
    let response = client
        .get(demo.url("/session/me"))
        .header("cookie", "session=not-a-session")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response, 401).await, "unauthenticated");
    // A bearer token does not stand in for a session.
    let (access, _) = demo.tokens(ALICE).await;
    let response = demo.get_bearer("/session/me", &access).await;
    assert_eq!(error_code(response, 401).await, "unauthenticated");
}

async fn csrf_guards_unsafe_cookie_requests(stack: Stack) {
    let demo = Demo::start(stack).await;
    let alice = browser();
    let csrf = demo.login(&alice, ALICE).await;
    let bob = browser();
    let bobs_csrf = demo.login(&bob, BOB).await;

    let missing = alice
        .post(demo.url("/session/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(missing, 403).await, "csrf");
    let foreign = alice
        .post(demo.url("/session/logout"))
        .header("x-csrf-token", &bobs_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(foreign, 403).await, "csrf");
    let me = alice.get(demo.url("/session/me")).send().await.unwrap();
    assert_eq!(
        me.status(),
        StatusCode::OK,
        "refused requests ended nothing"
    );

    let right = alice
        .post(demo.url("/session/logout"))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), StatusCode::NO_CONTENT);

    // Bearer requests need no CSRF token.
    let (access, _) = demo.tokens(BOB).await;
    let response = Client::new()
        .post(demo.url("/token/revoke-all"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

async fn login_never_promotes_a_preset_cookie(stack: Stack) {
    let demo = Demo::start(stack).await;
    let planted = "AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let response = Client::new()
        .post(demo.url("/session/login"))
        .header("cookie", format!("session={planted}"))
        .json(&json!({"username": "alice", "password": ALICE.1}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookies = set_cookies(&response);
    assert_ne!(cookie_value(&cookies[0]), planted);
    let with_planted = Client::new()
        .get(demo.url("/session/me"))
        .header("cookie", format!("session={planted}"))
        .send()
        .await
        .unwrap();
    assert_eq!(with_planted.status(), StatusCode::UNAUTHORIZED);
}

async fn login_with_a_live_cookie_ends_that_session(stack: Stack) {
    let demo = Demo::start(stack).await;
    let first = Client::new()
        .post(demo.url("/session/login"))
        .json(&json!({"username": "alice", "password": ALICE.1}))
        .send()
        .await
        .unwrap();
    let old = cookie_value(&set_cookies(&first)[0]).to_owned();
    let second = Client::new()
        .post(demo.url("/session/login"))
        .header("cookie", format!("session={old}"))
        .json(&json!({"username": "alice", "password": ALICE.1}))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), StatusCode::OK);
    let new = cookie_value(&set_cookies(&second)[0]).to_owned();
    assert_ne!(new, old);
    let replay = Client::new()
        .get(demo.url("/session/me"))
        .header("cookie", format!("session={old}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        replay.status(),
        StatusCode::UNAUTHORIZED,
        "the old session ended"
    );
}

async fn logout_clears_the_cookie_and_the_session(stack: Stack) {
    let demo = Demo::start(stack).await;
    let response = demo
        .post(
            &Client::new(),
            "/session/login",
            json!({"username": "bob", "password": BOB.1}),
        )
        .await;
    let cookie = cookie_value(&set_cookies(&response)[0]).to_owned();
    let csrf: Value = response.json().await.unwrap();
    let csrf = csrf["csrf_token"].as_str().unwrap().to_owned();
    let logout = Client::new()
        .post(demo.url("/session/logout"))
        .header("cookie", format!("session={cookie}"))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let cleared = &set_cookies(&logout)[0];
    assert!(cleared.starts_with("session=;") || cleared.starts_with("session=\"\";"));
    assert!(
        cleared.contains("Max-Age=0") && cleared.contains("Path=/"),
        "{cleared}"
    );
    let replay = Client::new()
        .get(demo.url("/session/me"))
        .header("cookie", format!("session={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        replay.status(),
        StatusCode::UNAUTHORIZED,
        "a replayed cookie is dead"
    );
}

async fn list_shows_handles_and_ends_one_by_handle(stack: Stack) {
    let demo = Demo::start(stack).await;
    let laptop = browser();
    let phone = browser();
    let csrf = demo.login(&laptop, ALICE).await;
    demo.login(&phone, ALICE).await;
    let (access, _) = demo.tokens(ALICE).await;

    let list: Vec<Value> = laptop
        .get(demo.url("/session/list"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        list.len(),
        3,
        "two cookie sessions and one refresh family: {list:?}"
    );
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
    for session in &list {
        for field in ["created_at", "last_seen_at"] {
            let text = session[field].as_str().unwrap();
            assert!(
                text.ends_with('Z') && text.len() == 20,
                "RFC 3339 UTC: {text}"
            );
        }
    }
    let other: Vec<&str> = list
        .iter()
        .filter(|s| s["current"] == false)
        .map(|s| s["id"].as_str().unwrap())
        .collect();

    let without_csrf = laptop
        .delete(demo.url(&format!("/session/list/{}", other[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(without_csrf, 403).await, "csrf");
    for id in &other {
        let ended = laptop
            .delete(demo.url(&format!("/session/list/{id}")))
            .header("x-csrf-token", &csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(ended.status(), StatusCode::NO_CONTENT);
        assert!(set_cookies(&ended).is_empty(), "not the current session");
    }
    let phone_me = phone.get(demo.url("/session/me")).send().await.unwrap();
    assert_eq!(phone_me.status(), StatusCode::UNAUTHORIZED);
    demo.advance(Duration::from_secs(1));
    let token_me = demo.get_bearer("/api/me", &access).await;
    assert_eq!(
        error_code(token_me, 401).await,
        "invalid_token",
        "its family's tokens end too"
    );

    let missing = laptop
        .delete(demo.url(&format!("/session/list/{}", other[0])))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(missing, 404).await, "not_found");

    let list: Vec<Value> = laptop
        .get(demo.url("/session/list"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let current = list[0]["id"].as_str().unwrap().to_owned();
    let ended = laptop
        .delete(demo.url(&format!("/session/list/{current}")))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    let cleared = set_cookies(&ended);
    assert!(
        cleared.iter().any(|c| c.contains("Max-Age=0")),
        "current one clears the cookie"
    );
}

async fn another_users_handle_is_not_found_and_lives_on(stack: Stack) {
    let demo = Demo::start(stack).await;
    let alice = browser();
    let csrf = demo.login(&alice, ALICE).await;
    let bob = browser();
    demo.login(&bob, BOB).await;
    let bobs: Vec<Value> = bob
        .get(demo.url("/session/list"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = bobs[0]["id"].as_str().unwrap();
    let response = alice
        .delete(demo.url(&format!("/session/list/{id}")))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response, 404).await, "not_found");
    let garbage = alice
        .delete(demo.url("/session/list/..%2F..%2Fetc"))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::NOT_FOUND);
    let still = bob.get(demo.url("/session/me")).send().await.unwrap();
    assert_eq!(still.status(), StatusCode::OK);
}

async fn logout_all_ends_every_session(stack: Stack) {
    let demo = Demo::start(stack).await;
    let one = browser();
    let csrf = demo.login(&one, BOB).await;
    let two = browser();
    demo.login(&two, BOB).await;
    let (access, refresh) = demo.tokens(BOB).await;
    let response = one
        .post(demo.url("/session/logout-all"))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(
        set_cookies(&response)
            .iter()
            .any(|c| c.contains("Max-Age=0"))
    );
    for client in [&one, &two] {
        let me = client.get(demo.url("/session/me")).send().await.unwrap();
        assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    }
    // Even within the same second, tokens issued before are refused.
    let me = demo.get_bearer("/api/me", &access).await;
    assert_eq!(error_code(me, 401).await, "invalid_token");
    assert_eq!(
        error_code(demo.refresh(&refresh).await, 401).await,
        "invalid_grant"
    );
    // A new login right after works.
    let (fresh, _) = demo.tokens(BOB).await;
    assert_eq!(
        demo.get_bearer("/api/me", &fresh).await.status(),
        StatusCode::OK
    );
}

async fn idle_and_absolute_deadlines_end_sessions(stack: Stack) {
    let demo = Demo::with(
        stack,
        &[
            ("SESSION_IDLE_SECS", "600"),
            ("SESSION_ABSOLUTE_SECS", "1500"),
        ],
    )
    .await;
    let idle = browser();
    demo.login(&idle, BOB).await;
    let busy = browser();
    demo.login(&busy, BOB).await;
    let me = |c: &Client| c.get(demo.url("/session/me")).send();
    for _ in 0..2 {
        demo.advance(Duration::from_secs(500));
        assert_eq!(
            me(&busy).await.unwrap().status(),
            StatusCode::OK,
            "used within idle"
        );
    }
    assert_eq!(
        me(&idle).await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "idle 1000 s"
    );
    demo.advance(Duration::from_secs(499));
    assert_eq!(
        me(&busy).await.unwrap().status(),
        StatusCode::OK,
        "1499 s old"
    );
    demo.advance(Duration::from_secs(1));
    assert_eq!(
        me(&busy).await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "absolute deadline"
    );
}

async fn secure_cookies_use_the_host_prefix(stack: Stack) {
    let demo = Demo::with(stack, &[("SECURE_COOKIES", "1")]).await;
    let response = demo
        .post(
            &Client::new(),
            "/session/login",
            json!({"username": "bob", "password": BOB.1}),
        )
        .await;
    let cookie = &set_cookies(&response)[0];
    assert!(cookie.starts_with("__Host-session="), "{cookie}");
    assert!(cookie.contains("Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"));
    let value = cookie_value(cookie);
    let me = Client::new()
        .get(demo.url("/session/me"))
        .header("cookie", format!("__Host-session={value}"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(header(&me, "cache-control").as_deref(), Some("no-store"));
}
