//! Settings, read once at start-up.
//!
//! [`TelemetryArgs`] is a `clap` argument group: a service flattens it into its own CLI so that
//! every variable below is also a flag and shows in `--help`. Values are validated here, so a
//! typo in `OTEL_TRACES_SAMPLER` is a start-up error that names the variable, instead of the
//! OpenTelemetry SDK's silent fallback.
//!
//! This module is public only for [`parse_duration`], which the services still use for their
//! own settings; everything else here is re-exported at the crate root. It becomes private once
//! the services parse their durations themselves.

use std::time::Duration;

use clap::Args;
use opentelemetry_sdk::trace::Sampler;

use crate::error::Error;
use crate::propagation::Propagators;

/// The telemetry part of every service's command line: `#[command(flatten)]` it into the
/// service's `clap` parser and hand it to [`TelemetryConfig::from_args`]. Each flag also reads
/// its variable, and `--help` lists them all.
#[derive(Debug, Clone, Args)]
pub struct TelemetryArgs {
    /// Service name on every span (`service.name`); defaults to the binary's name.
    #[arg(long, env = "OTEL_SERVICE_NAME", value_name = "OTEL_SERVICE_NAME")]
    otel_service_name: Option<String>,

    /// Base OTLP endpoint; `/v1/traces` is appended for http/protobuf.
    /// Default: http://localhost:4318 (http/protobuf) or http://localhost:4317 (grpc).
    #[arg(
        long,
        env = "OTEL_EXPORTER_OTLP_ENDPOINT",
        value_name = "OTEL_EXPORTER_OTLP_ENDPOINT"
    )]
    otel_exporter_otlp_endpoint: Option<String>,

    /// Full OTLP traces endpoint, used as is (wins over OTEL_EXPORTER_OTLP_ENDPOINT).
    #[arg(
        long,
        env = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        value_name = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    )]
    otel_exporter_otlp_traces_endpoint: Option<String>,

    /// OTLP protocol: `http/protobuf` (default) or `grpc`.
    #[arg(
        long,
        env = "OTEL_EXPORTER_OTLP_PROTOCOL",
        value_name = "OTEL_EXPORTER_OTLP_PROTOCOL"
    )]
    otel_exporter_otlp_protocol: Option<String>,

    /// Sampler: always_on, always_off, traceidratio, parentbased_always_on (default),
    /// parentbased_always_off, parentbased_traceidratio.
    #[arg(long, env = "OTEL_TRACES_SAMPLER", value_name = "OTEL_TRACES_SAMPLER")]
    otel_traces_sampler: Option<String>,

    /// Sampler argument: the ratio (0.0–1.0) for the *traceidratio samplers.
    #[arg(
        long,
        env = "OTEL_TRACES_SAMPLER_ARG",
        value_name = "OTEL_TRACES_SAMPLER_ARG"
    )]
    otel_traces_sampler_arg: Option<String>,

    /// `true` turns spans and their export off (and so exemplars); /metrics stays on.
    #[arg(long, env = "OTEL_SDK_DISABLED", value_name = "OTEL_SDK_DISABLED")]
    otel_sdk_disabled: Option<String>,

    /// Context propagation in and out, comma-separated: `tracecontext`, `baggage` (default:
    /// both), or `none`. b3, jaeger, xray and ottrace are not built in.
    #[arg(long, env = "OTEL_PROPAGATORS", value_name = "OTEL_PROPAGATORS")]
    otel_propagators: Option<String>,

    /// Extra resource attributes, `key=value,…` (percent-decoding is not applied).
    #[arg(
        long,
        env = "OTEL_RESOURCE_ATTRIBUTES",
        value_name = "OTEL_RESOURCE_ATTRIBUTES"
    )]
    otel_resource_attributes: Option<String>,

    /// Batch span processor: milliseconds between exports (SDK default 5000).
    #[arg(
        long,
        env = "OTEL_BSP_SCHEDULE_DELAY",
        value_name = "OTEL_BSP_SCHEDULE_DELAY"
    )]
    otel_bsp_schedule_delay: Option<u64>,

    /// Batch span processor: spans kept in memory before new ones are dropped (SDK default 2048).
    #[arg(
        long,
        env = "OTEL_BSP_MAX_QUEUE_SIZE",
        value_name = "OTEL_BSP_MAX_QUEUE_SIZE"
    )]
    otel_bsp_max_queue_size: Option<usize>,

    /// Batch span processor: spans per export request (default 128 here; the SDK's is 512, see
    /// `DEFAULT_MAX_EXPORT_BATCH_SIZE`).
    #[arg(
        long,
        env = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
        value_name = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"
    )]
    otel_bsp_max_export_batch_size: Option<usize>,

    /// Batch span processor: milliseconds one OTLP export request may take (default 10000).
    #[arg(
        long,
        env = "OTEL_BSP_EXPORT_TIMEOUT",
        value_name = "OTEL_BSP_EXPORT_TIMEOUT"
    )]
    otel_bsp_export_timeout: Option<u64>,

    /// Log filter, `tracing-subscriber` EnvFilter syntax.
    #[arg(
        long = "log-filter",
        env = "RUST_LOG",
        value_name = "RUST_LOG",
        default_value = "info"
    )]
    rust_log: String,

    /// Log format: `json` (one object per line, with trace_id/span_id) or `pretty`.
    #[arg(
        long,
        env = "LOG_FORMAT",
        value_name = "LOG_FORMAT",
        default_value = "json"
    )]
    log_format: String,

    /// Exemplars older than this are not exposed on /metrics (e.g. `10m`, `1h`).
    #[arg(
        long,
        env = "EXEMPLAR_MAX_AGE",
        value_name = "EXEMPLAR_MAX_AGE",
        default_value = "10m"
    )]
    exemplar_max_age: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OtlpProtocol {
    HttpProtobuf,
    Grpc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogFormat {
    Json,
    Pretty,
}

/// Validated settings: from the service's parsed [`TelemetryArgs`]
/// ([`TelemetryConfig::from_args`]), from the environment alone ([`TelemetryConfig::from_env`]),
/// or the preset for tests ([`TelemetryConfig::testing`]). Hand it to [`crate::init()`].
#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    pub(crate) service_name: String,
    /// The service's own version (`service.version`), as its caller passed it.
    pub(crate) service_version: String,
    /// From `OTEL_RESOURCE_ATTRIBUTES`; `service.name` there is overridden by `service_name`.
    pub(crate) resource_attributes: Vec<(String, String)>,
    /// `None` when `OTEL_SDK_DISABLED=true`: no spans are exported and no exemplars attached.
    pub(crate) traces: Option<TraceExport>,
    pub(crate) propagators: Propagators,
    pub(crate) log_filter: String,
    pub(crate) log_format: LogFormat,
    pub(crate) exemplar_max_age: Duration,
}

