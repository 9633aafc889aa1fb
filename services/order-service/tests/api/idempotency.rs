//! `Idempotency-Key` (IETF draft, as the design says): scoped per customer, the settled answer
//! stored with a hash of the request and replayed, 422 for another body, 409 while the first is
//! running, expiry, and the retry of an unknown payment outcome that settles the same order.

use std::time::Duration;

use futures_util::future::join_all;
use order_service::store::{Claim, IdempotencyStore};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::helpers::*;

/// Status, `Idempotent-Replayed`, `Location`, and the body bytes.
async fn parts(response: reqwest::Response) -> (u16, Option<String>, Option<String>, String) {
    let status = response.status().as_u16();
    let replayed = header(&response, "idempotent-replayed");
    let location = header(&response, "location");
    (
        status,
        replayed,
        location,
        response.text().await.expect("read the body"),
    )
}

fn gateway_keys(requests: &[wiremock::Request]) -> Vec<String> {
    requests
        .iter()
        .map(|r| {
            r.headers
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// Same key, same body: the identical answer, replayed without touching catalog or gateway.
pub async fn replay_flow(app: &TestApp) {
    app.given_product("p-1", "Widget", 1999).await;
    app.given_charge_succeeds("ch_1").await;
    let body = basket(&[("p-1", 2)]);

    let (status, replayed, location, first) = parts(
        app.post_checkout_keyed(&body, ALICE_KEY, "key-replay")
            .await,
    )
    .await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(replayed, None, "the first answer is not a replay");
    let catalog_calls = app.catalog_requests().await.len();

    // Same basket, other whitespace and key order: the same request.
    let reordered = r#"{ "items": [ {"quantity": 2, "product_id": "p-1"} ],
        "payment_method": "card", "country": "US" }"#;
    let second = app
        .checkout_request(Some(ALICE_KEY))
        .header("Idempotency-Key", "key-replay")
        .header("content-type", "application/json")
        .body(reordered)
        .send()
        .await
        .expect("send the retry");
    let (status2, replayed2, location2, again) = parts(second).await;
    assert_eq!(status2, 201);
    assert_eq!(replayed2.as_deref(), Some("true"));
    assert_eq!(location2, location);
    assert_eq!(again, first, "byte-identical body");

    assert_eq!(app.order_count().await, 1);
    assert_eq!(app.charge_requests().await.len(), 1, "charged once");
    assert_eq!(
        app.catalog_requests().await.len(),
        catalog_calls,
        "a replay does no work"
    );
}

/// 50 concurrent checkouts with one key: one order, one charge; the others 409 or replay.
pub async fn concurrent_flow(app: &TestApp) {
    app.given_product("p-1", "Widget", 1999).await;
    app.given_gateway_responds(
        ResponseTemplate::new(201)
            .set_body_json(charge_json("ch_1"))
            .set_delay(Duration::from_millis(150)),
    )
    .await;
    let body = basket(&[("p-1", 1)]);
    let responses = join_all((0..50).map(|_| async {
        parts(app.post_checkout_keyed(&body, ALICE_KEY, "key-race").await).await
    }))
    .await;
    let created: Vec<_> = responses.iter().filter(|r| r.0 == 201).collect();
    let conflicts = responses.iter().filter(|r| r.0 == 409).count();
    assert_eq!(
        created.len() + conflicts,
        50,
        "only 201 or 409: {:?}",
        responses.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    assert!(!created.is_empty());
    assert_eq!(
        created.iter().filter(|r| r.1.is_none()).count(),
        1,
        "exactly one original answer; the other 201s are replays"
    );
    assert!(
        created.iter().all(|r| r.3 == created[0].3),
        "every 201 is the same answer"
    );
    assert_eq!(app.order_count().await, 1, "exactly one order");
    assert_eq!(app.charge_requests().await.len(), 1, "exactly one charge");
}

/// A 504 (payment outcome unknown), then a retry with the same key: the same order is charged
/// again with the same order-derived gateway key, and settles to paid.
pub async fn timeout_retry_flow(app: &TestApp) {
    app.given_product("p-1", "Widget", 1999).await;
    Mock::given(method("POST"))
        .and(path(CHARGES))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(charge_json("ch_late"))
                .set_delay(Duration::from_secs(2)),
        )
        .up_to_n_times(1)
        .mount(&app.gateway)
        .await;
    app.given_charge_succeeds("ch_late").await;
    let body = basket(&[("p-1", 1)]);

    let problem = assert_problem(
        app.post_checkout_keyed(&body, ALICE_KEY, "key-timeout")
            .await,
        504,
        "payment-unknown",
    )
    .await;
    let order_id = problem["order_id"].as_str().expect("order_id").to_owned();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("same Idempotency-Key"),
        "the 504 says how to settle it: {problem}"
    );
    assert_eq!(
        app.order_row(&order_id, ALICE_KEY).await.status,
        "payment_unknown"
    );

    let placed = assert_created(
        app.post_checkout_keyed(&body, ALICE_KEY, "key-timeout")
            .await,
    )
    .await;
    assert_eq!(placed["order_id"], order_id.as_str(), "the same order");
    assert_eq!(placed["payment_id"], "ch_late");
    let row = app.order_row(&order_id, ALICE_KEY).await;
    assert_eq!(row.status, "paid");
    assert_eq!(row.payment_id.as_deref(), Some("ch_late"));
    assert_eq!(app.order_count().await, 1);

    let charges = app.charge_requests().await;
    assert_eq!(charges.len(), 2);
    let expected = format!("order-{order_id}");
    assert_eq!(
        gateway_keys(&charges),
        [expected.clone(), expected],
        "one gateway key"
    );
    let first: Value = charges[0].body_json().expect("JSON");
    let second: Value = charges[1].body_json().expect("JSON");
    assert_eq!(
        first, second,
        "the gateway sees the very same charge request"
    );

    // Settled: from now on the stored answer.
    let (status, replayed, _, _) = parts(
        app.post_checkout_keyed(&body, ALICE_KEY, "key-timeout")
            .await,
    )
    .await;
    assert_eq!((status, replayed.as_deref()), (201, Some("true")));
    assert_eq!(app.charge_requests().await.len(), 2);
}

#[tokio::test]
async fn same_key_and_body_replays_the_identical_response() {
    replay_flow(&spawn_app().await).await;
}

#[tokio::test]
async fn fifty_concurrent_requests_with_one_key_make_one_order_and_one_charge() {
    concurrent_flow(&spawn_app().await).await;
}

#[tokio::test]
async fn a_retry_after_a_payment_timeout_settles_the_same_order() {
    timeout_retry_flow(&spawn_app().await).await;
}

#[tokio::test]
async fn same_key_with_another_body_is_422_and_changes_nothing() {
    let app = spawn_app().await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_charge_succeeds("ch_1").await;
    assert_created(
        app.post_checkout_keyed(&basket(&[("p-1", 1)]), ALICE_KEY, "key-a")
            .await,
    )
    .await;
    for other in [
        basket(&[("p-1", 2)]),
        json!({"country": "DE", "payment_method": "card", "items": [{"product_id": "p-1", "quantity": 1}]}),
        json!({"country": "US", "payment_method": "paypal", "items": [{"product_id": "p-1", "quantity": 1}]}),
    ] {
        assert_problem(
            app.post_checkout_keyed(&other, ALICE_KEY, "key-a").await,
            422,
            "idempotency-key-reuse",
        )
        .await;
    }
    assert_eq!(app.order_count().await, 1);
    assert_eq!(app.charge_requests().await.len(), 1);
}

#[tokio::test]
async fn a_retry_while_the_first_is_running_is_409_then_replays() {
    // The gateway holds the first charge for a second (within PAYMENT_TIMEOUT); the retry is
    // sent once the gateway has the charge, so the first is surely in flight with its key held.
    let app = TestApp::builder()
        .setting("PAYMENT_TIMEOUT", "5s")
        .setting("REQUEST_TIMEOUT", "10s")
        .spawn()
        .await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_gateway_responds(
        ResponseTemplate::new(201)
            .set_body_json(charge_json("ch_1"))
            .set_delay(Duration::from_secs(1)),
    )
    .await;
    let body = basket(&[("p-1", 1)]);
    let first = app.post_checkout_keyed(&body, ALICE_KEY, "key-busy");
    let second = async {
        app.wait_for_charge_requests(1).await;
        app.post_checkout_keyed(&body, ALICE_KEY, "key-busy").await
    };
    let (first, second) = tokio::join!(first, second);
    let retry_after = header(&second, "retry-after");
    assert_problem(second, 409, "idempotency-conflict").await;
    assert_eq!(retry_after.as_deref(), Some("1"));
    let original = assert_created(first).await;

    let replay = app.post_checkout_keyed(&body, ALICE_KEY, "key-busy").await;
    assert_eq!(
        header(&replay, "idempotent-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(assert_created(replay).await, original);
    assert_eq!(app.charge_requests().await.len(), 1);
}

#[tokio::test]
async fn keys_are_scoped_per_customer() {
    let app = spawn_app().await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_product("p-2", "Gadget", 550).await;
    app.given_charge_succeeds("ch_1").await;
    let alice = assert_created(
        app.post_checkout_keyed(&basket(&[("p-1", 1)]), ALICE_KEY, "shared-key")
            .await,
    )
    .await;
    // Bob's different body is not a reuse of Alice's key, and Bob does not get Alice's order.
    let bob_response = app
        .post_checkout_keyed(&basket(&[("p-2", 1)]), BOB_KEY, "shared-key")
        .await;
    assert_eq!(header(&bob_response, "idempotent-replayed"), None);
    let bob = assert_created(bob_response).await;
    assert_ne!(alice["order_id"], bob["order_id"]);
    assert_eq!(bob["total_cents"], 550);
    assert_eq!(app.order_count().await, 2);
    let alice_id = alice["order_id"].as_str().expect("order_id");
    assert_problem(
        app.get_order(alice_id, Some(BOB_KEY)).await,
        404,
        "not-found",
    )
    .await;
}

#[tokio::test]
async fn a_declined_answer_is_stored_and_replayed() {
    let app = spawn_app().await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_gateway_responds(ResponseTemplate::new(402).set_body_json(json!({
        "charge_id": "ch_2",
        "decline_code": "card_declined",
    })))
    .await;
    let body = basket(&[("p-1", 1)]);
    let (status, replayed, _, first) = parts(
        app.post_checkout_keyed(&body, ALICE_KEY, "key-declined")
            .await,
    )
    .await;
    assert_eq!((status, replayed), (402, None));
    let response = app
        .post_checkout_keyed(&body, ALICE_KEY, "key-declined")
        .await;
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some(PROBLEM_JSON)
    );
    let (status, replayed, _, again) = parts(response).await;
    assert_eq!((status, replayed.as_deref()), (402, Some("true")));
    assert_eq!(again, first);
    assert_eq!(app.charge_requests().await.len(), 1);
}

#[tokio::test]
async fn a_retry_after_a_gateway_failure_charges_the_same_order() {
    let app = spawn_app().await;
    app.given_product("p-1", "Widget", 1999).await;
    Mock::given(method("POST"))
        .and(path(CHARGES))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&app.gateway)
        .await;
    app.given_charge_succeeds("ch_1").await;
    let body = basket(&[("p-1", 1)]);
    let problem = assert_problem(
        app.post_checkout_keyed(&body, ALICE_KEY, "key-502").await,
        502,
        "payment-failed",
    )
    .await;
    let placed = assert_created(app.post_checkout_keyed(&body, ALICE_KEY, "key-502").await).await;
    assert_eq!(placed["order_id"], problem["order_id"]);
    assert_eq!(app.order_count().await, 1);
    let keys = gateway_keys(&app.charge_requests().await);
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1]);
}

