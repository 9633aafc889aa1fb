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

pub use self::memory::MemoryCache;
pub use self::redis::{RedisCache, RedisTarget};

/// A failed cache command. Only Redis can fail: the in-process map cannot.
pub type CacheError = service_kit::redis::RedisError;

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
