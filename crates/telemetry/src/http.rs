//! The server side: one middleware for the root span (parented on the incoming trace context)
//! and the request-duration histogram whose exemplar is that span, plus `/metrics`. Both come
//! from the `Telemetry` handle (`middleware()`, `metrics_endpoint()`).
//!
//! Why not `tracing-actix-web`: its root span carries sixteen fields (a UUID request id, the
//! trace id as a string, connection info parsed from `Forwarded` headers, the user agent…) and
//! enters the span on every poll of the response body, and it asks for the matched route before
//! routing, which runs actix's whole matcher (regexes included) once more per request. Profiled
//! under load, that root span was the largest single cost of a traced request
//! (docs/BENCHMARKS.md). Here the route is read after routing, from what the router recorded,
//! and feeds the span name, `http.route` and the histogram label; the span carries the stable
//! HTTP semantic conventions and nothing else.

use std::future::{ready, Ready};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{
    AppService, HttpServiceFactory, Service, ServiceRequest, ServiceResponse, Transform,
};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::http::{Method, StatusCode};
use actix_web::{web, Error, HttpResponse};
use futures_util::future::LocalBoxFuture;
use opentelemetry::trace::TraceContextExt;
use tracing::field::Empty;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::metrics::{
    HistogramFamily, Registry, SpanIds, HTTP_DURATION_BUCKETS, OPENMETRICS_CONTENT_TYPE,
};
use crate::propagation::Propagation;

/// `http_route` for requests that matched no route: one value, so that scanners probing random
/// paths cannot create unbounded series.
const UNMATCHED_ROUTE: &str = "unmatched";

/// The root span of every request, and
/// `http_server_request_duration_seconds{http_request_method,http_route,http_response_status_code}`
/// with that span as exemplar; from `Telemetry::middleware`.
///
/// Wrap it last (outermost) so that the span and the measured duration cover every other
/// middleware. The span's parent is the context the request's headers carry, read with the
/// handle's propagators (`OTEL_PROPAGATORS`; `none`: every request starts a trace).
///
/// The span is a `tracing` span named `HTTP request`, exported as `{method} {route}` (or
/// `{method}` when no route matched) with kind `server` and the attributes `http.request.method`, `http.route`, `url.path`, `client.address`,
/// `http.response.status_code`, and for 5xx responses `error.type` (the status code),
/// `exception.message` and status `ERROR`. Inside a handler it is `tracing::Span::current()`;
/// attributes it does not declare are added with `OpenTelemetrySpanExt::set_attribute` (as the
/// catalog does with `webstore.cache.result`).
#[derive(Clone, Debug)]
pub struct RequestTelemetry {
    durations: Arc<HistogramFamily>,
    propagation: Arc<Propagation>,
}

impl RequestTelemetry {
    pub(crate) fn new(registry: &Registry, propagation: Arc<Propagation>) -> Self {
        Self {
            propagation,
            durations: registry.histogram(
                "http_server_request_duration_seconds",
                "Duration of HTTP server requests.",
                &[
                    "http_request_method",
                    "http_route",
                    "http_response_status_code",
                ],
                HTTP_DURATION_BUCKETS,
            ),
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for RequestTelemetry
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = RequestTelemetryMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequestTelemetryMiddleware {
            service: Rc::new(service),
            durations: Arc::clone(&self.durations),
            propagation: Arc::clone(&self.propagation),
        }))
    }
}

/// [`RequestTelemetry`] wrapped around one worker's service.
pub struct RequestTelemetryMiddleware<S> {
    service: Rc<S>,
    durations: Arc<HistogramFamily>,
    propagation: Arc<Propagation>,
}

