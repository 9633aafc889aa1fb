//! `spawn_app()` and the [`TestApp`] with one method per endpoint.

use std::time::Duration;

use payment_gateway::config::{AdminToken, Settings};
use payment_gateway::domain::{FaultsPatch, LatencyScale};
use payment_gateway::startup::Application;
use payment_gateway::store::charges;
use reqwest::header::AUTHORIZATION;
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use serde_json::{json, Value};

pub const ADMIN_TOKEN: &str = "test-admin-token";

/// Tiny but not zero: the latency model and the sleep still run, in microseconds.
const LATENCY_SCALE: f64 = 0.001;

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
}

/// How to start the app; [`spawn_app`] covers the common case.
pub struct Spawn {
    database_url: Option<String>,
    admin: bool,
    default_faults: bool,
}

impl Spawn {
    pub fn new() -> Self {
        Self {
            database_url: None,
            admin: true,
            default_faults: false,
        }
    }

    /// Another database than a fresh SQLite file (a Postgres one).
    pub fn database(mut self, url: String) -> Self {
        self.database_url = Some(url);
        self
    }

    /// No `ADMIN_TOKEN`: the /admin routes must not exist.
    pub fn without_admin(mut self) -> Self {
        self.admin = false;
        self
    }

    /// Keep the shipped fault defaults (2 % declines). Otherwise tests start with no faults at
    /// all, so that a charge that should succeed cannot be randomly declined.
    pub fn default_faults(mut self) -> Self {
        self.default_faults = true;
        self
    }

    pub async fn start(self) -> TestApp {
        let (telemetry_config, telemetry) =
            test_support::app_telemetry("payment-gateway", env!("CARGO_PKG_VERSION"));
        let database_url = self.database_url.unwrap_or_else(test_support::sqlite_url);
        let settings = Settings {
            bind_addr: "127.0.0.1:0".parse().expect("literal address"),
            database_url,
            http_workers: Some(2),
            telemetry: telemetry_config,
            admin_token: if self.admin {
                AdminToken::new(ADMIN_TOKEN)
            } else {
                None
            },
            latency_scale: LatencyScale::new(LATENCY_SCALE).expect("valid scale"),
            seed: None,
        };
        let app = Application::build(settings, &telemetry)
            .await
            .expect("build the application");
        if !self.default_faults {
            app.faults()
                .update(&FaultsPatch {
                    decline_rate: Some(0.0),
                    ..FaultsPatch::default()
                })
                .expect("valid faults");
        }
        let port = app.port();
        let db = app.db().clone();
        tokio::spawn(app.run_until_stopped());
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("reqwest client"),
            db,
        }
    }
}

/// The app on a fresh SQLite file, admin API on, no faults.
pub async fn spawn_app() -> TestApp {
    Spawn::new().start().await
}

/// The app on `database_url`, admin API on, no faults.
pub async fn spawn_app_with(database_url: String) -> TestApp {
    Spawn::new().database(database_url).start().await
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
        client: &reqwest::Client,
        key: Option<&str>,
        body: &Value,
    ) -> reqwest::Result<reqwest::Response> {
        let mut request = client.post(self.url("/v1/charges")).json(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.send().await
    }

    pub async fn get_charge(&self, id: &str) -> reqwest::Response {
        self.get(&format!("/v1/charges/{id}")).await
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
/// on SQLite (`sqlite::name`) and one on Postgres (`postgres::name`, skipped loudly when no
/// Postgres is reachable, failing under `WEBSTORE_REQUIRE_EXTERNAL=1`).
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
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(url) = test_support::postgres_database().await else { return };
                    super::$name($crate::helpers::spawn_app_with(url).await).await;
                }
            )+
        }
    };
}
pub(crate) use on_every_database;