#[derive(Debug, Clone)]
pub(crate) struct TraceExport {
    pub(crate) protocol: OtlpProtocol,
    /// The URL the exporter posts to (already resolved: `/v1/traces` appended for HTTP).
    pub(crate) endpoint: String,
    pub(crate) sampler: SamplerChoice,
    pub(crate) batch: BatchSettings,
}

/// The batch span processor's settings; `None` leaves the SDK's default.
#[derive(Debug, Clone)]
pub(crate) struct BatchSettings {
    pub(crate) schedule_delay: Option<Duration>,
    pub(crate) max_queue_size: Option<usize>,
    pub(crate) max_export_batch_size: usize,
    /// Bounds each OTLP export request (applied as the exporter's timeout).
    pub(crate) export_timeout: Duration,
}

impl Default for BatchSettings {
    fn default() -> Self {
        Self {
            schedule_delay: None,
            max_queue_size: None,
            max_export_batch_size: DEFAULT_MAX_EXPORT_BATCH_SIZE,
            export_timeout: DEFAULT_EXPORT_TIMEOUT,
        }
    }
}

/// How long one OTLP export may take unless `OTEL_BSP_EXPORT_TIMEOUT` says otherwise.
///
/// The specification's `OTEL_BSP_EXPORT_TIMEOUT` default is 30 s, but opentelemetry_sdk 0.33
/// applies its own export timeout only in the experimental async-runtime processor; the
/// thread-based batch processor used here waits as long as the exporter does. So the setting is
/// applied as the exporter's timeout, and its default is the OTLP exporter's own
/// (`OTEL_EXPORTER_OTLP_TIMEOUT`'s default in opentelemetry-otlp 0.33: 10 s). Since 0.33 the
/// exporter retries a failed export (connection refused, 429, 502, 503, 504) up to three times
/// with backoff; the timeout bounds all the attempts together, not each one.
pub(crate) const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// Spans per OTLP export request unless `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` says otherwise.
///
/// The specification's default is 512. Converting and encoding a batch runs on the batch
/// processor's thread in one go, about 3 µs of CPU per span here, so a 512-span batch is a
/// burst of ≈ 1.7 ms that requests sharing the core wait behind. Measured with `wrk` against
/// the catalog on one core (docs/BENCHMARKS.md): 128 halves the telemetry-on p99 (4.4 → 2.1 –
/// 2.8 ms) at the same throughput; 64 starts to cost throughput.
pub(crate) const DEFAULT_MAX_EXPORT_BATCH_SIZE: usize = 128;

