//! Outgoing HTTP: a client span per call, `traceparent` injected from it, a duration histogram.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::field::Empty;
use tracing::Instrument;

use crate::metrics::{Exemplar, HistogramFamily, Registry, SpanIds, HTTP_DURATION_BUCKETS};
use crate::propagation::Propagation;

/// A `reqwest::Client` that traces and measures every call; from `Telemetry::http_client`.
///
/// Each call gets a client span (`otel.kind = client`, named `{method} {url template}`) whose
/// context is injected into the request with the handle's propagators (`traceparent`,
/// `baggage`; nothing with `OTEL_PROPAGATORS=none`), so the callee's server span is its child.
/// The span ends when the response headers arrive, and the measured duration is returned with
/// the span's ids, so a caller can put the same value and exemplar on a business histogram.
/// Cheap to clone (one connection pool).
#[derive(Clone, Debug)]
pub struct TracedClient {
    client: reqwest::Client,
    durations: Arc<HistogramFamily>,
    propagation: Arc<Propagation>,
}

/// What one call produced: the response (or transport error), how long it took, and the ids of
/// its client span when that span is sampled (`Exemplar::from(span_ids)` puts them on a
/// histogram).
#[derive(Debug)]
pub struct ClientResponse {
    pub result: Result<reqwest::Response, reqwest::Error>,
    pub elapsed: Duration,
    pub span_ids: Option<SpanIds>,
}

impl TracedClient {
    pub(crate) fn new(
        client: reqwest::Client,
        registry: &Registry,
        propagation: Arc<Propagation>,
    ) -> Self {
        Self {
            client,
            propagation,
            durations: registry.histogram(
                "http_client_request_duration_seconds",
                "Duration of HTTP client requests.",
                &[
                    "server_address",
                    "server_port",
                    "http_request_method",
                    "http_response_status_code",
                ],
                HTTP_DURATION_BUCKETS,
            ),
        }
    }

    /// The underlying client, to build requests with (`inner().get(url)…build()`); send them with
    /// [`TracedClient::send`], or they go untraced.
    pub fn inner(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends `request`. `url_template` is the low-cardinality path (`/api/v1/products/{id}`)
    /// used in the span name.
    pub async fn send(&self, mut request: reqwest::Request, url_template: &str) -> ClientResponse {
        let method = request.method().clone();
        let url = request.url();
        let host = url.host_str().unwrap_or_default().to_owned();
        let port = url.port_or_known_default().unwrap_or_default();
        let span = tracing::info_span!(
            "HTTP client",
            otel.name = %format_args!("{method} {url_template}"),
            otel.kind = "client",
            otel.status_code = Empty,
            http.request.method = %method,
            server.address = %host,
            server.port = port,
            url.full = %url,
            url.template = url_template,
            http.response.status_code = Empty,
            error.type = Empty,
        );
        self.propagation.inject(&span, request.headers_mut());
        let span_ids = SpanIds::of_span(&span);
        let started = Instant::now();
        let result = self.client.execute(request).instrument(span.clone()).await;
        let elapsed = started.elapsed();
        let status = match &result {
            Ok(res) => {
                let code = res.status().as_u16();
                span.record("http.response.status_code", i64::from(code));
                if code >= 500 {
                    span.record("otel.status_code", "ERROR");
                    span.record("error.type", i64::from(code));
                }
                res.status().as_str().to_owned()
            }
            Err(e) => {
                span.record("otel.status_code", "ERROR");
                span.record(
                    "error.type",
                    if e.is_timeout() {
                        "timeout"
                    } else {
                        "transport"
                    },
                );
                String::new()
            }
        };
        drop(span); // ends the client span now, so its duration is the one measured here
        self.durations
            .get(&[&host, &port.to_string(), method.as_str(), &status])
            .observe(elapsed.as_secs_f64(), Exemplar::from(span_ids));
        ClientResponse {
            result,
            elapsed,
            span_ids,
        }
    }
}
