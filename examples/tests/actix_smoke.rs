//! The actix demo runs in-process through `actix_app::spawn` and answers
//! plain HTTP/1.1.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

use examples::actix_app;
use examples::config::DemoConfig;

/// Sends one raw request and answers the whole response as text.
fn exchange(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn header<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    let head = response.split("\r\n\r\n").next().unwrap();
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

#[tokio::test]
async fn the_spawned_actix_demo_answers_over_tcp() {
    let config = DemoConfig::from_vars(|name| {
        (name == "CORS_ORIGINS").then(|| "http://app.example".to_owned())
    })
    .unwrap();
    let auth = config.build_auth().await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = actix_app::spawn(auth, &config, listener).unwrap();

    let responses = tokio::task::spawn_blocking(move || {
        let get = |path: &str| {
            let request =
                format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
            exchange(addr, &request)
        };
        let preflight = |origin: &str| {
            exchange(
                addr,
                &format!(
                    "OPTIONS /api/me HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\n\
                     Access-Control-Request-Method: GET\r\n\
                     Access-Control-Request-Headers: authorization\r\n\
                     Connection: close\r\n\r\n"
                ),
            )
        };
        [
            get("/healthz"),
            get("/nowhere?secret=1"),
            preflight("http://app.example"),
            preflight("http://evil.example"),
        ]
    })
    .await
    .unwrap();
    handle.stop(true).await;

    let [health, unknown, allowed, refused] = responses;
    assert!(health.starts_with("HTTP/1.1 200 OK\r\n"), "{health}");
    assert_eq!(header(&health, "content-type"), Some("application/json"));
    assert!(
        health.ends_with(r#"{"status":"ok","store":"ok"}"#),
        "{health}"
    );

    assert!(
        unknown.starts_with("HTTP/1.1 404 Not Found\r\n"),
        "{unknown}"
    );
    assert!(unknown.ends_with(r#"{"error":"not_found","error_description":"no such route"}"#));

    assert!(
        allowed.starts_with("HTTP/1.1 204 No Content\r\n"),
        "{allowed}"
    );
    assert_eq!(
        header(&allowed, "access-control-allow-origin"),
        Some("http://app.example")
    );
    let headers = header(&allowed, "access-control-allow-headers").unwrap();
    assert!(headers.contains("authorization") && headers.contains("content-type"));
    let vary = header(&allowed, "vary").unwrap().to_ascii_lowercase();
    assert!(vary.split(", ").any(|name| name == "origin"), "{vary}");

    assert!(
        refused.starts_with("HTTP/1.1 204 No Content\r\n"),
        "{refused}"
    );
    assert_eq!(header(&refused, "access-control-allow-origin"), None);
}
