//! Health, sign-up, request bodies, lockout, CORS and unknown routes.

use std::time::Duration;

use auth_tests::{ALICE, BOB, Demo, Stack, error_code, for_each_stack, header};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

for_each_stack!(
    healthz_reports_the_store,
    signup_applies_the_policies,
    bodies_are_json_objects_within_limits,
    login_answers_only_the_allowed_statuses,
    unknown_name_and_wrong_password_answer_alike,
    lockout_counts_failures_per_name_and_ends_on_time,
    cors_preflight_echoes_allowed_origins_only,
    unknown_routes_answer_json_404,
);

async fn healthz_reports_the_store(stack: Stack) {
    let demo = Demo::start(stack).await;
    let response = Client::new()
        .get(demo.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"status": "ok", "store": "ok"})
    );
}

async fn signup_applies_the_policies(stack: Stack) {
    let demo = Demo::start(stack).await;
    let client = Client::new();
    let signup = |u: &str, p: &str| {
        demo.post(
            &client,
            "/signup",
            json!({"username": u, "password": p, "roles": ["admin"]}),
        )
    };
    let created = signup("erin", "twelve chars").await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(
        created.json::<Value>().await.unwrap(),
        json!({"username": "erin"})
    );
    let (access, _) = demo.tokens(("erin", "twelve chars")).await;
    let me: Value = demo
        .get_bearer("/api/me", &access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        me["roles"],
        json!(["user"]),
        "a roles field sent to /signup is ignored"
    );

    assert_eq!(
        error_code(signup("erin", "another password").await, 409).await,
        "username_taken"
    );
    assert_eq!(
        error_code(signup("alice", "another password").await, 409).await,
        "username_taken"
    );
    for bad in ["ab", "Erin", "erin!", "érin", &"x".repeat(65)] {
        assert_eq!(
            error_code(signup(bad, "twelve chars").await, 422).await,
            "invalid_username",
            "{bad}"
        );
    }
    for weak in ["eleven char", &"x".repeat(1025)] {
        assert_eq!(
            error_code(signup("frank", weak).await, 422).await,
            "weak_password"
        );
    }
    assert_eq!(
        signup("frank", &"é".repeat(12)).await.status(),
        StatusCode::CREATED,
        "code points count"
    );
}

