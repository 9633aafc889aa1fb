//! The same flows against PostgreSQL (each test its own fresh database). Skipped loudly when
//! no server is reachable, unless `WEBSTORE_REQUIRE_EXTERNAL=1`.

use crate::checkout::{charged_flow, declined_flow, timeout_flow};
use crate::helpers::*;
use crate::idempotency::{concurrent_flow, replay_flow, timeout_retry_flow};

async fn spawn_on_postgres() -> Option<TestApp> {
    let url = test_support::postgres_database().await?;
    Some(spawn_app_with(url).await)
}

#[tokio::test]
async fn postgres_charged_checkout() {
    let Some(app) = spawn_on_postgres().await else {
        return;
    };
    charged_flow(&app).await;
}

#[tokio::test]
async fn postgres_declined_checkout() {
    let Some(app) = spawn_on_postgres().await else {
        return;
    };
    declined_flow(&app).await;
}

#[tokio::test]
async fn postgres_payment_timeout() {
    let Some(app) = spawn_on_postgres().await else {
        return;
    };
    timeout_flow(&app).await;
}

#[tokio::test]
async fn postgres_orders_are_scoped_to_their_customer() {
    let Some(app) = spawn_on_postgres().await else {
        return;
    };
    app.given_product("p-1", "Widget", 1999).await;
    app.given_charge_succeeds("ch_1").await;
    let placed = assert_created(
        app.post_checkout(&basket(&[("p-1", 1)]), Some(ALICE_KEY))
            .await,
    )
    .await;
    let id = placed["order_id"].as_str().expect("order_id");
    assert_eq!(
        app.get_order(id, Some(ALICE_KEY)).await.status().as_u16(),
        200
    );
    assert_problem(app.get_order(id, Some(BOB_KEY)).await, 404, "not-found").await;
}

#[tokio::test]
async fn postgres_idempotent_replay() {
    let Some(app) = spawn_on_postgres().await else {
        return;
    };
    replay_flow(&app).await;
}

#[tokio::test]
async fn postgres_fifty_concurrent_requests_with_one_key() {
    let Some(app) = spawn_on_postgres().await else {
        return;
    };
    concurrent_flow(&app).await;
}

#[tokio::test]
async fn postgres_retry_after_a_payment_timeout_settles_the_same_order() {
    let Some(app) = spawn_on_postgres().await else {
        return;
    };
    timeout_retry_flow(&app).await;
}
