//! The outcome table of the design: one test per row, each checking the HTTP answer, the order
//! row and what the payment gateway saw.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wiremock::ResponseTemplate;

use crate::helpers::*;

/// p-1 at 19.99 × 2 + p-2 at 5.50 × 3 = 56.48.
const EXPECTED_TOTAL: i64 = 1999 * 2 + 550 * 3;

async fn two_products(app: &TestApp) -> Value {
    app.given_product("p-1", "Widget", 1999).await;
    app.given_product("p-2", "Gadget", 550).await;
    basket(&[("p-1", 2), ("p-2", 3)])
}

/// The charged row of the outcome table; shared with the Postgres suite.
pub async fn charged_flow(app: &TestApp) {
    let body = two_products(app).await;
    app.given_charge_succeeds("ch_1").await;

    let response = app
        .checkout_request(Some(ALICE_KEY))
        .header("Idempotency-Key", "client-key-123")
        .json(&body)
        .send()
        .await
        .expect("send the checkout");
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let placed = assert_created(response).await;

    let order_id = placed["order_id"].as_str().expect("order_id").to_owned();
    assert!(
        uuid::Uuid::parse_str(&order_id).is_ok(),
        "order_id is a UUID: {order_id}"
    );
    assert_eq!(
        location.as_deref(),
        Some(format!("/api/v1/orders/{order_id}").as_str())
    );
    assert_eq!(placed["status"], "paid");
    assert_eq!(placed["total_cents"], EXPECTED_TOTAL);
    assert_eq!(placed["total_usd"], 56.48);
    assert_eq!(placed["payment_id"], "ch_1");
    let trace_id = placed["trace_id"]
        .as_str()
        .expect("trace_id of a sampled checkout");
    assert_eq!(trace_id.len(), 32);

    let row = app.order_row(&order_id, ALICE_KEY).await;
    assert_eq!(row.status, "paid");
    assert_eq!(row.total_cents, EXPECTED_TOTAL);
    assert_eq!(row.payment_id.as_deref(), Some("ch_1"));
    assert_eq!(row.country, "US");
    assert_eq!(row.payment_method, "card");
    assert_eq!(row.trace_id.as_deref(), Some(trace_id));
    assert_eq!(app.order_count().await, 1);

    let charges = app.charge_requests().await;
    assert_eq!(charges.len(), 1, "charged exactly once");
    let key = charges[0]
        .headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok());
    assert_eq!(
        key,
        Some(format!("order-{order_id}").as_str()),
        "key derived from the order, never the client's"
    );
    let charge: Value = charges[0].body_json().expect("JSON charge body");
    assert_eq!(charge["amount_cents"], EXPECTED_TOTAL);
    assert_eq!(charge["currency"], "USD");
    assert_eq!(charge["payment_method"], "card");
    assert_eq!(charge["country"], "US");
    assert_eq!(charge["reference"], order_id.as_str());
}

/// The declined row of the outcome table; shared with the Postgres suite.
pub async fn declined_flow(app: &TestApp) {
    app.given_product("p-1", "Widget", 1999).await;
    app.given_gateway_responds(ResponseTemplate::new(402).set_body_json(json!({
        "type": "https://webstore.example/problems/card-declined",
        "title": "Card declined",
        "status": 402,
        "charge_id": "ch_2",
        "decline_code": "card_declined",
    })))
    .await;

    let response = app
        .post_checkout(&basket(&[("p-1", 1)]), Some(ALICE_KEY))
        .await;
    let problem = assert_problem(response, 402, "payment-declined").await;
    let order_id = problem["order_id"]
        .as_str()
        .expect("order_id in the problem");
    assert_eq!(problem["charge_id"], "ch_2");
    assert_eq!(problem["decline_code"], "card_declined");

    let row = app.order_row(order_id, ALICE_KEY).await;
    assert_eq!(row.status, "declined");
    assert_eq!(row.total_cents, 1999);
    assert_eq!(row.payment_id, None);
    assert_eq!(app.charge_requests().await.len(), 1);
}

/// The 504 row of the outcome table; shared with the Postgres suite.
pub async fn timeout_flow(app: &TestApp) {
    app.given_product("p-1", "Widget", 1999).await;
    app.given_gateway_responds(
        ResponseTemplate::new(201)
            .set_body_json(charge_json("ch_late"))
            .set_delay(Duration::from_secs(2)),
    )
    .await;

    let started = Instant::now();
    let response = app
        .post_checkout(&basket(&[("p-1", 1)]), Some(ALICE_KEY))
        .await;
    let elapsed = started.elapsed();
    let problem = assert_problem(response, 504, "payment-unknown").await;
    // PAYMENT_TIMEOUT is 300 ms; the gateway would take 2 s. Generous bound for a loaded CI box.
    assert!(
        elapsed < Duration::from_millis(1500),
        "answered after {elapsed:?}"
    );
    assert!(
        elapsed >= PAYMENT_TIMEOUT,
        "answered after {elapsed:?}, before the timeout"
    );
    let order_id = problem["order_id"]
        .as_str()
        .expect("order_id in the problem");
    let row = app.order_row(order_id, ALICE_KEY).await;
    assert_eq!(row.status, "payment_unknown");
    assert_eq!(row.payment_id, None);
}

