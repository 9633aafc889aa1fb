//! Tests that need something cargo does not provide: a PostgreSQL or Redis server, or a tool.
//!
//! # The convention
//!
//! Such a test lives in a module named `needs_<key>` (a test that needs two is nested in both,
//! `needs_postgres::needs_redis::…`) and carries `#[ignore = "needs: <key>"]`:
//!
//! ```text
//! mod needs_postgres {
//!     #[tokio::test]
//!     #[ignore = "needs: postgres"]
//!     async fn orders_survive_a_restart() {
//!         let url = test_support::postgres_database().await;
//!         // …
//!     }
//! }
//! ```
//!
//! So a plain `cargo test` or `cargo nextest run` lists it as ignored: never as passed when it
//! did not run. `cargo xtask test` probes every dependency once, runs the ignored tests too,
//! and skips by name (`--skip needs_postgres::`) only those whose dependency is missing, which
//! the runner then reports as skipped; with `CI` set, a missing dependency fails the run before
//! any test. Inside the test a missing dependency is a failure: the helpers below panic with
//! what is missing, they never return early.
//!
//! The keys ([`Dependency::key`]): `postgres`, `redis`, `redis_server`, `prometheus`,
//! `promtool`, `prometheus_client`, `schemathesis`, `kubectl` (the only one CI may lack).

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::{Command, Stdio};
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

/// Something a test needs that cargo does not provide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dependency {
    /// A PostgreSQL server: `WEBSTORE_TEST_POSTGRES_URL`, default
    /// `postgres://postgres@127.0.0.1:5432/postgres` (an admin URL: tests create databases).
    Postgres,
    /// A Redis server: `WEBSTORE_TEST_REDIS_URL`, default `redis://127.0.0.1:6379`.
    Redis,
    /// The `redis-server` binary, for a test that starts and stops its own.
    RedisServer,
    /// The `prometheus` binary.
    Prometheus,
    /// The `promtool` binary.
    Promtool,
    /// Python 3 with the `prometheus_client` package (an independent OpenMetrics parser).
    PrometheusClient,
    /// `schemathesis` (or `python3 -m schemathesis`).
    Schemathesis,
    /// `kubectl` with kustomize v5.
    Kubectl,
}

impl Dependency {
    /// The name in `needs_<key>` and `#[ignore = "needs: <key>"]`.
    pub fn key(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Redis => "redis",
            Self::RedisServer => "redis_server",
            Self::Prometheus => "prometheus",
            Self::Promtool => "promtool",
            Self::PrometheusClient => "prometheus_client",
            Self::Schemathesis => "schemathesis",
            Self::Kubectl => "kubectl",
        }
    }

    fn install(self) -> &'static str {
        match self {
            Self::Postgres => "start PostgreSQL, or point WEBSTORE_TEST_POSTGRES_URL at one",
            Self::Redis => "start Redis, or point WEBSTORE_TEST_REDIS_URL at one",
            Self::RedisServer => "apt-get install redis-server",
            Self::Prometheus | Self::Promtool => "apt-get install prometheus",
            Self::PrometheusClient => "pip install prometheus-client",
            Self::Schemathesis => "pip install schemathesis",
            Self::Kubectl => "install kubectl (kustomize v5)",
        }
    }

    /// The command lines that prove a tool is there (any one succeeding).
    fn probes(self) -> &'static [&'static [&'static str]] {
        match self {
            Self::Postgres | Self::Redis => &[],
            Self::RedisServer => &[&["redis-server", "--version"]],
            Self::Prometheus => &[&["prometheus", "--version"]],
            Self::Promtool => &[&["promtool", "--version"]],
            Self::PrometheusClient => &[&["python3", "-c", "import prometheus_client"]],
            Self::Schemathesis => &[
                &["schemathesis", "--version"],
                &["python3", "-m", "schemathesis", "--version"],
            ],
            Self::Kubectl => &[&["kubectl", "version", "--client"]],
        }
    }
}

/// For a test that needs the tool `dependency`: panics unless the test is marked for it (see
/// the module docs) and the tool is installed.
///
/// # Panics
/// When the tool is missing (`cargo xtask test` skips the test then), or the test is unmarked.
pub fn require(dependency: Dependency) {
    assert_marked(dependency);
    let found = dependency.probes().iter().any(|argv| {
        Command::new(argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if !found {
        missing(dependency, "not installed");
    }
}

/// The admin URL tests create their databases through.
pub fn postgres_admin_url() -> String {
    std::env::var("WEBSTORE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A fresh, uniquely named Postgres database for one test; its URL.
///
/// # Panics
/// When PostgreSQL cannot be reached or refuses `CREATE DATABASE`, or the test is not marked
/// `needs_postgres`.
pub async fn postgres_database() -> String {
    assert_marked(Dependency::Postgres);
    let admin = postgres_admin_url();
    let host = admin
        .rsplit('@')
        .next()
        .and_then(|h| h.split('/').next())
        .unwrap_or("127.0.0.1:5432")
        .to_owned();
    let conn = match Database::connect(admin.as_str()).await {
        Ok(c) => c,
        Err(e) => missing(Dependency::Postgres, &format!("{host}: {e}")),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    // The creation time is in the name so that later runs can drop what earlier ones left.
    let name = format!(
        "webstore_test_{now}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    drop_stale_databases(&conn, now).await;
    if let Err(e) = conn
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
    {
        missing(
            Dependency::Postgres,
            &format!("{host} refused CREATE DATABASE: {e}"),
        );
    }
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    format!("{base}/{name}")
}

/// Drops test databases created more than an hour ago (by runs that have surely ended).
async fn drop_stale_databases(conn: &DatabaseConnection, now: u64) {
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

/// The Redis URL for tests (tests share the server; each keeps its keys under its own prefix).
///
/// # Panics
/// When nothing answers there, or the test is not marked `needs_redis`.
pub fn redis_url() -> String {
    assert_marked(Dependency::Redis);
    let url = std::env::var("WEBSTORE_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let host = url
        .split_once("://")
        .map_or(url.as_str(), |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h).to_owned();
    if !reachable(&host) {
        missing(Dependency::Redis, &format!("nothing answers at {host}"));
    }
    url
}

fn reachable(addr: &str) -> bool {
    let addrs: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map(Iterator::collect)
        .unwrap_or_default();
    addrs
        .iter()
        .any(|a| TcpStream::connect_timeout(a, Duration::from_secs(1)).is_ok())
}

fn missing(dependency: Dependency, detail: &str) -> ! {
    panic!(
        "this test needs {} ({detail}): {}. `cargo xtask test` skips the needs_{} tests when it \
         is missing; run alone, the test fails instead of passing without having run",
        dependency.key(),
        dependency.install(),
        dependency.key()
    )
}

/// Panics if the running test's name lacks `needs_<key>::`, so that an unmarked test fails on
/// the first machine that runs it, even one where the dependency is present.
///
/// libtest runs each test on a thread named after it; on any other thread (a task spawned onto
/// a runtime's workers) the name says nothing and the check is left out.
fn assert_marked(dependency: Dependency) {
    let thread = std::thread::current();
    let Some(name) = thread.name() else { return };
    let not_a_test = name == "main" || name.starts_with("tokio-") || name.starts_with("actix");
    if not_a_test {
        return;
    }
    let key = dependency.key();
    assert!(
        name.contains(&format!("needs_{key}::")),
        "test `{name}` needs {key} but is not marked: move it into a `needs_{key}` module and \
         give it #[ignore = \"needs: {key}\"] (docs/TESTING.md)"
    );
}
