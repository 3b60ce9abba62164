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
