//! API keys: `Authorization: Bearer` or `X-API-Key`; both present and different is refused.

use crate::helpers::*;

async fn app_ready_to_charge() -> TestApp {
    let app = spawn_app().await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_charge_succeeds("ch_1").await;
    app
}

async fn assert_unauthorized(response: reqwest::Response) {
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_problem(response, 401, "unauthorized").await;
    assert!(
        challenge.is_some_and(|c| c.starts_with("Bearer")),
        "a 401 carries a Bearer challenge"
    );
}

#[tokio::test]
async fn no_key_is_401_with_a_challenge() {
    let app = app_ready_to_charge().await;
    assert_unauthorized(app.post_checkout(&basket(&[("p-1", 1)]), None).await).await;
    app.assert_nothing_happened().await;
}

#[tokio::test]
async fn a_wrong_key_is_401_in_either_header() {
    let app = app_ready_to_charge().await;
    let body = basket(&[("p-1", 1)]);
    assert_unauthorized(app.post_checkout(&body, Some("not-a-key")).await).await;
    let response = app
        .checkout_request(None)
        .header("X-API-Key", "not-a-key")
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_unauthorized(response).await;
    let response = app
        .checkout_request(None)
        .header("Authorization", format!("Basic {ALICE_KEY}"))
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_unauthorized(response).await;
    app.assert_nothing_happened().await;
}

#[tokio::test]
async fn bearer_and_x_api_key_that_differ_are_401_even_when_both_are_valid() {
    let app = app_ready_to_charge().await;
    let response = app
        .checkout_request(Some(ALICE_KEY))
        .header("X-API-Key", BOB_KEY)
        .json(&basket(&[("p-1", 1)]))
        .send()
        .await
        .expect("send");
    assert_unauthorized(response).await;
    app.assert_nothing_happened().await;
}

#[tokio::test]
async fn the_same_valid_key_in_both_headers_is_accepted() {
    let app = app_ready_to_charge().await;
    let response = app
        .checkout_request(Some(ALICE_KEY))
        .header("X-API-Key", ALICE_KEY)
        .json(&basket(&[("p-1", 1)]))
        .send()
        .await
        .expect("send");
    let placed = assert_created(response).await;
    let order_id = placed["order_id"].as_str().expect("order_id");
    assert_eq!(app.order_row(order_id, ALICE_KEY).await.customer, "alice");
}

#[tokio::test]
async fn x_api_key_alone_is_accepted() {
    let app = app_ready_to_charge().await;
    let response = app
        .checkout_request(None)
        .header("X-API-Key", BOB_KEY)
        .json(&basket(&[("p-1", 1)]))
        .send()
        .await
        .expect("send");
    let placed = assert_created(response).await;
    let order_id = placed["order_id"].as_str().expect("order_id");
    assert_eq!(app.order_row(order_id, BOB_KEY).await.customer, "bob");
}

#[tokio::test]
async fn authentication_comes_before_the_body_is_read() {
    let app = app_ready_to_charge().await;
    let response = app
        .checkout_request(None)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .expect("send");
    assert_unauthorized(response).await;
}

#[tokio::test]
async fn auth_failures_are_counted_by_reason() {
    let app = app_ready_to_charge().await;
    let body = basket(&[("p-1", 1)]);
    app.post_checkout(&body, None).await;
    app.post_checkout(&body, Some("wrong-key")).await;
    app.checkout_request(None)
        .header("X-API-Key", "wrong-key")
        .json(&body)
        .send()
        .await
        .expect("send");
    app.checkout_request(Some(ALICE_KEY))
        .header("X-API-Key", BOB_KEY)
        .json(&body)
        .send()
        .await
        .expect("send");
    app.get_order("anything", None).await;

    let text = app.metrics_text().await;
    for line in [
        "webstore_auth_failures_total{reason=\"missing\"} 2\n",
        "webstore_auth_failures_total{reason=\"invalid\"} 2\n",
        "webstore_auth_failures_total{reason=\"mismatch\"} 1\n",
    ] {
        assert!(text.contains(line), "{line} missing:\n{text}");
    }
}
