//! CORS from `CORS_ALLOWED_ORIGINS` (nothing by default), the request timeout, and the
//! security headers on every kind of answer.

use std::time::Duration;

use crate::helpers::*;

const SHOP: &str = "https://shop.example";

async fn spawn_with_origins(origins: &str) -> TestApp {
    TestApp::builder()
        .setting("CORS_ALLOWED_ORIGINS", origins)
        .spawn()
        .await
}

async fn preflight(app: &TestApp, origin: &str, headers: &str) -> reqwest::Response {
    app.client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/checkout"))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", headers)
        .send()
        .await
        .expect("send the preflight")
}

#[tokio::test]
async fn by_default_no_origin_is_allowed() {
    let app = spawn_app().await;
    let response = preflight(&app, SHOP, "authorization, content-type").await;
    assert!(header(&response, "access-control-allow-origin").is_none());
    assert_problem(response, 403, "cors-rejected").await;

    // A simple request from a page is served (CORS is enforced by the browser), without the
    // header that would let the page read the answer.
    let response = app
        .client
        .get(app.url("/api/v1/orders/x"))
        .bearer_auth(ALICE_KEY)
        .header("Origin", SHOP)
        .send()
        .await
        .expect("send");
    assert!(header(&response, "access-control-allow-origin").is_none());
    assert_problem(response, 404, "not-found").await;
}

#[tokio::test]
async fn allowed_origins_get_preflights_and_exposed_headers() {
    let app = spawn_with_origins(SHOP).await;
    let response = preflight(&app, SHOP, "authorization, content-type, idempotency-key").await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some(SHOP)
    );
    let methods = header(&response, "access-control-allow-methods").unwrap_or_default();
    assert!(methods.contains("POST"), "{methods}");
    let allowed = header(&response, "access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(allowed.contains("idempotency-key"), "{allowed}");
    assert!(header(&response, "access-control-allow-credentials").is_none());

    app.given_product("p-1", "Widget", 1999).await;
    app.given_charge_succeeds("ch_1").await;
    let response = app
        .checkout_request(Some(ALICE_KEY))
        .header("Origin", SHOP)
        .json(&basket(&[("p-1", 1)]))
        .send()
        .await
        .expect("send");
    assert_eq!(
        header(&response, "access-control-allow-origin").as_deref(),
        Some(SHOP)
    );
    let exposed = header(&response, "access-control-expose-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    for name in [
        "ratelimit",
        "idempotent-replayed",
        "location",
        "retry-after",
    ] {
        assert!(exposed.contains(name), "{name} in {exposed}");
    }
    assert_created(response).await;

    // Another origin, or a header outside the list, is refused.
    assert_problem(
        preflight(&app, "https://evil.example", "content-type").await,
        403,
        "cors-rejected",
    )
    .await;
    assert_problem(
        preflight(&app, SHOP, "x-forwarded-for").await,
        403,
        "cors-rejected",
    )
    .await;
}

/// `REQUEST_TIMEOUT` bounds a request, reading its body included. It must exceed
/// `CATALOG_TIMEOUT + PAYMENT_TIMEOUT` (a start-up check), so a slow neighbour times out first;
/// what only this timeout stops is a client that never finishes its body.
#[tokio::test]
async fn a_client_that_never_finishes_its_body_is_cut_off_with_a_503() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::builder()
        .setting("CATALOG_TIMEOUT", "50ms")
        .setting("PAYMENT_TIMEOUT", "50ms")
        .setting("REQUEST_TIMEOUT", "200ms")
        .spawn()
        .await;
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .expect("connect");
    let head = format!(
        "POST /api/v1/checkout HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ALICE_KEY}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"country\":"
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .expect("answered before the test gave up")
        .expect("read");
    let text = String::from_utf8_lossy(&answer[..n]).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 503"), "{text}");
    assert!(text.contains("\r\nretry-after: 1\r\n"), "{text}");
    assert!(
        text.contains("\r\ncontent-type: application/problem+json\r\n"),
        "{text}"
    );
    assert!(
        text.contains("\"type\":\"https://webstore.example/problems/request-timeout\""),
        "{text}"
    );
    app.assert_nothing_happened().await;
}

#[tokio::test]
async fn every_kind_of_answer_has_the_security_headers() {
    let app = TestApp::builder()
        .setting("RATE_LIMIT_CLIENT", "1/s")
        .spawn()
        .await;
    let mut responses = vec![
        app.get("/healthz").await,
        app.get("/no-such-route").await,
        app.get("/api/v1/checkout").await,
        app.get_order("x", None).await,
        app.get_order("x", Some(ALICE_KEY)).await,
        app.get_order("x", Some(ALICE_KEY)).await,
        preflight(&app, SHOP, "content-type").await,
    ];
    responses.push(
        app.post_checkout_raw("{", "application/json", BOB_KEY)
            .await,
    );
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    // The anonymous 405 used the address's quota (1/s): the anonymous lookup after it is 429.
    assert_eq!(statuses, [200, 404, 405, 429, 404, 429, 403, 400]);
    for response in &responses {
        for (name, value) in [
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("cache-control", "no-store"),
        ] {
            assert_eq!(
                header(response, name).as_deref(),
                Some(value),
                "{name} on {}",
                response.status()
            );
        }
    }
}
