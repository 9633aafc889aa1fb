//! The Redis cache, through a deadpool-redis pool.
//!
//! Redis has no tracing of its own, so every command runs inside a client span named after it
//! (`GET`, `SET`, `PING`) with `db.system.name = "redis"`, `db.operation.name`, `server.address`
//! and `server.port`.
//!
//! Every wait is bounded (connect, response, pool checkout), and after a connection failure the
//! cache is bypassed for [`RETRY_AFTER`]: during an outage each request then costs nothing extra
//! instead of a connect timeout, and the logs get one warning per retry, not one per request.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use deadpool_redis::redis::{
    self, AsyncConnectionConfig, ConnectionAddr, FromRedisValue, IntoConnectionInfo,
};
use deadpool_redis::{Manager, Pool, PoolError, Runtime};
use tracing::Instrument;

use super::CacheError;

/// A TCP connect to a live Redis on the same network takes well under a millisecond; a second
/// means it is not there.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// A cache that answers slower than the database is worse than none.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);
/// Waiting for a pooled connection, creating one, or checking one before reuse.
const POOL_TIMEOUT: Duration = Duration::from_secs(1);
const POOL_SIZE: usize = 16;
/// How long the cache is bypassed after a connection failure.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Where Redis is, for span attributes and logs (never the password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisTarget {
    pub address: String,
    pub port: Option<u16>,
}

impl RedisTarget {
    /// Parses `url` the way the client will, so a bad `REDIS_URL` fails at start-up.
    pub fn parse(url: &str) -> Result<Self, CacheError> {
        let info = url.into_connection_info().map_err(CacheError::InvalidUrl)?;
        Ok(Self::of(info.addr()))
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

pub struct RedisCache {
    pool: Pool,
    target: RedisTarget,
    ttl_ms: u64,
    breaker: Breaker,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache")
            .field("target", &self.target)
            .field("ttl_ms", &self.ttl_ms)
            .finish_non_exhaustive()
    }
}

impl RedisCache {
    /// Builds the pool; connects lazily, so an unreachable Redis is not an error here.
    pub fn new(url: &str, ttl: Duration) -> Result<Self, CacheError> {
        let info = url.into_connection_info().map_err(CacheError::InvalidUrl)?;
        let target = RedisTarget::of(info.addr());
        let connection = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        let manager = Manager::new_with_config(info, connection).map_err(CacheError::InvalidUrl)?;
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            // The pool's timeouts only work with a runtime named.
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_TIMEOUT))
            .create_timeout(Some(POOL_TIMEOUT))
            .recycle_timeout(Some(POOL_TIMEOUT))
            .build()?;
        Ok(Self {
            pool,
            target,
            ttl_ms: u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1),
            breaker: Breaker::new(),
        })
    }

    pub fn target(&self) -> &RedisTarget {
        &self.target
    }

    fn span(&self, operation: &'static str) -> tracing::Span {
        tracing::info_span!(
            "redis",
            otel.name = operation,
            otel.kind = "client",
            db.system.name = "redis",
            db.operation.name = operation,
            server.address = %self.target.address,
            server.port = self.target.port,
            webstore.cache.result = tracing::field::Empty,
            error.type = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            otel.status_description = tracing::field::Empty,
        )
    }

    pub async fn get(&self, key: &str) -> Result<Option<String>, CacheError> {
        self.breaker.check()?;
        let span = self.span("GET");
        let value: Option<String> = self.run(&span, "GET", redis::cmd("GET").arg(key)).await?;
        span.record(
            "webstore.cache.result",
            if value.is_some() { "hit" } else { "miss" },
        );
        Ok(value)
    }

    pub async fn set(&self, key: &str, value: &str) -> Result<(), CacheError> {
        self.breaker.check()?;
        let span = self.span("SET");
        let mut cmd = redis::cmd("SET");
        cmd.arg(key).arg(value).arg("PX").arg(self.ttl_ms);
        self.run(&span, "SET", &cmd).await
    }

    /// Ignores the breaker: `/readyz` wants the truth, and a success closes the breaker early.
    pub async fn ping(&self) -> Result<(), CacheError> {
        let span = self.span("PING");
        let _: String = self.run(&span, "PING", &redis::cmd("PING")).await?;
        self.breaker.reset();
        Ok(())
    }

    async fn run<T: FromRedisValue>(
        &self,
        span: &tracing::Span,
        operation: &'static str,
        cmd: &redis::Cmd,
    ) -> Result<T, CacheError> {
        let result = async {
            let mut conn = self.pool.get().await.map_err(CacheError::Connection)?;
            cmd.query_async::<T>(&mut *conn)
                .await
                .map_err(|source| CacheError::Command {
                    command: operation,
                    source,
                })
        }
        .instrument(span.clone())
        .await;
        if let Err(e) = &result {
            span.record("otel.status_code", "ERROR");
            span.record("otel.status_description", tracing::field::display(e));
            span.record("error.type", e.kind());
            if is_connection_failure(e) && self.breaker.trip() {
                tracing::warn!(
                    redis = %self.target,
                    error = e as &dyn std::error::Error,
                    retry_in = ?RETRY_AFTER,
                    "Redis unavailable; serving from the database without the cache for now"
                );
            }
        }
        result
    }
}

