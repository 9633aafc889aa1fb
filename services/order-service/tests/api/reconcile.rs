//! The reconciler: unsettled orders settled by asking the gateway for the charge under the
//! order's key, as `GET /api/v1/orders/{id}` then shows; the metrics and the span linked to the
//! checkout. The flows are shared with the Postgres suite.

use std::time::{Duration, Instant};

use contract::{Cents, Country, OrderId, PaymentMethod, ProductId};
use order_service::domain::{OrderLine, Quantity};
use order_service::store::NewOrder;
use serde_json::Value;
use wiremock::matchers::{method, path, query_param_contains};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;

/// A reconciler that passes every 100 ms and believes "no charge" after 1 s.
pub fn reconciling(builder: TestAppBuilder) -> TestAppBuilder {
    builder
        .setting("RECONCILE_INTERVAL", "100ms")
        .setting("RECONCILE_GRACE", "1s")
}

impl TestApp {
    /// Every `GET /v1/charges?idempotency_key=order-…` answers `response`. Mounted before the
    /// order exists, so the first pass after the checkout already sees it.
    async fn given_charge_lookups(&self, response: ResponseTemplate) {
        Mock::given(method("GET"))
            .and(path(CHARGES))
            .and(query_param_contains("idempotency_key", "order-"))
            .respond_with(response)
            .mount(&self.gateway)
            .await;
    }

