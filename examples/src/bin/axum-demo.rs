//! The axum demo server of `demo-api.md`.

use std::process::ExitCode;

use examples::axum_app;

#[tokio::main]
async fn main() -> ExitCode {
    let (config, auth, listener) = match examples::prepare("axum-demo").await {
        Ok(ready) => ready,
        Err(code) => return code,
    };
    examples::announce(&listener);
    let listener = match listener
        .set_nonblocking(true)
        .and_then(|()| tokio::net::TcpListener::from_std(listener))
    {
        Ok(listener) => listener,
        Err(error) => return fail(&error),
    };
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    };
    let app = axum_app::router(auth, &config);
    match axum_app::serve(listener, app, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("axum-demo: {error}");
    ExitCode::from(2)
}
