//! `GET /api/v1/orders/{id}`: readable only with the API key that placed the order.

use serde_json::json;

use crate::helpers::*;

/// Alice's charged order of p-1 × 2 at 19.99 and p-2 × 1 at 5.50; returns its id.
async fn alices_order(app: &TestApp) -> String {
    app.given_product("p-1", "Widget", 1999).await;
    app.given_product("p-2", "Gadget", 550).await;
    app.given_charge_succeeds("ch_1").await;
    let placed = assert_created(
        app.post_checkout(&basket(&[("p-1", 2), ("p-2", 1)]), Some(ALICE_KEY))
            .await,
    )
    .await;
    placed["order_id"].as_str().expect("order_id").to_owned()
}

#[tokio::test]
async fn the_owner_reads_the_order_with_its_lines_and_prices() {
    let app = spawn_app().await;
    let id = alices_order(&app).await;

    let response = app.get_order(&id, Some(ALICE_KEY)).await;
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    let order: serde_json::Value = response.json().await.expect("JSON order");
    assert_eq!(order["order_id"], id.as_str());
    assert_eq!(order["status"], "paid");
    assert_eq!(order["country"], "US");
    assert_eq!(order["payment_method"], "card");
    assert_eq!(order["total_cents"], 1999 * 2 + 550);
    assert_eq!(order["total_usd"], 45.48);
    assert_eq!(order["payment_id"], "ch_1");
    assert_eq!(order["trace_id"].as_str().map(str::len), Some(32));
    assert!(order["created_at_ms"].as_i64().is_some_and(|ms| ms > 0));
    let mut lines = order["lines"].as_array().expect("lines").clone();
    lines.sort_by_key(|l| l["product_id"].as_str().unwrap_or_default().to_owned());
    assert_eq!(
        lines,
        vec![
            json!({"product_id": "p-1", "name": "Widget", "quantity": 2, "unit_price_cents": 1999}),
            json!({"product_id": "p-2", "name": "Gadget", "quantity": 1, "unit_price_cents": 550}),
        ]
    );
}

#[tokio::test]
async fn another_customer_gets_404() {
    let app = spawn_app().await;
    let id = alices_order(&app).await;
    let problem = assert_problem(app.get_order(&id, Some(BOB_KEY)).await, 404, "not-found").await;
    assert!(
        problem.get("order_id").is_none() && problem.get("lines").is_none(),
        "nothing of the order leaks: {problem}"
    );
}

#[tokio::test]
async fn an_unknown_order_is_404() {
    let app = spawn_app().await;
    let unknown = uuid::Uuid::now_v7().to_string();
    assert_problem(
        app.get_order(&unknown, Some(ALICE_KEY)).await,
        404,
        "not-found",
    )
    .await;
    assert_problem(
        app.get_order("not-an-order-id", Some(ALICE_KEY)).await,
        404,
        "not-found",
    )
    .await;
}

#[tokio::test]
async fn reading_an_order_needs_a_key() {
    let app = spawn_app().await;
    let id = alices_order(&app).await;
    assert_problem(app.get_order(&id, None).await, 401, "unauthorized").await;
    assert_problem(
        app.get_order(&id, Some("wrong-key")).await,
        401,
        "unauthorized",
    )
    .await;
}