/// The sampler named by `OTEL_TRACES_SAMPLER`, kept as data so it can be printed and compared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum SamplerChoice {
    AlwaysOn,
    AlwaysOff,
    TraceIdRatio(f64),
    ParentBasedAlwaysOn,
    ParentBasedAlwaysOff,
    ParentBasedTraceIdRatio(f64),
}

impl SamplerChoice {
    pub(crate) fn to_sampler(self) -> Sampler {
        match self {
            Self::AlwaysOn => Sampler::AlwaysOn,
            Self::AlwaysOff => Sampler::AlwaysOff,
            Self::TraceIdRatio(r) => Sampler::TraceIdRatioBased(r),
            Self::ParentBasedAlwaysOn => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
            Self::ParentBasedAlwaysOff => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
            Self::ParentBasedTraceIdRatio(r) => {
                Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(r)))
            }
        }
    }
}

fn invalid(variable: &'static str, message: impl Into<String>) -> Error {
    Error::InvalidSetting {
        variable,
        message: message.into(),
    }
}

impl TelemetryConfig {
    /// Reads every setting from the environment (the same variables the CLI flags read), for a
    /// program without a `clap` command line. `service_version` is the caller's own version:
    /// pass `env!("CARGO_PKG_VERSION")`.
    pub fn from_env(default_service_name: &str, service_version: &str) -> Result<Self, Error> {
        use clap::{FromArgMatches, Parser};
        #[derive(Parser)]
        struct EnvOnly {
            #[command(flatten)]
            args: TelemetryArgs,
        }
        // Parsing an empty command line makes clap read only the `env` of each argument.
        let matches = <EnvOnly as clap::CommandFactory>::command()
            .try_get_matches_from([default_service_name])
            .map_err(|e| invalid("OTEL_*", e.to_string()))?;
        let parsed =
            EnvOnly::from_arg_matches(&matches).map_err(|e| invalid("OTEL_*", e.to_string()))?;
        Self::from_args(&parsed.args, default_service_name, service_version)
    }

