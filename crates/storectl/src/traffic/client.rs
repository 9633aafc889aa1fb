//! How the simulated client behaves beyond the mix: checkouts without an `Idempotency-Key`,
//! retries of a checkout whose outcome the client could not see, and a journal of every attempt
//! for a caller that checks them afterwards (a soak run holds the store to what it answered).
//!
//! `storectl traffic`'s own scenarios use [`ClientPolicy::default`]: every checkout keyed, no
//! retries, no journal.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::mix::RequestKind;

/// The client's habits.
#[derive(Clone, Debug, Default)]
pub struct ClientPolicy {
    /// One checkout in `n` is sent without an `Idempotency-Key`; 0: every checkout has one.
    pub keyless_one_in: u32,
    /// Further attempts of a keyed checkout answered 5xx or 409, or not at all: same key, same
    /// body, as a careful client retries. Keyless checkouts are never retried (a retry would be
    /// a second order).
    pub retries: u32,
    /// Wait before the first retry; doubled before each next one.
    pub retry_backoff: Duration,
    /// Where every attempt is written, when set.
    pub journal: Option<Journal>,
}

impl ClientPolicy {
    /// Whether an answer leaves a keyed checkout's outcome open, so that a retry may settle it.
    pub fn retries_after(status: Option<u16>) -> bool {
        match status {
            None => true,
            Some(status) => status >= 500 || status == 409,
        }
    }
}

/// One HTTP attempt, as the client saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct Attempt {
    pub kind: RequestKind,
    /// When the request left.
    pub started: Instant,
    pub latency: Duration,
    /// `None`: no HTTP answer (connection refused, reset, timed out).
    pub status: Option<u16>,
    /// The `order_id` of a checkout answered 201.
    pub order_id: Option<String>,
    /// The checkout's `Idempotency-Key`, if it had one.
    pub idempotency_key: Option<String>,
    /// 0 for the first attempt of a request, then 1, 2, … for its retries.
    pub retry: u32,
}

impl Attempt {
    /// When the answer (or the failure) came.
    pub fn ended(&self) -> Instant {
        self.started + self.latency
    }
}

/// Every attempt of a run, in the order they ended; cheap to clone (shared).
#[derive(Clone, Debug, Default)]
pub struct Journal(Arc<Mutex<Vec<Attempt>>>);

impl Journal {
    pub fn record(&self, attempt: Attempt) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(attempt);
    }

    /// A copy of what is recorded so far.
    pub fn attempts(&self) -> Vec<Attempt> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_open_outcomes_are_retried() {
        for status in [None, Some(502), Some(503), Some(504), Some(409)] {
            assert!(ClientPolicy::retries_after(status), "{status:?}");
        }
        for status in [Some(201), Some(402), Some(422), Some(429)] {
            assert!(!ClientPolicy::retries_after(status), "{status:?}");
        }
    }

    #[test]
    fn the_journal_is_shared_by_its_clones() {
        let journal = Journal::default();
        let started = Instant::now();
        journal.clone().record(Attempt {
            kind: RequestKind::Checkout,
            started,
            latency: Duration::from_millis(5),
            status: Some(201),
            order_id: Some("o-1".into()),
            idempotency_key: None,
            retry: 0,
        });
        let attempts = journal.attempts();
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0].ended(), started + Duration::from_millis(5));
    }
}
