//! The axum demo server of `demo-api.md`.

use std::io::Write;
use std::process::ExitCode;

use examples::axum_app;
use examples::config::DemoConfig;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match DemoConfig::from_env() {
        Ok(config) => config,
        Err(error) => return fail(&error),
    };
    let auth = match config.build_auth().await {
        Ok(auth) => auth,
        Err(error) => return fail(&error),
    };
    // Logging starts once configuration is settled, so that bad
    // configuration is reported on exactly one line.
    examples::init_tracing();
    let listener = match tokio::net::TcpListener::bind(config.addr).await {
        Ok(listener) => listener,
        Err(error) => return fail(&format!("DEMO_ADDR: cannot listen: {error}")),
    };
    let addr = listener.local_addr().unwrap_or(config.addr);
    println!("listening on http://{addr}");
    let _ = std::io::stdout().flush();
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    };
    match axum_app::serve(listener, axum_app::router(auth, &config), shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("axum-demo: {error}");
    ExitCode::from(2)
}
