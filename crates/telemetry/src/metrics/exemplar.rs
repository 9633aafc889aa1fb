//! What an exemplar links to ([`SpanIds`]) and where an observation's exemplar comes from
//! ([`Exemplar`]).
//!
//! The rule that holds everywhere: an exemplar is only ever the span of a valid, **sampled**
//! span context. An unsampled span has real ids too, but its trace is never stored, and an
//! exemplar pointing at it would be a dead link in Grafana. [`SpanIds`] can only be obtained
//! from such a span, so every value of it satisfies the rule.

use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceId};
use opentelemetry::KeyValue;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The attribute a request's local root span carries once one of the request's observations has
/// become a histogram bucket's exemplar. The Collector's tail sampler keeps every trace with it
/// (`infra/otel-collector/config.yaml`), so an exemplar never links to a trace sampled away.
pub const EXEMPLAR_ATTRIBUTE: &str = "webstore.exemplar";

/// The trace and span of a sampled span: what an exemplar links to. Fixed size and `Copy`, so
/// attaching one allocates nothing.
///
/// The one way to get it is [`SpanIds::current`]; the traced HTTP client also hands out the ids
/// of its client spans (`ClientResponse::span_ids`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanIds {
    trace_id: TraceId,
    span_id: SpanId,
}

impl SpanIds {
    /// The span entered on this thread, when it is sampled: a thread-local read, a few
    /// nanoseconds, no allocation.
    ///
    /// `tracing-opentelemetry` makes a span's OpenTelemetry context the active one whenever the
    /// `tracing` span is entered, so inside a request handler, an `.instrument()`ed future or
    /// `span.in_scope(SpanIds::current)` this is that span. `None` outside any span, inside an
    /// unsampled one, and when spans are off (`OTEL_SDK_DISABLED=true`).
    pub fn current() -> Option<Self> {
        opentelemetry::Context::map_current(|cx| Self::from_context(cx.span().span_context()))
    }

    /// The trace id (32 lower-case hex digits when displayed).
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The span id (16 lower-case hex digits when displayed).
    pub fn span_id(&self) -> SpanId {
        self.span_id
    }

    /// `Some` only for a valid, sampled context.
    pub(crate) fn from_context(cx: &SpanContext) -> Option<Self> {
        (cx.is_valid() && cx.is_sampled()).then(|| Self {
            trace_id: cx.trace_id(),
            span_id: cx.span_id(),
        })
    }

    /// The ids of a `tracing` span through the OpenTelemetry layer, entered or not (≈160 ns:
    /// call it rarely).
    pub(crate) fn of_span(span: &tracing::Span) -> Option<Self> {
        let cx = span.context();
        let ids = Self::from_context(cx.span().span_context());
        ids
    }

    /// Ids read back from an exemplar slot, which only ever stores ids that were a `SpanIds`.
    pub(crate) fn from_stored(trace_id: TraceId, span_id: SpanId) -> Self {
        Self { trace_id, span_id }
    }
}

/// Registry extension: this local root span already carries [`EXEMPLAR_ATTRIBUTE`].
struct ExemplarMarked;

/// Marks the local root span of the request the exemplar `ids` was just taken in: the request
/// middleware's server span around the current span, when it is sampled and belongs to the
/// exemplar's trace. Runs only when an observation becomes an exemplar, and sets the attribute
/// once per request; does nothing outside a request. Finding the root through the registry's
/// parent links costs nothing on requests that take no exemplar, unlike a value carried in
/// every request's OpenTelemetry context.
pub(crate) fn mark_current_root(ids: SpanIds) {
    use tracing_subscriber::registry::LookupSpan;
    tracing::dispatcher::get_default(|dispatch| {
        let Some(registry) = dispatch.downcast_ref::<tracing_subscriber::Registry>() else {
            return;
        };
        let Some(current) = dispatch.current_span().id().cloned() else {
            return;
        };
        let Some(span) = registry.span(&current) else {
            return;
        };
        for ancestor in span.scope().from_root() {
            if !crate::request_span::is_request_root(ancestor.metadata()) {
                continue;
            }
            if ancestor.extensions().get::<ExemplarMarked>().is_some() {
                return;
            }
            // Not while holding its extensions: this takes them.
            let Some(cx) = tracing_opentelemetry::get_otel_context(&ancestor.id(), dispatch) else {
                continue;
            };
            let otel_span = cx.span();
            let sc = otel_span.span_context();
            if sc.is_sampled() && sc.trace_id() == ids.trace_id {
                ancestor.extensions_mut().insert(ExemplarMarked);
                otel_span.set_attribute(KeyValue::new(EXEMPLAR_ATTRIBUTE, true));
                return;
            }
        }
    });
}

/// Where an observation's exemplar comes from: the argument of `Histogram::observe`.
///
/// Read only when the bucket takes an exemplar (about `ln n` of a bucket's `n` observations per
/// scrape interval), so naming a span costs nothing on the other observations.
#[derive(Debug, Clone, Copy)]
pub enum Exemplar<'a> {
    /// The span entered on this thread ([`SpanIds::current`]): a request handler's span, or an
    /// instrumented future's.
    CurrentSpan,
    /// A given span, entered or not (say, a span that timed the work and has been closed since).
    Span(&'a tracing::Span),
    /// Ids taken earlier (say, of the client span that timed an outgoing call).
    Ids(SpanIds),
    /// No exemplar for this observation.
    None,
}

/// `None` is [`Exemplar::None`]: what the traced client's `span_ids` gives when its span was not
/// sampled.
impl From<Option<SpanIds>> for Exemplar<'_> {
    fn from(ids: Option<SpanIds>) -> Self {
        ids.map_or(Self::None, Self::Ids)
    }
}

/// An exemplar as a bucket keeps it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Sample {
    pub ids: SpanIds,
    pub value: f64,
    /// When it was taken, in nanoseconds since the Unix epoch.
    pub at_nanos: u64,
}

/// Nanoseconds since the Unix epoch (0 before it).
pub(crate) fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{TraceFlags, TraceState};

    fn context(n: u8, sampled: bool) -> SpanContext {
        SpanContext::new(
            TraceId::from_bytes([n; 16]),
            SpanId::from_bytes([n; 8]),
            if sampled {
                TraceFlags::SAMPLED
            } else {
                TraceFlags::default()
            },
            true,
            TraceState::default(),
        )
    }

    #[test]
    fn only_sampled_contexts_give_ids() {
        assert!(SpanIds::from_context(&context(1, false)).is_none());
        assert!(SpanIds::from_context(&SpanContext::empty_context()).is_none());
        assert_eq!(
            SpanIds::from_context(&context(2, true)).map(|i| i.trace_id()),
            Some(TraceId::from_bytes([2; 16]))
        );
    }

    #[test]
    fn no_span_no_ids() {
        assert_eq!(SpanIds::current(), None);
        assert_eq!(SpanIds::of_span(&tracing::Span::none()), None);
    }

    #[test]
    fn optional_ids_are_an_exemplar_or_none() {
        assert!(matches!(Exemplar::from(None), Exemplar::None));
        let ids = SpanIds::from_context(&context(3, true));
        assert!(matches!(Exemplar::from(ids), Exemplar::Ids(i) if Some(i) == ids));
    }
}
