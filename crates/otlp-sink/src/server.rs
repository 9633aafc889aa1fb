//! Running the sink: an actix-web server on a dedicated thread with its own actix `System`.
//!
//! Why a dedicated thread: `HttpServer` must run inside an actix `System`, which `#[tokio::test]`
//! and plain `#[test]` do not provide, and inside `#[actix_web::test]` a server on the test's own
//! single-threaded runtime would stop serving whenever the test blocks. Its own thread makes
//! `start` work the same from any context, sync or async, and keeps the caller's runtime free.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::thread::JoinHandle;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer};
use anyhow::{anyhow, Context as _};

use crate::routes::configure;
use crate::store::SpanStore;

/// A running sink. Dropping it stops the server (without waiting); prefer [`OtlpSink::stop`].
#[derive(Debug)]
pub struct OtlpSink {
    /// The spans received so far; clone it freely.
    pub store: SpanStore,
    /// The address actually bound (the real port when asked for port 0).
    pub addr: SocketAddr,
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
}

type Started = anyhow::Result<(SocketAddr, ServerHandle)>;

impl OtlpSink {
    /// Starts a sink with a default [`SpanStore`] and waits until it listens.
    pub async fn start(bind: SocketAddr) -> anyhow::Result<OtlpSink> {
        Self::start_with_store(bind, SpanStore::new()).await
    }

    /// Starts a sink serving `store` (for a custom bound, or a store shared with other code).
    pub async fn start_with_store(bind: SocketAddr, store: SpanStore) -> anyhow::Result<OtlpSink> {
        // A Tokio oneshot so the caller's runtime is not blocked while the thread binds.
        let (tx, rx) = tokio::sync::oneshot::channel::<Started>();
        let thread = spawn_server(bind, store.clone(), move |started| {
            let _ = tx.send(started);
        })?;
        let started = rx.await.map_err(|_| thread_died())?;
        Self::finish(store, thread, started)
    }

    /// Like [`start`](Self::start) but not async: usable from `#[test]`, `#[tokio::test]`,
    /// `#[actix_web::test]` or a `main` without a runtime. Blocks only while the socket binds.
    pub fn start_in_background(bind: SocketAddr) -> anyhow::Result<OtlpSink> {
        Self::start_in_background_with_store(bind, SpanStore::new())
    }

    /// Like [`start_with_store`](Self::start_with_store) but not async.
    pub fn start_in_background_with_store(
        bind: SocketAddr,
        store: SpanStore,
    ) -> anyhow::Result<OtlpSink> {
        // A std channel: a Tokio `blocking_recv` would panic when called inside a runtime.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Started>(1);
        let thread = spawn_server(bind, store.clone(), move |started| {
            let _ = tx.send(started);
        })?;
        let started = rx.recv().map_err(|_| thread_died())?;
        Self::finish(store, thread, started)
    }

    fn finish(store: SpanStore, thread: JoinHandle<()>, started: Started) -> anyhow::Result<Self> {
        let (addr, handle) = match started {
            Ok(started) => started,
            Err(err) => {
                // The thread has already returned after reporting the error.
                let _ = thread.join();
                return Err(err);
            }
        };
        Ok(OtlpSink {
            store,
            addr,
            handle,
            thread: Some(thread),
        })
    }

    /// `http://HOST:PORT`, with a loopback host when bound to an unspecified address, so the
    /// URL is always something a local client can connect to.
    pub fn base_url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        // `SocketAddr`'s Display brackets IPv6 addresses, as URLs require.
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// The OTLP/HTTP traces URL, e.g. `http://127.0.0.1:4318/v1/traces`: the value for
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (or use [`base_url`](Self::base_url) for
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`, to which exporters append `/v1/traces`).
    pub fn traces_endpoint(&self) -> String {
        format!("{}/v1/traces", self.base_url())
    }

    /// Stops accepting connections and ends the server thread. Not graceful: in-flight requests
    /// are dropped, which is fine for a test receiver and keeps test teardown fast.
    pub async fn stop(mut self) {
        self.handle.stop(false).await;
        // The server future has completed, so the thread is about to return; detach rather
        // than block the caller's runtime on `join`.
        drop(self.thread.take());
    }
}

impl Drop for OtlpSink {
    fn drop(&mut self) {
        // Sending the stop command is immediate; the returned future only awaits completion.
        // Without this a forgotten sink would keep its thread and port until the process exits.
        if self.thread.is_some() {
            drop(self.handle.stop(false));
        }
    }
}

fn thread_died() -> anyhow::Error {
    anyhow!("otlp-sink server thread exited before reporting its address")
}

/// Spawns the server thread; `report` is called exactly once, with the bound address or the
/// bind error, before the thread starts serving.
fn spawn_server(
    bind: SocketAddr,
    store: SpanStore,
    report: impl FnOnce(Started) + Send + 'static,
) -> anyhow::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("otlp-sink".into())
        .spawn(move || {
            let system = actix_web::rt::System::new();
            system.block_on(async move {
                let routes = configure(store);
                let server = HttpServer::new(move || App::new().configure(routes.clone()))
                    // One worker: a dev receiver needs no parallelism and should not take a
                    // thread per core from the services it is observing.
                    .workers(1)
                    // The embedding process (a test, xtask, or our own `main`) owns Ctrl-C.
                    .disable_signals()
                    .shutdown_timeout(1)
                    .bind(bind)
                    .with_context(|| format!("otlp-sink: cannot bind {bind}"));
                let server = match server {
                    Ok(server) => server,
                    Err(err) => return report(Err(err)),
                };
                let Some(addr) = server.addrs().first().copied() else {
                    return report(Err(anyhow!("otlp-sink: no address bound for {bind}")));
                };
                let running = server.run();
                report(Ok((addr, running.handle())));
                if let Err(err) = running.await {
                    eprintln!("otlp-sink: server on {addr} failed: {err}");
                }
            });
        })
        .context("otlp-sink: cannot spawn the server thread")
}
