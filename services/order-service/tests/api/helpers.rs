//! `spawn_app()`: the real application on port 0 with its own database, wiremock standing in
//! for the catalog and the payment gateway, and the test binary's in-process OTLP sink.

use std::time::Duration;

use order_service::config::Settings;
use order_service::domain::{ApiKeys, CustomerId};
use order_service::ratelimit::Limits;
use order_service::startup::Application;
use order_service::store::{OrderRecord, OrderStore};
use serde_json::{json, Value};
use test_support::StoredSpan;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub const ALICE_KEY: &str = "alice-key";
pub const BOB_KEY: &str = "bob-key";
pub const PROBLEM_JSON: &str = "application/problem+json";
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
pub const CHARGES: &str = "/v1/charges";

/// Short on purpose: the timeout tests must finish in well under a second.
pub const PAYMENT_TIMEOUT: Duration = Duration::from_millis(300);
pub const CATALOG_TIMEOUT: Duration = Duration::from_millis(300);

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub store: OrderStore,
    pub api_keys: ApiKeys,
    pub catalog: MockServer,
    pub gateway: MockServer,
}

/// What a test may change before the application is built.
#[derive(Default)]
pub struct Overrides {
    pub catalog_url: Option<String>,
    pub payment_gateway_url: Option<String>,
    pub idempotency_ttl: Option<Duration>,
    pub redis_url: Option<String>,
    pub rate_limits: Option<Limits>,
    pub rate_limit_key_prefix: Option<String>,
    pub suspicious: Option<order_service::domain::SuspiciousRules>,
    pub cors_allowed_origins: Option<order_service::config::AllowedOrigins>,
    pub request_timeout: Option<Duration>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(test_support::sqlite_url()).await
}

pub async fn spawn_app_with(database_url: String) -> TestApp {
    spawn_app_custom(database_url, Overrides::default()).await
}

pub async fn spawn_app_custom(database_url: String, overrides: Overrides) -> TestApp {
    let (telemetry_config, telemetry) =
        test_support::app_telemetry("order-service", env!("CARGO_PKG_VERSION"));
    let catalog = MockServer::start().await;
    let gateway = MockServer::start().await;
    let api_keys = ApiKeys::parse("alice:alice-key,bob:bob-key").expect("literal API keys");
    let settings = Settings {
        bind_addr: "127.0.0.1:0".parse().expect("literal address"),
        database_url,
        http_workers: Some(1),
        telemetry: telemetry_config,
        catalog_url: overrides.catalog_url.unwrap_or_else(|| catalog.uri()),
        payment_gateway_url: overrides
            .payment_gateway_url
            .unwrap_or_else(|| gateway.uri()),
        payment_timeout: PAYMENT_TIMEOUT,
        catalog_timeout: CATALOG_TIMEOUT,
        api_keys: api_keys.clone(),
        idempotency_ttl: overrides
            .idempotency_ttl
            .unwrap_or(Duration::from_secs(24 * 3600)),
        redis_url: overrides.redis_url,
        // Off unless a test is about them: suites send bursts far above the defaults.
        rate_limits: overrides.rate_limits.unwrap_or(Limits {
            client: None,
            global: None,
        }),
        rate_limit_key_prefix: overrides
            .rate_limit_key_prefix
            .unwrap_or_else(|| format!("test-{}", uuid::Uuid::new_v4().simple())),
        // Generous: a loaded CI machine must not turn a slow Redis answer into a fallback.
        rate_limit_redis_timeout: std::time::Duration::from_secs(2),
        suspicious: overrides.suspicious.unwrap_or_default(),
        cors_allowed_origins: overrides.cors_allowed_origins.unwrap_or_default(),
        request_timeout: overrides.request_timeout.unwrap_or(Duration::from_secs(10)),
    };
    let app = Application::build(settings, &telemetry)
        .await
        .expect("build the application");
    let port = app.port();
    let address = app.base_url();
    let store = app.store.clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        port,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("build the test client"),
        store,
        api_keys,
        catalog,
        gateway,
    }
}

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

/// A US card checkout of `(product_id, quantity)` lines.
pub fn basket(lines: &[(&str, i64)]) -> Value {
    json!({
        "country": "US",
        "payment_method": "card",
        "items": lines.iter().map(|(id, q)| json!({"product_id": id, "quantity": q})).collect::<Vec<_>>(),
    })
}

// --- W3C trace context -------------------------------------------------------------------

/// 32 random lowercase hex characters: each test owns its traces in the shared sink.
pub fn random_trace_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// 16 random lowercase hex characters (never all zero: a v4 uuid has its version nibble there).
pub fn random_span_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_owned()
}

