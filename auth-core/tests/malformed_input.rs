//! Malformed tokens, cookies and JSON never make the core panic: each is an
//! error or an anonymous request.

use std::sync::OnceLock;

use auth_core::api::{Credentials, RefreshRequest, parse_json};
use auth_core::{Argon2Params, Auth, AuthError, RequestInfo, bearer_token, find_cookie};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    })
}

fn auth() -> &'static Auth {
    static AUTH: OnceLock<Auth> = OnceLock::new();
    AUTH.get_or_init(|| {
        Auth::builder()
            .argon2(Argon2Params {
                memory_kib: 1024,
                iterations: 1,
                parallelism: 1,
            })
            .build()
            .unwrap()
    })
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Three base64url parts of arbitrary JSON-ish text: the shape a forger
/// starts from.
fn jwt_like() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        any::<Vec<u8>>().prop_map(|b| b64(&b)),
        "\\PC{0,80}".prop_map(|s| b64(s.as_bytes())),
        Just(b64(br#"{"alg":"EdDSA","typ":"at+jwt","kid":"x"}"#)),
        Just(b64(br#"{"alg":"none"}"#)),
        Just(b64(br#"{"sub":"alice","exp":99999999999}"#)),
    ];
    (part.clone(), part.clone(), part).prop_map(|(h, p, s)| format!("{h}.{p}.{s}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bearer_tokens_are_refused(token in prop_oneof!["\\PC{0,200}", jwt_like()]) {
        let header = format!("Bearer {token}");
        let request = RequestInfo { method: "GET", authorization: Some(&header), ..Default::default() };
        let outcome = runtime().block_on(auth().authenticate(&request));
        prop_assert!(matches!(outcome, Err(AuthError::InvalidToken(_))), "{outcome:?}");
    }

    #[test]
    fn arbitrary_cookies_are_anonymous(cookie in prop_oneof![
        "\\PC{0,120}",
        "[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}",
    ]) {
        for method in ["GET", "POST"] {
            let request = RequestInfo { method, session_cookie: Some(&cookie), ..Default::default() };
            let outcome = runtime().block_on(auth().authenticate(&request));
            prop_assert!(matches!(outcome, Ok(None)), "{outcome:?}");
        }
    }

    #[test]
    fn arbitrary_refresh_and_revoke_inputs_are_handled(token in prop_oneof![
        "\\PC{0,120}",
        "[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}",
        jwt_like(),
    ]) {
        let refreshed = runtime().block_on(auth().refresh(&token));
        prop_assert!(matches!(refreshed, Err(AuthError::InvalidGrant)));
        prop_assert!(runtime().block_on(auth().revoke(&token)).is_ok());
    }

    #[test]
    fn arbitrary_bodies_are_parsed_or_refused(body in prop_oneof![
        any::<Vec<u8>>(),
        "\\PC{0,200}".prop_map(String::into_bytes),
        Just(br#"{"username":"a","password":"b"}"#.to_vec()),
        Just(b"[{}]".to_vec()),
    ], content_type in prop_oneof![
        Just("application/json".to_owned()),
        "\\PC{0,40}",
    ]) {
        let _ = parse_json::<Credentials>(Some(&content_type), &body);
        let _ = parse_json::<RefreshRequest>(Some(&content_type), &body);
    }

    #[test]
    fn header_parsers_never_panic(text in "\\PC{0,200}") {
        let _ = find_cookie(&text, "session");
        let _ = bearer_token(&text);
    }
}
