//! Load benchmarks of the demo servers against the libraries a user would
//! pick instead: tower-sessions on axum, actix-session on actix-web, and a
//! hand-written `jsonwebtoken` middleware for bearer tokens.
//!
//! Each scenario starts its server in this process on `127.0.0.1:0`, warms
//! it up, and drives it with a closed-loop HTTP/1.1 keep-alive load
//! generator ([`client`]) on a tokio runtime separate from the server's.
//! Results are printed as requests per second and as the ratio to the
//! group's baseline, measured in the same run: absolute numbers depend on
//! the machine, ratios much less.
//!
//! ```no_run
//! let options = auth_bench::Options::default();
//! let failures = auth_bench::run(&options).expect("the client runtime starts");
//! assert!(failures.is_empty());
//! ```
//!
//! # Security
//!
//! Traffic goes only to servers this process starts on 127.0.0.1 and to
//! the Redis at `REDIS_URL`; keys written there live under a random prefix
//! (or, for tower-sessions, under their random session ID), carry a TTL,
//! and are deleted at the end of the run.

pub mod client;
pub mod scenarios;
pub mod server;

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use deadpool_redis::redis;

use crate::client::Measurement;
use crate::scenarios::{Env, Group};
use crate::server::BoxError;

/// How a run is shaped.
#[derive(Debug, Clone)]
pub struct Options {
    /// The measured time of each scenario. Defaults to 3 seconds.
    pub measure: Duration,
    /// The unmeasured time before it. Defaults to 1 second.
    pub warmup: Duration,
    /// Concurrent keep-alive connections. Defaults to 32.
    pub connections: usize,
    /// Keys of the groups to run; empty runs all. Defaults to empty.
    pub groups: Vec<String>,
    /// The Redis to use. Defaults to `REDIS_URL`, or the local one.
    pub redis_url: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            measure: Duration::from_secs(3),
            warmup: Duration::from_secs(1),
            connections: 32,
            groups: Vec::new(),
            redis_url: std::env::var("REDIS_URL")
                .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned()),
        }
    }
}

/// Runs the selected groups, printing the table as it goes, and answers
/// the scenarios that failed, each with its reason.
///
/// # Errors
///
/// When the client runtime cannot start.
pub fn run(options: &Options) -> Result<Vec<String>, BoxError> {
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let env = Env {
        client: &client,
        redis_url: options.redis_url.clone(),
        prefix: random_prefix(),
        stray_keys: Mutex::new(Vec::new()),
    };
    print_preamble(options, &env);

    let mut failures = Vec::new();
    for group in scenarios::groups() {
        if !options.groups.is_empty() && !options.groups.iter().any(|g| g == group.key) {
            continue;
        }
        run_group(options, &env, &group, &mut failures);
    }

    match client.block_on(clean_redis(&env)) {
        Ok(0) => {}
        Ok(n) => println!("\nRedis: deleted the run's {n} keys."),
        Err(e) => println!("\nRedis: could not delete the run's keys: {e}"),
    }
    Ok(failures)
}

fn print_preamble(options: &Options, env: &Env<'_>) {
    println!(
        "auth-bench load: {:.1} s measured after {:.1} s warm-up per scenario, \
         {} HTTP/1.1 keep-alive connections, closed loop, 2xx only.",
        options.measure.as_secs_f64(),
        options.warmup.as_secs_f64(),
        options.connections,
    );
    println!(
        "Threads: the server runs on its own runtime with one worker thread \
         (axum: a 1-worker tokio runtime; actix-web: 1 worker, plus its system \
         thread, which drives Redis connections made at start); the load \
         generator runs on a separate 1-thread tokio runtime. Machine: {} CPUs.",
        std::thread::available_parallelism().map_or(0, usize::from),
    );
    println!(
        "Ratios compare rows measured side by side in this run; \
         absolute req/s depend on the machine."
    );
    println!("Redis: {}, key prefix {}", env.redis_url, env.prefix);
}

fn run_group(options: &Options, env: &Env<'_>, group: &Group, failures: &mut Vec<String>) {
    println!("\n{}", group.title);
    println!(
        "  {:<58} {:>10} {:>8} {:>8} {:>8}",
        "scenario", "req/s", "ratio", "p50 ms", "p99 ms"
    );

    let mut rates: HashMap<&str, f64> = HashMap::new();
    let mut baseline = None;
    for scenario in &group.scenarios {
        let row = format!("{} {}", scenario.label, scenario.name);
        print!("  {row:<58} ");
        let _ = std::io::stdout().flush();

        match measure(options, env, scenario) {
            Ok(m) => {
                let base = *baseline.get_or_insert(m.requests_per_second);
                println!(
                    "{:>10.0} {:>7.2}x {:>8.2} {:>8.2}",
                    m.requests_per_second,
                    m.requests_per_second / base,
                    m.p50.as_secs_f64() * 1e3,
                    m.p99.as_secs_f64() * 1e3,
                );
                rates.insert(scenario.label, m.requests_per_second);
            }
            Err(e) => {
                println!("FAILED: {e}");
                failures.push(format!("{} {row}: {e}", group.title));
            }
        }
    }

    for (top, bottom, what) in &group.headlines {
        if let (Some(t), Some(b)) = (rates.get(top), rates.get(bottom)) {
            println!("  {top}/{bottom} = {:.2}x  {what}", t / b);
        }
    }
}

fn measure(
    options: &Options,
    env: &Env<'_>,
    scenario: &scenarios::Scenario,
) -> Result<Measurement, BoxError> {
    let target = (scenario.setup)(env)?;
    let measurement = env.client.block_on(client::run(
        target.server.addr(),
        &target.request,
        options.connections,
        options.warmup,
        options.measure,
    ))?;
    // The server stops here, before the next one starts.
    drop(target);
    Ok(measurement)
}

/// A key prefix no other run shares.
fn random_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("auth-bench-{nanos:x}-{}:", std::process::id())
}

/// Deletes every key under the run's prefix and the stray ones; answers
/// how many it deleted. Never flushes: the Redis is shared.
async fn clean_redis(env: &Env<'_>) -> Result<usize, BoxError> {
    let stray: Vec<String> = std::mem::take(
        &mut env
            .stray_keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    let client = redis::Client::open(env.redis_url.as_str())?;
    let mut conn = client.get_multiplexed_async_connection().await?;

    let mut keys = stray;
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{}*", env.prefix))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await?;
        keys.extend(batch);
        cursor = next;
        if cursor == 0 {
            break;
        }
    }

    let mut deleted = 0;
    for chunk in keys.chunks(500) {
        let n: usize = redis::cmd("DEL").arg(chunk).query_async(&mut conn).await?;
        deleted += n;
    }
    Ok(deleted)
}
