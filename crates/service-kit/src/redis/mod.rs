//! Redis plumbing with no opinion on what is stored: [`RedisRunner`] runs a caller's commands,
//! each in a client span (Redis has no tracing of its own), every wait bounded, and after a
//! connection failure skips Redis for a window so that an outage costs each request nothing.
//! catalog-service's cache and order-service's rate limiter both run on it.
//!
//! What a failure means (serve from the database, fall back to a local limiter) and which
//! timeouts suit the caller stay with the caller.

mod breaker;
mod pool;
mod runner;

pub use deadpool_redis::redis::{cmd, Cmd, FromRedisValue};
pub use pool::{PoolSettings, PoolSetupError, RedisTarget};
pub use runner::{RedisError, RedisRunner};

#[doc(hidden)]
pub use tracing as __tracing;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_span_carries_the_target_and_extra_fields() {
        let target = RedisTarget::parse("redis://cache.internal:6380").unwrap();
        let span = crate::redis_client_span!(target, "GET", extra = tracing::field::Empty);
        span.record("extra", "x");
    }
}
