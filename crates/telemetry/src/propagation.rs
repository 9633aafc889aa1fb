//! Trace context across process boundaries, as `OTEL_PROPAGATORS` says.
//!
//! Incoming: the request middleware extracts the context from the request headers and makes it
//! the root span's parent. Outgoing: the traced client injects its client span's context into
//! the request headers, so the next service's server span is that client span's child. Both use
//! the propagators the handle was built with, never a process-wide setting, so two apps in one
//! test process can differ; `telemetry::init` also installs the same set as the global
//! propagator for any other instrumentation in the process.

use std::fmt;

use actix_web::http::header::HeaderName;
use opentelemetry::propagation::{
    Extractor, Injector, TextMapCompositePropagator, TextMapPropagator,
};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The propagators `OTEL_PROPAGATORS` names; this build carries W3C Trace Context and W3C
/// Baggage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Propagators {
    trace_context: bool,
    baggage: bool,
}

impl Default for Propagators {
    /// The specification's default, `tracecontext,baggage`.
    fn default() -> Self {
        Self {
            trace_context: true,
            baggage: true,
        }
    }
}

/// Names the specification defines that this build leaves out (each needs another crate).
const NOT_BUILT_IN: &[&str] = &["b3", "b3multi", "jaeger", "xray", "ottrace"];

impl Propagators {
    /// `none`: no context crosses a process boundary, in either direction.
    pub(crate) const NONE: Self = Self {
        trace_context: false,
        baggage: false,
    };

    /// Parses the value of `OTEL_PROPAGATORS`: comma-separated `tracecontext`, `baggage`, or
    /// `none` alone; unset or empty means the default. Duplicates count once, as the
    /// specification asks. The error message is for an operator and names the values accepted.
    pub(crate) fn parse(value: Option<&str>) -> Result<Self, String> {
        let names: Vec<&str> = value
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect();
        if names.is_empty() {
            return Ok(Self::default());
        }
        let mut chosen = Self {
            trace_context: false,
            baggage: false,
        };
        for name in &names {
            match *name {
                "tracecontext" => chosen.trace_context = true,
                "baggage" => chosen.baggage = true,
                "none" if names.len() == 1 => {}
                "none" => {
                    return Err(format!(
                        "none cannot be combined with other propagators, got {:?}",
                        names.join(",")
                    ))
                }
                other if NOT_BUILT_IN.contains(&other) => {
                    return Err(format!(
                        "the {other} propagator is not built in; this build supports tracecontext, baggage and none"
                    ))
                }
                other => {
                    return Err(format!(
                        "unknown propagator {other:?}; expected tracecontext, baggage or none (comma-separated)"
                    ))
                }
            }
        }
        Ok(chosen)
    }

    fn is_none(&self) -> bool {
        !self.trace_context && !self.baggage
    }

    fn composite(&self) -> TextMapCompositePropagator {
        let mut list: Vec<Box<dyn TextMapPropagator + Send + Sync>> = Vec::new();
        if self.trace_context {
            list.push(Box::new(TraceContextPropagator::new()));
        }
        if self.baggage {
            list.push(Box::new(BaggagePropagator::new()));
        }
        TextMapCompositePropagator::new(list)
    }

    /// Makes this set the process's global propagator (what other instrumentation reads).
    pub(crate) fn install_global(&self) {
        opentelemetry::global::set_text_map_propagator(self.composite());
    }
}

/// The propagators of one handle, shared by its middleware and its traced clients.
pub(crate) struct Propagation {
    /// `None` for `OTEL_PROPAGATORS=none`: nothing is read or written, not even parsed.
    propagator: Option<TextMapCompositePropagator>,
}

impl fmt::Debug for Propagation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields = self
            .propagator
            .as_ref()
            .map(|p| p.fields().collect::<Vec<_>>())
            .unwrap_or_default();
        f.debug_struct("Propagation")
            .field("fields", &fields)
            .finish()
    }
}

