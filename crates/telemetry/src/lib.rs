//! Telemetry for WebStore services: one `init`, one handle.
//!
//! ```no_run
//! # async fn run() -> Result<(), telemetry::Error> {
//! // In a service, the config comes from its CLI: flatten `TelemetryArgs` into the clap parser
//! // and call `TelemetryConfig::from_args(&cli.telemetry, "catalog-service", env!("CARGO_PKG_VERSION"))`.
//! let config = telemetry::TelemetryConfig::from_env("catalog-service", env!("CARGO_PKG_VERSION"))?;
//! let telemetry = telemetry::init(&config)?;
//! // The application takes what it needs from the handle:
//! let middleware = telemetry.middleware(); // root span + server duration, `.wrap(…)` it
//! let metrics = telemetry.metrics_endpoint(); // `GET /metrics`, `.service(…)` it
//! let client = telemetry.http_client(reqwest::Client::builder())?; // traced outgoing calls
//! let orders = telemetry.counter("webstore_orders", "Orders by status.", &["status"]);
//! // … run the server until it stops, then flush the spans still queued:
//! telemetry.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Histograms take their exemplar from a source named per observation:
//! `family.get(&labels).observe(seconds, Exemplar::CurrentSpan)` (or `Exemplar::Span(&span)`,
//! `Exemplar::Ids(ids)`, `Exemplar::None`); it is read only for the few observations that become
//! exemplars. [`SpanIds::current`] gives the ids of the span entered on this thread.
//!
//! # Layout
//! Every module is private; this file re-exports the API.
//! - `config`: [`TelemetryArgs`] (every variable also a flag) → validated [`TelemetryConfig`].
//! - `init` + `guard`: the tracing subscriber, the OTLP span pipeline and its shutdown flush.
//! - `handle`: [`Telemetry`], the handle `init` returns and everything it hands out.
//! - `propagation`: `OTEL_PROPAGATORS`, extraction from requests, injection into calls.
//! - `sampling`: the head-sampling decision, taken before a request's root span exists; an
//!   unsampled request builds no OpenTelemetry span data at all.
//! - `route_names`: each sampled server span's `{method} {route}` name and `http.route`,
//!   formatted once per route and shared.
//! - `lean_root_span`: the `RootSpanBuilder` with which tracing-actix-web's `TracingLogger`
//!   opens each request's server span (stable HTTP conventions, route read after routing).
//! - `http`: the request middleware (the sampling decision, `TracingLogger`, the server
//!   duration histogram) and `/metrics`.
//! - `client`: the traced outgoing HTTP client.
//! - `metrics`: a small OpenMetrics registry whose histograms carry exemplars of sampled spans.
//! - `logs`: JSON log lines that carry the `trace_id`/`span_id` of the span they happen in.
//! - `pipeline`: the exporter wrapper behind `otel_sdk_exporter_span_exported_total`.
//! - [`testing`]: one initialisation, then a handle per application, for tests and benches.
//!
//! # Why metrics are not OpenTelemetry metrics
//! The Rust OpenTelemetry metrics SDK (0.3x) does not collect exemplars
//! (open-telemetry/opentelemetry-rust#3369). Exemplars are the link from a latency spike to the
//! trace behind it, so metrics here are Prometheus-native: exposed as OpenMetrics text with
//! exemplars, scraped by Prometheus; traces still leave over OTLP.

mod client;
mod client_errors;
mod config;
mod error;
mod guard;
mod handle;
mod http;
mod init;
mod lean_root_span;
mod logs;
mod metrics;
mod pipeline;
mod propagation;
mod request_span;
mod route_names;
mod sampling;
pub mod testing;

pub use client::{ClientResponse, TracedClient};
pub use config::{TelemetryArgs, TelemetryConfig};
pub use error::Error;
pub use handle::Telemetry;
pub use http::{MetricsEndpoint, RequestMiddleware, RequestMiddlewareService};
pub use init::init;
pub use lean_root_span::LeanRootSpan;
pub use metrics::{
    Counter, CounterFamily, Exemplar, Family, Gauge, GaugeFamily, Histogram, HistogramFamily,
    MetricDescription, MetricKind, SpanIds, EXEMPLAR_ATTRIBUTE,
};

// Callers use these re-exports so that the whole workspace shares exactly one version of each.
pub use opentelemetry;
pub use opentelemetry_sdk;
pub use tracing_opentelemetry;
