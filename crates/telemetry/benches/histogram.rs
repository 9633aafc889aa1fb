//! What one histogram observation costs, with and without exemplars.
//!
//! `cargo bench -p telemetry --bench histogram` (add `-- --quick` for a fast pass). Every bench
//! in the `observe` group runs the same value stream (64 latencies that reach every bucket) and
//! scrapes its registry every [`SCRAPE_EVERY`] observations inside the measured loop, so the
//! figure is the amortised steady state of a realistic stream: many observations per scrape
//! interval, each interval starting with stale exemplars.
//!
//! - `observe/bare_atomic`: a minimal Prometheus-style histogram defined here (bucket and sum
//!   atomics, nothing else): the floor any exemplar design is measured against.
//! - `observe/plain`: our `Histogram::observe(v, Exemplar::None)`: the same histogram with no
//!   exemplar offered. **The baseline of `exemplar_ratio`.** (See docs/BENCHMARKS.md for how
//!   `bare_atomic` compares with `prometheus-client`'s 21 ns.)
//! - `observe/exemplar_sampled_span`: `Histogram::observe(v, Exemplar::CurrentSpan)` inside an
//!   entered, sampled span (tracing + tracing-opentelemetry + an always-on SDK tracer without
//!   exporter).
//! - `observe/exemplar_unsampled_span`, `observe/exemplar_no_span`: the same call when there is
//!   nothing to attach.
//! - `observe/naive_exemplar_*`: what `prometheus-client`'s `HistogramWithExemplars` asks of a
//!   caller, emulated: read the current span's context through `tracing` on every observation,
//!   build the `{trace_id, span_id}` label set as two `String`s, store it under a lock.
//! - `span_context/*`: reading the span context alone, both ways: `SpanIds::current()` (the
//!   OpenTelemetry context active on the thread) and through `tracing`'s current span.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use telemetry::{Exemplar, Histogram, SpanIds, TelemetryConfig};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;

/// The OpenTelemetry HTTP duration buckets, as the request middleware uses them.
const HTTP_DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Observations per scrape interval (a 15 s scrape at ≈ 670 observations/s per series).
const SCRAPE_EVERY: u64 = 10_000;

/// Latencies in seconds, spread over every bucket of [`HTTP_DURATION_BUCKETS`].
fn values() -> [f64; 64] {
    let mut v = [0.0; 64];
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for slot in &mut v {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // Log-uniform over 1 ms … 20 s.
        let u = (x >> 11) as f64 / (1u64 << 53) as f64;
        *slot = 0.001 * (20_000f64).powf(u);
    }
    v
}

/// A Prometheus-style histogram with nothing but atomics: the floor.
struct BareHistogram {
    bounds: Box<[f64]>,
    counts: Box<[AtomicU64]>,
    sum_bits: AtomicU64,
}

impl BareHistogram {
    fn new(bounds: &[f64]) -> Self {
        Self {
            bounds: bounds.into(),
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_bits: AtomicU64::new(0),
        }
    }

    fn observe(&self, v: f64) {
        let i = self.bounds.partition_point(|b| *b < v);
        self.counts[i].fetch_add(1, Relaxed);
        let mut old = self.sum_bits.load(Relaxed);
        while let Err(seen) = self.sum_bits.compare_exchange_weak(
            old,
            (f64::from_bits(old) + v).to_bits(),
            Relaxed,
            Relaxed,
        ) {
            old = seen;
        }
    }

    fn scrape(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Relaxed)).sum()
    }
}

/// What `HistogramWithExemplars::observe(v, Some(labels))` does, without the crate: one lock for
/// the whole histogram, the label set kept per bucket (the last one wins, forever).
struct NaiveExemplarHistogram {
    bounds: Box<[f64]>,
    inner: RwLock<NaiveInner>,
}

/// `{trace_id="…", span_id="…"}` as prometheus-client holds an exemplar's label set.
type LabelSet = Vec<(String, String)>;

struct NaiveInner {
    sum: f64,
    count: u64,
    buckets: Vec<u64>,
    exemplars: Vec<Option<(LabelSet, f64)>>,
}

impl NaiveExemplarHistogram {
    fn new(bounds: &[f64]) -> Self {
        let n = bounds.len() + 1;
        Self {
            bounds: bounds.into(),
            inner: RwLock::new(NaiveInner {
                sum: 0.0,
                count: 0,
                buckets: vec![0; n],
                exemplars: vec![None; n],
            }),
        }
    }

    /// The caller's side: the current span's context through tracing, then two `String`s.
    fn observe_in_current_span(&self, v: f64) {
        let cx = tracing::Span::current().context();
        let span = cx.span();
        let sc = span.span_context();
        let labels = (sc.is_valid() && sc.is_sampled()).then(|| {
            vec![
                ("trace_id".to_owned(), sc.trace_id().to_string()),
                ("span_id".to_owned(), sc.span_id().to_string()),
            ]
        });
        self.observe(v, labels);
    }

