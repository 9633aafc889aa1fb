//! Sampling across the three service processes, with the real binaries:
//! - a request whose caller did not sample it leaves no span in any service (asserted after the
//!   services flushed on SIGTERM, with a sampled request as the control), while its log lines
//!   carry its trace id and the histograms count it;
//! - at 10 % head sampling under a traffic-like load, every histogram bucket that received 20 or
//!   more observations in a scrape interval exposes an exemplar (after two warm-up intervals:
//!   see `buckets_without_exemplar`), and every exemplar's trace is kept by the tail-sampling
//!   policies of `infra/otel-collector/config.yaml`, applied by the sink's policy double, while
//!   about 90 % of the ordinary traces are dropped.
//!
//! Prometheus runs (the stack has it) but scrapes nothing: the test's own scrapes of `/metrics`
//! delimit the exemplar intervals.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{json, Value};
use system_tests::{Stack, StackOptions, API_KEY, SERVICES};
use test_support::otlp_sink::tail_sampling::TailSampling;
use test_support::StoredSpan;

fn options(name: &str) -> StackOptions {
    StackOptions {
        name: Some(name.to_owned()),
        service_env: vec![
            (
                "OTEL_TRACES_SAMPLER".to_owned(),
                "parentbased_traceidratio".to_owned(),
            ),
            ("OTEL_TRACES_SAMPLER_ARG".to_owned(), "0.1".to_owned()),
        ],
        // Fast payments and no rate limit: the test needs volume, not the latency model's tail.
        per_service_env: vec![
            (
                "payment-gateway".to_owned(),
                "GATEWAY_LATENCY_SCALE".to_owned(),
                "0.05".to_owned(),
            ),
            (
                "order-service".to_owned(),
                "RATE_LIMIT_CLIENT".to_owned(),
                "1000000".to_owned(),
            ),
            (
                "order-service".to_owned(),
                "RATE_LIMIT_GLOBAL".to_owned(),
                "1000000".to_owned(),
            ),
        ],
        // No scrapes but the test's own.
        prometheus_config: Some(Arc::new(|_| {
            Ok("global:\n  scrape_interval: 1h\nscrape_configs: []\n".to_owned())
        })),
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn product_ids(client: &reqwest::Client, stack: &Stack) -> Vec<String> {
    let products: Value = client
        .get(format!("{}/api/v1/products?limit=100", stack.catalog))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    products["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn checkout(
    client: &reqwest::Client,
    stack: &Stack,
    product: &str,
    traceparent: Option<&str>,
) -> u16 {
    let mut req = client
        .post(format!("{}/api/v1/checkout", stack.order))
        .header("Authorization", format!("Bearer {API_KEY}"))
        .json(&json!({
            "country": "US",
            "payment_method": "card",
            "items": [{"product_id": product, "quantity": 1}]
        }));
    if let Some(tp) = traceparent {
        req = req.header("traceparent", tp);
    }
    req.send().await.map(|r| r.status().as_u16()).unwrap_or(0)
}

async fn metrics(client: &reqwest::Client, base: &str) -> String {
    client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// SIGTERM to the three services: each flushes its span pipeline before it exits.
fn stop_services(stack: &mut Stack) {
    for p in stack.processes.iter_mut() {
        if SERVICES.contains(&p.name()) {
            let outcome = p.stop();
            assert!(
                matches!(outcome, devstack::StopOutcome::Stopped(s) if s.success()),
                "{} did not stop cleanly: {outcome}",
                p.name()
            );
        }
    }
}

mod needs_prometheus {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs: prometheus"]
    async fn an_unsampled_request_leaves_no_span_in_any_service_but_its_logs_and_counts() {
        test_support::require(test_support::Dependency::Prometheus);
        let mut stack = Stack::start_with(options("unsampled")).unwrap_or_else(|e| panic!("{e:#}"));
        let client = client();
        let product = product_ids(&client, &stack).await.remove(0);

        let (unsampled, sampled) = (
            "5a3c0000000000000000000000000001",
            "5a3c0000000000000000000000000002",
        );
        let status = checkout(
            &client,
            &stack,
            &product,
            Some(&format!("00-{unsampled}-00f067aa0ba902b7-00")),
        )
        .await;
        assert!(matches!(status, 201 | 402), "unsampled checkout: {status}");
        let status = checkout(
            &client,
            &stack,
            &product,
            Some(&format!("00-{sampled}-00f067aa0ba902b8-01")),
        )
        .await;
        assert!(matches!(status, 201 | 402), "sampled checkout: {status}");

        // Counted by every service, an exemplar in none.
        for (service, counted) in [
            ("order-service", "http_route=\"/api/v1/checkout\""),
            ("catalog-service", "http_route=\"/api/v1/products/{id}\""),
            ("payment-gateway", "http_route=\"/v1/charges\""),
        ] {
            let text = metrics(&client, stack.url_of(service).unwrap()).await;
            let count: u64 = text
                .lines()
                .filter(|l| {
                    l.starts_with("http_server_request_duration_seconds_count")
                        && l.contains(counted)
                })
                .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
                .sum();
            assert!(
                count >= 2,
                "{service} counted both requests: {count}\n{text}"
            );
            assert!(
                !text.contains(unsampled),
                "{service} took an exemplar from the unsampled request"
            );
        }

        stop_services(&mut stack);
        // The flush on SIGTERM delivered the sampled request's spans from all three services...
        let spans = stack.sink.store.trace(sampled);
        let services: BTreeSet<&str> = spans.iter().map(|s| s.service_name.as_str()).collect();
        assert_eq!(
            services.len(),
            3,
            "the sampled checkout is one trace over three services: {services:?}"
        );
        // ...and nothing of the unsampled one.
        assert_eq!(
            stack.sink.store.trace(unsampled),
            Vec::<StoredSpan>::new(),
            "the unsampled checkout exported spans"
        );
        // Its log lines still say which trace they belong to: order-service and the gateway log
        // during a checkout (the catalog logs nothing on a successful read).
        for p in &stack.processes {
            if ["order-service", "payment-gateway"].contains(&p.name()) {
                let logged = p
                    .log_text()
                    .lines()
                    .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                    .any(|l| l["trace_id"] == unsampled);
                assert!(
                    logged,
                    "{} logged nothing with trace_id {unsampled}",
                    p.name()
                );
            }
        }
        stack.assert_no_panics();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs: prometheus"]
    async fn tail_sampling_keeps_exemplar_traces() {
        test_support::require(test_support::Dependency::Prometheus);
        let config = infra_tests::files::read_yaml(
            &infra_tests::files::workspace_root().join("infra/otel-collector/config.yaml"),
        )
        .unwrap();
        let tail: TailSampling = serde_json::from_value(
            serde_json::to_value(&config["processors"]["tail_sampling"]).unwrap(),
        )
        .expect("infra/otel-collector/config.yaml has a tail_sampling processor");
        let policies = tail.policies().unwrap_or_else(|e| panic!("{e}"));
        let exemplar_policy = policies
            .iter()
            .find(|(_, p)| {
                matches!(p, test_support::otlp_sink::tail_sampling::Policy::BooleanAttribute { key, value: true } if key == "webstore.exemplar")
            })
            .map(|(name, _)| name.clone())
            .expect("a policy keeps every trace marked webstore.exemplar = true");

        let mut stack = Stack::start_with(options("tail")).unwrap_or_else(|e| panic!("{e:#}"));
        let client = client();
        let ids = product_ids(&client, &stack).await;
        let bases: Vec<(&str, String)> = SERVICES
            .iter()
            .map(|s| (*s, stack.url_of(s).unwrap().to_owned()))
            .collect();

        // Scrape intervals: each round is 160 checkouts and 320 catalog reads, 8 at a time, then
        // one scrape of every service. Two warm-up rounds, then three measured.
        let mut previous: BTreeMap<&str, Buckets> = BTreeMap::new();
        let mut exemplars: BTreeSet<(String, String)> = BTreeSet::new();
        let mut checked = 0;
        let mut missing = Vec::new();
        for round in 0..5 {
            for batch in 0..60 {
                let calls = (0..8).map(|j| {
                    let i = batch * 8 + j;
                    let client = client.clone();
                    let product = ids[i % ids.len()].clone();
                    let stack = &stack;
                    async move {
                        if i % 3 == 0 {
                            checkout(&client, stack, &product, None).await
                        } else {
                            client
                                .get(format!("{}/api/v1/products/{product}", stack.catalog))
                                .send()
                                .await
                                .map(|r| r.status().as_u16())
                                .unwrap_or(0)
                        }
                    }
                });
                for status in join_all(calls).await {
                    assert!(matches!(status, 200 | 201 | 402), "answer {status}");
                }
            }
            for (service, base) in &bases {
                let now = buckets(&metrics(&client, base).await);
                let before = previous.remove(service).unwrap_or_default();
                for ((series, le), (count, exemplar)) in &now {
                    if let Some(e) = exemplar {
                        exemplars.insert(e.clone());
                    }
                    let observed = count.saturating_sub(
                        before.get(&(series.clone(), le.clone())).map_or(0, |b| b.0),
                    );
                    if round >= 2 && observed >= 20 {
                        checked += 1;
                        if exemplar.is_none() {
                            missing.push(format!(
                                "{service} round {round}: {series} le={le} ({observed} observations)"
                            ));
                        }
                    }
                }
                previous.insert(service, now);
            }
        }
        assert!(
            checked >= 10,
            "only {checked} buckets had 20 observations in an interval"
        );
        assert!(
            missing.is_empty(),
            "buckets with ≥ 20 observations and no exemplar:\n{}",
            missing.join("\n")
        );
        eprintln!("{checked} bucket-intervals with 20 or more observations, each with an exemplar");

        stop_services(&mut stack);
        let spans = stack.sink.store.all_spans();
        let mut traces: BTreeMap<String, Vec<StoredSpan>> = BTreeMap::new();
        for s in spans {
            traces.entry(s.trace_id.clone()).or_default().push(s);
        }
        let decisions = tail
            .decide(traces.iter().map(|(id, s)| (id.as_str(), s.as_slice())))
            .unwrap();

        // Every exemplar resolves after tail sampling: its trace is kept, and holds its span.
        assert!(exemplars.len() >= 10, "{} exemplars", exemplars.len());
        for (trace_id, span_id) in &exemplars {
            let kept = decisions
                .get(trace_id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            assert!(
                kept.contains(&exemplar_policy),
                "exemplar trace {trace_id} kept by {kept:?}, not by {exemplar_policy}"
            );
            assert!(
                traces[trace_id].iter().any(|s| &s.span_id == span_id),
                "exemplar span {span_id} is in trace {trace_id}"
            );
        }
        // The ordinary traces (no error, not slow, no exemplar) are sampled at ≈ 10 %.
        let ordinary: Vec<&Vec<String>> = decisions
            .values()
            .filter(|kept| {
                kept.iter()
                    .all(|p| p != &exemplar_policy && p != "errors" && p != "slow")
            })
            .collect();
        let ordinary_kept = ordinary.iter().filter(|k| !k.is_empty()).count();
        eprintln!(
            "{} traces exported at 10 % head sampling; {} exemplars, all kept; {ordinary_kept} of {} ordinary traces kept",
            traces.len(),
            exemplars.len(),
            ordinary.len()
        );
        assert!(ordinary.len() >= 50, "{} ordinary traces", ordinary.len());
        assert!(
            (ordinary_kept as f64) < 0.25 * ordinary.len() as f64,
            "about 10 % of ordinary traces kept, got {ordinary_kept} of {}",
            ordinary.len()
        );
        stack.assert_no_panics();
    }
}

/// One histogram bucket's exposition line: `<name>_bucket{<labels>,le="…"} <count> # {…} …`.
#[derive(Debug, Clone)]
struct BucketLine {
    /// Name and labels without `le`: the series.
    series: String,
    le: f64,
    cumulative: u64,
    exemplar: Option<(String, String)>,
}

fn bucket_lines(text: &str) -> Vec<BucketLine> {
    text.lines()
        .filter_map(|line| {
            let (sample, exemplar) = match line.split_once(" # ") {
                Some((s, e)) => (s, Some(e)),
                None => (line, None),
            };
            let (name_labels, value) = sample.rsplit_once(' ')?;
            let (name, labels) = name_labels.split_once('{')?;
            if !name.ends_with("_bucket") {
                return None;
            }
            let labels = labels.trim_end_matches('}');
            let (rest, le) = labels.rsplit_once("le=\"")?;
            let le = le.trim_end_matches('"');
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            let label = |key: &str| {
                let e = exemplar?;
                let start = e.find(&format!("{key}=\""))? + key.len() + 2;
                Some(e[start..start + e[start..].find('"')?].to_owned())
            };
            Some(BucketLine {
                series: format!("{name}{{{}}}", rest.trim_end_matches(',')),
                le,
                cumulative: value.parse().ok()?,
                exemplar: label("trace_id").zip(label("span_id")),
            })
        })
        .collect()
}

/// A bucket's observations (in that bucket alone, not cumulative) and its exemplar's
/// (trace id, span id).
type Bucket = (u64, Option<(String, String)>);

/// (series, le) → [`Bucket`]
type Buckets = BTreeMap<(String, String), Bucket>;

fn buckets(text: &str) -> Buckets {
    let mut lines = bucket_lines(text);
    lines.sort_by(|a, b| a.series.cmp(&b.series).then(a.le.total_cmp(&b.le)));
    let mut out = BTreeMap::new();
    let mut previous: Option<(String, u64)> = None;
    for l in lines {
        let below = match &previous {
            Some((series, c)) if *series == l.series => *c,
            _ => 0,
        };
        previous = Some((l.series.clone(), l.cumulative));
        out.insert(
            (l.series, l.le.to_string()),
            (l.cumulative.saturating_sub(below), l.exemplar),
        );
    }
    out
}
