//! The observability stack against the real services: a real Prometheus loaded with
//! `infra/prometheus`'s configuration and rules scrapes the three service processes while the
//! test sends checkout traffic, and then
//!
//! * every metric name a dashboard, a recording rule, an alert or a Grafana datasource link
//!   uses is found in a live scrape of the services or of Prometheus itself, or in a pinned
//!   upstream list (`infra/metric-names/*.txt`, Collector and Tempo), or — clearly reported — in
//!   `infra/metric-names/pending.txt` (names whose emitting code is not merged yet);
//! * every dashboard query and every recording rule that depends only on the services and
//!   Prometheus answers with data (coverage N/N is printed);
//! * the payment-latency alert fires when the gateway's latency fault is turned up and resolves
//!   when it is turned down, and the span-export alert fires when the OTLP receiver stops.
//!
//! What differs from production is only the documented test transform (`infra_tests::live`,
//! `infra_tests::rules`): targets
//! rewritten to the local processes, Collector and Tempo jobs left out, 1 s intervals, and for
//! the alert test 20 s range windows and 2 s `for:`. Dashboard queries are sent as Grafana
//! would, with `$__rate_interval` = 30 s and every variable at "All".

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use infra_tests::dashboards::dashboard_queries;
use infra_tests::files::{read_yaml, rel, workspace_root, yget};
use infra_tests::live::live_prometheus_config;
use infra_tests::metric_names::{
    exposed_metric_names, histogram_families, pending_metric_names, pinned_lists,
};
use infra_tests::promql::{grafana_to_promql, metric_names};
use infra_tests::rules::{load_rules, write_live_rules, RuleTransform};
use serde_json::{json, Value};
use system_tests::prometheus::{
    alert_states, loaded_rule_count, query, rule_errors, series_names, wait_for,
    wait_for_scrape_after,
};
use system_tests::{Stack, StackOptions, ADMIN_TOKEN, API_KEY, SERVICES};

/// A second customer, whose key only the rate-limit burst uses: the burst's 429s then never
/// touch the quota of the checkouts that follow.
const BURST_KEY: &str = "e2e-burst-key-5678";

const DEFAULT_FAULTS: &str =
    r#"{"latency_ms":0,"error_rate":0.0,"timeout_rate":0.0,"decline_rate":0.02}"#;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A stack whose Prometheus runs `infra/prometheus` through the test transform.
async fn start_stack(
    client: &reqwest::Client,
    name: &str,
    transform: RuleTransform,
    service_env: &[(&str, &str)],
    gateway_latency_scale: &str,
) -> (Stack, Vec<String>) {
    let dropped = Arc::new(Mutex::new(Vec::new()));
    let dropped_in = dropped.clone();
    let options = StackOptions {
        name: Some(name.to_owned()),
        service_env: service_env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        per_service_env: vec![
            (
                "payment-gateway".to_owned(),
                "GATEWAY_LATENCY_SCALE".to_owned(),
                gateway_latency_scale.to_owned(),
            ),
            (
                "order-service".to_owned(),
                "API_KEYS".to_owned(),
                format!("e2e:{API_KEY},e2e-burst:{BURST_KEY}"),
            ),
        ],
        prometheus_config: Some(Arc::new(move |targets| {
            let rules = write_live_rules(&targets.dir, &transform)?;
            let (yaml, dropped) = live_prometheus_config(&targets.targets, &rules)?;
            if let Ok(mut d) = dropped_in.lock() {
                *d = dropped;
            }
            Ok(yaml)
        })),
    };
    let stack = match Stack::start_with(options) {
        Ok(s) => s,
        Err(e) => panic!("starting the stack: {e:#}"),
    };
    let dropped = dropped.lock().map(|d| d.clone()).unwrap_or_default();
    // Prometheus has loaded every rule of infra/prometheus/rules.
    let expected = load_rules().unwrap().len();
    let loaded = loaded_rule_count(client, &stack.prometheus).await.unwrap();
    assert_eq!(loaded, expected, "Prometheus loaded every rule");
    (stack, dropped)
}

async fn set_faults(client: &reqwest::Client, gateway: &str, body: &str) {
    let res = client
        .put(format!("{gateway}/admin/faults"))
        .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("PUT /admin/faults");
    assert!(
        res.status().is_success(),
        "PUT /admin/faults {body}: {}",
        res.status()
    );
}

