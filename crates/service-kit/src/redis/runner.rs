//! [`RedisRunner`]: one caller's commands, traced, bounded, and skipped during an outage.

use std::time::Duration;

use deadpool_redis::redis::{self, Cmd, FromRedisValue};
use deadpool_redis::{Pool, PoolError};
use tracing::Instrument;

use super::breaker::Breaker;
use super::pool::{self, PoolSettings, PoolSetupError, RedisTarget};

/// Why a command did not answer. [`RedisError::kind`] names it for the span's `error.type`.
#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    #[error("no Redis connection")]
    Connection(#[source] PoolError),
    #[error("Redis command {command} failed")]
    Command {
        command: &'static str,
        #[source]
        source: redis::RedisError,
    },
    #[error(
        "Redis is marked unavailable after a recent connection failure; retrying in at most {0:?}"
    )]
    Backoff(Duration),
}

impl RedisError {
    /// A low-cardinality name: `timeout`, `io`, `connection`, `command` or `backoff`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Connection(PoolError::Timeout(_)) => "timeout",
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

    /// Redis answered that it does not know the script called by its SHA (`EVALSHA` after a
    /// restart or `SCRIPT FLUSH`): send the script itself once.
    pub fn is_no_script(&self) -> bool {
        matches!(self, Self::Command { source, .. }
            if source.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript))
    }

    /// "Redis is not there", as opposed to one bad command or a merely misused pool: what
    /// opens the breaker.
    fn is_unreachable(&self) -> bool {
        match self {
            Self::Connection(e) => matches!(e, PoolError::Backend(_) | PoolError::Timeout(_)),
            Self::Command { source: e, .. } => {
                e.is_io_error()
                    || e.is_timeout()
                    || e.is_connection_dropped()
                    || e.is_connection_refusal()
            }
            Self::Backoff(_) => false,
        }
    }
}

/// Runs one caller's Redis commands through a bounded pool.
///
/// Every command is a client span named after it (see [`crate::redis_client_span`]); a failure
/// marks the span (`otel.status_code`, `error.type`). After a connection failure Redis is
/// skipped for `retry_after`: during an outage each request then costs nothing extra instead
/// of a connect timeout, and the log gets one warning per window, saying what the caller does
/// meanwhile, rather than one per request.
pub struct RedisRunner {
    pool: Pool,
    target: RedisTarget,
    breaker: Breaker,
    retry_after: Duration,
    /// What the caller does while Redis is away, for the outage warning.
    fallback: &'static str,
}

impl std::fmt::Debug for RedisRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisRunner")
            .field("target", &self.target)
            .field("retry_after", &self.retry_after)
            .finish_non_exhaustive()
    }
}

impl RedisRunner {
    /// Builds the pool; it connects lazily, so an unreachable Redis is not an error here.
    /// `fallback` completes "Redis unavailable; …" in the outage warning.
    pub fn new(
        url: &str,
        settings: PoolSettings,
        retry_after: Duration,
        fallback: &'static str,
    ) -> Result<Self, PoolSetupError> {
        let (pool, target) = pool::pool(url, settings)?;
        Ok(Self {
            pool,
            target,
            breaker: Breaker::new(retry_after),
            retry_after,
            fallback,
        })
    }

    /// Where Redis is, without credentials.
    pub fn target(&self) -> &RedisTarget {
        &self.target
    }

    /// `Err(Backoff)` while Redis is being skipped after a failure. [`RedisRunner::run`] checks
    /// it; a caller of [`RedisRunner::run_in`] checks it before building its span, so that a
    /// skipped command leaves no span behind.
    pub fn available(&self) -> Result<(), RedisError> {
        self.breaker.check().map_err(RedisError::Backoff)
    }

    /// Runs `cmd` in its own client span, unless Redis is being skipped.
    pub async fn run<T: FromRedisValue>(
        &self,
        operation: &'static str,
        cmd: &Cmd,
    ) -> Result<T, RedisError> {
        self.available()?;
        let span = crate::redis_client_span!(self.target, operation);
        self.run_in(&span, operation, cmd).await
    }

    /// Runs `cmd` in `span`, a [`crate::redis_client_span`] with fields the caller records
    /// afterwards (a cache's hit or miss). Does not consult [`RedisRunner::available`].
    pub async fn run_in<T: FromRedisValue>(
        &self,
        span: &tracing::Span,
        operation: &'static str,
        cmd: &Cmd,
    ) -> Result<T, RedisError> {
        let result = async {
            let mut conn = self.pool.get().await.map_err(RedisError::Connection)?;
            cmd.query_async::<T>(&mut *conn)
                .await
                .map_err(|source| RedisError::Command {
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
            if e.is_unreachable() && self.breaker.trip() {
                tracing::warn!(
                    redis = %self.target,
                    error = e as &dyn std::error::Error,
                    retry_in = ?self.retry_after,
                    "Redis unavailable; {}",
                    self.fallback
                );
            }
        }
        result
    }

    /// `PING`, whether or not Redis is being skipped: `/readyz` wants the truth, and a success
    /// ends the skipping early.
    pub async fn ping(&self) -> Result<(), RedisError> {
        let span = crate::redis_client_span!(self.target, "PING");
        let _: String = self.run_in(&span, "PING", &redis::cmd("PING")).await?;
        self.breaker.reset();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    const SETTINGS: PoolSettings = PoolSettings {
        connect_timeout: Duration::from_millis(250),
        response_timeout: Duration::from_millis(250),
        pool_timeout: Duration::from_millis(250),
        max_size: 2,
    };

    #[tokio::test]
    async fn an_unreachable_redis_fails_fast_then_is_skipped_until_a_ping_answers() {
        // Port 1 on loopback: nothing listens, the connect is refused at once.
        let runner = RedisRunner::new(
            "redis://127.0.0.1:1",
            SETTINGS,
            Duration::from_secs(60),
            "testing",
        )
        .unwrap();
        let started = Instant::now();
        let first = runner
            .run::<String>("GET", redis::cmd("GET").arg("k"))
            .await;
        assert!(
            matches!(&first, Err(RedisError::Connection(_))),
            "{first:?}"
        );
        assert_eq!(first.unwrap_err().kind(), "connection");
        let skipped = runner
            .run::<String>("GET", redis::cmd("GET").arg("k"))
            .await;
        assert!(
            matches!(skipped, Err(RedisError::Backoff(_))),
            "{skipped:?}"
        );
        assert!(runner.available().is_err());
        assert!(started.elapsed() < Duration::from_secs(2));
        // PING ignores the skipping (and fails here, so it stays on).
        assert!(matches!(
            runner.ping().await,
            Err(RedisError::Connection(_))
        ));
        assert!(runner.available().is_err());
    }
}
