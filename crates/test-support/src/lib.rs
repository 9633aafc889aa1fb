//! Helpers for the workspace's integration tests (a dev-dependency only).
//!
//! - [`external`]: tests that need PostgreSQL, Redis or a tool live in `needs_<key>` modules and
//!   carry `#[ignore = "needs: <key>"]`; the runner reports them as skipped where the dependency
//!   is missing, and inside the test a missing dependency is a failure (never an early return).
//! - [`telemetry()`]: the binary's one telemetry initialisation with an in-process OTLP sink;
//!   [`app_telemetry`] gives each application its own handle; [`flush_spans`] before a negative
//!   assertion on spans.
//! - [`TestClient`]: every request starts a trace the test owns, so the test reads back only its
//!   own log lines and panics ([`OwnedTraces`]).
//! - [`Variables`]: an application is configured with the variables production reads, through
//!   the service's own CLI parser.

mod capture;
mod client;
pub mod external;
mod global;
mod settings;

use std::path::PathBuf;

pub use otlp_sink::{self, OtlpSink, SpanStore, StoredSpan};

pub use crate::capture::OwnedTraces;
pub use crate::client::{TestClient, TestTrace};
pub use crate::external::{postgres_admin_url, postgres_database, redis_url, require, Dependency};
pub use crate::global::{app_telemetry, flush_spans, otlp_traces_endpoint, telemetry};
pub use crate::settings::{InvalidVariables, Variables};

/// A SQLite URL for a file no other test uses.
pub fn sqlite_url() -> String {
    let dir = std::env::temp_dir().join("webstore-tests");
    let _ = std::fs::create_dir_all(&dir);
    let path: PathBuf = dir.join(format!("{}.db", uuid::Uuid::new_v4().simple()));
    format!("sqlite://{}?mode=rwc", path.display())
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
