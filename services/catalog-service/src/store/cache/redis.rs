//! The Redis cache: `GET` and `SET … PX` through service-kit's [`RedisRunner`], which makes each
//! command a client span (`GET`, `SET`, `PING`), bounds every wait, and skips Redis for
//! [`RETRY_AFTER`] after a connection failure. Hits and misses are recorded on the `GET` span.

use std::time::Duration;

use service_kit::redis::{cmd, PoolSettings, PoolSetupError, RedisError, RedisRunner};

pub use service_kit::redis::RedisTarget;

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

#[derive(Debug)]
pub struct RedisCache {
    redis: RedisRunner,
    ttl_ms: u64,
}

impl RedisCache {
    /// Builds the pool; connects lazily, so an unreachable Redis is not an error here.
    pub fn new(url: &str, ttl: Duration) -> Result<Self, PoolSetupError> {
        Ok(Self {
            redis: RedisRunner::new(
                url,
                POOL,
                RETRY_AFTER,
                "serving from the database without the cache for now",
            )?,
            ttl_ms: u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1),
        })
    }

    pub fn target(&self) -> &RedisTarget {
        self.redis.target()
    }

    pub async fn get(&self, key: &str) -> Result<Option<String>, RedisError> {
        self.redis.available()?;
        let span = service_kit::redis_client_span!(
            self.redis.target(),
            "GET",
            webstore.cache.result = tracing::field::Empty,
        );
        let value: Option<String> = self.redis.run_in(&span, "GET", cmd("GET").arg(key)).await?;
        span.record(
            "webstore.cache.result",
            if value.is_some() { "hit" } else { "miss" },
        );
        Ok(value)
    }

    pub async fn set(&self, key: &str, value: &str) -> Result<(), RedisError> {
        let mut set = cmd("SET");
        set.arg(key).arg(value).arg("PX").arg(self.ttl_ms);
        self.redis.run("SET", &set).await
    }

    /// Ignores the bypass window: `/readyz` wants the truth, and a success ends it early.
    pub async fn ping(&self) -> Result<(), RedisError> {
        self.redis.ping().await
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
            Err(RedisError::Connection(_))
        ));
        assert!(matches!(cache.get("k").await, Err(RedisError::Backoff(_))));
        assert!(matches!(
            cache.set("k", "v").await,
            Err(RedisError::Backoff(_))
        ));
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(cache.ping().await.is_err());
    }
}
