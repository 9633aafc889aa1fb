//! What a hostile client found on the gateway (issue 10), each now a test: charges without the
//! merchant key, token guessing on `/admin/faults`, `Authorization` sent twice, HEAD and
//! OPTIONS unlike the other services, bodies it cannot read, Rust type names in errors.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{assert_problem, charge_body, header, new_key, read, TestApp, ADMIN_TOKEN};

const MERCHANT_KEY: &str = "test-merchant-key-4c1e";

async fn with_merchant_key() -> TestApp {
    TestApp::builder()
        .setting("GATEWAY_API_KEY", MERCHANT_KEY)
        .spawn()
        .await
}

#[tokio::test]
async fn charges_need_the_merchant_key() {
    let app = with_merchant_key().await;
    let charge = |authorization: Option<&str>| {
        let mut request = app
            .client
            .post(app.url("/v1/charges"))
            .header("Idempotency-Key", new_key())
            .json(&charge_body("order-hostile"));
        if let Some(value) = authorization {
            request = request.header("Authorization", value.to_owned());
        }
        request.send()
    };
    for authorization in [
        None,
        Some("Bearer wrong-key"),
        Some("Bearer "),
        Some(&format!("Basic {MERCHANT_KEY}") as &str),
        Some(&format!("Bearer {MERCHANT_KEY}x") as &str),
    ] {
        let (status, headers, _, body) = read(charge(authorization).await.expect("POST")).await;
        assert_problem(status, &headers, &body, 401, "unauthorized");
        let challenge = header(&headers, "www-authenticate").unwrap_or_default();
        assert!(challenge.starts_with("Bearer realm="), "{challenge}");
    }
    // Refused before routing: reading charges, and probing paths, need the key as well.
    for path in [
        "/v1/charges/ch_00000000000000000000000000000000",
        "/v1/anything",
    ] {
        let (status, headers, _, body) = read(app.get(path).await).await;
        assert_problem(status, &headers, &body, 401, "unauthorized");
    }
    assert_eq!(app.charge_count().await, 0, "nothing was charged");

    // The scheme is case-insensitive (RFC 9110 §11.1).
    let (status, _, _, created) = read(
        charge(Some(&format!("BEARER {MERCHANT_KEY}")))
            .await
            .expect("POST"),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("charge id");
    let (status, _, _, _) = read(app.get_charge(id).await).await;
    assert_eq!(status, 200);
    assert_eq!(app.charge_count().await, 1);

    // Operational routes stay open: the platform probes them without the key.
    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
    let logs = app.client.logs().join("\n");
    assert!(!logs.contains(MERCHANT_KEY), "the key is never logged");
}

#[tokio::test]
async fn authorization_sent_twice_is_a_400_even_when_both_are_right() {
    let app = with_merchant_key().await;
    let twice = |url: String, value: &str| {
        app.client
            .get(url)
            .header("Authorization", value.to_owned())
            .header("Authorization", value.to_owned())
            .send()
    };
    for (url, token) in [
        (app.url("/v1/charges/ch_1"), MERCHANT_KEY),
        (app.url("/admin/faults"), ADMIN_TOKEN),
    ] {
        let response = twice(url.clone(), &format!("Bearer {token}"))
            .await
            .expect("GET");
        let (status, headers, _, body) = read(response).await;
        assert_problem(status, &headers, &body, 400, "duplicate-header");
        assert!(
            body["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("Authorization"),
            "{url}: {body}"
        );
    }
}

#[tokio::test]
async fn admin_token_guessing_is_throttled() {
    let app = TestApp::builder().spawn().await;
    let mut statuses = Vec::new();
    for guess in 0..20 {
        let response = app
            .put_faults(Some(&format!("guess-{guess}")), &json!({"error_rate": 1.0}))
            .await;
        let (status, headers, _, body) = read(response).await;
        if status == 429 {
            assert_problem(status, &headers, &body, 429, "rate-limited");
            assert!(header(&headers, "retry-after").is_some(), "{body}");
        }
        statuses.push(status);
    }
    // Checked guesses come in runs of at most 5 (one second's worth), refusals in between.
    let longest_run = statuses
        .split(|s| *s == 429)
        .map(<[u16]>::len)
        .max()
        .unwrap_or_default();
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429)
            && statuses.contains(&429)
            && longest_run <= 5,
        "at most 5 guesses a second are checked, the rest refused: {statuses:?}"
    );
    // While refused, even the right token waits (a 200 among the 429s would tell a guesser it
    // hit); once the second is over it works again.
    let deadline = Instant::now() + Duration::from_secs(5);
    let faults = loop {
        let (status, _, _, body) = read(app.get_faults(Some(ADMIN_TOKEN)).await).await;
        if status == 200 {
            break body;
        }
        assert_eq!(status, 429, "{body}");
        assert!(
            Instant::now() < deadline,
            "the admin API stayed closed for 5 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(faults["error_rate"], 0.0, "no guess changed the faults");
}

#[tokio::test]
async fn head_and_options_answer_like_the_other_services() {
    let app = TestApp::builder().spawn().await;
    for (path, allow) in [
        ("/v1/charges", "GET, HEAD, POST, OPTIONS"),
        ("/v1/charges/ch_1", "GET, HEAD, OPTIONS"),
        ("/admin/faults", "GET, HEAD, PUT, OPTIONS"),
        ("/healthz", "GET, HEAD, OPTIONS"),
        ("/readyz", "GET, HEAD, OPTIONS"),
    ] {
        let response = app
            .client
            .request(reqwest::Method::OPTIONS, app.url(path))
            .send()
            .await
            .expect("OPTIONS");
        assert_eq!(response.status(), 204, "{path}");
        assert_eq!(header(response.headers(), "allow"), Some(allow), "{path}");
    }
    let head = app
        .client
        .head(app.url("/readyz"))
        .send()
        .await
        .expect("HEAD");
    assert_eq!(head.status(), 200);
    assert_eq!(head.text().await.unwrap_or_default(), "");
}

#[tokio::test]
async fn faults_bodies_are_objects_and_errors_name_no_rust_type() {
    let app = TestApp::builder().spawn().await;
    for (body, expected) in [
        (json!([0, 0.5]), "a faults object"),
        (json!({"latency_ms": "5"}), "a non-negative integer"),
        (json!({"error_rate": true}), "a number"),
    ] {
        let (status, _, text, _) = read(app.put_faults(Some(ADMIN_TOKEN), &body).await).await;
        assert_eq!(status, 422, "{body}: {text}");
        assert!(text.contains(expected), "{body}: {text}");
        for rust in ["FaultsPatch", "u64", "f64", "struct "] {
            assert!(!text.contains(rust), "{body} names {rust:?}: {text}");
        }
    }
}

#[tokio::test]
async fn a_compressed_or_non_utf8_charge_body_is_415() {
    let app = TestApp::builder().spawn().await;
    let body = charge_body("order-415").to_string();
    for (content_type, encoding) in [
        ("application/json", Some("gzip")),
        ("application/json; charset=utf-16", None),
    ] {
        let mut request = app
            .client
            .post(app.url("/v1/charges"))
            .header("Idempotency-Key", new_key())
            .header("content-type", content_type)
            .body(body.clone());
        if let Some(encoding) = encoding {
            request = request.header("content-encoding", encoding);
        }
        let (status, headers, _, problem) = read(request.send().await.expect("POST")).await;
        assert_problem(status, &headers, &problem, 415, "unsupported-media-type");
    }
    assert_eq!(app.charge_count().await, 0);
}
