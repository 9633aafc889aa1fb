//! [`TestApp::builder`]: the real gateway on port 0, configured through the variables
//! production reads (parsed by `Cli`, validated by `Settings::from_cli`), and the [`TestApp`]
//! with one method per endpoint.

use std::time::Duration;

use payment_gateway::config::{Cli, Settings};
use payment_gateway::domain::FaultsPatch;
use payment_gateway::startup::Application;
use payment_gateway::store::charges;
use reqwest::header::AUTHORIZATION;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use serde_json::{json, Value};
use test_support::{TestClient, Variables};
use tracing::Instrument;

pub const ADMIN_TOKEN: &str = "test-admin-token";

pub struct TestApp {
    pub address: String,
    pub port: u16,
    /// Every request starts a trace this test owns.
    pub client: TestClient,
    pub db: DatabaseConnection,
    /// `GATEWAY_API_KEY` when the test set one: the charge helpers send it.
    pub merchant_key: Option<String>,
}

/// How a test configures the gateway: the variables a deployment sets, plus whether to keep the
/// shipped fault defaults (a run-time state, set through the admin API, not a setting).
pub struct TestAppBuilder {
    variables: Variables,
    default_faults: bool,
}

impl TestApp {
    /// A fresh SQLite file, port 0, two workers, `ADMIN_TOKEN` set, and a tiny but not zero
    /// `GATEWAY_LATENCY_SCALE` (the latency model and the sleep still run, in microseconds);
    /// each overridable with [`TestAppBuilder::setting`].
    pub fn builder() -> TestAppBuilder {
        let mut variables = Variables::default();
        variables.set("BIND_ADDR", "127.0.0.1:0");
        variables.set("DATABASE_URL", test_support::sqlite_url());
        variables.set("HTTP_WORKERS", "2");
        variables.set(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            test_support::otlp_traces_endpoint(),
        );
        variables.set("ADMIN_TOKEN", ADMIN_TOKEN);
        variables.set("GATEWAY_LATENCY_SCALE", "0.001");
        TestAppBuilder {
            variables,
            default_faults: false,
        }
    }
}

impl TestAppBuilder {
    /// Sets a variable the gateway reads (`DATABASE_URL`, `GATEWAY_SEED`, …).
    pub fn setting(mut self, variable: &str, value: impl Into<String>) -> Self {
        self.variables.set(variable, value);
        self
    }

    /// No `ADMIN_TOKEN`: the /admin routes must not exist.
    pub fn without_admin(mut self) -> Self {
        self.variables.unset("ADMIN_TOKEN");
        self
    }

    /// Keep the shipped fault defaults (2 % declines). Otherwise tests start with no faults at
    /// all, so that a charge that should succeed cannot be randomly declined.
    pub fn default_faults(mut self) -> Self {
        self.default_faults = true;
        self
    }

    /// Starts the gateway; panics, like a bad deployment fails, if a setting is invalid.
    pub async fn spawn(self) -> TestApp {
        self.try_spawn()
            .await
            .unwrap_or_else(|e| panic!("the gateway did not start: {e:#}"))
    }

    pub async fn try_spawn(self) -> anyhow::Result<TestApp> {
        let merchant_key = self.variables.get("GATEWAY_API_KEY").map(str::to_owned);
        let cli: Cli = self.variables.parse()?;
        let settings = Settings::from_cli(cli)?;
        let telemetry = test_support::app_telemetry(&settings.telemetry);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        let client = TestClient::new(http);
        // Start-up logs (a Redis that does not answer, say) belong to this test too.
        let app = Application::build(settings, &telemetry)
            .instrument(client.span("start"))
            .await?;
        if !self.default_faults {
            app.faults()
                .update(&FaultsPatch {
                    decline_rate: Some(0.0),
                    ..FaultsPatch::default()
                })
                .map_err(|e| anyhow::anyhow!("no declines: {e:?}"))?;
        }
        let port = app.port();
        let db = app.db().clone();
        tokio::spawn(app.run_until_stopped());
        Ok(TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            client,
            db,
            merchant_key,
        })
    }
}

/// The gateway on a fresh SQLite file, admin API on, no faults.
pub async fn spawn_app() -> TestApp {
    TestApp::builder().spawn().await
}

