//! The in-process limiter: the same GCRA as Redis, in a map behind a mutex. Used when
//! `REDIS_URL` is unset, and as the fallback while Redis is unreachable.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use super::decision::Decision;
use super::gcra::{self, Quota};

/// Above this many tracked clients, entries whose quota is whole again are dropped (they carry
/// no information: a missing entry means "full quota"). Bounds memory under a flood of
/// one-request clients.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Debug)]
pub struct LocalLimiter {
    epoch: Instant,
    // A std mutex: held for a hash lookup and some arithmetic, never across an `.await`.
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    clients: HashMap<String, i64>,
    global: Option<i64>,
}

impl Default for LocalLimiter {
    fn default() -> Self {
        Self {
            epoch: Instant::now(),
            state: Mutex::new(State::default()),
        }
    }
}

impl LocalLimiter {
    fn now_us(&self) -> i64 {
        i64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(i64::MAX)
    }

    /// Both tiers at once: the request passes only if both allow it, and only then is either
    /// charged (a request refused by one tier costs nothing in the other).
    pub fn check(&self, client: Option<(&Quota, &str)>, global: Option<&Quota>) -> Decision {
        self.check_at(self.now_us(), client, global)
    }

    fn check_at(
        &self,
        now: i64,
        client: Option<(&Quota, &str)>,
        global: Option<&Quota>,
    ) -> Decision {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let client_verdict =
            client.map(|(q, id)| gcra::check(q, state.clients.get(id).copied(), now));
        if client_verdict.is_some_and(|v| !v.allowed) {
            return Decision {
                client: client_verdict,
                global: None,
            };
        }
        let global_verdict = global.map(|q| gcra::check(q, state.global, now));
        if global_verdict.is_some_and(|v| !v.allowed) {
            return Decision {
                client: client_verdict,
                global: global_verdict,
            };
        }
        if let (Some((_, id)), Some(v)) = (client, client_verdict) {
            if state.clients.len() >= SWEEP_ABOVE && !state.clients.contains_key(id) {
                state.clients.retain(|_, tat| *tat > now);
            }
            state.clients.insert(id.to_owned(), v.tat_us);
        }
        if let Some(v) = global_verdict {
            state.global = Some(v.tat_us);
        }
        Decision {
            client: client_verdict,
            global: global_verdict,
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clients
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_are_limited_separately_and_the_global_tier_across_them() {
        let limiter = LocalLimiter::default();
        let client = Quota::per_second(3);
        let global = Quota::per_second(5);
        let allowed = |id: &str| limiter.check(Some((&client, id)), Some(&global)).allowed();
        assert!(allowed("a") && allowed("a") && allowed("a"));
        let d = limiter.check(Some((&client, "a")), Some(&global));
        assert_eq!(d.denied(), Some(super::super::decision::Tier::Client));
        assert!(allowed("b") && allowed("b"));
        let d = limiter.check(Some((&client, "c")), Some(&global));
        assert_eq!(d.denied(), Some(super::super::decision::Tier::Global));
        // Refused by the global tier: c's own quota was not charged.
        assert_eq!(d.client.map(|v| v.remaining), Some(2));
    }

    #[test]
    fn memory_stays_bounded_under_many_clients() {
        let limiter = LocalLimiter::default();
        let q = Quota::per_second(10);
        // One new client every 10 ms: each entry is stale 100 ms after it was made.
        for i in 0..(SWEEP_ABOVE * 3) {
            let now = i64::try_from(i).unwrap() * 10_000;
            limiter.check_at(now, Some((&q, &format!("ip:{i}"))), None);
        }
        assert!(
            limiter.tracked() <= SWEEP_ABOVE + 1,
            "{}",
            limiter.tracked()
        );
    }
}
