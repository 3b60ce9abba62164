//! What a hostile tester tries first against bearer tokens.

use std::time::Duration;

use auth_tests::{BOB, Demo, Stack, error_code, for_each_stack, header, temp_file};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

for_each_stack!(
    alg_none_is_refused_in_any_casing,
    hs256_signed_with_the_public_key_is_refused,
    stripped_or_altered_signatures_are_refused,
    tampered_claims_are_refused,
    expiry_honours_the_leeway_and_no_more,
    wrong_audience_issuer_or_type_is_refused,
    every_required_claim_is_required,
    unknown_or_hostile_kids_are_refused,
    keys_in_the_header_are_never_used,
    oversized_and_query_tokens_are_refused,
    bearer_scheme_is_case_insensitive,
);

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test-secret";

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

fn decode_part(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// A demo signing HS256 with a secret this test knows, so it can forge.
async fn hs256_demo(stack: Stack) -> Demo {
    let path = temp_file("hs256.key", SECRET);
    Demo::with(
        stack,
        &[
            ("JWT_ALG", "HS256"),
            ("JWT_KEY_FILE", path.to_str().unwrap()),
        ],
    )
    .await
}

/// The header and claims of a real token of `demo`, to tamper with.
async fn real_parts(demo: &Demo) -> (Value, Value) {
    let (access, _) = demo.tokens(BOB).await;
    let mut parts = access.split('.');
    (
        decode_part(parts.next().unwrap()),
        decode_part(parts.next().unwrap()),
    )
}

/// Signs `claims` with the demo's real HS256 secret under `header`.
fn forge(header: &Value, claims: &Value) -> String {
    let message = format!("{}.{}", b64(header), b64(claims));
    let mac = hmac(SECRET, message.as_bytes());
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(mac))
}

/// HMAC-SHA256 over hand-made bytes, so that headers the typed encoder
/// would refuse can still be signed.
fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    let token = jsonwebtoken::crypto::sign(
        message,
        &EncodingKey::from_secret(key).unwrap(),
        Algorithm::HS256,
    )
    .expect("HMAC signs");
    URL_SAFE_NO_PAD.decode(token).unwrap()
}

async fn refused(demo: &Demo, token: &str) {
    let response = demo.get_bearer("/api/me", token).await;
    assert_eq!(
        header(&response, "www-authenticate").as_deref(),
        Some("Bearer realm=\"auth-demo\", error=\"invalid_token\"")
    );
    let body = response.text().await.unwrap();
    assert!(
        !body.contains(token),
        "the error body never echoes the token"
    );
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"], "invalid_token", "{token}");
}

async fn alg_none_is_refused_in_any_casing(stack: Stack) {
    let demo = hs256_demo(stack).await;
    let (header, claims) = real_parts(&demo).await;
    for alg in ["none", "None", "NONE", "nOnE"] {
        let mut h = header.clone();
        h["alg"] = json!(alg);
        for signature in ["", "AAAA"] {
            refused(&demo, &format!("{}.{}.{signature}", b64(&h), b64(&claims))).await;
        }
    }
    let (access, _) = demo.tokens(BOB).await;
    assert_eq!(
        demo.get_bearer("/api/me", &access).await.status(),
        StatusCode::OK,
        "the key works"
    );
}

