//! Tests of the key ring.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

use aws_lc_rs::encoding::EcPrivateKeyRfc5915Der;
use aws_lc_rs::signature::ECDSA_P384_SHA384_FIXED_SIGNING;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Header, Validation};

use super::*;

const ALGORITHMS: [JwtAlgorithm; 4] = [
    JwtAlgorithm::Hs256,
    JwtAlgorithm::Rs256,
    JwtAlgorithm::Es256,
    JwtAlgorithm::EdDsa,
];

fn sign(key: &KeyPair) -> String {
    let mut header = Header::new(key.algorithm().jsonwebtoken());
    header.kid = Some(key.kid().to_owned());
    let claims = json!({ "sub": "alice", "exp": 4_000_000_000_u64 });
    jsonwebtoken::encode(&header, &claims, key.encoding_key()).unwrap()
}

fn verifies(token: &str, algorithm: JwtAlgorithm, key: &DecodingKey) -> bool {
    let validation = Validation::new(algorithm.jsonwebtoken());
    jsonwebtoken::decode::<Value>(token, key, &validation).is_ok()
}

/// Verifies as the verifier will: with the key the header's kid names.
fn verifies_in(ring: &KeyRing, token: &str) -> bool {
    let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    ring.verifying(&kid)
        .is_some_and(|key| verifies(token, ring.algorithm(), key.decoding_key()))
}

fn pem_of(tag: &str, der: &[u8]) -> Vec<u8> {
    pem::encode(&pem::Pem::new(tag, der)).into_bytes()
}

/// One RSA key for every test that needs a PEM file: generating is slow.
fn rsa_pem() -> &'static [u8] {
    static PEM: OnceLock<Vec<u8>> = OnceLock::new();
    PEM.get_or_init(|| {
        let key = aws_lc_rs::rsa::KeyPair::generate(KeySize::Rsa2048).unwrap();
        let der: Pkcs8V1Der<'_> = key.as_der().unwrap();
        pem_of("PRIVATE KEY", der.as_ref())
    })
}

fn ec_pem(curve: &'static aws_lc_rs::signature::EcdsaSigningAlgorithm) -> Vec<u8> {
    let der = EcdsaKeyPair::generate_pkcs8(curve, &SystemRandom::new()).unwrap();
    pem_of("PRIVATE KEY", der.as_ref())
}

fn ed_pem() -> Vec<u8> {
    let der = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    pem_of("PRIVATE KEY", der.as_ref())
}

fn kids(jwks: &Value) -> Vec<&str> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|jwk| jwk["kid"].as_str().unwrap())
        .collect()
}

/// RFC 7638 computed apart from the code under test.
fn thumbprint(jwk: &Value, required: &[&str]) -> String {
    let members: BTreeMap<&str, &Value> =
        required.iter().map(|name| (*name, &jwk[*name])).collect();
    let canonical = serde_json::to_string(&members).unwrap();
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
}

/// Checks a key from any source: it signs, its ring finds it by kid,
/// and its JWK alone verifies what it signed.
fn assert_usable(key: KeyPair) {
    let algorithm = key.algorithm();
    let jwk = key.public_jwk().cloned();
    let ring = KeyRing::new(key);
    let token = sign(&ring.signing());

    assert!(verifies_in(&ring, &token), "{algorithm}");
    assert!(ring.verifying("unknown").is_none());
    if let Some(jwk) = jwk {
        let jwk: Jwk = serde_json::from_value(jwk).unwrap();
        let key = DecodingKey::from_jwk(&jwk).unwrap();
        assert!(verifies(&token, algorithm, &key), "{algorithm} by JWK");
    }
}

