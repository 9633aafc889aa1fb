//! A histogram whose buckets each keep one exemplar: the trace and span that produced a value.
//!
//! # The hot path
//! [`Histogram::observe`] is two relaxed atomic adds (bucket, sum), two relaxed loads of the
//! bucket's exemplar state and a compare: no allocation, no lock, no thread-local, no hash. Only
//! for the few observations the exemplar rule below picks does it read the span context and
//! write the exemplar slot. Measured in `benches/histogram.rs`; the figures are in
//! `docs/BENCHMARKS.md`.
//!
//! # Which observation becomes the exemplar
//! Per bucket and per scrape interval (the time between two [`Registry::encode`] calls), a
//! reservoir of size one: the `n`-th observation of the interval replaces the bucket's exemplar
//! with probability `1/n`, so at scrape time the exemplar is a **uniformly sampled** observation
//! of the interval. The span context is read for about `ln(n)` of `n` observations. Instead of
//! flipping a coin per observation, each pick draws the position of the next one (after the
//! `n`-th, the next pick is the `j`-th with `P(j > m) = n/m`: `j = ⌊n/U⌋ + 1` for `U` uniform in
//! `(0, 1]`), so the observations in between cost one compare.
//!
//! Only a valid, **sampled** span context becomes an exemplar. When the rule picks an observation
//! without one, the slot waits for the next sampled observation instead (and the first sampled
//! observation after each scrape always takes the slot), so a bucket that saw a sampled
//! observation in an interval has an exemplar from that interval. With 100 % sampling the pick is
//! exactly uniform; with head sampling it is uniform among the sampled observations up to the
//! random gaps between them.
//!
//! A bucket that sees nothing sampled in an interval keeps its previous exemplar, which the
//! encoder stops exposing once it is older than `EXEMPLAR_MAX_AGE`.
//!
//! [`Registry::encode`]: super::registry::Registry::encode

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{fence, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::trace::{SpanId, TraceId};

use super::exemplar::{mark_current_root, unix_nanos, Exemplar, Sample, SpanIds};
use super::text;

use Ordering::{Acquire, Relaxed, Release};

/// Set in [`ExemplarSlot::state`]: the next sampled observation takes the slot.
const WANTED: u64 = 1 << 63;

/// One bucket's exemplar: a seqlock over plain words, so that writers never block or allocate
/// and a scrape never blocks a writer.
///
/// Under races (two threads picked at once, a scrape in the middle of an observation) the
/// bookkeeping is approximate — a pick may be skipped or added — never unsafe or torn.
#[derive(Debug)]
struct ExemplarSlot {
    /// Low 63 bits: the bucket's count when the current scrape interval began, so that
    /// `count - start` numbers the observations of the interval. Top bit: [`WANTED`].
    state: AtomicU64,
    /// Unless [`WANTED`]: the bucket count (before increment) of the interval's next pick.
    next: AtomicU64,
    /// Even: stable (0: never written); odd: a writer is in the middle of an update.
    seq: AtomicU64,
    trace_hi: AtomicU64,
    trace_lo: AtomicU64,
    span_id: AtomicU64,
    value_bits: AtomicU64,
    /// Nanoseconds since the Unix epoch.
    at_nanos: AtomicU64,
}

impl Default for ExemplarSlot {
    fn default() -> Self {
        Self {
            state: AtomicU64::new(WANTED),
            next: AtomicU64::new(0),
            seq: AtomicU64::new(0),
            trace_hi: AtomicU64::new(0),
            trace_lo: AtomicU64::new(0),
            span_id: AtomicU64::new(0),
            value_bits: AtomicU64::new(0),
            at_nanos: AtomicU64::new(0),
        }
    }
}

impl ExemplarSlot {
    /// Writes the exemplar unless another thread is writing this very slot (then that one wins:
    /// either is a fair pick). Returns whether it wrote.
    fn try_store(&self, ids: SpanIds, value: f64) -> bool {
        let seq = self.seq.load(Relaxed);
        if seq & 1 == 1
            || self
                .seq
                .compare_exchange(seq, seq.wrapping_add(1), Acquire, Relaxed)
                .is_err()
        {
            return false;
        }
        // The odd sequence number is visible before any of the words below change.
        fence(Release);
        let trace = u128::from_be_bytes(ids.trace_id().to_bytes());
        let at = unix_nanos(SystemTime::now());
        self.trace_hi.store((trace >> 64) as u64, Relaxed);
        self.trace_lo.store(trace as u64, Relaxed);
        self.span_id
            .store(u64::from_be_bytes(ids.span_id().to_bytes()), Relaxed);
        self.value_bits.store(value.to_bits(), Relaxed);
        self.at_nanos.store(at, Relaxed);
        self.seq.store(seq.wrapping_add(2), Release);
        true
    }

    /// A consistent copy of the exemplar; `None` if never written, or if writers kept it busy
    /// for every attempt (the next scrape will see it).
    fn load(&self) -> Option<Sample> {
        for _ in 0..64 {
            let before = self.seq.load(Acquire);
            if before == 0 {
                return None;
            }
            if before & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let hi = self.trace_hi.load(Relaxed);
            let lo = self.trace_lo.load(Relaxed);
            let span = self.span_id.load(Relaxed);
            let value = self.value_bits.load(Relaxed);
            let at = self.at_nanos.load(Relaxed);
            fence(Acquire);
            if self.seq.load(Relaxed) == before {
                let trace = (u128::from(hi) << 64) | u128::from(lo);
                return Some(Sample {
                    ids: SpanIds::from_stored(
                        TraceId::from_bytes(trace.to_be_bytes()),
                        SpanId::from_bytes(span.to_be_bytes()),
                    ),
                    value: f64::from_bits(value),
                    at_nanos: at,
                });
            }
        }
        None
    }
}

/// Bucket bounds and their `le` label values, rendered once and shared by every child of a
/// family.
#[derive(Debug)]
pub(crate) struct Bounds {
    values: Box<[f64]>,
    /// One per bound plus `+Inf`.
    le: Box<[Box<str>]>,
}

impl Bounds {
    pub(crate) fn new(bounds: &[f64]) -> Self {
        let mut b: Vec<f64> = bounds.iter().copied().filter(|b| b.is_finite()).collect();
        b.sort_by(f64::total_cmp);
        b.dedup();
        let le = b
            .iter()
            .map(|v| {
                let mut s = String::new();
                text::float(&mut s, *v);
                s.into_boxed_str()
            })
            .chain(std::iter::once(Box::from("+Inf")))
            .collect();
        Self {
            values: b.into_boxed_slice(),
            le,
        }
    }

    pub(crate) fn le(&self) -> &[Box<str>] {
        &self.le
    }

    /// The finite bounds, ascending, as buckets are counted.
    pub(crate) fn values(&self) -> &[f64] {
        &self.values
    }
}

/// A cumulative histogram with fixed bucket bounds and one exemplar per bucket.
#[derive(Debug)]
pub struct Histogram {
    /// The bucket bounds, kept inline (a copy per child) so the hot path's search reads one
    /// pointer less than through `bounds`.
    values: Box<[f64]>,
    bounds: Arc<Bounds>,
    /// One per bound plus the +Inf bucket; not cumulative (summed at encode time).
    counts: Box<[AtomicU64]>,
    sum_bits: AtomicU64,
    exemplars: Box<[ExemplarSlot]>,
    /// Keys the draws of the next pick, so that histograms do not pick in lockstep.
    seed: u64,
}

impl Histogram {
    #[cfg(test)]
    pub(crate) fn new(bounds: &[f64]) -> Self {
        Self::with_bounds(Arc::new(Bounds::new(bounds)))
    }

    pub(crate) fn with_bounds(bounds: Arc<Bounds>) -> Self {
        let n = bounds.values.len() + 1;
        // RandomState's keys are random per process and differ per instance: a seed without a
        // rand dependency.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(n);
        Self {
            values: bounds.values.clone(),
            counts: (0..n).map(|_| AtomicU64::new(0)).collect(),
            sum_bits: AtomicU64::new(0f64.to_bits()),
            exemplars: (0..n).map(|_| ExemplarSlot::default()).collect(),
            seed: h.finish(),
            bounds,
        }
    }

    /// Records `value`. `exemplar` says which span the bucket's exemplar links to, should the
    /// bucket take this observation as its exemplar; it is read only then (see the module
    /// docs), so [`Exemplar::CurrentSpan`] or [`Exemplar::Span`] cost nothing on the other
    /// observations. Allocation-free whatever the source (`tests/zero_alloc.rs`).
    ///
    /// When the observation does become the bucket's exemplar inside a sampled request's span,
    /// the request's local root span is marked `webstore.exemplar = true`, once per request, so
    /// that a tail sampler keeps the trace the exemplar links to (see
    /// [`super::exemplar::mark_current_root`]).
    #[inline]
    pub fn observe(&self, value: f64, exemplar: Exemplar<'_>) {
        // One instance of the hot path per source (and the match folded away where the source
        // is a constant, as at most call sites), not a match inside it on every observation
        // that consults the source: measurably cheaper when that is every observation (no
        // sampled span around).
        let taken = match exemplar {
            Exemplar::CurrentSpan => self.observe_with(value, SpanIds::current),
            Exemplar::Span(span) => self.observe_with(value, || SpanIds::of_span(span)),
            Exemplar::Ids(ids) => self.observe_with(value, || Some(ids)),
            Exemplar::None => self.observe_with(value, || None),
        };
        if let Some(ids) = taken {
            mark_current_root(ids);
        }
    }

    /// The hot path: two relaxed atomic adds, a compare loop for the sum, two relaxed loads of
    /// the bucket's exemplar state and a compare. `ids` runs only when the bucket wants an
    /// exemplar or this observation is the interval's next pick (see the module docs).
    ///
    /// [`Histogram::observe`] for callers; the request middleware calls this directly with the
    /// span context it has already looked up. Returns the ids it stored as the bucket's
    /// exemplar, if it took this observation as one.
    #[must_use = "an exemplar taken inside a request marks its local root"]
    pub(crate) fn observe_with(
        &self,
        value: f64,
        ids: impl FnOnce() -> Option<SpanIds>,
    ) -> Option<SpanIds> {
        if value.is_nan() {
            return None;
        }
        let i = self.values.partition_point(|b| *b < value);
        let before = self.counts[i].fetch_add(1, Relaxed);
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
        let state = slot.state.load(Relaxed);
        let wanted = state & WANTED != 0;
        if !wanted && before < slot.next.load(Relaxed) {
            return None;
        }
        match ids() {
            Some(ids) => {
                if !slot.try_store(ids, value) {
                    return None;
                }
                // This is the interval's `nth` observation (1-based; wrapping, because a
                // scrape racing with this observation may have moved `start` past it).
                let start = state & !WANTED;
                let nth = before.wrapping_sub(start).wrapping_add(1);
                let next = start.saturating_add(next_pick_after(nth, self.seed ^ before));
                slot.next.store(next, Relaxed);
                if wanted {
                    slot.state.fetch_and(!WANTED, Relaxed);
                }
                Some(ids)
            }
            None => {
                if !wanted {
                    slot.state.fetch_or(WANTED, Relaxed);
                }
                None
            }
        }
    }

    pub(crate) fn bounds(&self) -> &Bounds {
        &self.bounds
    }

    /// Number of buckets, `+Inf` included.
    pub(crate) fn buckets(&self) -> usize {
        self.counts.len()
    }

    /// For one scrape: bucket `i`'s count (not cumulative) and its exemplar unless it was taken
    /// before `not_before` (Unix nanoseconds: the scrape's time minus `EXEMPLAR_MAX_AGE`); then
    /// opens bucket `i`'s next interval.
    pub(crate) fn scrape_bucket(&self, i: usize, not_before: u64) -> (u64, Option<Sample>) {
        let count = self.counts[i].load(Relaxed);
        let slot = &self.exemplars[i];
        let exemplar = slot.load().filter(|e| e.at_nanos >= not_before);
        slot.next.store(count, Relaxed);
        slot.state.store((count & !WANTED) | WANTED, Relaxed);
        (count, exemplar)
    }

    /// Total number of observations.
    #[cfg(test)]
    pub(crate) fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Relaxed)).sum()
    }

    pub(crate) fn sum(&self) -> f64 {
        f64::from_bits(self.sum_bits.load(Relaxed))
    }
}