/// Errors that say "Redis is not there", as opposed to one bad command.
fn is_connection_failure(e: &CacheError) -> bool {
    match e {
        CacheError::Connection(PoolError::Backend(_) | PoolError::Timeout(_)) => true,
        CacheError::Command { source, .. } => {
            source.is_io_error()
                || source.is_timeout()
                || source.is_connection_dropped()
                || source.is_connection_refusal()
        }
        _ => false,
    }
}

/// Open for [`RETRY_AFTER`] after a connection failure: operations fail at once, without a span
/// (no command was sent), and are counted as errors by the caller.
#[derive(Debug)]
struct Breaker {
    epoch: Instant,
    /// Milliseconds since `epoch` until which the breaker is open; 0 = closed.
    open_until: AtomicU64,
}

impl Breaker {
    fn new() -> Self {
        Self {
            epoch: Instant::now(),
            open_until: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn check(&self) -> Result<(), CacheError> {
        let until = self.open_until.load(Ordering::Relaxed);
        let now = self.now_ms();
        if until > now {
            Err(CacheError::Backoff(Duration::from_millis(until - now)))
        } else {
            Ok(())
        }
    }

    /// Opens the breaker; `true` if it was closed (so the caller logs once per outage window).
    fn trip(&self) -> bool {
        let now = self.now_ms();
        let until = now.saturating_add(u64::try_from(RETRY_AFTER.as_millis()).unwrap_or(u64::MAX));
        let previous = self.open_until.swap(until, Ordering::Relaxed);
        previous <= now
    }

    fn reset(&self) {
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
        let b = Breaker::new();
        assert!(b.check().is_ok());
        assert!(b.trip(), "first trip reports the outage");
        assert!(!b.trip(), "a trip while open stays quiet");
        assert!(matches!(b.check(), Err(CacheError::Backoff(_))));
        b.reset();
        assert!(b.check().is_ok());
    }

    #[tokio::test]
    async fn an_unreachable_redis_fails_fast_then_is_bypassed() {
        // Port 1 on loopback: nothing listens, the connect is refused at once.
        let cache = RedisCache::new("redis://127.0.0.1:1", Duration::from_secs(60)).unwrap();
        let started = Instant::now();
        assert!(matches!(
            cache.get("k").await,
            Err(CacheError::Connection(_))
        ));
        assert!(matches!(cache.get("k").await, Err(CacheError::Backoff(_))));
        assert!(matches!(
            cache.set("k", "v").await,
            Err(CacheError::Backoff(_))
        ));
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(cache.ping().await.is_err());
    }
}
