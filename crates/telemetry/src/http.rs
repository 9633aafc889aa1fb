//! The server side: root span with W3C extraction, the request-duration histogram, `/metrics`.
//!
//! In an actix `App`, wrap [`ServerMetrics`] first and [`tracing_logger`] second (the last
//! `wrap` is outermost), so the histogram's exemplar is the request's root span:
//!
//! ```no_run
//! # use actix_web::App;
//! let registry = telemetry::Registry::default();
//! let app = App::new()
//!     .wrap(telemetry::http::ServerMetrics::new(&registry))
//!     .wrap(telemetry::http::tracing_logger())
//!     .service(telemetry::http::metrics_endpoint(registry.clone()));
//! ```

use std::future::{ready, Ready};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{web, Error, HttpMessage, HttpResponse};
use futures_util::future::LocalBoxFuture;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpan, TracingLogger};

use crate::metrics::{
    HistogramFamily, Registry, SpanIds, HTTP_DURATION_BUCKETS, OPENMETRICS_CONTENT_TYPE,
};

/// `http_route` for requests that matched no route: one value, so that scanners probing random
/// paths cannot create unbounded series.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The root span of every request, parented on an incoming `traceparent`.
pub fn tracing_logger() -> TracingLogger<DefaultRootSpanBuilder> {
    TracingLogger::default()
}

/// Records `http_server_request_duration_seconds{http_request_method,http_route,
/// http_response_status_code}` with the root span as exemplar.
#[derive(Clone)]
pub struct ServerMetrics {
    durations: Arc<HistogramFamily>,
}

impl ServerMetrics {
    pub fn new(registry: &Registry) -> Self {
        Self {
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

impl<S, B> Transform<S, ServiceRequest> for ServerMetrics
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = ServerMetricsMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ServerMetricsMiddleware {
            service: Rc::new(service),
            durations: Arc::clone(&self.durations),
        }))
    }
}

pub struct ServerMetricsMiddleware<S> {
    service: Rc<S>,
    durations: Arc<HistogramFamily>,
}

impl<S, B> Service<ServiceRequest> for ServerMetricsMiddleware<S>
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
        let durations = Arc::clone(&self.durations);
        let fut = self.service.call(req);
        Box::pin(async move {
            let result = fut.await;
            let elapsed = started.elapsed().as_secs_f64();
            match &result {
                Ok(res) => {
                    let req = res.request();
                    let route = req.match_pattern();
                    let status = res.status();
                    let root = req.extensions().get::<RootSpan>().cloned();
                    record(
                        &durations,
                        req.method().as_str(),
                        route.as_deref(),
                        status.as_str(),
                        elapsed,
                        root,
                    );
                }
                // An error that escaped every handler: actix turns it into a response later,
                // with the status the error itself reports.
                Err(e) => {
                    let status = e.as_response_error().status_code();
                    record(&durations, "_OTHER", None, status.as_str(), elapsed, None);
                }
            }
            result
        })
    }
}

fn record(
    durations: &HistogramFamily,
    method: &str,
    route: Option<&str>,
    status: &str,
    seconds: f64,
    root: Option<RootSpan>,
) {
    // Unknown methods share one value for the same reason unmatched routes do.
    let method = match method {
        "GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "HEAD" | "OPTIONS" => method,
        _ => "_OTHER",
    };
    let h = durations.get(&[method, route.unwrap_or(UNMATCHED_ROUTE), status]);
    match root {
        Some(root) => h.observe_with(seconds, || SpanIds::of_span(&root)),
        None => h.observe(seconds),
    }
}

/// `GET /metrics`: the registry as OpenMetrics text (with exemplars).
pub fn metrics_endpoint(registry: Registry) -> actix_web::Resource {
    web::resource("/metrics").route(web::get().to(move || {
        let body = registry.encode();
        async move {
            HttpResponse::Ok()
                .insert_header((CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE))
                .body(body)
        }
    }))
}
