//! `/healthz`, `/readyz`, `/openapi.json`, and problem+json for unknown routes.

use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn healthz_is_200() {
    let app = spawn_app().await;
    assert_ne!(app.port, 0, "port 0 was resolved to the real port");
    let response = app.get("/healthz").await;
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn readyz_reports_the_database_up() {
    let app = spawn_app().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.expect("JSON readiness");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["components"]["database"], "up");
}

/// The OpenAPI document and the route table agree: every documented operation is routed, and
/// the documented paths and methods are exactly the routes the service has.
#[tokio::test]
async fn openapi_lists_exactly_the_routes() {
    let app = spawn_app().await;
    let response = app.get("/openapi.json").await;
    assert_eq!(response.status().as_u16(), 200);
    let doc: Value = response.json().await.expect("JSON OpenAPI document");
    let documented = test_support::openapi_operations(&doc);
    let mut routes = vec![
        ("GET".to_owned(), "/api/v1/orders/{id}".to_owned()),
        ("GET".to_owned(), "/healthz".to_owned()),
        ("GET".to_owned(), "/metrics".to_owned()),
        ("GET".to_owned(), "/openapi.json".to_owned()),
        ("GET".to_owned(), "/readyz".to_owned()),
        ("POST".to_owned(), "/api/v1/checkout".to_owned()),
    ];
    routes.sort();
    assert_eq!(documented, routes);
    // Each is really routed: not the "no route" 404, not a 405.
    for (method, path) in &routes {
        let url = app.url(&path.replace("{id}", "00000000-0000-7000-8000-000000000000"));
        let response = app
            .client
            .request(method.parse().expect("method"), url)
            .bearer_auth(ALICE_KEY)
            .json(&serde_json::json!({}))
            .send()
            .await
            .expect("send");
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        assert!(
            status != 405 && !body.contains("no route for"),
            "{method} {path}: {status} {body}"
        );
    }
}

#[tokio::test]
async fn unknown_routes_are_problem_404s() {
    let app = spawn_app().await;
    assert_problem(app.get("/api/v1/nothing-here").await, 404, "not-found").await;
}

#[tokio::test]
async fn responses_carry_the_security_headers() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(
        response
            .headers()
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff")
    );
    assert_eq!(
        response
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
}
