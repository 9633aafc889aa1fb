//! Settings: every flag also reads its variable (see `--help`). A bad value is a start-up error
//! naming the variable.

use std::time::Duration;

use clap::Parser;
use contract::Cents;
use service_kit::client_ip::{ForwardedHeader, TrustedProxies};
use service_kit::config::{parse_duration, InvalidSetting, ServerArgs};
use service_kit::edge::BodyTimeout;
use telemetry::{TelemetryArgs, TelemetryConfig};

use crate::domain::{ApiKeys, Burst, ReconcilePolicy, SuspiciousRules};
use crate::ratelimit::{Limits, Quota};

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

    /// The merchant key sent to the payment gateway as `Authorization: Bearer <key>`: the
    /// gateway's GATEWAY_API_KEY. Unset or empty: no key is sent.
    #[arg(
        long,
        env = "PAYMENT_GATEWAY_API_KEY",
        value_name = "PAYMENT_GATEWAY_API_KEY",
        hide_env_values = true
    )]
    pub payment_gateway_api_key: Option<String>,

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

    /// How long an `Idempotency-Key` and its stored response are remembered.
    #[arg(
        long,
        env = "IDEMPOTENCY_TTL",
        value_name = "IDEMPOTENCY_TTL",
        default_value = "24h"
    )]
    pub idempotency_ttl: String,

    /// Redis for the rate limits shared by every replica, e.g. `redis://127.0.0.1:6379/0`.
    /// Unset: each process limits on its own.
    #[arg(
        long,
        env = "REDIS_URL",
        value_name = "REDIS_URL",
        hide_env_values = true
    )]
    pub redis_url: Option<String>,

    /// Requests per API key (or per IP address without a valid key): `N` per second, `N/s`,
    /// `N/m`, `N/h`, or `off`.
    #[arg(
        long,
        env = "RATE_LIMIT_CLIENT",
        value_name = "RATE_LIMIT_CLIENT",
        default_value = "20"
    )]
    pub rate_limit_client: String,

    /// Requests from all clients together, across replicas when REDIS_URL is set; same format.
    #[arg(
        long,
        env = "RATE_LIMIT_GLOBAL",
        value_name = "RATE_LIMIT_GLOBAL",
        default_value = "200"
    )]
    pub rate_limit_global: String,

    /// Prefix of the rate-limit keys in Redis (so several deployments can share one Redis).
    #[arg(
        long,
        env = "RATE_LIMIT_KEY_PREFIX",
        value_name = "RATE_LIMIT_KEY_PREFIX",
        default_value = "webstore:ratelimit"
    )]
    pub rate_limit_key_prefix: String,

    /// How long one rate-limit round trip to Redis may take before the in-process limiter
    /// decides instead (counted in `webstore_rate_limit_fallback_total`).
    #[arg(
        long,
        env = "RATE_LIMIT_REDIS_TIMEOUT",
        value_name = "RATE_LIMIT_REDIS_TIMEOUT",
        default_value = "250ms"
    )]
    pub rate_limit_redis_timeout: String,

    /// Flag (never block) an order of at least this many units, or `off`.
    #[arg(
        long,
        env = "SUSPICIOUS_BULK_QUANTITY",
        value_name = "SUSPICIOUS_BULK_QUANTITY",
        default_value = "100"
    )]
    pub suspicious_bulk_quantity: String,

    /// Flag an order totalling at least this many US dollars, or `off`.
    #[arg(
        long,
        env = "SUSPICIOUS_HIGH_AMOUNT_USD",
        value_name = "SUSPICIOUS_HIGH_AMOUNT_USD",
        default_value = "5000"
    )]
    pub suspicious_high_amount_usd: String,

    /// Flag a customer's decline when their declines reach `count/window` (e.g. `3/10m`), or `off`.
    #[arg(
        long,
        env = "SUSPICIOUS_REPEATED_DECLINES",
        value_name = "SUSPICIOUS_REPEATED_DECLINES",
        default_value = "3/10m"
    )]
    pub suspicious_repeated_declines: String,

    /// Flag card testing: a customer's small orders reaching `count/window`, or `off`.
    #[arg(
        long,
        env = "SUSPICIOUS_CARD_TESTING",
        value_name = "SUSPICIOUS_CARD_TESTING",
        default_value = "5/10m"
    )]
    pub suspicious_card_testing: String,

    /// What card testing counts as a small order, in US dollars.
    #[arg(
        long,
        env = "SUSPICIOUS_SMALL_AMOUNT_USD",
        value_name = "SUSPICIOUS_SMALL_AMOUNT_USD",
        default_value = "5"
    )]
    pub suspicious_small_amount_usd: String,

    /// Browser origins allowed to call the API, comma-separated (`https://shop.example`), or
    /// `*`. Empty (the default): none.
    #[arg(
        long,
        env = "CORS_ALLOWED_ORIGINS",
        value_name = "CORS_ALLOWED_ORIGINS",
        default_value = ""
    )]
    pub cors_allowed_origins: String,

    /// How often the reconciler looks for orders whose payment outcome is unknown (it also runs
    /// once at start-up).
    #[arg(
        long,
        env = "RECONCILE_INTERVAL",
        value_name = "RECONCILE_INTERVAL",
        default_value = "30s"
    )]
    pub reconcile_interval: String,

    /// A `pending` order older than this is reconciled (its checkout died between writing and
    /// charging it); and "no charge at the gateway" settles an order as `payment_failed` only
    /// once it has been untouched this long. Must exceed PAYMENT_TIMEOUT.
    #[arg(
        long,
        env = "RECONCILE_GRACE",
        value_name = "RECONCILE_GRACE",
        default_value = "60s"
    )]
    pub reconcile_grace: String,

    /// Lookups without a usable answer (backing off from RECONCILE_INTERVAL, doubling up to
    /// 1 h) before an order is set to `needs_attention` for an operator.
    #[arg(
        long,
        env = "RECONCILE_MAX_ATTEMPTS",
        value_name = "RECONCILE_MAX_ATTEMPTS",
        default_value = "10"
    )]
    pub reconcile_max_attempts: String,

    /// Reverse proxies whose forwarding header is believed, as CIDR blocks or addresses
    /// separated by commas (`10.0.0.0/8,2001:db8::/32`). A request from one of them is counted
    /// against the rightmost address in that header that is not itself a listed proxy. Empty
    /// (the default): no proxy is trusted and the client is always the TCP peer.
    #[arg(
        long,
        env = "TRUSTED_PROXIES",
        value_name = "TRUSTED_PROXIES",
        default_value = ""
    )]
    pub trusted_proxies: String,

    /// The header the trusted proxies write: `x-forwarded-for` or `forwarded` (RFC 7239). The
    /// other one is never read, since a proxy passes it on from the client untouched.
    #[arg(
        long,
        env = "TRUSTED_PROXY_HEADER",
        value_name = "TRUSTED_PROXY_HEADER",
        default_value = "x-forwarded-for"
    )]
    pub trusted_proxy_header: String,

    /// Longest an API request may take, reading its body included (answered 503 after).
    /// Must exceed CATALOG_TIMEOUT + PAYMENT_TIMEOUT.
    #[arg(
        long,
        env = "REQUEST_TIMEOUT",
        value_name = "REQUEST_TIMEOUT",
        default_value = "30s"
    )]
    pub request_timeout: String,
}

