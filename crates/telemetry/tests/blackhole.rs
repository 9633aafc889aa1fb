//! A collector that accepts connections and never answers must cost requests nothing: spans queue
//! and fail in the background, requests still answer promptly, the failures are counted, and
//! shutdown gives up after its bound instead of hanging.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use actix_web::{test, web, App, HttpResponse};
use telemetry::config::{BatchSettings, OtlpProtocol, SamplerChoice, TraceExport};
use telemetry::http::{metrics_endpoint, RequestTelemetry};
use telemetry::{LogFormat, Registry, TelemetryConfig};

#[actix_web::test]
async fn a_blackholed_collector_never_delays_requests() {
    // Accepts (the kernel completes the handshake) but nobody ever reads or answers.
    let blackhole = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}/v1/traces", blackhole.local_addr().unwrap());
    let config = TelemetryConfig {
        service_name: "blackhole-test".into(),
        service_version: "0".into(),
        resource_attributes: vec![("deployment.environment".into(), "test".into())],
        traces: Some(TraceExport {
            protocol: OtlpProtocol::HttpProtobuf,
            endpoint,
            sampler: SamplerChoice::AlwaysOn,
            batch: BatchSettings {
                schedule_delay: Some(Duration::from_millis(50)),
                max_queue_size: Some(256),
                max_export_batch_size: Some(64),
                export_timeout: Some(Duration::from_millis(500)),
            },
        }),
        log_filter: "info".into(),
        log_format: LogFormat::Json,
        exemplar_max_age: Duration::from_secs(600),
    };
    let guard = telemetry::init::init_with_writer(&config, std::io::sink).unwrap();
    let registry = Registry::default();
    let app = test::init_service(
        App::new()
            .wrap(RequestTelemetry::new(&registry))
            .route(
                "/ping",
                web::get().to(|| async { HttpResponse::Ok().finish() }),
            )
            .service(metrics_endpoint(registry.clone())),
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
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(
        slowest < Duration::from_secs(2),
        "a request took {slowest:?} while the collector was blackholed"
    );

    let res = test::call_service(&app, test::TestRequest::get().uri("/metrics").to_request()).await;
    let text = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    let failures: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("otel_sdk_exporter_span_exported_total{outcome=\"failure\"} "))
        .and_then(|v| v.parse().ok())
        .expect("failure counter exposed");
    assert!(
        failures > 0,
        "timed-out exports are counted as failures:\n{text}"
    );

    let t = Instant::now();
    guard.shutdown().await;
    assert!(
        t.elapsed() < Duration::from_secs(15),
        "shutdown hung for {:?}",
        t.elapsed()
    );
    drop(blackhole);
}
