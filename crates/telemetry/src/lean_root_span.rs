//! [`LeanRootSpan`]: the `RootSpanBuilder` that makes tracing-actix-web's `TracingLogger` open
//! each request's server span the way this crate wants it.
//!
//! tracing-actix-web's own root span carries sixteen fields (a UUID request id, the trace id as
//! a string, connection info parsed from `Forwarded` headers, the user agent…) and asks for the
//! route before routing, which runs actix's whole matcher once more per request: profiled under
//! load, that default span was the largest single cost of a traced request. This builder opens
//! one span with the stable HTTP semantic conventions only and reads the route *after* routing,
//! from what the router recorded (docs/BENCHMARKS.md has the figures for both).
//!
//! The builder's hooks are associated functions without state, and `TracingLogger` carries
//! none, but the span depends on the handle that serves the request (its sampler, its
//! propagators; tests run several handles in one process). [`crate::http::RequestMiddleware`]
//! takes the sampling decision, then hands it over with [`with_start`] for the one synchronous
//! call in which `TracingLogger` asks this builder for the span.

use std::cell::{Cell, RefCell};
use std::net::IpAddr;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::{Error, HttpMessage};
use opentelemetry::trace::{Status, TraceContextExt, TraceId};
use opentelemetry::{Context, KeyValue};
use tracing_actix_web::RootSpanBuilder;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::request_span;
use crate::route_names::route_names;
use crate::sampling;

/// `http_route` for requests that matched no route: one value, so that scanners probing random
/// paths cannot create unbounded series.
pub(crate) const UNMATCHED_ROUTE: &str = "unmatched";

/// What the middleware decided for one request, before its span exists.
#[derive(Debug)]
pub(crate) enum Start {
    /// No OpenTelemetry layer (`OTEL_SDK_DISABLED=true`): a `tracing` span only.
    Off,
    /// Record it, parented on `parent` (the context the headers carried, or an empty one);
    /// `new_trace` is the id the decision was taken on when the request starts a trace.
    Sampled {
        parent: Context,
        new_trace: Option<TraceId>,
    },
    /// Build no OpenTelemetry data; the request propagates this context.
    NotSampled(Context),
}

thread_local! {
    /// Set by [`with_start`] for the `on_request_start` that `call` runs.
    static NEXT_START: Cell<Option<Start>> = const { Cell::new(None) };
}

/// Runs `call` (tracing-actix-web's middleware `call`, which asks [`LeanRootSpan`] for the span
/// before it returns) with `start` as the decision for the span it opens.
pub(crate) fn with_start<R>(start: Start, call: impl FnOnce() -> R) -> R {
    NEXT_START.with(|next| next.set(Some(start)));
    let called = call();
    // Never leave a decision for another request's span.
    NEXT_START.with(Cell::take);
    called
}

/// The lean root span, for `tracing_actix_web::TracingLogger`; used through
/// [`crate::http::RequestMiddleware`], which hands it the sampling decision.
///
/// The span is a `tracing` span named `HTTP request` (target `telemetry::http`, the one
/// `RUST_LOG` directives name), exported as `{method} {route}` (or `{method}` when no route
/// matched) with kind `server` and the attributes `http.request.method`, `http.route`,
/// `url.path`, `client.address`, `http.response.status_code`, and for 5xx responses
/// `error.type` (the status code), `exception.message` and status `ERROR`. No request id: the
/// trace id is the request's identity in logs and traces alike.
pub struct LeanRootSpan;

impl RootSpanBuilder for LeanRootSpan {
    fn on_request_start(req: &ServiceRequest) -> tracing::Span {
        let method = method_label(req.method());
        // Without a decision (the builder used on its own), an ordinary span.
        match NEXT_START.with(Cell::take).unwrap_or(Start::Off) {
            Start::Off => root_span(req, method),
            Start::NotSampled(propagated) => {
                sampling::unrecorded(propagated, || root_span(req, method))
            }
            Start::Sampled { parent, new_trace } => {
                let span = root_span(req, method);
                if span.is_disabled() {
                    return span;
                }
                // Fails only without the OpenTelemetry layer, which a sampler implies.
                let _ = span.set_parent(parent);
                // Starts the OpenTelemetry span now, with the trace id the decision was taken on.
                let cx = match new_trace {
                    Some(trace_id) => sampling::with_trace_id(trace_id, || span.context()),
                    None => span.context(),
                };
                record_start(&cx, req, method);
                req.extensions_mut().insert(SampledRoot { method, cx });
                span
            }
        }
    }

