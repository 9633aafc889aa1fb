//! The read-through cache: in-process by default, Redis when configured, and a broken Redis
//! never failing a request.

use crate::helpers::{describe, spawn_app, wait_for_trace, TestApp};

#[tokio::test]
async fn in_process_second_get_is_a_hit() {
    let app = spawn_app().await;
    assert_eq!(app.cache_requests("hit").await, 0);
    assert_eq!(app.get_product("p-0002").await.status(), 200);
    assert_eq!(app.cache_requests("miss").await, 1);
    assert_eq!(app.cache_requests("hit").await, 0);
    let first: serde_json::Value = app.get_product("p-0002").await.json().await.expect("JSON");
    assert_eq!(app.cache_requests("hit").await, 1);
    assert_eq!(app.cache_requests("miss").await, 1);
    assert_eq!(app.cache_requests("error").await, 0);
    assert_eq!(first["id"], "p-0002");
}

#[tokio::test]
async fn in_process_list_pages_are_cached_too() {
    let app = spawn_app().await;
    let a: serde_json::Value = app
        .list_products("limit=3")
        .await
        .json()
        .await
        .expect("JSON");
    let b: serde_json::Value = app
        .list_products("limit=3")
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(a, b);
    assert_eq!(app.cache_requests("miss").await, 1);
    assert_eq!(app.cache_requests("hit").await, 1);
}

#[tokio::test]
async fn unknown_products_are_not_cached() {
    let app = spawn_app().await;
    for _ in 0..2 {
        assert_eq!(app.get_product("p-9999").await.status(), 404);
    }
    assert_eq!(app.cache_requests("miss").await, 2);
    assert_eq!(app.cache_requests("hit").await, 0);
}

#[tokio::test]
async fn readyz_without_redis_says_not_configured() {
    let app = spawn_app().await;
    let response = app.readyz().await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["components"]["database"], "up");
    assert_eq!(body["components"]["redis"], "not configured");
}

#[tokio::test]
async fn unreachable_redis_serves_from_the_database_and_counts_errors() {
    // Port 1 on loopback: nothing listens there.
    let app = TestApp::builder()
        .setting("REDIS_URL", "redis://127.0.0.1:1")
        .spawn()
        .await;
    for _ in 0..3 {
        let response = app.get_product("p-0004").await;
        assert_eq!(response.status(), 200);
        let product: serde_json::Value = response.json().await.expect("JSON");
        assert_eq!(product["id"], "p-0004");
    }
    assert_eq!(app.list_products("limit=2").await.status(), 200);
    assert_eq!(app.cache_requests("error").await, 4);
    assert_eq!(app.cache_requests("hit").await, 0);

    let response = app.readyz().await;
    assert_eq!(response.status(), 200, "Redis never fails readiness");
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["components"]["redis"], "down");
    assert_eq!(body["components"]["database"], "up");

    let logs = app.logs();
    assert!(
        logs.iter()
            .any(|l| l.contains("WARN") && l.contains("127.0.0.1:1")),
        "a warning of this test's requests names the unreachable Redis:\n{}",
        logs.join("\n")
    );
}

/// Against a real Redis (`test_support::external`).
mod needs_redis {
    use super::*;

    #[tokio::test]
    #[ignore = "needs: redis"]
    async fn redis_second_get_is_a_hit_with_a_redis_client_span() {
        let redis_url = test_support::redis_url();
        let app = TestApp::builder()
            .setting("REDIS_URL", &redis_url)
            .spawn()
            .await;

        assert_eq!(app.get_product("p-0003").await.status(), 200);
        assert_eq!(app.cache_requests("miss").await, 1);

        let trace = app.client.new_trace(true);
        let response = app.get_product_traced("p-0003", &trace).await;
        assert_eq!(response.status(), 200);
        let product: serde_json::Value = response.json().await.expect("JSON");
        assert_eq!(product["id"], "p-0003");
        assert_eq!(app.cache_requests("hit").await, 1);
        assert_eq!(app.cache_requests("error").await, 0);

        let is_redis_get = |s: &test_support::StoredSpan| {
            s.kind == "client"
                && s.name == "GET"
                && s.attribute_str("db.system.name") == Some("redis")
        };
        // Both: the server span ends only once the response body has been sent, which can be
        // after the client has read it.
        let spans = wait_for_trace(&trace, |spans| {
            spans.iter().any(is_redis_get) && spans.iter().any(|s| s.kind == "server")
        })
        .await;
        let get = spans
            .iter()
            .find(|s| is_redis_get(s))
            .unwrap_or_else(|| panic!("no Redis GET span:\n{}", describe(&spans)));
        assert_eq!(get.attribute_str("db.operation.name"), Some("GET"));
        assert_eq!(get.attribute_str("webstore.cache.result"), Some("hit"));
        let server = spans
            .iter()
            .find(|s| s.kind == "server")
            .unwrap_or_else(|| panic!("no server span:\n{}", describe(&spans)));
        assert_eq!(server.attribute_str("webstore.cache.result"), Some("hit"));
        assert!(get.attribute_str("server.address").is_some(), "{get:?}");
        assert!(get.attribute("server.port").is_some(), "{get:?}");
        assert!(
            !spans.iter().any(|s| s.attribute("db.system").is_some()),
            "a hit does not touch the database:\n{}",
            describe(&spans)
        );

        // The entry sits under the documented key, with the configured TTL (60 s by default).
        let key = format!("{}catalog:product:p-0003", app.key_prefix);
        let client = deadpool_redis::redis::Client::open(redis_url.as_str()).expect("Redis URL");
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("Redis connection");
        let (value, ttl_ms): (Option<String>, i64) = deadpool_redis::redis::pipe()
            .cmd("GET")
            .arg(&key)
            .cmd("PTTL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .expect("GET + PTTL");
        let cached: serde_json::Value =
            serde_json::from_str(&value.expect("cached entry")).expect("JSON entry");
        assert_eq!(cached, product);
        assert!((1..=60_000).contains(&ttl_ms), "PTTL {ttl_ms}");
    }

    #[tokio::test]
    #[ignore = "needs: redis"]
    async fn redis_readyz_reports_redis_up() {
        let redis_url = test_support::redis_url();
        let app = TestApp::builder()
            .setting("REDIS_URL", &redis_url)
            .spawn()
            .await;
        let body: serde_json::Value = app.readyz().await.json().await.expect("JSON");
        assert_eq!(body["components"]["redis"], "up", "{body}");
    }
}
