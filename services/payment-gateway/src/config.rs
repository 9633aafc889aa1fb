//! Settings: every flag also reads its environment variable, and all of them show in `--help`.
//! A bad value is a start-up error that names the variable.

use std::net::SocketAddr;

use clap::Parser;
use service_kit::config::{InvalidSetting, ServerArgs};
use service_kit::edge::BodyTimeout;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use telemetry::{TelemetryArgs, TelemetryConfig};

use crate::domain::LatencyScale;

/// The name used for telemetry and the default SQLite file (`data/payment-gateway.db`).
pub const SERVICE_NAME: &str = "payment-gateway";
pub const DEFAULT_PORT: u16 = 8082;

/// Mock external payment provider for WebStore: long-tailed latency per payment method,
/// declines, idempotent charges, and faults injectable at run time.
#[derive(Debug, Parser)]
#[command(name = "payment-gateway", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub server: ServerArgs,

    #[command(flatten)]
    pub telemetry: TelemetryArgs,

    /// Bearer token for `GET/PUT /admin/faults`. Unset or empty: the /admin routes do not exist.
    #[arg(
        long,
        env = "ADMIN_TOKEN",
        value_name = "ADMIN_TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,

    /// The merchant key every `/v1/charges` call must present as `Authorization: Bearer <key>`
    /// (order-service sends it as PAYMENT_GATEWAY_API_KEY). Unset or empty: calls need no key,
    /// which is allowed only when BIND_ADDR is a loopback address.
    #[arg(
        long,
        env = "GATEWAY_API_KEY",
        value_name = "GATEWAY_API_KEY",
        hide_env_values = true
    )]
    pub gateway_api_key: Option<String>,

    /// Multiplies the simulated provider latency (a number ≥ 0, at most 1000; 0 = no simulated
    /// latency). Injected `latency_ms` faults are not scaled.
    // allow_hyphen_values: `-1` must reach our validation (and its message), not look like a flag.
    #[arg(
        long,
        env = "GATEWAY_LATENCY_SCALE",
        value_name = "GATEWAY_LATENCY_SCALE",
        default_value = "1.0",
        allow_hyphen_values = true
    )]
    pub gateway_latency_scale: String,

    /// Seed (u64) for the latency and outcome draws, to reproduce a run. Default: from the OS.
    /// Charge ids stay random either way.
    #[arg(
        long,
        env = "GATEWAY_SEED",
        value_name = "GATEWAY_SEED",
        allow_hyphen_values = true
    )]
    pub gateway_seed: Option<String>,
}

/// A setting that does not parse. The message names the variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Invalid(#[from] InvalidSetting),
    #[error(transparent)]
    Telemetry(#[from] telemetry::Error),
}

/// Validated settings, from [`Settings::from_cli`] (tests go through it too).
#[derive(Debug, Clone)]
pub struct Settings {
    pub bind_addr: SocketAddr,
    pub database_url: String,
    /// HTTP worker threads; `None`: one per core.
    pub http_workers: Option<usize>,
    pub body_timeout: BodyTimeout,
    /// `SHUTDOWN_TIMEOUT`: the drain\'s budget after SIGTERM or Ctrl-C.
    pub shutdown_timeout: std::time::Duration,
    pub telemetry: TelemetryConfig,
    /// `None`: the /admin routes are not registered.
    pub admin_token: Option<AdminToken>,
    /// `None`: `/v1/charges*` need no key (only on a loopback `bind_addr`).
    pub merchant_key: Option<MerchantKey>,
    pub latency_scale: LatencyScale,
    /// `None`: seeded from the OS.
    pub seed: Option<u64>,
}

impl Settings {
    pub fn from_cli(cli: Cli) -> Result<Self, ConfigError> {
        let telemetry =
            TelemetryConfig::from_args(&cli.telemetry, SERVICE_NAME, env!("CARGO_PKG_VERSION"))?;
        let latency_scale = LatencyScale::parse(&cli.gateway_latency_scale)
            .map_err(|e| InvalidSetting::new("GATEWAY_LATENCY_SCALE", e))?;
        let seed = match cli.gateway_seed.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(v) => Some(v.parse::<u64>().map_err(|_| {
                InvalidSetting::new(
                    "GATEWAY_SEED",
                    format!("must be an unsigned 64-bit integer, got {v:?}"),
                )
            })?),
        };
        let bind_addr = cli.server.bind_addr_or(DEFAULT_PORT);
        Ok(Self {
            bind_addr,
            database_url: cli.server.database_url_or_default(SERVICE_NAME),
            http_workers: cli.server.http_workers,
            body_timeout: cli.server.body_timeout()?,
            shutdown_timeout: cli.server.shutdown_timeout()?,
            telemetry,
            admin_token: cli.admin_token.as_deref().and_then(AdminToken::new),
            merchant_key: merchant_key(cli.gateway_api_key.as_deref(), bind_addr)?,
            latency_scale,
            seed,
        })
    }
}

