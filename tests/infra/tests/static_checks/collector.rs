//! `infra/otel-collector/config.yaml`: OTLP in, through the memory limiter, the tail sampler and
//! the batch processor, to Tempo.

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
        ["memory_limiter", "tail_sampling", "batch"],
        "memory_limiter first, then tail_sampling (on whole traces), then batch"
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

/// The tail sampler keeps errors, slow traces, every trace an exemplar links to
/// (`webstore.exemplar = true` on a local root span) and a share of the rest, with its waiting
/// and memory sized. The system test `sampling::tail_sampling_keeps_exemplar_traces` applies
/// these same policies to real traces.
#[test]
fn tail_sampling_keeps_errors_slow_traces_exemplar_traces_and_a_share() {
    let c = read_yaml(&infra("otel-collector/config.yaml")).unwrap();
    let tail = &c["processors"]["tail_sampling"];
    let wait = tail["decision_wait"].as_str().expect("decision_wait");
    let wait = humantime_secs(wait);
    assert!(
        (15..=60).contains(&wait),
        "decision_wait covers PAYMENT_TIMEOUT (10 s) plus the batch delay (5 s): {wait} s"
    );
    let per_sec = tail["expected_new_traces_per_sec"].as_u64().expect("sized");
    let held = tail["num_traces"].as_u64().expect("num_traces");
    assert!(
        held >= per_sec * wait,
        "num_traces ({held}) holds decision_wait × expected_new_traces_per_sec"
    );
    let policies: Vec<&Yaml> = tail["policies"]
        .as_sequence()
        .into_iter()
        .flatten()
        .collect();
    let of_type = |t: &str| {
        policies
            .iter()
            .find(|p| p["type"].as_str() == Some(t))
            .copied()
    };
    let errors = of_type("status_code").expect("an errors policy");
    assert!(
        errors["status_code"]["status_codes"]
            .as_sequence()
            .is_some_and(|c| c.iter().any(|v| v.as_str() == Some("ERROR"))),
        "keeps ERROR traces"
    );
    let slow = of_type("latency").expect("a latency policy");
    assert!(slow["latency"]["threshold_ms"]
        .as_u64()
        .is_some_and(|t| t > 0));
    let marked = of_type("boolean_attribute").expect("an exemplar policy");
    assert_eq!(
        marked["boolean_attribute"]["key"].as_str(),
        Some("webstore.exemplar")
    );
    assert_eq!(marked["boolean_attribute"]["value"].as_bool(), Some(true));
    assert!(
        marked["boolean_attribute"]["invert_match"].as_bool() != Some(true),
        "keeps, not drops, marked traces"
    );
    let share = of_type("probabilistic").expect("a probabilistic baseline");
    let pct = share["probabilistic"]["sampling_percentage"]
        .as_f64()
        .expect("sampling_percentage");
    assert!(pct > 0.0 && pct < 100.0, "{pct} %");
}

/// `20s`, `1m` → seconds (the Collector's duration syntax, whole units only).
fn humantime_secs(v: &str) -> u64 {
    let (n, unit) = v.split_at(v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len()));
    let n: u64 = n.parse().unwrap_or_else(|_| panic!("duration {v:?}"));
    match unit {
        "s" => n,
        "m" => n * 60,
        other => panic!("unit {other:?} in {v:?}"),
    }
}
