//! W3C trace context across process boundaries.
//!
//! Incoming: [`crate::http::RequestTelemetry`] extracts `traceparent` with the global propagator
//! that [`crate::init`] installs and makes it the root span's parent.
//! Outgoing: [`inject`] writes the context of a given span into a request's headers; the
//! [`crate::TracedClient`] calls it with the client span, so the next service's server span is
//! that client span's child.

use opentelemetry::propagation::Injector;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tracing_opentelemetry::OpenTelemetrySpanExt;

struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// Writes `traceparent` (and `tracestate`, `baggage`) for `span` into `headers`.
/// Without the OpenTelemetry layer (`OTEL_SDK_DISABLED=true`) the context is empty and nothing
/// is written.
pub fn inject(span: &tracing::Span, headers: &mut HeaderMap) {
    let cx = span.context();
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(&cx, &mut HeaderInjector(headers))
    });
}
