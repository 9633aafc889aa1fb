//! The service binaries as an operator meets them: a bad setting is a clear start-up error that
//! names its variable (never a panic), and SIGTERM stops a service cleanly after flushing the
//! spans it still holds.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use devstack::{Probe, StopOutcome};
use system_tests::{binaries, free_port, launch, start_ready, Scratch};
use test_support::OtlpSink;

fn binary(service: &str) -> PathBuf {
    binaries()
        .and_then(|b| Ok(b.get(service)?))
        .unwrap_or_else(|e| panic!("{e:#}"))
}

fn run_to_exit(service: &str, env: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = Command::new(binary(service));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("DATABASE_URL", "sqlite::memory:")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run the service binary");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn bad_settings_are_start_up_errors_naming_the_variable() {
    let cases: &[(&str, &str, &str)] = &[
        ("order-service", "PAYMENT_TIMEOUT", "soon"),
        ("order-service", "API_KEYS", "no-colon-here"),
        ("order-service", "CATALOG_URL", "catalog:8081"),
        ("order-service", "OTEL_TRACES_SAMPLER", "sometimes"),
        ("catalog-service", "REDIS_URL", "not a url"),
        (
            "catalog-service",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "carrier-pigeon",
        ),
        ("payment-gateway", "GATEWAY_LATENCY_SCALE", "-1"),
        ("payment-gateway", "OTEL_SDK_DISABLED", "maybe"),
        ("payment-gateway", "BIND_ADDR", "everywhere"),
    ];
    for (service, variable, value) in cases {
        let (ok, output) = run_to_exit(service, &[(variable, value)]);
        assert!(!ok, "{service} started with {variable}={value}:\n{output}");
        assert!(
            output.contains(variable),
            "{service}: the error does not name {variable}:\n{output}"
        );
        assert!(
            !output.contains("panicked at"),
            "{service} panicked on {variable}={value}:\n{output}"
        );
    }
}

#[test]
fn every_setting_is_listed_in_help() {
    for (service, variables) in [
        (
            "order-service",
            &[
                "CATALOG_URL",
                "PAYMENT_GATEWAY_URL",
                "PAYMENT_TIMEOUT",
                "API_KEYS",
            ][..],
        ),
        ("catalog-service", &["REDIS_URL", "CATALOG_CACHE_TTL"][..]),
        (
            "payment-gateway",
            &["ADMIN_TOKEN", "GATEWAY_LATENCY_SCALE"][..],
        ),
    ] {
        let out = Command::new(binary(service))
            .arg("--help")
            .output()
            .unwrap();
        assert!(out.status.success());
        let help = String::from_utf8_lossy(&out.stdout);
        let common = [
            "BIND_ADDR",
            "DATABASE_URL",
            "OTEL_SERVICE_NAME",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "OTEL_TRACES_SAMPLER",
            "OTEL_TRACES_SAMPLER_ARG",
            "OTEL_SDK_DISABLED",
            "OTEL_RESOURCE_ATTRIBUTES",
            "RUST_LOG",
            "LOG_FORMAT",
            "EXEMPLAR_MAX_AGE",
        ];
        for v in common.iter().chain(variables) {
            assert!(help.contains(v), "{service} --help does not list {v}");
        }
    }
}

#[tokio::test]
async fn sigterm_flushes_spans_and_exits_cleanly() {
    let sink = OtlpSink::start_in_background("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = free_port().unwrap();
    let dir = Scratch::new("lifecycle").unwrap();
    let launch = launch("catalog-service", binary("catalog-service"), dir.path())
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/catalog.db?mode=rwc", dir.path().display()),
        )
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", sink.base_url())
        // Only the shutdown flush can deliver spans within this test.
        .env("OTEL_BSP_SCHEDULE_DELAY", "600000")
        .stop_grace(Duration::from_secs(15));
    let mut service = start_ready(launch, &Probe::new(format!("127.0.0.1:{port}"), "/readyz"))
        .unwrap_or_else(|e| panic!("catalog-service did not become ready: {e:#}"));
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let trace_id = "5e0b5c4a0e6d4d39a0f1c2b3d4e5f607";
    let res = client
        .get(format!("{base}/api/v1/products/p-0001"))
        .header("traceparent", format!("00-{trace_id}-1111111111111111-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        sink.store.trace(trace_id).is_empty(),
        "nothing exported before shutdown"
    );

    // SIGTERM, then up to 15 s for a clean exit before devstack would SIGKILL.
    match service.stop() {
        StopOutcome::Stopped(exit) => {
            assert!(exit.success(), "exit status after SIGTERM: {exit:?}")
        }
        other => panic!("no clean exit 15 s after SIGTERM: {other}"),
    }
    let spans = sink
        .store
        .wait_for_trace(trace_id, |s| !s.is_empty(), Duration::from_secs(5))
        .await;
    assert!(
        spans.iter().any(|s| s.kind == "server"),
        "the request's spans were flushed at shutdown"
    );
}
