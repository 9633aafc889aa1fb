/// Everything that can go wrong while setting telemetry up. Nothing here fires after start-up:
/// a failing collector is counted (`otel_sdk_exporter_span_exported_total{outcome="failure"}`),
/// never returned to a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid value for {variable}: {message}")]
    InvalidSetting {
        variable: &'static str,
        message: String,
    },
    #[error("could not build the OTLP span exporter")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    #[error("a global tracing subscriber is already installed")]
    SubscriberAlreadySet(#[from] tracing::subscriber::SetGlobalDefaultError),
    #[error("invalid log filter (RUST_LOG)")]
    LogFilter(#[from] tracing_subscriber::filter::ParseError),
    #[error("could not build the traced HTTP client")]
    HttpClient(#[from] reqwest::Error),
}
