//! Settings: flags and environment variables (each flag reads its variable), validated once.
//! A bad value is an error that names the variable.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use service_kit::config::{parse_duration, InvalidSetting, ServerArgs};
use telemetry::{TelemetryArgs, TelemetryConfig};

use crate::store::cache::RedisTarget;

pub const SERVICE_NAME: &str = "catalog-service";
pub const DEFAULT_PORT: u16 = 8081;

/// WebStore catalog service: products from its own database, read through a Redis (or
/// in-process) cache.
#[derive(Debug, Parser)]
#[command(name = SERVICE_NAME, version, about)]
pub struct Cli {
    #[command(flatten)]
    pub server: ServerArgs,

    #[command(flatten)]
    pub telemetry: TelemetryArgs,

    /// Redis for the product cache, e.g. `redis://127.0.0.1:6379/0`. Unset: an in-process cache
    /// per replica. An unreachable Redis is not fatal: requests are served from the database.
    #[arg(
        long,
        env = "REDIS_URL",
        value_name = "REDIS_URL",
        hide_env_values = true
    )]
    pub redis_url: Option<String>,

    /// How long a cached product or page is served before it is read again (e.g. `30s`, `5m`).
    #[arg(
        long,
        env = "CATALOG_CACHE_TTL",
        value_name = "CATALOG_CACHE_TTL",
        default_value = "60s"
    )]
    pub catalog_cache_ttl: String,

    /// Prepended to every cache key, to share one Redis between deployments.
    #[arg(
        long,
        env = "CATALOG_CACHE_KEY_PREFIX",
        value_name = "CATALOG_CACHE_KEY_PREFIX",
        default_value = ""
    )]
    pub catalog_cache_key_prefix: String,

    /// Most entries the in-process cache keeps (ignored with Redis).
    #[arg(
        long,
        env = "CATALOG_CACHE_MAX_ENTRIES",
        value_name = "CATALOG_CACHE_MAX_ENTRIES",
        default_value_t = 10_000
    )]
    pub catalog_cache_max_entries: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Invalid(#[from] InvalidSetting),
    #[error(transparent)]
    Telemetry(#[from] telemetry::Error),
}

/// Everything the service needs to start, from [`Settings::from_cli`] (tests go through it too).
#[derive(Clone)]
pub struct Settings {
    pub bind_addr: SocketAddr,
    /// May hold a password: log it only through `service_kit::db::redact`.
    pub database_url: String,
    pub http_workers: Option<usize>,
    pub body_timeout: service_kit::edge::BodyTimeout,
    /// `SHUTDOWN_TIMEOUT`: the drain\'s budget after SIGTERM or Ctrl-C.
    pub shutdown_timeout: std::time::Duration,
    pub telemetry: TelemetryConfig,
    pub cache: CacheSettings,
}

#[derive(Clone)]
pub struct CacheSettings {
    /// `None`: the in-process cache. May hold a password; never logged.
    pub redis_url: Option<String>,
    pub ttl: Duration,
    pub key_prefix: String,
    pub max_entries: usize,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("bind_addr", &self.bind_addr)
            .field("database_url", &service_kit::db::redact(&self.database_url))
            .field("http_workers", &self.http_workers)
            .field("body_timeout", &self.body_timeout)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("telemetry", &self.telemetry)
            .field("cache", &self.cache)
            .finish()
    }
}

impl std::fmt::Debug for CacheSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redis = self
            .redis_url
            .as_deref()
            .map(|u| RedisTarget::parse(u).map(|t| t.to_string()));
        f.debug_struct("CacheSettings")
            .field(
                "redis",
                &redis.map(|r| r.unwrap_or_else(|_| "<invalid>".into())),
            )
            .field("ttl", &self.ttl)
            .field("key_prefix", &self.key_prefix)
            .field("max_entries", &self.max_entries)
            .finish()
    }
}

impl Default for CacheSettings {
    /// In-process, 60 s, no prefix, 10 000 entries: the CLI defaults.
    fn default() -> Self {
        Self {
            redis_url: None,
            ttl: Duration::from_secs(60),
            key_prefix: String::new(),
            max_entries: 10_000,
        }
    }
}

impl Settings {
    pub fn from_cli(cli: Cli) -> Result<Self, ConfigError> {
        let telemetry =
            TelemetryConfig::from_args(&cli.telemetry, SERVICE_NAME, env!("CARGO_PKG_VERSION"))?;
        // The parser's message, never the URL itself: it may hold a password.
        let redis_url = service_kit::config::optional_redis_url(cli.redis_url.as_deref())
            .map_err(|e| InvalidSetting::new("REDIS_URL", e))?;
        let ttl = parse_duration("CATALOG_CACHE_TTL", &cli.catalog_cache_ttl)?;
        if ttl.is_zero() {
            return Err(
                InvalidSetting::new("CATALOG_CACHE_TTL", "must be greater than zero").into(),
            );
        }
        if cli.catalog_cache_max_entries == 0 {
            return Err(
                InvalidSetting::new("CATALOG_CACHE_MAX_ENTRIES", "must be at least 1").into(),
            );
        }
        Ok(Self {
            bind_addr: cli.server.bind_addr_or(DEFAULT_PORT),
            database_url: cli.server.database_url_or_default(SERVICE_NAME),
            http_workers: cli.server.http_workers,
            body_timeout: cli.server.body_timeout()?,
            shutdown_timeout: cli.server.shutdown_timeout()?,
            telemetry,
            cache: CacheSettings {
                redis_url,
                ttl,
                key_prefix: cli.catalog_cache_key_prefix,
                max_entries: cli.catalog_cache_max_entries,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(args: &[&str]) -> Result<Settings, ConfigError> {
        let mut argv = vec![SERVICE_NAME];
        argv.extend_from_slice(args);
        Settings::from_cli(Cli::try_parse_from(argv).expect("flags parse"))
    }

    #[test]
    fn defaults() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.bind_addr.port(), 8081);
        assert_eq!(s.database_url, "sqlite://data/catalog-service.db?mode=rwc");
        assert_eq!(s.cache.ttl, Duration::from_secs(60));
        assert!(s.cache.redis_url.is_none());
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (args, variable) in [
            (&["--redis-url", "http://cache:6379"][..], "REDIS_URL"),
            (
                &["--catalog-cache-ttl", "10 parsecs"][..],
                "CATALOG_CACHE_TTL",
            ),
            (&["--redis-url", "not a url"][..], "REDIS_URL"),
            (&["--catalog-cache-ttl", "soon"][..], "CATALOG_CACHE_TTL"),
            (&["--catalog-cache-ttl", "0s"][..], "CATALOG_CACHE_TTL"),
            (
                &["--catalog-cache-max-entries", "0"][..],
                "CATALOG_CACHE_MAX_ENTRIES",
            ),
        ] {
            let err = settings(args).unwrap_err();
            // A settings error, not a telemetry one.
            assert!(matches!(err, ConfigError::Invalid(_)), "{args:?}: {err:?}");
            let err = err.to_string();
            assert!(err.contains(variable), "{args:?}: {err}");
        }
    }

    #[test]
    fn redis_passwords_stay_out_of_errors_and_debug() {
        let s = settings(&["--redis-url", "redis://:hunter2@cache:6379"]).unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(format!("{:?}", s.cache).contains("cache:6379"));
        let err = settings(&["--redis-url", "redis://:hunter2@cache:notaport"])
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }
}
