//! The generic cell rate algorithm (GCRA), as pure arithmetic: one timestamp per client (the
//! *theoretical arrival time*, TAT) instead of a counter and a window, so there is no burst at
//! window edges and nothing to reset. The Redis script in `redis.rs` is this same function in
//! Lua; the unit tests here are the specification of both.
//!
//! A quota of `q` requests per `w` seconds lets `q` requests through at once, then one every
//! `w / q` (the *emission interval*).

use std::time::Duration;

/// `limit` requests per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub window: Duration,
}

impl Quota {
    pub fn per_second(limit: u32) -> Self {
        Self {
            limit,
            window: Duration::from_secs(1),
        }
    }

    /// `N` (per second), `N/s`, `N/m` or `N/h`; `off` (or `0`) disables the tier.
    pub fn parse(value: &str) -> Result<Option<Self>, String> {
        let v = value.trim();
        if v.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let (count, window) = match v.split_once('/') {
            None => (v, Duration::from_secs(1)),
            Some((count, unit)) => {
                let window = match unit.trim() {
                    "s" | "1s" => Duration::from_secs(1),
                    "m" | "1m" => Duration::from_secs(60),
                    "h" | "1h" => Duration::from_secs(3600),
                    other => return Err(format!("unknown window {other:?}; use s, m or h")),
                };
                (count, window)
            }
        };
        let limit: u32 = count.trim().parse().map_err(|_| {
            format!("expected requests per window such as 20, 20/s or 600/m, or off; got {value:?}")
        })?;
        if limit == 0 {
            return Ok(None);
        }
        if u128::from(limit) > Duration::from_secs(1).as_micros() {
            return Err(format!("at most 1000000 requests per window, got {limit}"));
        }
        Ok(Some(Self { limit, window }))
    }

    pub fn window_us(&self) -> i64 {
        i64::try_from(self.window.as_micros()).unwrap_or(i64::MAX)
    }

    /// Microseconds between two requests at the sustained rate (at least 1).
    pub fn emission_us(&self) -> i64 {
        (self.window_us() / i64::from(self.limit.max(1))).max(1)
    }

    /// The window in whole seconds, for the `w` parameter of `RateLimit-Policy`.
    pub fn window_secs(&self) -> u64 {
        self.window.as_secs().max(1)
    }
}

/// One tier's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    /// The TAT to store if the request goes through.
    pub tat_us: i64,
    /// Requests left in the window after this one.
    pub remaining: u32,
    /// Until the full quota is available again (allowed), or until the next request may pass
    /// (denied).
    pub reset: Duration,
    /// Zero when allowed.
    pub retry_after: Duration,
}

fn micros(us: i64) -> Duration {
    Duration::from_micros(u64::try_from(us).unwrap_or(0))
}

/// Decides one request given the stored TAT (`None`: never seen, or expired) and the time.
pub fn check(quota: &Quota, stored_tat_us: Option<i64>, now_us: i64) -> Verdict {
    let emission = quota.emission_us();
    let window = quota.window_us();
    let tat = stored_tat_us.unwrap_or(now_us).max(now_us);
    let new_tat = tat.saturating_add(emission);
    let ahead = new_tat - now_us;
    if ahead <= window {
        Verdict {
            allowed: true,
            tat_us: new_tat,
            remaining: u32::try_from((window - ahead) / emission).unwrap_or(u32::MAX),
            reset: micros(ahead),
            retry_after: Duration::ZERO,
        }
    } else {
        let wait = micros(ahead - window);
        Verdict {
            allowed: false,
            tat_us: tat,
            remaining: 0,
            reset: wait,
            retry_after: wait,
        }
    }
}

