//! Settings: every flag also reads its variable (see `--help`).

use std::time::Duration;

use clap::Parser;
use service_kit::config::ServerArgs;
use telemetry::{TelemetryArgs, TelemetryConfig};

use crate::domain::ApiKeys;

pub const SERVICE_NAME: &str = "order-service";

#[derive(Debug, Parser)]
#[command(name = SERVICE_NAME, version, about = "WebStore order service: checkout orchestration")]
pub struct Cli {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub telemetry: TelemetryArgs,

    /// Base URL of the catalog service.
    #[arg(
        long,
        env = "CATALOG_URL",
        value_name = "CATALOG_URL",
        default_value = "http://127.0.0.1:8081"
    )]
    pub catalog_url: String,

    /// Base URL of the payment gateway.
    #[arg(
        long,
        env = "PAYMENT_GATEWAY_URL",
        value_name = "PAYMENT_GATEWAY_URL",
        default_value = "http://127.0.0.1:8082"
    )]
    pub payment_gateway_url: String,

    /// How long a charge may take before the order is `payment_unknown` (504).
    #[arg(
        long,
        env = "PAYMENT_TIMEOUT",
        value_name = "PAYMENT_TIMEOUT",
        default_value = "10s"
    )]
    pub payment_timeout: String,

    /// How long a catalog lookup may take before checkout answers 503.
    #[arg(
        long,
        env = "CATALOG_TIMEOUT",
        value_name = "CATALOG_TIMEOUT",
        default_value = "2s"
    )]
    pub catalog_timeout: String,

    /// API keys, `customer:key,…`. Held hashed; never logged.
    #[arg(
        long,
        env = "API_KEYS",
        value_name = "API_KEYS",
        default_value = "demo:demo-key",
        hide_env_values = true,
        hide_default_value = true
    )]
    pub api_keys: String,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub bind_addr: std::net::SocketAddr,
    pub database_url: String,
    pub http_workers: Option<usize>,
    pub telemetry: TelemetryConfig,
    pub catalog_url: String,
    pub payment_gateway_url: String,
    pub payment_timeout: Duration,
    pub catalog_timeout: Duration,
    pub api_keys: ApiKeys,
}

impl Settings {
    pub fn from_cli(cli: Cli) -> anyhow::Result<Self> {
        let duration = |var: &'static str, v: &str| telemetry::config::parse_duration(var, v);
        Ok(Self {
            bind_addr: cli.server.bind_addr_or(8080),
            database_url: cli.server.database_url_or_default(SERVICE_NAME),
            http_workers: cli.server.http_workers,
            telemetry: TelemetryConfig::from_args(
                &cli.telemetry,
                SERVICE_NAME,
                env!("CARGO_PKG_VERSION"),
            )?,
            catalog_url: base_url("CATALOG_URL", &cli.catalog_url)?,
            payment_gateway_url: base_url("PAYMENT_GATEWAY_URL", &cli.payment_gateway_url)?,
            payment_timeout: duration("PAYMENT_TIMEOUT", &cli.payment_timeout)?,
            catalog_timeout: duration("CATALOG_TIMEOUT", &cli.catalog_timeout)?,
            api_keys: ApiKeys::parse(&cli.api_keys)
                .map_err(|e| anyhow::anyhow!("invalid value for API_KEYS: {e}"))?,
        })
    }
}

fn base_url(variable: &str, value: &str) -> anyhow::Result<String> {
    let v = value.trim().trim_end_matches('/');
    anyhow::ensure!(
        v.starts_with("http://") || v.starts_with("https://"),
        "invalid value for {variable}: expected an http:// URL, got {value:?}"
    );
    anyhow::ensure!(
        !v.starts_with("https://"),
        "invalid value for {variable}: this build has no TLS stack; use http://"
    );
    Ok(v.to_owned())
}
