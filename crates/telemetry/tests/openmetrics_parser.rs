//! An independent reader of `/metrics`: Python's `prometheus_client` OpenMetrics parser is
//! strict (the EOF marker, exemplar syntax, canonical `le` values), so it accepting the text,
//! exemplars included, means the text is OpenMetrics and not only what this crate expects.
//!
//! Needs python3 with `prometheus_client`: `needs_prometheus_client` (see the workspace's
//! docs/TESTING.md), skipped by `cargo xtask test` where it is missing. Its own test binary,
//! because the process's one telemetry initialisation is this test's.

use std::io::Write;
use std::process::{Command, Stdio};

use actix_web::{test, web, App, HttpResponse};
use otlp_sink::OtlpSink;
use telemetry::TelemetryConfig;

const SCRIPT: &str = r#"
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
text = sys.stdin.read()
families = list(text_string_to_metric_families(text))
exemplars = sum(1 for f in families for s in f.samples if s.exemplar is not None)
print(f"{len(families)} families, {exemplars} exemplars")
assert exemplars >= 1, "no exemplar parsed"
"#;

/// Runs the parser over `text`; panics with its error, or if python3 or the package is missing.
fn python_parses(text: &str) -> String {
    let probe = Command::new("python3")
        .args(["-c", "import prometheus_client"])
        .status();
    assert!(
        matches!(probe, Ok(s) if s.success()),
        "this test needs python3 with prometheus_client (pip install prometheus-client); \
         `cargo xtask test` skips the needs_prometheus_client tests when it is missing"
    );
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the OpenMetrics parser refused /metrics:\n{}\n---\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

mod needs_prometheus_client {
    use super::*;

    #[actix_web::test]
    #[ignore = "needs: prometheus_client"]
    async fn python_prometheus_client_reads_metrics_with_exemplars() {
        let sink = OtlpSink::start_in_background("127.0.0.1:0".parse().unwrap()).unwrap();
        let config =
            TelemetryConfig::testing("telemetry-test", "0.0.0-test", &sink.traces_endpoint());
        let telemetry = telemetry::testing::init_with_writer(&config, std::io::sink).unwrap();
        let jobs = telemetry.counter("webstore_test_jobs", "Jobs by result.", &["result"]);
        let app = test::init_service(
            App::new()
                .wrap(telemetry.middleware())
                .route(
                    "/jobs/{id}",
                    web::get().to(move || {
                        let jobs = jobs.clone();
                        async move {
                            jobs.get(&["done"]).inc();
                            HttpResponse::Ok().finish()
                        }
                    }),
                )
                .service(telemetry.metrics_endpoint()),
        )
        .await;
        // One sampled request (an exemplar) and one unsampled (none).
        for flags in ["01", "00"] {
            let req = test::TestRequest::get()
                .uri("/jobs/1")
                .insert_header((
                    "traceparent",
                    format!("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-{flags}"),
                ))
                .to_request();
            assert_eq!(test::call_service(&app, req).await.status(), 200);
        }
        let res =
            test::call_service(&app, test::TestRequest::get().uri("/metrics").to_request()).await;
        let text = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
        assert!(
            text.contains("# {trace_id=\""),
            "an exemplar to parse:\n{text}"
        );
        eprintln!("python prometheus_client: {}", python_parses(&text));
    }
}