/// A setting that does not parse.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Invalid(#[from] InvalidSetting),
    #[error(transparent)]
    Telemetry(#[from] telemetry::Error),
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub bind_addr: std::net::SocketAddr,
    pub database_url: String,
    pub http_workers: Option<usize>,
    pub body_timeout: BodyTimeout,
    /// `SHUTDOWN_TIMEOUT`: the drain\'s budget after SIGTERM or Ctrl-C.
    pub shutdown_timeout: std::time::Duration,
    pub telemetry: TelemetryConfig,
    pub catalog_url: String,
    pub payment_gateway_url: String,
    pub payment_gateway_api_key: Option<GatewayApiKey>,
    pub payment_timeout: Duration,
    pub catalog_timeout: Duration,
    pub api_keys: ApiKeys,
    pub idempotency_ttl: Duration,
    pub redis_url: Option<String>,
    pub rate_limits: Limits,
    pub rate_limit_key_prefix: String,
    pub rate_limit_redis_timeout: Duration,
    pub suspicious: SuspiciousRules,
    pub cors_allowed_origins: AllowedOrigins,
    pub request_timeout: Duration,
    pub reconcile: ReconcilePolicy,
    pub trusted_proxies: TrustedProxies,
}

impl Settings {
    pub fn from_cli(cli: Cli) -> Result<Self, ConfigError> {
        let settings = Self {
            bind_addr: cli.server.bind_addr_or(8080),
            database_url: cli.server.database_url_or_default(SERVICE_NAME),
            http_workers: cli.server.http_workers,
            body_timeout: cli.server.body_timeout()?,
            shutdown_timeout: cli.server.shutdown_timeout()?,
            telemetry: TelemetryConfig::from_args(
                &cli.telemetry,
                SERVICE_NAME,
                env!("CARGO_PKG_VERSION"),
            )?,
            catalog_url: base_url("CATALOG_URL", &cli.catalog_url)?,
            payment_gateway_url: base_url("PAYMENT_GATEWAY_URL", &cli.payment_gateway_url)?,
            payment_gateway_api_key: GatewayApiKey::parse(cli.payment_gateway_api_key.as_deref())?,
            payment_timeout: parse_duration("PAYMENT_TIMEOUT", &cli.payment_timeout)?,
            catalog_timeout: parse_duration("CATALOG_TIMEOUT", &cli.catalog_timeout)?,
            api_keys: ApiKeys::parse(&cli.api_keys)
                .map_err(|e| InvalidSetting::new("API_KEYS", e))?,
            idempotency_ttl: positive("IDEMPOTENCY_TTL", &cli.idempotency_ttl)?,
            // The error never quotes the URL: it may hold a password.
            redis_url: service_kit::config::optional_redis_url(cli.redis_url.as_deref())
                .map_err(|e| InvalidSetting::new("REDIS_URL", e))?,
            rate_limits: Limits {
                client: quota("RATE_LIMIT_CLIENT", &cli.rate_limit_client)?,
                global: quota("RATE_LIMIT_GLOBAL", &cli.rate_limit_global)?,
            },
            rate_limit_key_prefix: prefix(&cli.rate_limit_key_prefix)?,
            rate_limit_redis_timeout: positive(
                "RATE_LIMIT_REDIS_TIMEOUT",
                &cli.rate_limit_redis_timeout,
            )?,
            suspicious: suspicious_rules(&cli)?,
            cors_allowed_origins: AllowedOrigins::parse(&cli.cors_allowed_origins)
                .map_err(|e| InvalidSetting::new("CORS_ALLOWED_ORIGINS", e))?,
            request_timeout: positive("REQUEST_TIMEOUT", &cli.request_timeout)?,
            reconcile: ReconcilePolicy {
                interval: positive("RECONCILE_INTERVAL", &cli.reconcile_interval)?,
                grace: positive("RECONCILE_GRACE", &cli.reconcile_grace)?,
                max_attempts: max_attempts(&cli.reconcile_max_attempts)?,
            },
            trusted_proxies: trusted_proxies(&cli)?,
        };
        Ok(settings.checked()?)
    }

