//! A small OpenMetrics registry whose histograms carry exemplars.
//!
//! Why not `prometheus-client`: its `HistogramWithExemplars` needs the exemplar's label set
//! (two `String`s) built on every observation and keeps the last exemplar per bucket forever,
//! and its `Exemplar` cannot be built outside the crate, so a histogram of our own could not be
//! encoded by it. Encoding OpenMetrics text is a page of code (see [`encode`]), so the project
//! owns it.
//!
//! The exemplar rules, in one place ([`histogram`]):
//! - an exemplar is attached only from a span context that is valid **and sampled**
//!   ([`exemplar`]);
//! - per bucket and scrape interval, the exemplar is a uniformly sampled observation of the
//!   interval (a reservoir of one; the first sampled observation after a scrape always takes the
//!   slot), so the span context is read for about `ln(n)` of a bucket's `n` observations;
//! - the hot path allocates nothing and takes no lock (`tests/zero_alloc.rs`,
//!   `benches/histogram.rs`);
//! - exemplars older than `EXEMPLAR_MAX_AGE` are not exposed.
//!
//! # Layering
//! Each module imports only those listed before it: `text` (formatting primitives),
//! `describe` (what a family looks like, for documentation), `exemplar` (span ids, exemplar
//! sources), `histogram`, `family`, `encode`, `registry`. This file only declares them and
//! re-exports what the rest of the crate uses.

mod describe;
mod encode;
mod exemplar;
mod family;
mod histogram;
mod registry;
mod text;

pub use describe::{MetricDescription, MetricKind};
pub(crate) use exemplar::mark_current_root;
pub use exemplar::{Exemplar, SpanIds, EXEMPLAR_ATTRIBUTE};
pub use family::{Counter, CounterFamily, Family, Gauge, GaugeFamily, HistogramFamily};
pub use histogram::Histogram;
pub(crate) use registry::{Registry, OPENMETRICS_CONTENT_TYPE};

/// OpenTelemetry semantic-convention buckets for HTTP durations, in seconds.
pub(crate) const HTTP_DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];
