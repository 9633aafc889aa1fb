//! Honest payment outcomes: only an answer from the gateway, or a connection refused before the
//! charge was sent, is final. Whatever leaves the charge possibly made is `payment_unknown`.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::ResponseTemplate;

use crate::helpers::*;

/// A "gateway" that reads each charge request to its last byte and then closes the connection
/// without answering: the request was sent, the gateway may have charged.
async fn gateway_that_hangs_up_after_reading() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !complete(&request) {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = socket.shutdown().await;
            });
        }
    });
    format!("http://{address}")
}

/// Headers and the whole `Content-Length` body received.
fn complete(request: &[u8]) -> bool {
    let text = String::from_utf8_lossy(request);
    let Some(end) = text.find("\r\n\r\n") else {
        return false;
    };
    let length = text[..end]
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    request.len() >= end + 4 + length
}

async fn order_status_of(app: &TestApp, problem: &serde_json::Value) -> String {
    let order_id = problem["order_id"].as_str().expect("order_id");
    app.order_row(order_id, ALICE_KEY).await.status
}

#[tokio::test]
async fn a_connection_cut_after_the_charge_was_sent_is_payment_unknown_not_failed() {
    let app = TestApp::builder()
        .setting(
            "PAYMENT_GATEWAY_URL",
            gateway_that_hangs_up_after_reading().await,
        )
        .spawn()
        .await;
    app.given_product("p-1", "Widget", 1999).await;

    let response = app
        .post_checkout(&basket(&[("p-1", 1)]), Some(ALICE_KEY))
        .await;
    let problem = assert_problem(response, 504, "payment-unknown").await;
    assert_eq!(order_status_of(&app, &problem).await, "payment_unknown");
    let metrics = app.metrics_text().await;
    assert!(
        metrics.contains("webstore_orders_total{status=\"payment_unknown\"} 1\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn an_unreadable_success_answer_is_payment_unknown() {
    let app = spawn_app().await;
    app.given_product("p-1", "Widget", 1999).await;
    app.given_gateway_responds(ResponseTemplate::new(201).set_body_string("{\"id\": 12"))
        .await;

    let response = app
        .post_checkout(&basket(&[("p-1", 1)]), Some(ALICE_KEY))
        .await;
    let problem = assert_problem(response, 504, "payment-unknown").await;
    assert_eq!(order_status_of(&app, &problem).await, "payment_unknown");
}

#[tokio::test]
async fn explicit_refusals_from_the_gateway_are_final_failures() {
    for status in [422, 500, 503] {
        let app = spawn_app().await;
        app.given_product("p-1", "Widget", 1999).await;
        app.given_gateway_responds(ResponseTemplate::new(status))
            .await;

        let response = app
            .post_checkout(&basket(&[("p-1", 1)]), Some(ALICE_KEY))
            .await;
        let problem = assert_problem(response, 502, "payment-failed").await;
        assert_eq!(
            order_status_of(&app, &problem).await,
            "payment_failed",
            "gateway {status}"
        );
    }
}