    /// Validates the service's parsed arguments. `default_service_name` applies unless
    /// `OTEL_SERVICE_NAME` is set; `service_version` becomes `service.version`: pass
    /// `env!("CARGO_PKG_VERSION")`, which expands to the calling crate's version.
    pub fn from_args(
        args: &TelemetryArgs,
        default_service_name: &str,
        service_version: &str,
    ) -> Result<Self, Error> {
        let disabled = match args.otel_sdk_disabled.as_deref().map(str::trim) {
            None | Some("") => false,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(v) => {
                return Err(invalid(
                    "OTEL_SDK_DISABLED",
                    format!("expected true or false, got {v:?}"),
                ))
            }
        };
        let protocol = match args.otel_exporter_otlp_protocol.as_deref().map(str::trim) {
            None | Some("") | Some("http/protobuf") => OtlpProtocol::HttpProtobuf,
            Some("grpc") => OtlpProtocol::Grpc,
            Some(v) => {
                return Err(invalid(
                    "OTEL_EXPORTER_OTLP_PROTOCOL",
                    format!(
                        "expected grpc or http/protobuf, got {v:?} (http/json is not supported)"
                    ),
                ))
            }
        };
        let endpoint = resolve_endpoint(
            protocol,
            args.otel_exporter_otlp_traces_endpoint.as_deref(),
            args.otel_exporter_otlp_endpoint.as_deref(),
        )?;
        let sampler = parse_sampler(
            args.otel_traces_sampler.as_deref(),
            args.otel_traces_sampler_arg.as_deref(),
        )?;
        let log_format = match args.log_format.trim() {
            "json" => LogFormat::Json,
            "pretty" => LogFormat::Pretty,
            v => {
                return Err(invalid(
                    "LOG_FORMAT",
                    format!("expected json or pretty, got {v:?}"),
                ))
            }
        };
        let exemplar_max_age = parse_duration("EXEMPLAR_MAX_AGE", &args.exemplar_max_age)?;
        let propagators = Propagators::parse(args.otel_propagators.as_deref())
            .map_err(|message| invalid("OTEL_PROPAGATORS", message))?;
        // Validate the filter now so that a typo fails start-up with the variable's name.
        tracing_subscriber::EnvFilter::try_new(&args.rust_log)
            .map_err(|e| invalid("RUST_LOG", e.to_string()))?;
        let service_name = args
            .otel_service_name
            .clone()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| default_service_name.to_owned());
        let resource_attributes =
            parse_resource_attributes(args.otel_resource_attributes.as_deref())?;
        let batch = BatchSettings {
            schedule_delay: args.otel_bsp_schedule_delay.map(Duration::from_millis),
            max_queue_size: args.otel_bsp_max_queue_size,
            max_export_batch_size: args
                .otel_bsp_max_export_batch_size
                .unwrap_or(DEFAULT_MAX_EXPORT_BATCH_SIZE),
            export_timeout: args
                .otel_bsp_export_timeout
                .map_or(DEFAULT_EXPORT_TIMEOUT, Duration::from_millis),
        };
        Ok(Self {
            service_name,
            service_version: service_version.to_owned(),
            resource_attributes,
            traces: (!disabled).then_some(TraceExport {
                protocol,
                endpoint,
                sampler,
                batch,
            }),
            propagators,
            log_filter: args.rust_log.clone(),
            log_format,
            exemplar_max_age,
        })
    }

    /// For tests: sample everything, export over http/protobuf to `otlp_traces_endpoint` (the
    /// full URL, e.g. an in-process sink's), batches every 100 ms, default propagators.
    /// `service_version` as for [`TelemetryConfig::from_args`].
    pub fn testing(service_name: &str, service_version: &str, otlp_traces_endpoint: &str) -> Self {
        Self {
            service_name: service_name.to_owned(),
            service_version: service_version.to_owned(),
            resource_attributes: Vec::new(),
            traces: Some(TraceExport {
                protocol: OtlpProtocol::HttpProtobuf,
                endpoint: otlp_traces_endpoint.to_owned(),
                sampler: SamplerChoice::ParentBasedAlwaysOn,
                batch: BatchSettings {
                    schedule_delay: Some(Duration::from_millis(100)),
                    ..BatchSettings::default()
                },
            }),
            propagators: Propagators::default(),
            log_filter: "info".to_owned(),
            log_format: LogFormat::Json,
            exemplar_max_age: Duration::from_secs(600),
        }
    }
}