/// Whole seconds, rounded up, at least 1: what `Retry-After` and the `t` parameter carry.
pub fn ceil_secs(d: Duration) -> u64 {
    let s = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    s.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    #[test]
    fn a_burst_of_the_quota_passes_then_one_per_emission_interval() {
        let q = Quota::per_second(20);
        let now = 100 * S;
        let mut tat = None;
        for i in 0..20 {
            let v = check(&q, tat, now);
            assert!(v.allowed, "request {i}");
            assert_eq!(v.remaining, 19 - i);
            tat = Some(v.tat_us);
        }
        let denied = check(&q, tat, now);
        assert!(!denied.allowed);
        assert_eq!(denied.remaining, 0);
        assert_eq!(denied.retry_after, Duration::from_millis(50));
        assert_eq!(
            denied.tat_us,
            tat.unwrap(),
            "a denied request does not move the TAT"
        );
        // 50 ms later exactly one more passes.
        let later = check(&q, tat, now + 50_000);
        assert!(later.allowed);
        assert_eq!(later.remaining, 0);
        assert!(!check(&q, Some(later.tat_us), now + 50_000).allowed);
        // After a full window the quota is whole again.
        assert_eq!(check(&q, tat, now + 2 * S).remaining, 19);
    }

    #[test]
    fn quotas_parse_from_settings() {
        assert_eq!(Quota::parse("20"), Ok(Some(Quota::per_second(20))));
        assert_eq!(Quota::parse("20/s"), Ok(Some(Quota::per_second(20))));
        assert_eq!(
            Quota::parse("600/m"),
            Ok(Some(Quota {
                limit: 600,
                window: Duration::from_secs(60)
            }))
        );
        assert_eq!(Quota::parse("off"), Ok(None));
        assert_eq!(Quota::parse("0"), Ok(None));
        for bad in ["", "-1", "ten", "20/d", "20/", "99999999999"] {
            assert!(Quota::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn seconds_round_up() {
        assert_eq!(ceil_secs(Duration::from_millis(1)), 1);
        assert_eq!(ceil_secs(Duration::ZERO), 1);
        assert_eq!(ceil_secs(Duration::from_millis(1001)), 2);
        assert_eq!(ceil_secs(Duration::from_secs(3)), 3);
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        proptest! {
            /// Whatever the arrival times, requests pass at the sustained rate plus one burst:
            /// any `n` passed requests span at least `n × emission − window` (GCRA's own
            /// guarantee; the emission interval is whole microseconds, so `q × emission` may
            /// fall a few microseconds short of the window) — so at most `q` at once, and `q`
            /// per window in the long run. A refusal always says to wait a positive time of
            /// at most one window.
            #[test]
            fn never_more_than_one_burst_above_the_rate(
                limit in 1u32..50,
                gaps in prop::collection::vec(0i64..200_000, 1..300),
            ) {
                let q = Quota::per_second(limit);
                let mut now = 0i64;
                let mut tat = None;
                let mut passed = Vec::new();
                for gap in gaps {
                    now += gap;
                    let v = check(&q, tat, now);
                    if v.allowed {
                        tat = Some(v.tat_us);
                        passed.push(now);
                    } else {
                        prop_assert!(v.retry_after > Duration::ZERO);
                        prop_assert!(v.retry_after <= q.window);
                    }
                }
                for burst in passed.windows(limit as usize + 1) {
                    prop_assert!(burst[limit as usize] > burst[0], "more than {} at once", limit);
                }
                for i in 0..passed.len() {
                    for j in i..passed.len() {
                        let n = (j - i + 1) as i64;
                        let min_span = n * q.emission_us() - q.window_us();
                        prop_assert!(
                            passed[j] - passed[i] >= min_span,
                            "{} requests within {} µs, limit {}/s", n, passed[j] - passed[i], limit
                        );
                    }
                }
            }

            #[test]
            fn a_patient_client_is_never_refused(limit in 1u32..1000, n in 1usize..200) {
                let q = Quota::per_second(limit);
                let mut tat = None;
                for i in 0..n {
                    let now = i as i64 * q.emission_us();
                    let v = check(&q, tat, now);
                    prop_assert!(v.allowed);
                    tat = Some(v.tat_us);
                }
            }
        }
    }
}
