//! Helpers for the services' integration tests (a dev-dependency only).
//!
//! External dependencies follow one policy: a test that needs PostgreSQL, Redis or Prometheus
//! runs against the real thing. On a machine without it the test is skipped *loudly* (a
//! `SKIPPED:` line on stderr); with `WEBSTORE_REQUIRE_EXTERNAL=1` (set by `cargo xtask test` in
//! CI) a missing dependency is a failure instead.

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database};
use telemetry::{Telemetry, TelemetryConfig};

pub use otlp_sink::{self, OtlpSink, SpanStore, StoredSpan};

/// `true` when missing external dependencies must fail tests (CI).
pub fn external_required() -> bool {
    std::env::var("WEBSTORE_REQUIRE_EXTERNAL")
        .is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// Call when `what` is unavailable: panics in CI, otherwise prints a `SKIPPED:` line.
pub fn unavailable(what: &str) {
    if external_required() {
        panic!("{what} is required (WEBSTORE_REQUIRE_EXTERNAL=1) but unavailable");
    }
    eprintln!("SKIPPED: {what} is unavailable on this machine");
}

fn reachable(addr: &str) -> bool {
    addr.parse::<SocketAddr>()
        .ok()
        .is_some_and(|a| TcpStream::connect_timeout(&a, Duration::from_secs(1)).is_ok())
}

/// The admin URL tests create their databases through.
pub fn postgres_admin_url() -> String {
    std::env::var("WEBSTORE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A fresh, uniquely named Postgres database for one test, or `None` (after [`unavailable`]).
pub async fn postgres_database() -> Option<String> {
    let admin = postgres_admin_url();
    let host = admin
        .rsplit('@')
        .next()
        .and_then(|h| h.split('/').next())
        .unwrap_or("127.0.0.1:5432");
    if !reachable(host) {
        unavailable(&format!("PostgreSQL at {host}"));
        return None;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    // The creation time is in the name so that later runs can drop what earlier ones left.
    let name = format!(
        "webstore_test_{now}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let conn = match Database::connect(admin.as_str()).await {
        Ok(c) => c,
        Err(e) => {
            unavailable(&format!("PostgreSQL at {host} ({e})"));
            return None;
        }
    };
    drop_stale_databases(&conn, now).await;
    if let Err(e) = conn
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
    {
        unavailable(&format!("PostgreSQL CREATE DATABASE ({e})"));
        return None;
    }
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    Some(format!("{base}/{name}"))
}

/// Drops test databases created more than an hour ago (by runs that have surely ended).
async fn drop_stale_databases(conn: &sea_orm::DatabaseConnection, now: u64) {
    use sea_orm::{DbBackend, Statement};
    let Ok(rows) = conn
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT datname FROM pg_database WHERE datname LIKE 'webstore_test_%'",
        ))
        .await
    else {
        return;
    };
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else {
            continue;
        };
        let created = name
            .strip_prefix("webstore_test_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|t| t.parse::<u64>().ok());
        // Names without a timestamp come from older helpers: stale by definition.
        if created.is_none_or(|t| t + 3600 < now) {
            let _ = conn
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    }
}

/// Redis URL for tests, or `None` (after [`unavailable`]).
pub fn redis_url() -> Option<String> {
    let url = std::env::var("WEBSTORE_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let host = url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap_or("127.0.0.1:6379")
        .to_owned();
    if reachable(&host) {
        Some(url)
    } else {
        unavailable(&format!("Redis at {host}"));
        None
    }
}

/// A SQLite URL for a file no other test uses.
pub fn sqlite_url() -> String {
    let dir = std::env::temp_dir().join("webstore-tests");
    let _ = std::fs::create_dir_all(&dir);
    let path: PathBuf = dir.join(format!("{}.db", uuid::Uuid::new_v4().simple()));
    format!("sqlite://{}?mode=rwc", path.display())
}

/// Log lines captured by the test subscriber (shown live with `TEST_LOG=1`).
pub fn captured_logs() -> Vec<String> {
    logs().lock().map(|l| l.clone()).unwrap_or_default()
}

fn logs() -> &'static Mutex<Vec<String>> {
    static LOGS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    LOGS.get_or_init(|| Mutex::new(Vec::new()))
}

#[derive(Clone, Copy)]
struct CaptureWriter;

impl std::io::Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        if std::env::var_os("TEST_LOG").is_some() {
            eprint!("{text}");
        }
        if let Ok(mut l) = logs().lock() {
            l.extend(text.lines().map(str::to_owned));
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The test binary's telemetry, initialised once: logs captured (see [`captured_logs`]), every
/// span sampled and exported to an in-process [`OtlpSink`], which is returned so tests can look
/// their traces up.
pub fn telemetry() -> &'static OtlpSink {
    &global_telemetry().0
}

/// The one global initialisation and the handle that owns its span pipeline. A static is never
/// dropped, so the pipeline lives as long as the test binary; the testing preset exports every
/// 100 ms, and [`flush_spans`] exports at once.
fn global_telemetry() -> &'static (OtlpSink, Telemetry) {
    static GLOBAL: OnceLock<(OtlpSink, Telemetry)> = OnceLock::new();
    GLOBAL.get_or_init(|| {
        let sink = OtlpSink::start_in_background("127.0.0.1:0".parse().expect("literal address"))
            .expect("start the in-process OTLP sink");
        let config = TelemetryConfig::testing(
            "webstore-test",
            env!("CARGO_PKG_VERSION"),
            &sink.traces_endpoint(),
        );
        let handle = telemetry::testing::init_with_writer(&config, || CaptureWriter)
            .expect("init telemetry once");
        (sink, handle)
    })
}

/// The telemetry of one application under test: the testing preset's settings for
/// `service_name` (to put in its `Settings`) and a handle of its own (`telemetry::testing::detached`):
/// a fresh metrics registry, spans through the binary's one subscriber to [`telemetry()`]'s
/// sink. `service_version` is the service's: pass `env!("CARGO_PKG_VERSION")`.
pub fn app_telemetry(service_name: &str, service_version: &str) -> (TelemetryConfig, Telemetry) {
    let sink = telemetry();
    let config = TelemetryConfig::testing(service_name, service_version, &sink.traces_endpoint());
    let handle = telemetry::testing::detached(&config);
    (config, handle)
}

/// Exports every span ended so far and waits until the sink has them: what a test awaits
/// before asserting that a span was *not* exported.
///
/// # Panics
/// If the export fails (the in-process sink is down).
pub async fn flush_spans() {
    telemetry::testing::force_flush(&global_telemetry().1)
        .await
        .expect("flush the test binary's spans to the in-process sink");
}

/// Every `(METHOD, path)` an OpenAPI document lists, sorted: what a service's route-table test
/// compares with the routes it really serves.
pub fn openapi_operations(doc: &serde_json::Value) -> Vec<(String, String)> {
    let mut ops: Vec<(String, String)> = doc["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flat_map(|ops| ops.keys())
                .filter(|m| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    ops.sort();
    ops
}
