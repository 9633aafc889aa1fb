//! Graceful shutdown: one signal, one bounded drain.
//!
//! A [`Drain`] is created once per process, before the server. SIGTERM or Ctrl-C (see
//! [`begin_on_signal`]) calls [`Drain::begin`]; from then on:
//!
//! 1. `/readyz` answers 503 (`draining`), so a load balancer stops sending requests, and no new
//!    money-moving work starts (the caller refuses it: [`Drain::is_draining`]);
//! 2. work spawned with [`Drain::spawn`] — work that must not be dropped half-way, like a
//!    checkout moving money — is waited for, the server still answering meanwhile;
//! 3. shortly before `SHUTDOWN_TIMEOUT` ([`Drain::stopping`] is cancelled then) whatever is
//!    still running is told to wrap up: a call that can no longer wait records that its outcome
//!    is unknown instead of being dropped;
//! 4. the server stops accepting connections and lets the requests it holds finish;
//! 5. [`Drain::run`] returns, and `main` flushes the spans and exits 0.
//!
//! Tracked work runs on the runtime that created the `Drain` (the process's main runtime), not
//! on an HTTP worker's: actix tears a worker's runtime down, with every task on it, when the
//! server stops.

use std::future::Future;
use std::time::{Duration, Instant};

use actix_web::dev::Server;
use tokio::runtime::Handle;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The process's shutdown state. Cheap to clone; every clone is the same drain.
#[derive(Clone, Debug)]
pub struct Drain {
    draining: CancellationToken,
    stopping: CancellationToken,
    tasks: TaskTracker,
    runtime: Handle,
    timeout: Duration,
}

impl Drain {
    /// A drain allowed `timeout` (`SHUTDOWN_TIMEOUT`) from the signal to the end.
    ///
    /// # Panics
    /// Outside a Tokio runtime: tracked work runs on the runtime current here.
    pub fn new(timeout: Duration) -> Self {
        Self {
            draining: CancellationToken::new(),
            stopping: CancellationToken::new(),
            tasks: TaskTracker::new(),
            runtime: Handle::current(),
            timeout,
        }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// What actix's own `HttpServer::shutdown_timeout` should be: the whole budget, in whole
    /// seconds, at least one.
    pub fn server_timeout_secs(&self) -> u64 {
        self.timeout.as_secs().max(1)
    }

    /// Starts the drain (idempotent).
    pub fn begin(&self) {
        if !self.draining.is_cancelled() {
            tracing::info!(
                timeout_ms = self.timeout.as_millis() as u64,
                tasks = self.tasks.len(),
                "shutting down: draining requests and tracked work"
            );
        }
        self.draining.cancel();
    }

    /// Whether the drain has begun: readiness fails and no new money-moving work starts.
    pub fn is_draining(&self) -> bool {
        self.draining.is_cancelled()
    }

    /// Resolves when the drain begins (background loops stop taking new work then).
    pub async fn draining(&self) {
        self.draining.cancelled().await
    }

    /// Cancelled when the drain is about to run out of time: a call still waiting must give up
    /// and record that its outcome is unknown.
    pub fn stopping(&self) -> CancellationToken {
        self.stopping.clone()
    }

    /// Work the drain waits for (bounded by `SHUTDOWN_TIMEOUT`), run to its end even if the
    /// caller stops waiting for it.
    pub fn spawn<F>(&self, work: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.tasks.spawn_on(work, &self.runtime)
    }

    /// Tracked work still running.
    pub fn tasks(&self) -> usize {
        self.tasks.len()
    }

    /// Serves until the drain begins and then ends it, within `SHUTDOWN_TIMEOUT`. Build the
    /// server with `disable_signals()` (the drain owns the signal) and
    /// `shutdown_timeout(drain.server_timeout_secs())`.
    ///
    /// Two phases. While tracked work runs, the server still answers — `/readyz` with 503, so
    /// a load balancer takes the process out, and new money-moving work is refused — and the
    /// work finishes (told to stop a quarter of the budget, at most 2 s, before the end). Then
    /// the server stops accepting and the requests it holds finish in what is left of the
    /// budget (at least half that quarter).
    pub async fn run(&self, server: Server) -> std::io::Result<()> {
        let handle = server.handle();
        let mut server = std::pin::pin!(server);
        tokio::select! {
            served = &mut server => return served,
            () = self.draining.cancelled() => {}
        }
        let started = Instant::now();
        let grace = (self.timeout / 4).min(Duration::from_secs(2));
        self.tasks.close();
        let finished = tokio::time::timeout(self.timeout.saturating_sub(grace), self.tasks.wait())
            .await
            .is_ok();
        if !finished {
            tracing::warn!(
                tasks = self.tasks.len(),
                "the drain is running out of time: telling tracked work to stop"
            );
            self.stopping.cancel();
            if tokio::time::timeout(grace / 2, self.tasks.wait())
                .await
                .is_err()
            {
                tracing::error!(
                    tasks = self.tasks.len(),
                    "tracked work still running at the end of the drain is dropped"
                );
            }
        }
        // Not awaited: the command is sent at once, and `server` resolves when it is done.
        drop(handle.stop(true));
        let left = self
            .timeout
            .saturating_sub(started.elapsed())
            .max(grace / 2);
        let served = match tokio::time::timeout(left, server).await {
            Ok(served) => served,
            Err(_) => {
                tracing::warn!("requests still open at the end of the drain are dropped");
                Ok(())
            }
        };
        tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "drained");
        served
    }
}

/// Resolves on SIGTERM or Ctrl-C (SIGINT).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Begins `drain` on the first SIGTERM or Ctrl-C. For `main` only: a test process keeps its
/// signals.
pub fn begin_on_signal(drain: &Drain) {
    let drain = drain.clone();
    drain.runtime.clone().spawn(async move {
        shutdown_signal().await;
        drain.begin();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tracked_work_runs_on_after_the_drain_begins() {
        let drain = Drain::new(Duration::from_secs(1));
        let (tx, rx) = tokio::sync::oneshot::channel();
        let handle = drain.spawn(async move {
            let _ = rx.await;
            7
        });
        assert_eq!(drain.tasks(), 1);
        assert!(!drain.is_draining() && !drain.stopping().is_cancelled());
        drain.begin();
        assert!(drain.is_draining());
        tx.send(()).unwrap();
        assert_eq!(handle.await.unwrap(), 7);
    }
}