fn resolve_endpoint(
    protocol: OtlpProtocol,
    traces_endpoint: Option<&str>,
    endpoint: Option<&str>,
) -> Result<String, Error> {
    // The OTLP exporter spec: the signal-specific variable is used as is; the generic one is a
    // base URL to which http/protobuf appends the signal path.
    let (variable, url, append) = match (
        traces_endpoint.filter(|s| !s.is_empty()),
        endpoint.filter(|s| !s.is_empty()),
    ) {
        (Some(url), _) => ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", url.to_owned(), false),
        (None, Some(url)) => ("OTEL_EXPORTER_OTLP_ENDPOINT", url.to_owned(), true),
        (None, None) => match protocol {
            OtlpProtocol::HttpProtobuf => (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "http://localhost:4318".to_owned(),
                true,
            ),
            OtlpProtocol::Grpc => (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "http://localhost:4317".to_owned(),
                true,
            ),
        },
    };
    let url = url.trim().to_owned();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(invalid(
            variable,
            format!("expected an http:// or https:// URL, got {url:?}"),
        ));
    }
    if url.starts_with("https://") {
        return Err(invalid(
            variable,
            "https endpoints need a TLS stack, which this build leaves out; send OTLP to a local collector over http",
        ));
    }
    Ok(match (protocol, append) {
        (OtlpProtocol::HttpProtobuf, true) => format!("{}/v1/traces", url.trim_end_matches('/')),
        _ => url,
    })
}

fn parse_resource_attributes(value: Option<&str>) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    for pair in value
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        match pair.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                out.push((k.trim().to_owned(), v.trim().to_owned()))
            }
            _ => {
                return Err(invalid(
                    "OTEL_RESOURCE_ATTRIBUTES",
                    format!("expected key=value pairs separated by commas, got {pair:?}"),
                ))
            }
        }
    }
    Ok(out)
}

fn parse_sampler(name: Option<&str>, arg: Option<&str>) -> Result<SamplerChoice, Error> {
    let ratio = || -> Result<f64, Error> {
        match arg.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(1.0),
            Some(v) => match v.parse::<f64>() {
                Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
                _ => Err(invalid(
                    "OTEL_TRACES_SAMPLER_ARG",
                    format!("expected a ratio between 0.0 and 1.0, got {v:?}"),
                )),
            },
        }
    };
    Ok(match name.map(str::trim).unwrap_or("") {
        "" | "parentbased_always_on" => SamplerChoice::ParentBasedAlwaysOn,
        "always_on" => SamplerChoice::AlwaysOn,
        "always_off" => SamplerChoice::AlwaysOff,
        "parentbased_always_off" => SamplerChoice::ParentBasedAlwaysOff,
        "traceidratio" => SamplerChoice::TraceIdRatio(ratio()?),
        "parentbased_traceidratio" => SamplerChoice::ParentBasedTraceIdRatio(ratio()?),
        other => {
            return Err(invalid(
                "OTEL_TRACES_SAMPLER",
                format!("unsupported sampler {other:?}; expected always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio"),
            ))
        }
    })
}