/// After the `n`-th observation of an interval was picked, how many observations of the
/// interval come before the next pick: `⌊n / U⌋` with `U` uniform in `(0, 1]`, drawn from a hash
/// of `x` (SplitMix64's finaliser). The next pick is then the `j`-th with `P(j > m) = n / m`,
/// exactly the chance that none of the observations `n+1 … m` replaces the `n`-th in a
/// reservoir of one.
fn next_pick_after(n: u64, x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    // 53 random bits: U in (0, 1].
    let u = ((z >> 11) + 1) as f64 / (1u64 << 53) as f64;
    let after = n.max(1) as f64 / u;
    if after >= u64::MAX as f64 {
        u64::MAX
    } else {
        after as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanContext, TraceFlags, TraceState};
    use std::time::Duration;

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

    fn numbered(n: u64) -> Option<SpanIds> {
        let mut t = [0u8; 16];
        t[8..].copy_from_slice(&(n + 1).to_be_bytes());
        Some(SpanIds::from_stored(
            TraceId::from_bytes(t),
            SpanId::from_bytes((n + 1).to_be_bytes()),
        ))
    }

    fn id_number(ids: SpanIds) -> u64 {
        u64::from_be_bytes(ids.span_id().to_bytes()) - 1
    }

    struct Scrape {
        counts: Vec<u64>,
        exemplars: Vec<Option<Sample>>,
    }

    fn scrape(h: &Histogram, now: SystemTime, max_age: Duration) -> Scrape {
        let not_before = unix_nanos(now).saturating_sub(max_age.as_nanos() as u64);
        let (counts, exemplars) = (0..h.buckets())
            .map(|i| h.scrape_bucket(i, not_before))
            .unzip();
        Scrape { counts, exemplars }
    }

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn values_land_in_their_bucket_with_le_semantics() {
        let h = Histogram::new(&[1.0, 2.0]);
        for v in [0.5, 1.0, 1.5, 2.0, 3.0] {
            h.observe(v, Exemplar::None);
        }
        let s = scrape(&h, SystemTime::now(), MINUTE);
        assert_eq!(s.counts, vec![2, 2, 1]);
        assert_eq!(h.sum(), 8.0);
        assert!(s.exemplars.iter().all(Option::is_none));
    }

    #[test]
    fn each_exemplar_source_names_its_span() {
        use opentelemetry::trace::TracerProvider as _;
        use tracing_subscriber::layer::SubscriberExt;
        // Spans with real, sampled ids (the SDK's default sampler) and nowhere to go.
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        let _default = tracing::subscriber::set_default(subscriber);
        let (current, other) = (tracing::info_span!("current"), tracing::info_span!("other"));
        let _entered = current.enter();
        let current_ids = SpanIds::current().expect("the entered span is sampled");
        let other_ids = other.in_scope(SpanIds::current).expect("sampled too");
        assert_ne!(current_ids, other_ids);
        for (exemplar, expected) in [
            (Exemplar::CurrentSpan, Some(current_ids)),
            (Exemplar::Span(&other), Some(other_ids)),
            (Exemplar::Ids(other_ids), Some(other_ids)),
            (Exemplar::None, None),
        ] {
            let h = Histogram::new(&[1.0]);
            h.observe(0.5, exemplar);
            let taken = scrape(&h, SystemTime::now(), MINUTE).exemplars[0].map(|e| e.ids);
            assert_eq!(taken, expected, "{exemplar:?}");
        }
    }

    #[test]
    fn the_first_sampled_observation_after_a_scrape_takes_the_slot() {
        let h = Histogram::new(&[1.0]);
        let first = SpanIds::from_context(&ids(1, true));
        let second = SpanIds::from_context(&ids(2, true));
        h.observe(0.1, first.into());
        let s = scrape(&h, SystemTime::now(), MINUTE);
        assert_eq!(
            s.exemplars[0].map(|e| (e.ids, e.value)),
            first.map(|i| (i, 0.1))
        );
        // Unsampled observations first: the slot waits for the sampled one.
        for _ in 0..5 {
            h.observe(0.2, Exemplar::None);
        }
        h.observe(0.3, second.into());
        let s = scrape(&h, SystemTime::now(), MINUTE);
        assert_eq!(
            s.exemplars[0].map(|e| (e.ids, e.value)),
            second.map(|i| (i, 0.3))
        );
        // Nothing sampled since: the previous exemplar stays (until it is too old).
        h.observe(0.4, Exemplar::None);
        let s = scrape(&h, SystemTime::now(), MINUTE);
        assert_eq!(s.exemplars[0].map(|e| e.ids), second);
    }

    #[test]
    fn the_span_context_is_read_about_ln_n_times_per_interval() {
        let h = Histogram::new(&[1.0]);
        let mut reads = 0;
        for n in 0..10_000 {
            let _ = h.observe_with(0.5, || {
                reads += 1;
                numbered(n)
            });
        }
        // Expected H(10 000) ≈ 9.8, standard deviation ≈ 2.9.
        assert!((1..60).contains(&reads), "{reads} reads");
        let picked = scrape(&h, SystemTime::now(), MINUTE).exemplars[0].unwrap();
        assert_eq!(picked.value, 0.5);
        // The next interval starts over: its first observation is read for sure.
        let mut read = false;
        let _ = h.observe_with(0.5, || {
            read = true;
            None
        });
        assert!(read);
    }

    #[test]
    fn the_exemplar_is_a_uniform_pick_of_the_interval() {
        const N: u64 = 8;
        const TRIALS: usize = 4_000;
        let mut picked = [0usize; N as usize];
        for _ in 0..TRIALS {
            let h = Histogram::new(&[1.0]);
            for n in 0..N {
                h.observe(0.5, numbered(n).into());
            }
            let e = scrape(&h, SystemTime::now(), MINUTE).exemplars[0].unwrap();
            picked[id_number(e.ids) as usize] += 1;
        }
        // Each position expects 500 picks, standard deviation ≈ 21: 6σ bounds never trip.
        for (n, count) in picked.iter().enumerate() {
            assert!((375..=625).contains(count), "position {n}: {picked:?}");
        }
    }

    #[test]
    fn an_unsampled_pick_hands_the_slot_to_the_next_sampled_observation() {
        let h = Histogram::new(&[1.0]);
        let mut handed_over = 0;
        for trial in 0..200u64 {
            let (a, b) = (2 * trial, 2 * trial + 1);
            // A sampled observation, 49 unsampled ones, another sampled one. The coin picks one
            // of the unsampled ones with probability 1 - 1/50; the slot then waits for `b`.
            h.observe(0.5, numbered(a).into());
            for _ in 0..49 {
                h.observe(0.5, Exemplar::None);
            }
            h.observe(0.5, numbered(b).into());
            let e = scrape(&h, SystemTime::now(), MINUTE).exemplars[0].unwrap();
            let n = id_number(e.ids);
            assert!(
                n == a || n == b,
                "exemplars come only from sampled observations"
            );
            handed_over += usize::from(n == b);
        }
        // Expected ≈ 196 of 200.
        assert!(handed_over > 170, "{handed_over} of 200");
    }

    #[test]
    fn old_exemplars_are_not_exposed() {
        let h = Histogram::new(&[1.0]);
        h.observe(0.1, SpanIds::from_context(&ids(1, true)).into());
        let later = SystemTime::now() + Duration::from_secs(120);
        assert!(scrape(&h, later, MINUTE).exemplars[0].is_none());
        assert!(scrape(&h, SystemTime::now(), MINUTE).exemplars[0].is_some());
    }

    #[test]
    fn exemplar_round_trips_through_the_slot() {
        let h = Histogram::new(&[1.0]);
        let cx = SpanContext::new(
            TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap(),
            SpanId::from_hex("b7ad6b7169203331").unwrap(),
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        );
        let before = SystemTime::now();
        h.observe(0.25, SpanIds::from_context(&cx).into());
        let e = scrape(&h, SystemTime::now(), MINUTE).exemplars[0].unwrap();
        assert_eq!(e.ids.trace_id(), cx.trace_id());
        assert_eq!(e.ids.span_id(), cx.span_id());
        assert_eq!(e.value, 0.25);
        assert!(e.at_nanos >= unix_nanos(before) && e.at_nanos <= unix_nanos(SystemTime::now()));
    }

    #[test]
    fn concurrent_writers_and_scrapes_see_whole_exemplars() {
        let h = Arc::new(Histogram::new(&[1.0]));
        let writers: Vec<_> = (0..4u64)
            .map(|t| {
                let h = Arc::clone(&h);
                std::thread::spawn(move || {
                    for n in 0..20_000 {
                        let id = t * 100_000 + n;
                        h.observe(id as f64 / 1e9, numbered(id).into());
                    }
                })
            })
            .collect();
        for _ in 0..2_000 {
            if let Some(e) = scrape(&h, SystemTime::now(), MINUTE).exemplars[0] {
                let n = id_number(e.ids);
                let trace_n =
                    u64::from_be_bytes(e.ids.trace_id().to_bytes()[8..].try_into().unwrap());
                assert_eq!(trace_n, n + 1, "trace and span ids from one write");
                assert_eq!(e.value, n as f64 / 1e9, "value from the same write");
            }
        }
        for w in writers {
            w.join().unwrap();
        }
        assert_eq!(h.count(), 80_000);
    }

    #[test]
    fn nan_is_ignored_and_infinity_goes_to_the_last_bucket() {
        let h = Histogram::new(&[1.0]);
        h.observe(f64::NAN, Exemplar::None);
        h.observe(f64::INFINITY, Exemplar::None);
        assert_eq!(h.count(), 1);
        assert_eq!(
            scrape(&h, SystemTime::now(), Duration::ZERO).counts,
            vec![0, 1]
        );
    }

    #[test]
    fn the_next_pick_follows_the_reservoir_law() {
        // After the 10th observation, the next pick comes after the 20th with probability 1/2,
        // after the 100th with probability 1/10, and never before the 11th.
        let draws: Vec<u64> = (0..100_000u64).map(|x| next_pick_after(10, x)).collect();
        assert!(draws.iter().all(|d| *d >= 10));
        let beyond_20 = draws.iter().filter(|d| **d >= 20).count();
        let beyond_100 = draws.iter().filter(|d| **d >= 100).count();
        assert!((48_500..51_500).contains(&beyond_20), "{beyond_20}");
        assert!((9_400..10_600).contains(&beyond_100), "{beyond_100}");
    }
}