/// A valid charge body.
pub fn charge_body(reference: &str) -> Value {
    json!({
        "amount_cents": 4999,
        "currency": "USD",
        "payment_method": "card",
        "country": "US",
        "reference": reference,
    })
}

/// A key no other request uses.
pub fn new_key() -> String {
    format!("test-{}", uuid::Uuid::new_v4())
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// `POST /v1/charges`, with the key when given.
    pub async fn post_charge(&self, key: Option<&str>, body: &Value) -> reqwest::Response {
        self.post_charge_with(&self.client, key, body)
            .await
            .expect("POST /v1/charges")
    }

    /// `POST /v1/charges` through `client` (e.g. one with a short timeout); errors returned.
    pub async fn post_charge_with(
        &self,
        client: &TestClient,
        key: Option<&str>,
        body: &Value,
    ) -> reqwest::Result<reqwest::Response> {
        let mut request = self.as_merchant(client.post(self.url("/v1/charges")).json(body));
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.send().await
    }

    pub async fn get_charge(&self, id: &str) -> reqwest::Response {
        self.as_merchant(self.client.get(self.url(&format!("/v1/charges/{id}"))))
            .send()
            .await
            .expect("GET /v1/charges/{id}")
    }

    /// `request` with the merchant key, when the gateway has one.
    pub fn as_merchant(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.merchant_key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }

    /// `GET /admin/faults` with `Authorization: Bearer <token>` when given.
    pub async fn get_faults(&self, token: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(self.url("/admin/faults"));
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        request.send().await.expect("GET /admin/faults")
    }

    /// `PUT /admin/faults` with `Authorization: Bearer <token>` when given.
    pub async fn put_faults(&self, token: Option<&str>, body: &Value) -> reqwest::Response {
        let mut request = self.client.put(self.url("/admin/faults")).json(body);
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        request.send().await.expect("PUT /admin/faults")
    }

    /// Sets faults through the admin API, asserting it accepted them.
    pub async fn set_faults(&self, body: Value) {
        let response = self.put_faults(Some(ADMIN_TOKEN), &body).await;
        assert_eq!(response.status(), 200, "PUT /admin/faults {body}");
    }

    /// Rows in the `charges` table, read straight from the database.
    pub async fn charge_count(&self) -> u64 {
        charges::Entity::find()
            .count(&self.db)
            .await
            .expect("count charges")
    }

    /// Waits (up to 5 s) until the table holds `n` charges; returns the last count seen.
    pub async fn wait_for_charge_count(&self, n: u64) -> u64 {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let count = self.charge_count().await;
            if count == n || tokio::time::Instant::now() > deadline {
                return count;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Reads a response as (status, headers, body text, body JSON).
pub async fn read(response: reqwest::Response) -> (u16, reqwest::header::HeaderMap, String, Value) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, headers, text, json)
}

pub fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Asserts an RFC 9457 problem with the given status and `type` slug.
pub fn assert_problem(
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &Value,
    expected_status: u16,
    slug: &str,
) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(
        header(headers, "content-type"),
        Some("application/problem+json"),
        "{body}"
    );
    assert_eq!(
        body["type"],
        format!("https://webstore.example/problems/{slug}"),
        "{body}"
    );
    assert_eq!(body["status"], expected_status, "{body}");
}

/// The fields named in a validation problem's `errors`.
pub fn error_fields(body: &Value) -> Vec<String> {
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

/// Generates, for each named `async fn(TestApp)` in the enclosing module, one `#[tokio::test]`
/// on SQLite (`sqlite::name`) and one on Postgres (`needs_postgres::name`, which needs a
/// server: see `test_support::external`).
macro_rules! on_every_database {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::helpers::spawn_app().await).await;
                }
            )+
        }
        mod needs_postgres {
            $(
                #[tokio::test]
                #[ignore = "needs: postgres"]
                async fn $name() {
                    let app = $crate::helpers::TestApp::builder()
                        .setting("DATABASE_URL", test_support::postgres_database().await)
                        .spawn()
                        .await;
                    super::$name(app).await;
                }
            )+
        }
    };
}
pub(crate) use on_every_database;
