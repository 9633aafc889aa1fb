//! The gateway's own metrics, next to the shared HTTP ones. Names as exposed on `/metrics`
//! (the encoder adds `_total` to counters):
//!
//! | name | type | labels |
//! |---|---|---|
//! | `webstore_gateway_charges_total` | counter | `payment_method`, `outcome` (`succeeded`/`declined`/`timeout`/`error`) |
//! | `webstore_gateway_idempotent_replays_total` | counter | `result` (`replayed`/`key_reuse`) |
//! | `webstore_gateway_simulated_latency_seconds` | histogram (exemplars: the `charge.process` span) | `payment_method` |

use std::sync::Arc;
use std::time::Duration;

use telemetry::{CounterFamily, Exemplar, HistogramFamily};

use contract::PaymentMethod;

use crate::domain::Outcome;

/// Covers the model from the fastest body sample to the 30 s cap.
pub const SIMULATED_LATENCY_BUCKETS: &[f64] = &[
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0,
];

/// The `outcome` values of `webstore_gateway_charges_total` ([`Outcome::as_str`]).
const OUTCOMES: [&str; 4] = ["succeeded", "declined", "timeout", "error"];
/// The `result` values of `webstore_gateway_idempotent_replays_total`.
const REPLAY_RESULTS: [&str; 2] = ["replayed", "key_reuse"];

#[derive(Clone)]
pub struct GatewayMetrics {
    charges: Arc<CounterFamily>,
    replays: Arc<CounterFamily>,
    latency: Arc<HistogramFamily>,
}

impl GatewayMetrics {
    pub fn new(telemetry: &telemetry::Telemetry) -> Self {
        let metrics = Self {
            charges: telemetry.counter(
                "webstore_gateway_charges",
                "Charges decided by the mock gateway, by outcome.",
                &["payment_method", "outcome"],
            ),
            replays: telemetry.counter(
                "webstore_gateway_idempotent_replays",
                "Charge requests answered from a stored charge (replayed) or refused for reusing a key with another body (key_reuse).",
                &["result"],
            ),
            latency: telemetry.histogram(
                "webstore_gateway_simulated_latency_seconds",
                "Simulated provider latency slept per charge (model × GATEWAY_LATENCY_SCALE + injected latency_ms).",
                &["payment_method"],
                SIMULATED_LATENCY_BUCKETS,
            ),
        };
        // Every counter series starts at 0, from the first scrape: a series that appears with
        // its first increment has no earlier sample, so `increase()` would miss that increment.
        for method in PaymentMethod::ALL {
            for outcome in OUTCOMES {
                metrics.charges.get(&[method.as_str(), outcome]);
            }
        }
        for result in REPLAY_RESULTS {
            metrics.replays.get(&[result]);
        }
        metrics
    }

    pub fn decided(&self, method: PaymentMethod, outcome: Outcome) {
        self.charges.get(&[method.as_str(), outcome.as_str()]).inc();
    }

    pub fn replay(&self, result: &str) {
        self.replays.get(&[result]).inc();
    }

    /// Observed inside the `charge.process` span, which becomes the exemplar when sampled.
    pub fn simulated_latency(&self, method: PaymentMethod, delay: Duration) {
        self.latency
            .get(&[method.as_str()])
            .observe(delay.as_secs_f64(), Exemplar::CurrentSpan);
    }
}

#[cfg(test)]
mod tests {
    use contract::DeclineCode;

    use super::*;

    #[test]
    fn every_outcome_label_is_created_up_front() {
        for outcome in [
            Outcome::GatewayError,
            Outcome::Timeout,
            Outcome::Declined(DeclineCode::CardDeclined),
            Outcome::Succeeded,
        ] {
            assert!(OUTCOMES.contains(&outcome.as_str()), "{outcome:?}");
        }
    }
}