#[test]
fn algorithm_names_parse_exactly() {
    for algorithm in ALGORITHMS {
        assert_eq!(JwtAlgorithm::parse(algorithm.as_str()), Some(algorithm));
        assert_eq!(
            algorithm.to_string().parse::<JwtAlgorithm>().ok(),
            Some(algorithm)
        );
        assert_eq!(algorithm.as_str().parse(), Ok(algorithm.jsonwebtoken()));
    }

    for name in ["hs256", "EDDSA", "none", "HS384", " RS256", ""] {
        assert_eq!(JwtAlgorithm::parse(name), None, "{name:?}");
        assert!(matches!(
            name.parse::<JwtAlgorithm>(),
            Err(KeyError::UnknownAlgorithm(_))
        ));
    }
}

#[test]
fn generated_keys_sign_and_verify_by_kid() {
    for algorithm in ALGORITHMS {
        assert_usable(KeyPair::generate(algorithm).unwrap());
    }
}

#[test]
fn public_jwk_holds_exactly_the_public_members() {
    let keys = [
        (
            KeyPair::from_pem(JwtAlgorithm::Rs256, rsa_pem()).unwrap(),
            &["e", "kty", "n"][..],
        ),
        (
            KeyPair::generate(JwtAlgorithm::Es256).unwrap(),
            &["crv", "kty", "x", "y"],
        ),
        (
            KeyPair::generate(JwtAlgorithm::EdDsa).unwrap(),
            &["crv", "kty", "x"],
        ),
    ];

    for (key, required) in keys {
        let jwk = key.public_jwk().unwrap();
        let members: BTreeSet<&str> = jwk
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let expected: BTreeSet<&str> = required
            .iter()
            .copied()
            .chain(["kid", "alg", "use"])
            .collect();

        assert_eq!(members, expected);
        assert_eq!(jwk["kid"], key.kid());
        assert_eq!(jwk["alg"], key.algorithm().as_str());
        assert_eq!(jwk["use"], "sig");
        assert_eq!(key.kid(), thumbprint(jwk, required));
    }

    let ec = KeyPair::generate(JwtAlgorithm::Es256).unwrap();
    let point = URL_SAFE_NO_PAD.decode(ec.public_jwk().unwrap()["x"].as_str().unwrap());
    assert_eq!(point.unwrap().len(), 32);

    let secret = KeyPair::generate(JwtAlgorithm::Hs256).unwrap();
    assert!(secret.public_jwk().is_none());
    assert_eq!(KeyRing::new(secret).jwks(), json!({ "keys": [] }));
}