pub fn traceparent(trace_id: &str, parent_id: &str, sampled: bool) -> String {
    format!(
        "00-{trace_id}-{parent_id}-{}",
        if sampled { "01" } else { "00" }
    )
}

/// `(trace_id, parent_id, flags)` of a `traceparent` a mock received.
pub fn parse_traceparent(request: &Request) -> (String, String, String) {
    let value = request
        .headers
        .get("traceparent")
        .unwrap_or_else(|| panic!("no traceparent on {} {}", request.method, request.url))
        .to_str()
        .expect("ASCII traceparent");
    let parts: Vec<&str> = value.split('-').collect();
    assert_eq!(parts.len(), 4, "malformed traceparent {value:?}");
    assert_eq!(parts[0], "00", "version of {value:?}");
    assert_eq!(parts[1].len(), 32, "trace id of {value:?}");
    assert_eq!(parts[2].len(), 16, "parent id of {value:?}");
    (
        parts[1].to_owned(),
        parts[2].to_owned(),
        parts[3].to_owned(),
    )
}

/// Waits (up to 5 s) until the trace holds every span id in `span_ids` and every ancestor of
/// them up to a span whose parent is `remote_parent` (the span id the test sent).
pub async fn wait_for_spans(
    trace_id: &str,
    span_ids: &[String],
    remote_parent: &str,
) -> Vec<StoredSpan> {
    let wanted: Vec<String> = span_ids.to_vec();
    let remote = remote_parent.to_owned();
    test_support::telemetry()
        .store
        .wait_for_trace(
            trace_id,
            move |spans| {
                wanted
                    .iter()
                    .all(|id| chain_to_remote(spans, id, &remote).is_some())
            },
            Duration::from_secs(5),
        )
        .await
}

/// The spans from `span_id` up through its parents to the one whose parent is `remote_parent`,
/// or `None` if a link is missing.
pub fn chain_to_remote<'a>(
    spans: &'a [StoredSpan],
    span_id: &str,
    remote_parent: &str,
) -> Option<Vec<&'a StoredSpan>> {
    let mut chain = Vec::new();
    let mut current = spans.iter().find(|s| s.span_id == span_id)?;
    loop {
        chain.push(current);
        let parent = current.parent_span_id.as_deref()?;
        if parent == remote_parent {
            return Some(chain);
        }
        if chain.len() > spans.len() {
            return None;
        }
        current = spans.iter().find(|s| s.span_id == parent)?;
    }
}

