//! The same flows against PostgreSQL, each test on a fresh database of its own. They need a
//! server (`test_support::external`): `cargo xtask test` skips them where there is none.

use crate::checkout::{charged_flow, declined_flow, timeout_flow};
use crate::helpers::*;
use crate::idempotency::{concurrent_flow, replay_flow, timeout_retry_flow};

async fn spawn_on_postgres() -> TestApp {
    TestApp::builder()
        .setting("DATABASE_URL", test_support::postgres_database().await)
        .spawn()
        .await
}

mod needs_postgres {
    use super::*;

    #[tokio::test]
    #[ignore = "needs: postgres"]
    async fn charged_checkout() {
        let app = spawn_on_postgres().await;
        charged_flow(&app).await;
    }

    #[tokio::test]
    #[ignore = "needs: postgres"]
    async fn declined_checkout() {
        let app = spawn_on_postgres().await;
        declined_flow(&app).await;
    }

    #[tokio::test]
    #[ignore = "needs: postgres"]
    async fn payment_timeout() {
        let app = spawn_on_postgres().await;
        timeout_flow(&app).await;
    }

    #[tokio::test]
    #[ignore = "needs: postgres"]
    async fn orders_are_scoped_to_their_customer() {
        let app = spawn_on_postgres().await;
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
    #[ignore = "needs: postgres"]
    async fn idempotent_replay() {
        let app = spawn_on_postgres().await;
        replay_flow(&app).await;
    }

    #[tokio::test]
    #[ignore = "needs: postgres"]
    async fn fifty_concurrent_requests_with_one_key() {
        let app = spawn_on_postgres().await;
        concurrent_flow(&app).await;
    }

    #[tokio::test]
    #[ignore = "needs: postgres"]
    async fn retry_after_a_payment_timeout_settles_the_same_order() {
        let app = spawn_on_postgres().await;
        timeout_retry_flow(&app).await;
    }
}