    fn observe(&self, v: f64, labels: Option<LabelSet>) {
        let i = self.bounds.partition_point(|b| *b < v);
        let mut inner = self.inner.write().unwrap();
        inner.sum += v;
        inner.count += 1;
        inner.buckets[i] += 1;
        if let Some(labels) = labels {
            inner.exemplars[i] = Some((labels, v));
        }
    }

    fn scrape(&self) -> u64 {
        self.inner.read().unwrap().count
    }
}

/// The services' subscriber shape: registry + tracing-opentelemetry layer, with an SDK tracer
/// provider that has no exporter (spans get real ids and a sampling decision, nothing leaves).
fn subscriber(sampler: Sampler) -> (tracing::Dispatch, SdkTracerProvider) {
    let provider = SdkTracerProvider::builder().with_sampler(sampler).build();
    let layer = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("bench"))
        .with_tracked_inactivity(false)
        .with_threads(false);
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    (dispatch, provider)
}

#[derive(Clone, Copy)]
enum Scope {
    Sampled,
    Unsampled,
    NoSpan,
}

/// Runs `f` with the bench thread inside `scope`.
fn in_scope<R>(scope: Scope, f: impl FnOnce() -> R) -> R {
    let sampler = match scope {
        Scope::Unsampled => Sampler::AlwaysOff,
        _ => Sampler::AlwaysOn,
    };
    let (dispatch, _provider) = subscriber(sampler);
    tracing::dispatcher::with_default(&dispatch, || match scope {
        Scope::NoSpan => f(),
        _ => {
            let span = tracing::info_span!("request");
            let _entered = span.enter();
            f()
        }
    })
}

fn observe(c: &mut Criterion) {
    let values = values();
    let mut g = c.benchmark_group("observe");

    g.bench_function("bare_atomic", |b| {
        let h = BareHistogram::new(HTTP_DURATION_BUCKETS);
        let mut n = 0u64;
        b.iter(|| {
            h.observe(black_box(values[(n & 63) as usize]));
            n += 1;
            if n.is_multiple_of(SCRAPE_EVERY) {
                black_box(h.scrape());
            }
        });
    });

    // Our histogram, registered through a handle as the services do, scraped as `/metrics` is.
    let ours = |b: &mut criterion::Bencher, exemplar: Exemplar<'static>| {
        let config = TelemetryConfig::testing("bench", "0.0.0", "http://127.0.0.1:9/v1/traces");
        let telemetry = telemetry::testing::detached(&config);
        let h: Arc<Histogram> = telemetry
            .histogram("bench_seconds", "Bench.", &["route"], HTTP_DURATION_BUCKETS)
            .get(&["/bench"]);
        let mut n = 0u64;
        b.iter(|| {
            h.observe(black_box(values[(n & 63) as usize]), exemplar);
            n += 1;
            if n.is_multiple_of(SCRAPE_EVERY) {
                black_box(telemetry::testing::scrape(&telemetry));
            }
        });
    };

    g.bench_function("plain", |b| {
        in_scope(Scope::Sampled, || ours(b, Exemplar::None))
    });
    g.bench_function("exemplar_sampled_span", |b| {
        in_scope(Scope::Sampled, || ours(b, Exemplar::CurrentSpan))
    });
    g.bench_function("exemplar_unsampled_span", |b| {
        in_scope(Scope::Unsampled, || ours(b, Exemplar::CurrentSpan))
    });
    g.bench_function("exemplar_no_span", |b| {
        in_scope(Scope::NoSpan, || ours(b, Exemplar::CurrentSpan))
    });

    let naive = |b: &mut criterion::Bencher| {
        let h = NaiveExemplarHistogram::new(HTTP_DURATION_BUCKETS);
        let mut n = 0u64;
        b.iter(|| {
            h.observe_in_current_span(black_box(values[(n & 63) as usize]));
            n += 1;
            if n.is_multiple_of(SCRAPE_EVERY) {
                black_box(h.scrape());
            }
        });
    };
    g.bench_function("naive_exemplar_sampled_span", |b| {
        in_scope(Scope::Sampled, || naive(b))
    });
    g.bench_function("naive_exemplar_no_span", |b| {
        in_scope(Scope::NoSpan, || naive(b))
    });
    g.finish();
}

fn span_context(c: &mut Criterion) {
    let mut g = c.benchmark_group("span_context");
    g.bench_function("otel_active_context", |b| {
        in_scope(Scope::Sampled, || {
            b.iter(|| black_box(SpanIds::current()));
        })
    });
    g.bench_function("tracing_current_span_context", |b| {
        in_scope(Scope::Sampled, || {
            b.iter(|| {
                let cx = tracing::Span::current().context();
                let span = cx.span();
                let sc = span.span_context();
                black_box((sc.is_valid() && sc.is_sampled()).then(|| (sc.trace_id(), sc.span_id())))
            });
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = observe, span_context
}
criterion_main!(benches);
