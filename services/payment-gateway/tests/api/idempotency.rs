//! One charge per `Idempotency-Key`, however often and however concurrently it is sent.

use serde_json::json;
use tokio::task::JoinSet;

use crate::helpers::{
    assert_problem, charge_body, header, new_key, on_every_database, read, TestApp,
};

on_every_database!(
    the_same_key_twice_replays_the_stored_answer,
    the_same_key_with_another_body_is_refused,
    twenty_concurrent_requests_with_one_key_make_one_charge,
);

async fn the_same_key_twice_replays_the_stored_answer(app: TestApp) {
    let key = new_key();
    let (first_status, first_headers, first, _) =
        read(app.post_charge(Some(&key), &charge_body("ord_5")).await).await;
    let (second_status, second_headers, second, _) =
        read(app.post_charge(Some(&key), &charge_body("ord_5")).await).await;

    assert_eq!((first_status, second_status), (201, 201));
    assert_eq!(second, first, "a replay is byte-identical");
    assert_eq!(header(&first_headers, "idempotent-replayed"), None);
    assert_eq!(header(&second_headers, "idempotent-replayed"), Some("true"));
    assert_eq!(
        header(&second_headers, "location"),
        header(&first_headers, "location")
    );
    assert_eq!(app.charge_count().await, 1);

    // The same request with another key order and country case is the same request.
    let reordered = json!({"reference": "ord_5", "country": "us", "payment_method": "card", "currency": "USD", "amount_cents": 4999});
    let (status, _, third, _) = read(app.post_charge(Some(&key), &reordered).await).await;
    assert_eq!(status, 201);
    assert_eq!(third, first);
    assert_eq!(app.charge_count().await, 1);
}

async fn the_same_key_with_another_body_is_refused(app: TestApp) {
    let key = new_key();
    let (status, _, _, _) = read(app.post_charge(Some(&key), &charge_body("ord_6")).await).await;
    assert_eq!(status, 201);

    let mut other = charge_body("ord_6");
    other["amount_cents"] = json!(5000);
    let (status, headers, _, body) = read(app.post_charge(Some(&key), &other).await).await;

    assert_problem(status, &headers, &body, 422, "idempotency-key-reuse");
    assert_eq!(app.charge_count().await, 1);
}

async fn twenty_concurrent_requests_with_one_key_make_one_charge(app: TestApp) {
    // Every request sleeps 50 ms before deciding, so all twenty are in flight together and race
    // for the insert.
    app.set_faults(json!({"latency_ms": 50})).await;
    let key = new_key();
    let body = charge_body("ord_7");
    let mut requests = JoinSet::new();
    for _ in 0..20 {
        let (client, url, key, body) = (
            app.client.clone(),
            app.url("/v1/charges"),
            key.clone(),
            body.clone(),
        );
        requests.spawn(async move {
            let response = client
                .post(url)
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
                .await
                .expect("POST /v1/charges");
            read(response).await
        });
    }
    let answers = requests.join_all().await;

    assert_eq!(app.charge_count().await, 1, "exactly one charge row");
    let (first_status, _, first_body, _) = &answers[0];
    for (status, _, body, _) in &answers {
        assert_eq!(
            (status, body),
            (first_status, first_body),
            "every caller gets the same answer"
        );
    }
    assert_eq!(*first_status, 201, "{first_body}");
    let fresh = answers
        .iter()
        .filter(|(_, headers, _, _)| header(headers, "idempotent-replayed").is_none())
        .count();
    assert_eq!(
        fresh, 1,
        "one request made the charge; the others replayed it"
    );
}
