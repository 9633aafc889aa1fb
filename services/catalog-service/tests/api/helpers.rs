//! [`TestApp::builder`]: the real application on port 0, configured through the variables
//! production reads (parsed by `Cli`, validated by `Settings::from_cli`), with its own
//! database, a cache key prefix of its own, and telemetry exported to the in-process OTLP sink.

use std::time::Duration;

use catalog_service::config::{Cli, Settings};
use catalog_service::startup::Application;
use reqwest::header::CONTENT_TYPE;
use test_support::{StoredSpan, TestClient, TestTrace, Variables};
use tracing::Instrument;

pub struct TestApp {
    pub address: String,
    pub port: u16,
    /// Every request starts a trace this test owns ([`TestApp::logs`]).
    pub client: TestClient,
    /// Every cache key of this app starts with it, so tests sharing one Redis never collide.
    pub key_prefix: String,
}

/// How a test configures its application: the variables a deployment sets.
pub struct TestAppBuilder {
    variables: Variables,
}

/// SQLite, in-process cache.
pub async fn spawn_app() -> TestApp {
    TestApp::builder().spawn().await
}

impl TestApp {
    /// A fresh SQLite file, port 0, one worker, the in-process cache under a key prefix of its
    /// own; each overridable with [`TestAppBuilder::setting`].
    pub fn builder() -> TestAppBuilder {
        let mut variables = Variables::default();
        variables.set("BIND_ADDR", "127.0.0.1:0");
        variables.set("DATABASE_URL", test_support::sqlite_url());
        variables.set("HTTP_WORKERS", "1");
        variables.set(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            test_support::otlp_traces_endpoint(),
        );
        variables.set(
            "CATALOG_CACHE_KEY_PREFIX",
            format!("test-{}:", uuid::Uuid::new_v4().simple()),
        );
        TestAppBuilder { variables }
    }

    /// Log lines (JSON) of this test's traces.
    pub fn logs(&self) -> Vec<String> {
        self.client.logs()
    }
}

impl TestAppBuilder {
    /// Sets a variable the service reads (`REDIS_URL`, `CATALOG_CACHE_TTL`, …).
    pub fn setting(mut self, variable: &str, value: impl Into<String>) -> Self {
        self.variables.set(variable, value);
        self
    }

    /// Starts the application; panics, like a bad deployment fails, if a setting is invalid.
    pub async fn spawn(self) -> TestApp {
        self.try_spawn()
            .await
            .unwrap_or_else(|e| panic!("the application did not start: {e:#}"))
    }

    pub async fn try_spawn(self) -> anyhow::Result<TestApp> {
        let cli: Cli = self.variables.parse()?;
        let settings = Settings::from_cli(cli)?;
        let telemetry = test_support::app_telemetry(&settings.telemetry);
        let key_prefix = settings.cache.key_prefix.clone();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        let client = TestClient::new(http);
        // Start-up logs (a Redis that does not answer, say) belong to this test too.
        let app = Application::build(settings, &telemetry)
            .instrument(client.span("start"))
            .await?;
        let port = app.port();
        let address = app.base_url().to_owned();
        tokio::spawn(app.run_until_stopped());
        Ok(TestApp {
            address,
            port,
            client,
            key_prefix,
        })
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

    /// The product, requested as a child of `trace`.
    pub async fn get_product_traced(&self, id: &str, trace: &TestTrace) -> reqwest::Response {
        self.client
            .request_in(
                trace,
                reqwest::Method::GET,
                format!("{}/api/v1/products/{id}", self.address),
            )
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

/// Waits (up to 10 s) until the spans of `trace` satisfy `predicate`; returns them either way.
pub async fn wait_for_trace(
    trace: &TestTrace,
    predicate: impl Fn(&[StoredSpan]) -> bool,
) -> Vec<StoredSpan> {
    test_support::telemetry()
        .store
        .wait_for_trace(&trace.trace_id, predicate, Duration::from_secs(10))
        .await
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
