//! Suspicious-activity rules: each fires on its case — flagging, never blocking: a metric, an
//! event on the checkout span and a warning log line with the trace id — and ordinary baskets
//! (including ones just under each threshold) stay quiet.

use std::time::Duration;

use serde_json::{json, Value};
use wiremock::ResponseTemplate;

use crate::helpers::*;

fn suspicious_lines(metrics: &str) -> Vec<&str> {
    lines_starting(metrics, "webstore_suspicious_activity_total")
}

async fn assert_flagged(app: &TestApp, rule: &str, times: u64) {
    let metrics = app.metrics_text().await;
    let line = format!("webstore_suspicious_activity_total{{rule=\"{rule}\"}} {times}\n");
    assert!(metrics.contains(&line), "{line}{metrics}");
}

/// Every rule's series is there from the start, at 0; quiet means they all still are.
async fn assert_quiet(app: &TestApp) {
    let metrics = app.metrics_text().await;
    let lines = suspicious_lines(&metrics);
    assert_eq!(lines.len(), 4, "one series per rule: {lines:?}");
    assert!(lines.iter().all(|l| l.ends_with(" 0")), "{lines:?}");
}

/// A traced checkout; returns the response and its trace id.
async fn traced(app: &TestApp, body: &Value) -> (reqwest::Response, String) {
    let trace = app.new_trace(true);
    let response = app.post_checkout_traced(body, ALICE_KEY, &trace).await;
    (response, trace.trace_id)
}

/// The rule's span event in the trace, and its warning log line with the trace id.
async fn assert_reported(app: &TestApp, trace_id: &str, rule: &str) {
    let spans = test_support::telemetry()
        .store
        .wait_for_trace(
            trace_id,
            |spans| {
                spans
                    .iter()
                    .any(|s| s.events.iter().any(|e| e.name == "order.suspicious"))
            },
            Duration::from_secs(5),
        )
        .await;
    let event = spans
        .iter()
        .flat_map(|s| &s.events)
        .find(|e| e.name == "order.suspicious")
        .unwrap_or_else(|| panic!("no order.suspicious event:\n{}", describe(&spans)));
    assert_eq!(event.attributes["suspicious.rule"], rule);
    assert!(event.attributes.contains_key("suspicious.reason"));
    let logs = app.logs();
    let line = logs
        .iter()
        .find(|l| l.contains("order.suspicious") && l.contains(trace_id))
        .unwrap_or_else(|| panic!("no warning log line with trace id {trace_id}"));
    let json: Value = serde_json::from_str(line).expect("JSON log line");
    assert_eq!(json["level"], "WARN");
    assert_eq!(json["trace_id"], trace_id);
    assert_eq!(json["suspicious.rule"], rule);
}

#[tokio::test]
async fn bulk_quantity_flags_without_blocking() {
    let app = spawn_app().await;
    app.given_product("p-1", "Widget", 100).await;
    app.given_charge_succeeds("ch_1").await;
    let (response, trace_id) = traced(&app, &basket(&[("p-1", 60), ("p-1", 40)])).await;
    assert_created(response).await;
    assert_flagged(&app, "bulk_quantity", 1).await;
    assert_reported(&app, &trace_id, "bulk_quantity").await;
}

#[tokio::test]
async fn high_amount_flags_without_blocking() {
    let app = spawn_app().await;
    app.given_product("p-gold", "Gold bar", 500_000).await;
    app.given_charge_succeeds("ch_1").await;
    let (response, trace_id) = traced(&app, &basket(&[("p-gold", 1)])).await;
    assert_created(response).await;
    assert_flagged(&app, "high_amount", 1).await;
    assert_reported(&app, &trace_id, "high_amount").await;
}

#[tokio::test]
async fn repeated_declines_flag_the_third_decline() {
    let app = spawn_app().await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_gateway_responds(ResponseTemplate::new(402).set_body_json(json!({
        "charge_id": "ch_d", "decline_code": "card_declined"
    })))
    .await;
    for _ in 0..2 {
        let (response, _) = traced(&app, &basket(&[("p-1", 1)])).await;
        assert_problem(response, 402, "payment-declined").await;
    }
    assert_quiet(&app).await;
    // Bob's declines are his own.
    assert_problem(
        app.post_checkout(&basket(&[("p-1", 1)]), Some(BOB_KEY))
            .await,
        402,
        "payment-declined",
    )
    .await;
    assert_quiet(&app).await;
    let (response, trace_id) = traced(&app, &basket(&[("p-1", 1)])).await;
    assert_problem(response, 402, "payment-declined").await;
    assert_flagged(&app, "repeated_declines", 1).await;
    assert_reported(&app, &trace_id, "repeated_declines").await;
}

#[tokio::test]
async fn card_testing_flags_the_fifth_small_order() {
    let app = spawn_app().await;
    app.given_product("p-tiny", "Sticker", 100).await;
    app.given_charge_succeeds("ch_1").await;
    for _ in 0..4 {
        assert_created(
            app.post_checkout(&basket(&[("p-tiny", 1)]), Some(ALICE_KEY))
                .await,
        )
        .await;
    }
    // Bob's small orders do not add up with Alice's.
    for _ in 0..4 {
        assert_created(
            app.post_checkout(&basket(&[("p-tiny", 1)]), Some(BOB_KEY))
                .await,
        )
        .await;
    }
    assert_quiet(&app).await;
    let (response, trace_id) = traced(&app, &basket(&[("p-tiny", 1)])).await;
    assert_created(response).await;
    assert_flagged(&app, "card_testing", 1).await;
    assert_reported(&app, &trace_id, "card_testing").await;
}

#[tokio::test]
async fn ordinary_baskets_and_near_misses_are_not_flagged() {
    let app = spawn_app().await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_product("p-2", "Gadget", 550).await;
    app.given_product("p-big", "Television", 499_999).await;
    app.given_product("p-small", "Pen", 501).await;
    app.given_charge_succeeds("ch_1").await;
    for body in [
        basket(&[("p-1", 1)]),
        basket(&[("p-1", 2), ("p-2", 3)]),
        // 99 units: one under bulk_quantity.
        basket(&[("p-2", 50), ("p-2", 49)]),
        // 4,999.99 USD: one cent under high_amount.
        basket(&[("p-big", 1)]),
    ] {
        assert_created(app.post_checkout(&body, Some(ALICE_KEY)).await).await;
    }
    // Many orders just above the small amount are not card testing.
    for _ in 0..6 {
        assert_created(
            app.post_checkout(&basket(&[("p-small", 1)]), Some(ALICE_KEY))
                .await,
        )
        .await;
    }
    assert_quiet(&app).await;
}
