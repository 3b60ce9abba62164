//! A small closed-loop HTTP/1.1 load generator over keep-alive connections.
//!
//! Each connection writes one fixed request, reads the whole response by
//! its `Content-Length`, and sends the next request at once: a closed loop,
//! so the server's speed sets the rate. Anything but a 2xx answer, a chunked
//! body or a closed connection ends the run with an error, so a benchmark
//! never counts failures as throughput.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Responses larger than this are refused: every benchmarked answer is a
/// small JSON body.
const MAX_RESPONSE: usize = 64 * 1024;

/// A request written byte for byte on every iteration.
#[derive(Clone)]
pub struct Request {
    bytes: Arc<[u8]>,
}

impl Request {
    /// `GET path` with these extra header lines (`"Name: value"`).
    pub fn get(path: &str, headers: &[String]) -> Self {
        Self::build("GET", path, headers, None)
    }

    /// `POST path` with a JSON body.
    pub fn post_json(path: &str, body: &serde_json::Value) -> Self {
        Self::build("POST", path, &[], Some(body.to_string()))
    }

    fn build(method: &str, path: &str, headers: &[String], body: Option<String>) -> Self {
        let mut text = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for header in headers {
            text.push_str(header);
            text.push_str("\r\n");
        }
        if let Some(body) = &body {
            text.push_str("Content-Type: application/json\r\n");
            text.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        text.push_str("\r\n");
        text.push_str(body.as_deref().unwrap_or(""));
        Self {
            bytes: text.into_bytes().into(),
        }
    }
}

// The request may carry a session cookie or a token: never print it.
impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// One parsed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names (lower case) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    ///
    /// # Errors
    ///
    /// When the body is not JSON.
    pub fn json(&self) -> Result<serde_json::Value, LoadError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| LoadError::Protocol(format!("the body is not JSON: {e}")))
    }

    /// `name=value` of the cookie `name` that the response sets.
    ///
    /// # Errors
    ///
    /// When no `Set-Cookie` header sets `name`.
    pub fn cookie(&self, name: &str) -> Result<String, LoadError> {
        let prefix = format!("{name}=");
        self.headers
            .iter()
            .filter(|(n, _)| n == "set-cookie")
            .filter_map(|(_, v)| v.split(';').next())
            .find(|pair| pair.starts_with(&prefix))
            .map(str::to_owned)
            .ok_or_else(|| LoadError::Protocol(format!("no `{name}` cookie was set")))
    }
}

/// Why a run stopped.
#[derive(Debug)]
pub enum LoadError {
    /// Connecting, writing or reading failed.
    Io(std::io::Error),
    /// The server answered something other than 2xx.
    Status {
        /// The status code.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// The answer was not one this client can read.
    Protocol(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "I/O error: {e}"),
            Self::Status { status, body } => write!(f, "non-2xx answer {status}: {body}"),
            Self::Protocol(what) => write!(f, "unreadable answer: {what}"),
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for LoadError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// What one run measured.
#[derive(Debug, Clone, Copy)]
pub struct Measurement {
    /// Completed 2xx responses per second over the measured window.
    pub requests_per_second: f64,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
}

/// Sends `request` once on a fresh connection and answers the response,
/// whatever its status.
///
/// # Errors
///
/// [`LoadError::Io`] or [`LoadError::Protocol`].
pub async fn send(addr: SocketAddr, request: &Request) -> Result<Response, LoadError> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(&request.bytes).await?;
    let mut buf = Vec::with_capacity(4096);
    read_response(&mut stream, &mut buf).await
}

/// As [`send`], failing on a status other than 2xx.
///
/// # Errors
///
/// As [`send`], and [`LoadError::Status`].
pub async fn send_ok(addr: SocketAddr, request: &Request) -> Result<Response, LoadError> {
    let response = send(addr, request).await?;
    check_status(&response)?;
    Ok(response)
}

/// Drives `addr` with `connections` keep-alive connections in a closed
/// loop: `warmup` first, then `measure`, counting only 2xx responses that
/// complete inside the measured window.
///
/// # Errors
///
/// The first error of any connection.
pub async fn run(
    addr: SocketAddr,
    request: &Request,
    connections: usize,
    warmup: Duration,
    measure: Duration,
) -> Result<Measurement, LoadError> {
    let start = Instant::now() + Duration::from_millis(20);
    let measure_start = start + warmup;
    let end = measure_start + measure;

    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let request = request.clone();
            tokio::spawn(connection(addr, request, start, measure_start, end))
        })
        .collect();

    let mut latencies = Vec::new();
    for task in tasks {
        let mut own = task
            .await
            .map_err(|e| LoadError::Protocol(format!("a client task failed: {e}")))??;
        latencies.append(&mut own);
    }
    latencies.sort_unstable();
    let count = latencies.len();
    Ok(Measurement {
        requests_per_second: count as f64 / measure.as_secs_f64(),
        p50: percentile(&latencies, 50),
        p99: percentile(&latencies, 99),
    })
}

