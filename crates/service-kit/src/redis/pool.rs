//! The pool every command waits on, bounded, and where it points.

use std::time::Duration;

use deadpool_redis::redis::{
    AsyncConnectionConfig, ConnectionAddr, IntoConnectionInfo, RedisError,
};
use deadpool_redis::{BuildError, Manager, Pool, Runtime};

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
pub(super) fn pool(
    url: &str,
    settings: PoolSettings,
) -> Result<(Pool, RedisTarget), PoolSetupError> {
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
}
