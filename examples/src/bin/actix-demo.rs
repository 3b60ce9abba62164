//! The actix-web demo server of `demo-api.md`.

use std::process::ExitCode;

use actix_web::HttpServer;

use examples::actix_app;

#[actix_web::main]
async fn main() -> ExitCode {
    let (config, auth, listener) = match examples::prepare("actix-demo").await {
        Ok(ready) => ready,
        Err(code) => return code,
    };
    examples::announce(&listener);
    // actix-web stops gracefully on Ctrl-C (SIGINT) and SIGTERM.
    let server = HttpServer::new(move || actix_app::app(auth.clone(), &config)).listen(listener);
    let result = match server {
        Ok(server) => server.run().await,
        Err(error) => Err(error),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("actix-demo: {error}");
            ExitCode::from(2)
        }
    }
}
