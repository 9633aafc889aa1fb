//! A collector that accepts connections and never answers must cost requests nothing: spans queue
//! and fail in the background, requests still answer promptly, the failures are counted, and
//! shutdown gives up after its bound instead of hanging.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use actix_web::{test, web, App, HttpResponse};
use clap::Parser;
use telemetry::{TelemetryArgs, TelemetryConfig};

/// Settings as an operator gives them: flags (each also a variable).
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    telemetry: TelemetryArgs,
}

#[actix_web::test]
async fn a_blackholed_collector_never_delays_requests() {
    // Accepts (the kernel completes the handshake) but nobody ever reads or answers.
    let blackhole = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}/v1/traces", blackhole.local_addr().unwrap());
    let cli = Cli::try_parse_from([
        "blackhole-test",
        "--otel-exporter-otlp-traces-endpoint",
        &endpoint,
        "--otel-traces-sampler",
        "always_on",
        "--otel-resource-attributes",
        "deployment.environment=test",
        "--otel-bsp-schedule-delay",
        "50",
        "--otel-bsp-max-queue-size",
        "256",
        "--otel-bsp-max-export-batch-size",
        "64",
        "--otel-bsp-export-timeout",
        "500",
    ])
    .unwrap();
    let config = TelemetryConfig::from_args(&cli.telemetry, "blackhole-test", "0").unwrap();
    let telemetry = telemetry::testing::init_with_writer(&config, std::io::sink).unwrap();
    let app = test::init_service(
        App::new()
            .wrap(telemetry.middleware())
            .route(
                "/ping",
                web::get().to(|| async { HttpResponse::Ok().finish() }),
            )
            .service(telemetry.metrics_endpoint()),
    )
    .await;

    let mut slowest = Duration::ZERO;
    let started = Instant::now();
    // Enough spans to fill the queue several times over while exports hang.
    while started.elapsed() < Duration::from_secs(3) {
        let t = Instant::now();
        let res =
            test::call_service(&app, test::TestRequest::get().uri("/ping").to_request()).await;
        assert_eq!(res.status(), 200);
        slowest = slowest.max(t.elapsed());
        // Pacing the load (a steady request rate), not waiting for anything.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(
        slowest < Duration::from_secs(2),
        "a request took {slowest:?} while the collector was blackholed"
    );

    // Each export gives up after 500 ms; poll until the failures are counted.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let res =
            test::call_service(&app, test::TestRequest::get().uri("/metrics").to_request()).await;
        let text = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
        let failures: u64 = text
            .lines()
            .find_map(|l| {
                l.strip_prefix("otel_sdk_exporter_span_exported_total{outcome=\"failure\"} ")
            })
            .and_then(|v| v.parse().ok())
            .expect("failure counter exposed");
        if failures > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "timed-out exports are counted as failures:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let t = Instant::now();
    telemetry.shutdown().await;
    assert!(
        t.elapsed() < Duration::from_secs(15),
        "shutdown hung for {:?}",
        t.elapsed()
    );
    drop(blackhole);
}
