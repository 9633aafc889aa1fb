//! A brake on secret guessing: after `limit` failed authentications within one second, every
//! attempt is refused until that second is over — the right secret too, or a guesser would
//! learn from a 200 among the refusals exactly what the brake is meant to withhold.

use std::time::{Duration, Instant};

/// One window of failures. The caller keeps it behind a lock and passes the clock in.
#[derive(Debug, Clone)]
pub struct FailureThrottle {
    limit: u32,
    window: Duration,
    started: Option<Instant>,
    failures: u32,
}

impl FailureThrottle {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit: limit.max(1),
            window,
            started: None,
            failures: 0,
        }
    }

    /// How long attempts are still refused at `now`; `None`: an attempt may be checked.
    pub fn refused_for(&self, now: Instant) -> Option<Duration> {
        let end = self.started? + self.window;
        (self.failures >= self.limit && now < end).then(|| end - now)
    }

    /// A failed attempt at `now`.
    pub fn failed(&mut self, now: Instant) {
        match self.started {
            Some(started) if now < started + self.window => {
                self.failures = self.failures.saturating_add(1);
            }
            _ => {
                self.started = Some(now);
                self.failures = 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_the_limit_until_the_window_ends() {
        let t0 = Instant::now();
        let mut throttle = FailureThrottle::new(3, Duration::from_secs(1));
        for i in 0..3u64 {
            let now = t0 + Duration::from_millis(i * 10);
            assert_eq!(throttle.refused_for(now), None, "attempt {i}");
            throttle.failed(now);
        }
        assert_eq!(
            throttle.refused_for(t0 + Duration::from_millis(400)),
            Some(Duration::from_millis(600))
        );
        assert_eq!(throttle.refused_for(t0 + Duration::from_secs(1)), None);
        // A new window starts with the next failure.
        throttle.failed(t0 + Duration::from_millis(1500));
        assert_eq!(throttle.refused_for(t0 + Duration::from_millis(1600)), None);
    }

    #[test]
    fn failures_spread_over_windows_never_trip_it() {
        let t0 = Instant::now();
        let mut throttle = FailureThrottle::new(2, Duration::from_secs(1));
        for i in 0..10u64 {
            let now = t0 + Duration::from_millis(i * 600);
            assert_eq!(throttle.refused_for(now), None, "attempt {i}");
            throttle.failed(now);
        }
    }
}
