//! The exemplar hot path allocates nothing: not per observation, not for the first observation
//! of a bucket, not when the exemplar is taken from a live sampled span; and looking up an
//! existing labelled child allocates nothing either.
//!
//! A correctness test, not a timing one: a counting global allocator (this test binary's own)
//! counts what the test thread allocates while a closure runs. Timing lives in `benches/`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use telemetry::{Exemplar, SpanIds, Telemetry, TelemetryConfig};
use tracing_subscriber::layer::SubscriberExt;

/// The OpenTelemetry HTTP duration buckets, as the request middleware uses them.
const HTTP_DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// A handle with its own registry; the test's subscriber is installed per test (`set_default`).
fn telemetry() -> Telemetry {
    let config = TelemetryConfig::testing("zero-alloc", "0.0.0", "http://127.0.0.1:9/v1/traces");
    telemetry::testing::detached(&config)
}

struct Counting;

thread_local! {
    // Per thread, so that tests running in parallel never see each other's allocations.
    // Const-initialised and without destructors, so using them never allocates.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
}

fn note(size: usize) {
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        let _ = BYTES.try_with(|n| n.set(n.get() + size as u64));
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; counting touches only
// const thread-locals.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// (allocations, bytes) made by this thread while `f` runs.
fn allocations_in(f: impl FnOnce()) -> (u64, u64) {
    let (a, b) = (ALLOCATIONS.with(Cell::get), BYTES.with(Cell::get));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    (ALLOCATIONS.with(Cell::get) - a, BYTES.with(Cell::get) - b)
}

/// A subscriber like the services' (registry + tracing-opentelemetry layer), with a tracer
/// provider that has no exporter: spans get real ids and the sampler's decision.
fn subscriber(sampler: Sampler) -> (impl tracing::Subscriber + Send + Sync, SdkTracerProvider) {
    let provider = SdkTracerProvider::builder().with_sampler(sampler).build();
    let layer = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("zero-alloc"))
        .with_tracked_inactivity(false)
        .with_threads(false);
    (tracing_subscriber::registry().with(layer), provider)
}

/// Values that reach every bucket of the HTTP buckets, `+Inf` included.
fn spread(i: usize) -> f64 {
    const VALUES: [f64; 16] = [
        0.001, 0.006, 0.02, 0.03, 0.06, 0.08, 0.2, 0.3, 0.6, 0.9, 2.0, 3.0, 6.0, 8.0, 20.0, 0.004,
    ];
    VALUES[i % VALUES.len()]
}

#[test]
fn the_counter_counts() {
    let counted = allocations_in(|| {
        std::hint::black_box(vec![0u8; 24]);
    });
    assert_eq!(counted, (1, 24));
}

#[test]
fn observations_inside_a_sampled_span_allocate_nothing() {
    let (subscriber, _provider) = subscriber(Sampler::AlwaysOn);
    let _default = tracing::subscriber::set_default(subscriber);

    let telemetry = telemetry();
    let family = telemetry.histogram(
        "work_duration_seconds",
        "Work.",
        &["route"],
        HTTP_DURATION_BUCKETS,
    );
    let h = family.get(&["/jobs/{id}"]);
    let span = tracing::info_span!("work");
    let _entered = span.enter();
    let ids = SpanIds::current().expect("the entered span is sampled");

    // The very first observation of every bucket takes an exemplar: nothing allocated.
    let first = allocations_in(|| {
        for i in 0..16 {
            h.observe(spread(i), Exemplar::CurrentSpan);
        }
    });
    assert_eq!(first, (0, 0), "(allocations, bytes) for first observations");

    for interval in 0..3 {
        let counted = allocations_in(|| {
            for i in 0..10_000 {
                h.observe(spread(i), Exemplar::CurrentSpan);
            }
        });
        assert_eq!(
            counted,
            (0, 0),
            "(allocations, bytes) in interval {interval}"
        );
        // The scrape allocates (it builds the text); it is outside the counted window.
        let text = telemetry::testing::scrape(&telemetry);
        let with_exemplar = text
            .lines()
            .filter(|l| l.starts_with("work_duration_seconds_bucket"))
            .filter(|l| {
                l.contains(&format!(
                    "# {{trace_id=\"{}\",span_id=\"{}\"}}",
                    ids.trace_id(),
                    ids.span_id()
                ))
            })
            .count();
        assert_eq!(
            with_exemplar, 15,
            "every bucket's exemplar is the span:\n{text}"
        );
    }

    // The other exemplar sources, and an existing child looked up by its labels. A scrape
    // before each round makes every bucket want an exemplar again, so each source is read.
    for (name, exemplar) in [
        ("Exemplar::Span", Exemplar::Span(&span)),
        ("Exemplar::Ids", Exemplar::Ids(ids)),
        ("Exemplar::None", Exemplar::None),
    ] {
        telemetry::testing::scrape(&telemetry);
        let counted = allocations_in(|| {
            for i in 0..1_000 {
                h.observe(spread(i), exemplar);
            }
        });
        assert_eq!(counted, (0, 0), "(allocations, bytes) for {name}");
    }
    let counted = allocations_in(|| {
        for i in 0..1_000 {
            let again = family.get(&["/jobs/{id}"]);
            again.observe(spread(i), Exemplar::CurrentSpan);
        }
    });
    assert_eq!(counted, (0, 0), "(allocations, bytes) for Family::get");
}

#[test]
fn observations_outside_sampled_spans_allocate_nothing_and_leave_no_exemplar() {
    let (subscriber, _provider) = subscriber(Sampler::AlwaysOff);
    let _default = tracing::subscriber::set_default(subscriber);
    let telemetry = telemetry();
    let h = telemetry
        .histogram("idle_seconds", "Idle.", &[], HTTP_DURATION_BUCKETS)
        .get(&[]);

    let span = tracing::info_span!("unsampled");
    let entered = span.enter();
    assert_eq!(SpanIds::current(), None, "an unsampled span is no exemplar");
    let counted = allocations_in(|| {
        for i in 0..10_000 {
            h.observe(spread(i), Exemplar::CurrentSpan);
            h.observe(spread(i), Exemplar::Span(&span));
        }
    });
    assert_eq!(counted, (0, 0), "inside an unsampled span");
    drop(entered);

    let counted = allocations_in(|| {
        for i in 0..10_000 {
            h.observe(spread(i), Exemplar::CurrentSpan);
        }
    });
    assert_eq!(counted, (0, 0), "outside any span");
    let text = telemetry::testing::scrape(&telemetry);
    assert!(!text.contains("trace_id"), "{text}");
    assert!(text.contains("idle_seconds_count 30000\n"), "{text}");
}