impl<S, B> Service<ServiceRequest> for RequestTelemetryMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        let method = method_label(req.method());
        let span = root_span(&req, method, &self.propagation);
        let fut = span.in_scope(|| self.service.call(req));
        let durations = Arc::clone(&self.durations);
        let fut = fut.instrument(span);
        Box::pin(async move {
            let mut fut = std::pin::pin!(fut);
            let result = fut.as_mut().await;
            let elapsed = started.elapsed().as_secs_f64();
            let span = fut.span();
            // The one lookup of the OpenTelemetry span per request: for the name and, when the
            // histogram picks this observation, the exemplar. Empty without the layer.
            let cx = span.context();
            let (route, status) = match &result {
                Ok(res) => {
                    // After routing, actix answers this from the route it recorded; called
                    // before, it would run the whole matcher (regexes included) a second time.
                    let route = res.request().match_pattern();
                    if let Some(route) = &route {
                        name_after_route(&cx, method, route);
                        span.record("http.route", route.as_str());
                    }
                    (
                        route,
                        record_outcome(span, res.status(), res.response().error()),
                    )
                }
                // An error that escaped every handler: actix turns it into a response later,
                // with the status the error itself reports.
                Err(e) => (
                    None,
                    record_outcome(span, e.as_response_error().status_code(), Some(e)),
                ),
            };
            durations
                .get(&[
                    method,
                    route.as_deref().unwrap_or(UNMATCHED_ROUTE),
                    status.as_str(),
                ])
                .observe_with(elapsed, || SpanIds::from_context(cx.span().span_context()));
            result
        })
    }
}

/// Named `{method}` until the route is known: semantic conventions name a server span
/// `{method} {route}`, or `{method}` alone when no route matched (the raw path would make every
/// URL its own span name).
fn root_span(
    req: &ServiceRequest,
    method: &'static str,
    propagation: &Propagation,
) -> tracing::Span {
    let span = tracing::info_span!(
        "HTTP request",
        otel.name = method,
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = method,
        http.route = Empty,
        url.path = req.path(),
        // The TCP peer, not a `Forwarded` header a client can write: the address that really
        // connected (behind a proxy, the proxy).
        client.address = req.peer_addr().map(|a| tracing::field::display(a.ip())),
        http.response.status_code = Empty,
        error.type = Empty,
        exception.message = Empty,
    );
    if !span.is_disabled() {
        if let Some(parent) = propagation.extract(req.headers()) {
            // Fails only without the OpenTelemetry layer (OTEL_SDK_DISABLED=true): then there
            // is no trace to join.
            let _ = span.set_parent(parent);
        }
    }
    span
}

/// `{method} {route}`. Through the OpenTelemetry span itself: once a span has started (on its
/// first entry), tracing-opentelemetry applies recorded attributes and status to it but no
/// longer a recorded `otel.name`.
fn name_after_route(cx: &opentelemetry::Context, method: &str, route: &str) {
    let otel_span = cx.span();
    if otel_span.is_recording() {
        otel_span.update_name(format!("{method} {route}"));
    }
}

fn record_outcome(span: &tracing::Span, status: StatusCode, error: Option<&Error>) -> StatusCode {
    span.record("http.response.status_code", i64::from(status.as_u16()));
    // Semantic conventions: a server span is an error for 5xx only; a 4xx is the client's.
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
        span.record("error.type", status.as_str());
        if let Some(e) = error {
            span.record("exception.message", tracing::field::display(e));
        }
    }
    status
}

/// Unknown methods share one value, for the same reason unmatched routes do.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "_OTHER",
    }
}

/// `GET /metrics`: the registry as OpenMetrics text (with exemplars); from
/// `Telemetry::metrics_endpoint`, registered with `App::service`.
#[derive(Clone, Debug)]
pub struct MetricsEndpoint {
    registry: Registry,
}

impl MetricsEndpoint {
    pub(crate) fn new(registry: Registry) -> Self {
        Self { registry }
    }
}

impl HttpServiceFactory for MetricsEndpoint {
    fn register(self, config: &mut AppService) {
        let registry = self.registry;
        web::resource("/metrics")
            .route(web::get().to(move || {
                let body = registry.encode();
                async move {
                    HttpResponse::Ok()
                        .insert_header((CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE))
                        .body(body)
                }
            }))
            .register(config);
    }
}