    /// Polls `GET /api/v1/orders/{id}` (up to 10 s) until its status is `status`.
    async fn wait_for_status(&self, order_id: &str, status: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let response = self.get_order(order_id, Some(ALICE_KEY)).await;
            assert_eq!(response.status(), 200);
            let order: Value = response.json().await.expect("order JSON");
            if order["status"] == status {
                return order;
            }
            assert!(
                Instant::now() < deadline,
                "order still {} after 10 s, not {status}",
                order["status"]
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A checkout that ends `payment_unknown` (the gateway slower than PAYMENT_TIMEOUT).
    async fn unknown_order(&self) -> String {
        self.given_product("p-1", "Widget", 1999).await;
        self.given_gateway_responds(
            ResponseTemplate::new(201)
                .set_body_json(charge_json("ch_late"))
                .set_delay(Duration::from_secs(5)),
        )
        .await;
        let response = self
            .post_checkout_traced(&basket(&[("p-1", 1)]), ALICE_KEY, &self.new_trace(true))
            .await;
        let problem = assert_problem(response, 504, "payment-unknown").await;
        problem["order_id"].as_str().expect("order_id").to_owned()
    }
}

fn counter(metrics: &str, result: &str) -> Option<u64> {
    let prefix = format!("webstore_orders_reconciled_total{{result=\"{result}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix)?.parse().ok())
}

/// `payment_unknown`, then the gateway holds the charge: paid, with its id, counted, and a
/// reconciliation span linked to the checkout's span.
pub async fn unknown_then_paid_flow(app: &TestApp) {
    app.given_charge_lookups(ResponseTemplate::new(200).set_body_json(charge_json("ch_found")))
        .await;
    let order_id = app.unknown_order().await;
    let checkout_trace = app.order_row(&order_id, ALICE_KEY).await;

    let order = app.wait_for_status(&order_id, "paid").await;
    assert_eq!(order["payment_id"], "ch_found");
    let metrics = app.metrics_text().await;
    assert_eq!(counter(&metrics, "paid"), Some(1), "{metrics}");
    assert_eq!(counter(&metrics, "failed"), Some(0), "{metrics}");

    let (trace_id, span_id) = (
        checkout_trace
            .trace_id
            .expect("a sampled checkout stores its trace"),
        checkout_trace.span_id.expect("and its span"),
    );
    let sink = &test_support::telemetry().store;
    let deadline = Instant::now() + Duration::from_secs(5);
    let span = loop {
        test_support::flush_spans().await;
        let found = sink.all_spans().into_iter().find(|s| {
            s.name == "order.reconcile"
                && s.attributes.get("order.id") == Some(&Value::from(order_id.as_str()))
        });
        if let Some(span) = found {
            break span;
        }
        assert!(
            Instant::now() < deadline,
            "no order.reconcile span for {order_id}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_ne!(span.trace_id, trace_id, "a trace of its own");
    assert_eq!(
        span.attributes.get("reconcile.result"),
        Some(&Value::from("paid"))
    );
    assert!(
        span.links
            .iter()
            .any(|l| l.trace_id == trace_id && l.span_id == span_id),
        "linked to the checkout span {trace_id}/{span_id}: {:?}",
        span.links
    );
}

/// A `pending` order left by a checkout that died before charging, and no charge at the
/// gateway: `payment_failed` once older than the grace.
pub async fn stale_pending_flow(app: &TestApp) {
    let id = OrderId::from_uuid(uuid::Uuid::now_v7());
    let lines = [OrderLine {
        product_id: ProductId::parse("p-1").unwrap(),
        name: "Widget".into(),
        quantity: Quantity::parse(1).unwrap(),
        unit_price: Cents::new(1999).unwrap(),
    }];
    app.store
        .insert_pending(NewOrder {
            id,
            customer: &app.customer(ALICE_KEY),
            country: Country::parse("US").unwrap(),
            payment_method: PaymentMethod::parse("card").unwrap(),
            total: Cents::new(1999).unwrap(),
            lines: &lines,
            trace_id: None,
            span_id: None,
        })
        .await
        .expect("write a pending order");
    let order_id = id.to_string();
    app.given_charge_lookups(
        ResponseTemplate::new(404).insert_header("content-type", PROBLEM_JSON),
    )
    .await;

    let order = app.wait_for_status(&order_id, "payment_failed").await;
    assert_eq!(order["payment_id"], Value::Null);
    let metrics = app.metrics_text().await;
    assert_eq!(counter(&metrics, "failed"), Some(1), "{metrics}");
}

/// The gateway never gives a usable answer: attempts back off, then `needs_attention`.
pub async fn needs_attention_flow(app: &TestApp) {
    app.given_charge_lookups(ResponseTemplate::new(500)).await;
    let order_id = app.unknown_order().await;

    app.wait_for_status(&order_id, "needs_attention").await;
    let metrics = app.metrics_text().await;
    assert_eq!(counter(&metrics, "unknown"), Some(2), "{metrics}");
    assert_eq!(counter(&metrics, "needs_attention"), Some(1), "{metrics}");
    let row = app.order_row(&order_id, ALICE_KEY).await;
    assert_eq!(row.reconcile_attempts, 2);
}

#[tokio::test]
async fn an_unknown_payment_found_at_the_gateway_settles_paid() {
    let app = reconciling(TestApp::builder()).spawn().await;
    unknown_then_paid_flow(&app).await;
}

#[tokio::test]
async fn a_stale_pending_order_without_a_charge_settles_failed() {
    let app = reconciling(TestApp::builder()).spawn().await;
    stale_pending_flow(&app).await;
}

#[tokio::test]
async fn an_order_the_gateway_never_answers_for_needs_attention_after_the_cap() {
    let app = reconciling(TestApp::builder())
        .setting("RECONCILE_INTERVAL", "50ms")
        .setting("RECONCILE_MAX_ATTEMPTS", "3")
        .spawn()
        .await;
    needs_attention_flow(&app).await;
}

#[tokio::test]
async fn no_charge_is_not_believed_within_the_grace() {
    let app = reconciling(TestApp::builder())
        .setting("RECONCILE_GRACE", "1h")
        .spawn()
        .await;
    app.given_charge_lookups(ResponseTemplate::new(404)).await;
    let order_id = app.unknown_order().await;
    // Several passes see "no charge" (the gateway could still be processing the request).
    let deadline = Instant::now() + Duration::from_secs(5);
    while app
        .gateway
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method.as_str() == "GET")
        .count()
        < 3
    {
        assert!(Instant::now() < deadline, "three lookups within 5 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        app.order_row(&order_id, ALICE_KEY).await.status,
        "payment_unknown"
    );
}

#[tokio::test]
async fn unsettled_orders_are_counted_by_age() {
    let app = reconciling(TestApp::builder())
        .setting("RECONCILE_GRACE", "1h")
        .spawn()
        .await;
    app.unknown_order().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let metrics = app.metrics_text().await;
        if metrics.contains("webstore_orders_unsettled{age=\"lt_1m\"} 1\n") {
            assert!(
                metrics.contains("webstore_orders_unsettled{age=\"ge_10m\"} 0\n"),
                "{metrics}"
            );
            assert!(
                metrics.contains("# TYPE webstore_orders_unsettled gauge\n"),
                "{metrics}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "{metrics}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