impl Propagation {
    pub(crate) fn new(propagators: Propagators) -> Self {
        Self {
            propagator: (!propagators.is_none()).then(|| propagators.composite()),
        }
    }

    /// The context carried by an incoming request's headers (`traceparent`, `baggage`, … as
    /// configured); `None` when propagation is off.
    pub(crate) fn extract(
        &self,
        headers: &actix_web::http::header::HeaderMap,
    ) -> Option<opentelemetry::Context> {
        self.propagator
            .as_ref()
            .map(|p| p.extract(&ActixHeaders(headers)))
    }

    /// Writes `span`'s context into an outgoing request's headers: for a span of an unsampled
    /// request, the context that request propagates (sampled flag off), so the callee drops it
    /// too. Without the OpenTelemetry layer (`OTEL_SDK_DISABLED=true`) the context is empty
    /// and nothing is written.
    pub(crate) fn inject(&self, span: &tracing::Span, headers: &mut reqwest::header::HeaderMap) {
        if let Some(p) = &self.propagator {
            let cx = crate::sampling::not_recorded_context(span).unwrap_or_else(|| span.context());
            p.inject_context(&cx, &mut ReqwestHeaders(headers));
        }
    }
}

pub(crate) struct ActixHeaders<'a>(pub(crate) &'a actix_web::http::header::HeaderMap);

/// The headers the built-in propagators read, named once: looking a header up by `&str` parses
/// and lower-cases the name on every call (≈ 700 instructions each, three per request).
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
const BAGGAGE: HeaderName = HeaderName::from_static("baggage");

impl Extractor for ActixHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        let value = match key {
            "traceparent" => self.0.get(&TRACEPARENT),
            "tracestate" => self.0.get(&TRACESTATE),
            "baggage" => self.0.get(&BAGGAGE),
            other => self.0.get(other),
        };
        value.and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

struct ReqwestHeaders<'a>(&'a mut reqwest::header::HeaderMap);

impl Injector for ReqwestHeaders<'_> {
    fn set(&mut self, key: &str, value: String) {
        use reqwest::header::{HeaderName, HeaderValue};
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Propagators;

    fn parse(v: &str) -> Result<Propagators, String> {
        Propagators::parse(Some(v))
    }

    #[test]
    fn default_is_tracecontext_and_baggage() {
        assert_eq!(Propagators::parse(None), Ok(Propagators::default()));
        assert_eq!(parse(""), Ok(Propagators::default()));
        assert_eq!(parse(" , "), Ok(Propagators::default()));
        assert_eq!(parse("tracecontext,baggage"), Ok(Propagators::default()));
        assert_eq!(
            parse(" baggage , tracecontext "),
            Ok(Propagators::default())
        );
    }

    #[test]
    fn each_propagator_alone_and_none() {
        let tc = parse("tracecontext").unwrap();
        assert!(tc.trace_context && !tc.baggage);
        let b = parse("baggage,baggage").unwrap();
        assert!(!b.trace_context && b.baggage, "duplicates count once");
        assert_eq!(parse("none"), Ok(Propagators::NONE));
        assert!(parse("none").unwrap().is_none());
    }

    #[test]
    fn other_specification_names_are_not_built_in() {
        for name in ["b3", "b3multi", "jaeger", "xray", "ottrace"] {
            let err = parse(&format!("tracecontext,{name}")).unwrap_err();
            assert!(err.contains(name) && err.contains("not built in"), "{err}");
        }
    }

    #[test]
    fn unknown_names_and_none_with_others_are_refused() {
        let err = parse("tracecontext,w3c").unwrap_err();
        assert!(err.contains("unknown propagator \"w3c\""), "{err}");
        assert!(parse("TraceContext").is_err(), "names are lower case");
        let err = parse("none,baggage").unwrap_err();
        assert!(err.contains("none cannot be combined"), "{err}");
    }
}
