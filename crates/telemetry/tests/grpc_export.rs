//! `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`: spans reach an OTLP/gRPC receiver, and shutdown (from a
//! blocking thread, as `Telemetry::shutdown` does) flushes them without stalling the runtime
//! that drives the gRPC channel.

use std::time::{Duration, Instant};

use clap::Parser;
use otlp_sink::{GrpcReceiver, SpanStore};
use telemetry::{SpanIds, TelemetryArgs, TelemetryConfig};

/// Settings as an operator gives them: flags (each also a variable).
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    telemetry: TelemetryArgs,
}

#[actix_web::test]
async fn spans_are_exported_over_grpc_and_flushed_on_shutdown() {
    let store = SpanStore::new();
    let receiver =
        GrpcReceiver::start_in_background("127.0.0.1:0".parse().unwrap(), store.clone()).unwrap();
    let cli = Cli::try_parse_from([
        "grpc-test",
        "--otel-exporter-otlp-protocol",
        "grpc",
        "--otel-exporter-otlp-traces-endpoint",
        &receiver.endpoint(),
        "--otel-traces-sampler",
        "always_on",
        "--otel-resource-attributes",
        "deployment.environment=test",
        // A long delay: only the shutdown flush can deliver the span in time.
        "--otel-bsp-schedule-delay",
        "60000",
    ])
    .unwrap();
    let config = TelemetryConfig::from_args(&cli.telemetry, "grpc-test", "0").unwrap();
    let telemetry = telemetry::testing::init_with_writer(&config, std::io::sink).unwrap();
    let trace_id = {
        let span = tracing::info_span!("grpc.exported", otel.kind = "internal");
        let ids = span.in_scope(SpanIds::current).expect("sampled span");
        ids.trace_id().to_string()
    };
    let started = Instant::now();
    telemetry.shutdown().await;
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
