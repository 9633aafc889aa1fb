//! Settings every service takes. A service flattens [`ServerArgs`] (and
//! [`telemetry::TelemetryArgs`]) into its own `clap` CLI; each flag also reads its variable.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

/// A setting whose value does not parse. The message names the variable, never a secret
/// (callers pass messages that do not quote passwords).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid value for {variable}: {message}")]
pub struct InvalidSetting {
    pub variable: &'static str,
    pub message: String,
}

impl InvalidSetting {
    pub fn new(variable: &'static str, message: impl std::fmt::Display) -> Self {
        Self {
            variable,
            message: message.to_string(),
        }
    }
}

/// A duration setting: what the `humantime` crate reads (`250ms`, `30s`, `10m`, `24h`,
/// `1h 30m`), or a bare number of seconds (`30`), as the services have always accepted.
pub fn parse_duration(variable: &'static str, value: &str) -> Result<Duration, InvalidSetting> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return v
            .parse()
            .map(Duration::from_secs)
            .map_err(|_| InvalidSetting::new(variable, format!("{value:?} is too many seconds")));
    }
    humantime::parse_duration(v).map_err(|e| {
        InvalidSetting::new(
            variable,
            format!("expected a duration such as 250ms, 30s, 10m or 24h, got {value:?} ({e})"),
        )
    })
}

#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "BIND_ADDR", value_name = "BIND_ADDR")]
    pub bind_addr: Option<SocketAddr>,

    /// Database URL: `postgres://…` or `sqlite://path?mode=rwc`.
    /// Default: SQLite file `data/<service>.db` under the working directory.
    #[arg(
        long,
        env = "DATABASE_URL",
        value_name = "DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "HTTP_WORKERS", value_name = "HTTP_WORKERS")]
    pub http_workers: Option<usize>,

    /// How long a request body may take to arrive once the request head is in; past it the
    /// answer is 408 and the connection is closed (a slow upload cannot hold a request open).
    #[arg(
        long,
        env = "REQUEST_BODY_TIMEOUT",
        value_name = "REQUEST_BODY_TIMEOUT",
        default_value = "10s"
    )]
    pub request_body_timeout: String,
    /// On SIGTERM or Ctrl-C: how long in-flight requests and tracked work (a checkout moving
    /// money) get to finish before the process flushes its spans and exits 0. `/readyz`
    /// answers 503 meanwhile.
    #[arg(
        long,
        env = "SHUTDOWN_TIMEOUT",
        value_name = "SHUTDOWN_TIMEOUT",
        default_value = "20s"
    )]
    pub shutdown_timeout: String,
}

impl ServerArgs {
    pub fn bind_addr_or(&self, default_port: u16) -> SocketAddr {
        self.bind_addr
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], default_port)))
    }

    /// `REQUEST_BODY_TIMEOUT`, longer than zero.
    pub fn body_timeout(&self) -> Result<crate::edge::BodyTimeout, InvalidSetting> {
        let d = parse_duration("REQUEST_BODY_TIMEOUT", &self.request_body_timeout)?;
        if d.is_zero() {
            return Err(InvalidSetting::new(
                "REQUEST_BODY_TIMEOUT",
                format!(
                    "must be longer than zero, got {:?}",
                    self.request_body_timeout
                ),
            ));
        }
        Ok(crate::edge::BodyTimeout(d))
    }

    /// `SHUTDOWN_TIMEOUT`, longer than zero.
    pub fn shutdown_timeout(&self) -> Result<Duration, InvalidSetting> {
        let timeout = parse_duration("SHUTDOWN_TIMEOUT", &self.shutdown_timeout)?;
        if timeout.is_zero() {
            return Err(InvalidSetting::new(
                "SHUTDOWN_TIMEOUT",
                format!("must be longer than zero, got {:?}", self.shutdown_timeout),
            ));
        }
        Ok(timeout)
    }

    /// The configured database URL, or the per-service SQLite file.
    pub fn database_url_or_default(&self, service: &str) -> String {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => url.trim().to_owned(),
            _ => crate::db::default_sqlite_url(service),
        }
    }
}

/// A `REDIS_URL`-style setting: blank means unset (so `REDIS_URL=` in a compose file turns Redis
/// off), anything else must parse the way the client will, so a typo fails at start-up rather
/// than at the first request. The error is the client's and never quotes the URL, which may hold
/// a password; the caller adds the variable's name.
pub fn optional_redis_url(
    value: Option<&str>,
) -> Result<Option<String>, deadpool_redis::redis::RedisError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(url) => {
            crate::redis::RedisTarget::parse(url)?;
            Ok(Some(url.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_humantime_or_seconds_and_errors_name_the_variable() {
        for (text, expected) in [
            ("250ms", Duration::from_millis(250)),
            ("30s", Duration::from_secs(30)),
            (" 10m ", Duration::from_secs(600)),
            ("24h", Duration::from_secs(86_400)),
            ("1h 30m", Duration::from_secs(5_400)),
            ("2d", Duration::from_secs(172_800)),
            ("45", Duration::from_secs(45)),
            ("0s", Duration::ZERO),
        ] {
            assert_eq!(parse_duration("X_TIMEOUT", text), Ok(expected), "{text}");
        }
        for bad in [
            "",
            "soon",
            "-1s",
            "10 parsecs",
            "1.5.2s",
            "99999999999999999999",
        ] {
            let err = parse_duration("X_TIMEOUT", bad).unwrap_err();
            assert_eq!(err.variable, "X_TIMEOUT");
            assert!(
                err.to_string().starts_with("invalid value for X_TIMEOUT: "),
                "{err}"
            );
        }
    }

    #[test]
    fn redis_urls_are_trimmed_checked_and_blank_means_unset() {
        assert_eq!(optional_redis_url(None).unwrap(), None);
        assert_eq!(optional_redis_url(Some("  ")).unwrap(), None);
        assert_eq!(
            optional_redis_url(Some(" redis://cache:6379/0 ")).unwrap(),
            Some("redis://cache:6379/0".to_owned())
        );
        let err = optional_redis_url(Some("redis://:hunter2@cache:notaport")).unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(optional_redis_url(Some("http://cache:6379")).is_err());
    }
}
