//! The payoff, end to end: checkouts through three service processes; a real Prometheus scrapes
//! them with exemplar storage; every payment exemplar it returns opens a trace (in the dev OTLP
//! receiver) with spans of all three services, database spans included, and points at the very
//! client span that timed the payment.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::join_all;
use serde_json::{json, Value};
use system_tests::prometheus::wait_for;
use system_tests::{Stack, API_KEY, SERVICES};
use test_support::StoredSpan;

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

struct Exemplar {
    le: String,
    trace_id: String,
    span_id: String,
    value: f64,
}

async fn exemplars(
    client: &reqwest::Client,
    prometheus: &str,
    metric: &str,
    since: f64,
) -> anyhow::Result<Vec<Exemplar>> {
    let body: Value = client
        .get(format!(
            "{prometheus}/api/v1/query_exemplars?query={metric}&start={since:.3}&end={:.3}",
            unix_now() + 5.0
        ))
        .send()
        .await?
        .json()
        .await?;
    anyhow::ensure!(
        body["status"] == "success",
        "query_exemplars failed: {body}"
    );
    let mut out = Vec::new();
    for series in body["data"].as_array().into_iter().flatten() {
        let le = series["seriesLabels"]["le"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        for e in series["exemplars"].as_array().into_iter().flatten() {
            out.push(Exemplar {
                le: le.clone(),
                trace_id: e["labels"]["trace_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                span_id: e["labels"]["span_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                value: e["value"]
                    .as_str()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(f64::NAN),
            });
        }
    }
    Ok(out)
}

fn complete(spans: &[StoredSpan]) -> bool {
    let services: BTreeSet<&str> = spans.iter().map(|s| s.service_name.as_str()).collect();
    SERVICES.iter().all(|s| services.contains(s))
        && spans.iter().any(|s| s.attribute("db.system").is_some())
        && spans
            .iter()
            .any(|s| s.service_name == "order-service" && s.kind == "server")
}

mod needs_prometheus {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs: prometheus"]
    async fn payment_exemplars_open_whole_distributed_traces() {
        test_support::require(test_support::Dependency::Prometheus);
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let stack = match Stack::start() {
            Ok(s) => s,
            Err(e) => panic!("starting the stack: {e:#}"),
        };
        let started = unix_now() - 1.0;

        let products: Value = client
            .get(format!("{}/api/v1/products?limit=100", stack.catalog))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids: Vec<String> = products["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_owned())
            .collect();
        assert!(
            ids.len() >= 20,
            "the catalog is seeded with at least 20 products"
        );

        // 60 checkouts, 4 at a time, over every payment method and several countries.
        let methods = ["card", "paypal", "apple_pay", "bank_transfer"];
        let countries = ["US", "DE", "FR", "GB", "JP"];
        let mut statuses: HashMap<u16, usize> = HashMap::new();
        for round in 0..15 {
            let batch = (0..4).map(|j| {
                let i = round * 4 + j;
                let body = json!({
                    "country": countries[i % countries.len()],
                    "payment_method": methods[i % methods.len()],
                    "items": [
                        {"product_id": ids[i % ids.len()], "quantity": 1 + (i % 3)},
                        {"product_id": ids[(i * 7 + 3) % ids.len()], "quantity": 1}
                    ]
                });
                let client = client.clone();
                let url = format!("{}/api/v1/checkout", stack.order);
                async move {
                    client
                        .post(url)
                        .header("Authorization", format!("Bearer {API_KEY}"))
                        .json(&body)
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                }
            });
            for status in join_all(batch).await {
                *statuses.entry(status.unwrap_or(0)).or_default() += 1;
            }
        }
        let charged = statuses.get(&201).copied().unwrap_or(0);
        eprintln!("checkout answers: {statuses:?}");
        assert!(
            charged >= 50,
            "at least 50 charged checkouts, got {statuses:?}"
        );
        assert_eq!(
            statuses.keys().filter(|s| **s != 201 && **s != 402).count(),
            0,
            "only 201/402: {statuses:?}"
        );

        // Prometheus scrapes every second: poll until the checkouts' exemplars are stored.
        let payments = wait_for(
            "payment exemplars from at least 5 traces in at least 3 buckets",
            Duration::from_secs(30),
            || async {
                let found = exemplars(
                    &client,
                    &stack.prometheus,
                    "webstore_payment_duration_seconds_bucket",
                    started,
                )
                .await?;
                let traces: BTreeSet<&str> = found.iter().map(|e| e.trace_id.as_str()).collect();
                let buckets: BTreeSet<&str> = found.iter().map(|e| e.le.as_str()).collect();
                Ok((traces.len() >= 5 && buckets.len() >= 3).then_some(found))
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
        let traces: BTreeSet<&str> = payments.iter().map(|e| e.trace_id.as_str()).collect();
        let buckets: BTreeSet<&str> = payments.iter().map(|e| e.le.as_str()).collect();
        eprintln!(
            "payment exemplars: {} ({} distinct traces, buckets {:?})",
            payments.len(),
            traces.len(),
            buckets
        );
        assert!(
            traces.len() >= 5,
            "at least 5 distinct exemplar traces, got {}",
            traces.len()
        );
        assert!(
            buckets.len() >= 3,
            "exemplars in at least 3 buckets, got {buckets:?}"
        );

        let mut checked = 0;
        for e in &payments {
            let spans = stack
                .sink
                .store
                .wait_for_trace(&e.trace_id, complete, Duration::from_secs(10))
                .await;
            assert!(
                complete(&spans),
                "trace {} lacks a service or a database span:\n{}",
                e.trace_id,
                test_support::otlp_sink::waterfall(&spans)
            );
            let client_span = spans
                .iter()
                .find(|s| s.span_id == e.span_id)
                .unwrap_or_else(|| {
                    panic!("exemplar span {} not in trace {}", e.span_id, e.trace_id)
                });
            assert_eq!(
                (client_span.service_name.as_str(), client_span.kind.as_str()),
                ("order-service", "client")
            );
            let gateway_server = spans
                .iter()
                .find(|s| s.service_name == "payment-gateway" && s.kind == "server")
                .expect("gateway server span");
            assert_eq!(
                gateway_server.parent_span_id.as_deref(),
                Some(e.span_id.as_str()),
                "the exemplar span is the gateway span's parent"
            );
            let span_seconds = client_span.duration_nanos() as f64 / 1e9;
            let tolerance = (span_seconds * 0.05).max(0.005);
            assert!(
                (e.value - span_seconds).abs() <= tolerance,
                "exemplar value {} vs client span duration {span_seconds}",
                e.value
            );
            checked += 1;
        }

        let amounts = exemplars(
            &client,
            &stack.prometheus,
            "webstore_checkout_amount_usd_bucket",
            started,
        )
        .await
        .unwrap();
        assert!(!amounts.is_empty(), "checkout-amount exemplars exist");
        for e in &amounts {
            let spans = stack
                .sink
                .store
                .wait_for_trace(&e.trace_id, complete, Duration::from_secs(10))
                .await;
            assert!(
                complete(&spans),
                "amount exemplar trace {} incomplete",
                e.trace_id
            );
            let root = spans
                .iter()
                .find(|s| s.span_id == e.span_id)
                .expect("amount exemplar span in its trace");
            assert_eq!(
                (root.service_name.as_str(), root.kind.as_str()),
                ("order-service", "server")
            );
        }
        eprintln!(
            "e2e: {charged} charged checkouts; {checked} payment exemplars over {} traces in {} buckets verified; {} amount exemplars verified",
            traces.len(),
            buckets.len(),
            amounts.len()
        );
        stack.assert_no_panics();
    }
}