    fn on_request_end<B: MessageBody>(
        span: tracing::Span,
        outcome: &Result<ServiceResponse<B>, Error>,
    ) {
        match outcome {
            Ok(res) => {
                let req = res.request();
                // Only a sampled request's span has OpenTelemetry data to finish. Its context
                // comes from the request: asking the span (`span.context()`) costs a registry
                // lookup and a context built anew, about a tenth of the request thread's
                // telemetry (docs/BENCHMARKS.md).
                let Some((method, cx)) = req
                    .extensions()
                    .get::<SampledRoot>()
                    .map(|root| (root.method, root.cx.clone()))
                else {
                    return;
                };
                // After routing, actix answers this from the route it recorded; called before,
                // it would run the whole matcher (regexes included) a second time.
                let route = req.match_pattern();
                Outcome {
                    route: route.as_deref().map(|r| (method, r)),
                    status: res.status(),
                    error: res.response().error(),
                }
                .record(&cx);
            }
            // An error that escaped every handler: actix turns it into a response later, with
            // the status the error itself reports. The request (and its route) is gone, so
            // the span is asked; its context is empty unless the request was sampled.
            Err(e) => {
                let cx = span.context();
                if cx.span().span_context().is_sampled() {
                    Outcome {
                        route: None,
                        status: e.as_response_error().status_code(),
                        error: Some(e),
                    }
                    .record(&cx);
                }
            }
        }
    }
}

/// Kept in a sampled request's extensions, and only there: the method it arrived with (a
/// middleware inside may rewrite the request's: `HEAD` is routed as `GET`) and the span's
/// OpenTelemetry context, for the end of the span and for the request middleware's exemplar.
pub(crate) struct SampledRoot {
    method: &'static str,
    pub(crate) cx: Context,
}

/// The `tracing` span of every request. Its OpenTelemetry span (sampled requests only) is
/// named and given its attributes by [`record_start`] and [`Outcome::record`], directly:
/// through `tracing` fields, each value would be formatted into a new `String` and each
/// recorded field would cost a pass through every layer. `http.request.method` and `url.path`
/// stay fields, so that pretty logs show them.
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
fn record_start(cx: &Context, req: &ServiceRequest, method: &'static str) {
    let otel_span = cx.span();
    otel_span.update_name(method);
    if let Some(peer) = req.peer_addr() {
        otel_span.set_attribute(KeyValue::new("client.address", client_address(peer.ip())));
    }
}

thread_local! {
    /// The last peer address this thread formatted.
    static LAST_PEER: RefCell<Option<(IpAddr, Arc<str>)>> = const { RefCell::new(None) };
}

/// `ip` as text, shared: consecutive requests mostly come from the same peer (behind a load
/// balancer or a proxy, always), and a shared string is neither formatted again nor copied when
/// the exporter clones the span.
fn client_address(ip: IpAddr) -> Arc<str> {
    LAST_PEER.with(|last| {
        let mut last = last.borrow_mut();
        match &*last {
            Some((seen, text)) if *seen == ip => Arc::clone(text),
            _ => {
                let text: Arc<str> = ip.to_string().into();
                *last = Some((ip, Arc::clone(&text)));
                text
            }
        }
    })
}

/// How a sampled request ended, for its server span.
struct Outcome<'a> {
    /// `(method, route)` when a route matched.
    route: Option<(&'static str, &'a str)>,
    status: StatusCode,
    error: Option<&'a Error>,
}

impl Outcome<'_> {
    /// Named `{method} {route}` (semantic conventions; the `{method}` of [`record_start`] stays
    /// when no route matched, since the raw path would make every URL its own span name),
    /// `http.route`, `http.response.status_code`, and for a 5xx `error.type`,
    /// `exception.message` and status `ERROR` (a 4xx is the client's error, not the server's).
    fn record(&self, cx: &Context) {
        let otel_span = cx.span();
        if let Some((method, route)) = self.route {
            match route_names(method, route) {
                Some(kept) => {
                    otel_span.update_name(kept.name);
                    otel_span.set_attribute(KeyValue::new("http.route", kept.route));
                }
                None => {
                    otel_span.update_name(format!("{method} {route}"));
                    otel_span.set_attribute(KeyValue::new("http.route", route.to_owned()));
                }
            }
        }
        otel_span.set_attribute(KeyValue::new(
            "http.response.status_code",
            i64::from(self.status.as_u16()),
        ));
        if self.status.is_server_error() {
            otel_span.set_status(Status::error(""));
            otel_span.set_attribute(KeyValue::new("error.type", self.status.as_str().to_owned()));
            if let Some(e) = self.error {
                otel_span.set_attribute(KeyValue::new("exception.message", e.to_string()));
            }
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
