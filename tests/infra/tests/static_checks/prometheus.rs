//! `infra/prometheus/prometheus.yml`: what it scrapes, with exemplar storage, and its rules.

use devstack::services::SERVICES;
use infra_tests::files::{files_with_extensions, read_yaml, yaml_str, yget};
use serde_yaml::Value as Yaml;

use crate::support::{compose, design_port, infra, prometheus_jobs};

#[test]
fn prometheus_scrapes_services_collector_and_tempo_with_exemplar_storage() {
    let p = read_yaml(&infra("prometheus/prometheus.yml")).unwrap();
    let jobs = prometheus_jobs();
    for service in SERVICES {
        assert_eq!(
            jobs.get(service),
            Some(&vec![format!("{service}:{}", design_port(service))]),
            "job {service} (= OTEL_SERVICE_NAME, used as `job` by dashboards and Tempo's trace-to-metrics)"
        );
    }
    let tempo = read_yaml(&infra("tempo/tempo.yaml")).unwrap();
    let tempo_http = yget(&tempo, &["server", "http_listen_port"])
        .and_then(Yaml::as_u64)
        .unwrap();
    assert_eq!(
        jobs.get("tempo"),
        Some(&vec![format!("tempo:{tempo_http}")])
    );
    assert_eq!(
        jobs.get("otel-collector"),
        Some(&vec!["otel-collector:8888".to_owned()])
    );
    let max = yget(&p, &["storage", "exemplars", "max_exemplars"]).and_then(Yaml::as_u64);
    assert!(
        max.is_some_and(|m| m >= 100_000),
        "exemplar storage sized: {max:?}"
    );
    // Every compose service a job scrapes exists.
    let compose = compose();
    for (job, targets) in &jobs {
        for t in targets {
            let host = t.split(':').next().unwrap();
            assert!(
                host == "localhost" || compose["services"].get(host).is_some(),
                "job {job} scrapes {t}, not a compose service"
            );
        }
    }
    let globs: Vec<String> = p["rule_files"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(yaml_str)
        .collect();
    assert_eq!(globs, ["rules/*.yml"]);
    assert!(
        files_with_extensions(&infra("prometheus/rules"), &["yml"])
            .unwrap()
            .len()
            >= 2,
        "recording and alerting rule files"
    );
}
