//! A histogram whose buckets each keep one exemplar: the trace and span that produced a value.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceId};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The ids an exemplar links to. Fixed size: attaching one allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanIds {
    pub trace_id: TraceId,
    pub span_id: SpanId,
}

impl SpanIds {
    /// `Some` only for a valid, sampled context: an unsampled span has real ids too, but its
    /// trace is never stored, and an exemplar pointing at it would be a dead link.
    pub fn from_context(cx: &SpanContext) -> Option<Self> {
        (cx.is_valid() && cx.is_sampled()).then(|| Self {
            trace_id: cx.trace_id(),
            span_id: cx.span_id(),
        })
    }

    /// The ids of a `tracing` span, through the OpenTelemetry layer (≈160 ns: call it rarely).
    pub fn of_span(span: &tracing::Span) -> Option<Self> {
        let cx = span.context();
        let ids = Self::from_context(cx.span().span_context());
        ids
    }

    pub fn current() -> Option<Self> {
        Self::of_span(&tracing::Span::current())
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Exemplar {
    pub ids: SpanIds,
    pub value: f64,
    pub at: SystemTime,
}

#[derive(Debug, Default)]
struct ExemplarSlot {
    /// The scrape epoch in which this slot was last filled; equal to the histogram's epoch
    /// means "fresh, don't look at the span context again until the next scrape".
    filled_in: AtomicU64,
    exemplar: Mutex<Option<Exemplar>>,
}

/// A cumulative histogram with fixed bucket bounds and one exemplar per bucket.
#[derive(Debug)]
pub struct Histogram {
    bounds: Box<[f64]>,
    /// One per bound plus the +Inf bucket; not cumulative (summed at encode time).
    counts: Box<[AtomicU64]>,
    sum_bits: AtomicU64,
    exemplars: Box<[ExemplarSlot]>,
    /// Bumped by every scrape; starts at 1 so that fresh slots (0) are stale.
    epoch: AtomicU64,
}

impl Histogram {
    pub fn new(bounds: &[f64]) -> Self {
        let mut b: Vec<f64> = bounds.iter().copied().filter(|b| b.is_finite()).collect();
        b.sort_by(f64::total_cmp);
        b.dedup();
        let n = b.len() + 1;
        Self {
            bounds: b.into_boxed_slice(),
            counts: (0..n).map(|_| AtomicU64::new(0)).collect(),
            sum_bits: AtomicU64::new(0f64.to_bits()),
            exemplars: (0..n).map(|_| ExemplarSlot::default()).collect(),
            epoch: AtomicU64::new(1),
        }
    }

    /// Records `value`; the exemplar, when the bucket needs one, comes from the current span.
    pub fn observe(&self, value: f64) {
        self.observe_with(value, SpanIds::current);
    }

    /// Records `value` with the exemplar taken from `span` (e.g. the client span that timed it).
    pub fn observe_in_span(&self, value: f64, span: &tracing::Span) {
        self.observe_with(value, || SpanIds::of_span(span));
    }

    /// Records `value` with explicit ids (`None`: no exemplar for this observation).
    pub fn observe_with_ids(&self, value: f64, ids: Option<SpanIds>) {
        self.observe_with(value, || ids);
    }

    /// The hot path: two relaxed atomic adds, a compare loop for the sum, one relaxed load to
    /// see whether the bucket's exemplar is stale. `ids` runs only when it is.
    pub fn observe_with(&self, value: f64, ids: impl FnOnce() -> Option<SpanIds>) {
        if value.is_nan() {
            return;
        }
        let i = self.bounds.partition_point(|b| *b < value);
        self.counts[i].fetch_add(1, Relaxed);
        let mut old = self.sum_bits.load(Relaxed);
        loop {
            let new = (f64::from_bits(old) + value).to_bits();
            match self
                .sum_bits
                .compare_exchange_weak(old, new, Relaxed, Relaxed)
            {
                Ok(_) => break,
                Err(seen) => old = seen,
            }
        }
        let slot = &self.exemplars[i];
        let epoch = self.epoch.load(Relaxed);
        if slot.filled_in.load(Relaxed) == epoch {
            return;
        }
        let Some(ids) = ids() else { return };
        // try_lock: under contention another thread is filling this very slot; let it.
        if let Ok(mut guard) = slot.exemplar.try_lock() {
            *guard = Some(Exemplar {
                ids,
                value,
                at: SystemTime::now(),
            });
            slot.filled_in.store(epoch, Relaxed);
        }
    }

    pub(crate) fn bounds(&self) -> &[f64] {
        &self.bounds
    }

    /// Reads a consistent-enough snapshot for one scrape and opens the next exemplar epoch.
    pub(crate) fn snapshot(&self, now: SystemTime, max_age: Duration) -> Snapshot {
        let counts: Vec<u64> = self.counts.iter().map(|c| c.load(Relaxed)).collect();
        let exemplars = self
            .exemplars
            .iter()
            .map(|slot| {
                let e = slot
                    .exemplar
                    .lock()
                    .map(|g| *g)
                    .unwrap_or_else(|p| *p.into_inner());
                e.filter(|e| {
                    now.duration_since(e.at)
                        .map(|age| age <= max_age)
                        .unwrap_or(true)
                })
            })
            .collect();
        self.epoch.fetch_add(1, Relaxed);
        Snapshot {
            sum: f64::from_bits(self.sum_bits.load(Relaxed)),
            counts,
            exemplars,
        }
    }

    /// Total number of observations (for tests and callers that want a quick look).
    pub fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Relaxed)).sum()
    }

    pub fn sum(&self) -> f64 {
        f64::from_bits(self.sum_bits.load(Relaxed))
    }
}

