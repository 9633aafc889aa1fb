//! [`HandoffIds`]: the tracer provider's id generator, which takes the trace id the request
//! middleware already drew for its sampling decision.
//!
//! The middleware decides whether a request is sampled before its root span exists, and for a
//! new trace that decision is a function of the trace id (`traceidratio`). For a sampled root,
//! the SDK then starts the span and runs the same sampler again; handing it the same trace id
//! makes it reach the same decision, and keeps the ratio sampler's promise that every service
//! with the same ratio decides the same way for the same trace id. Any other span gets random
//! ids, as from the SDK's own generator.

use std::cell::Cell;

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};

thread_local! {
    static HANDED_OVER: Cell<Option<TraceId>> = const { Cell::new(None) };
}

/// Runs `start` (which starts one root span) with `trace_id` as the trace id the tracer's next
/// root span gets on this thread.
pub(crate) fn with_trace_id<R>(trace_id: TraceId, start: impl FnOnce() -> R) -> R {
    HANDED_OVER.with(|h| h.set(Some(trace_id)));
    let started = start();
    HANDED_OVER.with(|h| h.set(None));
    started
}

/// Random ids, except for the trace id handed over by [`with_trace_id`].
#[derive(Debug, Default)]
pub(crate) struct HandoffIds {
    random: RandomIdGenerator,
}

impl IdGenerator for HandoffIds {
    fn new_trace_id(&self) -> TraceId {
        HANDED_OVER
            .with(Cell::take)
            .unwrap_or_else(|| self.random.new_trace_id())
    }

    fn new_span_id(&self) -> SpanId {
        self.random.new_span_id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handed_over_trace_id_is_used_once() {
        let ids = HandoffIds::default();
        let wanted = TraceId::from_bytes([7; 16]);
        let (first, second) = with_trace_id(wanted, || (ids.new_trace_id(), ids.new_trace_id()));
        assert_eq!(first, wanted);
        assert_ne!(second, wanted);
        assert_ne!(ids.new_trace_id(), wanted, "cleared after the call");
    }
}