#[tokio::test]
async fn charged_checkout_is_201_and_stores_a_paid_order() {
    let app = spawn_app().await;
    charged_flow(&app).await;
}

#[tokio::test]
async fn the_same_product_on_two_lines_is_looked_up_once_and_priced_per_line() {
    let app = spawn_app().await;
    app.given_product("p-1", "Widget", 250).await;
    app.given_charge_succeeds("ch_1").await;

    let placed = assert_created(
        app.post_checkout(&basket(&[("p-1", 2), ("p-1", 3)]), Some(ALICE_KEY))
            .await,
    )
    .await;
    assert_eq!(placed["total_cents"], 1250);
    assert_eq!(placed["total_usd"], 12.5);
    assert_eq!(app.catalog_requests().await.len(), 1);
    let charge: Value = app.charge_requests().await[0]
        .body_json()
        .expect("JSON charge body");
    assert_eq!(charge["amount_cents"], 1250);
}

#[tokio::test]
async fn prices_come_from_the_catalog_for_the_largest_valid_basket() {
    let app = spawn_app().await;
    app.given_product("p-1", "Widget", 1).await;
    app.given_charge_succeeds("ch_1").await;
    let lines: Vec<(&str, i64)> = (0..100).map(|_| ("p-1", 1000)).collect();

    let placed = assert_created(app.post_checkout(&basket(&lines), Some(ALICE_KEY)).await).await;
    assert_eq!(placed["total_cents"], 100_000);
    assert_eq!(placed["total_usd"], 1000.0);
}