async fn product_ids(client: &reqwest::Client, catalog: &str) -> Vec<String> {
    let products: Value = client
        .get(format!("{catalog}/api/v1/products?limit=50"))
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

fn checkout_body(ids: &[String], i: usize) -> Value {
    let methods = ["card", "paypal", "apple_pay", "bank_transfer"];
    let countries = ["US", "DE", "FR", "GB", "JP"];
    json!({
        "country": countries[i % countries.len()],
        "payment_method": methods[i % methods.len()],
        "items": [{"product_id": ids[i % ids.len()], "quantity": 1 + (i % 3)}]
    })
}

async fn checkout(client: &reqwest::Client, order: &str, body: &Value, key: &str) -> u16 {
    client
        .post(format!("{order}/api/v1/checkout"))
        .header("Authorization", format!("Bearer {key}"))
        .json(body)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// One round of the traffic every panel needs: catalog reads (hits, misses, a 404), checkouts
/// that are paid, declined (often enough to trip the repeated-declines rule) and failed (502),
/// rejected credentials and bodies, idempotent replays at the gateway, readiness probes, and a
/// burst over the rate limit.
async fn traffic_round(
    client: &reqwest::Client,
    stack: &Stack,
    ids: &[String],
    round: usize,
) -> BTreeMap<u16, usize> {
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for id in ids.iter().take(5) {
        let _ = client
            .get(format!("{}/api/v1/products/{id}", stack.catalog))
            .send()
            .await;
    }
    let _ = client
        .get(format!(
            "{}/api/v1/products/p-does-not-exist",
            stack.catalog
        ))
        .send()
        .await;
    // Paid and declined.
    set_faults(client, &stack.gateway, r#"{"decline_rate":0.3}"#).await;
    for batch in 0..4 {
        let futures = (0..4).map(|j| {
            let body = checkout_body(ids, round * 100 + batch * 4 + j);
            async move { checkout(client, &stack.order, &body, API_KEY).await }
        });
        for s in futures_util::future::join_all(futures).await {
            *statuses.entry(s).or_default() += 1;
        }
    }
    // Gateway errors: 502 payment_failed.
    set_faults(
        client,
        &stack.gateway,
        r#"{"error_rate":1.0,"decline_rate":0.0}"#,
    )
    .await;
    for j in 0..3 {
        let s = checkout(
            client,
            &stack.order,
            &checkout_body(ids, round * 100 + 50 + j),
            API_KEY,
        )
        .await;
        *statuses.entry(s).or_default() += 1;
    }
    set_faults(client, &stack.gateway, DEFAULT_FAULTS).await;
    // Rejected credentials (401) and a rejected body (422).
    let s = checkout(client, &stack.order, &checkout_body(ids, 1), "not-a-key").await;
    *statuses.entry(s).or_default() += 1;
    let s = checkout(
        client,
        &stack.order,
        &json!({"country": "US", "total_cents": 1}),
        API_KEY,
    )
    .await;
    *statuses.entry(s).or_default() += 1;
    // Idempotent replays at the gateway: the same key and body twice, then another body.
    let key = format!("e2e-live-{round}-{}", std::process::id());
    for amount in [1500, 1500, 2500] {
        let _ = client
            .post(format!("{}/v1/charges", stack.gateway))
            .header("Idempotency-Key", &key)
            .json(
                &json!({"amount_cents": amount, "currency": "USD", "payment_method": "card",
                          "country": "US", "reference": format!("ref-{key}")}),
            )
            .send()
            .await;
    }
    for base in [&stack.order, &stack.catalog, &stack.gateway] {
        let _ = client.get(format!("{base}/readyz")).send().await;
    }
    // A burst above the per-client rate limit (20/s by default): cheap requests whose bodies are
    // refused anyway, so some answers are 429. As a customer of its own, so that the next
    // checkouts are not limited.
    let burst =
        (0..30).map(|_| async { checkout(client, &stack.order, &json!({}), BURST_KEY).await });
    for s in futures_util::future::join_all(burst).await {
        *statuses.entry(s).or_default() += 1;
    }
    statuses
}

/// The metric names `expr` selects (it parses: the static checks prove it).
fn names_in(expr: &str) -> BTreeSet<String> {
    metric_names(expr).unwrap_or_else(|e| panic!("{e:#}"))
}

/// The metric names each recording rule depends on, transitively down to scraped names.
fn rule_dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let rules = load_rules().unwrap();
    let direct: BTreeMap<String, BTreeSet<String>> = rules
        .iter()
        .filter(|r| !r.is_alert)
        .map(|r| (r.name.clone(), names_in(&r.expr)))
        .collect();
    let mut out = BTreeMap::new();
    for name in direct.keys() {
        let mut seen = BTreeSet::new();
        let mut todo = vec![name.clone()];
        while let Some(n) = todo.pop() {
            for dep in direct.get(&n).into_iter().flatten() {
                if seen.insert(dep.clone()) && direct.contains_key(dep) {
                    todo.push(dep.clone());
                }
            }
        }
        out.insert(name.clone(), seen);
    }
    out
}

/// Every (where, metric name) a dashboard, rule or Grafana datasource link uses.
fn used_metric_names() -> Vec<(String, String)> {
    let mut used = Vec::new();
    for q in dashboard_queries().unwrap() {
        for n in q.metric_names().unwrap_or_else(|e| panic!("{e:#}")) {
            used.push((format!("dashboards/{} / {}", q.dashboard, q.panel), n));
        }
    }
    for r in load_rules().unwrap() {
        for n in names_in(&r.expr) {
            used.push((format!("{} / {}", rel(&r.file), r.name), n));
        }
    }
    let ds_file = workspace_root().join("infra/grafana/provisioning/datasources/datasources.yaml");
    let ds = read_yaml(&ds_file).unwrap();
    for d in ds["datasources"].as_sequence().into_iter().flatten() {
        for q in yget(d, &["jsonData", "tracesToMetrics", "queries"])
            .and_then(|q| q.as_sequence())
            .into_iter()
            .flatten()
        {
            let expr = q["query"].as_str().unwrap_or_default().replace("$$", "$");
            for n in names_in(&grafana_to_promql(&expr, "1m")) {
                used.push((format!("{} / tracesToMetrics", rel(&ds_file)), n));
            }
        }
    }
    used
}

/// The `(what, expr)` checks whose query answers with no number, described.
async fn without_data(
    client: &reqwest::Client,
    prometheus: &str,
    checks: &[(String, String)],
) -> Vec<String> {
    let mut empty = Vec::new();
    for (what, expr) in checks {
        match query(client, prometheus, expr).await {
            Ok(samples) if samples.iter().any(|s| !s.value.is_nan()) => {}
            Ok(samples) => empty.push(format!(
                "{what}: {} series, no number: {expr}",
                samples.len()
            )),
            Err(e) => empty.push(format!("{what}: {e:#}: {expr}")),
        }
    }
    empty
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// Checkouts in the background until `stop` is set, `workers` at a time, each pausing `pause`
/// between requests.
fn background_checkouts(
    client: reqwest::Client,
    order: String,
    ids: Vec<String>,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicUsize>,
    workers: usize,
    pause: Duration,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..workers)
        .map(|w| {
            let (client, order, ids, stop, sent) = (
                client.clone(),
                order.clone(),
                ids.clone(),
                stop.clone(),
                sent.clone(),
            );
            tokio::spawn(async move {
                let mut i = w;
                while !stop.load(Ordering::Relaxed) {
                    let _ = checkout(&client, &order, &checkout_body(&ids, i), API_KEY).await;
                    sent.fetch_add(1, Ordering::Relaxed);
                    i += workers;
                    // Pacing the load (a steady request rate), not waiting for anything.
                    tokio::time::sleep(pause).await;
                }
            })
        })
        .collect()
}

async fn wait_alert(
    client: &reqwest::Client,
    prometheus: &str,
    alert: &str,
    firing: bool,
    timeout: Duration,
) -> Duration {
    let started = Instant::now();
    let what = if firing { "firing" } else { "resolved" };
    let result = wait_for(&format!("{alert} {what}"), timeout, || async {
        let states = alert_states(client, prometheus, alert).await?;
        let is_firing = states.iter().any(|s| s == "firing");
        Ok(if firing {
            is_firing.then_some(())
        } else {
            states.is_empty().then_some(())
        })
    })
    .await;
    if let Err(e) = result {
        let p95 = query(
            client,
            prometheus,
            "webstore:payment_duration_seconds:p95_5m",
        )
        .await;
        let spans = query(client, prometheus, "job:otel_sdk_spans_not_exported:rate5m").await;
        panic!("{e:#}\np95 now: {p95:?}\nspans not exported now: {spans:?}");
    }
    started.elapsed()
}

mod needs_prometheus {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs: prometheus"]
    async fn dashboards_and_rules_answer_from_live_data() {
        test_support::require(test_support::Dependency::Prometheus);
        let client = client();
        let (stack, dropped) =
            start_stack(&client, "panels", RuleTransform::default(), &[], "0.3").await;
        eprintln!("transform: left out the scrape jobs {dropped:?} (not running on this machine)");
        let ids = product_ids(&client, &stack.catalog).await;
        assert!(ids.len() >= 5, "the catalog is seeded");

        // Two rounds with a scrape after each, so every series has moved between two samples
        // within the rate windows.
        let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
        for round in 0..2 {
            for (s, n) in traffic_round(&client, &stack, &ids, round).await {
                *statuses.entry(s).or_default() += n;
            }
            wait_for_scrape_after(
                &client,
                &stack.prometheus,
                unix_now(),
                Duration::from_secs(30),
            )
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        }
        eprintln!("checkout answers: {statuses:?}");
        for wanted in [201, 402, 502, 401, 422] {
            assert!(
                statuses.contains_key(&wanted),
                "traffic produced a {wanted}: {statuses:?}"
            );
        }

        // ---- metric names --------------------------------------------------------------------
        let mut live = BTreeSet::new();
        let mut service_names = BTreeSet::new();
        let mut histograms = BTreeSet::new();
        for service in SERVICES {
            let text = client
                .get(format!("{}/metrics", stack.url_of(service).unwrap()))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            service_names.extend(exposed_metric_names(&text));
            histograms.extend(histogram_families(&text));
        }
        live.extend(service_names.iter().cloned());
        let prom_text = client
            .get(format!("{}/metrics", stack.prometheus))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        live.extend(exposed_metric_names(&prom_text));
        live.extend(series_names(&client, &stack.prometheus).await.unwrap());

        let recorded: BTreeSet<String> = load_rules()
            .unwrap()
            .into_iter()
            .filter(|r| !r.is_alert)
            .map(|r| r.name)
            .collect();
        let pinned = pinned_lists().unwrap();
        for list in &pinned {
            assert!(
                list.header.contains("Upstream source") && list.header.contains('v'),
                "{} must cite its upstream source and version in its header",
                rel(&list.file)
            );
        }
        let pending = pending_metric_names().unwrap();
        let used = used_metric_names();
        let mut unknown = Vec::new();
        let mut now_emitted = BTreeSet::new();
        let mut pending_used: BTreeMap<String, usize> = BTreeMap::new();
        let mut by_source: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (place, name) in &used {
            if let Some(issue) = pending.get(name) {
                if service_names.contains(name) {
                    now_emitted.insert(format!("{name} ({issue})"));
                }
                *pending_used.entry(name.clone()).or_default() += 1;
                by_source
                    .entry("pending".into())
                    .or_default()
                    .insert(name.clone());
            } else if recorded.contains(name) {
                by_source
                    .entry("recording rules".into())
                    .or_default()
                    .insert(name.clone());
            } else if name == "ALERTS" || name == "ALERTS_FOR_STATE" {
                by_source
                    .entry("built-in".into())
                    .or_default()
                    .insert(name.clone());
            } else if service_names.contains(name) {
                by_source
                    .entry("live services".into())
                    .or_default()
                    .insert(name.clone());
            } else if live.contains(name) {
                by_source
                    .entry("live Prometheus".into())
                    .or_default()
                    .insert(name.clone());
            } else if let Some(list) = pinned.iter().find(|l| l.names.contains(name)) {
                by_source
                    .entry(rel(&list.file))
                    .or_default()
                    .insert(name.clone());
            } else {
                unknown.push(format!("{place}: {name}"));
            }
        }
        for (source, names) in &by_source {
            eprintln!("metric names from {source}: {}", names.len());
        }
        for (name, issue) in &pending {
            eprintln!(
                "NOT YET EMITTED: {name} (pending {issue}; used {} times by dashboards/rules)",
                pending_used.get(name).copied().unwrap_or(0)
            );
        }
        let unused_pending: Vec<&String> = pending
            .keys()
            .filter(|n| !pending_used.contains_key(*n))
            .collect();
        assert!(
            now_emitted.is_empty(),
            "the services now emit {now_emitted:?}: delete these lines from infra/metric-names/pending.txt"
        );
        assert!(
            unused_pending.is_empty(),
            "infra/metric-names/pending.txt lists names nothing uses: {unused_pending:?}"
        );
        assert!(
            unknown.is_empty(),
            "metric names used but neither emitted live, nor pinned upstream, nor pending:\n{}",
            unknown.join("\n")
        );

        // Every query over a live histogram family shows exemplars.
        let mut no_exemplars = Vec::new();
        for q in dashboard_queries()
            .unwrap()
            .iter()
            .filter(|q| !q.is_variable)
        {
            let over_histogram = q.metric_names().unwrap_or_default().iter().any(|n| {
                ["_bucket", "_count", "_sum"]
                    .iter()
                    .any(|s| n.strip_suffix(s).is_some_and(|f| histograms.contains(f)))
            });
            if over_histogram && !q.exemplar {
                no_exemplars.push(format!("{} / {} / {}", q.dashboard, q.panel, q.ref_id));
            }
        }
        assert!(
            no_exemplars.is_empty(),
            "queries over histograms without exemplars: {no_exemplars:?}"
        );

        // ---- coverage ------------------------------------------------------------------------
        let deps = rule_dependencies();
        let pinned_names: BTreeSet<&String> = pinned.iter().flat_map(|l| &l.names).collect();
        let needs_elsewhere = |names: &BTreeSet<String>| -> Option<String> {
            let mut all = names.clone();
            for n in names {
                all.extend(deps.get(n).cloned().unwrap_or_default());
            }
            if let Some(n) = all.iter().find(|n| pending.contains_key(*n)) {
                return Some(format!("pending metric {n}"));
            }
            all.iter()
                .find(|n| pinned_names.contains(n))
                .map(|n| format!("Collector/Tempo metric {n} (not running here)"))
        };
        let mut checks: Vec<(String, String)> = Vec::new();
        let mut excluded: Vec<String> = Vec::new();
        for q in dashboard_queries().unwrap() {
            let what = format!("{} / {} {}", q.dashboard, q.panel, q.ref_id);
            match needs_elsewhere(&q.metric_names().unwrap_or_else(|e| panic!("{e:#}"))) {
                Some(why) => excluded.push(format!("{what}: {why}")),
                None => checks.push((what, q.promql())),
            }
        }
        for r in load_rules().unwrap().iter().filter(|r| !r.is_alert) {
            let what = format!("recording rule {}", r.name);
            match needs_elsewhere(&BTreeSet::from([r.name.clone()])) {
                Some(why) => excluded.push(format!("{what}: {why}")),
                None => checks.push((what, r.name.clone())),
            }
        }
        // A recording rule answers once it has been evaluated over the last scrape: poll.
        let all_answer = wait_for(
            "every query and recording rule to answer with data",
            Duration::from_secs(30),
            || async {
                let empty = without_data(&client, &stack.prometheus, &checks).await;
                Ok(empty.is_empty().then_some(()))
            },
        )
        .await
        .is_ok();
        let empty = if all_answer {
            Vec::new()
        } else {
            without_data(&client, &stack.prometheus, &checks).await
        };
        for e in &excluded {
            eprintln!("not checked here: {e}");
        }
        let answered = checks.len() - empty.len();
        eprintln!(
            "coverage: {answered}/{} dashboard queries and recording rules that depend only on the services and Prometheus answer with data ({} need the Collector, Tempo or pending metrics)",
            checks.len(),
            excluded.len()
        );
        assert!(
            empty.is_empty(),
            "queries without data:\n{}",
            empty.join("\n")
        );
        let errors = rule_errors(&client, &stack.prometheus).await.unwrap();
        assert!(errors.is_empty(), "rule evaluation errors: {errors:?}");

        // Exemplar trace ids keep their leading zeros: 32 hex digits, as Tempo and Grafana take them.
        let body: Value = client
            .get(format!(
                "{}/api/v1/query_exemplars?query=webstore_payment_duration_seconds_bucket&start={}&end={}",
                stack.prometheus,
                unix_now() - 300.0,
                unix_now() + 5.0
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids: Vec<String> = body["data"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s["exemplars"].as_array().cloned().unwrap_or_default())
            .filter_map(|e| e["labels"]["trace_id"].as_str().map(str::to_owned))
            .collect();
        assert!(!ids.is_empty(), "payment exemplars are stored");
        for id in &ids {
            assert!(
                id.len() == 32
                    && id
                        .chars()
                        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
                "exemplar trace_id {id:?} is 32 lowercase hex digits"
            );
        }
        stack.assert_no_panics();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs: prometheus"]
    async fn alerts_fire_and_resolve_on_live_faults() {
        test_support::require(test_support::Dependency::Prometheus);
        let test_started = Instant::now();
        let client = client();
        let transform = RuleTransform {
            window: Some(Duration::from_secs(20)),
            for_: Some("2s".to_owned()),
        };
        // A short export timeout, so a stopped receiver is a failure within the window.
        let (stack, _) = start_stack(
            &client,
            "alerts",
            transform,
            &[("OTEL_BSP_EXPORT_TIMEOUT", "2000")],
            "0.05",
        )
        .await;
        let (order, gateway, prometheus) = (
            stack.order.clone(),
            stack.gateway.clone(),
            stack.prometheus.clone(),
        );
        let ids = product_ids(&client, &stack.catalog).await;
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicUsize::new(0));
        let workers = background_checkouts(
            client.clone(),
            order.clone(),
            ids,
            stop.clone(),
            sent.clone(),
            4,
            Duration::from_millis(250),
        );

        // Baseline: payments are fast, the recording rule has a value, nothing fires.
        wait_for("a p95 under 5 s", Duration::from_secs(40), || async {
            let v = query(
                &client,
                &prometheus,
                "webstore:payment_duration_seconds:p95_5m",
            )
            .await?;
            Ok(v.first().filter(|s| s.value < 5.0).map(|_| ()))
        })
        .await
        .unwrap();
        assert!(alert_states(&client, &prometheus, "PaymentLatencyP95High")
            .await
            .unwrap()
            .is_empty());

        set_faults(&client, &gateway, r#"{"latency_ms":6000}"#).await;
        let fired = wait_alert(
            &client,
            &prometheus,
            "PaymentLatencyP95High",
            true,
            Duration::from_secs(70),
        )
        .await;
        eprintln!(
            "PaymentLatencyP95High fired {:.1} s after latency_ms=6000",
            fired.as_secs_f64()
        );

        set_faults(&client, &gateway, DEFAULT_FAULTS).await;
        let resolved = wait_alert(
            &client,
            &prometheus,
            "PaymentLatencyP95High",
            false,
            Duration::from_secs(90),
        )
        .await;
        eprintln!(
            "PaymentLatencyP95High resolved {:.1} s after latency_ms=0",
            resolved.as_secs_f64()
        );

        assert!(
            alert_states(&client, &prometheus, "SpansFailingToExport")
                .await
                .unwrap()
                .is_empty(),
            "spans export fine while the receiver runs"
        );
        let sink = stack.sink;
        sink.stop().await;
        let fired = wait_alert(
            &client,
            &prometheus,
            "SpansFailingToExport",
            true,
            Duration::from_secs(60),
        )
        .await;
        eprintln!(
            "SpansFailingToExport fired {:.1} s after the OTLP receiver stopped",
            fired.as_secs_f64()
        );

        stop.store(true, Ordering::Relaxed);
        for w in workers {
            let _ = w.await;
        }
        let errors = rule_errors(&client, &prometheus).await.unwrap();
        assert!(errors.is_empty(), "rule evaluation errors: {errors:?}");
        for p in &stack.processes {
            assert!(
                !p.log_text().contains("panicked at"),
                "{} panicked:\n{}",
                p.name(),
                p.log_tail(40)
            );
        }
        let total = test_started.elapsed();
        eprintln!(
            "alert test: {} background checkouts, {:.0} s in all",
            sent.load(Ordering::Relaxed),
            total.as_secs_f64()
        );
        assert!(
            total < Duration::from_secs(240),
            "the alert test stays under 4 minutes: {total:?}"
        );
    }
}
