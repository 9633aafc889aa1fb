//! A deploy in the middle of checkouts: SIGTERM while two charges wait on a slow gateway, one of
//! them for a client that already hung up. Both orders settle, `/readyz` says 503 meanwhile, the
//! process exits 0 within `SHUTDOWN_TIMEOUT` having flushed its spans, and after a restart the
//! client that hung up learns its order was paid.

use std::path::Path;
use std::time::{Duration, Instant};

use devstack::os::{self, Signal};
use devstack::services::{self, Addresses, CATALOG, GATEWAY, ORDER};
use devstack::{Probe, Process, HOST};
use system_tests::{binaries, free_port, launch, start_ready, Scratch, ADMIN_TOKEN, API_KEY};
use test_support::OtlpSink;

const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);
/// The gateway's injected latency: the drain begins while both charges wait on it.
const GATEWAY_LATENCY_MS: u64 = 2500;

fn start(service: &str, addresses: &Addresses, dir: &Path) -> Process {
    let bin = binaries().unwrap_or_else(|e| panic!("{e:#}"));
    let db = format!("sqlite://{}/{service}.db?mode=rwc", dir.display());
    let mut launch = launch(service, bin.get(service).unwrap(), dir)
        .envs(services::identity(service, addresses))
        .envs(services::neighbours(service, addresses))
        .env("DATABASE_URL", db)
        .env("LOG_FORMAT", "json")
        .env("HTTP_WORKERS", "2")
        .stop_grace(Duration::from_secs(20));
    launch = match service {
        ORDER => launch
            .env("API_KEYS", format!("e2e:{API_KEY}"))
            .env(
                "SHUTDOWN_TIMEOUT",
                format!("{}s", SHUTDOWN_TIMEOUT.as_secs()),
            )
            // Only the shutdown flush can deliver the spans this test looks for.
            .env("OTEL_BSP_SCHEDULE_DELAY", "600000"),
        GATEWAY => launch
            .env("ADMIN_TOKEN", ADMIN_TOKEN)
            .env("GATEWAY_LATENCY_SCALE", "0"),
        _ => launch,
    };
    let probe = Probe::new(
        addresses.of(service).unwrap_or_default(),
        services::ready_path(service),
    );
    start_ready(launch, &probe).unwrap_or_else(|e| panic!("{e:#}"))
}

/// Orders written so far (each checkout observes its amount once the order row exists).
async fn orders_written(client: &reqwest::Client, order: &str) -> u64 {
    let Ok(res) = client.get(format!("{order}/metrics")).send().await else {
        return 0;
    };
    let text = res.text().await.unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with("webstore_checkout_amount_usd_count"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

fn checkout_body() -> serde_json::Value {
    serde_json::json!({
        "country": "US",
        "payment_method": "card",
        "items": [{"product_id": "p-0002", "quantity": 1}],
    })
}

#[tokio::test]
async fn sigterm_mid_checkout_settles_every_order_and_exits_zero() {
    let sink = OtlpSink::start_in_background("127.0.0.1:0".parse().unwrap()).unwrap();
    let dir = Scratch::new("drain").unwrap();
    let addr = || format!("{HOST}:{}", free_port().unwrap());
    let addresses = Addresses {
        order: addr(),
        catalog: addr(),
        gateway: addr(),
        otlp: Some(sink.base_url()),
    };
    let _catalog = start(CATALOG, &addresses, dir.path());
    let _gateway = start(GATEWAY, &addresses, dir.path());
    let mut order = start(ORDER, &addresses, dir.path());
    let (order_url, gateway_url) = (
        format!("http://{}", addresses.order),
        format!("http://{}", addresses.gateway),
    );
    let client = reqwest::Client::new();
    let faults = client
        .put(format!("{gateway_url}/admin/faults"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&serde_json::json!({"latency_ms": GATEWAY_LATENCY_MS, "decline_rate": 0.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(faults.status(), 200);

    // A: a client that gives up after 300 ms and goes away.
    let trace_id = "7d1c0e5b2a3f4e6d8c9b0a1f2e3d4c5b";
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let hung_up = impatient
        .post(format!("{order_url}/api/v1/checkout"))
        .bearer_auth(API_KEY)
        .header("Idempotency-Key", "drain-a")
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .json(&checkout_body())
        .send()
        .await;
    assert!(
        hung_up.is_err(),
        "the impatient client gave up: {hung_up:?}"
    );
    // B: a client that waits.
    let patient = {
        let request = client
            .post(format!("{order_url}/api/v1/checkout"))
            .bearer_auth(API_KEY)
            .header("Idempotency-Key", "drain-b")
            .json(&checkout_body());
        tokio::spawn(async move { request.send().await })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while orders_written(&client, &order_url).await < 2 {
        assert!(Instant::now() < deadline, "two orders written within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let readyz = format!("{order_url}/readyz");
    assert_eq!(client.get(&readyz).send().await.unwrap().status(), 200);

    let signalled = Instant::now();
    os::send(order.id(), Signal::Terminate).unwrap();

    // What a load balancer's health check sees while the charges finish.
    let deadline = Instant::now() + Duration::from_secs(2);
    let draining = loop {
        let res = client
            .get(&readyz)
            .send()
            .await
            .expect("/readyz answers while draining");
        let status = res.status();
        let body = res.text().await.unwrap_or_default();
        if status == 503 {
            break body;
        }
        assert!(Instant::now() < deadline, "/readyz still {status}: {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(draining.contains("draining"), "{draining}");

    let answered = patient.await.unwrap().expect("B's answer");
    assert_eq!(answered.status(), 201, "B: {:?}", answered.text().await);

    let deadline = signalled + SHUTDOWN_TIMEOUT + Duration::from_secs(5);
    let exit = loop {
        if let Some(exit) = order.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "order-service still running {:?} after SIGTERM:\n{}",
            signalled.elapsed(),
            order.log_tail(30)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exit.success(), "exit {exit:?}:\n{}", order.log_tail(30));
    let log = order.log_text();
    assert!(!log.contains("panicked at"), "{log}");

    // The task of the client that hung up ran to its end and its spans left at shutdown.
    let spans = sink
        .store
        .wait_for_trace(
            trace_id,
            |s| {
                s.iter()
                    .any(|s| s.kind == "client" && s.name.contains("/v1/charges"))
            },
            Duration::from_secs(5),
        )
        .await;
    assert!(
        spans
            .iter()
            .any(|s| s.kind == "client" && s.name.contains("/v1/charges")),
        "the charge's client span was flushed: {:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );

    // Restarted on the same database, the retry of A replays the order the drain settled.
    let _order = start(ORDER, &addresses, dir.path());
    let replay = client
        .post(format!("{order_url}/api/v1/checkout"))
        .bearer_auth(API_KEY)
        .header("Idempotency-Key", "drain-a")
        .json(&checkout_body())
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 201);
    assert_eq!(
        replay
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true"),
        "A's order was settled (and its answer stored) during the drain"
    );
}
