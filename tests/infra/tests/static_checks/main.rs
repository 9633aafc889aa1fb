//! The observability stack's files, checked without running them: every YAML and JSON file
//! parses, every image is pinned to an exact version, and every file, port, host, datasource
//! uid, service name and environment variable one file refers to exists where it points and
//! agrees with the services' `--help` and the design (ports 8080/8081/8082).
//!
//! Containers cannot run on a machine without a Docker engine; these checks are how
//! `infra/compose.yaml` and `infra/k8s` are verified there (docs/06_DASHBOARDS_AND_ALERTS.md).
//! One test binary, a module per subject.

mod collector;
mod compose;
mod dashboards;
mod dockerfile;
mod files;
mod grafana;
mod k8s;
mod prometheus;
mod support;
mod tempo;
