//! `doctor` against wiremock stand-ins for the services, Prometheus and the trace backend: the
//! first broken link is the one named, and what depends on it is skipped. (The live test in
//! `tests/system` runs it against the real stack and a Prometheus without exemplar storage.)

use serde_json::{json, Value};
use storectl::cli::Cli;
use storectl::Exit;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

fn metrics(with_exemplar: bool) -> String {
    let exemplar = if with_exemplar {
        r#" # {trace_id="0af7651916cd43dd8448eb211c80319c",span_id="b7ad6b7169203331"} 0.004 1750000000.1"#
    } else {
        ""
    };
    format!(
        "# TYPE http_server_request_duration_seconds histogram\n\
         http_server_request_duration_seconds_bucket{{http_route=\"/healthz\",le=\"0.005\"}} 12{exemplar}\n\
         http_server_request_duration_seconds_count{{http_route=\"/healthz\"}} 12\n# EOF\n"
    )
}

async fn services(with_exemplar: bool) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/metrics"))
        .respond_with(
            // `set_body_raw`: `set_body_string` would make it text/plain.
            ResponseTemplate::new(200).set_body_raw(metrics(with_exemplar), OPENMETRICS),
        )
        .mount(&server)
        .await;
    server
}

async fn prometheus(targets: Value) -> MockServer {
    let server = MockServer::start().await;
    let answers = [
        ("/api/v1/status/buildinfo", json!({"version": "2.42.0"})),
        (
            "/api/v1/status/flags",
            json!({"enable-feature": "exemplar-storage"}),
        ),
        (
            "/api/v1/status/config",
            json!({"yaml": "global:\n  scrape_interval: 5s\nscrape_configs: []\n"}),
        ),
        ("/api/v1/targets", json!({"activeTargets": targets})),
    ];
    for (route, data) in answers {
        Mock::given(method("GET"))
            .and(path(route))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"status": "success", "data": data})),
            )
            .mount(&server)
            .await;
    }
    server
}

fn target(job: &str, host: &str, health: &str, error: &str) -> Value {
    json!({
        "labels": {"job": job, "instance": host},
        "scrapePool": job,
        "scrapeUrl": format!("http://{host}/metrics"),
        "lastError": error,
        "health": health,
    })
}

async fn doctor(services: &MockServer, prometheus: &MockServer, sampler: &str) -> (Exit, Value) {
    let datasources = format!(
        "{}/../../infra/grafana/provisioning/datasources/datasources.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let backend = MockServer::start().await;
    let cli = Cli::from_args([
        "storectl",
        "doctor",
        "--json",
        "--order-url",
        &services.uri(),
        "--catalog-url",
        &services.uri(),
        "--gateway-url",
        &services.uri(),
        "--prometheus-url",
        &prometheus.uri(),
        "--trace-url",
        &backend.uri(),
        "--sampler",
        sampler,
        "--sampler-arg",
        "0",
        "--grafana-datasources",
        &datasources,
    ])
    .unwrap();
    let mut out = Vec::new();
    let exit = storectl::run(cli, &mut out, std::future::pending())
        .await
        .unwrap();
    (exit, serde_json::from_slice(&out).unwrap())
}

fn status<'a>(report: &'a Value, id: &str) -> &'a Value {
    &report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("{id} in {report:#}"))["status"]
}

#[tokio::test]
async fn a_target_that_is_down_is_the_broken_link() {
    let services = services(true).await;
    // Compose-like: Prometheus scrapes the services by their container names, found by job.
    let prometheus = prometheus(json!([
        target("order-service", "order-service:8080", "up", ""),
        target(
            "catalog-service",
            "catalog-service:8081",
            "down",
            "Get \"http://catalog-service:8081/metrics\": connection refused"
        ),
        target("payment-gateway", "payment-gateway:8082", "up", ""),
    ]))
    .await;
    let (exit, report) = doctor(&services, &prometheus, "parentbased_always_on").await;
    assert_eq!(exit, Exit::Failure);
    assert_eq!(report["broken"], "targets", "{report:#}");
    let targets = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "targets")
        .unwrap();
    assert!(
        targets["detail"]
            .as_str()
            .unwrap()
            .contains("catalog-service: http://catalog-service:8081/metrics is down (Get"),
        "{targets:#}"
    );
    for (id, expected) in [
        ("services", "ok"),
        ("prometheus", "ok"),
        ("exemplar-storage", "ok"),
        ("query-exemplars", "skip"),
        ("trace-backend", "ok"),
        ("exemplar-trace", "skip"),
        ("sampler", "ok"),
        ("grafana", "ok"),
    ] {
        assert_eq!(status(&report, id), expected, "{id}: {report:#}");
    }
}

#[tokio::test]
async fn requests_without_exemplars_point_at_the_sampler() {
    let services = services(false).await;
    let prometheus = prometheus(json!([])).await;
    let (exit, report) = doctor(&services, &prometheus, "parentbased_traceidratio").await;
    assert_eq!(exit, Exit::Failure);
    assert_eq!(report["broken"], "services", "{report:#}");
    assert_eq!(status(&report, "sampler"), "fail");
    let sampler = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "sampler")
        .unwrap();
    let detail = sampler["detail"].as_str().unwrap();
    assert!(detail.contains("ratio 0 (--sampler)"), "{detail}");
    assert!(detail.contains("requests timed, no exemplar"), "{detail}");
    // No target at all: each service is named as missing from the scrape configuration.
    assert_eq!(status(&report, "targets"), "fail");
}
