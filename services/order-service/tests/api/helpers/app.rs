//! [`TestApp`] and its builder: settings go through `Cli` and `Settings::from_cli`, as a
//! deployment's do.

use std::time::Duration;

use order_service::config::{Cli, Settings};
use order_service::domain::ApiKeys;
use order_service::startup::Application;
use order_service::store::OrderStore;
use serde_json::{json, Value};
use service_kit::drain::Drain;
use test_support::{TestClient, TestTrace, Variables};
use tracing::Instrument;
use wiremock::MockServer;

pub const ALICE_KEY: &str = "alice-key";
pub const BOB_KEY: &str = "bob-key";
pub const PROBLEM_JSON: &str = "application/problem+json";
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Short on purpose: the timeout tests must finish in well under a second.
pub const PAYMENT_TIMEOUT: Duration = Duration::from_millis(300);
pub const CATALOG_TIMEOUT: Duration = Duration::from_millis(300);

/// One running order-service and its two mocked neighbours.
pub struct TestApp {
    pub address: String,
    pub port: u16,
    /// Every request starts a trace this test owns: [`TestApp::logs`] and [`TestApp::panics`]
    /// return what those requests caused, never another test's.
    pub client: TestClient,
    pub store: OrderStore,
    pub api_keys: ApiKeys,
    pub catalog: MockServer,
    pub gateway: MockServer,
    /// The application's shutdown: `drain.begin()` is what SIGTERM does in `main`.
    pub drain: Drain,
    /// The server task: ends when the drain has finished.
    pub running: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// How a test configures its application: the variables a deployment sets.
pub struct TestAppBuilder {
    variables: Variables,
}

/// The application on a fresh SQLite file, with the test defaults.
pub async fn spawn_app() -> TestApp {
    TestApp::builder().spawn().await
}

impl TestApp {
    /// The test defaults, each overridable with [`TestAppBuilder::setting`]: a fresh SQLite
    /// file, port 0, one worker, customers `alice` and `bob`, short neighbour timeouts, rate
    /// limits off (suites send bursts far above the defaults), a rate-limit key prefix of its
    /// own, and the neighbours' URLs pointing at this app's mocks.
    pub fn builder() -> TestAppBuilder {
        let mut variables = Variables::default();
        for (variable, value) in [
            ("BIND_ADDR", "127.0.0.1:0".to_owned()),
            ("DATABASE_URL", test_support::sqlite_url()),
            ("HTTP_WORKERS", "1".to_owned()),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                test_support::otlp_traces_endpoint(),
            ),
            ("API_KEYS", "alice:alice-key,bob:bob-key".to_owned()),
            (
                "PAYMENT_TIMEOUT",
                format!("{}ms", PAYMENT_TIMEOUT.as_millis()),
            ),
            (
                "CATALOG_TIMEOUT",
                format!("{}ms", CATALOG_TIMEOUT.as_millis()),
            ),
            ("REQUEST_TIMEOUT", "10s".to_owned()),
            ("RATE_LIMIT_CLIENT", "off".to_owned()),
            ("RATE_LIMIT_GLOBAL", "off".to_owned()),
            (
                "RATE_LIMIT_KEY_PREFIX",
                format!("test-{}", uuid::Uuid::new_v4().simple()),
            ),
            // Generous: a loaded CI machine must not turn a slow Redis answer into a fallback.
            ("RATE_LIMIT_REDIS_TIMEOUT", "2s".to_owned()),
        ] {
            variables.set(variable, value);
        }
        TestAppBuilder { variables }
    }

    // --- what the test's own requests caused ----------------------------------------------

    /// Log lines (JSON) of this test's traces.
    pub fn logs(&self) -> Vec<String> {
        self.client.logs()
    }

    /// Panics in this test's traces.
    pub fn panics(&self) -> Vec<String> {
        self.client.panics()
    }

    /// A sampled or unsampled trace context this test owns, to send with
    /// [`TestApp::post_checkout_traced`] or `client.request_in`.
    pub fn new_trace(&self, sampled: bool) -> TestTrace {
        self.client.new_trace(sampled)
    }
}

impl TestAppBuilder {
    /// Sets a variable the service reads (`RATE_LIMIT_CLIENT`, `REDIS_URL`, …), as a deployment
    /// would.
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

    /// Starts the application, or says why it could not (the error names the variable).
    pub async fn try_spawn(mut self) -> anyhow::Result<TestApp> {
        let catalog = MockServer::start().await;
        let gateway = MockServer::start().await;
        for (variable, mock) in [("CATALOG_URL", &catalog), ("PAYMENT_GATEWAY_URL", &gateway)] {
            if self.variables.get(variable).is_none() {
                self.variables.set(variable, mock.uri());
            }
        }
        let cli: Cli = self.variables.parse()?;
        let settings = Settings::from_cli(cli)?;
        let telemetry = test_support::app_telemetry(&settings.telemetry);
        let api_keys = settings.api_keys.clone();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let client = TestClient::new(http);
        // Start-up logs (a Redis that does not answer, say) belong to this test too.
        let app = Application::build(settings, &telemetry)
            .instrument(client.span("start"))
            .await?;
        let port = app.port();
        let address = app.base_url();
        let store = app.store.clone();
        let drain = app.drain().clone();
        let running = tokio::spawn(app.run_until_stopped());
        Ok(TestApp {
            address,
            port,
            client,
            store,
            api_keys,
            catalog,
            gateway,
            drain,
            running,
        })
    }
}

impl TestApp {
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

    /// A checkout whose caller is `trace`.
    pub async fn post_checkout_traced(
        &self,
        body: &Value,
        key: &str,
        trace: &TestTrace,
    ) -> reqwest::Response {
        self.client
            .request_in(trace, reqwest::Method::POST, self.url("/api/v1/checkout"))
            .bearer_auth(key)
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
}

/// A US card checkout of `(product_id, quantity)` lines.
pub fn basket(lines: &[(&str, i64)]) -> Value {
    json!({
        "country": "US",
        "payment_method": "card",
        "items": lines.iter().map(|(id, q)| json!({"product_id": id, "quantity": q})).collect::<Vec<_>>(),
    })
}
