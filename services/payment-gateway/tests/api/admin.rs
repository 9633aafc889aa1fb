//! `GET/PUT /admin/faults`.

use serde_json::json;

use crate::helpers::{assert_problem, error_fields, header, read, spawn_app, TestApp, ADMIN_TOKEN};

#[tokio::test]
async fn without_an_admin_token_the_admin_routes_do_not_exist() {
    let app = TestApp::builder().without_admin().spawn().await;
    for response in [
        app.get_faults(Some(ADMIN_TOKEN)).await,
        app.put_faults(Some(ADMIN_TOKEN), &json!({"error_rate": 1.0}))
            .await,
        app.get_faults(None).await,
    ] {
        let (status, headers, _, body) = read(response).await;
        assert_problem(status, &headers, &body, 404, "not-found");
    }
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_a_401_with_a_bearer_challenge() {
    let app = spawn_app().await;
    for response in [
        app.get_faults(None).await,
        app.get_faults(Some("wrong")).await,
        app.get_faults(Some(&format!("{ADMIN_TOKEN}x"))).await,
        // Refused before the body is looked at.
        app.put_faults(Some("wrong"), &json!({"error_rate": 7}))
            .await,
        app.client
            .get(app.url("/admin/faults"))
            .header("Authorization", format!("Basic {ADMIN_TOKEN}"))
            .send()
            .await
            .expect("GET"),
    ] {
        let (status, headers, _, body) = read(response).await;
        assert_problem(status, &headers, &body, 401, "unauthorized");
        let challenge = header(&headers, "www-authenticate").expect("WWW-Authenticate");
        assert!(challenge.starts_with("Bearer"), "{challenge}");
    }
}

#[tokio::test]
async fn get_answers_the_shipped_defaults() {
    let app = TestApp::builder().default_faults().spawn().await;
    let (status, _, _, body) = read(app.get_faults(Some(ADMIN_TOKEN)).await).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"latency_ms": 0, "error_rate": 0.0, "timeout_rate": 0.0, "decline_rate": 0.02})
    );
}

#[tokio::test]
async fn put_replaces_only_the_given_fields_and_every_worker_sees_it() {
    let app = TestApp::builder().default_faults().spawn().await;

    let (status, _, _, body) = read(
        app.put_faults(
            Some(ADMIN_TOKEN),
            &json!({"error_rate": 0.25, "latency_ms": 10}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"latency_ms": 10, "error_rate": 0.25, "timeout_rate": 0.0, "decline_rate": 0.02})
    );

    let (_, _, _, body) = read(
        app.put_faults(Some(ADMIN_TOKEN), &json!({"decline_rate": 0.5}))
            .await,
    )
    .await;
    assert_eq!(
        body,
        json!({"latency_ms": 10, "error_rate": 0.25, "timeout_rate": 0.0, "decline_rate": 0.5})
    );

    // Several HTTP workers serve these; the faults live once per process.
    for _ in 0..10 {
        let (_, _, _, current) = read(app.get_faults(Some(ADMIN_TOKEN)).await).await;
        assert_eq!(current, body);
    }
}

#[tokio::test]
async fn invalid_values_and_unknown_fields_are_422_and_change_nothing() {
    let app = TestApp::builder().default_faults().spawn().await;
    for (patch, field) in [
        (json!({"error_rate": 1.5}), "error_rate"),
        (json!({"timeout_rate": -0.1}), "timeout_rate"),
        (json!({"decline_rate": 2}), "decline_rate"),
        (json!({"latency_ms": 600_001}), "latency_ms"),
        (json!({"latency_ms": -1}), "body"),
        (json!({"error_rate": 0.5, "explode": true}), "body"),
    ] {
        let (status, headers, _, body) =
            read(app.put_faults(Some(ADMIN_TOKEN), &patch).await).await;
        assert_problem(status, &headers, &body, 422, "validation");
        assert_eq!(error_fields(&body), [field], "{patch}");
    }
    let (_, _, _, current) = read(app.get_faults(Some(ADMIN_TOKEN)).await).await;
    assert_eq!(
        current,
        json!({"latency_ms": 0, "error_rate": 0.0, "timeout_rate": 0.0, "decline_rate": 0.02})
    );
}
