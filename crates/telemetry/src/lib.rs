//! Telemetry for WebStore services: one call, one guard.
//!
//! ```no_run
//! # fn main() -> Result<(), telemetry::Error> {
//! let config = telemetry::TelemetryConfig::from_env("catalog-service")?;
//! let _guard = telemetry::init(&config)?; // flushes spans when dropped
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - [`config`]: every setting, read from the standard `OTEL_*` variables (and CLI flags).
//! - [`init`](mod@init) + [`guard`]: the tracing subscriber, the OTLP span pipeline, the W3C propagator.
//! - [`logs`]: JSON log lines that carry the `trace_id`/`span_id` of the span they happen in.
//! - [`pipeline`]: the exporter wrapper behind `otel_sdk_exporter_span_exported_total`.
//! - [`metrics`]: a small OpenMetrics registry whose histograms carry exemplars of sampled spans.
//! - [`http`]: actix-web middleware (root span + server duration histogram) and the `/metrics` route.
//! - [`client`]: an outgoing HTTP client that opens a client span, injects `traceparent` and
//!   records the client duration histogram.
//!
//! # Why metrics are not OpenTelemetry metrics
//! The Rust OpenTelemetry metrics SDK (0.3x) does not collect exemplars
//! (open-telemetry/opentelemetry-rust#3369). Exemplars are the link from a latency spike to the
//! trace behind it, so metrics here are Prometheus-native: exposed as OpenMetrics text with
//! exemplars, scraped by Prometheus; traces still leave over OTLP.

pub mod client;
pub mod config;
mod error;
pub mod guard;
pub mod http;
pub mod init;
pub mod logs;
pub mod metrics;
pub mod pipeline;
pub mod propagation;

pub use client::{ClientResponse, TracedClient};
pub use config::{LogFormat, OtlpProtocol, TelemetryArgs, TelemetryConfig};
pub use error::Error;
pub use guard::TelemetryGuard;
pub use init::init;
pub use metrics::Registry;

// Callers use these re-exports so that the whole workspace shares exactly one version of each.
pub use opentelemetry;
pub use opentelemetry_sdk;
pub use tracing_opentelemetry;