pub fn describe(spans: &[StoredSpan]) -> String {
    spans
        .iter()
        .map(|s| {
            format!(
                "{} {} [{}] parent={:?} ({})",
                s.span_id, s.name, s.kind, s.parent_span_id, s.service_name
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

// --- problem+json -------------------------------------------------------------------------

/// Asserts status, `application/problem+json` and the stable `type`; returns the body.
pub async fn assert_problem(response: reqwest::Response, status: u16, slug: &str) -> Value {
    let actual = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("read the problem body");
    assert_eq!(actual, status, "status; body: {text}");
    assert_eq!(content_type, PROBLEM_JSON, "content type; body: {text}");
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("problem body is not JSON ({e}): {text}"));
    assert_eq!(
        body["type"],
        format!("https://webstore.example/problems/{slug}"),
        "type; body: {text}"
    );
    assert_eq!(body["status"], status, "status member; body: {text}");
    assert!(body["title"].is_string(), "title; body: {text}");
    body
}

/// The `field` of every entry in a validation problem's `errors`.
pub fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors array in {problem}"))
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Asserts status 201 and returns the JSON body.
pub async fn assert_created(response: reqwest::Response) -> Value {
    let status = response.status().as_u16();
    let text = response.text().await.expect("read the body");
    assert_eq!(status, 201, "body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {text}"))
}

impl TestApp {
    // --- neighbours -----------------------------------------------------------------------

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

    pub async fn catalog_requests(&self) -> Vec<Request> {
        received(&self.catalog, "/api/v1/products/").await
    }

    // --- the API --------------------------------------------------------------------------

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A checkout request with the bearer key (if any), to add headers to.
    pub fn checkout_request(&self, key: Option<&str>) -> reqwest::RequestBuilder {
        let request = self.client.post(self.url("/api/v1/checkout"));
        match key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }

    pub async fn post_checkout(&self, body: &Value, key: Option<&str>) -> reqwest::Response {
        self.checkout_request(key)
            .json(body)
            .send()
            .await
            .expect("send the checkout")
    }

    /// A checkout with an `Idempotency-Key`.
    pub async fn post_checkout_keyed(
        &self,
        body: &Value,
        api_key: &str,
        idempotency_key: &str,
    ) -> reqwest::Response {
        self.checkout_request(Some(api_key))
            .header("Idempotency-Key", idempotency_key)
            .json(body)
            .send()
            .await
            .expect("send the checkout")
    }

    pub async fn post_checkout_traced(
        &self,
        body: &Value,
        key: &str,
        traceparent: &str,
    ) -> reqwest::Response {
        self.checkout_request(Some(key))
            .header("traceparent", traceparent)
            .json(body)
            .send()
            .await
            .expect("send the checkout")
    }

    /// A raw body with a content type of the test's choosing.
    pub async fn post_checkout_raw(
        &self,
        body: impl Into<reqwest::Body>,
        content_type: &str,
        key: &str,
    ) -> reqwest::Response {
        self.checkout_request(Some(key))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .expect("send the checkout")
    }

    pub async fn get_order(&self, id: &str, key: Option<&str>) -> reqwest::Response {
        let request = self.client.get(self.url(&format!("/api/v1/orders/{id}")));
        let request = match key {
            Some(key) => request.bearer_auth(key),
            None => request,
        };
        request.send().await.expect("send the order lookup")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("send the request")
    }

    /// `/metrics`, checked to be OpenMetrics text.
    pub async fn metrics_text(&self) -> String {
        let response = self.get("/metrics").await;
        assert_eq!(response.status().as_u16(), 200);
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert_eq!(content_type, OPENMETRICS);
        let text = response.text().await.expect("read /metrics");
        assert!(
            text.ends_with("# EOF\n"),
            "OpenMetrics text ends with # EOF:\n{text}"
        );
        text
    }

    // --- the database ---------------------------------------------------------------------

    pub async fn order_count(&self) -> u64 {
        self.store.count().await.expect("count orders")
    }

    pub fn customer(&self, key: &str) -> CustomerId {
        self.api_keys
            .authenticate(Some(key), None)
            .expect("a configured key")
    }

    /// The order row as `key`'s customer sees it; panics if absent.
    pub async fn order_row(&self, id: &str, key: &str) -> OrderRecord {
        self.store
            .row(id, &self.customer(key))
            .await
            .expect("read the order")
            .unwrap_or_else(|| panic!("no order row {id}"))
    }

    /// SHA-256 over every row and column of `orders` and `idempotency_keys`, in key order: equal
    /// checksums mean nothing was written, changed or deleted.
    pub async fn tables_checksum(&self) -> String {
        use sea_orm::{ConnectionTrait, Statement};
        use sha2::{Digest, Sha256};
        let db = self.store.connection();
        let backend = db.get_database_backend();
        let tables: [(&str, &[&str], &[&str]); 2] = [
            (
                "SELECT * FROM orders ORDER BY id",
                &[
                    "id",
                    "customer",
                    "status",
                    "country",
                    "payment_method",
                    "lines",
                    "payment_id",
                    "trace_id",
                ],
                &["total_cents", "created_at_ms", "updated_at_ms"],
            ),
            (
                "SELECT * FROM idempotency_keys ORDER BY customer, key",
                &[
                    "customer",
                    "key",
                    "request_hash",
                    "state",
                    "order_id",
                    "response_body",
                ],
                &["created_at_ms", "expires_at_ms", "locked_until_ms"],
            ),
        ];
        let mut hash = Sha256::new();
        for (sql, texts, numbers) in tables {
            let rows = db
                .query_all_raw(Statement::from_string(backend, sql))
                .await
                .expect("read the table");
            hash.update(format!("{sql}: {} rows\n", rows.len()));
            for row in rows {
                for column in texts {
                    let v: Option<String> = row.try_get("", column).expect("text column");
                    hash.update(format!("{column}={v:?}\n"));
                }
                for column in numbers {
                    let v: i64 = row.try_get("", column).expect("integer column");
                    hash.update(format!("{column}={v}\n"));
                }
            }
        }
        hex::encode(hash.finalize())
    }

    /// Asserts nothing was ordered and nothing charged.
    pub async fn assert_nothing_happened(&self) {
        assert_eq!(self.order_count().await, 0, "no order row may be written");
        assert!(
            self.charge_requests().await.is_empty(),
            "the gateway must not be called"
        );
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

/// The lines of OpenMetrics text that start with `prefix`.
pub fn lines_starting<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.starts_with(prefix)).collect()
}
