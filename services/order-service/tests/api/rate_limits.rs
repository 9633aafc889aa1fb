//! The two rate-limit tiers, in process and through Redis: 429 problem+json with
//! `Retry-After` and the draft-10 `RateLimit`/`RateLimit-Policy` headers, other clients
//! unaffected, the limit shared by replicas through Redis, and checkout still answering when
//! Redis is gone.

use std::time::Duration;

use crate::helpers::*;

/// An app with `RATE_LIMIT_CLIENT` and `RATE_LIMIT_GLOBAL` as given (`"3"`, `"off"`, …).
fn limited(client: &str, global: &str) -> TestAppBuilder {
    TestApp::builder()
        .setting("RATE_LIMIT_CLIENT", client)
        .setting("RATE_LIMIT_GLOBAL", global)
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
    client_tier_flow(&limited("3", "off").spawn().await).await;
}

#[tokio::test]
async fn the_global_tier_trips_across_clients() {
    global_tier_flow(&limited("100", "4").spawn().await).await;
}

#[tokio::test]
async fn requests_without_a_valid_key_are_limited_per_address_before_authentication() {
    let app = limited("2", "off").spawn().await;
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

/// An anonymous lookup that says it was forwarded for `forwarded_for`.
async fn lookup_forwarded(app: &TestApp, header: &str, forwarded_for: &str) -> u16 {
    app.client
        .get(app.url("/api/v1/orders/no-such-order"))
        .header(header, forwarded_for)
        .send()
        .await
        .expect("send the order lookup")
        .status()
        .as_u16()
}

#[tokio::test]
async fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
    // The default: no proxy is trusted, so each spoofed address still lands in the peer's bucket.
    let app = limited("2", "off").spawn().await;
    assert_eq!(
        lookup_forwarded(&app, "x-forwarded-for", "198.51.100.1").await,
        401
    );
    assert_eq!(
        lookup_forwarded(&app, "forwarded", "for=198.51.100.2").await,
        401
    );
    assert_eq!(
        lookup_forwarded(&app, "x-forwarded-for", "198.51.100.3").await,
        429,
        "a new forwarded address did not buy a new bucket"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_gets_its_own_bucket() {
    let app = limited("2", "off")
        .setting("TRUSTED_PROXIES", "127.0.0.0/8")
        .spawn()
        .await;
    let xff = "x-forwarded-for";
    // Two clients behind the proxy (127.0.0.1): each has its own quota.
    assert_eq!(lookup_forwarded(&app, xff, "203.0.113.1").await, 401);
    assert_eq!(lookup_forwarded(&app, xff, "203.0.113.1").await, 401);
    assert_eq!(lookup_forwarded(&app, xff, "203.0.113.1").await, 429);
    assert_eq!(lookup_forwarded(&app, xff, "203.0.113.2").await, 401);
    // The client wrote the leftmost entries itself; the proxy appended what it saw. Only the
    // rightmost untrusted hop counts, so rotating the spoofed part buys nothing.
    assert_eq!(
        lookup_forwarded(&app, xff, "6.6.6.6, 203.0.113.2").await,
        401
    );
    assert_eq!(
        lookup_forwarded(&app, xff, "7.7.7.7, 203.0.113.2").await,
        429
    );
    // The proxies write X-Forwarded-For (the default TRUSTED_PROXY_HEADER): a `Forwarded`
    // header came from the client and is not read, so this is the proxy's own bucket.
    assert_eq!(
        lookup_forwarded(&app, "forwarded", "for=198.51.100.9").await,
        401
    );
    assert_eq!(
        lookup_forwarded(&app, "forwarded", "for=198.51.100.10").await,
        401
    );
    assert_eq!(
        lookup_forwarded(&app, "forwarded", "for=198.51.100.11").await,
        429
    );
}

#[tokio::test]
async fn a_trusted_proxy_may_speak_rfc_7239_forwarded_instead() {
    let app = limited("1", "off")
        .setting("TRUSTED_PROXIES", "127.0.0.1")
        .setting("TRUSTED_PROXY_HEADER", "forwarded")
        .spawn()
        .await;
    let fwd = "forwarded";
    assert_eq!(
        lookup_forwarded(&app, fwd, "for=\"[2001:db8::1]:4711\"").await,
        401
    );
    assert_eq!(
        lookup_forwarded(&app, fwd, "for=\"[2001:db8::1]\";proto=https").await,
        429
    );
    assert_eq!(
        lookup_forwarded(&app, fwd, "for=192.0.2.60;proto=http").await,
        401
    );
    assert_eq!(
        lookup_forwarded(&app, "x-forwarded-for", "198.51.100.1").await,
        401,
        "X-Forwarded-For is not read: this is the proxy's own first request"
    );
    assert_eq!(
        lookup_forwarded(&app, "x-forwarded-for", "198.51.100.2").await,
        429
    );
}

#[tokio::test]
async fn a_bad_trusted_proxy_entry_is_a_start_up_error_naming_it() {
    let err = TestApp::builder()
        .setting("TRUSTED_PROXIES", "10.0.0.0/8, 10.0.0.0/33")
        .try_spawn()
        .await
        .err()
        .expect("the application refuses the setting");
    let message = format!("{err:#}");
    assert!(
        message.contains("TRUSTED_PROXIES") && message.contains("10.0.0.0/33"),
        "{message}"
    );
}

#[tokio::test]
async fn the_quota_comes_back_after_the_window() {
    let app = limited("2", "off").spawn().await;
    lookup(&app, Some(ALICE_KEY)).await;
    lookup(&app, Some(ALICE_KEY)).await;
    assert_eq!(lookup(&app, Some(ALICE_KEY)).await.status().as_u16(), 429);
    // A refused request costs nothing, so asking again until one passes only watches the
    // quota refill (one request every 500 ms at 2/s).
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let status = lookup(&app, Some(ALICE_KEY)).await.status().as_u16();
        if status == 404 {
            break;
        }
        assert_eq!(status, 429, "only refused until the quota comes back");
        assert!(
            std::time::Instant::now() < deadline,
            "the quota did not come back within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn checkout_is_limited_and_operational_routes_are_not() {
    let app = limited("1", "1").spawn().await;
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

mod needs_redis {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    #[ignore = "needs: redis"]
    async fn redis_client_tier() {
        let url = test_support::redis_url();
        client_tier_flow(&limited("3", "off").setting("REDIS_URL", url).spawn().await).await;
    }

    #[tokio::test]
    #[ignore = "needs: redis"]
    async fn redis_global_tier() {
        let url = test_support::redis_url();
        global_tier_flow(&limited("100", "4").setting("REDIS_URL", url).spawn().await).await;
    }

    #[tokio::test]
    #[ignore = "needs: redis"]
    async fn redis_shares_the_limits_between_replicas() {
        let url = test_support::redis_url();
        let prefix = format!("test-shared-{}", uuid::Uuid::new_v4().simple());
        let replica = || {
            limited("4", "off")
                .setting("REDIS_URL", url.clone())
                .setting("RATE_LIMIT_KEY_PREFIX", prefix.clone())
                .spawn()
        };
        let a = replica().await;
        let b = replica().await;
        for app in [&a, &b, &a, &b] {
            assert_eq!(lookup(app, Some(ALICE_KEY)).await.status().as_u16(), 404);
        }
        // Each replica alone has seen two requests; together they have used the quota.
        assert_problem(lookup(&b, Some(ALICE_KEY)).await, 429, "rate-limited").await;
        assert_problem(lookup(&a, Some(ALICE_KEY)).await, 429, "rate-limited").await;
        assert_eq!(lookup(&a, Some(BOB_KEY)).await.status().as_u16(), 404);
    }

    #[tokio::test]
    #[ignore = "needs: redis"]
    async fn redis_calls_are_client_spans_in_the_request_trace() {
        let url = test_support::redis_url();
        let app = limited("10", "100").setting("REDIS_URL", url).spawn().await;
        let trace = app.new_trace(true);
        let trace_id = trace.trace_id.clone();
        let response = app
            .client
            .request_in(&trace, reqwest::Method::GET, app.url("/api/v1/orders/none"))
            .bearer_auth(ALICE_KEY)
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
}

#[tokio::test]
async fn an_unreachable_redis_falls_back_to_the_in_process_limiter() {
    // Nothing listens on port 1: every Redis call fails at once.
    let app = limited("2", "100")
        .setting("REDIS_URL", "redis://127.0.0.1:1")
        .spawn()
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
