//! `infra/grafana/provisioning`: the datasources link exemplars to Tempo and traces back to
//! Prometheus, point at the compose services, and the dashboards are read where compose mounts
//! them.

use devstack::services::SERVICES;
use infra_tests::files::{read_yaml, yaml_str, yget};
use infra_tests::promql::{grafana_to_promql, metric_names};
use serde_yaml::Value as Yaml;

use crate::support::{
    compose, compose_service, datasource_uids, datasources, infra, prometheus_jobs, url_parts,
};

fn datasource_of_type(ds: &[Yaml], t: &str) -> Yaml {
    ds.iter()
        .find(|d| d["type"] == t)
        .unwrap_or_else(|| panic!("a {t} datasource"))
        .clone()
}

#[test]
fn exemplars_open_the_tempo_datasource() {
    let ds = datasources();
    let prom = datasource_of_type(&ds, "prometheus");
    let tempo = datasource_of_type(&ds, "tempo");
    let tempo_uid = tempo["uid"].as_str().unwrap();
    let dests = yget(&prom, &["jsonData", "exemplarTraceIdDestinations"])
        .and_then(Yaml::as_sequence)
        .expect("exemplarTraceIdDestinations");
    for label in ["trace_id", "traceID"] {
        let d = dests
            .iter()
            .find(|d| d["name"] == label)
            .unwrap_or_else(|| panic!("an exemplar destination for label {label}"));
        assert_eq!(
            d["datasourceUid"].as_str(),
            Some(tempo_uid),
            "{label} opens the Tempo datasource"
        );
    }
}

#[test]
fn tempo_links_traces_back_to_prometheus_by_job() {
    let ds = datasources();
    let prom = datasource_of_type(&ds, "prometheus");
    let tempo = datasource_of_type(&ds, "tempo");
    let prom_uid = prom["uid"].as_str().unwrap();
    assert_eq!(
        yget(&tempo, &["jsonData", "serviceMap", "datasourceUid"]).and_then(Yaml::as_str),
        Some(prom_uid)
    );
    assert_eq!(
        yget(&tempo, &["jsonData", "tracesToMetrics", "datasourceUid"]).and_then(Yaml::as_str),
        Some(prom_uid)
    );
    // service.name → job, and job names are service names in prometheus.yml.
    let tags = yget(&tempo, &["jsonData", "tracesToMetrics", "tags"])
        .and_then(Yaml::as_sequence)
        .unwrap();
    assert!(tags
        .iter()
        .any(|t| t["key"] == "service.name" && t["value"] == "job"));
    let jobs = prometheus_jobs();
    assert!(SERVICES.iter().all(|s| jobs.contains_key(*s)));
    for q in yget(&tempo, &["jsonData", "tracesToMetrics", "queries"])
        .and_then(Yaml::as_sequence)
        .unwrap()
    {
        let query = q["query"].as_str().unwrap();
        assert!(
            query.contains("$$__tags"),
            "`$$__tags` (escaped for provisioning): {query}"
        );
        let promql = grafana_to_promql(&query.replace("$$", "$"), "1m");
        let names = metric_names(&promql).unwrap_or_else(|e| panic!("{e:#}"));
        assert!(!names.is_empty(), "{query} selects a metric");
    }
}

/// Datasource URLs point at the compose services and their ports; uids are unique.
#[test]
fn datasources_point_at_compose_services() {
    let ds = datasources();
    let compose = compose();
    for d in &ds {
        let (host, port, _) = url_parts(d["url"].as_str().unwrap());
        assert!(
            compose["services"].get(host.as_str()).is_some(),
            "datasource url host {host}"
        );
        let published: Vec<String> = compose_service(&compose, &host)["ports"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(yaml_str)
            .collect();
        assert!(
            published
                .iter()
                .any(|p| p.ends_with(&format!(":{}", port.unwrap()))),
            "{host} listens on {port:?}"
        );
    }
    assert_eq!(
        datasource_uids().len(),
        ds.len(),
        "datasource uids are unique"
    );
}

/// The dashboards provider reads where compose mounts dashboards/.
#[test]
fn dashboards_are_provisioned_from_where_compose_mounts_them() {
    let compose = compose();
    let provider = read_yaml(&infra("grafana/provisioning/dashboards/dashboards.yaml")).unwrap();
    let path = provider["providers"][0]["options"]["path"]
        .as_str()
        .unwrap();
    let mounts: Vec<String> = compose_service(&compose, "grafana")["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(yaml_str)
        .collect();
    assert!(
        mounts
            .iter()
            .any(|m| m.starts_with("../dashboards:") && m.split(':').nth(1) == Some(path)),
        "compose mounts ../dashboards at {path}: {mounts:?}"
    );
    assert!(mounts
        .iter()
        .any(|m| m.starts_with("./grafana/provisioning:/etc/grafana/provisioning")));
}
