//! W3C trace context out: every outgoing call carries a `traceparent` naming the client span
//! that made it, and that span hangs under the checkout's server span, which hangs under the
//! caller's span.

use serde_json::json;

use crate::helpers::*;

struct Traced {
    trace_id: String,
    /// The span id the test sent as the caller.
    remote_parent: String,
}

/// A sampled, charged checkout sent with a fresh `traceparent`.
async fn traced_checkout(app: &TestApp) -> Traced {
    app.given_product("p-1", "Widget", 1999).await;
    app.given_charge_succeeds("ch_1").await;
    let trace = app.new_trace(true);
    let response = app
        .post_checkout_traced(&basket(&[("p-1", 1)]), ALICE_KEY, &trace)
        .await;
    let TestTrace {
        trace_id,
        span_id: remote_parent,
        ..
    } = trace;
    let placed = assert_created(response).await;
    assert_eq!(
        placed["trace_id"],
        trace_id.as_str(),
        "the checkout continues the caller's trace"
    );
    Traced {
        trace_id,
        remote_parent,
    }
}

/// Checks the request a mock received against the spans exported for the trace, and returns
/// the client span's attributes for further checks.
async fn assert_client_span(
    traced: &Traced,
    request: &wiremock::Request,
    span_name: &str,
) -> serde_json::Map<String, serde_json::Value> {
    let (trace_id, client_span_id, flags) = parse_traceparent(request);
    assert_eq!(
        trace_id, traced.trace_id,
        "same trace as the incoming request"
    );
    assert_eq!(flags, "01", "sampled, as the caller asked");
    assert_ne!(
        client_span_id, traced.remote_parent,
        "a span of our own, not the caller's"
    );

    let spans = wait_for_spans(
        &traced.trace_id,
        std::slice::from_ref(&client_span_id),
        &traced.remote_parent,
    )
    .await;
    let chain =
        chain_to_remote(&spans, &client_span_id, &traced.remote_parent).unwrap_or_else(|| {
            panic!(
                "no chain from {client_span_id} to the caller's span:\n{}",
                describe(&spans)
            )
        });
    let client = chain[0];
    assert_eq!(client.kind, "client", "{}", describe(&spans));
    assert_eq!(client.name, span_name, "{}", describe(&spans));
    let server = chain[chain.len() - 1];
    assert_eq!(server.kind, "server", "{}", describe(&spans));
    assert_eq!(server.name, "POST /api/v1/checkout", "{}", describe(&spans));
    assert_eq!(
        server.parent_span_id.as_deref(),
        Some(traced.remote_parent.as_str())
    );
    assert!(chain.len() >= 2, "the client span is not the server span");
    client.attributes.clone()
}

/// `http.response.status_code`, read as a number whether exported as an integer (semconv) or as
/// a string (what tracing-opentelemetry 0.33 makes of a `u16` recorded on a span).
fn status_code(attributes: &serde_json::Map<String, serde_json::Value>) -> Option<i64> {
    match attributes.get("http.response.status_code")? {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

#[tokio::test]
async fn traceparent_sent_to_the_gateway_names_the_payment_client_span() {
    let app = spawn_app().await;
    let traced = traced_checkout(&app).await;
    let charges = app.charge_requests().await;
    assert_eq!(charges.len(), 1);

    let attributes = assert_client_span(&traced, &charges[0], "POST /v1/charges").await;
    assert_eq!(attributes.get("http.request.method"), Some(&json!("POST")));
    assert_eq!(status_code(&attributes), Some(201));
}

#[tokio::test]
async fn traceparent_sent_to_the_catalog_names_the_catalog_client_span() {
    let app = spawn_app().await;
    let traced = traced_checkout(&app).await;
    let lookups = app.catalog_requests().await;
    assert_eq!(lookups.len(), 1);

    let attributes = assert_client_span(&traced, &lookups[0], "GET /api/v1/products/{id}").await;
    assert_eq!(attributes.get("http.request.method"), Some(&json!("GET")));
    assert_eq!(status_code(&attributes), Some(200));
}

#[tokio::test]
async fn a_checkout_without_traceparent_starts_a_trace_and_propagates_it() {
    let app = spawn_app().await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_charge_succeeds("ch_1").await;

    // The plain client: no `traceparent` at all.
    let response = app
        .client
        .untraced()
        .post(app.url("/api/v1/checkout"))
        .bearer_auth(ALICE_KEY)
        .json(&basket(&[("p-1", 1)]))
        .send()
        .await
        .expect("send the checkout");
    let placed = assert_created(response).await;
    let trace_id = placed["trace_id"].as_str().expect("a new sampled trace");
    assert!(
        !app.client.traces().contains(trace_id),
        "a trace the service started, not one of the test's"
    );
    let (sent_to_gateway, _, flags) = parse_traceparent(&app.charge_requests().await[0]);
    let (sent_to_catalog, _, _) = parse_traceparent(&app.catalog_requests().await[0]);
    assert_eq!(sent_to_gateway, trace_id);
    assert_eq!(sent_to_catalog, trace_id);
    assert_eq!(flags, "01");
}
