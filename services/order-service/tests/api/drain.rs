//! The drain in process: what SIGTERM starts (`drain.begin()`). The process-level drill (a real SIGTERM, exit 0, a client that hung up) is in
//! `tests/system/tests/drain.rs`.

use std::time::Duration;

use tokio::task::JoinHandle;
use wiremock::ResponseTemplate;

use crate::helpers::*;

/// How long the slow gateway takes: long enough to begin the drain while the charge waits.
const SLOW_CHARGE: Duration = Duration::from_millis(1500);

/// Room for that charge, and for the drain to wait for it.
const DRAIN_SETTINGS: &[(&str, &str)] = &[("PAYMENT_TIMEOUT", "5s"), ("SHUTDOWN_TIMEOUT", "10s")];

/// What a drain begins in the middle of: an app (with `settings`) whose one checkout has sent
/// its charge to a gateway that answers `charge_id` after `delay`. Returns the app and the
/// checkout's answer to come.
async fn checkout_waiting_on_the_gateway(
    settings: &[(&str, &str)],
    charge_id: &str,
    delay: Duration,
) -> (TestApp, JoinHandle<reqwest::Result<reqwest::Response>>) {
    let app = settings
        .iter()
        .fold(TestApp::builder(), |builder, (variable, value)| {
            builder.setting(variable, *value)
        })
        .spawn()
        .await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_gateway_responds(
        ResponseTemplate::new(201)
            .set_body_json(charge_json(charge_id))
            .set_delay(delay),
    )
    .await;
    let checkout = {
        let request = app
            .checkout_request(Some(ALICE_KEY))
            .json(&basket(&[("p-1", 1)]));
        tokio::spawn(async move { request.send().await })
    };
    app.wait_for_charge_requests(1).await;
    (app, checkout)
}

#[tokio::test]
async fn a_checkout_in_flight_when_the_drain_begins_settles_and_the_server_then_stops() {
    let (app, checkout) =
        checkout_waiting_on_the_gateway(DRAIN_SETTINGS, "ch_drained", SLOW_CHARGE).await;
    assert_eq!(app.get("/readyz").await.status(), 200);

    app.drain.begin();

    let readiness = app.get("/readyz").await;
    assert_eq!(readiness.status(), 503);
    let body: serde_json::Value = readiness.json().await.expect("readiness body");
    assert_eq!(body["status"], "draining", "{body}");

    let placed = assert_created(checkout.await.expect("join").expect("the checkout answer")).await;
    let order_id = placed["order_id"].as_str().expect("order_id");
    assert_eq!(app.order_row(order_id, ALICE_KEY).await.status, "paid");

    let stopped = tokio::time::timeout(Duration::from_secs(10), app.running)
        .await
        .expect("the server stopped within SHUTDOWN_TIMEOUT")
        .expect("join");
    assert!(stopped.is_ok(), "{stopped:?}");
}

#[tokio::test]
async fn a_checkout_arriving_while_draining_is_503_and_writes_nothing() {
    // A checkout in flight keeps the server draining (and answering) while the next arrives.
    let (app, first) =
        checkout_waiting_on_the_gateway(DRAIN_SETTINGS, "ch_first", SLOW_CHARGE).await;

    app.drain.begin();

    let response = app
        .post_checkout(&basket(&[("p-1", 1)]), Some(ALICE_KEY))
        .await;
    let retry_after = header(&response, "retry-after");
    assert_problem(response, 503, "shutting-down").await;
    assert_eq!(retry_after.as_deref(), Some("1"));
    assert_created(first.await.expect("join").expect("the first answer")).await;
    assert_eq!(
        app.order_count().await,
        1,
        "only the first order was written"
    );
    assert_eq!(app.charge_requests().await.len(), 1);
}

#[tokio::test]
async fn a_charge_still_waiting_when_the_drain_runs_out_of_time_is_recorded_unknown() {
    // SHUTDOWN_TIMEOUT 2 s: in-flight work is told to stop at 1.5 s; the gateway would take 30 s.
    let (app, checkout) = checkout_waiting_on_the_gateway(
        &[
            ("PAYMENT_TIMEOUT", "30s"),
            ("REQUEST_TIMEOUT", "60s"),
            ("SHUTDOWN_TIMEOUT", "2s"),
        ],
        "ch_late",
        Duration::from_secs(30),
    )
    .await;

    app.drain.begin();

    let response = tokio::time::timeout(Duration::from_secs(10), checkout)
        .await
        .expect("answered before the gateway would have")
        .expect("join")
        .expect("the checkout answer");
    let problem = assert_problem(response, 504, "payment-unknown").await;
    let order_id = problem["order_id"].as_str().expect("order_id");
    assert_eq!(
        app.order_row(order_id, ALICE_KEY).await.status,
        "payment_unknown"
    );
    tokio::time::timeout(Duration::from_secs(10), app.running)
        .await
        .expect("the server stopped")
        .expect("join")
        .expect("served without an error");
}