#[tokio::test]
async fn declined_charge_is_402_and_stores_a_declined_order() {
    let app = spawn_app().await;
    declined_flow(&app).await;
    let metrics = app.metrics_text().await;
    assert!(
        metrics.contains("webstore_orders_total{status=\"declined\"} 1\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn gateway_5xx_is_502_and_stores_payment_failed() {
    let app = spawn_app().await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_gateway_responds(ResponseTemplate::new(500)).await;

    let response = app
        .post_checkout(&basket(&[("p-1", 1)]), Some(ALICE_KEY))
        .await;
    let problem = assert_problem(response, 502, "payment-failed").await;
    let order_id = problem["order_id"]
        .as_str()
        .expect("order_id in the problem");
    let row = app.order_row(order_id, ALICE_KEY).await;
    assert_eq!(row.status, "payment_failed");
    assert_eq!(row.payment_id, None);
    let metrics = app.metrics_text().await;
    assert!(
        metrics.contains("webstore_orders_total{status=\"payment_failed\"} 1\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn unreachable_gateway_is_502_and_stores_payment_failed() {
    let app = TestApp::builder()
        .setting("PAYMENT_GATEWAY_URL", closed_port_url())
        .spawn()
        .await;
    app.given_product("p-1", "Widget", 1999).await;

    let response = app
        .post_checkout(&basket(&[("p-1", 1)]), Some(ALICE_KEY))
        .await;
    let problem = assert_problem(response, 502, "payment-failed").await;
    let order_id = problem["order_id"]
        .as_str()
        .expect("order_id in the problem");
    assert_eq!(
        app.order_row(order_id, ALICE_KEY).await.status,
        "payment_failed"
    );
}

#[tokio::test]
async fn gateway_slower_than_the_payment_timeout_is_504_and_stores_payment_unknown() {
    let app = spawn_app().await;
    timeout_flow(&app).await;
    let metrics = app.metrics_text().await;
    assert!(
        metrics.contains("webstore_orders_total{status=\"payment_unknown\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("webstore_payment_duration_seconds_count{country=\"US\",payment_method=\"card\",outcome=\"timeout\"} 1\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn catalog_5xx_is_503_and_writes_nothing() {
    let app = spawn_app().await;
    app.given_catalog_responds(ResponseTemplate::new(500)).await;
    app.given_charge_succeeds("ch_1").await;

    let response = app
        .post_checkout(&basket(&[("p-1", 1)]), Some(ALICE_KEY))
        .await;
    let retry_after = response.headers().get("retry-after").cloned();
    assert_problem(response, 503, "catalog-unavailable").await;
    assert!(retry_after.is_some(), "a 503 says when to retry");
    app.assert_nothing_happened().await;
}

#[tokio::test]
async fn unreachable_catalog_is_503_and_writes_nothing() {
    let app = TestApp::builder()
        .setting("CATALOG_URL", closed_port_url())
        .spawn()
        .await;
    app.given_charge_succeeds("ch_1").await;

    let response = app
        .post_checkout(&basket(&[("p-1", 1)]), Some(ALICE_KEY))
        .await;
    assert_problem(response, 503, "catalog-unavailable").await;
    app.assert_nothing_happened().await;
}

#[tokio::test]
async fn catalog_slower_than_its_timeout_is_503_and_writes_nothing() {
    let app = spawn_app().await;
    app.given_catalog_responds(
        ResponseTemplate::new(200)
            .set_body_json(json!({"id": "p-1", "name": "Widget", "price_cents": 100}))
            .set_delay(Duration::from_secs(2)),
    )
    .await;
    app.given_charge_succeeds("ch_1").await;

    let started = Instant::now();
    let response = app
        .post_checkout(&basket(&[("p-1", 1)]), Some(ALICE_KEY))
        .await;
    let elapsed = started.elapsed();
    assert_problem(response, 503, "catalog-unavailable").await;
    assert!(
        elapsed < Duration::from_millis(1500),
        "answered after {elapsed:?}"
    );
    app.assert_nothing_happened().await;
}

#[tokio::test]
async fn unknown_product_is_422_and_writes_nothing() {
    let app = spawn_app().await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_unknown_product("p-404").await;
    app.given_charge_succeeds("ch_1").await;

    let response = app
        .post_checkout(&basket(&[("p-1", 1), ("p-404", 1)]), Some(ALICE_KEY))
        .await;
    let problem = assert_problem(response, 422, "unknown-product").await;
    let errors = problem["errors"].as_array().expect("errors");
    assert_eq!(
        errors.len(),
        1,
        "only the unknown product is listed: {problem}"
    );
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("p-404"),
        "{problem}"
    );
    app.assert_nothing_happened().await;
}

/// One payment charges at most 1,000,000.00 USD, so a larger total is refused before anything
/// is written: 401 of the catalog's e-bike at 2,499.00 USD is 1,002,099.00 USD.
#[tokio::test]
async fn an_order_total_over_the_chargeable_limit_is_422_and_writes_nothing() {
    let app = spawn_app().await;
    app.given_product("p-0017", "Electric Mountain Bike", 249_900)
        .await;
    app.given_charge_succeeds("ch_1").await;

    let response = app
        .post_checkout(&basket(&[("p-0017", 401)]), Some(ALICE_KEY))
        .await;
    let problem = assert_problem(response, 422, "validation").await;
    assert_eq!(error_fields(&problem), ["items"], "{problem}");
    assert_eq!(problem["max_total_cents"], 100_000_000, "{problem}");
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("1002099.00 USD") && detail.contains("1000000.00 USD"),
        "the problem names the total and the limit: {problem}"
    );
    app.assert_nothing_happened().await;
    let metrics = app.metrics_text().await;
    let orders = lines_starting(&metrics, "webstore_orders_total{");
    assert!(
        !orders.is_empty(),
        "the series exist from the start: {metrics}"
    );
    assert!(
        orders.iter().all(|l| l.ends_with(" 0")),
        "no order counted: {orders:?}"
    );
}

#[tokio::test]
async fn an_order_total_of_exactly_the_chargeable_limit_is_charged() {
    let app = spawn_app().await;
    app.given_product("p-big", "Crate of bikes", 250_000).await;
    app.given_charge_succeeds("ch_1").await;

    let placed = assert_created(
        app.post_checkout(&basket(&[("p-big", 400)]), Some(ALICE_KEY))
            .await,
    )
    .await;
    assert_eq!(placed["total_cents"], 100_000_000);
    let charge: Value = app.charge_requests().await[0]
        .body_json()
        .expect("JSON charge body");
    assert_eq!(charge["amount_cents"], 100_000_000);
}

/// The gateway authenticates the merchant: every charge carries `PAYMENT_GATEWAY_API_KEY` as a
/// bearer token; without the setting, no `Authorization` is sent at all.
#[tokio::test]
async fn the_charge_carries_the_merchant_key_when_one_is_set() {
    for key in [Some("merchant-key-77"), None] {
        let mut builder = TestApp::builder();
        if let Some(key) = key {
            builder = builder.setting("PAYMENT_GATEWAY_API_KEY", key);
        }
        let app = builder.spawn().await;
        let body = two_products(&app).await;
        app.given_charge_succeeds("ch_1").await;
        assert_created(app.post_checkout(&body, Some(ALICE_KEY)).await).await;
        let charges = app.charge_requests().await;
        assert_eq!(charges.len(), 1);
        let sent = charges[0]
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        assert_eq!(sent, key.map(|k| format!("Bearer {k}")), "{key:?}");
        if let Some(key) = key {
            let logs = app.logs().join("\n");
            assert!(!logs.contains(key), "the key is never logged");
        }
    }
}
