//! The two rate-limit tiers, in process and through Redis: 429 problem+json with
//! `Retry-After` and the draft-10 `RateLimit`/`RateLimit-Policy` headers, other clients
//! unaffected, the limit shared by replicas through Redis, and checkout still answering when
//! Redis is gone.

use std::time::Duration;

use order_service::ratelimit::{Limits, Quota};

use crate::helpers::*;

fn limits(client: Option<u32>, global: Option<u32>) -> Limits {
    Limits {
        client: client.map(Quota::per_second),
        global: global.map(Quota::per_second),
    }
}

async fn spawn_limited(
    limits: Limits,
    redis_url: Option<String>,
    prefix: Option<String>,
) -> TestApp {
    spawn_app_custom(
        test_support::sqlite_url(),
        Overrides {
            rate_limits: Some(limits),
            redis_url,
            rate_limit_key_prefix: prefix,
            ..Overrides::default()
        },
    )
    .await
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A cheap limited request: an order lookup (404 for an unknown id).
async fn lookup(app: &TestApp, key: Option<&str>) -> reqwest::Response {
    app.get_order("no-such-order", key).await
}

/// `client` at 3/s: three pass with the remaining count going down, the fourth is 429 with
/// every header right, another client is unaffected.
async fn client_tier_flow(app: &TestApp) {
    for remaining in [2, 1, 0] {
        let response = lookup(app, Some(ALICE_KEY)).await;
        assert_eq!(response.status().as_u16(), 404);
        assert_eq!(
            header(&response, "ratelimit-policy").as_deref(),
            Some("\"client\";q=3;w=1")
        );
        assert_eq!(
            header(&response, "ratelimit").as_deref(),
            Some(format!("\"client\";r={remaining};t=1").as_str())
        );
    }
    let refused = lookup(app, Some(ALICE_KEY)).await;
    assert_eq!(header(&refused, "retry-after").as_deref(), Some("1"));
    assert_eq!(
        header(&refused, "ratelimit-policy").as_deref(),
        Some("\"client\";q=3;w=1")
    );
    assert_eq!(
        header(&refused, "ratelimit").as_deref(),
        Some("\"client\";r=0;t=1")
    );
    let problem = assert_problem(refused, 429, "rate-limited").await;
    assert_eq!(problem["tier"], "client");

    let bob = lookup(app, Some(BOB_KEY)).await;
    assert_eq!(bob.status().as_u16(), 404, "another client is unaffected");

    let metrics = app.metrics_text().await;
    assert!(
        metrics.contains("webstore_rate_limited_total{tier=\"client\"} 1\n"),
        "{metrics}"
    );
}

async fn global_tier_flow(app: &TestApp) {
    for key in [ALICE_KEY, ALICE_KEY, BOB_KEY, BOB_KEY] {
        assert_eq!(lookup(app, Some(key)).await.status().as_u16(), 404);
    }
    let refused = lookup(app, Some(BOB_KEY)).await;
    assert_eq!(
        header(&refused, "ratelimit-policy").as_deref(),
        Some("\"global\";q=4;w=1")
    );
    assert_eq!(
        header(&refused, "ratelimit").as_deref(),
        Some("\"global\";r=0;t=1")
    );
    assert!(header(&refused, "retry-after").is_some());
    let problem = assert_problem(refused, 429, "rate-limited").await;
    assert_eq!(problem["tier"], "global");
    let metrics = app.metrics_text().await;
    assert!(
        metrics.contains("webstore_rate_limited_total{tier=\"global\"} 1\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_burst_over_the_client_limit_is_429_with_ratelimit_headers() {
    client_tier_flow(&spawn_limited(limits(Some(3), None), None, None).await).await;
}

#[tokio::test]
async fn the_global_tier_trips_across_clients() {
    global_tier_flow(&spawn_limited(limits(Some(100), Some(4)), None, None).await).await;
}

#[tokio::test]
async fn requests_without_a_valid_key_are_limited_per_address_before_authentication() {
    let app = spawn_limited(limits(Some(2), None), None, None).await;
    assert_eq!(lookup(&app, None).await.status().as_u16(), 401);
    assert_eq!(lookup(&app, Some("wrong-key")).await.status().as_u16(), 401);
    // A key-guessing client is stopped by its address, whatever keys it tries.
    assert_problem(
        lookup(&app, Some("another-guess")).await,
        429,
        "rate-limited",
    )
    .await;
    assert_eq!(lookup(&app, Some(ALICE_KEY)).await.status().as_u16(), 404);
}

#[tokio::test]
async fn the_quota_comes_back_after_the_window() {
    let app = spawn_limited(limits(Some(2), None), None, None).await;
    lookup(&app, Some(ALICE_KEY)).await;
    lookup(&app, Some(ALICE_KEY)).await;
    assert_eq!(lookup(&app, Some(ALICE_KEY)).await.status().as_u16(), 429);
    tokio::time::sleep(Duration::from_millis(550)).await;
    assert_eq!(lookup(&app, Some(ALICE_KEY)).await.status().as_u16(), 404);
}

#[tokio::test]
async fn checkout_is_limited_and_operational_routes_are_not() {
    let app = spawn_limited(limits(Some(1), Some(1)), None, None).await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_charge_succeeds("ch_1").await;
    let first = app
        .post_checkout(&basket(&[("p-1", 1)]), Some(ALICE_KEY))
        .await;
    assert_eq!(
        header(&first, "ratelimit").as_deref(),
        Some("\"client\";r=0;t=1")
    );
    assert_created(first).await;
    assert_problem(
        app.post_checkout(&basket(&[("p-1", 1)]), Some(ALICE_KEY))
            .await,
        429,
        "rate-limited",
    )
    .await;
    assert_eq!(app.order_count().await, 1);
    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
        for _ in 0..3 {
            let response = app.get(path).await;
            assert_eq!(response.status().as_u16(), 200, "{path}");
            assert!(header(&response, "ratelimit").is_none(), "{path}");
        }
    }
}

// --- Redis ---------------------------------------------------------------------------------

#[tokio::test]
async fn redis_client_tier() {
    let Some(url) = test_support::redis_url() else {
        return;
    };
    client_tier_flow(&spawn_limited(limits(Some(3), None), Some(url), None).await).await;
}

#[tokio::test]
async fn redis_global_tier() {
    let Some(url) = test_support::redis_url() else {
        return;
    };
    global_tier_flow(&spawn_limited(limits(Some(100), Some(4)), Some(url), None).await).await;
}

#[tokio::test]
async fn redis_shares_the_limits_between_replicas() {
    let Some(url) = test_support::redis_url() else {
        return;
    };
    let prefix = format!("test-shared-{}", uuid::Uuid::new_v4().simple());
    let a = spawn_limited(
        limits(Some(4), None),
        Some(url.clone()),
        Some(prefix.clone()),
    )
    .await;
    let b = spawn_limited(limits(Some(4), None), Some(url), Some(prefix)).await;
    for app in [&a, &b, &a, &b] {
        assert_eq!(lookup(app, Some(ALICE_KEY)).await.status().as_u16(), 404);
    }
    // Each replica alone has seen two requests; together they have used the quota.
    assert_problem(lookup(&b, Some(ALICE_KEY)).await, 429, "rate-limited").await;
    assert_problem(lookup(&a, Some(ALICE_KEY)).await, 429, "rate-limited").await;
    assert_eq!(lookup(&a, Some(BOB_KEY)).await.status().as_u16(), 404);
}

#[tokio::test]
async fn redis_calls_are_client_spans_in_the_request_trace() {
    let Some(url) = test_support::redis_url() else {
        return;
    };
    let app = spawn_limited(limits(Some(10), Some(100)), Some(url), None).await;
    let trace_id = random_trace_id();
    let response = app
        .client
        .get(app.url("/api/v1/orders/none"))
        .bearer_auth(ALICE_KEY)
        .header(
            "traceparent",
            traceparent(&trace_id, &random_span_id(), true),
        )
        .send()
        .await
        .expect("send");
    assert_eq!(response.status().as_u16(), 404);
    let spans = test_support::telemetry()
        .store
        .wait_for_trace(
            &trace_id,
            |spans| spans.iter().any(|s| s.name == "EVALSHA"),
            Duration::from_secs(5),
        )
        .await;
    let redis = spans
        .iter()
        .find(|s| s.name == "EVALSHA")
        .unwrap_or_else(|| panic!("no EVALSHA span:\n{}", describe(&spans)));
    assert_eq!(redis.kind, "client");
    assert_eq!(redis.attributes["db.system.name"], "redis");
    assert_eq!(redis.attributes["db.operation.name"], "EVALSHA");
    assert!(redis.attributes.contains_key("server.address"));
}

#[tokio::test]
async fn an_unreachable_redis_falls_back_to_the_in_process_limiter() {
    // Nothing listens on port 1: every Redis call fails at once.
    let app = spawn_limited(
        limits(Some(2), Some(100)),
        Some("redis://127.0.0.1:1".to_owned()),
        None,
    )
    .await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_charge_succeeds("ch_1").await;
    assert_created(
        app.post_checkout(&basket(&[("p-1", 1)]), Some(ALICE_KEY))
            .await,
    )
    .await;
    assert_eq!(lookup(&app, Some(ALICE_KEY)).await.status().as_u16(), 404);
    assert_problem(lookup(&app, Some(ALICE_KEY)).await, 429, "rate-limited").await;

    let metrics = app.metrics_text().await;
    for tier in ["client", "global"] {
        let line = lines_starting(
            &metrics,
            &format!("webstore_rate_limit_fallback_total{{tier=\"{tier}\"}} "),
        );
        assert_eq!(line.len(), 1, "{metrics}");
        assert!(!line[0].ends_with(" 0"), "{metrics}");
    }
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status().as_u16(), 200, "Redis never fails readiness");
    let body: serde_json::Value = ready.json().await.expect("JSON");
    assert_eq!(body["components"]["redis"], "down");
}
