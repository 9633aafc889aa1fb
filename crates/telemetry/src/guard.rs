//! What keeps the span pipeline alive and flushes it at the end; owned by the `Telemetry`
//! handle.

use std::time::Duration;

use opentelemetry_sdk::trace::SdkTracerProvider;

/// How long shutdown waits for the last spans to leave. A blackholed collector must not keep a
/// stopping service alive; what has not left by then is lost (and was counted as it failed).
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// The tracer provider. Dropping it flushes the spans still queued and stops the exporter;
/// [`Guard::shutdown`] does the same without blocking the async runtime.
#[derive(Debug)]
pub(crate) struct Guard {
    provider: Option<SdkTracerProvider>,
}

impl Guard {
    pub(crate) fn new(provider: SdkTracerProvider) -> Self {
        Self {
            provider: Some(provider),
        }
    }

    pub(crate) fn provider(&self) -> Option<&SdkTracerProvider> {
        self.provider.as_ref()
    }

    /// Flushes and shuts down from a blocking thread, leaving the async runtime free.
    ///
    /// Why not inline: the batch span processor exports on its own thread and blocks on it; the
    /// gRPC exporter's channel is driven by *this* runtime, so a shutdown that blocks the runtime
    /// thread waits on itself until the timeout.
    pub(crate) async fn shutdown(mut self) {
        if let Some(provider) = self.provider.take() {
            let _ = tokio::task::spawn_blocking(move || shutdown_provider(provider)).await;
        }
    }
}

fn shutdown_provider(provider: SdkTracerProvider) {
    if let Err(e) = provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT) {
        eprintln!("telemetry: span pipeline shutdown: {e}");
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            // Off the current thread for the reason given on `shutdown`; joined so that the
            // process does not exit before the flush ends (bounded by SHUTDOWN_TIMEOUT).
            let _ = std::thread::spawn(move || shutdown_provider(provider)).join();
        }
    }
}