#[test]
fn kid_is_the_rfc_7638_thumbprint() {
    // The example of RFC 7638, section 3.1.
    let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSo\
             c_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65Y\
             GjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdk\
             t-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    let members = [
        ("e", "AQAB".to_owned()),
        ("kty", "RSA".to_owned()),
        ("n", n.to_owned()),
    ];
    let key = KeyPair::asymmetric(
        JwtAlgorithm::Rs256,
        EncodingKey::from_rsa_der(&[]),
        DecodingKey::from_rsa_raw_components(&[], &[]),
        &members,
    );

    assert_eq!(key.kid(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

#[test]
fn same_key_file_gives_same_kid() {
    let files = [
        (JwtAlgorithm::Rs256, rsa_pem().to_vec()),
        (
            JwtAlgorithm::Es256,
            ec_pem(&ECDSA_P256_SHA256_FIXED_SIGNING),
        ),
        (JwtAlgorithm::EdDsa, ed_pem()),
    ];

    for (algorithm, pem) in files {
        let first = KeyPair::from_pem(algorithm, &pem).unwrap();
        let second = KeyPair::from_pem(algorithm, &pem).unwrap();

        assert_eq!(first.kid(), second.kid(), "{algorithm}");
        assert!(verifies(&sign(&first), algorithm, second.decoding_key()));
    }

    let a = KeyPair::generate(JwtAlgorithm::EdDsa).unwrap();
    let b = KeyPair::generate(JwtAlgorithm::EdDsa).unwrap();
    assert_ne!(a.kid(), b.kid());
}

#[test]
fn other_encodings_of_one_key_give_one_kid() {
    // PKCS#1 holds the same RSA key as PKCS#8; jsonwebtoken keeps PKCS#1.
    let pkcs8 = KeyPair::from_pem(JwtAlgorithm::Rs256, rsa_pem()).unwrap();
    let pkcs1 = pem_of("RSA PRIVATE KEY", pkcs8.encoding_key().as_bytes());
    let pkcs1 = KeyPair::from_pem(JwtAlgorithm::Rs256, &pkcs1).unwrap();
    assert_eq!(pkcs8.kid(), pkcs1.kid());

    let ec = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let sec1: EcPrivateKeyRfc5915Der<'_> = ec.private_key().as_der().unwrap();
    let sec1 = pem_of("EC PRIVATE KEY", sec1.as_ref());
    let pkcs8 = pem_of("PRIVATE KEY", ec.to_pkcs8v1().unwrap().as_ref());
    assert_eq!(
        KeyPair::from_pem(JwtAlgorithm::Es256, &sec1).unwrap().kid(),
        KeyPair::from_pem(JwtAlgorithm::Es256, &pkcs8)
            .unwrap()
            .kid(),
    );

    let secret = "s3cret-s3cret-s3cret-s3cret-s3cret-s3cret";
    let bare = KeyPair::from_pem(JwtAlgorithm::Hs256, secret.as_bytes()).unwrap();
    let padded = format!("  {secret}\r\n");
    let padded = KeyPair::from_pem(JwtAlgorithm::Hs256, padded.as_bytes()).unwrap();
    assert_eq!(bare.kid(), padded.kid());
    assert_eq!(bare.kid().len(), HS256_KID_CHARS);
}

#[test]
fn openssl_keys_load_and_sign() {
    let commands: [(JwtAlgorithm, &[&str]); 5] = [
        (JwtAlgorithm::EdDsa, &["genpkey", "-algorithm", "ED25519"]),
        (
            JwtAlgorithm::Es256,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ],
        ),
        // EC PARAMETERS, then EC PRIVATE KEY (SEC 1).
        (
            JwtAlgorithm::Es256,
            &["ecparam", "-name", "prime256v1", "-genkey"],
        ),
        (
            JwtAlgorithm::Rs256,
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
            ],
        ),
        (JwtAlgorithm::Rs256, &["genrsa", "-traditional", "2048"]),
    ];

    for (algorithm, args) in commands {
        let output = match Command::new("openssl").args(args).output() {
            Ok(output) => output,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("openssl is not installed; skipping openssl keys");
                return;
            }
            Err(error) => panic!("openssl failed to start: {error}"),
        };
        assert!(output.status.success(), "openssl {args:?}");

        let first = KeyPair::from_pem(algorithm, &output.stdout).unwrap();
        let second = KeyPair::from_pem(algorithm, &output.stdout).unwrap();
        assert_eq!(first.kid(), second.kid(), "openssl {args:?}");
        assert_usable(first);
    }
}

#[test]
fn key_that_does_not_fit_the_algorithm_is_refused() {
    let ec = ec_pem(&ECDSA_P256_SHA256_FIXED_SIGNING);
    let p384 = ec_pem(&ECDSA_P384_SHA384_FIXED_SIGNING);
    let ed = ed_pem();
    let misfits = [
        (JwtAlgorithm::Rs256, &ec[..]),
        (JwtAlgorithm::Rs256, &ed),
        (JwtAlgorithm::Es256, &p384),
        (JwtAlgorithm::Es256, rsa_pem()),
        (JwtAlgorithm::Es256, &ed),
        (JwtAlgorithm::EdDsa, rsa_pem()),
        (JwtAlgorithm::EdDsa, &ec),
    ];

    for (algorithm, pem) in misfits {
        let error = KeyPair::from_pem(algorithm, pem).unwrap_err();
        assert!(
            matches!(error, KeyError::WrongType { algorithm: a, .. } if a == algorithm),
            "{algorithm}: {error:?}",
        );
    }

    let public = pem_of("PUBLIC KEY", b"not really");
    for unreadable in [&b"not a key"[..], b"", &public] {
        let error = KeyPair::from_pem(JwtAlgorithm::EdDsa, unreadable).unwrap_err();
        assert!(matches!(error, KeyError::Unreadable(_)), "{error:?}");
    }
}

