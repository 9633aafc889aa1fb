//! What a `/metrics` scrape costs: `Registry::encode` of a registry shaped like a busy service.
//!
//! `cargo bench -p telemetry --bench encode` (add `-- --quick` for a fast pass).
//!
//! - `encode/2k_series`: three histogram families with the HTTP buckets (14 bounds + `+Inf`)
//!   and 45 children each (3 methods × 5 routes × 3 status codes), plus a counter family:
//!   3 × 45 × (15 buckets + `_count` + `_sum`) + 20 = 2 315 series as Prometheus counts them
//!   (each `_bucket{le=…}` is a series). **The `metrics_encode_us` figure.**
//! - `encode/34k_series`: the same with 2 000 histogram children (≈ 34 000 series): where a
//!   registry that grew too many labels ends up.
//!
//! Every bucket carries an exemplar (the longest lines; each child's from its own sampled span),
//! and a few observations land between scrapes, as they would.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use telemetry::{Exemplar, Telemetry, TelemetryConfig};
use tracing_subscriber::layer::SubscriberExt;

/// The OpenTelemetry HTTP duration buckets, as the request middleware uses them.
const HTTP_DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

const LABELS: &[&str] = &[
    "http_request_method",
    "http_route",
    "http_response_status_code",
];

/// Every bucket's value once, so every bucket holds an exemplar: a sampled span of its own.
fn fill(h: &telemetry::Histogram) {
    let span = tracing::info_span!("fill");
    for b in HTTP_DURATION_BUCKETS.iter().chain([&20.0]) {
        h.observe(b * 0.9, Exemplar::Span(&span));
    }
}

/// `histograms_per_family` children in each of three families, and a small counter family.
fn registry(histograms_per_family: usize) -> Telemetry {
    // Spans with real, sampled ids and nowhere to go: all the exemplars need.
    let provider = SdkTracerProvider::builder()
        .with_sampler(Sampler::AlwaysOn)
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench")));
    let _default = tracing::subscriber::set_default(subscriber);
    let config = TelemetryConfig::testing("bench", "0.0.0", "http://127.0.0.1:9/v1/traces");
    let registry = telemetry::testing::detached(&config);
    let methods = ["GET", "POST", "PUT", "DELETE"];
    let statuses = ["200", "201", "404", "422", "503"];
    for family in [
        "http_server_request_duration_seconds",
        "http_client_request_duration_seconds",
        "webstore_operation_duration_seconds",
    ] {
        let f = registry.histogram(family, "Bench family.", LABELS, HTTP_DURATION_BUCKETS);
        for i in 0..histograms_per_family {
            let route = format!("/api/v1/resource{}/{{id}}", i / 9);
            let h = f.get(&[methods[i % 3], &route, statuses[(i / 3) % 3]]);
            fill(&h);
        }
    }
    let counters = registry.counter("webstore_events_total", "Events.", &["kind"]);
    for i in 0..20 {
        counters.get(&[&format!("kind{i}")]).inc_by(i);
    }
    registry
}

fn series(text: &str) -> usize {
    text.lines().filter(|l| !l.starts_with('#')).count()
}

fn encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode");
    for (name, per_family) in [("2k_series", 45), ("34k_series", 667)] {
        let registry = registry(per_family);
        let text = telemetry::testing::scrape(&registry);
        eprintln!(
            "encode/{name}: {} series, {} exemplars, {} KiB",
            series(&text),
            text.matches("trace_id").count(),
            text.len() / 1024
        );
        let probe = registry.histogram(
            "http_server_request_duration_seconds",
            "Bench family.",
            LABELS,
            HTTP_DURATION_BUCKETS,
        );
        let probe = probe.get(&["GET", "/api/v1/resource0/{id}", "200"]);
        g.bench_function(name, |b| {
            b.iter(|| {
                probe.observe(0.02, Exemplar::None);
                black_box(telemetry::testing::scrape(&registry))
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = encode
}
criterion_main!(benches);
