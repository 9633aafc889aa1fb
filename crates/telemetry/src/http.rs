//! The server side: the request middleware (each request's server span, opened by
//! tracing-actix-web's `TracingLogger` with [`LeanRootSpan`], and the request-duration
//! histogram whose exemplar is that span) and `/metrics`. Both come from the `Telemetry` handle
//! (`middleware()`, `metrics_endpoint()`).
//!
//! Why a layer of our own around `TracingLogger`: its root-span hooks are associated functions
//! without state, so neither the handle's sampler and propagators nor its metrics registry can
//! reach them (a process may serve several handles: the tests do). This layer takes the
//! sampling decision from the handle and hands it to the builder for the one synchronous call
//! in which the span is opened, and records the duration histogram itself, which the library
//! has no hook for with the request's start time and registry at hand.

use std::future::{ready, Ready};
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{
    AppService, HttpServiceFactory, Service, ServiceRequest, ServiceResponse, Transform,
};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{web, Error, HttpMessage, HttpResponse};
use futures_util::future::{Either, LocalBoxFuture};
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::TraceContextExt as _;
use tracing_actix_web::{RootSpan, TracingLogger};

use crate::lean_root_span::{
    method_label, with_start, LeanRootSpan, SampledRoot, Start, UNMATCHED_ROUTE,
};
use crate::metrics::{
    mark_current_root, HistogramFamily, Registry, SpanIds, HTTP_DURATION_BUCKETS,
    OPENMETRICS_CONTENT_TYPE,
};
use crate::propagation::Propagation;
use crate::sampling::{Decision, RequestSampler};

/// tracing-actix-web's middleware with the lean root span.
type Logger = TracingLogger<LeanRootSpan>;

/// The request middleware, from `Telemetry::middleware`: tracing-actix-web's `TracingLogger`
/// with [`LeanRootSpan`] (each request's server span, entered while the handler and the
/// response body are polled), and
/// `http_server_request_duration_seconds{http_request_method,http_route,http_response_status_code}`
/// with that span as exemplar.
///
/// Wrap it last (outermost) so that the span and the measured duration cover every other
/// middleware. The span's parent is the context the request's headers carry, read with the
/// handle's propagators (`OTEL_PROPAGATORS`; `none`: every request starts a trace). Inside a
/// handler the span is `tracing::Span::current()` (and tracing-actix-web's `RootSpan`
/// extractor); attributes it does not declare are added with
/// `OpenTelemetrySpanExt::set_attribute` (as the catalog does with `webstore.cache.result`).
/// When one of the request's observations becomes a histogram bucket's exemplar, the span gets
/// `webstore.exemplar = true`. [`LeanRootSpan`] lists the span's name and attributes.
///
/// Sampling (`OTEL_TRACES_SAMPLER`) is decided here, before the span is created. A request
/// that is not sampled gets the same `tracing` span (its log lines carry its trace id) and the
/// same histogram observation, but no OpenTelemetry span data at all, in this span or any below
/// it, and its outgoing calls carry `traceparent` with the sampled flag off.
#[derive(Clone, Debug)]
pub struct RequestMiddleware {
    durations: Arc<HistogramFamily>,
    propagation: Arc<Propagation>,
    sampler: Option<Arc<RequestSampler>>,
}

impl RequestMiddleware {
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

    /// The sampling decision for `req`, from the context its headers carry.
    fn start(&self, req: &ServiceRequest) -> Start {
        let Some(sampler) = &self.sampler else {
            return Start::Off;
        };
        let parent = self.propagation.extract(req.headers()).unwrap_or_default();
        match sampler.decide(&parent) {
            Decision::NotSampled(propagated) => Start::NotSampled(propagated),
            Decision::Sampled { new_trace } => Start::Sampled { parent, new_trace },
        }
    }
}

/// `http_server_request_duration_seconds{http_request_method,http_route,http_response_status_code}`.
fn server_durations(registry: &Registry) -> Arc<HistogramFamily> {
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

impl<S, B> Transform<S, ServiceRequest> for RequestMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = <Logger as Transform<S, ServiceRequest>>::Response;
    type Error = Error;
    type Transform = RequestMiddlewareService<<Logger as Transform<S, ServiceRequest>>::Transform>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        let logger = Logger::new().new_transform(service).into_inner();
        ready(logger.map(|logger| RequestMiddlewareService {
            logger,
            middleware: self.clone(),
        }))
    }
}

/// [`RequestMiddleware`] wrapped around one worker's service (`logger`: tracing-actix-web's
/// middleware around it).
pub struct RequestMiddlewareService<L> {
    logger: L,
    middleware: RequestMiddleware,
}

impl<L, B> Service<ServiceRequest> for RequestMiddlewareService<L>
where
    L: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    L::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    actix_web::dev::forward_ready!(logger);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        let method = method_label(req.method());
        let start = self.middleware.start(&req);
        let propagated = match &start {
            Start::NotSampled(propagated) => Some(propagated.clone()),
            Start::Off | Start::Sampled { .. } => None,
        };
        let fut = with_start(start, || self.logger.call(req));
        // No span of an unsampled request activates an OpenTelemetry context, so the handler
        // sees the propagated one (baggage included) as current.
        let fut = match propagated {
            Some(cx) => Either::Right(fut.with_context(cx)),
            None => Either::Left(fut),
        };
        let durations = Arc::clone(&self.middleware.durations);
        Box::pin(async move {
            let result = fut.await;
            let elapsed = started.elapsed().as_secs_f64();
            match &result {
                Ok(res) => {
                    let req = res.request();
                    // Recorded by the router: no second match (see `LeanRootSpan`).
                    let route = req.match_pattern();
                    let observed = durations.get(&[
                        method,
                        route.as_deref().unwrap_or(UNMATCHED_ROUTE),
                        res.status().as_str(),
                    ]);
                    // The sampled server span's ids, from the context `LeanRootSpan` keeps in a
                    // sampled request (none otherwise): read only for the few observations
                    // that become exemplars.
                    let ids = || {
                        req.extensions()
                            .get::<SampledRoot>()
                            .and_then(|root| SpanIds::from_context(root.cx.span().span_context()))
                    };
                    if let Some(taken) = observed.observe_with(elapsed, ids) {
                        // The span tracing-actix-web keeps in the request, entered so that the
                        // mark finds it as the request's root.
                        if let Some(span) = req.extensions().get::<RootSpan>().cloned() {
                            span.in_scope(|| mark_current_root(taken));
                        }
                    }
                }
                // An error that escaped every handler (actix turns it into a response later):
                // the request, its route and the span tracing-actix-web stored in it are out of
                // reach, so the observation carries no exemplar. The services' handlers turn
                // their errors into responses, so only a middleware inside this one could.
                Err(e) => {
                    let status = e.as_response_error().status_code();
                    let _ = durations
                        .get(&[method, UNMATCHED_ROUTE, status.as_str()])
                        .observe_with(elapsed, || None);
                }
            }
            result
        })
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
