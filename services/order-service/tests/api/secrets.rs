//! Secrets never leave the process: after every authentication path (valid, invalid, missing,
//! conflicting, duplicated keys; idempotent replays; rate-limit refusals), no API key occurs in
//! any captured log line or exported span of this test binary.

use std::time::Duration;

use order_service::ratelimit::{Limits, Quota};

use crate::helpers::*;

#[tokio::test]
async fn no_api_key_reaches_logs_or_spans() {
    let app = spawn_app_custom(
        test_support::sqlite_url(),
        Overrides {
            rate_limits: Some(Limits {
                client: Some(Quota::per_second(3)),
                global: None,
            }),
            ..Overrides::default()
        },
    )
    .await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_charge_succeeds("ch_1").await;
    let wrong = format!("wrong-key-{}", uuid::Uuid::new_v4().simple());
    let body = basket(&[("p-1", 1)]);

    let trace_id = random_trace_id();
    let parent = traceparent(&trace_id, &random_span_id(), true);
    let placed = app
        .checkout_request(Some(ALICE_KEY))
        .header("traceparent", &parent)
        .header("Idempotency-Key", "secret-test")
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_eq!(placed.status().as_u16(), 201);
    app.post_checkout_keyed(&body, ALICE_KEY, "secret-test")
        .await;
    for (bearer, x_api_key) in [
        (Some(wrong.as_str()), None),
        (None, Some(wrong.as_str())),
        (Some(ALICE_KEY), Some(BOB_KEY)),
        (Some(BOB_KEY), Some(wrong.as_str())),
        (None, None),
    ] {
        let mut request = app
            .client
            .get(app.url("/api/v1/orders/x"))
            .header("traceparent", &parent);
        if let Some(k) = bearer {
            request = request.bearer_auth(k);
        }
        if let Some(k) = x_api_key {
            request = request.header("X-API-Key", k);
        }
        let status = request.send().await.expect("send").status().as_u16();
        assert!(status == 401 || status == 429, "{status}");
    }
    // Over the limit: refusals must not echo the key either.
    for _ in 0..4 {
        app.get_order("x", Some(BOB_KEY)).await;
    }

    // The batch processor exports every 100 ms in tests.
    let spans = test_support::telemetry()
        .store
        .wait_for_trace(&trace_id, |s| s.len() >= 6, Duration::from_secs(5))
        .await;
    assert!(!spans.is_empty());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let secrets = [ALICE_KEY, BOB_KEY, wrong.as_str()];
    for line in test_support::captured_logs() {
        for secret in secrets {
            assert!(!line.contains(secret), "a log line holds a key: {line}");
        }
    }
    for span in test_support::telemetry().store.all_spans() {
        let text = serde_json::to_string(&span).expect("span as JSON");
        for secret in secrets {
            assert!(!text.contains(secret), "span {} holds a key", span.name);
        }
    }
}
