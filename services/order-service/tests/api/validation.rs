//! Invalid bodies: a 4xx problem listing what is wrong, and nothing written or charged.
//!
//! Each app has a known product and a charging gateway, so a request that slipped through
//! validation would show up as an order row or a charge.

use serde_json::{json, Value};

use crate::helpers::*;

async fn app_ready_to_charge() -> TestApp {
    let app = spawn_app().await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_charge_succeeds("ch_1").await;
    app
}

fn items(n: usize) -> Vec<Value> {
    (0..n)
        .map(|_| json!({"product_id": "p-1", "quantity": 1}))
        .collect()
}

#[tokio::test]
async fn unknown_fields_are_refused_so_clients_cannot_set_prices_or_totals() {
    let app = app_ready_to_charge().await;
    for (body, field) in [
        (
            json!({"country": "US", "payment_method": "card", "items": [{"product_id": "p-1", "quantity": 1, "price_cents": 1}]}),
            "price_cents",
        ),
        (
            json!({"country": "US", "payment_method": "card", "items": [{"product_id": "p-1", "quantity": 1}], "total": 5}),
            "total",
        ),
    ] {
        let problem = assert_problem(
            app.post_checkout(&body, Some(ALICE_KEY)).await,
            422,
            "validation",
        )
        .await;
        let errors = problem["errors"].as_array().expect("errors");
        assert!(!errors.is_empty(), "{problem}");
        assert!(
            errors
                .iter()
                .any(|e| e["message"].as_str().unwrap_or_default().contains(field)),
            "{field} is named: {problem}"
        );
    }
    app.assert_nothing_happened().await;
}

#[tokio::test]
async fn missing_fields_and_wrong_types_are_422() {
    let app = app_ready_to_charge().await;
    for body in [
        json!({"payment_method": "card", "items": [{"product_id": "p-1", "quantity": 1}]}),
        json!({"country": "US", "payment_method": "card", "items": [{"product_id": "p-1", "quantity": "two"}]}),
        json!({"country": "US", "payment_method": "card", "items": [{"product_id": "p-1", "quantity": 1.5}]}),
        json!({"country": "US", "payment_method": "card", "items": {"product_id": "p-1", "quantity": 1}}),
        json!([1, 2, 3]),
    ] {
        let problem = assert_problem(
            app.post_checkout(&body, Some(ALICE_KEY)).await,
            422,
            "validation",
        )
        .await;
        assert!(
            !problem["errors"].as_array().expect("errors").is_empty(),
            "{body}: {problem}"
        );
    }
    app.assert_nothing_happened().await;
}

#[tokio::test]
async fn invalid_values_are_422_listing_every_offending_field() {
    let app = app_ready_to_charge().await;
    let line = |q: i64| json!([{"product_id": "p-1", "quantity": q}]);
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({"country": "XX", "payment_method": "card", "items": line(1)}),
            vec!["country"],
        ),
        (
            json!({"country": "us", "payment_method": "card", "items": line(1)}),
            vec!["country"],
        ),
        (
            json!({"country": "USA", "payment_method": "card", "items": line(1)}),
            vec!["country"],
        ),
        (
            json!({"country": "US", "payment_method": "cash", "items": line(1)}),
            vec!["payment_method"],
        ),
        (
            json!({"country": "US", "payment_method": "card", "items": line(0)}),
            vec!["items[0].quantity"],
        ),
        (
            json!({"country": "US", "payment_method": "card", "items": line(-1)}),
            vec!["items[0].quantity"],
        ),
        (
            json!({"country": "US", "payment_method": "card", "items": line(1001)}),
            vec!["items[0].quantity"],
        ),
        (
            json!({"country": "US", "payment_method": "card", "items": []}),
            vec!["items"],
        ),
        (
            json!({"country": "US", "payment_method": "card", "items": items(101)}),
            vec!["items"],
        ),
        (
            json!({"country": "US", "payment_method": "card", "items": [{"product_id": "../admin", "quantity": 1}]}),
            vec!["items[0].product_id"],
        ),
        (
            json!({"country": "ZZ", "payment_method": "cheque", "items": [
                {"product_id": "p-1", "quantity": 1},
                {"product_id": "p-1", "quantity": 0},
            ]}),
            vec!["country", "payment_method", "items[1].quantity"],
        ),
    ];
    for (body, fields) in cases {
        let problem = assert_problem(
            app.post_checkout(&body, Some(ALICE_KEY)).await,
            422,
            "validation",
        )
        .await;
        assert_eq!(error_fields(&problem), fields, "{body}: {problem}");
        for field in &fields {
            assert!(
                problem["detail"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(field),
                "detail names {field}: {problem}"
            );
        }
    }
    app.assert_nothing_happened().await;
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = app_ready_to_charge().await;
    for body in [
        r#"{"country": "US","#,
        "not json",
        r#"{"country": "US", "payment_method": "card", "items": []} trailing"#,
    ] {
        let response = app
            .post_checkout_raw(body, "application/json", ALICE_KEY)
            .await;
        assert_problem(response, 400, "malformed-json").await;
    }
    app.assert_nothing_happened().await;
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = app_ready_to_charge().await;
    let valid = basket(&[("p-1", 1)]).to_string();
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let response = app
            .post_checkout_raw(valid.clone(), content_type, ALICE_KEY)
            .await;
        assert_problem(response, 415, "unsupported-media-type").await;
    }
    app.assert_nothing_happened().await;
}

#[tokio::test]
async fn a_body_over_64_kib_is_413() {
    let app = app_ready_to_charge().await;
    let padding = "x".repeat(64 * 1024);
    let body = json!({"country": "US", "payment_method": "card", "items": [{"product_id": padding, "quantity": 1}]}).to_string();
    assert!(body.len() > 64 * 1024);
    let response = app
        .post_checkout_raw(body, "application/json", ALICE_KEY)
        .await;
    assert_problem(response, 413, "payload-too-large").await;
    app.assert_nothing_happened().await;
}
