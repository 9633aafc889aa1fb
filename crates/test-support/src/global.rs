//! The test binary's one telemetry initialisation, and a handle per application.

use std::sync::OnceLock;

use otlp_sink::OtlpSink;
use telemetry::{Telemetry, TelemetryConfig};

use crate::capture::{self, CaptureWriter};

/// The test binary's telemetry, initialised once: logs captured (read them per test through
/// [`crate::TestClient::logs`]), panics recorded with their trace, every span sampled and
/// exported to an in-process [`OtlpSink`], which is returned so tests can look their traces up.
pub fn telemetry() -> &'static OtlpSink {
    &global().0
}

/// The one global initialisation and the handle that owns its span pipeline. A static is never
/// dropped, so the pipeline lives as long as the test binary; the testing preset exports every
/// 100 ms, and [`flush_spans`] exports at once.
fn global() -> &'static (OtlpSink, Telemetry) {
    static GLOBAL: OnceLock<(OtlpSink, Telemetry)> = OnceLock::new();
    GLOBAL.get_or_init(|| {
        let sink = OtlpSink::start_in_background("127.0.0.1:0".parse().expect("literal address"))
            .expect("start the in-process OTLP sink");
        let config = TelemetryConfig::testing(
            "webstore-test",
            env!("CARGO_PKG_VERSION"),
            &sink.traces_endpoint(),
        );
        let handle = telemetry::testing::init_with_writer(&config, || CaptureWriter)
            .expect("init telemetry once");
        capture::record_panics();
        (sink, handle)
    })
}

/// Where the binary's spans go: give it to an application as `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`.
pub fn otlp_traces_endpoint() -> String {
    telemetry().traces_endpoint()
}

/// The handle of one application under test, for its validated `config`
/// (`telemetry::testing::detached`): a metrics registry of its own, spans through the binary's
/// one subscriber to [`telemetry()`]'s sink.
pub fn app_telemetry(config: &TelemetryConfig) -> Telemetry {
    telemetry();
    telemetry::testing::detached(config)
}

/// Exports every span ended so far and waits until the sink has stored them: what a test awaits
/// before asserting that a span was *not* exported.
///
/// # Panics
/// If the export fails (the in-process sink is down).
pub async fn flush_spans() {
    telemetry::testing::force_flush(&global().1)
        .await
        .expect("flush the test binary's spans to the in-process sink");
}
