//! Bench only (feature `tracing-actix-web`): tracing-actix-web 0.7's middleware with a lean root
//! span, to measure against [`crate::RequestTelemetry`] in the same `cargo xtask bench` run.
//!
//! The fairest version of the library: [`LeanRootSpan`] opens the same span `RequestTelemetry`
//! does (the stable HTTP semantic-convention fields, no request id, no user agent, no
//! `Forwarded` parsing), parents it on the incoming context with the global propagator (the one
//! `telemetry::init` installs from `OTEL_PROPAGATORS`), reads the route *after* routing, renames
//! the span `{method} {route}`, and records the same
//! `http_server_request_duration_seconds` observation with the span as exemplar. What remains
//! different is the library itself: a UUID request id generated and stored per request whatever
//! the builder does, the span entered on every poll of the handler and of the response body,
//! and no sampling decision before the span is built (every request builds its OpenTelemetry
//! span). docs/BENCHMARKS.md has the figures.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use opentelemetry::trace::TraceContextExt;
use tracing_actix_web::{RootSpanBuilder, TracingLogger};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::http::{method_label, record_outcome, record_start, UNMATCHED_ROUTE};
use crate::metrics::{HistogramFamily, SpanIds};

/// The duration histogram, for the builder's associated functions (which get no state): one
/// application per process, as in the bench.
static DURATIONS: OnceLock<Arc<HistogramFamily>> = OnceLock::new();

/// When the request started, in its extensions.
struct Started(Instant);

/// `tracing-actix-web`'s middleware with [`LeanRootSpan`], recording into `durations`
/// (`http_server_request_duration_seconds` of the handle's registry).
pub(crate) fn middleware(durations: Arc<HistogramFamily>) -> TracingLogger<LeanRootSpan> {
    let _ = DURATIONS.set(durations);
    TracingLogger::<LeanRootSpan>::new()
}

/// The lean root span: what [`crate::RequestTelemetry`] records, through tracing-actix-web.
pub struct LeanRootSpan;

impl RootSpanBuilder for LeanRootSpan {
    fn on_request_start(req: &ServiceRequest) -> tracing::Span {
        req.extensions_mut().insert(Started(Instant::now()));
        let method = method_label(req.method());
        // The same span as `RequestTelemetry`'s, with the same attributes set the same way.
        let span = tracing::info_span!(
            "HTTP request",
            otel.kind = "server",
            http.request.method = method,
            url.path = req.path(),
        );
        let parent = opentelemetry::global::get_text_map_propagator(|p| {
            p.extract(&crate::propagation::ActixHeaders(req.headers()))
        });
        let _ = span.set_parent(parent);
        record_start(&span.context(), req, method);
        span
    }

    fn on_request_end<B: MessageBody>(
        span: tracing::Span,
        outcome: &Result<ServiceResponse<B>, Error>,
    ) {
        let cx = span.context();
        let (method, route, status, started) = match outcome {
            Ok(res) => {
                let req = res.request();
                let route = req.match_pattern();
                let started = req.extensions().get::<Started>().map(|s| s.0);
                (method_label(req.method()), route, res.status(), started)
            }
            Err(e) => ("_OTHER", None, e.as_response_error().status_code(), None),
        };
        let error = match outcome {
            Ok(res) => res.response().error(),
            Err(e) => Some(e),
        };
        record_outcome(&cx, method, route.as_deref(), status, error);
        if let (Some(durations), Some(started)) = (DURATIONS.get(), started) {
            let _ = durations
                .get(&[
                    method,
                    route.as_deref().unwrap_or(UNMATCHED_ROUTE),
                    status.as_str(),
                ])
                .observe_with(started.elapsed().as_secs_f64(), || {
                    SpanIds::from_context(cx.span().span_context())
                });
        }
    }
}