/// A duration such as `250ms`, `30s`, `10m`, `24h` or `1h 30m` (the `humantime` syntax), or a
/// bare number of seconds (accepted before `humantime` parsed these; kept so that no deployed
/// setting breaks). Errors name `variable`.
pub(crate) fn parse_duration(variable: &'static str, value: &str) -> Result<Duration, Error> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return v
            .parse()
            .map(Duration::from_secs)
            .map_err(|_| invalid(variable, format!("{value:?} is too large")));
    }
    humantime::parse_duration(v).map_err(|e| {
        invalid(
            variable,
            format!("expected a duration such as 30s, 10m or 24h, got {value:?} ({e})"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        t: TelemetryArgs,
    }

    fn config(flags: &[&str]) -> Result<TelemetryConfig, Error> {
        let mut argv = vec!["svc"];
        argv.extend_from_slice(flags);
        let cli = Cli::try_parse_from(argv).expect("flags parse");
        TelemetryConfig::from_args(&cli.t, "svc", "1.2.3")
    }

    #[test]
    fn defaults_follow_the_spec() {
        let c = config(&[]).unwrap();
        let t = c.traces.unwrap();
        assert_eq!(t.protocol, OtlpProtocol::HttpProtobuf);
        assert_eq!(t.endpoint, "http://localhost:4318/v1/traces");
        assert_eq!(t.sampler, SamplerChoice::ParentBasedAlwaysOn);
        assert_eq!(c.service_name, "svc");
    }

    #[test]
    fn export_batches_default_to_128_spans_and_the_variable_wins() {
        let batch = |flags: &[&str]| config(flags).unwrap().traces.unwrap().batch;
        assert_eq!(batch(&[]).max_export_batch_size, 128);
        assert_eq!(batch(&[]).max_queue_size, None, "the SDK's 2048");
        assert_eq!(
            batch(&["--otel-bsp-max-export-batch-size", "512"]).max_export_batch_size,
            512
        );
    }

    #[test]
    fn an_export_request_gets_the_otlp_exporters_10_s_unless_the_variable_says_otherwise() {
        let timeout = |flags: &[&str]| config(flags).unwrap().traces.unwrap().batch.export_timeout;
        assert_eq!(timeout(&[]), Duration::from_secs(10));
        assert_eq!(
            timeout(&["--otel-bsp-export-timeout", "2500"]),
            Duration::from_millis(2500)
        );
    }

    #[test]
    fn the_service_version_is_the_callers() {
        // The version the caller passes, never this crate's own (which once leaked in as
        // `service.version` of every service).
        assert_eq!(config(&[]).unwrap().service_version, "1.2.3");
        let testing = TelemetryConfig::testing("svc", "7.8.9-rc.1", "http://127.0.0.1:1/v1/traces");
        assert_eq!(testing.service_version, "7.8.9-rc.1");
        assert_ne!(env!("CARGO_PKG_VERSION"), "7.8.9-rc.1");
    }

    #[test]
    fn propagators_default_to_tracecontext_and_baggage_and_none_turns_them_off() {
        let propagators = |flags: &[&str]| config(flags).unwrap().propagators;
        assert_eq!(propagators(&[]), Propagators::default());
        assert_eq!(
            propagators(&["--otel-propagators", "none"]),
            Propagators::NONE
        );
        assert_eq!(
            TelemetryConfig::testing("svc", "1", "http://127.0.0.1:1/v1/traces").propagators,
            Propagators::default()
        );
    }

    #[test]
    fn help_lists_every_variable() {
        use clap::CommandFactory;
        let help = Cli::command().render_long_help().to_string();
        for variable in [
            "OTEL_SERVICE_NAME",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "OTEL_TRACES_SAMPLER",
            "OTEL_TRACES_SAMPLER_ARG",
            "OTEL_SDK_DISABLED",
            "OTEL_PROPAGATORS",
            "OTEL_RESOURCE_ATTRIBUTES",
            "OTEL_BSP_SCHEDULE_DELAY",
            "OTEL_BSP_MAX_QUEUE_SIZE",
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
            "OTEL_BSP_EXPORT_TIMEOUT",
            "RUST_LOG",
            "LOG_FORMAT",
            "EXEMPLAR_MAX_AGE",
        ] {
            assert!(
                help.contains(variable),
                "--help does not list {variable}:\n{help}"
            );
        }
    }

    #[test]
    fn generic_endpoint_gets_the_signal_path_and_specific_one_is_kept() {
        let c = config(&["--otel-exporter-otlp-endpoint", "http://c:4318/"]).unwrap();
        assert_eq!(c.traces.unwrap().endpoint, "http://c:4318/v1/traces");
        let c = config(&[
            "--otel-exporter-otlp-traces-endpoint",
            "http://c:9/x",
            "--otel-exporter-otlp-endpoint",
            "http://d",
        ])
        .unwrap();
        assert_eq!(c.traces.unwrap().endpoint, "http://c:9/x");
        let c = config(&["--otel-exporter-otlp-protocol", "grpc"]).unwrap();
        assert_eq!(c.traces.unwrap().endpoint, "http://localhost:4317");
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (flags, var) in [
            (
                &["--otel-traces-sampler", "sometimes"][..],
                "OTEL_TRACES_SAMPLER",
            ),
            (
                &[
                    "--otel-traces-sampler",
                    "traceidratio",
                    "--otel-traces-sampler-arg",
                    "2",
                ][..],
                "OTEL_TRACES_SAMPLER_ARG",
            ),
            (
                &["--otel-exporter-otlp-protocol", "http/json"][..],
                "OTEL_EXPORTER_OTLP_PROTOCOL",
            ),
            (&["--otel-sdk-disabled", "yes"][..], "OTEL_SDK_DISABLED"),
            (&["--log-format", "xml"][..], "LOG_FORMAT"),
            (&["--exemplar-max-age", "ten"][..], "EXEMPLAR_MAX_AGE"),
            (&["--otel-propagators", "b3"][..], "OTEL_PROPAGATORS"),
            (&["--otel-propagators", "w3c"][..], "OTEL_PROPAGATORS"),
            (
                &["--otel-exporter-otlp-endpoint", "collector:4318"][..],
                "OTEL_EXPORTER_OTLP_ENDPOINT",
            ),
        ] {
            let err = config(flags).unwrap_err().to_string();
            assert!(err.contains(var), "{flags:?}: {err}");
        }
    }

    #[test]
    fn sdk_disabled_turns_traces_off() {
        assert!(config(&["--otel-sdk-disabled", "true"])
            .unwrap()
            .traces
            .is_none());
        assert!(config(&["--otel-sdk-disabled", "FALSE"])
            .unwrap()
            .traces
            .is_some());
    }

    #[test]
    fn ratio_samplers_take_their_argument() {
        let c = config(&[
            "--otel-traces-sampler",
            "parentbased_traceidratio",
            "--otel-traces-sampler-arg",
            "0.25",
        ])
        .unwrap();
        assert_eq!(
            c.traces.unwrap().sampler,
            SamplerChoice::ParentBasedTraceIdRatio(0.25)
        );
    }

    #[test]
    fn resource_attributes_are_parsed() {
        let c = config(&[
            "--otel-resource-attributes",
            "deployment.environment=dev, team = store",
        ])
        .unwrap();
        assert_eq!(
            c.resource_attributes,
            vec![
                ("deployment.environment".to_owned(), "dev".to_owned()),
                ("team".to_owned(), "store".to_owned())
            ]
        );
    }

    #[test]
    fn durations_are_humantime_or_bare_seconds() {
        let d = |v: &str| parse_duration("X", v);
        assert_eq!(d("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(d("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(d(" 24h ").unwrap(), Duration::from_secs(86_400));
        assert_eq!(d("1h 30m").unwrap(), Duration::from_secs(5_400));
        assert_eq!(d("2d").unwrap(), Duration::from_secs(172_800));
        assert_eq!(d("7").unwrap(), Duration::from_secs(7));
        for bad in ["", "ten", "10 parsecs", "-5s", "99999999999999999999999"] {
            let err = d(bad).unwrap_err().to_string();
            assert!(err.contains("invalid value for X"), "{bad:?}: {err}");
        }
        assert_eq!(
            config(&["--exemplar-max-age", "90s"])
                .unwrap()
                .exemplar_max_age,
            Duration::from_secs(90)
        );
    }
}
