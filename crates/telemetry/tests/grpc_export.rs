//! `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`: spans reach an OTLP/gRPC receiver, and shutdown (from a
//! blocking thread, as `TelemetryGuard::shutdown` does) flushes them without stalling the runtime
//! that drives the gRPC channel.

use std::time::{Duration, Instant};

use otlp_sink::{GrpcReceiver, SpanStore};
use telemetry::config::{BatchSettings, OtlpProtocol, SamplerChoice, TraceExport};
use telemetry::{LogFormat, TelemetryConfig};

#[actix_web::test]
async fn spans_are_exported_over_grpc_and_flushed_on_shutdown() {
    let store = SpanStore::new();
    let receiver =
        GrpcReceiver::start_in_background("127.0.0.1:0".parse().unwrap(), store.clone()).unwrap();
    let config = TelemetryConfig {
        service_name: "grpc-test".into(),
        service_version: "0".into(),
        resource_attributes: vec![("deployment.environment".into(), "test".into())],
        traces: Some(TraceExport {
            protocol: OtlpProtocol::Grpc,
            endpoint: receiver.endpoint(),
            sampler: SamplerChoice::AlwaysOn,
            // A long delay: only the shutdown flush can deliver the span in time.
            batch: BatchSettings {
                schedule_delay: Some(Duration::from_secs(60)),
                ..BatchSettings::default()
            },
        }),
        log_filter: "info".into(),
        log_format: LogFormat::Json,
        exemplar_max_age: Duration::from_secs(600),
    };
    let guard = telemetry::init::init_with_writer(&config, std::io::sink).unwrap();
    let trace_id = {
        let span = tracing::info_span!("grpc.exported", otel.kind = "internal");
        let ids = telemetry::metrics::SpanIds::of_span(&span).expect("sampled span");
        ids.trace_id.to_string()
    };
    let started = Instant::now();
    guard.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown took {:?}",
        started.elapsed()
    );
    let spans = store
        .wait_for_trace(&trace_id, |s| !s.is_empty(), Duration::from_secs(5))
        .await;
    assert_eq!(spans.len(), 1, "the span arrived over gRPC");
    assert_eq!(spans[0].name, "grpc.exported");
    assert_eq!(spans[0].service_name, "grpc-test");
}