/// One connection's loop; answers the latencies of the responses that
/// completed inside the measured window.
async fn connection(
    addr: SocketAddr,
    request: Request,
    start: Instant,
    measure_start: Instant,
    end: Instant,
) -> Result<Vec<Duration>, LoadError> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut buf = Vec::with_capacity(4096);
    let mut latencies = Vec::with_capacity(16 * 1024);
    tokio::time::sleep_until(start.into()).await;

    loop {
        let sent = Instant::now();
        if sent >= end {
            return Ok(latencies);
        }
        stream.write_all(&request.bytes).await?;
        let response = read_response(&mut stream, &mut buf).await?;
        check_status(&response)?;

        let done = Instant::now();
        if done >= measure_start && done < end {
            latencies.push(done - sent);
        }
    }
}

fn check_status(response: &Response) -> Result<(), LoadError> {
    if (200..300).contains(&response.status) {
        return Ok(());
    }
    let body = String::from_utf8_lossy(&response.body);
    Err(LoadError::Status {
        status: response.status,
        body: body.chars().take(200).collect(),
    })
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[(sorted.len() - 1) * p / 100]
}

/// Reads one response from `stream`; `buf` keeps any bytes past it (none in
/// a closed loop) for the next call.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Response, LoadError> {
    loop {
        if let Some((head_len, response)) = parse_head(buf)? {
            let length = content_length(&response)?;
            let total = head_len + length;
            if total > MAX_RESPONSE {
                return Err(LoadError::Protocol(format!("a {total}-byte response")));
            }
            while buf.len() < total {
                fill(stream, buf).await?;
            }
            let body = buf[head_len..total].to_vec();
            buf.drain(..total);
            return Ok(Response { body, ..response });
        }
        if buf.len() > MAX_RESPONSE {
            return Err(LoadError::Protocol("response head too large".into()));
        }
        fill(stream, buf).await?;
    }
}

async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(), LoadError> {
    let mut chunk = [0; 8192];
    let n = stream.read(&mut chunk).await?;
    if n == 0 {
        return Err(LoadError::Protocol(
            "the server closed the connection".into(),
        ));
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

fn content_length(response: &Response) -> Result<usize, LoadError> {
    if response
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    {
        return Err(LoadError::Protocol(
            "chunked bodies are not supported".into(),
        ));
    }
    if response
        .header("connection")
        .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    {
        return Err(LoadError::Protocol("the server refused keep-alive".into()));
    }
    match response.header("content-length") {
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| LoadError::Protocol(format!("bad Content-Length {v:?}"))),
        // 204 and 304 carry no body and may omit the length.
        None if matches!(response.status, 204 | 304) => Ok(0),
        None => Err(LoadError::Protocol("no Content-Length".into())),
    }
}

/// Parses the status line and headers once `buf` holds them all; answers
/// their length and the response without its body.
fn parse_head(buf: &[u8]) -> Result<Option<(usize, Response)>, LoadError> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = std::str::from_utf8(&buf[..end])
        .map_err(|_| LoadError::Protocol("the head is not UTF-8".into()))?;
    let mut lines = head.split("\r\n");

    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| LoadError::Protocol(format!("bad status line {status_line:?}")))?;

    let headers = lines
        .map(|line| {
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| LoadError::Protocol("bad header line".into()))?;
            Ok((name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        })
        .collect::<Result<_, LoadError>>()?;

    let response = Response {
        status,
        headers,
        body: Vec::new(),
    };
    Ok(Some((end + 4, response)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_is_parsed_once_complete() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: id=abc; Path=/\r\n\r\n{}";
        assert!(parse_head(&raw[..20]).unwrap().is_none());

        let (len, response) = parse_head(raw).unwrap().unwrap();
        assert_eq!(&raw[len..], b"{}");
        assert_eq!(response.status, 200);
        assert_eq!(content_length(&response).unwrap(), 2);
        assert_eq!(response.cookie("id").unwrap(), "id=abc");
    }

    #[test]
    fn chunked_and_closing_answers_are_refused() {
        for header in ["Transfer-Encoding: chunked", "Connection: close"] {
            let raw = format!("HTTP/1.1 200 OK\r\n{header}\r\nContent-Length: 0\r\n\r\n");
            let (_, response) = parse_head(raw.as_bytes()).unwrap().unwrap();
            assert!(content_length(&response).is_err());
        }
    }

    #[test]
    fn non_2xx_is_an_error() {
        let response = Response {
            status: 401,
            headers: Vec::new(),
            body: b"{\"error\":\"unauthenticated\"}".to_vec(),
        };
        assert!(matches!(
            check_status(&response),
            Err(LoadError::Status { status: 401, .. })
        ));
    }

    #[test]
    fn requests_carry_their_length() {
        let request = Request::post_json("/login", &serde_json::json!({"a": 1}));
        let text = String::from_utf8(request.bytes.to_vec()).unwrap();
        assert!(text.starts_with("POST /login HTTP/1.1\r\n"));
        assert!(text.ends_with("Content-Length: 7\r\n\r\n{\"a\":1}"));
    }
}
