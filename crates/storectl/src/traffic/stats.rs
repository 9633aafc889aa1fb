//! Counting what came back: latencies, status codes, checkout outcomes as the client saw them.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::mix::RequestKind;
use super::send::Sent;

/// Latency percentiles in milliseconds (nearest rank).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    pub fn of(latencies: &mut [Duration]) -> Percentiles {
        if latencies.is_empty() {
            return Percentiles::default();
        }
        latencies.sort_unstable();
        let at = |q: f64| {
            let rank = (q * latencies.len() as f64).ceil() as usize;
            let i = rank.clamp(1, latencies.len()) - 1;
            latencies[i].as_secs_f64() * 1e3
        };
        Percentiles {
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: at(1.0),
        }
    }
}

/// Per request kind.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KindStats {
    pub request: RequestKind,
    pub route: &'static str,
    pub count: u64,
    pub latency_ms: Percentiles,
}

/// Everything counted during a run.
#[derive(Debug, Default)]
pub struct Recorder {
    latencies: Vec<Duration>,
    by_kind: BTreeMap<RequestKind, Vec<Duration>>,
    statuses: BTreeMap<u16, u64>,
    no_answer: u64,
    checkouts: BTreeMap<&'static str, u64>,
    too_many: u64,
    too_many_with_headers: u64,
}

/// A snapshot for the progress line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub done: u64,
    pub failed: u64,
    pub limited: u64,
}

/// What the client saw, ready to print.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Seen {
    pub answered: u64,
    pub no_answer: u64,
    pub latency_ms: Percentiles,
    pub by_request: Vec<KindStats>,
    /// HTTP status → count.
    pub status_codes: BTreeMap<u16, u64>,
    /// Checkout answers by what they mean for the order (DESIGN: outcomes); see
    /// [`writes_an_order`].
    pub checkouts: BTreeMap<&'static str, u64>,
    pub too_many_requests: u64,
    /// 429s that carried Retry-After, RateLimit and RateLimit-Policy.
    pub too_many_with_rate_limit_headers: u64,
}

impl Recorder {
    pub fn add(&mut self, sent: &Sent) {
        match sent.status {
            Some(status) => {
                self.latencies.push(sent.latency);
                self.by_kind
                    .entry(sent.kind)
                    .or_default()
                    .push(sent.latency);
                *self.statuses.entry(status).or_default() += 1;
                if status == 429 {
                    self.too_many += 1;
                    if sent.rate_limit_headers {
                        self.too_many_with_headers += 1;
                    }
                }
            }
            None => self.no_answer += 1,
        }
        if sent.kind == RequestKind::Checkout {
            *self
                .checkouts
                .entry(checkout_outcome(sent.status))
                .or_default() += 1;
        }
    }

    pub fn progress(&self) -> Progress {
        let failed = self
            .statuses
            .iter()
            .filter(|(status, _)| **status >= 500)
            .map(|(_, n)| n)
            .sum::<u64>()
            + self.no_answer;
        Progress {
            done: self.latencies.len() as u64 + self.no_answer,
            failed,
            limited: self.too_many,
        }
    }

    pub fn finish(mut self) -> Seen {
        let by_request = self
            .by_kind
            .iter_mut()
            .map(|(kind, latencies)| KindStats {
                request: *kind,
                route: kind.route(),
                count: latencies.len() as u64,
                latency_ms: Percentiles::of(latencies),
            })
            .collect();
        Seen {
            answered: self.latencies.len() as u64,
            no_answer: self.no_answer,
            latency_ms: Percentiles::of(&mut self.latencies),
            by_request,
            status_codes: self.statuses,
            checkouts: self.checkouts,
            too_many_requests: self.too_many,
            too_many_with_rate_limit_headers: self.too_many_with_headers,
        }
    }
}

/// What a checkout's status says about the order (DESIGN: outcomes).
fn checkout_outcome(status: Option<u16>) -> &'static str {
    match status {
        Some(201) => "paid",
        Some(402) => "declined",
        Some(502) => "payment_failed",
        Some(504) => "payment_unknown",
        Some(503) => "catalog_unavailable",
        Some(429) => "rate_limited",
        Some(s) if (400..500).contains(&s) => "refused",
        Some(_) => "other",
        None => "no_answer",
    }
}

/// Whether a checkout outcome leaves an order row (the four order statuses do; a refusal, an
/// unavailable catalog or a rate limit write nothing; without an answer, nobody can tell).
pub fn writes_an_order(outcome: &str) -> Option<bool> {
    match outcome {
        "paid" | "declined" | "payment_failed" | "payment_unknown" => Some(true),
        "catalog_unavailable" | "rate_limited" | "refused" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(kind: RequestKind, status: Option<u16>, ms: u64) -> Sent {
        Sent {
            kind,
            status,
            latency: Duration::from_millis(ms),
            rate_limit_headers: status == Some(429),
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut latencies: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let p = Percentiles::of(&mut latencies);
        assert_eq!((p.p50, p.p95, p.p99, p.max), (50.0, 95.0, 99.0, 100.0));
        assert_eq!(Percentiles::of(&mut []), Percentiles::default());
    }

    #[test]
    fn the_recorder_counts_statuses_outcomes_and_429s() {
        let mut recorder = Recorder::default();
        recorder.add(&sent(RequestKind::Checkout, Some(201), 6_000));
        recorder.add(&sent(RequestKind::Checkout, Some(402), 150));
        recorder.add(&sent(RequestKind::Checkout, None, 10_000));
        recorder.add(&sent(RequestKind::GetOrder, Some(429), 1));
        recorder.add(&sent(RequestKind::GetProduct, Some(200), 3));
        assert_eq!(
            recorder.progress(),
            Progress {
                done: 5,
                failed: 1,
                limited: 1
            }
        );
        let seen = recorder.finish();
        assert_eq!(seen.answered, 4);
        assert_eq!(seen.no_answer, 1);
        assert_eq!(seen.status_codes[&429], 1);
        assert_eq!(seen.checkouts["paid"], 1);
        assert_eq!(seen.checkouts["declined"], 1);
        assert_eq!(seen.checkouts["no_answer"], 1);
        assert_eq!(writes_an_order("declined"), Some(true));
        assert_eq!(writes_an_order("rate_limited"), Some(false));
        assert_eq!(seen.too_many_with_rate_limit_headers, 1);
        let checkout = seen
            .by_request
            .iter()
            .find(|k| k.request == RequestKind::Checkout)
            .unwrap();
        assert_eq!(
            (checkout.request, checkout.count),
            (RequestKind::Checkout, 2)
        );
        assert_eq!(checkout.latency_ms.max, 6_000.0);
    }
}
