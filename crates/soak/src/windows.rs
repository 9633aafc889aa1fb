//! Fault windows as they really happened, and every failed attempt put down to one of them, or
//! to none (unexplained).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use storectl::traffic::Attempt;

use crate::schedule::Fault;

/// How long after a window closes a failure is still put down to it: connection pools reconnect,
/// order-service's readiness settles, and a checkout the fault slowed answers late.
pub const AFTERMATH: Duration = Duration::from_secs(5);

/// One fault as injected: from the first action to the end of the recovery the run waited for
/// (a restarted process ready, a port answering).
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    pub fault: Fault,
    pub started: Instant,
    pub ended: Instant,
    /// What was done, for the table (`SIGTERM: stopped in 0.4 s; ready again after 1.1 s`).
    pub note: String,
}

impl Window {
    fn covers(&self, attempt: &Attempt) -> bool {
        attempt.started <= self.ended + AFTERMATH && attempt.ended() >= self.started
    }
}

impl Fault {
    /// Whether the store may answer 5xx (or not at all) while this fault lasts. The collector
    /// and Redis may not: spans are dropped without blocking a request, and the rate limiter and
    /// the catalog cache fall back to each process.
    pub fn may_fail_requests(self) -> bool {
        !matches!(self, Fault::CollectorDown | Fault::RedisRestart)
    }
}

/// A 5xx or an attempt without an answer.
pub fn failed(attempt: &Attempt) -> bool {
    attempt.status.is_none_or(|status| status >= 500)
}

/// The failed attempts, by the fault that explains each.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Classified {
    pub explained: BTreeMap<Fault, u64>,
    /// Failed attempts no fault that may fail requests was active for.
    pub unexplained: Vec<Attempt>,
}

pub fn classify(attempts: &[Attempt], windows: &[Window]) -> Classified {
    let mut classified = Classified::default();
    for attempt in attempts.iter().filter(|a| failed(a)) {
        let window = windows
            .iter()
            .find(|w| w.fault.may_fail_requests() && w.covers(attempt));
        match window {
            Some(w) => *classified.explained.entry(w.fault).or_default() += 1,
            None => classified.unexplained.push(attempt.clone()),
        }
    }
    classified
}

/// 2xx answers to requests that started and ended while `fault` was active: proof that the
/// store kept answering through it.
pub fn answered_during(attempts: &[Attempt], windows: &[Window], fault: Fault) -> u64 {
    attempts
        .iter()
        .filter(|a| a.status.is_some_and(|s| (200..300).contains(&s)))
        .filter(|a| {
            windows
                .iter()
                .any(|w| w.fault == fault && a.started >= w.started && a.ended() <= w.ended)
        })
        .count() as u64
}

#[cfg(test)]
mod tests {
    use storectl::traffic::mix::RequestKind;

    use super::*;

    fn attempt(t0: Instant, at_ms: u64, took_ms: u64, status: Option<u16>) -> Attempt {
        Attempt {
            kind: RequestKind::Checkout,
            started: t0 + Duration::from_millis(at_ms),
            latency: Duration::from_millis(took_ms),
            status,
            order_id: None,
            idempotency_key: Some("k".into()),
            retry: 0,
        }
    }

    fn window(t0: Instant, fault: Fault, from_ms: u64, to_ms: u64) -> Window {
        Window {
            fault,
            started: t0 + Duration::from_millis(from_ms),
            ended: t0 + Duration::from_millis(to_ms),
            note: String::new(),
        }
    }

    #[test]
    fn failures_inside_a_window_or_its_aftermath_are_explained() {
        let t0 = Instant::now();
        let windows = [
            window(t0, Fault::GatewayErrors, 10_000, 20_000),
            window(t0, Fault::OrderKill, 40_000, 41_000),
        ];
        let attempts = [
            attempt(t0, 12_000, 50, Some(502)),
            // Started before, answered inside.
            attempt(t0, 9_000, 2_000, Some(504)),
            // In the aftermath.
            attempt(t0, 44_000, 10, None),
            // Long after: unexplained.
            attempt(t0, 60_000, 10, Some(500)),
            // Successes are not failures wherever they are.
            attempt(t0, 12_000, 10, Some(201)),
            attempt(t0, 70_000, 10, Some(402)),
        ];
        let classified = classify(&attempts, &windows);
        assert_eq!(classified.explained[&Fault::GatewayErrors], 2);
        assert_eq!(classified.explained[&Fault::OrderKill], 1);
        assert_eq!(classified.unexplained.len(), 1);
        assert_eq!(classified.unexplained[0].status, Some(500));
    }

    #[test]
    fn the_collector_and_redis_explain_no_failure() {
        let t0 = Instant::now();
        let windows = [
            window(t0, Fault::CollectorDown, 0, 10_000),
            window(t0, Fault::RedisRestart, 20_000, 25_000),
        ];
        let attempts = [
            attempt(t0, 5_000, 10, Some(503)),
            attempt(t0, 21_000, 10, Some(500)),
            attempt(t0, 6_000, 10, Some(200)),
            attempt(t0, 9_990, 100, Some(200)),
        ];
        let classified = classify(&attempts, &windows);
        assert!(classified.explained.is_empty());
        assert_eq!(classified.unexplained.len(), 2);
        assert_eq!(
            answered_during(&attempts, &windows, Fault::CollectorDown),
            1
        );
    }
}
