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
use futures_util::future::{Either, LocalBoxFuture};
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry::KeyValue;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::metrics::{
    mark_current_root, HistogramFamily, Registry, SpanIds, HTTP_DURATION_BUCKETS,
    OPENMETRICS_CONTENT_TYPE,
};
use crate::propagation::Propagation;
use crate::request_span;
use crate::sampling::{self, Decision, RequestSampler};

/// `http_route` for requests that matched no route: one value, so that scanners probing random
/// paths cannot create unbounded series.
pub(crate) const UNMATCHED_ROUTE: &str = "unmatched";

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
/// catalog does with `webstore.cache.result`). When one of the request's observations becomes a
/// histogram bucket's exemplar, the span gets `webstore.exemplar = true`.
///
/// Sampling (`OTEL_TRACES_SAMPLER`) is decided here, before the span is created. A request
/// that is not sampled gets the same `tracing` span (its log lines carry its trace id) and the
/// same histogram observation, but no OpenTelemetry span data at all, in this span or any below
/// it, and its outgoing calls carry `traceparent` with the sampled flag off.
#[derive(Clone, Debug)]
pub struct RequestTelemetry {
    durations: Arc<HistogramFamily>,
    propagation: Arc<Propagation>,
    sampler: Option<Arc<RequestSampler>>,
}

impl RequestTelemetry {
    pub(crate) fn new(
        registry: &Registry,
        propagation: Arc<Propagation>,
        sampler: Option<Arc<RequestSampler>>,
    ) -> Self {
        Self {
            propagation,
            sampler,
            durations: server_durations(registry),
        }
    }
}

/// `http_server_request_duration_seconds{http_request_method,http_route,http_response_status_code}`.
pub(crate) fn server_durations(registry: &Registry) -> Arc<HistogramFamily> {
    registry.histogram(
        "http_server_request_duration_seconds",
        "Duration of HTTP server requests.",
        &[
            "http_request_method",
            "http_route",
            "http_response_status_code",
        ],
        HTTP_DURATION_BUCKETS,
    )
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
            sampler: self.sampler.clone(),
        }))
    }
}

/// [`RequestTelemetry`] wrapped around one worker's service.
pub struct RequestTelemetryMiddleware<S> {
    service: Rc<S>,
    durations: Arc<HistogramFamily>,
    propagation: Arc<Propagation>,
    sampler: Option<Arc<RequestSampler>>,
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
        let (span, root) = open_root(&req, method, &self.propagation, self.sampler.as_deref());
        let fut = span.in_scope(|| self.service.call(req));
        let durations = Arc::clone(&self.durations);
        let (fut, root_cx) = match root {
            Root::Recorded(cx) => (Either::Left(fut), Some(cx)),
            // No span of this request activates an OpenTelemetry context, so the handler sees
            // the propagated one (baggage included) as current.
            Root::NotRecorded(propagated) => (Either::Right(fut.with_context(propagated)), None),
            Root::Off => (Either::Left(fut), None),
        };
        let fut = fut.instrument(span);
        Box::pin(async move {
            let mut fut = std::pin::pin!(fut);
            let result = fut.as_mut().await;
            let elapsed = started.elapsed().as_secs_f64();
            let span = fut.span();
            let (route, status) = match &result {
                Ok(res) => {
                    // After routing, actix answers this from the route it recorded; called
                    // before, it would run the whole matcher (regexes included) a second time.
                    let route = res.request().match_pattern();
                    let status = res.status();
                    if let Some(cx) = &root_cx {
                        record_outcome(
                            cx,
                            method,
                            route.as_deref(),
                            status,
                            res.response().error(),
                        );
                    }
                    (route, status)
                }
                // An error that escaped every handler: actix turns it into a response later,
                // with the status the error itself reports.
                Err(e) => {
                    let status = e.as_response_error().status_code();
                    if let Some(cx) = &root_cx {
                        record_outcome(cx, method, None, status, Some(e));
                    }
                    (None, status)
                }
            };
            let observed = durations.get(&[
                method,
                route.as_deref().unwrap_or(UNMATCHED_ROUTE),
                status.as_str(),
            ]);
            match &root_cx {
                Some(cx) => {
                    let ids = || SpanIds::from_context(cx.span().span_context());
                    if let Some(taken) = observed.observe_with(elapsed, ids) {
                        span.in_scope(|| mark_current_root(taken));
                    }
                }
                None => {
                    let _ = observed.observe_with(elapsed, || None);
                }
            }
            result
        })
    }
}