#[test]
fn hs256_secret_needs_32_bytes() {
    let short = "a".repeat(31);
    let padded = format!("\n {short} \n");
    for secret in [&short, &padded] {
        let error = KeyPair::from_pem(JwtAlgorithm::Hs256, secret.as_bytes()).unwrap_err();
        assert!(matches!(error, KeyError::TooShort { len: 31 }), "{error:?}");
    }

    assert!(KeyPair::from_pem(JwtAlgorithm::Hs256, "a".repeat(32).as_bytes()).is_ok());
}

#[test]
fn old_key_verifies_until_pruned() {
    let ring = KeyRing::new(KeyPair::generate(JwtAlgorithm::EdDsa).unwrap());
    let old = ring.signing_kid();
    let token = sign(&ring.signing());
    let generation = ring.generation();

    let now = SystemTime::now();
    let retire_at = now + Duration::from_secs(60);
    let next = KeyPair::generate(JwtAlgorithm::EdDsa).unwrap();
    let new = ring.rotate(next, now, retire_at).unwrap();

    assert_ne!(new, old);
    assert_eq!(ring.signing_kid(), new);
    assert_eq!(kids(&ring.jwks()), [new.as_str(), old.as_str()]);
    assert!(verifies_in(&ring, &token));
    assert!(verifies_in(&ring, &sign(&ring.signing())));

    assert!(!ring.prune(retire_at - Duration::from_secs(1)));
    assert!(verifies_in(&ring, &token));
    assert_eq!(ring.generation(), generation);

    assert!(ring.prune(retire_at));
    assert!(ring.verifying(&old).is_none());
    assert!(!verifies_in(&ring, &token));
    assert!(ring.generation() > generation);
    assert_eq!(kids(&ring.jwks()), [new.as_str()]);
}

#[test]
fn rotation_drops_keys_whose_time_passed() {
    let ring = KeyRing::new(KeyPair::generate(JwtAlgorithm::Es256).unwrap());
    let first = ring.signing_kid();
    let now = SystemTime::now();
    let minute = Duration::from_secs(60);

    let next = KeyPair::generate(JwtAlgorithm::Es256).unwrap();
    let second = ring.rotate(next, now, now + minute).unwrap();
    assert_eq!(ring.generation(), 0);

    let later = now + 2 * minute;
    let next = KeyPair::generate(JwtAlgorithm::Es256).unwrap();
    let third = ring.rotate(next, later, later + minute).unwrap();

    assert!(ring.verifying(&first).is_none());
    assert_eq!(ring.generation(), 1);
    assert_eq!(kids(&ring.jwks()), [third.as_str(), second.as_str()]);
}

#[test]
fn ring_refuses_another_algorithm_and_the_same_key() {
    let pem = ed_pem();
    let ring = KeyRing::new(KeyPair::from_pem(JwtAlgorithm::EdDsa, &pem).unwrap());
    let kid = ring.signing_kid();
    let now = SystemTime::now();

    let other = KeyPair::generate(JwtAlgorithm::Es256).unwrap();
    let error = ring.rotate(other, now, now).unwrap_err();
    assert!(
        matches!(error, KeyError::AlgorithmMismatch { .. }),
        "{error:?}"
    );

    let other = KeyPair::generate(JwtAlgorithm::Es256).unwrap();
    let error = ring.add_verify_key(other, now).unwrap_err();
    assert!(
        matches!(error, KeyError::AlgorithmMismatch { .. }),
        "{error:?}"
    );

    let same = KeyPair::from_pem(JwtAlgorithm::EdDsa, &pem).unwrap();
    let error = ring.rotate(same, now, now).unwrap_err();
    assert!(matches!(error, KeyError::SameKey { .. }), "{error:?}");

    assert_eq!(ring.signing_kid(), kid);
    assert_eq!(kids(&ring.jwks()), [kid.as_str()]);
}