pub(crate) struct Snapshot {
    pub sum: f64,
    pub counts: Vec<u64>,
    pub exemplars: Vec<Option<Exemplar>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{TraceFlags, TraceState};

    fn ids(n: u8, sampled: bool) -> SpanContext {
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
    fn values_land_in_their_bucket_with_le_semantics() {
        let h = Histogram::new(&[1.0, 2.0]);
        for v in [0.5, 1.0, 1.5, 2.0, 3.0] {
            h.observe_with_ids(v, None);
        }
        let s = h.snapshot(SystemTime::now(), Duration::from_secs(60));
        assert_eq!(s.counts, vec![2, 2, 1]);
        assert_eq!(s.sum, 8.0);
        assert!(s.exemplars.iter().all(Option::is_none));
    }

    #[test]
    fn only_sampled_contexts_become_exemplars() {
        assert!(SpanIds::from_context(&ids(1, false)).is_none());
        assert!(SpanIds::from_context(&SpanContext::empty_context()).is_none());
        assert_eq!(
            SpanIds::from_context(&ids(2, true)).map(|i| i.trace_id),
            Some(TraceId::from_bytes([2; 16]))
        );
    }

    #[test]
    fn a_bucket_refreshes_its_exemplar_once_per_scrape() {
        let h = Histogram::new(&[1.0]);
        let first = SpanIds::from_context(&ids(1, true));
        let second = SpanIds::from_context(&ids(2, true));
        h.observe_with_ids(0.1, first);
        let mut asked = false;
        h.observe_with(0.2, || {
            asked = true;
            second
        });
        assert!(
            !asked,
            "fresh exemplar: the span context must not be read again"
        );
        let s = h.snapshot(SystemTime::now(), Duration::from_secs(60));
        assert_eq!(s.exemplars[0].map(|e| e.ids), first);
        h.observe_with_ids(0.3, second);
        let s = h.snapshot(SystemTime::now(), Duration::from_secs(60));
        assert_eq!(
            s.exemplars[0].map(|e| (e.ids, e.value)),
            second.map(|i| (i, 0.3))
        );
    }

    #[test]
    fn old_exemplars_are_not_exposed() {
        let h = Histogram::new(&[1.0]);
        h.observe_with_ids(0.1, SpanIds::from_context(&ids(1, true)));
        let later = SystemTime::now() + Duration::from_secs(120);
        assert!(h.snapshot(later, Duration::from_secs(60)).exemplars[0].is_none());
        assert!(h
            .snapshot(SystemTime::now(), Duration::from_secs(60))
            .exemplars[0]
            .is_some());
    }

    #[test]
    fn nan_is_ignored_and_infinity_goes_to_the_last_bucket() {
        let h = Histogram::new(&[1.0]);
        h.observe_with_ids(f64::NAN, None);
        h.observe_with_ids(f64::INFINITY, None);
        assert_eq!(h.count(), 1);
        assert_eq!(
            h.snapshot(SystemTime::now(), Duration::ZERO).counts,
            vec![0, 1]
        );
    }
}
