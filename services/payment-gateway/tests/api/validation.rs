//! Requests refused before anything happens: nothing is stored.

use serde_json::json;

use crate::helpers::{
    assert_problem, charge_body, error_fields, new_key, read, spawn_app, TestApp,
};

async fn refused_422(app: &TestApp, body: serde_json::Value) -> Vec<String> {
    let (status, headers, _, problem) = read(app.post_charge(Some(&new_key()), &body).await).await;
    assert_problem(status, &headers, &problem, 422, "validation");
    error_fields(&problem)
}

#[tokio::test]
async fn an_unknown_field_is_refused() {
    let app = spawn_app().await;
    let mut body = charge_body("ord_v1");
    body["fee_cents"] = json!(0);
    let fields = refused_422(&app, body).await;
    assert_eq!(fields, ["body"]);
    assert_eq!(app.charge_count().await, 0);
}

#[tokio::test]
async fn invalid_fields_are_listed() {
    let app = spawn_app().await;
    for (field, value) in [
        ("amount_cents", json!(0)),
        ("amount_cents", json!(100_000_001)),
        ("currency", json!("EUR")),
        ("payment_method", json!("cash")),
        ("country", json!("XX")),
        ("reference", json!("")),
        ("reference", json!("r".repeat(129))),
    ] {
        let mut body = charge_body("ord_v2");
        body[field] = value.clone();
        assert_eq!(refused_422(&app, body).await, [field], "{field} = {value}");
    }

    let all_wrong = json!({"amount_cents": -1, "currency": "usd", "payment_method": "cheque", "country": "USA", "reference": "ok"});
    assert_eq!(
        refused_422(&app, all_wrong).await,
        ["amount_cents", "currency", "payment_method", "country"]
    );
    assert_eq!(app.charge_count().await, 0);
}

#[tokio::test]
async fn wrong_types_and_missing_fields_are_422() {
    let app = spawn_app().await;
    let mut body = charge_body("ord_v3");
    body["amount_cents"] = json!(49.99);
    refused_422(&app, body).await;
    let mut body = charge_body("ord_v3");
    body.as_object_mut().expect("object").remove("country");
    refused_422(&app, body).await;
    assert_eq!(app.charge_count().await, 0);
}

#[tokio::test]
async fn a_missing_or_invalid_idempotency_key_is_a_400() {
    let app = spawn_app().await;
    let (status, headers, _, body) =
        read(app.post_charge(None, &charge_body("ord_v4")).await).await;
    assert_problem(status, &headers, &body, 400, "idempotency-key-required");

    // Checked before the body: an invalid body without a key is still a 400.
    let (status, headers, _, body) =
        read(app.post_charge(None, &json!({"nonsense": true})).await).await;
    assert_problem(status, &headers, &body, 400, "idempotency-key-required");

    for bad in ["", "has space", &"k".repeat(256)] {
        let (status, headers, _, body) =
            read(app.post_charge(Some(bad), &charge_body("ord_v4")).await).await;
        assert_problem(status, &headers, &body, 400, "idempotency-key-required");
    }
    assert_eq!(app.charge_count().await, 0);
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/v1/charges"))
        .header("Idempotency-Key", new_key())
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("POST");
    let (status, headers, _, body) = read(response).await;
    assert_problem(status, &headers, &body, 400, "malformed-json");
}