#[test]
fn verify_only_key_stays_until_its_time() {
    let ring = KeyRing::new(KeyPair::generate(JwtAlgorithm::EdDsa).unwrap());
    let signing = ring.signing_kid();
    let pem = ed_pem();
    let foreign = KeyPair::from_pem(JwtAlgorithm::EdDsa, &pem).unwrap();
    let token = sign(&foreign);
    let kid = foreign.kid().to_owned();

    let now = SystemTime::now();
    let minute = Duration::from_secs(60);
    ring.add_verify_key(foreign, now + minute).unwrap();
    assert!(verifies_in(&ring, &token));
    assert_eq!(kids(&ring.jwks()), [signing.as_str(), kid.as_str()]);

    // Again, later: one entry, kept until the later time.
    let again = KeyPair::from_pem(JwtAlgorithm::EdDsa, &pem).unwrap();
    ring.add_verify_key(again, now + 2 * minute).unwrap();
    assert_eq!(kids(&ring.jwks()).len(), 2);
    assert!(!ring.prune(now + minute));
    assert!(ring.prune(now + 2 * minute));
    assert!(!verifies_in(&ring, &token));

    let copy = KeyPair::from_pem(JwtAlgorithm::EdDsa, &pem).unwrap();
    let ring = KeyRing::new(KeyPair::from_pem(JwtAlgorithm::EdDsa, &pem).unwrap());
    ring.add_verify_key(copy, now).unwrap();
    assert_eq!(kids(&ring.jwks()), [kid.as_str()]);
}

#[test]
fn concurrent_rotations_keep_every_key() {
    let ring = KeyRing::new(KeyPair::generate(JwtAlgorithm::EdDsa).unwrap());
    let now = SystemTime::now();
    let retire_at = now + Duration::from_secs(600);

    let rotated: Vec<String> = thread::scope(|scope| {
        let workers: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    (0..4)
                        .map(|_| {
                            let next = KeyPair::generate(JwtAlgorithm::EdDsa).unwrap();
                            ring.rotate(next, now, retire_at).unwrap()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap())
            .collect()
    });

    let jwks = ring.jwks();
    let listed: BTreeSet<&str> = kids(&jwks).into_iter().collect();
    assert_eq!(listed.len(), 1 + rotated.len());
    for kid in &rotated {
        assert!(ring.verifying(kid).is_some());
    }
}

#[test]
fn debug_shows_kids_but_no_key_material() {
    let secret = "correct-horse-battery-staple-0123456789";
    let key = KeyPair::from_pem(JwtAlgorithm::Hs256, secret.as_bytes()).unwrap();
    let kid = key.kid().to_owned();
    let ed = ed_pem();
    let ed_key = KeyPair::from_pem(JwtAlgorithm::EdDsa, &ed).unwrap();

    let ring = KeyRing::new(key);
    let printed = [
        format!("{:?}", ring.signing()),
        format!("{ring:?}"),
        format!("{ed_key:?}"),
    ];

    let pem_body = String::from_utf8(ed).unwrap();
    let pem_body = pem_body.lines().nth(1).unwrap();
    let forbidden = [
        secret.to_owned(),
        STANDARD.encode(secret),
        URL_SAFE_NO_PAD.encode(secret),
        pem_body.to_owned(),
    ];

    assert!(printed[0].contains(&kid) && printed[1].contains(&kid));
    for text in &printed {
        for bytes in &forbidden {
            assert!(!text.contains(bytes.as_str()), "{text}");
        }
    }
}
