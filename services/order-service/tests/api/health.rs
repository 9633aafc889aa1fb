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

#[tokio::test]
async fn openapi_lists_the_api_routes() {
    let app = spawn_app().await;
    let response = app.get("/openapi.json").await;
    assert_eq!(response.status().as_u16(), 200);
    let doc: Value = response.json().await.expect("JSON OpenAPI document");
    let paths = doc["paths"].as_object().expect("paths");
    for route in [
        "/api/v1/checkout",
        "/api/v1/orders/{id}",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(
            paths.contains_key(route),
            "{route} missing from {:?}",
            paths.keys().collect::<Vec<_>>()
        );
    }
    assert!(paths["/api/v1/checkout"]["post"].is_object());
    assert!(paths["/api/v1/orders/{id}"]["get"].is_object());
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
