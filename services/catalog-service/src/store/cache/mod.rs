//! The cache in front of the products table: Redis when `REDIS_URL` is set, otherwise a bounded
//! in-process map (one per replica).
//!
//! A `Cache` stores strings (product JSON) under string keys with one TTL. Every Redis command is a
//! client span (`db.system.name = redis`: a network round trip worth seeing in a trace); the
//! in-process map's operations take nanoseconds and get none. Either way the read path records
//! `webstore.cache.result` (`hit`, `miss`, `error`) on the request's server span. Errors are returned, never panicked on: the caller decides that a
//! broken cache only costs a database read.

mod memory;
mod redis;

use std::time::Duration;

pub use self::memory::MemoryCache;
pub use self::redis::{RedisCache, RedisTarget};

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("REDIS_URL is not a valid Redis URL")]
    InvalidUrl(#[source] deadpool_redis::redis::RedisError),
    #[error("could not build the Redis connection pool")]
    Pool(#[from] deadpool_redis::BuildError),
    #[error("no Redis connection")]
    Connection(#[source] deadpool_redis::PoolError),
    #[error("Redis command {command} failed")]
    Command {
        command: &'static str,
        #[source]
        source: deadpool_redis::redis::RedisError,
    },
    #[error(
        "Redis is marked unavailable after a recent connection failure; retrying in at most {0:?}"
    )]
    Backoff(Duration),
}

impl From<service_kit::redis::PoolSetupError> for CacheError {
    fn from(e: service_kit::redis::PoolSetupError) -> Self {
        match e {
            service_kit::redis::PoolSetupError::InvalidUrl(e) => Self::InvalidUrl(e),
            service_kit::redis::PoolSetupError::Pool(e) => Self::Pool(e),
        }
    }
}

impl CacheError {
    /// Low-cardinality name for the `error.type` span attribute.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidUrl(_) => "invalid_url",
            Self::Pool(_) => "pool",
            Self::Connection(deadpool_redis::PoolError::Timeout(_)) => "timeout",
            Self::Connection(_) => "connection",
            Self::Command { source, .. } if source.is_timeout() => "timeout",
            Self::Command { source, .. }
                if source.is_io_error() || source.is_connection_dropped() =>
            {
                "io"
            }
            Self::Command { .. } => "command",
            Self::Backoff(_) => "backoff",
        }
    }
}

/// Where cached values live.
#[derive(Debug)]
pub enum Cache {
    Redis(RedisCache),
    InProcess(MemoryCache),
}

impl Cache {
    pub async fn get(&self, key: &str) -> Result<Option<String>, CacheError> {
        match self {
            Self::Redis(c) => c.get(key).await,
            Self::InProcess(c) => Ok(c.get(key)),
        }
    }

    pub async fn set(&self, key: &str, value: &str) -> Result<(), CacheError> {
        match self {
            Self::Redis(c) => c.set(key, value).await,
            Self::InProcess(c) => {
                c.set(key, value);
                Ok(())
            }
        }
    }

    /// For `/readyz`: `None` when there is no Redis (nothing to be down), else whether it answers
    /// a `PING`.
    pub async fn redis_up(&self) -> Option<bool> {
        match self {
            Self::Redis(c) => Some(c.ping().await.is_ok()),
            Self::InProcess(_) => None,
        }
    }

    /// `redis` or `in-process`, for log lines.
    pub fn system(&self) -> &'static str {
        match self {
            Self::Redis(_) => "redis",
            Self::InProcess(_) => "in-process",
        }
    }
}
