//! One call that wires tracing, logs and the span pipeline.

use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{LogFormat, OtlpProtocol, TelemetryConfig, TraceExport};
use crate::pipeline::CountingExporter;
use crate::{Error, TelemetryGuard};

/// Installs the global subscriber (logs to stdout) and, unless `OTEL_SDK_DISABLED=true`, the
/// OTLP span pipeline and the W3C propagator. Call once, early in `main`, inside the async
/// runtime when the protocol is gRPC (its channel runs on it).
pub fn init(config: &TelemetryConfig) -> Result<TelemetryGuard, Error> {
    init_with_writer(config, std::io::stdout)
}

/// [`init`], writing log lines to `writer` (tests pass a sink they can read back).
pub fn init_with_writer<W>(config: &TelemetryConfig, writer: W) -> Result<TelemetryGuard, Error>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let provider = config
        .traces
        .as_ref()
        .map(|t| tracer_provider(config, t))
        .transpose()?;
    if provider.is_some() {
        opentelemetry::global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
            Box::new(TraceContextPropagator::new()),
            Box::new(BaggagePropagator::new()),
        ]));
    }
    let otel_layer = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer(config.service_name.clone()))
            // Our own exemplar and log code reads span contexts; these would only add cost.
            .with_tracked_inactivity(false)
            .with_threads(false)
            // `code.*` and `target` attributes on every span: four more attributes to build,
            // convert and export per span, naming the telemetry crate's middleware
            // rather than the service's (docs/BENCHMARKS.md).
            .with_location(false)
            .with_target(false)
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
        .with(otel_layer)
        .with(fmt_layer);
    tracing::subscriber::set_global_default(subscriber)?;
    if let Some(t) = &config.traces {
        tracing::info!(
            service.name = %config.service_name,
            otlp.endpoint = %t.endpoint,
            otlp.protocol = ?t.protocol,
            sampler = ?t.sampler,
            "telemetry initialised"
        );
    } else {
        tracing::info!(service.name = %config.service_name, "telemetry initialised; OTEL_SDK_DISABLED=true: no spans, no exemplars");
    }
    Ok(TelemetryGuard::new(provider))
}

fn tracer_provider(config: &TelemetryConfig, t: &TraceExport) -> Result<SdkTracerProvider, Error> {
    // OTEL_BSP_EXPORT_TIMEOUT bounds one export; the SDK's own knob for it is experimental, so
    // it is applied as the exporter's request timeout (the OTLP default is 10 s).
    let timeout = t
        .batch
        .export_timeout
        .unwrap_or(std::time::Duration::from_secs(10));
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
    if let Some(n) = t.batch.max_export_batch_size {
        batch = batch.with_max_export_batch_size(n);
    }
    let processor = BatchSpanProcessor::builder(CountingExporter::new(exporter))
        .with_batch_config(batch.build())
        .build();
    // Resource::builder() also reads OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME from the
    // environment; the explicit values below (which came from the same variables or their CLI
    // flags) win, so a flag beats the environment.
    let resource = Resource::builder()
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
        .build();
    Ok(SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_sampler(t.sampler.to_sampler())
        .with_resource(resource)
        .build())
}
