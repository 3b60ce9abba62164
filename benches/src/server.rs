//! Servers under test, each started in this process on `127.0.0.1:0` with
//! one thread that serves HTTP.
//!
//! An axum server runs on a tokio runtime of its own with one worker
//! thread; everything it spawns (Redis connection drivers included) runs
//! there. An actix-web server runs one worker on a thread of its own beside
//! its actix system thread, which drives the connections of whatever was
//! built before the server started (the Redis stores).

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::serve::ListenerExt;

/// The error type of setup steps.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A running server; dropping it stops the server.
#[derive(Debug)]
pub enum Server {
    /// An axum router on its own runtime.
    Axum(AxumServer),
    /// An actix-web server on its own threads.
    Actix(ActixServer),
}

impl Server {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        match self {
            Self::Axum(s) => s.addr,
            Self::Actix(s) => s.addr,
        }
    }
}

/// An axum router served by a tokio runtime with one worker thread.
pub struct AxumServer {
    addr: SocketAddr,
    runtime: Option<tokio::runtime::Runtime>,
}

impl AxumServer {
    /// Builds a router with `build` on a new one-worker runtime (so that
    /// the connections it opens belong to that runtime) and serves it.
    ///
    /// # Errors
    ///
    /// When the runtime cannot start, `build` fails or binding fails.
    pub fn start<F, Fut>(build: F) -> Result<Self, BoxError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Router, BoxError>>,
    {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("bench-axum-server")
            .enable_all()
            .build()?;
        let router = runtime.block_on(build())?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;

        // Small answers go out in one write each; no-delay keeps the
        // stacks alike whatever their own default.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        runtime.spawn(async move { axum::serve(listener, router).await });
        Ok(Self {
            addr,
            runtime: Some(runtime),
        })
    }
}

impl fmt::Debug for AxumServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AxumServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for AxumServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

/// An actix-web server with one worker, on threads of its own.
pub struct ActixServer {
    addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ActixServer {
    /// Runs `build` inside a new actix system, handing it a bound listener;
    /// `build` answers the server to run (with one worker).
    ///
    /// # Errors
    ///
    /// When binding, the thread or `build` fails.
    pub fn start<F, Fut>(build: F) -> Result<Self, BoxError>
    where
        F: FnOnce(std::net::TcpListener) -> Fut + Send + 'static,
        Fut: Future<Output = Result<actix_web::dev::Server, BoxError>>,
    {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let (started, handle) = std::sync::mpsc::channel();

        let thread = std::thread::Builder::new()
            .name("bench-actix-system".to_owned())
            .spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    match build(listener).await {
                        Ok(server) => {
                            let _ = started.send(Ok(server.handle()));
                            let _ = server.await;
                        }
                        Err(e) => {
                            let _ = started.send(Err(e.to_string()));
                        }
                    }
                });
            })?;

        let handle = handle
            .recv()
            .map_err(|_| "the actix system thread ended before serving")??;
        Ok(Self {
            addr,
            handle,
            thread: Some(thread),
        })
    }
}

impl fmt::Debug for ActixServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActixServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for ActixServer {
    fn drop(&mut self) {
        // The command is sent at once; the returned future only waits.
        drop(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
