//! A small OpenMetrics registry whose histograms carry exemplars.
//!
//! Why not `prometheus-client`: its `HistogramWithExemplars` needs the exemplar's label set
//! (two `String`s) built on every observation and keeps the last exemplar per bucket forever,
//! and its `Exemplar` cannot be built outside the crate, so a histogram of our own could not be
//! encoded by it. Encoding OpenMetrics text is a page of code (see [`encode`]), so the project
//! owns it.
//!
//! The exemplar rules, in one place ([`histogram`]):
//! - an exemplar is attached only from a span context that is valid **and sampled**;
//! - each bucket refreshes its exemplar at most once per scrape (Prometheus keeps one per bucket
//!   per scrape anyway), so the span context is read only when the bucket's exemplar is stale;
//! - exemplars older than `EXEMPLAR_MAX_AGE` are not exposed.

mod encode;
mod family;
pub mod histogram;
mod registry;

pub use family::{Counter, CounterFamily, Family, HistogramFamily};
pub use histogram::{Histogram, SpanIds};
pub use registry::{Registry, OPENMETRICS_CONTENT_TYPE};

/// OpenTelemetry semantic-convention buckets for HTTP durations, in seconds.
pub const HTTP_DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];
