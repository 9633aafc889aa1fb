//! `infra/tempo/tempo.yaml`: retention against Prometheus's, the metrics generator, and what the
//! documentation says about both.

use infra_tests::files::{read_yaml, yaml_str, yget};
use infra_tests::promql::parse_duration_secs;
use serde_yaml::Value as Yaml;

use crate::support::{compose, compose_service, infra, root, url_parts};

#[test]
fn tempo_keeps_traces_longer_than_exemplars_stay_visible() {
    let tempo = read_yaml(&infra("tempo/tempo.yaml")).unwrap();
    let retention = yget(&tempo, &["compactor", "compaction", "block_retention"])
        .and_then(Yaml::as_str)
        .and_then(parse_duration_secs)
        .expect("compactor.compaction.block_retention");
    let compose = compose();
    let prom_retention = compose_service(&compose, "prometheus")["command"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Yaml::as_str)
        .find_map(|a| a.strip_prefix("--storage.tsdb.retention.time="))
        .and_then(parse_duration_secs)
        .expect("prometheus --storage.tsdb.retention.time");
    assert!(
        retention >= prom_retention,
        "Tempo keeps traces {retention} s, Prometheus (and so the exemplars a panel can show) {prom_retention} s"
    );
    let processors: Vec<String> = yget(
        &tempo,
        &["overrides", "defaults", "metrics_generator", "processors"],
    )
    .and_then(Yaml::as_sequence)
    .into_iter()
    .flatten()
    .filter_map(yaml_str)
    .collect();
    assert!(
        processors.contains(&"service-graphs".to_owned()),
        "{processors:?}"
    );
    assert!(
        processors.contains(&"span-metrics".to_owned()),
        "{processors:?}"
    );
    let rw = yget(&tempo, &["metrics_generator", "storage", "remote_write"])
        .and_then(Yaml::as_sequence)
        .and_then(|s| s.first())
        .and_then(|r| r["url"].as_str())
        .expect("metrics_generator remote_write url");
    let (host, port, path) = url_parts(rw);
    assert_eq!(
        (host.as_str(), port, path.as_str()),
        ("prometheus", Some(9090), "api/v1/write")
    );

    // The documentation states both numbers.
    let doc = std::fs::read_to_string(root().join("docs/06_DASHBOARDS_AND_ALERTS.md")).unwrap();
    let block = yget(&tempo, &["compactor", "compaction", "block_retention"])
        .and_then(Yaml::as_str)
        .unwrap();
    let max = yget(
        &read_yaml(&infra("prometheus/prometheus.yml")).unwrap(),
        &["storage", "exemplars", "max_exemplars"],
    )
    .and_then(Yaml::as_u64)
    .unwrap();
    assert!(
        doc.contains(block),
        "docs/06 states Tempo's retention ({block})"
    );
    let grouped = max
        .to_string()
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(",");
    assert!(
        doc.contains(&max.to_string()) || doc.contains(&grouped),
        "docs/06 states the exemplar buffer size ({max})"
    );
}
