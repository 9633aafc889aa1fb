//! Metrics, OpenAPI and traces.

use reqwest::header::CONTENT_TYPE;

use crate::helpers::{describe, server_span, spawn_app, wait_for_trace, TestApp};

#[tokio::test]
async fn metrics_are_openmetrics_with_the_cache_counter() {
    let app = spawn_app().await;
    assert_eq!(app.get_product("p-0001").await.status(), 200);
    let response = app.metrics().await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    let text = response.text().await.expect("body");
    assert!(
        text.contains("# TYPE webstore_catalog_cache_requests counter"),
        "{text}"
    );
    for result in ["hit", "miss", "error"] {
        assert!(
            text.contains(&format!(
                "webstore_catalog_cache_requests_total{{result=\"{result}\"}}"
            )),
            "{result}: {text}"
        );
    }
    assert!(
        text.contains(r#"http_route="/api/v1/products/{id}""#),
        "server durations are labelled with the route template: {text}"
    );
    assert!(text.trim_end().ends_with("# EOF"));
}

#[tokio::test]
async fn openapi_lists_both_product_paths() {
    let app = spawn_app().await;
    let response = app.openapi().await;
    assert_eq!(response.status(), 200);
    let doc: serde_json::Value = response.json().await.expect("JSON");
    let paths = doc["paths"].as_object().expect("paths");
    for path in [
        "/api/v1/products",
        "/api/v1/products/{id}",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} in {:?}",
            paths.keys().collect::<Vec<_>>()
        );
    }
    assert!(
        doc["components"]["schemas"]["Product"].is_object(),
        "Product schema"
    );
}

#[tokio::test]
async fn healthz_is_ok() {
    let app = spawn_app().await;
    assert!(
        app.address.ends_with(&format!(":{}", app.port)),
        "base URL carries the real port"
    );
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn unknown_routes_are_problem_json() {
    let app = spawn_app().await;
    let body = crate::helpers::assert_problem(app.get("/api/v1/nope").await, 404).await;
    assert_eq!(body["type"], "https://webstore.example/problems/not-found");
}

#[tokio::test]
async fn sqlite_sampled_request_yields_a_trace_with_server_and_database_spans() {
    traced_request_reaches_the_database(&spawn_app().await, "sqlite").await;
}

mod needs_postgres {
    use super::*;

    #[tokio::test]
    #[ignore = "needs: postgres"]
    async fn postgres_sampled_request_yields_a_trace_with_server_and_database_spans() {
        let app = TestApp::builder()
            .setting("DATABASE_URL", test_support::postgres_database().await)
            .spawn()
            .await;
        traced_request_reaches_the_database(&app, "postgresql").await;
    }
}

async fn traced_request_reaches_the_database(app: &TestApp, db_system: &str) {
    let trace = app.client.new_trace(true);
    assert_eq!(app.get_product_traced("p-0005", &trace).await.status(), 200);

    let spans = wait_for_trace(&trace, |spans| {
        server_span(spans, &trace.span_id).is_some()
            && spans.iter().any(|s| s.attribute("db.system").is_some())
    })
    .await;
    let server = server_span(&spans, &trace.span_id).unwrap_or_else(|| {
        panic!(
            "no server span parented on the sent span id:\n{}",
            describe(&spans)
        )
    });
    assert_eq!(
        server.attribute_str("http.route"),
        Some("/api/v1/products/{id}"),
        "{server:?}"
    );
    assert!(spans.iter().all(|s| s.trace_id == trace.trace_id));
    let db = spans
        .iter()
        .find(|s| s.attribute_str("db.system") == Some(db_system))
        .unwrap_or_else(|| panic!("no {db_system} span:\n{}", describe(&spans)));
    assert_eq!(db.kind, "client");
    // The in-process cache lookup is an attribute of the server span, not a span of its own.
    assert_eq!(
        server.attribute_str("webstore.cache.result"),
        Some("miss"),
        "{server:?}"
    );
    assert!(
        !spans
            .iter()
            .any(|s| s.attribute_str("db.system.name") == Some("in-process")),
        "{}",
        describe(&spans)
    );
}

/// The OpenAPI document and the route table agree: the documented paths and methods are exactly
/// the routes the service has, and each of them is really routed.
#[tokio::test]
async fn openapi_lists_exactly_the_routes() {
    let app = spawn_app().await;
    let response = app.openapi().await;
    assert_eq!(response.status(), 200);
    let doc: serde_json::Value = response.json().await.expect("JSON");
    let documented = test_support::openapi_operations(&doc);
    let mut routes = vec![
        ("GET".to_owned(), "/api/v1/products".to_owned()),
        ("GET".to_owned(), "/api/v1/products/{id}".to_owned()),
        ("GET".to_owned(), "/healthz".to_owned()),
        ("GET".to_owned(), "/metrics".to_owned()),
        ("GET".to_owned(), "/openapi.json".to_owned()),
        ("GET".to_owned(), "/readyz".to_owned()),
    ];
    routes.sort();
    assert_eq!(documented, routes);
    // Each is really routed: not the "no route" 404, not a 405.
    for (method, path) in &routes {
        let url = format!("{}{}", app.address, path.replace("{id}", "p-0001"));
        let response = app
            .client
            .request(method.parse().expect("method"), url)
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
    // And a method the table does not have is not routed.
    let response = app
        .client
        .post(format!("{}/api/v1/products", app.address))
        .send()
        .await
        .expect("send");
    assert!(matches!(response.status().as_u16(), 404 | 405));
}