/// What became of the request's root span beside the `tracing` span.
enum Root {
    /// Sampled: its started OpenTelemetry context (the span name, outcome and exemplar are
    /// taken from it at the end).
    Recorded(opentelemetry::Context),
    /// Not sampled: the context it propagates.
    NotRecorded(opentelemetry::Context),
    /// No OpenTelemetry layer (`OTEL_SDK_DISABLED=true`), or the span is disabled by `RUST_LOG`.
    Off,
}

fn open_root(
    req: &ServiceRequest,
    method: &'static str,
    propagation: &Propagation,
    sampler: Option<&RequestSampler>,
) -> (tracing::Span, Root) {
    let Some(sampler) = sampler else {
        return (root_span(req, method), Root::Off);
    };
    let parent = propagation.extract(req.headers()).unwrap_or_default();
    match sampler.decide(&parent) {
        Decision::NotSampled(propagated) => (
            sampling::unrecorded(propagated.clone(), || root_span(req, method)),
            Root::NotRecorded(propagated),
        ),
        Decision::Sampled { new_trace } => {
            let span = root_span(req, method);
            if span.is_disabled() {
                return (span, Root::Off);
            }
            // Fails only without the OpenTelemetry layer, which a sampler implies.
            let _ = span.set_parent(parent);
            // Starts the OpenTelemetry span now, with the trace id the decision was taken on.
            let cx = match new_trace {
                Some(trace_id) => sampling::with_trace_id(trace_id, || span.context()),
                None => span.context(),
            };
            record_start(&cx, req, method);
            (span, Root::Recorded(cx))
        }
    }
}

/// The `tracing` span of every request. Its OpenTelemetry span (sampled requests only) is
/// named and given its attributes by [`open_root`] and [`record_outcome`], directly: through
/// `tracing` fields, each value would be formatted into a new `String` and each recorded field
/// would cost a pass through every layer. `http.request.method` and `url.path` stay fields, so
/// that pretty logs show them.
fn root_span(req: &ServiceRequest, method: &'static str) -> tracing::Span {
    tracing::info_span!(
        target: request_span::TARGET,
        request_span::NAME,
        otel.kind = "server",
        http.request.method = method,
        url.path = req.path(),
    )
}

/// The attributes a sampled request's server span gets when it starts, beside the fields of
/// [`root_span`]: the TCP peer as `client.address` (not a `Forwarded` header a client can
/// write: the address that really connected; behind a proxy, the proxy), and its name until
/// the route is known, `{method}`.
pub(crate) fn record_start(
    cx: &opentelemetry::Context,
    req: &ServiceRequest,
    method: &'static str,
) {
    let otel_span = cx.span();
    otel_span.update_name(method);
    if let Some(peer) = req.peer_addr() {
        otel_span.set_attribute(KeyValue::new("client.address", peer.ip().to_string()));
    }
}

/// The route, status and error of a sampled request, on its server span: named
/// `{method} {route}` (semantic conventions; `{method}` alone when no route matched, since the
/// raw path would make every URL its own span name), `http.route`,
/// `http.response.status_code`, and for a 5xx `error.type`, `exception.message` and status
/// `ERROR` (a 4xx is the client's error, not the server's).
pub(crate) fn record_outcome(
    cx: &opentelemetry::Context,
    method: &'static str,
    route: Option<&str>,
    status: StatusCode,
    error: Option<&Error>,
) {
    let otel_span = cx.span();
    if let Some(route) = route {
        otel_span.update_name(format!("{method} {route}"));
        otel_span.set_attribute(KeyValue::new("http.route", route.to_owned()));
    }
    otel_span.set_attribute(KeyValue::new(
        "http.response.status_code",
        i64::from(status.as_u16()),
    ));
    if status.is_server_error() {
        otel_span.set_status(Status::error(""));
        otel_span.set_attribute(KeyValue::new("error.type", status.as_str().to_owned()));
        if let Some(e) = error {
            otel_span.set_attribute(KeyValue::new("exception.message", e.to_string()));
        }
    }
}

/// Unknown methods share one value, for the same reason unmatched routes do.
pub(crate) fn method_label(method: &Method) -> &'static str {
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
