//! Secrets never leave the process: after every authentication path (valid, invalid, missing,
//! conflicting, duplicated keys; idempotent replays; rate-limit refusals), no API key occurs in
//! any log line or exported span of this test's requests.

use crate::helpers::*;

#[tokio::test]
async fn no_api_key_reaches_logs_or_spans() {
    let app = TestApp::builder()
        .setting("RATE_LIMIT_CLIENT", "3/s")
        .spawn()
        .await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_charge_succeeds("ch_1").await;
    let wrong = format!("wrong-key-{}", uuid::Uuid::new_v4().simple());
    let body = basket(&[("p-1", 1)]);

    let placed = app
        .checkout_request(Some(ALICE_KEY))
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
        let mut request = app.client.get(app.url("/api/v1/orders/x"));
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

    // Everything this test's requests caused, spans exported to the end.
    test_support::flush_spans().await;
    let logs = app.logs();
    let spans: Vec<_> = test_support::telemetry()
        .store
        .all_spans()
        .into_iter()
        .filter(|s| app.client.traces().contains(&s.trace_id))
        .collect();
    assert!(
        spans.len() >= 12,
        "a server span per request at least: {}",
        spans.len()
    );
    assert!(!logs.is_empty(), "the refusals are logged");
    let secrets = [ALICE_KEY, BOB_KEY, wrong.as_str()];
    for line in &logs {
        for secret in secrets {
            assert!(!line.contains(secret), "a log line holds a key: {line}");
        }
    }
    for span in &spans {
        let text = serde_json::to_string(span).expect("span as JSON");
        for secret in secrets {
            assert!(!text.contains(secret), "span {} holds a key", span.name);
        }
    }
}
