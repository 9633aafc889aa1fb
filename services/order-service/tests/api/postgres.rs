//! The same flows against PostgreSQL, each test on a fresh database of its own. They need a
//! server (`test_support::external`): `cargo xtask test` skips them where there is none.

use crate::checkout::{charged_flow, declined_flow, timeout_flow};
use crate::helpers::*;
use crate::idempotency::{concurrent_flow, replay_flow, timeout_retry_flow};
use crate::reconcile::{
    needs_attention_flow, reconciling, stale_pending_flow, unknown_then_paid_flow,
};

async fn spawn_on_postgres() -> TestApp {
    on_postgres(TestApp::builder()).await.spawn().await
}

async fn on_postgres(builder: TestAppBuilder) -> TestAppBuilder {
    builder.setting("DATABASE_URL", test_support::postgres_database().await)
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

    #[tokio::test]
    #[ignore = "needs: postgres"]
    async fn reconciled_unknown_payment() {
        let app = on_postgres(reconciling(TestApp::builder()))
            .await
            .spawn()
            .await;
        unknown_then_paid_flow(&app).await;
    }

    #[tokio::test]
    #[ignore = "needs: postgres"]
    async fn reconciled_stale_pending_order() {
        let app = on_postgres(reconciling(TestApp::builder()))
            .await
            .spawn()
            .await;
        stale_pending_flow(&app).await;
    }

    #[tokio::test]
    #[ignore = "needs: postgres"]
    async fn reconciliation_gives_up_into_needs_attention() {
        let app = on_postgres(reconciling(TestApp::builder()))
            .await
            .setting("RECONCILE_INTERVAL", "50ms")
            .setting("RECONCILE_MAX_ATTEMPTS", "3")
            .spawn()
            .await;
        needs_attention_flow(&app).await;
    }
}
