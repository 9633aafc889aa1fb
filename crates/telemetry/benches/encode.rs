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
//! Every bucket carries an exemplar (the longest lines), and a few observations land between
//! scrapes, as they would.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry::trace::{SpanId, TraceId};
use telemetry::metrics::{SpanIds, HTTP_DURATION_BUCKETS};
use telemetry::Registry;

const LABELS: &[&str] = &[
    "http_request_method",
    "http_route",
    "http_response_status_code",
];

/// Every bucket's value once, so every bucket holds an exemplar.
fn fill(h: &telemetry::metrics::Histogram, seed: u64) {
    for (i, b) in HTTP_DURATION_BUCKETS.iter().chain([&20.0]).enumerate() {
        let n = seed * 100 + i as u64 + 1;
        let ids = SpanIds {
            trace_id: TraceId::from(u128::from(n) << 64 | u128::from(n)),
            span_id: SpanId::from(n),
        };
        h.observe_with_ids(b * 0.9, Some(ids));
    }
}

/// `histograms_per_family` children in each of three families, and a small counter family.
fn registry(histograms_per_family: usize) -> Registry {
    let registry = Registry::new(Duration::from_secs(3600));
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
            fill(&h, i as u64);
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
        let text = registry.encode();
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
                probe.observe_with_ids(0.02, None);
                black_box(registry.encode())
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
