//! Exemplars on /metrics: a payment-latency bucket links to the client span that timed the
//! charge, an amount bucket to the checkout trace — and only when that trace is sampled.

use crate::helpers::*;

const PAYMENT_PAID: &str =
    "webstore_payment_duration_seconds_bucket{country=\"US\",payment_method=\"card\",outcome=\"paid\",le=";
const AMOUNT: &str =
    "webstore_checkout_amount_usd_bucket{country=\"US\",payment_method=\"card\",le=";

#[tokio::test]
async fn sampled_checkout_leaves_payment_and_amount_exemplars_of_its_trace() {
    let app = spawn_app().await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_charge_succeeds("ch_1").await;
    let trace = app.new_trace(true);
    let trace_id = trace.trace_id.clone();
    let response = app
        .post_checkout_traced(&basket(&[("p-1", 1)]), ALICE_KEY, &trace)
        .await;
    assert_created(response).await;
    let (_, client_span_id, _) = parse_traceparent(&app.charge_requests().await[0]);

    let text = app.metrics_text().await;
    let payment = lines_starting(&text, PAYMENT_PAID);
    assert_eq!(payment.len(), 10, "nine bounds and +Inf:\n{text}");
    let exemplar = format!(" # {{trace_id=\"{trace_id}\",span_id=\"{client_span_id}\"}} ");
    let with_exemplar: Vec<_> = payment.iter().filter(|l| l.contains(&exemplar)).collect();
    assert_eq!(
        with_exemplar.len(),
        1,
        "one bucket holds the payment's exemplar:\n{text}"
    );
    assert!(
        payment
            .last()
            .is_some_and(|l| l.starts_with(&format!("{PAYMENT_PAID}\"+Inf\"}} 1"))),
        "{text}"
    );

    let amount = lines_starting(&text, AMOUNT);
    let amount_exemplar = format!(" # {{trace_id=\"{trace_id}\",span_id=\"");
    let with_exemplar: Vec<_> = amount
        .iter()
        .filter(|l| l.contains(&amount_exemplar))
        .collect();
    assert_eq!(
        with_exemplar.len(),
        1,
        "one amount bucket holds the checkout's exemplar:\n{text}"
    );
    assert!(
        with_exemplar[0].starts_with(&format!("{AMOUNT}\"25.0\"}} 1 ")),
        "19.99 USD is in le=25:\n{text}"
    );
    assert!(
        with_exemplar[0].contains("\"} 19.99 "),
        "the exemplar value is the amount:\n{text}"
    );

    assert!(
        text.contains("\nwebstore_orders_total{status=\"paid\"} 1\n"),
        "{text}"
    );
}

#[tokio::test]
async fn unsampled_checkout_leaves_no_exemplar() {
    let app = spawn_app().await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_charge_succeeds("ch_1").await;
    let trace = app.new_trace(false);
    let trace_id = trace.trace_id.clone();
    let response = app
        .post_checkout_traced(&basket(&[("p-1", 1)]), ALICE_KEY, &trace)
        .await;
    let placed = assert_created(response).await;
    assert!(
        placed["trace_id"].is_null(),
        "an unsampled trace is never stored, so not named: {placed}"
    );
    let (sent, _, flags) = parse_traceparent(&app.charge_requests().await[0]);
    assert_eq!(sent, trace_id, "the trace id still travels");
    assert_eq!(flags, "00", "and so does the caller's sampling decision");

    let text = app.metrics_text().await;
    assert!(
        !text.contains(&trace_id),
        "no exemplar may link to an unsampled trace:\n{text}"
    );
    assert!(
        !text.contains("# {trace_id="),
        "this app served only unsampled requests:\n{text}"
    );
    let payment = lines_starting(&text, PAYMENT_PAID);
    assert!(
        payment
            .iter()
            .any(|l| l.starts_with(&format!("{PAYMENT_PAID}\"+Inf\"}} 1"))),
        "still counted:\n{text}"
    );
    assert!(
        text.contains("\nwebstore_orders_total{status=\"paid\"} 1\n"),
        "{text}"
    );

    // Whatever had ended has now been exported: none of it is of this trace.
    test_support::flush_spans().await;
    assert!(
        test_support::telemetry().store.trace(&trace_id).is_empty(),
        "unsampled spans are not exported"
    );
}

#[tokio::test]
async fn metrics_expose_the_http_and_business_families() {
    let app = spawn_app().await;
    let text = app.metrics_text().await;
    for family in [
        "# TYPE webstore_payment_duration_seconds histogram",
        "# TYPE webstore_checkout_amount_usd histogram",
        "# TYPE webstore_orders counter",
        "# TYPE webstore_auth_failures counter",
        "# TYPE http_server_request_duration_seconds histogram",
        "# TYPE http_client_request_duration_seconds histogram",
        "# TYPE otel_sdk_exporter_span_exported counter",
    ] {
        assert!(text.contains(family), "{family} missing:\n{text}");
    }
}

/// Counters whose label values are known exist at 0 on a fresh application, so that
/// `increase()` over them sees the first increment after a restart.
#[tokio::test]
async fn labelled_counters_start_at_zero() {
    let app = spawn_app().await;
    let text = app.metrics_text().await;
    for series in [
        "webstore_orders_total{status=\"paid\"}",
        "webstore_orders_total{status=\"declined\"}",
        "webstore_orders_total{status=\"payment_failed\"}",
        "webstore_orders_total{status=\"payment_unknown\"}",
        "webstore_auth_failures_total{reason=\"missing\"}",
        "webstore_auth_failures_total{reason=\"invalid\"}",
        "webstore_auth_failures_total{reason=\"mismatch\"}",
        "webstore_idempotency_requests_total{result=\"new\"}",
        "webstore_idempotency_requests_total{result=\"resumed\"}",
        "webstore_idempotency_requests_total{result=\"replayed\"}",
        "webstore_idempotency_requests_total{result=\"conflict\"}",
        "webstore_idempotency_requests_total{result=\"key_reuse\"}",
        "webstore_suspicious_activity_total{rule=\"bulk_quantity\"}",
        "webstore_suspicious_activity_total{rule=\"high_amount\"}",
        "webstore_suspicious_activity_total{rule=\"repeated_declines\"}",
        "webstore_suspicious_activity_total{rule=\"card_testing\"}",
        "webstore_rate_limited_total{tier=\"client\"}",
        "webstore_rate_limited_total{tier=\"global\"}",
        "webstore_rate_limit_fallback_total{tier=\"client\"}",
        "webstore_rate_limit_fallback_total{tier=\"global\"}",
    ] {
        assert!(
            text.contains(&format!("\n{series} 0\n")),
            "{series} at 0:\n{text}"
        );
    }
    assert!(
        !text.contains("webstore_orders_total{status=\"pending\"}"),
        "pending is not an outcome: never counted\n{text}"
    );
}
