//! `infra/otel-collector/config.yaml`: OTLP in, through the memory limiter and the batch
//! processor, to Tempo.

use infra_tests::files::{read_yaml, yaml_str, yget};
use serde_yaml::Value as Yaml;

use crate::support::{infra, url_parts};

#[test]
fn collector_receives_otlp_and_exports_to_tempo_through_limiter_and_batch() {
    let c = read_yaml(&infra("otel-collector/config.yaml")).unwrap();
    let grpc =
        yget(&c, &["receivers", "otlp", "protocols", "grpc", "endpoint"]).and_then(Yaml::as_str);
    let http =
        yget(&c, &["receivers", "otlp", "protocols", "http", "endpoint"]).and_then(Yaml::as_str);
    assert_eq!(grpc, Some("0.0.0.0:4317"));
    assert_eq!(http, Some("0.0.0.0:4318"));
    let pipeline = yget(&c, &["service", "pipelines", "traces"]).expect("a traces pipeline");
    let list = |k: &str| -> Vec<String> {
        pipeline[k]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(yaml_str)
            .collect()
    };
    assert_eq!(list("receivers"), ["otlp"]);
    assert_eq!(
        list("processors"),
        ["memory_limiter", "batch"],
        "memory_limiter first, then batch"
    );
    for p in list("processors") {
        assert!(
            c["processors"].get(p.as_str()).is_some(),
            "processor {p} is configured"
        );
    }
    let exporters = list("exporters");
    assert_eq!(exporters.len(), 1);
    let exporter = &c["exporters"][exporters[0].as_str()];
    let (host, port, _) = url_parts(exporter["endpoint"].as_str().unwrap());
    let tempo = read_yaml(&infra("tempo/tempo.yaml")).unwrap();
    let tempo_grpc = yget(
        &tempo,
        &[
            "distributor",
            "receivers",
            "otlp",
            "protocols",
            "grpc",
            "endpoint",
        ],
    )
    .and_then(Yaml::as_str)
    .map(|e| url_parts(e).1);
    assert_eq!(
        host, "tempo",
        "the exporter sends to the compose service tempo"
    );
    assert_eq!(Some(port), tempo_grpc, "to Tempo's OTLP gRPC receiver port");
    let reader = yget(&c, &["service", "telemetry", "metrics", "readers"])
        .and_then(Yaml::as_sequence)
        .and_then(|r| r.first())
        .and_then(|r| yget(r, &["pull", "exporter", "prometheus"]))
        .expect("a Prometheus reader for the Collector's own metrics");
    assert_eq!(reader["port"].as_u64(), Some(8888));
    assert_eq!(reader["host"].as_str(), Some("0.0.0.0"));
}
