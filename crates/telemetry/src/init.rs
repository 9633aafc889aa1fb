//! The one call that wires tracing, logs, the span pipeline and propagation, and returns the
//! handle.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{LogFormat, OtlpProtocol, TelemetryConfig, TraceExport};
use crate::error::Error;
use crate::guard::Guard;
use crate::handle::Telemetry;
use crate::pipeline::CountingExporter;
use crate::sampling::{HandoffIds, OnlySampled};

/// Sets the process up and returns its [`Telemetry`] handle: the global `tracing` subscriber
/// (JSON or pretty logs on stdout, filtered by `RUST_LOG`), unless `OTEL_SDK_DISABLED=true` the
/// OTLP span pipeline, and the `OTEL_PROPAGATORS` propagators (also installed as the global
/// propagator).
///
/// Call once, early in `main`, inside the async runtime (the gRPC exporter's channel runs on
/// it). A second call fails with [`Error::SubscriberAlreadySet`]; tests that run several apps
/// in one process use `testing::detached` for every app after the first initialisation.
pub fn init(config: &TelemetryConfig) -> Result<Telemetry, Error> {
    init_with_writer(config, std::io::stdout)
}

/// [`init`], writing log lines to `writer`.
pub(crate) fn init_with_writer<W>(config: &TelemetryConfig, writer: W) -> Result<Telemetry, Error>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let provider = config
        .traces
        .as_ref()
        .map(|t| tracer_provider(config, t))
        .transpose()?;
    let otel_layer = provider.as_ref().map(|p| {
        // Spans of requests the middleware did not sample never reach the layer (`sampling`).
        OnlySampled::new(
            tracing_opentelemetry::layer()
                .with_tracer(p.tracer(config.service_name.clone()))
                // Our own exemplar and log code reads span contexts; these would only add cost.
                .with_tracked_inactivity(false)
                .with_threads(false)
                // `code.*` and `target` attributes on every span: four more attributes to build,
                // convert and export per span, naming the telemetry crate's middleware
                // rather than the service's (docs/BENCHMARKS.md).
                .with_location(false)
                .with_target(false),
        )
    });
    let fmt_layer = match config.log_format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .event_format(crate::logs::JsonWithTraceIds)
            // The JSON lines never print span fields, so don't format them for every span.
            .fmt_fields(crate::logs::NoSpanFields)
            .with_writer(writer)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().with_writer(writer).boxed(),
    };
    let subscriber = tracing_subscriber::registry()
        .with(EnvFilter::try_new(&config.log_filter)?)
        .with(crate::client_errors::QuietClientErrors)
        .with(otel_layer)
        .with(fmt_layer);
    tracing::subscriber::set_global_default(subscriber)?;
    config.propagators.install_global();
    if let Some(t) = &config.traces {
        tracing::info!(
            service.name = %config.service_name,
            service.version = %config.service_version,
            otlp.endpoint = %t.endpoint,
            otlp.protocol = ?t.protocol,
            sampler = ?t.sampler,
            propagators = ?config.propagators,
            "telemetry initialised"
        );
    } else {
        tracing::info!(service.name = %config.service_name, "telemetry initialised; OTEL_SDK_DISABLED=true: no spans, no exemplars");
    }
    Ok(Telemetry::new(config, provider.map(Guard::new)))
}

fn tracer_provider(config: &TelemetryConfig, t: &TraceExport) -> Result<SdkTracerProvider, Error> {
    // OTEL_BSP_EXPORT_TIMEOUT bounds one export request: see `config::DEFAULT_EXPORT_TIMEOUT`
    // for why it is the exporter's timeout rather than the batch processor's.
    let timeout = t.batch.export_timeout;
    let exporter = match t.protocol {
        OtlpProtocol::HttpProtobuf => opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(&t.endpoint)
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_timeout(timeout)
            .build()?,
        OtlpProtocol::Grpc => opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(&t.endpoint)
            .with_timeout(timeout)
            .build()?,
    };
    let mut batch = BatchConfigBuilder::default();
    if let Some(d) = t.batch.schedule_delay {
        batch = batch.with_scheduled_delay(d);
    }
    if let Some(n) = t.batch.max_queue_size {
        batch = batch.with_max_queue_size(n);
    }
    batch = batch.with_max_export_batch_size(t.batch.max_export_batch_size);
    let processor = BatchSpanProcessor::builder(CountingExporter::new(exporter))
        .with_batch_config(batch.build())
        .build();
    Ok(SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_sampler(t.sampler.to_sampler())
        // The request middleware draws a new trace's id to decide on it; the SDK gets that id.
        .with_id_generator(HandoffIds::default())
        .with_resource(resource(config))
        .build())
}

/// What every span of the process says about its origin: `service.name`, `service.version` and
/// `OTEL_RESOURCE_ATTRIBUTES`.
fn resource(config: &TelemetryConfig) -> Resource {
    // Resource::builder() also reads OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME from the
    // environment; the explicit values below (which came from the same variables or their CLI
    // flags) win, so a flag beats the environment.
    Resource::builder()
        .with_attributes(
            config
                .resource_attributes
                .iter()
                .map(|(k, v)| opentelemetry::KeyValue::new(k.clone(), v.clone())),
        )
        .with_service_name(config.service_name.clone())
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            config.service_version.clone(),
        ))
        .build()
}

#[cfg(test)]
mod tests {
    use opentelemetry::{Key, Value};

    use crate::config::TelemetryConfig;

    #[test]
    fn spans_carry_the_services_own_version() {
        // Not this crate's version: the bug this guards against stamped it on every service.
        let config = TelemetryConfig::testing("svc", "9.8.7", "http://127.0.0.1:1/v1/traces");
        let resource = super::resource(&config);
        assert_eq!(
            resource.get(&Key::new("service.version")),
            Some(Value::from("9.8.7"))
        );
        assert_eq!(
            resource.get(&Key::new("service.name")),
            Some(Value::from("svc"))
        );
    }
}
