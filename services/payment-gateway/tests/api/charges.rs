//! Charges: success, decline, simulated errors and timeouts, reading a charge back.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{
    assert_problem, charge_body, header, new_key, on_every_database, read, TestApp,
};

on_every_database!(
    a_charge_succeeds_and_can_be_read_back,
    a_declined_charge_answers_402_and_is_stored_as_declined,
    a_gateway_error_answers_503_and_stores_nothing,
    a_timed_out_charge_is_stored_and_a_retry_gets_it_at_once,
    an_unknown_charge_is_a_404_problem,
    a_charge_is_found_by_its_idempotency_key,
);

async fn a_charge_succeeds_and_can_be_read_back(app: TestApp) {
    let (status, headers, _, body) = read(
        app.post_charge(Some(&new_key()), &charge_body("ord_1"))
            .await,
    )
    .await;

    assert_eq!(status, 201, "{body}");
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    assert_eq!(header(&headers, "idempotent-replayed"), None);
    let id = body["id"].as_str().expect("id");
    assert!(id.starts_with("ch_") && id.len() == 35, "{id}");
    assert_eq!(
        header(&headers, "location"),
        Some(format!("/v1/charges/{id}").as_str())
    );
    assert_eq!(body["status"], "succeeded");
    assert_eq!(body["amount_cents"], 4999);
    assert_eq!(body["amount_usd"], 49.99);
    assert_eq!(body["currency"], "USD");
    assert_eq!(body["payment_method"], "card");
    assert_eq!(body["country"], "US");
    assert_eq!(body["reference"], "ord_1");
    let created_at = body["created_at"].as_str().expect("created_at");
    assert!(humantime::parse_rfc3339(created_at).is_ok(), "{created_at}");
    assert!(body.get("decline_code").is_none());

    let (status, _, _, read_back) = read(app.get_charge(id).await).await;
    assert_eq!(status, 200);
    assert_eq!(read_back, body, "GET answers the charge exactly as created");
    assert_eq!(app.charge_count().await, 1);
}

async fn a_declined_charge_answers_402_and_is_stored_as_declined(app: TestApp) {
    app.set_faults(json!({"decline_rate": 1.0})).await;

    let key = new_key();
    let (status, headers, text, body) =
        read(app.post_charge(Some(&key), &charge_body("ord_2")).await).await;

    assert_problem(status, &headers, &body, 402, "payment-declined");
    let charge_id = body["charge_id"].as_str().expect("charge_id");
    let decline_code = body["decline_code"].as_str().expect("decline_code");
    assert!(
        ["insufficient_funds", "card_declined", "do_not_honor"].contains(&decline_code),
        "{decline_code}"
    );

    let (status, _, _, charge) = read(app.get_charge(charge_id).await).await;
    assert_eq!(status, 200);
    assert_eq!(charge["status"], "declined");
    assert_eq!(charge["decline_code"], decline_code);
    assert_eq!(charge["reference"], "ord_2");

    // The decline is the stored outcome: replayed as is, even once declines are switched off.
    app.set_faults(json!({"decline_rate": 0.0})).await;
    let (status, headers, replayed, _) =
        read(app.post_charge(Some(&key), &charge_body("ord_2")).await).await;
    assert_eq!(status, 402);
    assert_eq!(header(&headers, "idempotent-replayed"), Some("true"));
    assert_eq!(replayed, text);
    assert_eq!(app.charge_count().await, 1);
}

async fn a_gateway_error_answers_503_and_stores_nothing(app: TestApp) {
    app.set_faults(json!({"error_rate": 1.0})).await;
    let key = new_key();

    let (status, headers, _, body) =
        read(app.post_charge(Some(&key), &charge_body("ord_3")).await).await;

    assert_problem(status, &headers, &body, 503, "gateway-error");
    assert_eq!(
        app.charge_count().await,
        0,
        "a gateway error is not a charge"
    );

    // Nothing was stored under the key, so the retry is a new attempt, and this one succeeds.
    app.set_faults(json!({"error_rate": 0.0})).await;
    let (status, headers, _, body) =
        read(app.post_charge(Some(&key), &charge_body("ord_3")).await).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(header(&headers, "idempotent-replayed"), None);
    assert_eq!(app.charge_count().await, 1);
}

async fn a_timed_out_charge_is_stored_and_a_retry_gets_it_at_once(app: TestApp) {
    app.set_faults(json!({"timeout_rate": 1.0})).await;
    let key = new_key();
    let impatient = test_support::TestClient::new(
        reqwest::Client::builder()
            .timeout(Duration::from_millis(300))
            .build()
            .expect("client"),
    );

    let error = app
        .post_charge_with(&impatient, Some(&key), &charge_body("ord_4"))
        .await
        .expect_err("the gateway holds the answer");
    assert!(error.is_timeout(), "{error:?}");

    // The charge was decided and stored before the gateway stopped answering.
    assert_eq!(app.wait_for_charge_count(1).await, 1);
    let started = Instant::now();
    let (status, headers, _, body) =
        read(app.post_charge(Some(&key), &charge_body("ord_4")).await).await;
    assert_eq!(status, 201, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the retry took {:?}",
        started.elapsed()
    );
    assert_eq!(header(&headers, "idempotent-replayed"), Some("true"));
    assert_eq!(body["status"], "succeeded");
    assert_eq!(app.charge_count().await, 1);
}

async fn an_unknown_charge_is_a_404_problem(app: TestApp) {
    let (status, headers, _, body) =
        read(app.get_charge("ch_00000000000000000000000000000000").await).await;
    assert_problem(status, &headers, &body, 404, "not-found");
}

async fn a_charge_is_found_by_its_idempotency_key(app: TestApp) {
    let key = new_key();
    let lookup = format!("/v1/charges?idempotency_key={key}");
    let (status, headers, _, body) = read(app.get(&lookup).await).await;
    assert_problem(status, &headers, &body, 404, "not-found");

    let (status, _, _, created) =
        read(app.post_charge(Some(&key), &charge_body("ord_k")).await).await;
    assert_eq!(status, 201, "{created}");
    let (status, _, _, found) = read(app.get(&lookup).await).await;
    assert_eq!(status, 200);
    assert_eq!(
        found, created,
        "the same charge body as GET /v1/charges/{{id}}"
    );

    let (status, headers, _, body) = read(app.get("/v1/charges").await).await;
    assert_problem(status, &headers, &body, 422, "validation");
    let (status, headers, _, body) = read(app.get("/v1/charges?idempotency_key=").await).await;
    assert_problem(status, &headers, &body, 422, "validation");
}
