//! Sending one planned request (and, per the [`ClientPolicy`], its retries), noting what came
//! back.

use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::Url;

use super::client::{Attempt, ClientPolicy};
use super::mix::{PlacedOrders, Request, RequestKind};
use crate::http::{endpoint, endpoint_with_query, Http};

/// Where requests go, and as whom.
#[derive(Clone, Debug)]
pub struct Target {
    pub http: Http,
    pub order: Url,
    pub catalog: Url,
    pub api_key: String,
    pub placed: PlacedOrders,
    pub client: ClientPolicy,
}

/// What one request came to (its last attempt, when it was retried).
#[derive(Clone, Debug, PartialEq)]
pub struct Sent {
    pub kind: RequestKind,
    /// `None`: no HTTP answer (connection refused, reset, timed out).
    pub status: Option<u16>,
    pub latency: Duration,
    /// A 429 carrying `Retry-After`, `RateLimit` and `RateLimit-Policy`.
    pub rate_limit_headers: bool,
}

impl Target {
    /// Sends `request`; a keyed checkout whose outcome stays open is retried as the policy says.
    pub async fn send(&self, request: Request) -> Sent {
        let retries = match &request {
            Request::Checkout {
                idempotency_key: Some(_),
                ..
            } => self.client.retries,
            _ => 0,
        };
        let mut backoff = self.client.retry_backoff;
        let mut retry = 0;
        loop {
            let sent = self.attempt(&request, retry).await;
            if retry >= retries || !ClientPolicy::retries_after(sent.status) {
                return sent;
            }
            tokio::time::sleep(backoff).await;
            backoff = backoff.saturating_mul(2);
            retry += 1;
        }
    }

    async fn attempt(&self, request: &Request, retry: u32) -> Sent {
        let kind = request.kind();
        let client = self.http.client();
        let builder = match request {
            Request::ListProducts { limit } => client.get(endpoint_with_query(
                &self.catalog,
                "/api/v1/products",
                &[("limit", &limit.to_string())],
            )),
            Request::GetProduct { id } => {
                client.get(endpoint(&self.catalog, &format!("/api/v1/products/{id}")))
            }
            Request::Checkout {
                body,
                idempotency_key,
            } => {
                let builder = client
                    .post(endpoint(&self.order, "/api/v1/checkout"))
                    .bearer_auth(&self.api_key)
                    .json(body);
                match idempotency_key {
                    Some(key) => builder.header("Idempotency-Key", key),
                    None => builder,
                }
            }
            Request::GetOrder { id } => client
                .get(endpoint(&self.order, &format!("/api/v1/orders/{id}")))
                .bearer_auth(&self.api_key),
        };
        let started = Instant::now();
        let response = builder.send().await;
        let (status, rate_limit_headers, body) = match response {
            Ok(response) => {
                let status = response.status().as_u16();
                let limited = status == 429 && has_rate_limit_headers(response.headers());
                // Read the body so the latency covers the whole answer, as a client sees it.
                let body = response.bytes().await.ok();
                (Some(status), limited, body)
            }
            Err(_) => (None, false, None),
        };
        let latency = started.elapsed();
        let mut placed = None;
        if kind == RequestKind::Checkout && status == Some(201) {
            if let Some(id) = body.as_deref().and_then(order_id) {
                self.placed.add(id.clone());
                placed = Some(id);
            }
        }
        if let Some(journal) = &self.client.journal {
            journal.record(Attempt {
                kind,
                started,
                latency,
                status,
                order_id: placed,
                idempotency_key: match request {
                    Request::Checkout {
                        idempotency_key, ..
                    } => idempotency_key.clone(),
                    _ => None,
                },
                retry,
            });
        }
        Sent {
            kind,
            status,
            latency,
            rate_limit_headers,
        }
    }
}

fn has_rate_limit_headers(headers: &HeaderMap) -> bool {
    ["retry-after", "ratelimit", "ratelimit-policy"]
        .iter()
        .all(|name| headers.contains_key(*name))
}

fn order_id(body: &[u8]) -> Option<String> {
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    json["order_id"].as_str().map(str::to_owned)
}
