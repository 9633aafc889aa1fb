//! Health, readiness, metrics, the OpenAPI document, and trace context.

use std::time::Duration;

use crate::helpers::{charge_body, header, new_key, read, spawn_app, TestApp, ADMIN_TOKEN};

#[tokio::test]
async fn healthz_and_readyz_answer_200() {
    let app = spawn_app().await;
    // Bound on port 0; the application kept the real port.
    assert_ne!(app.port, 0);
    assert!(app.address.ends_with(&format!(":{}", app.port)));
    let (status, _, _, body) = read(app.get("/healthz").await).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    let (status, _, _, body) = read(app.get("/readyz").await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["components"]["database"], "up");
}

mod needs_postgres {
    use super::*;

    #[tokio::test]
    #[ignore = "needs: postgres"]
    async fn readyz_on_postgres() {
        let app = TestApp::builder()
            .setting("DATABASE_URL", test_support::postgres_database().await)
            .spawn()
            .await;
        let (status, _, _, body) = read(app.get("/readyz").await).await;
        assert_eq!(status, 200, "{body}");
    }
}

#[tokio::test]
async fn metrics_are_openmetrics_with_the_http_and_gateway_families() {
    let app = spawn_app().await;
    let (status, _, _, _) = read(
        app.post_charge(Some(&new_key()), &charge_body("ord_m"))
            .await,
    )
    .await;
    assert_eq!(status, 201);

    let (status, headers, text, _) = read(app.get("/metrics").await).await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    assert!(
        text.contains("http_server_request_duration_seconds"),
        "{text}"
    );
    assert!(text.contains(r#"http_route="/v1/charges""#), "{text}");
    assert!(
        text.contains(
            r#"webstore_gateway_charges_total{payment_method="card",outcome="succeeded"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains("webstore_gateway_simulated_latency_seconds"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("# EOF"));
}

#[tokio::test]
async fn openapi_lists_the_charge_and_admin_routes() {
    let app = spawn_app().await;
    let (status, _, _, doc) = read(app.get("/openapi.json").await).await;
    assert_eq!(status, 200);
    for path in [
        "/v1/charges",
        "/v1/charges/{id}",
        "/admin/faults",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from {}",
            doc["paths"]
        );
    }
    assert!(doc["components"]["schemas"].get("ChargeView").is_some());
}

/// The documented `(METHOD, path)` pairs of the app's `/openapi.json`, sorted.
async fn documented_operations(app: &TestApp) -> Vec<(String, String)> {
    let (status, _, _, doc) = read(app.get("/openapi.json").await).await;
    assert_eq!(status, 200);
    test_support::openapi_operations(&doc)
}

/// Every route in `routes` is really served: not the "no route" 404, not a 405.
async fn assert_routed(app: &TestApp, routes: &[(String, String)]) {
    for (method, path) in routes {
        let url = app.url(&path.replace("{id}", "00000000-0000-7000-8000-000000000000"));
        let response = app
            .client
            .request(method.parse().expect("method"), url)
            .bearer_auth(ADMIN_TOKEN)
            .header("Idempotency-Key", new_key())
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

fn route_table(admin: bool) -> Vec<(String, String)> {
    let mut routes: Vec<(String, String)> = [
        ("GET", "/healthz"),
        ("GET", "/metrics"),
        ("GET", "/openapi.json"),
        ("GET", "/readyz"),
        ("GET", "/v1/charges"),
        ("GET", "/v1/charges/{id}"),
        ("POST", "/v1/charges"),
    ]
    .into_iter()
    .chain(
        admin
            .then_some([("GET", "/admin/faults"), ("PUT", "/admin/faults")])
            .into_iter()
            .flatten(),
    )
    .map(|(m, p)| (m.to_owned(), p.to_owned()))
    .collect();
    routes.sort();
    routes
}

/// The OpenAPI document and the route table agree (admin API on): the documented paths and
/// methods are exactly the routes the gateway has, and each is really routed.
#[tokio::test]
async fn openapi_lists_exactly_the_routes() {
    let app = spawn_app().await;
    let routes = route_table(true);
    assert_eq!(documented_operations(&app).await, routes);
    assert_routed(&app, &routes).await;
}

/// Without `ADMIN_TOKEN` the `/admin/faults` routes do not exist, so the document does not list
/// them either (nor the admin security scheme).
#[tokio::test]
async fn openapi_without_admin_lists_exactly_the_routes() {
    let app = TestApp::builder().without_admin().spawn().await;
    let routes = route_table(false);
    assert_eq!(documented_operations(&app).await, routes);
    assert_routed(&app, &routes).await;
    let (_, _, _, doc) = read(app.get("/openapi.json").await).await;
    assert!(
        doc["components"]["securitySchemes"]
            .get("admin_token")
            .is_none(),
        "{doc}"
    );
    let (status, _, _, _) = read(app.get_faults(Some(ADMIN_TOKEN)).await).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_incoming_traceparent_parents_the_server_span() {
    let app = spawn_app().await;
    let trace = app.client.new_trace(true);
    let (trace_id, parent_span_id) = (&trace.trace_id, trace.span_id.as_str());

    let response = app
        .client
        .request_in(&trace, reqwest::Method::POST, app.url("/v1/charges"))
        .header("Idempotency-Key", new_key())
        .json(&charge_body("ord_t"))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 201);

    let spans = test_support::telemetry()
        .store
        .wait_for_trace(
            trace_id,
            |spans| {
                spans.iter().any(|s| s.kind == "server")
                    && spans.iter().any(|s| s.name == "charge.process")
            },
            Duration::from_secs(10),
        )
        .await;
    let server = spans
        .iter()
        .find(|s| s.kind == "server")
        .unwrap_or_else(|| panic!("no server span in {spans:#?}"));
    assert_eq!(server.parent_span_id.as_deref(), Some(parent_span_id));

    let process = spans
        .iter()
        .find(|s| s.name == "charge.process")
        .unwrap_or_else(|| panic!("no charge.process span in {spans:#?}"));
    assert_eq!(process.kind, "internal");
    assert_eq!(
        process.parent_span_id.as_deref(),
        Some(server.span_id.as_str())
    );
    assert_eq!(process.attribute_str("payment.method"), Some("card"));
    assert_eq!(process.attribute_str("charge.outcome"), Some("succeeded"));
}

#[tokio::test]
async fn an_unserved_method_is_a_405_problem_with_allow() {
    let app = spawn_app().await;
    let response = app
        .client
        .delete(app.url("/v1/charges"))
        .send()
        .await
        .expect("DELETE");
    let (status, headers, _, body) = read(response).await;
    crate::helpers::assert_problem(status, &headers, &body, 405, "method-not-allowed");
    assert_eq!(header(&headers, "allow"), Some("GET, HEAD, POST, OPTIONS"));
}

/// Counters whose label values are known exist at 0 on a fresh gateway, so that `increase()`
/// over them sees the first increment after a restart.
#[tokio::test]
async fn labelled_counters_start_at_zero() {
    let app = spawn_app().await;
    let (_, _, text, _) = read(app.get("/metrics").await).await;
    for method in ["card", "paypal", "apple_pay", "bank_transfer"] {
        for outcome in ["succeeded", "declined", "timeout", "error"] {
            let series = format!(
                "\nwebstore_gateway_charges_total{{payment_method=\"{method}\",outcome=\"{outcome}\"}} 0\n"
            );
            assert!(text.contains(&series), "{series}in:\n{text}");
        }
    }
    for result in ["replayed", "key_reuse"] {
        let series =
            format!("\nwebstore_gateway_idempotent_replays_total{{result=\"{result}\"}} 0\n");
        assert!(text.contains(&series), "{series}in:\n{text}");
    }
}