    /// Cross-setting checks.
    fn checked(self) -> Result<Self, InvalidSetting> {
        let needed = self.catalog_timeout + self.payment_timeout;
        if self.request_timeout <= needed {
            return Err(InvalidSetting::new(
                "REQUEST_TIMEOUT",
                format!(
                    "{:?} must exceed CATALOG_TIMEOUT + PAYMENT_TIMEOUT ({needed:?}), or checkouts would be cut short",
                    self.request_timeout
                ),
            ));
        }
        if self.reconcile.grace <= self.payment_timeout {
            return Err(InvalidSetting::new(
                "RECONCILE_GRACE",
                format!(
                    "{:?} must exceed PAYMENT_TIMEOUT ({:?}): a charge may still be on its way to the gateway until then",
                    self.reconcile.grace, self.payment_timeout
                ),
            ));
        }
        Ok(self)
    }
}

fn max_attempts(value: &str) -> Result<u32, InvalidSetting> {
    match value.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(InvalidSetting::new(
            "RECONCILE_MAX_ATTEMPTS",
            format!("expected a whole number of at least 1, got {value:?}"),
        )),
    }
}

fn suspicious_rules(cli: &Cli) -> Result<SuspiciousRules, InvalidSetting> {
    let off = |v: &str| v.trim().eq_ignore_ascii_case("off");
    let bulk_quantity = if off(&cli.suspicious_bulk_quantity) {
        None
    } else {
        let n: u64 = cli.suspicious_bulk_quantity.trim().parse().map_err(|_| {
            InvalidSetting::new(
                "SUSPICIOUS_BULK_QUANTITY",
                format!(
                    "expected a whole number of units or off, got {:?}",
                    cli.suspicious_bulk_quantity
                ),
            )
        })?;
        Some(n)
    };
    let usd = |variable: &'static str, v: &str| {
        Cents::parse_usd(v).map_err(|e| InvalidSetting::new(variable, e))
    };
    let high_amount = if off(&cli.suspicious_high_amount_usd) {
        None
    } else {
        Some(usd(
            "SUSPICIOUS_HIGH_AMOUNT_USD",
            &cli.suspicious_high_amount_usd,
        )?)
    };
    let burst = |variable: &'static str, v: &str| {
        Burst::parse(v, |window| {
            parse_duration(variable, window).map_err(|e| e.message)
        })
        .map_err(|e| InvalidSetting::new(variable, e))
    };
    Ok(SuspiciousRules {
        bulk_quantity,
        high_amount,
        repeated_declines: burst(
            "SUSPICIOUS_REPEATED_DECLINES",
            &cli.suspicious_repeated_declines,
        )?,
        card_testing: burst("SUSPICIOUS_CARD_TESTING", &cli.suspicious_card_testing)?,
        small_amount: usd(
            "SUSPICIOUS_SMALL_AMOUNT_USD",
            &cli.suspicious_small_amount_usd,
        )?,
    })
}

