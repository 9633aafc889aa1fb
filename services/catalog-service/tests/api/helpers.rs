//! `spawn_app()`: the real application on port 0 with its own database, a unique cache key
//! prefix, and telemetry exported to the in-process OTLP sink.

use std::time::Duration;

use catalog_service::config::{CacheSettings, Settings};
use catalog_service::startup::Application;
use reqwest::header::CONTENT_TYPE;
use test_support::StoredSpan;

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    /// Every cache key of this app starts with it, so tests sharing one Redis never collide.
    pub key_prefix: String,
}

/// SQLite, in-process cache.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(test_support::sqlite_url(), None).await
}

/// A fresh Postgres database, or `None` when Postgres is unavailable (skipped loudly, or a
/// failure with `WEBSTORE_REQUIRE_EXTERNAL=1`).
pub async fn spawn_app_on_postgres() -> Option<TestApp> {
    let url = test_support::postgres_database().await?;
    Some(spawn_app_with(url, None).await)
}

/// SQLite, with the Redis cache at `redis_url`.
pub async fn spawn_app_with_redis(redis_url: &str) -> TestApp {
    spawn_app_with(test_support::sqlite_url(), Some(redis_url.to_owned())).await
}

pub async fn spawn_app_with(database_url: String, redis_url: Option<String>) -> TestApp {
    let (telemetry_config, telemetry) =
        test_support::app_telemetry("catalog-service", env!("CARGO_PKG_VERSION"));
    let key_prefix = format!("test-{}:", uuid::Uuid::new_v4().simple());
    let settings = Settings {
        bind_addr: "127.0.0.1:0".parse().expect("literal address"),
        database_url,
        http_workers: Some(1),
        telemetry: telemetry_config,
        cache: CacheSettings {
            redis_url,
            key_prefix: key_prefix.clone(),
            ..CacheSettings::default()
        },
    };
    let app = Application::build(settings, &telemetry)
        .await
        .expect("the application builds");
    let port = app.port();
    let address = app.base_url().to_owned();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        port,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("build the test client"),
        key_prefix,
    }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get_product(&self, id: &str) -> reqwest::Response {
        self.get(&format!("/api/v1/products/{id}")).await
    }

    pub async fn get_product_traced(
        &self,
        id: &str,
        traceparent: &Traceparent,
    ) -> reqwest::Response {
        self.client
            .get(format!("{}/api/v1/products/{id}", self.address))
            .header("traceparent", traceparent.header())
            .send()
            .await
            .expect("request sent")
    }

    /// `query` is the raw query string, e.g. `limit=5&cursor=…` (empty for none).
    pub async fn list_products(&self, query: &str) -> reqwest::Response {
        self.get(&format!("/api/v1/products?{query}")).await
    }

    pub async fn readyz(&self) -> reqwest::Response {
        self.get("/readyz").await
    }

    pub async fn metrics(&self) -> reqwest::Response {
        self.get("/metrics").await
    }

    pub async fn openapi(&self) -> reqwest::Response {
        self.get("/openapi.json").await
    }

    /// The value of `webstore_catalog_cache_requests_total{result="…"}` on `/metrics`.
    pub async fn cache_requests(&self, result: &str) -> u64 {
        let text = self.metrics().await.text().await.expect("metrics body");
        let prefix = format!("webstore_catalog_cache_requests_total{{result=\"{result}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {prefix} line in /metrics:\n{text}"))
            .trim()
            .parse()
            .expect("a counter value")
    }
}

/// Asserts the response is problem+json with this status and returns the body.
pub async fn assert_problem(response: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status);
    let content_type = response.headers().get(CONTENT_TYPE).cloned();
    let body: serde_json::Value = response.json().await.expect("a JSON body");
    assert_eq!(
        content_type.as_ref().and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "{body}"
    );
    assert_eq!(body["status"], status, "{body}");
    body
}

/// The `field`s listed in a validation problem's `errors`.
pub fn problem_fields(body: &serde_json::Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A sampled W3C trace context to send, with fresh ids.
pub struct Traceparent {
    pub trace_id: String,
    pub span_id: String,
}

impl Traceparent {
    pub fn sampled() -> Self {
        let trace_id = uuid::Uuid::new_v4().simple().to_string();
        let span_id = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
        Self { trace_id, span_id }
    }

    pub fn header(&self) -> String {
        format!("00-{}-{}-01", self.trace_id, self.span_id)
    }

    /// Waits (up to 10 s) until the trace's spans satisfy `predicate`; returns them either way.
    pub async fn wait_for(&self, predicate: impl Fn(&[StoredSpan]) -> bool) -> Vec<StoredSpan> {
        test_support::telemetry()
            .store
            .wait_for_trace(&self.trace_id, predicate, Duration::from_secs(10))
            .await
    }
}

/// The server span our request created: kind `server`, child of the span id we sent.
pub fn server_span<'a>(spans: &'a [StoredSpan], parent: &str) -> Option<&'a StoredSpan> {
    spans
        .iter()
        .find(|s| s.kind == "server" && s.parent_span_id.as_deref() == Some(parent))
}

/// Waterfall-ish dump for assertion messages.
pub fn describe(spans: &[StoredSpan]) -> String {
    spans
        .iter()
        .map(|s| {
            format!(
                "{} [{}] {:?} parent={:?} {:?}",
                s.name, s.kind, s.span_id, s.parent_span_id, s.attributes
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
