//! The test-only transform that lets a Prometheus on a machine without Docker load
//! `infra/prometheus` as it is (documented in docs/06_DASHBOARDS_AND_ALERTS.md).
//!
//! [`live_prometheus_config`] takes `infra/prometheus/prometheus.yml` and changes only:
//! * `global`: scrape and evaluation interval 1 s (scrape timeout 1 s), so a test sees data in
//!   seconds rather than minutes;
//! * `rule_files`: the copies written by [`crate::rules::write_live_rules`];
//! * scrape targets: each service job (`order-service`, …) scrapes the test's process on its
//!   loopback port, the `prometheus` job scrapes the test's Prometheus; every other job (the
//!   Collector, Tempo: not running here) is left out and reported.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Context};
use devstack::services::SERVICES;
use serde_yaml::Value as Yaml;

use crate::files::{read_yaml, workspace_root};

/// Where the test's processes listen.
#[derive(Clone, Debug)]
pub struct Targets {
    /// Service name → `127.0.0.1:<port>`, for the three services.
    pub services: BTreeMap<String, String>,
    /// Prometheus's own `127.0.0.1:<port>`.
    pub prometheus: String,
}

/// `infra/prometheus/prometheus.yml` with its targets rewritten to `targets`, intervals of 1 s
/// and `rule_files` set to `rules`. Returns the YAML and the jobs left out.
pub fn live_prometheus_config(
    targets: &Targets,
    rules: &str,
) -> anyhow::Result<(String, Vec<String>)> {
    let path = workspace_root().join("infra/prometheus/prometheus.yml");
    let mut doc = read_yaml(&path)?;
    let map = doc
        .as_mapping_mut()
        .context("prometheus.yml is not a mapping")?;
    let mut global = serde_yaml::Mapping::new();
    for (k, v) in [
        ("scrape_interval", "1s"),
        ("scrape_timeout", "1s"),
        ("evaluation_interval", "1s"),
    ] {
        global.insert(Yaml::from(k), Yaml::from(v));
    }
    map.insert(Yaml::from("global"), Yaml::Mapping(global));
    map.insert(
        Yaml::from("rule_files"),
        Yaml::Sequence(vec![Yaml::from(rules)]),
    );
    let jobs = map
        .get_mut("scrape_configs")
        .and_then(Yaml::as_sequence_mut)
        .context("prometheus.yml has no scrape_configs")?;
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    let mut seen_services = BTreeSet::new();
    for mut job in jobs.drain(..) {
        let name = job
            .get("job_name")
            .and_then(Yaml::as_str)
            .unwrap_or_default()
            .to_owned();
        let target = if let Some(addr) = targets.services.get(&name) {
            seen_services.insert(name.clone());
            addr.clone()
        } else if name == "prometheus" {
            targets.prometheus.clone()
        } else {
            dropped.push(name);
            continue;
        };
        let static_configs = serde_yaml::from_str::<Yaml>(&format!("- targets: [\"{target}\"]"))?;
        if let Some(m) = job.as_mapping_mut() {
            m.insert(Yaml::from("static_configs"), static_configs);
        }
        kept.push(job);
    }
    for service in SERVICES {
        if !seen_services.contains(service) {
            bail!("infra/prometheus/prometheus.yml has no scrape job named {service}");
        }
    }
    *jobs = kept;
    Ok((serde_yaml::to_string(&doc)?, dropped))
}