/// The merchant key order-service presents to the gateway. `Debug` never shows it.
#[derive(Clone)]
pub struct GatewayApiKey(String);

impl GatewayApiKey {
    fn parse(value: Option<&str>) -> Result<Option<Self>, InvalidSetting> {
        let Some(key) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        // It goes into a header: a control character would make every charge fail later.
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(InvalidSetting::new(
                "PAYMENT_GATEWAY_API_KEY",
                "must be visible ASCII characters without spaces",
            ));
        }
        Ok(Some(Self(key.to_owned())))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for GatewayApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GatewayApiKey(***)")
    }
}

fn trusted_proxies(cli: &Cli) -> Result<TrustedProxies, InvalidSetting> {
    let header = ForwardedHeader::parse(&cli.trusted_proxy_header)
        .map_err(|e| InvalidSetting::new("TRUSTED_PROXY_HEADER", e))?;
    TrustedProxies::parse(&cli.trusted_proxies, header)
        .map_err(|e| InvalidSetting::new("TRUSTED_PROXIES", e))
}

fn quota(variable: &'static str, value: &str) -> Result<Option<Quota>, InvalidSetting> {
    Quota::parse(value).map_err(|e| InvalidSetting::new(variable, e))
}

fn prefix(value: &str) -> Result<String, InvalidSetting> {
    let v = value.trim();
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_graphic() && b != b'{' && b != b'}');
    if !ok {
        return Err(InvalidSetting::new(
            "RATE_LIMIT_KEY_PREFIX",
            format!("1-64 visible ASCII characters without braces, got {value:?}"),
        ));
    }
    Ok(v.to_owned())
}

