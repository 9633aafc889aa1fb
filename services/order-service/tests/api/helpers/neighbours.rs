//! The mocked catalog and payment gateway: what they answer, and what they were asked.

use serde_json::{json, Value};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::app::{TestApp, PROBLEM_JSON};

pub const CHARGES: &str = "/v1/charges";

/// A succeeded charge as the gateway answers it (the mock does not echo the request: the
/// order-service reads only the charge id from it).
pub fn charge_json(charge_id: &str) -> Value {
    json!({
        "id": charge_id,
        "status": "succeeded",
        "amount_cents": 1999,
        "amount_usd": 19.99,
        "currency": "USD",
        "payment_method": "card",
        "country": "US",
        "reference": "0190a5b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b",
        "created_at": "2025-01-01T12:00:00.000Z",
    })
}

/// `http://127.0.0.1:<port>` where nothing listens: bound, then released.
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let port = listener.local_addr().expect("local address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

impl TestApp {
    pub async fn given_product(&self, id: &str, name: &str, price_cents: i64) {
        Mock::given(method("GET"))
            .and(path(format!("/api/v1/products/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "id": id,
                "name": name,
                "category": "tools",
                "description": format!("{name}, as the catalog describes it."),
                "price_cents": price_cents,
                "price_usd": price_cents as f64 / 100.0,
                "currency": "USD",
                "stock": 100,
            })))
            .mount(&self.catalog)
            .await;
    }

    pub async fn given_unknown_product(&self, id: &str) {
        Mock::given(method("GET"))
            .and(path(format!("/api/v1/products/{id}")))
            .respond_with(
                ResponseTemplate::new(404)
                    .insert_header("content-type", PROBLEM_JSON)
                    .set_body_string(
                        json!({
                            "type": "https://webstore.example/problems/not-found",
                            "title": "Not found",
                            "status": 404,
                        })
                        .to_string(),
                    ),
            )
            .mount(&self.catalog)
            .await;
    }

    /// Every product lookup answers with `response`.
    pub async fn given_catalog_responds(&self, response: ResponseTemplate) {
        Mock::given(method("GET"))
            .and(path_regex("^/api/v1/products/"))
            .respond_with(response)
            .mount(&self.catalog)
            .await;
    }

    pub async fn given_charge_succeeds(&self, charge_id: &str) {
        self.given_gateway_responds(
            ResponseTemplate::new(201).set_body_json(charge_json(charge_id)),
        )
        .await;
    }

    pub async fn given_gateway_responds(&self, response: ResponseTemplate) {
        Mock::given(method("POST"))
            .and(path(CHARGES))
            .respond_with(response)
            .mount(&self.gateway)
            .await;
    }

    pub async fn charge_requests(&self) -> Vec<Request> {
        received(&self.gateway, CHARGES).await
    }

    /// Waits (up to 5 s) until the gateway has received `n` charge requests: a checkout is then
    /// past writing its order (and its key), waiting for the gateway's answer.
    pub async fn wait_for_charge_requests(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let seen = self.charge_requests().await.len();
            if seen >= n {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the gateway got {seen} of {n} charge requests within 5 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    pub async fn catalog_requests(&self) -> Vec<Request> {
        received(&self.catalog, "/api/v1/products/").await
    }
}

async fn received(server: &MockServer, path_prefix: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path().starts_with(path_prefix))
        .collect()
}
