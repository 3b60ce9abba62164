//! The load benchmark: `load [--seconds N] [--warmup N] [--connections C]
//! [--group axum|actix|bearer]...`. See `benches/README.md`.

use std::process::ExitCode;
use std::time::Duration;

use auth_bench::Options;

const USAGE: &str = "usage: load [--seconds N] [--warmup N] [--connections C] \
                     [--group axum|actix|bearer]...";

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };

    match auth_bench::run(&options) {
        Ok(failures) if failures.is_empty() => ExitCode::SUCCESS,
        Ok(failures) => {
            eprintln!("\n{} scenario(s) failed:", failures.len());
            for failure in failures {
                eprintln!("  {failure}");
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("the benchmark could not start: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options::default();
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err("auth-bench load benchmark".to_owned());
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--seconds" => options.measure = seconds(&flag, &value)?,
            "--warmup" => options.warmup = seconds(&flag, &value)?,
            "--connections" => {
                options.connections = value
                    .parse()
                    .ok()
                    .filter(|&c| c > 0)
                    .ok_or_else(|| format!("{flag}: expected a positive whole number"))?;
            }
            "--group" => match value.as_str() {
                "axum" | "actix" | "bearer" => options.groups.push(value),
                _ => return Err(format!("{flag}: expected axum, actix or bearer")),
            },
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    Ok(options)
}

/// Seconds, fractions allowed; at most a minute, so a run stays bounded.
fn seconds(flag: &str, value: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .filter(|s| (0.0..=60.0).contains(s))
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("{flag}: expected seconds between 0 and 60"))
}