fn positive(variable: &'static str, value: &str) -> Result<Duration, InvalidSetting> {
    let d = parse_duration(variable, value)?;
    if d.is_zero() {
        return Err(InvalidSetting::new(
            variable,
            format!("must be longer than zero, got {value:?}"),
        ));
    }
    Ok(d)
}

fn base_url(variable: &'static str, value: &str) -> Result<String, InvalidSetting> {
    let v = value.trim().trim_end_matches('/');
    if !(v.starts_with("http://") || v.starts_with("https://")) {
        return Err(InvalidSetting::new(
            variable,
            format!("expected an http:// URL, got {value:?}"),
        ));
    }
    if v.starts_with("https://") {
        return Err(InvalidSetting::new(
            variable,
            "this build has no TLS stack; use http://",
        ));
    }
    Ok(v.to_owned())
}

/// Which browser origins may call the API (`CORS_ALLOWED_ORIGINS`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AllowedOrigins {
    /// The default: no cross-origin browser access at all.
    #[default]
    None,
    /// `*`: any origin. Safe only because credentials travel in headers a page must set
    /// itself (no cookies), and `Access-Control-Allow-Credentials` is never sent.
    Any,
    List(Vec<String>),
}

impl AllowedOrigins {
    /// `https://shop.example,http://localhost:3000`, `*`, or empty.
    pub fn parse(value: &str) -> Result<Self, String> {
        let items: Vec<&str> = value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if items.is_empty() {
            return Ok(Self::None);
        }
        if items == ["*"] {
            return Ok(Self::Any);
        }
        let mut origins = Vec::new();
        for item in items {
            let rest = item
                .strip_prefix("https://")
                .or_else(|| item.strip_prefix("http://"))
                .ok_or_else(|| format!("{item:?} is not an origin (scheme://host[:port])"))?;
            let ok = !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
            if !ok {
                return Err(format!(
                    "{item:?} is not an origin: scheme://host[:port], no path, no trailing slash, no wildcard"
                ));
            }
            origins.push(item.to_ascii_lowercase());
        }
        Ok(Self::List(origins))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_args(args: &[&str]) -> anyhow::Result<Settings> {
        let argv = std::iter::once("order-service").chain(args.iter().copied());
        Ok(Settings::from_cli(Cli::try_parse_from(argv)?)?)
    }

    #[test]
    fn security_settings_parse() {
        let s = from_args(&[
            "--idempotency-ttl",
            "2h",
            "--rate-limit-client",
            "5/s",
            "--rate-limit-global",
            "off",
            "--redis-url",
            "redis://127.0.0.1:6379/0",
        ])
        .unwrap();
        assert_eq!(s.idempotency_ttl, Duration::from_secs(7200));
        assert_eq!(s.rate_limits.client, Some(Quota::per_second(5)));
        assert_eq!(s.rate_limits.global, None);
        assert_eq!(s.redis_url.as_deref(), Some("redis://127.0.0.1:6379/0"));
        assert_eq!(s.suspicious, SuspiciousRules::default());
        assert!(
            s.trusted_proxies.is_empty(),
            "no proxy is trusted by default"
        );
        let s = from_args(&[
            "--suspicious-card-testing",
            "off",
            "--suspicious-high-amount-usd",
            "99.5",
        ])
        .unwrap();
        assert_eq!(s.suspicious.card_testing, None);
        assert_eq!(s.suspicious.high_amount, Cents::new(9950));
        let s = from_args(&[
            "--trusted-proxies",
            "10.0.0.0/8, 2001:db8::1",
            "--trusted-proxy-header",
            "Forwarded",
        ])
        .unwrap();
        assert_eq!(s.trusted_proxies.blocks().len(), 2);
        assert_eq!(s.trusted_proxies.header(), ForwardedHeader::Forwarded);
        let s = from_args(&["--payment-gateway-api-key", " mk-hunter2 "]).unwrap();
        let key = s.payment_gateway_api_key.as_ref().unwrap();
        assert_eq!(key.expose(), "mk-hunter2");
        assert!(!format!("{s:?}").contains("hunter2"), "Debug hides the key");
        assert!(from_args(&["--payment-gateway-api-key", ""])
            .unwrap()
            .payment_gateway_api_key
            .is_none());
    }

    #[test]
    fn bad_values_name_their_variable_and_never_echo_secrets() {
        for (args, variable) in [
            (&["--idempotency-ttl", "soon"][..], "IDEMPOTENCY_TTL"),
            (&["--idempotency-ttl", "0s"][..], "IDEMPOTENCY_TTL"),
            (&["--rate-limit-client", "lots"][..], "RATE_LIMIT_CLIENT"),
            (&["--rate-limit-global=-5"][..], "RATE_LIMIT_GLOBAL"),
            (
                &["--rate-limit-key-prefix", "a{b}"][..],
                "RATE_LIMIT_KEY_PREFIX",
            ),
            (
                &["--redis-url", "http://:hunter2@cache:6379"][..],
                "REDIS_URL",
            ),
            (&["--payment-timeout", "soon"][..], "PAYMENT_TIMEOUT"),
            (&["--request-timeout", "1s"][..], "REQUEST_TIMEOUT"),
            (&["--reconcile-grace", "5s"][..], "RECONCILE_GRACE"),
            (
                &["--reconcile-max-attempts", "0"][..],
                "RECONCILE_MAX_ATTEMPTS",
            ),
            (&["--reconcile-interval", "0s"][..], "RECONCILE_INTERVAL"),
            (&["--shutdown-timeout", "soon"][..], "SHUTDOWN_TIMEOUT"),
            (
                &["--trusted-proxies", "10.0.0.0/8,10.0.0.1/33"][..],
                "TRUSTED_PROXIES",
            ),
            (
                &["--trusted-proxy-header", "x-real-ip"][..],
                "TRUSTED_PROXY_HEADER",
            ),
            (
                &["--payment-gateway-api-key", "hunter2 x"][..],
                "PAYMENT_GATEWAY_API_KEY",
            ),
        ] {
            let err = format!("{:#}", from_args(args).unwrap_err());
            assert!(err.contains(variable), "{args:?}: {err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }
}

#[cfg(test)]
mod origin_tests {
    use super::*;

    #[test]
    fn origins_parse_strictly() {
        assert_eq!(AllowedOrigins::parse(""), Ok(AllowedOrigins::None));
        assert_eq!(AllowedOrigins::parse(" , "), Ok(AllowedOrigins::None));
        assert_eq!(AllowedOrigins::parse("*"), Ok(AllowedOrigins::Any));
        assert_eq!(
            AllowedOrigins::parse("https://Shop.example, http://localhost:3000"),
            Ok(AllowedOrigins::List(vec![
                "https://shop.example".into(),
                "http://localhost:3000".into()
            ]))
        );
        for bad in [
            "shop.example",
            "https://shop.example/",
            "https://shop.example/path",
            "https://*.example",
            "*, https://a.example",
            "ftp://a.example",
            "https://",
        ] {
            assert!(AllowedOrigins::parse(bad).is_err(), "{bad}");
        }
    }
}
