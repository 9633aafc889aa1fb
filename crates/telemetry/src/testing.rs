//! For tests and benches that run several applications in one process.
//!
//! A process has one global `tracing` subscriber, so [`crate::init()`] works once. A test binary
//! initialises once with [`init_with_writer`] (logs to a writer it can read back), then gives
//! every application it starts its own handle from [`detached`]: a fresh metrics registry, so
//! each app's `/metrics` counts only its own requests, and its own propagators; its spans go to
//! the global subscriber installed by that one initialisation.
//!
//! ```no_run
//! use std::sync::OnceLock;
//! use telemetry::TelemetryConfig;
//!
//! fn app_telemetry(service: &str) -> telemetry::Telemetry {
//!     static GLOBAL: OnceLock<telemetry::Telemetry> = OnceLock::new();
//!     let config = TelemetryConfig::testing(service, "0.0.0", "http://127.0.0.1:4318/v1/traces");
//!     GLOBAL.get_or_init(|| {
//!         telemetry::testing::init_with_writer(&config, std::io::sink).expect("first init")
//!     });
//!     telemetry::testing::detached(&config)
//! }
//! ```

use tracing_subscriber::fmt::MakeWriter;

use crate::config::TelemetryConfig;
use crate::error::Error;
use crate::handle::Telemetry;

/// [`crate::init()`], with log lines written to `writer` instead of stdout.
pub fn init_with_writer<W>(config: &TelemetryConfig, writer: W) -> Result<Telemetry, Error>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    crate::init::init_with_writer(config, writer)
}

/// A handle that installs nothing: its own registry (with `config`'s `EXEMPLAR_MAX_AGE`) and
/// its own propagators (`config`'s `OTEL_PROPAGATORS`); spans go to whatever subscriber the
/// process has, so they carry that subscriber's resource (`service.name`), not `config`'s.
/// Its `shutdown` does nothing: the span pipeline belongs to the handle that installed it.
pub fn detached(config: &TelemetryConfig) -> Telemetry {
    Telemetry::new(config, None)
}

/// Exports every span ended so far and waits for the exporter's answer: what a test awaits
/// before asserting that a span was *not* exported. `Ok` at once for a handle that owns no
/// span pipeline (detached, or `OTEL_SDK_DISABLED=true`).
pub async fn force_flush(
    telemetry: &Telemetry,
) -> Result<(), opentelemetry_sdk::error::OTelSdkError> {
    let Some(provider) = telemetry.guard().and_then(|g| g.provider()).cloned() else {
        return Ok(());
    };
    // From a blocking thread, for the reason `Telemetry::shutdown` gives.
    tokio::task::spawn_blocking(move || provider.force_flush())
        .await
        .unwrap_or_else(|e| {
            Err(opentelemetry_sdk::error::OTelSdkError::InternalFailure(
                e.to_string(),
            ))
        })
}

/// The handle's `/metrics` body, as a scrape would get it (and, like a scrape, starting the
/// next exemplar interval).
pub fn scrape(telemetry: &Telemetry) -> String {
    telemetry.registry().encode()
}