#[tokio::test]
async fn nothing_ordered_means_the_key_is_free_again() {
    let app = spawn_app().await;
    app.given_unknown_product("p-404").await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_charge_succeeds("ch_1").await;
    assert_problem(
        app.post_checkout_keyed(&basket(&[("p-404", 1)]), ALICE_KEY, "key-fix")
            .await,
        422,
        "unknown-product",
    )
    .await;
    // The corrected basket with the same key is a new request, not a reuse.
    assert_created(
        app.post_checkout_keyed(&basket(&[("p-1", 1)]), ALICE_KEY, "key-fix")
            .await,
    )
    .await;
    assert_eq!(app.order_count().await, 1);
}

#[tokio::test]
async fn an_expired_key_is_forgotten() {
    let app = TestApp::builder()
        .setting("IDEMPOTENCY_TTL", "300ms")
        .spawn()
        .await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_charge_succeeds("ch_1").await;
    let first = assert_created(
        app.post_checkout_keyed(&basket(&[("p-1", 1)]), ALICE_KEY, "key-ttl")
            .await,
    )
    .await;
    // Another body with the same key is a reuse (422, nothing written) until the key expires;
    // then it is a new checkout.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let second = loop {
        let response = app
            .post_checkout_keyed(&basket(&[("p-1", 2)]), ALICE_KEY, "key-ttl")
            .await;
        if response.status().as_u16() == 201 {
            break assert_created(response).await;
        }
        assert_problem(response, 422, "idempotency-key-reuse").await;
        assert!(
            std::time::Instant::now() < deadline,
            "the key did not expire within 5 s of a 300 ms TTL"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert_ne!(first["order_id"], second["order_id"]);
    assert_eq!(app.order_count().await, 2);
}

#[tokio::test]
async fn quoted_and_bare_keys_are_the_same_key() {
    let app = spawn_app().await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_charge_succeeds("ch_1").await;
    let body = basket(&[("p-1", 1)]);
    assert_created(app.post_checkout_keyed(&body, ALICE_KEY, "k-123").await).await;
    let replay = app.post_checkout_keyed(&body, ALICE_KEY, "\"k-123\"").await;
    assert_eq!(
        header(&replay, "idempotent-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(app.charge_requests().await.len(), 1);
}

#[tokio::test]
async fn malformed_keys_are_400_and_nothing_happens() {
    let app = spawn_app().await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_charge_succeeds("ch_1").await;
    let body = basket(&[("p-1", 1)]);
    let too_long = "k".repeat(256);
    for key in ["", "has space", "\"unterminated", too_long.as_str()] {
        assert_problem(
            app.post_checkout_keyed(&body, ALICE_KEY, key).await,
            400,
            "invalid-idempotency-key",
        )
        .await;
    }
    let twice = app
        .checkout_request(Some(ALICE_KEY))
        .header("Idempotency-Key", "k-1")
        .header("Idempotency-Key", "k-2")
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_problem(twice, 400, "invalid-idempotency-key").await;
    let non_ascii = app
        .checkout_request(Some(ALICE_KEY))
        .header(
            "Idempotency-Key",
            reqwest::header::HeaderValue::from_bytes("clé".as_bytes()).expect("opaque bytes"),
        )
        .json(&body)
        .send()
        .await
        .expect("send");
    assert_problem(non_ascii, 400, "invalid-idempotency-key").await;
    app.assert_nothing_happened().await;
}

#[tokio::test]
async fn a_dead_requests_lock_runs_out_and_a_retry_resumes_its_order() {
    let app = spawn_app().await;
    let db = app.store.connection().clone();
    // A zero lock: as if the holder died long ago.
    let store = IdempotencyStore::new(db.clone(), Duration::from_secs(60), Duration::ZERO);
    let customer = app.customer(ALICE_KEY);
    let key = contract::IdempotencyKey::parse("key-dead").expect("key");
    let Claim::Acquired(first) = store.claim(&customer, &key, "hash").await.expect("claim") else {
        panic!("the first claim acquires");
    };
    assert!(first.first_attempt);
    let Claim::Acquired(second) = store.claim(&customer, &key, "hash").await.expect("claim") else {
        panic!("a lapsed lock is taken over");
    };
    assert!(!second.first_attempt);
    assert_eq!(
        second.order_id, first.order_id,
        "the reserved order is kept"
    );
    assert_eq!(
        store.claim(&customer, &key, "other").await.expect("claim"),
        Claim::Mismatch
    );

    // With a real lock, a live holder blocks, a release frees, a completion replays.
    let store = IdempotencyStore::new(db, Duration::from_secs(60), Duration::from_secs(60));
    let key = contract::IdempotencyKey::parse("key-live").expect("key");
    let Claim::Acquired(held) = store.claim(&customer, &key, "h").await.expect("claim") else {
        panic!("acquires");
    };
    assert_eq!(
        store.claim(&customer, &key, "h").await.expect("claim"),
        Claim::InProgress
    );
    store
        .release(&customer, &key, &held)
        .await
        .expect("release");
    let Claim::Acquired(again) = store.claim(&customer, &key, "h").await.expect("claim") else {
        panic!("a released key is claimed again");
    };
    assert_eq!(again.order_id, held.order_id);
    assert!(
        !store
            .complete(&customer, &key, &held, 201, "{}")
            .await
            .expect("complete"),
        "a stale holder cannot complete"
    );
    assert!(store
        .complete(&customer, &key, &again, 201, "{\"ok\":1}")
        .await
        .expect("complete"));
    let Claim::Replay(stored) = store.claim(&customer, &key, "h").await.expect("claim") else {
        panic!("replays");
    };
    assert_eq!((stored.status, stored.body.as_str()), (201, "{\"ok\":1}"));
    let row = store
        .find(&customer, "key-live")
        .await
        .expect("find")
        .expect("row");
    assert_eq!(row.state, "done");
}

#[tokio::test]
async fn idempotency_outcomes_are_counted() {
    let app = spawn_app().await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_charge_succeeds("ch_1").await;
    let body = basket(&[("p-1", 1)]);
    assert_created(app.post_checkout_keyed(&body, ALICE_KEY, "key-m").await).await;
    app.post_checkout_keyed(&body, ALICE_KEY, "key-m").await;
    app.post_checkout_keyed(&basket(&[("p-1", 3)]), ALICE_KEY, "key-m")
        .await;
    let metrics = app.metrics_text().await;
    for line in [
        "webstore_idempotency_requests_total{result=\"new\"} 1\n",
        "webstore_idempotency_requests_total{result=\"replayed\"} 1\n",
        "webstore_idempotency_requests_total{result=\"key_reuse\"} 1\n",
    ] {
        assert!(metrics.contains(line), "{line}{metrics}");
    }
}
