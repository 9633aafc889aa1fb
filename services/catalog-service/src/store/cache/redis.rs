//! The Redis cache, through a deadpool-redis pool.
//!
//! Every command runs inside a client span named after it (`GET`, `SET`, `PING`); see
//! [`service_kit::redis_client_span`]. Hits and misses are recorded on the `GET` span.
//!
//! Every wait is bounded (connect, response, pool checkout), and after a connection failure the
//! cache is bypassed for [`RETRY_AFTER`]: during an outage each request then costs nothing extra
//! instead of a connect timeout, and the logs get one warning per retry, not one per request.

use std::time::Duration;

use deadpool_redis::redis::{self, FromRedisValue};
use deadpool_redis::Pool;
use service_kit::redis::{Breaker, PoolSettings};
use tracing::Instrument;

pub use service_kit::redis::RedisTarget;

use super::CacheError;

const POOL: PoolSettings = PoolSettings {
    // A TCP connect to a live Redis on the same network takes well under a millisecond; a
    // second means it is not there.
    connect_timeout: Duration::from_secs(1),
    // A cache that answers slower than the database is worse than none.
    response_timeout: Duration::from_millis(500),
    pool_timeout: Duration::from_secs(1),
    max_size: 16,
};
/// How long the cache is bypassed after a connection failure.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

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
        let (pool, target) = service_kit::redis::pool(url, POOL)?;
        Ok(Self {
            pool,
            target,
            ttl_ms: u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1),
            breaker: Breaker::new(RETRY_AFTER),
        })
    }

    pub fn target(&self) -> &RedisTarget {
        &self.target
    }

    fn span(&self, operation: &'static str) -> tracing::Span {
        service_kit::redis_client_span!(
            self.target,
            operation,
            webstore.cache.result = tracing::field::Empty,
        )
    }

    pub async fn get(&self, key: &str) -> Result<Option<String>, CacheError> {
        self.breaker.check().map_err(CacheError::Backoff)?;
        let span = self.span("GET");
        let value: Option<String> = self.run(&span, "GET", redis::cmd("GET").arg(key)).await?;
        span.record(
            "webstore.cache.result",
            if value.is_some() { "hit" } else { "miss" },
        );
        Ok(value)
    }

    pub async fn set(&self, key: &str, value: &str) -> Result<(), CacheError> {
        self.breaker.check().map_err(CacheError::Backoff)?;
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
            service_kit::redis::record_error(span, e, e.kind());
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

fn is_connection_failure(e: &CacheError) -> bool {
    match e {
        CacheError::Connection(e) => service_kit::redis::is_unreachable_pool(e),
        CacheError::Command { source, .. } => service_kit::redis::is_unreachable_command(source),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

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
