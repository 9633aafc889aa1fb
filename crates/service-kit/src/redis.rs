//! Redis plumbing with no opinion on what is stored: a pool whose every wait is bounded, where
//! the server is (without credentials), the client span every command runs in, and the window
//! during which a caller skips Redis after it failed to connect.
//!
//! What a failure means (serve from the database, fall back to a local limiter) and which
//! timeouts suit the caller stay with the caller.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use deadpool_redis::redis::{
    AsyncConnectionConfig, ConnectionAddr, IntoConnectionInfo, RedisError,
};
use deadpool_redis::{BuildError, Manager, Pool, PoolError, Runtime};

#[doc(hidden)]
pub use tracing as __tracing;

/// Where Redis is, for span attributes and logs. Built from the parsed URL, so the password
/// never reaches a log line or an attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisTarget {
    pub address: String,
    pub port: Option<u16>,
}

impl RedisTarget {
    /// Parses `url` the way the client will, so a bad `REDIS_URL` can fail at start-up. The
    /// error is the client's: it does not quote the URL.
    pub fn parse(url: &str) -> Result<Self, RedisError> {
        Ok(Self::of(url.into_connection_info()?.addr()))
    }

    fn of(addr: &ConnectionAddr) -> Self {
        match addr {
            ConnectionAddr::Tcp(host, port) | ConnectionAddr::TcpTls { host, port, .. } => Self {
                address: host.clone(),
                port: Some(*port),
            },
            ConnectionAddr::Unix(path) => Self {
                address: path.display().to_string(),
                port: None,
            },
            _ => Self {
                address: "unknown".to_owned(),
                port: None,
            },
        }
    }
}

impl std::fmt::Display for RedisTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.address),
            None => f.write_str(&self.address),
        }
    }
}

/// Upper bounds on every wait, chosen by the caller from what a slow answer costs it.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
    /// Waiting for a pooled connection, creating one, or checking one before reuse.
    pub pool_timeout: Duration,
    pub max_size: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum PoolSetupError {
    #[error("REDIS_URL is not a valid Redis URL")]
    InvalidUrl(#[source] RedisError),
    #[error("could not build the Redis connection pool")]
    Pool(#[from] BuildError),
}

/// Builds the pool; it connects lazily, so an unreachable Redis is not an error here.
pub fn pool(url: &str, settings: PoolSettings) -> Result<(Pool, RedisTarget), PoolSetupError> {
    let info = url
        .into_connection_info()
        .map_err(PoolSetupError::InvalidUrl)?;
    let target = RedisTarget::of(info.addr());
    let connection = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(settings.connect_timeout))
        .set_response_timeout(Some(settings.response_timeout));
    let manager = Manager::new_with_config(info, connection).map_err(PoolSetupError::InvalidUrl)?;
    let pool = Pool::builder(manager)
        .max_size(settings.max_size)
        // The pool's timeouts only work with a runtime named.
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(settings.pool_timeout))
        .create_timeout(Some(settings.pool_timeout))
        .recycle_timeout(Some(settings.pool_timeout))
        .build()?;
    Ok((pool, target))
}

/// A client span for one Redis command, since Redis has no tracing of its own: named after the
/// command, with `db.system.name = "redis"`, `db.operation.name`, `server.address` and
/// `server.port`, and empty `error.type`, `otel.status_code` and `otel.status_description` to
/// fill on failure. Extra fields the caller records later go after the target and operation,
/// because a span's fields must all be declared when it is created.
#[macro_export]
macro_rules! redis_client_span {
    ($target:expr, $operation:expr $(, $($fields:tt)*)?) => {
        $crate::redis::__tracing::info_span!(
            "redis",
            otel.name = $operation,
            otel.kind = "client",
            db.system.name = "redis",
            db.operation.name = $operation,
            server.address = %$target.address,
            server.port = $target.port,
            error.type = $crate::redis::__tracing::field::Empty,
            otel.status_code = $crate::redis::__tracing::field::Empty,
            otel.status_description = $crate::redis::__tracing::field::Empty,
            $($($fields)*)?
        )
    };
}

/// Marks `span` as failed with `error` (its message, not its chain) and a low-cardinality kind.
pub fn record_error(span: &tracing::Span, error: &dyn std::error::Error, kind: &'static str) {
    span.record("otel.status_code", "ERROR");
    span.record("otel.status_description", tracing::field::display(error));
    span.record("error.type", kind);
}

/// Pool errors that say "Redis is not there", as opposed to a pool that is merely misused.
pub fn is_unreachable_pool(e: &PoolError) -> bool {
    matches!(e, PoolError::Backend(_) | PoolError::Timeout(_))
}

/// Command errors that say "Redis is not there", as opposed to one bad command.
pub fn is_unreachable_command(e: &RedisError) -> bool {
    e.is_io_error() || e.is_timeout() || e.is_connection_dropped() || e.is_connection_refusal()
}

/// Open for a fixed window after a connection failure, so that during an outage each request
/// skips Redis at no cost instead of waiting for a connect timeout, and the log gets one
/// warning per window rather than one per request.
#[derive(Debug)]
pub struct Breaker {
    window: Duration,
    epoch: Instant,
    /// Milliseconds since `epoch` until which the breaker is open; 0 = closed.
    open_until: AtomicU64,
}

impl Breaker {
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            epoch: Instant::now(),
            open_until: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// `Err(remaining)` while open.
    pub fn check(&self) -> Result<(), Duration> {
        let until = self.open_until.load(Ordering::Relaxed);
        let now = self.now_ms();
        if until > now {
            Err(Duration::from_millis(until - now))
        } else {
            Ok(())
        }
    }

    /// Opens the breaker; `true` if it was closed, so the caller logs once per outage window.
    pub fn trip(&self) -> bool {
        let now = self.now_ms();
        let until = now.saturating_add(u64::try_from(self.window.as_millis()).unwrap_or(u64::MAX));
        self.open_until.swap(until, Ordering::Relaxed) <= now
    }

    pub fn reset(&self) {
        self.open_until.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_credentials_never_kept() {
        let t = RedisTarget::parse("redis://:secret@cache.internal:6380/2").unwrap();
        assert_eq!(
            t,
            RedisTarget {
                address: "cache.internal".into(),
                port: Some(6380)
            }
        );
        assert_eq!(t.to_string(), "cache.internal:6380");
        assert!(RedisTarget::parse("not a url").is_err());
        assert!(RedisTarget::parse("http://cache:6379").is_err());
    }

    #[test]
    fn breaker_opens_once_and_closes_on_reset() {
        let b = Breaker::new(Duration::from_secs(1));
        assert!(b.check().is_ok());
        assert!(b.trip(), "first trip reports the outage");
        assert!(!b.trip(), "a trip while open stays quiet");
        assert!(b.check().is_err());
        b.reset();
        assert!(b.check().is_ok());
    }

    #[test]
    fn the_span_carries_the_target_and_extra_fields() {
        let target = RedisTarget::parse("redis://cache.internal:6380").unwrap();
        let span = crate::redis_client_span!(target, "GET", extra = tracing::field::Empty);
        span.record("extra", "x");
        record_error(&span, &std::io::Error::other("down"), "io");
    }
}
