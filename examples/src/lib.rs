//! The demo servers of `demo-api.md`: one on axum through `auth-tower`, one
//! on actix-web through `auth-actix`, both configured from the environment
//! by [`config::DemoConfig`].

pub mod actix_app;
pub mod axum_app;
pub mod config;

/// Installs a `tracing` subscriber filtered by `RUST_LOG` (default `info`),
/// writing to standard error so that standard output carries only the
/// `listening on` line.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// What a demo binary does before it serves: reads the environment, builds
/// the seeded `Auth`, starts logging and binds its address. Bad
/// configuration is printed as one line naming the variable, prefixed by
/// `name`, and answered as exit code 2.
///
/// # Errors
///
/// The exit code to end with.
pub async fn prepare(
    name: &str,
) -> Result<(config::DemoConfig, auth_core::Auth, std::net::TcpListener), std::process::ExitCode> {
    let fail = |error: &dyn std::fmt::Display| {
        eprintln!("{name}: {error}");
        std::process::ExitCode::from(2)
    };
    let config = config::DemoConfig::from_env().map_err(|e| fail(&e))?;
    let auth = config.build_auth().await.map_err(|e| fail(&e))?;
    // Logging starts once configuration is settled, so that bad
    // configuration is reported on exactly one line.
    init_tracing();
    let listener = std::net::TcpListener::bind(config.addr)
        .map_err(|e| fail(&format!("DEMO_ADDR: cannot listen: {e}")))?;
    Ok((config, auth, listener))
}

/// Prints `listening on http://ADDR` as the first line of standard output.
pub fn announce(listener: &std::net::TcpListener) {
    use std::io::Write as _;

    if let Ok(addr) = listener.local_addr() {
        println!("listening on http://{addr}");
        let _ = std::io::stdout().flush();
    }
}