/// A bearer secret. Only its SHA-256 is kept, so the secret never sits in memory dumps of this
/// struct and comparisons run over fixed-length digests: [`Secret::verify`] takes the same time
/// whatever the presented value's length or content.
#[derive(Clone)]
pub struct Secret {
    digest: [u8; 32],
}

impl Secret {
    /// `None` for an empty (or all-whitespace) value: "set but empty" means "not set".
    pub fn new(value: &str) -> Option<Self> {
        let value = value.trim();
        (!value.is_empty()).then(|| Self {
            digest: digest(value),
        })
    }

    pub fn verify(&self, presented: &str) -> bool {
        self.digest.ct_eq(&digest(presented)).into()
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// The admin bearer token (`ADMIN_TOKEN`).
#[derive(Clone, Debug)]
pub struct AdminToken(pub Secret);

impl AdminToken {
    pub fn new(token: &str) -> Option<Self> {
        Secret::new(token).map(Self)
    }

    pub fn verify(&self, presented: &str) -> bool {
        self.0.verify(presented)
    }
}

/// The merchant key `/v1/charges*` requires (`GATEWAY_API_KEY`), as a real provider
/// authenticates the shop that charges.
#[derive(Clone, Debug)]
pub struct MerchantKey(pub Secret);

impl MerchantKey {
    pub fn new(key: &str) -> Option<Self> {
        Secret::new(key).map(Self)
    }

    pub fn verify(&self, presented: &str) -> bool {
        self.0.verify(presented)
    }
}

/// Without a merchant key anyone who can connect can charge, so that is allowed only on a
/// loopback address, where the only callers are local processes (a developer's stack, tests).
fn merchant_key(
    value: Option<&str>,
    bind_addr: SocketAddr,
) -> Result<Option<MerchantKey>, InvalidSetting> {
    let key = value.and_then(MerchantKey::new);
    if key.is_none() && !bind_addr.ip().is_loopback() {
        return Err(InvalidSetting::new(
            "GATEWAY_API_KEY",
            format!(
                "must be set when BIND_ADDR ({bind_addr}) is not a loopback address: without it anyone who can reach the gateway can charge"
            ),
        ));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(args: &[&str]) -> Result<Settings, ConfigError> {
        let mut argv = vec!["payment-gateway"];
        argv.extend_from_slice(args);
        Settings::from_cli(Cli::try_parse_from(argv).expect("flags parse"))
    }

    #[test]
    fn defaults() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.bind_addr.port(), DEFAULT_PORT);
        assert_eq!(s.latency_scale, LatencyScale::REAL);
        assert!(s.database_url.contains("data/payment-gateway.db"));
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (args, variable) in [
            (
                &["--gateway-latency-scale", "-1"][..],
                "GATEWAY_LATENCY_SCALE",
            ),
            (
                &["--gateway-latency-scale", "fast"][..],
                "GATEWAY_LATENCY_SCALE",
            ),
            (&["--gateway-seed", "-3"][..], "GATEWAY_SEED"),
            (
                &["--otel-traces-sampler", "sometimes"][..],
                "OTEL_TRACES_SAMPLER",
            ),
        ] {
            let err = settings(args).unwrap_err().to_string();
            assert!(err.contains(variable), "{args:?}: {err}");
        }
    }

    #[test]
    fn seed_and_scale_parse() {
        let s = settings(&["--gateway-latency-scale", "0.01", "--gateway-seed", "42"]).unwrap();
        assert_eq!(s.latency_scale.factor(), 0.01);
        assert_eq!(s.seed, Some(42));
    }

    #[test]
    fn empty_admin_token_disables_the_admin_api() {
        assert!(settings(&["--admin-token", ""])
            .unwrap()
            .admin_token
            .is_none());
        assert!(settings(&["--admin-token", "  "])
            .unwrap()
            .admin_token
            .is_none());
        let token = settings(&["--admin-token", "s3cret"])
            .unwrap()
            .admin_token
            .unwrap();
        assert!(token.verify("s3cret"));
        assert!(!token.verify("s3cre"));
        assert!(!token.verify(""));
        assert_eq!(format!("{token:?}"), "AdminToken(***)");
    }

    #[test]
    fn a_merchant_key_is_optional_only_on_loopback() {
        assert!(settings(&[]).unwrap().merchant_key.is_none());
        let key = settings(&["--gateway-api-key", "mk-1"])
            .unwrap()
            .merchant_key
            .unwrap();
        assert!(key.verify("mk-1") && !key.verify("mk-2"));
        assert_eq!(format!("{key:?}"), "MerchantKey(***)");
        for bind in ["0.0.0.0:8082", "10.1.2.3:8082", "[::]:8082"] {
            let err = settings(&["--bind-addr", bind, "--gateway-api-key", " "])
                .unwrap_err()
                .to_string();
            assert!(err.contains("GATEWAY_API_KEY"), "{bind}: {err}");
        }
        assert!(settings(&["--bind-addr", "0.0.0.0:8082", "--gateway-api-key", "mk-1"]).is_ok());
        assert!(settings(&["--bind-addr", "[::1]:0"]).is_ok());
    }
}