async fn bodies_are_json_objects_within_limits(stack: Stack) {
    let demo = Demo::start(stack).await;
    let client = Client::new();
    let send = |content_type: &'static str, body: Vec<u8>| {
        client
            .post(demo.url("/token"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let form = send(
        "application/x-www-form-urlencoded",
        b"username=bob".to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(error_code(form, 415).await, "unsupported_media_type");
    let none = client
        .post(demo.url("/token"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(none, 415).await, "unsupported_media_type");
    let mut big = br#"{"username":"bob","password":""#.to_vec();
    big.extend(std::iter::repeat_n(b'x', 70 * 1024));
    big.extend(br#""}"#);
    assert_eq!(
        error_code(send("application/json", big).await.unwrap(), 413).await,
        "payload_too_large"
    );
    assert_eq!(
        error_code(
            send("application/json", b"{not json".to_vec())
                .await
                .unwrap(),
            400
        )
        .await,
        "invalid_request"
    );
    for body in [
        &b"[]"[..],
        b"\"x\"",
        b"{}",
        br#"{"username":"bob"}"#,
        br#"{"username":1,"password":"x"}"#,
    ] {
        let response = send("application/json", body.to_vec()).await.unwrap();
        assert_eq!(error_code(response, 422).await, "invalid_request");
    }
    let ok = send(
        "application/json; charset=utf-8",
        br#"{"username":"bob","password":"hunter2hunter2!"}"#.to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}

async fn login_answers_only_the_allowed_statuses(stack: Stack) {
    let demo = Demo::start(stack).await;
    let client = Client::new();
    let odd = [
        "",
        " ",
        "\u{0}",
        "'; DROP TABLE users; --",
        "ü",
        &"x".repeat(5000),
        "alice\n",
    ];
    for (i, name) in odd.iter().enumerate() {
        for path in ["/session/login", "/token"] {
            let response = demo
                .post(
                    &client,
                    path,
                    json!({"username": name, "password": odd[(i + 1) % odd.len()]}),
                )
                .await;
            let status = response.status().as_u16();
            assert!(matches!(status, 401 | 429), "{path} {name:?}: {status}");
        }
    }
}

async fn unknown_name_and_wrong_password_answer_alike(stack: Stack) {
    let demo = Demo::start(stack).await;
    let client = Client::new();
    for path in ["/session/login", "/token"] {
        let unknown = demo
            .post(
                &client,
                path,
                json!({"username": "nobody", "password": "a long wrong password"}),
            )
            .await;
        let wrong = demo
            .post(
                &client,
                path,
                json!({"username": "alice", "password": "a long wrong password"}),
            )
            .await;
        assert_eq!(unknown.status(), wrong.status());
        assert_eq!(
            header(&unknown, "www-authenticate"),
            header(&wrong, "www-authenticate")
        );
        assert_eq!(
            unknown.text().await.unwrap(),
            wrong.text().await.unwrap(),
            "{path}"
        );
    }
}

async fn lockout_counts_failures_per_name_and_ends_on_time(stack: Stack) {
    let demo = Demo::with(
        stack,
        &[("LOGIN_MAX_FAILURES", "3"), ("LOGIN_LOCKOUT_SECS", "120")],
    )
    .await;
    let client = Client::new();
    let (access, _) = demo.tokens(BOB).await;
    let attempt = |path: &'static str, password: &'static str| {
        demo.post(
            &client,
            path,
            json!({"username": "bob", "password": password}),
        )
    };
    assert_eq!(
        attempt("/token", "wrong one").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt("/session/login", "wrong two").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt("/token", "wrong three").await.status(),
        StatusCode::UNAUTHORIZED,
        "the third still answers 401"
    );
    let locked = attempt("/session/login", BOB.1).await;
    let retry: u64 = header(&locked, "retry-after").unwrap().parse().unwrap();
    assert!((1..=120).contains(&retry), "Retry-After {retry}");
    assert_eq!(
        error_code(locked, 429).await,
        "locked",
        "even the right password"
    );
    assert_eq!(
        demo.get_bearer("/api/me", &access).await.status(),
        StatusCode::OK,
        "a lock ends no token"
    );

    demo.advance(Duration::from_secs(60));
    let locked = attempt("/token", BOB.1).await;
    let retry: u64 = header(&locked, "retry-after").unwrap().parse().unwrap();
    assert!(
        (1..=60).contains(&retry),
        "Retry-After counts down: {retry}"
    );
    demo.advance(Duration::from_secs(60));
    assert_eq!(
        attempt("/token", BOB.1).await.status(),
        StatusCode::OK,
        "the lock ended"
    );

    // Unknown names are counted and locked the same way.
    for _ in 0..3 {
        let r = demo
            .post(
                &client,
                "/token",
                json!({"username": "ghost", "password": "nothing here"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = demo
        .post(
            &client,
            "/token",
            json!({"username": "ghost", "password": "nothing here"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let alice = demo
        .post(
            &client,
            "/token",
            json!({"username": "alice", "password": ALICE.1}),
        )
        .await;
    assert_eq!(alice.status(), StatusCode::OK, "other names are unaffected");
}

async fn cors_preflight_echoes_allowed_origins_only(stack: Stack) {
    let demo = Demo::with(
        stack,
        &[("CORS_ORIGINS", "https://app.example, https://other.example")],
    )
    .await;
    let preflight = |origin: &'static str| {
        Client::new()
            .request(reqwest::Method::OPTIONS, demo.url("/api/me"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight("https://app.example").await.unwrap();
    assert_eq!(allowed.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        header(&allowed, "access-control-allow-origin").as_deref(),
        Some("https://app.example")
    );
    let headers = header(&allowed, "access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{headers}"
    );
    let vary = allowed
        .headers()
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap().to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(",");
    assert!(vary.contains("origin"), "Vary: {vary}");

    let foreign = preflight("https://evil.example").await.unwrap();
    assert!(header(&foreign, "access-control-allow-origin").is_none());

    let (access, _) = demo.tokens(BOB).await;
    let actual = Client::new()
        .get(demo.url("/api/me"))
        .header("origin", "https://other.example")
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(actual.status(), StatusCode::OK);
    assert_eq!(
        header(&actual, "access-control-allow-origin").as_deref(),
        Some("https://other.example")
    );
}

async fn unknown_routes_answer_json_404(stack: Stack) {
    let demo = Demo::start(stack).await;
    let response = Client::new()
        .get(demo.url("/no/such/route"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response, 404).await, "not_found");
}
