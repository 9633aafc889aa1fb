//! Head sampling, decided once per request before anything is built for it.
//!
//! The request middleware asks [`RequestSampler::decide`] with the context the request's
//! headers carry, *before* it creates the root span:
//! - **sampled**: the root span goes through `tracing-opentelemetry` as usual, parented on the
//!   incoming context, its trace id handed to the SDK ([`ids`]) so that the SDK's own sampler,
//!   which runs again when the span starts, reaches the same decision;
//! - **not sampled**: the root span is created [`unrecorded`] and the OpenTelemetry layer, wrapped
//!   in [`OnlySampled`], never sees it nor any span below it. The request still has a trace id
//!   and a span id (logs carry them; outgoing calls carry them in `traceparent` with the sampled
//!   flag off, so the services it calls drop it too), and its metrics are recorded as always;
//!   exemplars are never taken from it (they come only from sampled spans).
//!
//! The sampler is the one `OTEL_TRACES_SAMPLER` names, the same the SDK is configured with, so
//! spans started outside any request (none in the services today) follow it too.

mod ids;
mod layer;

use opentelemetry::trace::{
    SpanContext, SpanKind, TraceContextExt, TraceFlags, TraceId, TraceState,
};
use opentelemetry::Context;
use opentelemetry_sdk::trace::{
    IdGenerator, RandomIdGenerator, Sampler, SamplingDecision, ShouldSample,
};

pub(crate) use ids::{with_trace_id, HandoffIds};
pub(crate) use layer::{not_recorded_context, not_recorded_ids, unrecorded, OnlySampled};

/// What the middleware does with one request.
#[derive(Debug)]
pub(crate) enum Decision {
    /// Record it. `new_trace` is the trace id drawn for the decision when the request starts a
    /// trace (no valid incoming parent); hand it to the SDK with [`with_trace_id`].
    Sampled { new_trace: Option<TraceId> },
    /// Build nothing; the request propagates this context (trace and span ids, flags `00`,
    /// the incoming baggage and trace state).
    NotSampled(Context),
}

/// The configured sampler, applied by the middleware.
#[derive(Debug)]
pub(crate) struct RequestSampler {
    sampler: Sampler,
    ids: RandomIdGenerator,
}

impl RequestSampler {
    pub(crate) fn new(sampler: Sampler) -> Self {
        Self {
            sampler,
            ids: RandomIdGenerator::default(),
        }
    }

    /// The decision for a request whose headers carried `parent` (empty when they carried
    /// nothing, or propagation is off).
    pub(crate) fn decide(&self, parent: &Context) -> Decision {
        let remote = parent.span().span_context().clone();
        let (trace_id, new_trace) = if remote.is_valid() {
            (remote.trace_id(), None)
        } else {
            let id = self.ids.new_trace_id();
            (id, Some(id))
        };
        let result =
            self.sampler
                .should_sample(Some(parent), trace_id, "", &SpanKind::Server, &[], &[]);
        match result.decision {
            SamplingDecision::RecordAndSample => Decision::Sampled { new_trace },
            // RecordOnly (never returned by the SDK's samplers) would record spans that are
            // never exported: treated as not sampled.
            SamplingDecision::Drop | SamplingDecision::RecordOnly => {
                let own = SpanContext::new(
                    trace_id,
                    self.ids.new_span_id(),
                    TraceFlags::default(),
                    false,
                    if remote.is_valid() {
                        result.trace_state
                    } else {
                        TraceState::default()
                    },
                );
                Decision::NotSampled(parent.with_remote_span_context(own))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::SpanId;

    use super::*;

    fn remote(sampled: bool) -> Context {
        Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from_bytes([1; 16]),
            SpanId::from_bytes([2; 8]),
            if sampled {
                TraceFlags::SAMPLED
            } else {
                TraceFlags::default()
            },
            true,
            TraceState::default(),
        ))
    }

    fn parent_based_ratio(r: f64) -> RequestSampler {
        RequestSampler::new(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            r,
        ))))
    }

    #[test]
    fn an_incoming_sampled_flag_is_followed() {
        let s = parent_based_ratio(0.0);
        assert!(matches!(
            s.decide(&remote(true)),
            Decision::Sampled { new_trace: None }
        ));
        let Decision::NotSampled(cx) = parent_based_ratio(1.0).decide(&remote(false)) else {
            panic!("an unsampled parent is followed")
        };
        let sc = cx.span().span_context().clone();
        assert_eq!(sc.trace_id(), TraceId::from_bytes([1; 16]), "same trace");
        assert_ne!(sc.span_id(), SpanId::from_bytes([2; 8]), "its own span id");
        assert!(sc.is_valid() && !sc.is_sampled() && !sc.is_remote());
    }

    #[test]
    fn a_new_trace_is_sampled_at_the_ratio_with_the_id_it_was_decided_on() {
        let s = parent_based_ratio(0.1);
        let mut sampled = 0;
        for _ in 0..20_000 {
            match s.decide(&Context::new()) {
                Decision::Sampled {
                    new_trace: Some(id),
                } => {
                    sampled += 1;
                    // The SDK's sampler, given the same id, decides the same.
                    let again = Sampler::TraceIdRatioBased(0.1).should_sample(
                        None,
                        id,
                        "",
                        &SpanKind::Server,
                        &[],
                        &[],
                    );
                    assert_eq!(again.decision, SamplingDecision::RecordAndSample);
                }
                Decision::Sampled { new_trace: None } => panic!("a new trace has a new id"),
                Decision::NotSampled(cx) => assert!(cx.span().span_context().is_valid()),
            }
        }
        assert!((1_600..2_400).contains(&sampled), "{sampled} of 20 000");
    }
}
