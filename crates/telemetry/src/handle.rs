//! [`Telemetry`]: the one handle a service holds, and everything it hands out.

use std::sync::Arc;

use crate::client::TracedClient;
use crate::config::TelemetryConfig;
use crate::error::Error;
use crate::guard::Guard;
use crate::http::{MetricsEndpoint, RequestTelemetry};
use crate::metrics::{CounterFamily, GaugeFamily, HistogramFamily, MetricDescription, Registry};
use crate::propagation::{Propagation, Propagators};
use crate::sampling::RequestSampler;

/// The service's telemetry, from [`crate::init()`]: owns the span pipeline and the metrics
/// registry, and gives the application its request middleware, traced HTTP clients, the
/// `/metrics` endpoint and its own instruments.
///
/// Hold it in `main` for the life of the process and end with [`Telemetry::shutdown`], which
/// flushes the spans still queued; dropping it flushes too, blocking the dropping thread.
///
/// ```no_run
/// # async fn run() -> Result<(), telemetry::Error> {
/// # let config = telemetry::TelemetryConfig::from_env("catalog-service", "0.1.0")?;
/// use actix_web::{App, HttpServer};
/// use telemetry::Exemplar;
///
/// let telemetry = telemetry::init(&config)?;
/// let lookups = telemetry.histogram(
///     "webstore_lookup_duration_seconds",
///     "Duration of product lookups.",
///     &["source"],
///     &[0.001, 0.01, 0.1, 1.0],
/// );
/// lookups.get(&["cache"]).observe(0.004, Exemplar::CurrentSpan);
///
/// let (middleware, metrics) = (telemetry.middleware(), telemetry.metrics_endpoint());
/// let server = HttpServer::new(move || {
///     App::new().wrap(middleware.clone()).service(metrics.clone())
/// });
/// // … bind, run until stopped, then:
/// telemetry.shutdown().await;
/// # Ok(()) }
/// ```
#[must_use = "dropping the handle shuts the span pipeline down: hold it until the server stops, then call shutdown()"]
#[derive(Debug)]
pub struct Telemetry {
    registry: Registry,
    propagation: Arc<Propagation>,
    /// `OTEL_TRACES_SAMPLER`, applied by the middleware; `None` with `OTEL_SDK_DISABLED=true`.
    sampler: Option<Arc<RequestSampler>>,
    /// `None` for a detached handle and with `OTEL_SDK_DISABLED=true`.
    guard: Option<Guard>,
}

impl Telemetry {
    pub(crate) fn new(config: &TelemetryConfig, guard: Option<Guard>) -> Self {
        // Without spans (OTEL_SDK_DISABLED=true) there is no context to join or pass on, so the
        // middleware does not even read the headers.
        let propagators = match config.traces {
            Some(_) => config.propagators,
            None => Propagators::NONE,
        };
        Self {
            registry: Registry::new(config.exemplar_max_age),
            propagation: Arc::new(Propagation::new(propagators)),
            sampler: config
                .traces
                .as_ref()
                .map(|t| Arc::new(RequestSampler::new(t.sampler.to_sampler()))),
            guard,
        }
    }

    /// The actix-web middleware that opens each request's root span (parented on the incoming
    /// trace context) and records `http_server_request_duration_seconds` with that span as
    /// exemplar. Wrap it last, so that it covers every other middleware. Cheap to clone: build
    /// it once, outside the `HttpServer` factory.
    pub fn middleware(&self) -> RequestTelemetry {
        RequestTelemetry::new(
            &self.registry,
            Arc::clone(&self.propagation),
            self.sampler.clone(),
        )
    }

    /// Bench only (feature `tracing-actix-web`): tracing-actix-web's middleware with a lean root
    /// span and the same duration histogram, to compare with [`Telemetry::middleware`]
    /// (docs/BENCHMARKS.md). One application per process.
    #[cfg(feature = "tracing-actix-web")]
    pub fn tracing_actix_web_middleware(
        &self,
    ) -> tracing_actix_web::TracingLogger<crate::lean_root_span::LeanRootSpan> {
        crate::lean_root_span::middleware(crate::http::server_durations(&self.registry))
    }

    /// A `reqwest` client built from `builder` that traces and measures every call (a client
    /// span, its context injected into the request, `http_client_request_duration_seconds`).
    pub fn http_client(&self, builder: reqwest::ClientBuilder) -> Result<TracedClient, Error> {
        Ok(TracedClient::new(
            builder.build()?,
            &self.registry,
            Arc::clone(&self.propagation),
        ))
    }

    /// `GET /metrics`: this handle's registry as OpenMetrics text with exemplars. Register it
    /// with `App::service`; cheap to clone.
    pub fn metrics_endpoint(&self) -> MetricsEndpoint {
        MetricsEndpoint::new(self.registry.clone())
    }

    /// Registers a histogram family: `name` as exposed (`…_seconds`), its help text, the label
    /// names (their values are given per observation, in this order) and the bucket bounds.
    /// Registering a name again returns the same family.
    ///
    /// # Panics
    /// If `name` is already registered as a counter: a programming error, found by the first
    /// test that builds the application.
    pub fn histogram(
        &self,
        name: &str,
        help: &str,
        labels: &'static [&'static str],
        buckets: &[f64],
    ) -> Arc<HistogramFamily> {
        self.registry.histogram(name, help, labels, buckets)
    }

    /// Registers a counter family. `name` without `_total` (the exposition adds it). Same rules
    /// as [`Telemetry::histogram`].
    pub fn counter(
        &self,
        name: &str,
        help: &str,
        labels: &'static [&'static str],
    ) -> Arc<CounterFamily> {
        self.registry.counter(name, help, labels)
    }

    /// Registers a gauge family (a value set as a whole, such as a count refreshed by a periodic
    /// job). Same rules as [`Telemetry::histogram`].
    pub fn gauge(
        &self,
        name: &str,
        help: &str,
        labels: &'static [&'static str],
    ) -> Arc<GaugeFamily> {
        self.registry.gauge(name, help, labels)
    }

    /// Every metric family this handle's `/metrics` exposes, described (name as queried, type,
    /// unit, help, labels, buckets, exemplars), in scrape order: the families registered so far
    /// (by the middleware, traced clients and the service's instruments), then the process-wide
    /// span pipeline counter. For generated references and checks; costs a read lock.
    pub fn describe(&self) -> Vec<MetricDescription> {
        self.registry.describe()
    }

    /// Flushes the spans still queued and stops the exporter, from a blocking thread so that
    /// the runtime stays free (the gRPC exporter needs it to finish). Bounded: a collector that
    /// does not answer costs at most a few seconds. Does nothing for a detached handle.
    pub async fn shutdown(self) {
        if let Some(guard) = self.guard {
            guard.shutdown().await;
        }
    }

    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    pub(crate) fn guard(&self) -> Option<&Guard> {
        self.guard.as_ref()
    }
}
