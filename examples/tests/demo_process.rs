//! Both demos as processes: their first line, their answers, their exit on
//! bad configuration.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

const BINS: [&str; 2] = [
    env!("CARGO_BIN_EXE_axum-demo"),
    env!("CARGO_BIN_EXE_actix-demo"),
];

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("the demo accepts connections");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn prints_its_address_first_and_serves() {
    for bin in BINS {
        prints_address_and_serves(bin);
    }
}

fn prints_address_and_serves(bin: &str) {
    let child = Command::new(bin)
        .env("DEMO_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let stdout = running.0.stdout.take().unwrap();
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    let addr = first
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
    assert!(!addr.ends_with(":0"), "the bound port, not 0");
    let answer = get(addr, "/healthz");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.ends_with(r#"{"status":"ok","store":"ok"}"#),
        "{answer}"
    );
}

#[test]
fn bad_configuration_exits_with_one_line_naming_the_variable() {
    for bin in BINS {
        exits_on_bad_configuration(bin);
    }
}

fn exits_on_bad_configuration(bin: &str) {
    for (name, value) in [
        ("JWT_ALG", "none"),
        ("STORE_URL", "mongodb://localhost"),
        ("ACCESS_TTL_SECS", "fifteen"),
        ("JWT_KEY_FILE", "/nonexistent/key.pem"),
    ] {
        let output = Command::new(bin)
            .env("DEMO_ADDR", "127.0.0.1:0")
            .env(name, value)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{name}={value} must fail");
        let stderr = String::from_utf8(output.stderr).unwrap();
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line: {stderr:?}");
        assert!(lines[0].contains(name), "{:?} names {name}", lines[0]);
        assert!(output.stdout.is_empty(), "nothing on stdout");
    }
}
