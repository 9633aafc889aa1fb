//! The window during which a caller skips Redis after it failed to connect.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Open for a fixed window after a connection failure, so that during an outage each request
/// skips Redis at no cost instead of waiting for a connect timeout, and the log gets one
/// warning per window rather than one per request.
#[derive(Debug)]
pub(crate) struct Breaker {
    window: Duration,
    epoch: Instant,
    /// Milliseconds since `epoch` until which the breaker is open; 0 = closed.
    open_until: AtomicU64,
}

impl Breaker {
    pub(crate) fn new(window: Duration) -> Self {
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
    pub(crate) fn check(&self) -> Result<(), Duration> {
        let until = self.open_until.load(Ordering::Relaxed);
        let now = self.now_ms();
        if until > now {
            Err(Duration::from_millis(until - now))
        } else {
            Ok(())
        }
    }

    /// Opens the breaker; `true` if it was closed, so the caller logs once per outage window.
    pub(crate) fn trip(&self) -> bool {
        let now = self.now_ms();
        let until = now.saturating_add(u64::try_from(self.window.as_millis()).unwrap_or(u64::MAX));
        self.open_until.swap(until, Ordering::Relaxed) <= now
    }

    pub(crate) fn reset(&self) {
        self.open_until.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
