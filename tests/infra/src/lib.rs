//! Reading the observability stack's files (`infra/`, `dashboards/`) for the tests that check
//! them, here (`tests/static_checks`, `tests/promtool.rs`) and in `tests/system`
//! (`observability_live`).
//!
//! # Layout
//! - [`files`]: the workspace root, YAML (with merge keys) and JSON loading.
//! - [`promql`]: the metric names an expression selects and shortened range windows, through
//!   a real PromQL parser (`promql-parser`); Grafana's template variables; Prometheus durations.
//! - [`promtool`]: running `promtool`, and checking that Prometheus itself parses expressions.
//! - [`rules`]: the recording and alerting rules of `infra/prometheus/rules`.
//! - [`dashboards`]: every PromQL query of every dashboard.
//! - [`live`]: the **test-only transforms** that let a Prometheus on a machine without Docker
//!   load `infra/prometheus` as it is (documented in docs/06_DASHBOARDS_AND_ALERTS.md).
//! - [`metric_names`]: names in an exposition, the pinned upstream lists, the pending list.
//! - [`services`]: what the services' `--help` lists; which optional tools are installed.

pub mod dashboards;
pub mod files;
pub mod live;
pub mod metric_names;
pub mod promql;
pub mod promtool;
pub mod rules;
pub mod services;