async fn hs256_signed_with_the_public_key_is_refused(stack: Stack) {
    for alg in ["EdDSA", "RS256", "ES256"] {
        let demo = Demo::with(stack, &[("JWT_ALG", alg)]).await;
        let (header, claims) = real_parts(&demo).await;
        let jwks: Value = Client::new()
            .get(demo.url("/.well-known/jwks.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let jwk = &jwks["keys"][0];
        let mut h = header.clone();
        h["alg"] = json!("HS256");
        // Every public form an attacker might feed as the HMAC secret.
        let candidates = [jwk.to_string(), jwk["x"].to_string(), jwk["n"].to_string()];
        for secret in candidates {
            let message = format!("{}.{}", b64(&h), b64(&claims));
            let mac = hmac(secret.as_bytes(), message.as_bytes());
            refused(&demo, &format!("{message}.{}", URL_SAFE_NO_PAD.encode(mac))).await;
        }
    }
}

async fn stripped_or_altered_signatures_are_refused(stack: Stack) {
    let demo = hs256_demo(stack).await;
    let (access, _) = demo.tokens(BOB).await;
    let (message, signature) = access.rsplit_once('.').unwrap();
    refused(&demo, &format!("{message}.")).await;
    refused(&demo, message).await;
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    bytes[0] ^= 1;
    refused(
        &demo,
        &format!("{message}.{}", URL_SAFE_NO_PAD.encode(&bytes)),
    )
    .await;
    refused(&demo, &format!("{access}.extra")).await;
}

async fn tampered_claims_are_refused(stack: Stack) {
    let demo = hs256_demo(stack).await;
    let (access, _) = demo.tokens(BOB).await;
    let mut parts: Vec<String> = access.split('.').map(str::to_owned).collect();
    let mut claims = decode_part(&parts[1]);
    claims["roles"] = json!(["admin", "user"]);
    claims["sub"] = json!("alice");
    parts[1] = b64(&claims);
    refused(&demo, &parts.join(".")).await;
    let admin = demo.get_bearer("/api/admin", &parts.join(".")).await;
    assert_eq!(admin.status(), StatusCode::UNAUTHORIZED);
}

async fn expiry_honours_the_leeway_and_no_more(stack: Stack) {
    let demo = Demo::start(stack).await;
    let (access, _) = demo.tokens(BOB).await;
    demo.advance(Duration::from_secs(900 + 29));
    assert_eq!(
        demo.get_bearer("/api/me", &access).await.status(),
        StatusCode::OK,
        "within leeway"
    );
    demo.advance(Duration::from_secs(1));
    refused(&demo, &access).await;

    // nbf ahead of the clock by more than the leeway.
    let demo = hs256_demo(stack).await;
    let (header, mut claims) = real_parts(&demo).await;
    let now = claims["iat"].as_u64().unwrap();
    claims["nbf"] = json!(now + 31);
    claims["iat"] = json!(now + 31);
    refused(&demo, &forge(&header, &claims)).await;
    claims["nbf"] = json!(now + 29);
    claims["iat"] = json!(now);
    claims["jti"] = json!("fresh-jti-1");
    let ok = demo.get_bearer("/api/me", &forge(&header, &claims)).await;
    assert_eq!(ok.status(), StatusCode::OK, "nbf within leeway");
}

async fn wrong_audience_issuer_or_type_is_refused(stack: Stack) {
    let demo = hs256_demo(stack).await;
    let (header, claims) = real_parts(&demo).await;
    let good = forge(&header, &claims);
    assert_eq!(
        demo.get_bearer("/api/me", &good).await.status(),
        StatusCode::OK,
        "forging works"
    );
    for (field, value) in [
        ("aud", json!("another-api")),
        ("aud", json!(["another-api"])),
        ("iss", json!("evil")),
        ("iss", json!("auth-demo ")),
        ("iss", json!(["auth-demo"])),
    ] {
        let mut c = claims.clone();
        c[field] = value;
        refused(&demo, &forge(&header, &c)).await;
    }
    let mut c = claims.clone();
    c["aud"] = json!(["another-api", "auth-demo-api"]);
    assert_eq!(
        demo.get_bearer("/api/me", &forge(&header, &c))
            .await
            .status(),
        StatusCode::OK,
        "aud list containing ours"
    );
    for typ in [json!("JWT"), json!("at+jwt+x"), Value::Null] {
        let mut h = header.clone();
        h["typ"] = typ;
        refused(&demo, &forge(&h, &claims)).await;
    }
    let mut h = header.clone();
    h["typ"] = json!("AT+JWT");
    assert_eq!(
        demo.get_bearer("/api/me", &forge(&h, &claims))
            .await
            .status(),
        StatusCode::OK,
        "typ ignores case"
    );
}

async fn every_required_claim_is_required(stack: Stack) {
    let demo = hs256_demo(stack).await;
    let (header, claims) = real_parts(&demo).await;
    for missing in ["iss", "aud", "sub", "exp", "iat", "nbf", "jti"] {
        let mut c = claims.clone();
        c.as_object_mut().unwrap().remove(missing);
        refused(&demo, &forge(&header, &c)).await;
    }
    let mut c = claims.clone();
    c["exp"] = json!("never");
    refused(&demo, &forge(&header, &c)).await;
}

async fn unknown_or_hostile_kids_are_refused(stack: Stack) {
    let demo = hs256_demo(stack).await;
    let (header, claims) = real_parts(&demo).await;
    for kid in [
        json!("unknown"),
        json!("../../../../etc/passwd"),
        json!("' OR 1=1 --"),
        json!(7),
        Value::Null,
        json!("x".repeat(4000)),
    ] {
        let mut h = header.clone();
        h["kid"] = kid;
        refused(&demo, &forge(&h, &claims)).await;
    }
    let mut h = header.clone();
    h.as_object_mut().unwrap().remove("kid");
    refused(&demo, &forge(&h, &claims)).await;
}

async fn keys_in_the_header_are_never_used(stack: Stack) {
    let demo = hs256_demo(stack).await;
    let (header, claims) = real_parts(&demo).await;
    for (name, value) in [
        (
            "jwk",
            json!({"kty": "oct", "k": URL_SAFE_NO_PAD.encode(SECRET)}),
        ),
        ("jku", json!("http://127.0.0.1:1/jwks.json")),
        ("x5u", json!("http://127.0.0.1:1/cert.pem")),
        ("x5c", json!(["AAAA"])),
        ("crit", json!(["exp"])),
    ] {
        let mut h = header.clone();
        h[name] = value;
        refused(&demo, &forge(&h, &claims)).await;
    }
}

async fn oversized_and_query_tokens_are_refused(stack: Stack) {
    let demo = hs256_demo(stack).await;
    let (header, mut claims) = real_parts(&demo).await;
    claims["padding"] = json!("x".repeat(100 * 1024));
    let big = forge(&header, &claims);
    let response = demo.get_bearer("/api/me", &big).await;
    assert!(
        response.status() == StatusCode::UNAUTHORIZED || response.status().as_u16() == 431,
        "{}",
        response.status()
    );
    let (access, _) = demo.tokens(BOB).await;
    let response = Client::new()
        .get(demo.url(&format!("/api/me?access_token={access}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(response, 401).await,
        "unauthenticated",
        "never from the query string"
    );
}

async fn bearer_scheme_is_case_insensitive(stack: Stack) {
    let demo = Demo::start(stack).await;
    let (access, _) = demo.tokens(BOB).await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let response = Client::new()
            .get(demo.url("/api/me"))
            .header("authorization", format!("{scheme} {access}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{scheme}");
    }
    let empty = Client::new()
        .get(demo.url("/api/me"))
        .header("authorization", "Bearer")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(empty, 401).await, "invalid_token");
}
