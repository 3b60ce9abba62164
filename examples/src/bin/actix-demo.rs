//! The actix-web demo server of `demo-api.md`.

use std::io::Write;
use std::process::ExitCode;

use actix_web::HttpServer;

use examples::actix_app;
use examples::config::DemoConfig;

#[actix_web::main]
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
    let listener = match std::net::TcpListener::bind(config.addr) {
        Ok(listener) => listener,
        Err(error) => return fail(&format!("DEMO_ADDR: cannot listen: {error}")),
    };
    let addr = listener.local_addr().unwrap_or(config.addr);

    // actix-web stops gracefully on Ctrl-C (SIGINT) and SIGTERM.
    let server = HttpServer::new(move || actix_app::app(auth.clone(), &config)).listen(listener);
    let server = match server {
        Ok(server) => server.run(),
        Err(error) => return fail(&format!("DEMO_ADDR: cannot listen: {error}")),
    };
    println!("listening on http://{addr}");
    let _ = std::io::stdout().flush();

    match server.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("actix-demo: {error}");
    ExitCode::from(2)
}
